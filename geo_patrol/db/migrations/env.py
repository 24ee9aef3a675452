"""Alembic environment: the migrations of geo_patrol, run three ways.

- `geo-patrol migrate` (and the service start, the tests) hands over an open connection in
  `config.attributes["connection"]` (geo_patrol.db.migrate).
- `alembic upgrade head` (alembic.ini at the repository root) connects to the database of the
  settings: GEO_PATROL_DATABASE_URL, else the embedded cluster (started if need be).
- `alembic upgrade head --sql` writes the SQL without a database (offline mode), for a DBA to
  read or run; no setting is read.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from geo_patrol.core.settings import Settings
from geo_patrol.db import tables  # noqa: F401  (registers the tables on Base.metadata)
from geo_patrol.db.engine import Base, database_url, make_engine
from geo_patrol.db.migrate import COMPARE_OPTIONS

config = context.config

# Offline SQL is PostgreSQL's (the migrations use PostGIS and PL/pgSQL); no server is reached.
OFFLINE_URL = "postgresql+psycopg://"


def run_on(connection: Connection) -> None:
    """Configure the context on an open connection and run the migrations in one transaction."""
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        transaction_per_migration=False,
        **COMPARE_OPTIONS,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Run on the connection geo_patrol.db.migrate passed in, or on the settings' database."""
    connection = config.attributes.get("connection")
    if connection is not None:
        run_on(connection)
        return
    engine = make_engine(database_url(Settings()))
    try:
        with engine.begin() as connection:
            run_on(connection)
    finally:
        engine.dispose()


def run_migrations_offline() -> None:
    """Write the migrations' SQL (alembic ... --sql): values inlined, no database needed."""
    context.configure(
        url=OFFLINE_URL,
        target_metadata=Base.metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        transaction_per_migration=False,
        **COMPARE_OPTIONS,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
