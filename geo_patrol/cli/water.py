"""geo-patrol water sections import FILE and geo-patrol water readings import FILE: the
monitoring sections and their readings from the shell (acting as the command line: an
administrator). A command whose file had refused rows exits with status 1 after storing
the good ones, so a script notices."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.orm import Session

from geo_patrol.access.principal import command_line_principal
from geo_patrol.access.scope import Scope
from geo_patrol.cli.accounts import in_transaction
from geo_patrol.core.settings import Settings
from geo_patrol.core.sheets import RowError
from geo_patrol.core.vocabulary import Datum
from geo_patrol.water.readings import ReadingImport, ReadingOptions, import_readings
from geo_patrol.water.sections import SectionImport, SectionOptions, import_sections

water_app = typer.Typer(
    help="Water quality: monitoring sections and readings.", no_args_is_help=True
)
sections_app = typer.Typer(help="Monitoring sections (监测断面).", no_args_is_help=True)
readings_app = typer.Typer(help="Readings of the sections (水质监测数据).", no_args_is_help=True)
water_app.add_typer(sections_app, name="sections")
water_app.add_typer(readings_app, name="readings")
FileArgument = Annotated[Path, typer.Argument(exists=True, dir_okay=False)]


@sections_app.command("import")
def sections_import(
    file: FileArgument,
    dry_run: Annotated[bool, typer.Option(help="Snap and report each row; store nothing.")] = (
        False
    ),
    datum: Annotated[Datum, typer.Option(help="Datum of rows without a datum column.")] = (
        Datum.WGS84
    ),
) -> None:
    """Import sections (CSV, XLSX or GeoJSON): snapped to their rivers, upserted by code."""
    data = file.read_bytes()
    options = SectionOptions(datum=datum, dry_run=dry_run, filename=file.name)

    def run(session: Session) -> SectionImport:
        return import_sections(
            session,
            data=data,
            options=options,
            scope=Scope(everything=True),
            principal=command_line_principal(),
            settings=Settings(),
        )

    report = in_transaction(run)
    for result in report.results:
        if result.outcome == "refused":
            _errors(result.errors)
            continue
        changed = f"\t{','.join(result.changed)}" if result.changed else ""
        typer.echo(
            f"row {result.row}\t{result.outcome}\t{result.code}\t{result.river}\t"
            f"{result.snap_distance_m:.1f} m{changed}"
        )
    _finish(report.summary(), report.refused)


@readings_app.command("import")
def readings_import(
    file: FileArgument,
    dry_run: Annotated[bool, typer.Option(help="Class and report each row; store nothing.")] = (
        False
    ),
    replace: Annotated[
        bool, typer.Option(help="A row with other values at a stored time replaces it.")
    ] = False,
) -> None:
    """Import readings (CSV or XLSX): classed by GB 3838-2002, once per section and time."""
    data = file.read_bytes()
    options = ReadingOptions(dry_run=dry_run, replace=replace, filename=file.name)

    def run(session: Session) -> ReadingImport:
        return import_readings(
            session,
            data=data,
            options=options,
            scope=Scope(everything=True),
            principal=command_line_principal(),
            settings=Settings(),
        )

    report = in_transaction(run)
    for result in report.results:
        if result.outcome == "refused":
            _errors(result.errors)
            continue
        typer.echo(
            f"row {result.row}\t{result.outcome}\t{result.section}\t"
            f"{result.sampled_at.isoformat() if result.sampled_at else '-'}\t"
            f"{result.class_name or '-'}\t{','.join(result.deciding)}"
        )
    for case in report.cases:
        typer.echo(f"joint water-quality case {case} opened")
    _finish(report.summary(), report.refused)


def _errors(errors: list[RowError]) -> None:
    """A refused row's reasons, in English, on standard error."""
    for error in errors:
        typer.secho(f"row {error.row}, {error.field}: {error.detail}", fg="red", err=True)


def _finish(summary: str, refused: int) -> None:
    """The summary line; status 1 when rows were refused (the others are stored)."""
    typer.echo(summary)
    if refused:
        raise typer.Exit(1)
