"""Alembic environment: runs migrations on the connection or URL handed over by geo_patrol."""

from __future__ import annotations

from alembic import context
from geoalchemy2 import alembic_helpers
from sqlalchemy import Connection

from geo_patrol.db import tables as models  # noqa: F401  (registers the tables on Base.metadata
from geo_patrol.db.engine import Base

config = context.config


def run_on(connection: Connection) -> None:
    """Configure the context on an open connection and run the migrations in one transaction."""
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        include_object=alembic_helpers.include_object,
        process_revision_directives=alembic_helpers.writer,
        render_item=alembic_helpers.render_item,
        compare_type=True,
        transaction_per_migration=False,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Run on the connection that geo_patrol.db.migrate passed in."""
    connection = config.attributes.get("connection")
    if connection is None:
        raise SystemExit("run migrations with `geo-patrol migrate`, not the alembic command")
    run_on(connection)


if context.is_offline_mode():
    raise SystemExit("offline SQL generation is not supported; run geo-patrol migrate")
run_migrations_online()
