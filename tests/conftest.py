"""Test database: a real PostGIS, always.

The run starts the project's own embedded cluster under var/test (or uses
GEO_PATROL_TEST_DATABASE_URL), creates a fresh database, runs the real migrations once, and
gives each test a transaction that is rolled back. A database test never skips for lack of
a database: it fails.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from geo_patrol.api.app import create_app
from geo_patrol.api.deps import get_session
from geo_patrol.core.settings import Settings
from geo_patrol.db import migrate
from geo_patrol.db.embedded import EmbeddedCluster
from geo_patrol.db.engine import make_engine

ROOT = Path(__file__).resolve().parent.parent
TEST_DATABASE = "geo_patrol_test"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser tests last: Playwright's sync driver keeps an event loop running in the main
    thread until the end of its fixtures, and tests that call asyncio.run() cannot share it."""
    items.sort(key=lambda item: "tests/browser/" in item.nodeid)


def _server_url() -> str:
    """URL of the server the tests use (its maintenance database)."""
    external = os.environ.get("GEO_PATROL_TEST_DATABASE_URL")
    if external:
        return external
    return EmbeddedCluster(ROOT / "var" / "test" / "pg").up()


def fresh_database(name: str) -> str:
    """Drop and create database `name` on the test server with PostGIS; return its URL."""
    url = make_url(_server_url())
    conninfo = url.set(drivername="postgresql", database="postgres").render_as_string(
        hide_password=False
    )
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return url.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def database_url() -> str:
    """A migrated test database."""
    url = fresh_database(TEST_DATABASE)
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    return url


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    """Engine on the test database."""
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session inside a transaction rolled back after the test (commits become savepoints)."""
    with engine.connect() as connection:
        transaction = connection.begin()
        with Session(bind=connection, join_transaction_mode="create_savepoint") as session:
            yield session
        transaction.rollback()


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


@pytest.fixture
def client(database_url: str, session: Session) -> Iterator[TestClient]:
    """HTTP client through the whole app, sharing the test's rolled-back session."""
    app = create_app(Settings(database_url=database_url))

    app.dependency_overrides[get_session] = request_session(session)
    with TestClient(app) as client:
        yield client


@pytest.fixture(scope="module")
def demo_connection(engine: Engine) -> Iterator[Connection]:
    """One connection per test module with the demo region and accounts loaded, rolled back."""
    from geo_patrol.demo.load import load_demo

    with engine.connect() as connection:
        transaction = connection.begin()
        with Session(bind=connection, join_transaction_mode="create_savepoint") as setup:
            load_demo(setup)
            setup.commit()  # releases the savepoint; the outer transaction still holds it
        yield connection
        transaction.rollback()


@pytest.fixture
def demo_session(demo_connection: Connection) -> Iterator[Session]:
    """A session on the demo data; everything it does is undone after the test."""
    savepoint = demo_connection.begin_nested()
    with Session(bind=demo_connection, join_transaction_mode="create_savepoint") as session:
        yield session
    savepoint.rollback()


@pytest.fixture
def demo_client(database_url: str, demo_session: Session) -> Iterator[TestClient]:
    """HTTP client through the app on the demo data."""
    app = create_app(Settings(database_url=database_url))

    app.dependency_overrides[get_session] = request_session(demo_session)
    with TestClient(app) as client:
        yield client


@pytest.fixture
def admin_headers(session: Session) -> dict[str, str]:
    """Bearer header of an administrator created in the test transaction."""
    from sqlalchemy import text

    from geo_patrol.accounts.members import issue_api_token

    member = session.execute(
        text(
            "INSERT INTO members (name, home_jurisdiction_code, login) "
            "VALUES ('test admin', '320509', 'test.admin') RETURNING id"
        )
    ).scalar_one()
    session.execute(
        text("INSERT INTO member_roles (member_id, role) VALUES (:m, 'admin')"), {"m": member}
    )
    token = issue_api_token(session, member_id=member, label="test", days=1, address=None)
    return {"Authorization": f"Bearer {token}"}
