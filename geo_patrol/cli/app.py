"""The geo-patrol command: database, migrations, imports, demo data and the server."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, TextIO, TypeVar

import typer
from sqlalchemy.orm import Session
from tqdm import tqdm

from geo_patrol import __version__
from geo_patrol.cli.accounts import device_app, member_app
from geo_patrol.cli.chiefs import chiefs_app, rules_app
from geo_patrol.cli.digest import digest_app
from geo_patrol.cli.fixes import fixes_app
from geo_patrol.cli.incidents import incidents_app
from geo_patrol.cli.maps import meeting_pack_command
from geo_patrol.cli.rivers import rivers_app
from geo_patrol.cli.water import water_app
from geo_patrol.core.errors import GeoPatrolError
from geo_patrol.core.logs import configure_logging
from geo_patrol.core.settings import Settings
from geo_patrol.db import migrate
from geo_patrol.db.engine import database_url, embedded_cluster, make_engine, make_sessionmaker
from geo_patrol.geography.flow import parse_flow
from geo_patrol.geography.imports.features import (
    FeatureImportOptions,
    import_rivers,
    import_villages,
)
from geo_patrol.geography.imports.jurisdictions import (
    JurisdictionImportOptions,
    import_jurisdictions,
)
from geo_patrol.geography.imports.report import ImportReport
from geo_patrol.water.sections import recut_river_ids, resnap

app = typer.Typer(
    help="geo-patrol: joint river patrol on PostGIS.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="The database: embedded cluster, backup, restore.", no_args_is_help=True)
import_app = typer.Typer(help="Import boundaries, rivers and villages.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(import_app, name="import")
app.add_typer(member_app, name="member")
app.add_typer(device_app, name="device")
app.add_typer(chiefs_app, name="chiefs")
app.add_typer(rules_app, name="duty-rules")
app.command("meeting-pack")(meeting_pack_command)
app.add_typer(digest_app, name="digest")
app.add_typer(fixes_app, name="fixes")
app.add_typer(incidents_app, name="incidents")
app.add_typer(water_app, name="water")
app.add_typer(rivers_app, name="rivers")


def _print_version(value: bool) -> None:
    """Print the version (geo_patrol.__version__) and stop."""
    if value:
        typer.echo(f"geo-patrol {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """geo-patrol: joint river patrol on PostGIS."""


T = TypeVar("T")
CrsOption = Annotated[
    str | None,
    typer.Option(help="CRS of the file: an EPSG code (4326, EPSG:4549...), gcj02 or bd09."),
]
LayerOption = Annotated[str | None, typer.Option(help="Layer of a GeoPackage or KML file.")]
CodeOption = Annotated[
    str | None,
    typer.Option(help="Code of the one feature of a file that holds none (a bare geometry)."),
]
NameOption = Annotated[
    str | None,
    typer.Option(help="Name of the one feature of a file that holds none (a bare geometry)."),
]


def _fail(error: GeoPatrolError) -> typer.Exit:
    """Print an error a person can act on and exit non-zero."""
    typer.secho(f"error: {error.detail}", fg="red", err=True)
    return typer.Exit(2)


def _embedded_only(settings: Settings) -> None:
    """Refuse db subcommands when an external database is configured."""
    if settings.database_url:
        typer.echo("GEO_PATROL_DATABASE_URL is set: the embedded cluster is not used.")
        raise typer.Exit(1)


@db_app.command("up")
def db_up() -> None:
    """Create (first time) and start the embedded cluster; print its URL."""
    settings = Settings()
    _embedded_only(settings)
    try:
        typer.echo(embedded_cluster(settings).up())
    except GeoPatrolError as error:
        raise _fail(error) from error


@db_app.command("down")
def db_down() -> None:
    """Stop the embedded cluster."""
    settings = Settings()
    _embedded_only(settings)
    stopped = embedded_cluster(settings).down()
    typer.echo("stopped" if stopped else "not running")


@db_app.command("status")
def db_status() -> None:
    """Where the embedded cluster is and whether it runs."""
    settings = Settings()
    _embedded_only(settings)
    status = embedded_cluster(settings).status()
    typer.echo(f"folder:      {status.root}")
    typer.echo(f"initialised: {'yes' if status.initialised else 'no'}")
    typer.echo(f"running:     {'yes' if status.running else 'no'}")
    typer.echo(f"port:        {status.port or '-'} (127.0.0.1; password in {status.root}/password)")
    typer.echo(f"url:         {status.url or '-'}")


@db_app.command("url")
def db_url() -> None:
    """Print the database URL (the configured one, or the embedded cluster's)."""
    typer.echo(database_url(Settings(), start=False))


@db_app.command("backup")
def db_backup(file: Annotated[Path, typer.Argument(dir_okay=False)]) -> None:
    """Write one archive: pg_dump of the database, stored uploads and photos, SHA-256 manifest."""
    from geo_patrol.db.backup import backup

    try:
        report = backup(Settings(), url=_url(), archive=file)
    except GeoPatrolError as error:
        raise _fail(error) from error
    typer.echo(report.summary())
    for warning in report.warnings:
        typer.secho(f"warning: {warning}", fg="yellow", err=True)


@db_app.command("restore")
def db_restore(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False)],
    force: Annotated[bool, typer.Option(help="Replace a database that is not empty.")] = False,
) -> None:
    """Restore an archive of `db backup` (checked first) into an empty database."""
    from geo_patrol.db.restore import restore

    try:
        typer.echo(restore(Settings(), url=_url(), archive=file, force=force).summary())
    except GeoPatrolError as error:
        raise _fail(error) from error


