"""The test database: a real PostGIS, always.

The run starts the project's own embedded cluster under var/test (or uses
GEO_PATROL_TEST_DATABASE_URL) and creates fresh databases on it; a database test never skips
for lack of a database: it fails.

Every name given here is this xdist worker's own (tests/support/workers.py: suffixed with the
worker's id), so two workers never drop each other's databases. The migrated schema and the
demo are built once per run as template databases and copied (a file copy, about a second)
wherever a test asks for a migrated or a demo database.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from geo_patrol.db import embedded, migrate
from geo_patrol.db.embedded import EmbeddedCluster
from geo_patrol.db.engine import make_engine, make_sessionmaker
from tests.support.paths import ROOT
from tests.support.workers import once_per_run, run_lock, worker_name

TEST_DATABASE = "geo_patrol_test"
# The demo region and accounts, committed once per run (the demo_engine fixture).
DEMO_DATABASE = "geo_patrol_test_demo"
# The templates every worker of a run copies (never connected to once built).
MIGRATED_TEMPLATE = "geo_patrol_template_migrated"
DEMO_TEMPLATE = "geo_patrol_template_demo"

_SERVER: dict[str, str] = {}


def server_url() -> str:
    """URL of the server the tests use (its maintenance database); the embedded cluster is
    started under a file lock, so two workers starting it at once make one cluster."""
    external = os.environ.get("GEO_PATROL_TEST_DATABASE_URL")
    if external:
        return external
    if "url" not in _SERVER:
        _SERVER["url"] = start_cluster(ROOT / "var" / "test" / "pg")
    return _SERVER["url"]


def start_cluster(folder: Path) -> str:
    """Create and start the embedded cluster in `folder` if needed, holding a lock on it so
    that processes starting it at once make one cluster; its URL."""
    key = hashlib.sha256(str(folder.absolute()).encode()).hexdigest()[:12]
    with run_lock(f"cluster-{key}"):
        return EmbeddedCluster(folder).up()


def fresh_database(name: str) -> str:
    """Drop and create this worker's database `name` on the test server; return its URL."""
    return embedded.fresh_database(server_url(), worker_name(name))


def copy_database(template_url: str, name: str) -> str:
    """This worker's database `name` made afresh as a copy of the database of `template_url`
    (PostgreSQL's CREATE DATABASE ... TEMPLATE: a file copy, no statement run again; nobody
    may be connected to the template); its URL."""
    return shared_copy(template_url, worker_name(name))


def shared_copy(template_url: str, name: str) -> str:
    """Database `name`, as given (not this worker's: a template every worker copies), made
    afresh as a copy of the database of `template_url`; its URL."""
    if not name.isidentifier() or not name.isascii() or name != name.lower():
        raise ValueError(f"not a plain database name: {name!r}")
    template = make_url(template_url)
    maintenance = template.set(drivername="postgresql", database="postgres")
    with psycopg.connect(maintenance.render_as_string(hide_password=False)) as conn:
        conn.autocommit = True
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template.database}"')
    return template.set(database=name).render_as_string(hide_password=False)


def migrated_template() -> str:
    """URL of a database with every migration run, built once per run: copy it, never
    connect to it."""

    def build() -> str:
        url = embedded.fresh_database(server_url(), MIGRATED_TEMPLATE)
        engine = make_engine(url)
        migrate.upgrade(engine)
        engine.dispose()
        return url

    return once_per_run(MIGRATED_TEMPLATE, build)


def demo_template() -> str:
    """URL of a migrated database with the demo region and accounts committed, built once
    per run: copy it, never connect to it."""

    def build() -> str:
        return demo_database(shared_copy(migrated_template(), DEMO_TEMPLATE))

    return once_per_run(DEMO_TEMPLATE, build)


def migrated_database(name: str) -> str:
    """A fresh database `name` with every migration run (a copy of the migrated template);
    its URL."""
    return copy_database(migrated_template(), name)


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
    """A new database on the shared test server with the demo loaded (a copy of the demo
    template)."""
    return copy_database(demo_template(), name)


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
