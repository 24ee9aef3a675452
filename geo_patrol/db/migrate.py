"""Run the Alembic migrations in migrations/ from code (CLI, tests, service start-up).

The `alembic` command works too, with alembic.ini at the repository root (see
migrations/env.py): `alembic upgrade head`, `alembic upgrade head --sql`, `alembic check`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from geoalchemy2 import alembic_helpers
from sqlalchemy import Engine, text

from geo_patrol.db import locks

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# Every migration run holds an advisory lock until it commits: app nodes that start at once
# (each `geo-patrol serve` migrates first) migrate one after the other, the later ones then
# finding nothing to do, instead of failing on the tables the first is creating.
WAIT_FOR_LOCK = "SELECT pg_advisory_xact_lock(:key)"


# How autogenerate compares geo_patrol.db.tables with a database (env.py, `alembic check`,
# `alembic revision --autogenerate`, and the drift test): GeoAlchemy2's helpers leave out the
# spatial indexes and PostGIS's own tables it creates itself, and write its types in revisions.
def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """GeoAlchemy2's filter, and the monthly partitions of patrol_points left out: they are
    made by the maintenance (geo_patrol.patrols.partitions), not declared as models."""
    table = name if type_ == "table" else getattr(getattr(obj, "table", None), "name", None)
    if reflected and table and PARTITION.fullmatch(table):
        return False
    keep = alembic_helpers.include_object(obj, name, type_, reflected, compare_to)  # type: ignore[no-untyped-call]
    return bool(keep)


# The partitions of patrol_points: one a month, and the default.
PARTITION = re.compile(r"patrol_points_(\d{4}_\d{2}|default)")

COMPARE_OPTIONS: dict[str, Any] = {
    "include_object": include_object,
    "process_revision_directives": alembic_helpers.writer,
    "render_item": alembic_helpers.render_item,
    "compare_type": True,
    "compare_server_default": True,
}


def alembic_config() -> Config:
    """An Alembic config for migrations/; callers hand it a connection in `attributes`."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Upgrade the schema to `revision`."""
    _run(engine, command.upgrade, revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Downgrade the schema to `revision` ("base" removes everything)."""
    _run(engine, command.downgrade, revision)


def _run(engine: Engine, action: object, revision: str) -> None:
    """Run an alembic command inside one transaction on one connection, holding the
    migration lock (waiting for another node's run to commit first)."""
    config = alembic_config()
    with engine.begin() as connection:
        connection.execute(text(WAIT_FOR_LOCK), {"key": locks.MIGRATIONS})
        config.attributes["connection"] = connection
        action(config, revision)  # type: ignore[operator]


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (None for an empty database)."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()