@app.command("migrate")
def migrate_command(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
    down: Annotated[bool, typer.Option(help="Downgrade to REVISION instead.")] = False,
) -> None:
    """Upgrade (or downgrade) the database schema."""
    engine = make_engine(_url())
    (migrate.downgrade if down else migrate.upgrade)(engine, revision)
    typer.echo(f"schema at revision {migrate.current_revision(engine)}")


def _url() -> str:
    """The database URL, starting the embedded cluster when needed."""
    try:
        return database_url(Settings())
    except GeoPatrolError as error:
        raise _fail(error) from error


def _bar(items: Iterable[T]) -> Iterable[T]:
    """A progress bar on stderr."""
    return tqdm(items, unit="feature", leave=False)


def _run_import(action: object) -> ImportReport:
    """Migrate, then run one import in one transaction; print its report."""
    engine = make_engine(_url())
    migrate.upgrade(engine)
    try:
        with make_sessionmaker(engine)() as session, session.begin():
            report: ImportReport = action(session)  # type: ignore[operator]
    except GeoPatrolError as error:
        raise _fail(error) from error
    typer.echo(report.summary())
    for warning in report.warnings:
        typer.secho(f"warning: {warning}", fg="yellow", err=True)
    return report


@import_app.command("jurisdictions")
def import_jurisdictions_command(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False)],
    code_field: str = "code",
    name_field: str = "name",
    name_en_field: str = "name_en",
    level_field: str = "level",
    level: Annotated[str | None, typer.Option(help="Level of every feature.")] = None,
    parent_field: str = "parent_code",
    hierarchy: Annotated[
        str, typer.Option(help="Link parents by 'code' or 'containment'.")
    ] = "code",
    crs: CrsOption = None,
    layer: LayerOption = None,
    code: CodeOption = None,
    name: NameOption = None,
) -> None:
    """Import boundaries; a changed boundary becomes a new version."""
    try:
        options = JurisdictionImportOptions(
            code_field=code_field,
            name_field=name_field,
            name_en_field=name_en_field,
            level_field=level_field,
            level=level,
            parent_field=parent_field,
            hierarchy=hierarchy,
            crs=crs,
            layer=layer,
            source=file.name,
            code=code,
            name=name,
        )
    except GeoPatrolError as error:
        raise _fail(error) from error
    _run_import(lambda s: import_jurisdictions(s, path=file, options=options, progress=_bar))


