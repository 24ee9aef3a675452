"""The test database: a real PostGIS, always.

The run starts the project's own embedded cluster under var/test (or uses
GEO_PATROL_TEST_DATABASE_URL) and creates fresh databases on it; a database test never skips
for lack of a database: it fails.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import psycopg
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from geo_patrol.db import embedded, migrate
from geo_patrol.db.embedded import EmbeddedCluster
from geo_patrol.db.engine import make_engine, make_sessionmaker
from tests.support.paths import ROOT

TEST_DATABASE = "geo_patrol_test"
# The demo region and accounts, committed once per run (the demo_engine fixture).
DEMO_DATABASE = "geo_patrol_test_demo"


def server_url() -> str:
    """URL of the server the tests use (its maintenance database)."""
    external = os.environ.get("GEO_PATROL_TEST_DATABASE_URL")
    if external:
        return external
    return EmbeddedCluster(ROOT / "var" / "test" / "pg").up()


def fresh_database(name: str) -> str:
    """Drop and create database `name` on the test server; return its URL."""
    return embedded.fresh_database(server_url(), name)


def copy_database(template_url: str, name: str) -> str:
    """Database `name` made afresh as a copy of the database of `template_url` (PostgreSQL's
    CREATE DATABASE ... TEMPLATE: a file copy, no statement run again; nobody may be
    connected to the template); its URL."""
    if not name.isidentifier() or not name.isascii() or name != name.lower():
        raise ValueError(f"not a plain database name: {name!r}")
    template = make_url(template_url)
    maintenance = template.set(drivername="postgresql", database="postgres")
    with psycopg.connect(maintenance.render_as_string(hide_password=False)) as conn:
        conn.autocommit = True
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template.database}"')
    return template.set(database=name).render_as_string(hide_password=False)


def migrated_database(name: str) -> str:
    """A fresh database `name` with every migration run; its URL."""
    url = fresh_database(name)
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    return url


def demo_database(url: str) -> str:
    """Migrate the database at `url` and load the demo region and accounts; return `url`."""
    from geo_patrol.demo.load import load_demo

    engine = make_engine(url)
    try:
        migrate.upgrade(engine)
        with make_sessionmaker(engine)() as session, session.begin():
            load_demo(session)
    finally:
        engine.dispose()
    return url


def fresh_demo_database(name: str) -> str:
    """A new database on the shared test server with the demo loaded."""
    return demo_database(fresh_database(name))


def request_session(session: Session) -> Callable[[], Iterator[Session]]:
    """A get_session override sharing the test's `session`: each request in a savepoint,
    committed (released) when the handler returns, rolled back when it raises; a handler
    that commits early (an upload before it waits for a parse slot) has released it already."""

    def same_session() -> Iterator[Session]:
        savepoint = session.begin_nested()
        try:
            yield session
        except BaseException:
            if savepoint.is_active:
                savepoint.rollback()
            raise
        if savepoint.is_active:
            savepoint.commit()

    return same_session
