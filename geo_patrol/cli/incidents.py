"""geo-patrol incidents import FILE: reports from a hotline or river-chief platform's export,
from the shell (acting as the command line: an administrator)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.orm import Session

from geo_patrol.access.principal import command_line_principal
from geo_patrol.access.scope import Scope
from geo_patrol.cli.accounts import in_transaction
from geo_patrol.core.settings import Settings
from geo_patrol.core.vocabulary import Datum
from geo_patrol.incidents.bulk_import import (
    ImportOptions,
    ImportRejected,
    ImportReport,
    import_incidents,
)

incidents_app = typer.Typer(help="Incidents: import other systems' reports.", no_args_is_help=True)


@incidents_app.command("import")
def incidents_import(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False)],
    dry_run: Annotated[bool, typer.Option(help="Route and report each row; store nothing.")] = (
        False
    ),
    skip_errors: Annotated[
        bool, typer.Option(help="Store the good rows; report the refused ones.")
    ] = False,
    datum: Annotated[Datum, typer.Option(help="Datum of rows without a datum column.")] = (
        Datum.WGS84
    ),
    source: Annotated[
        str | None, typer.Option(help="Platform name of rows without a 来源 column.")
    ] = None,
    categories: Annotated[
        Path | None,
        typer.Option(exists=True, dir_okay=False, help="Category table: word,code lines."),
    ] = None,
) -> None:
    """Import a CSV or XLSX export: all rows, or nothing and every refused row listed."""
    data = file.read_bytes()
    options = ImportOptions(
        source=source,
        datum=datum,
        categories=categories.read_text(encoding="utf-8-sig") if categories else None,
        dry_run=dry_run,
        skip_errors=skip_errors,
        filename=file.name,
    )

    def run(session: Session) -> ImportReport:
        try:
            return import_incidents(
                session,
                data=data,
                options=options,
                scope=Scope(everything=True),
                principal=command_line_principal(),
                settings=Settings(),
            )
        except ImportRejected as error:
            _refusals(error.report)
            for bad in error.extra.get("errors", []):
                typer.secho(
                    f"row {bad['row']}, {bad['field']}: {bad['detail']}", fg="red", err=True
                )
            raise

    report = in_transaction(run)
    for result in report.results:
        if result.outcome == "refused":
            for bad in result.errors:
                typer.secho(f"row {bad['row']}, {bad['field']}: {bad['detail']}", err=True)
        else:
            joint = " joint" if result.joint else ""
            where = result.jurisdiction or "unrouted"
            typer.echo(f"row {result.row}\t{result.outcome}\t{where}{joint}\t{result.tier}")
    typer.echo(report.summary())


def _refusals(report: ImportReport) -> None:
    """The counts of a refused file, before its rows."""
    typer.secho(report.summary(), fg="red", err=True)