@import_app.command("rivers")
def import_rivers_command(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False)],
    code_field: str = "code",
    name_field: str = "name",
    crs: CrsOption = None,
    layer: LayerOption = None,
    segment_length: Annotated[float, typer.Option(help="Segment length, metres.")] = 1000.0,
    code: CodeOption = None,
    name: NameOption = None,
    flow: Annotated[
        str | None,
        typer.Option(
            help="Which way the rivers flow: as_drawn or reversed (a feature's own `flow` "
            "property wins; not given: each river keeps the flow it had)."
        ),
    ] = None,
) -> None:
    """Import rivers (lines) and cut them into segments."""
    try:
        options = FeatureImportOptions(
            code_field=code_field,
            name_field=name_field,
            crs=crs,
            layer=layer,
            source=file.name,
            segment_length_m=segment_length,
            code=code,
            name=name,
            flow=parse_flow(flow),
        )
    except GeoPatrolError as error:
        raise _fail(error) from error
    _run_import(lambda s: _rivers_and_sections(s, path=file, options=options))


def _rivers_and_sections(
    session: Session, *, path: Path, options: FeatureImportOptions
) -> ImportReport:
    """Import rivers, then snap again the monitoring sections of those recut (rebuilding a
    river's segments leaves its sections without one)."""
    report = import_rivers(session, path=path, options=options)
    done = resnap(session, river_ids=recut_river_ids(session), settings=Settings())
    if done.sections:
        report.warnings.append(f"{done.sections} monitoring sections snapped again")
    report.warnings += [
        f"section {code} is {distance:.0f} m from its recut river"
        for code, distance in done.too_far
    ]
    return report


@import_app.command("villages")
def import_villages_command(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False)],
    code_field: str = "code",
    name_field: str = "name",
    crs: CrsOption = None,
    layer: LayerOption = None,
    code: CodeOption = None,
    name: NameOption = None,
) -> None:
    """Import village points."""
    options = FeatureImportOptions(
        code_field=code_field,
        name_field=name_field,
        crs=crs,
        layer=layer,
        source=file.name,
        code=code,
        name=name,
    )
    _run_import(lambda s: import_villages(s, path=file, options=options))


def show_demo_credentials(stream: TextIO, *, folder: Path) -> str:
    """The demo password and phone tokens: written to `stream` when it is a terminal, else
    to a file only its owner can read, never to a log; returns the line to print instead."""
    from geo_patrol.demo.accounts import demo_password, describe

    credentials = describe(demo_password())
    if stream.isatty():
        return credentials
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "demo-credentials.txt"
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        os.fchmod(file.fileno(), 0o600)  # an older file may have been readable by others
        file.write(credentials + "\n")
    return f"demo credentials (not shown: this is no terminal) are in {path.resolve()} (mode 0600)"


@app.command("demo")
def demo_command() -> None:
    """Load the demo region (Shengze–Wangjiangjing border); safe to run again."""
    from geo_patrol.demo.incidents import load_demo_incidents
    from geo_patrol.demo.load import load_demo
    from geo_patrol.demo.meeting import load_demo_meeting
    from geo_patrol.demo.quarter import simulate_quarter
    from geo_patrol.demo.simulate import simulate_week
    from geo_patrol.demo.water import load_demo_water

    engine = make_engine(_url())
    migrate.upgrade(engine)
    with make_sessionmaker(engine)() as session, session.begin():
        for report in load_demo(session):
            typer.echo(report)
        # Last month's water readings, the case they opened and the meeting that took it up;
        # before the incidents, whose escalation by deadline takes in the water demo's report.
        typer.echo(load_demo_water(session, settings=Settings()))
        typer.echo(load_demo_meeting(session))
        typer.echo(load_demo_incidents(session, settings=Settings()))
        # The quarter before the week: its live patrols are older than today's, still open.
        typer.echo(simulate_quarter(session, settings=Settings()))
        typer.echo(simulate_week(session, settings=Settings()))
    typer.echo(show_demo_credentials(sys.stdout, folder=Settings().data_dir))


@app.command("serve")
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address.")] = None,
    port: Annotated[int | None, typer.Option(help="HTTP port.")] = None,
    workers: Annotated[
        int | None, typer.Option(help="Worker processes (default GEO_PATROL_WORKERS or 1).")
    ] = None,
) -> None:
    """Run the HTTP service and the OsmAnd/Traccar listener (migrating the database first)."""
    from geo_patrol.api import server

    settings = Settings()
    if workers is not None:
        settings = settings.model_copy(update={"workers": workers})
    configure_logging(settings)
    engine = make_engine(_url())
    migrate.upgrade(engine)
    engine.dispose()  # nothing of the parent's pool may be shared with forked workers
    server.serve(settings, host=host or settings.host, port=port or settings.port)
