"""Fixtures every test folder shares; the helpers behind them live in tests/support.

The test database is a real PostGIS, always (tests/support/database.py): the run migrates a
fresh database once and gives each test a transaction that is rolled back.

`./run test` runs the suite on two pytest-xdist workers, a test file at a time
(tests/support/scheduling.py); each worker has its own databases and data folder
(tests/support/workers.py). The files of EXCLUSIVE run one after another on one worker.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session

from geo_patrol.core.settings import Settings
from geo_patrol.db.embedded import EmbeddedCluster, drop_database, fresh_database
from geo_patrol.db.engine import make_engine
from tests.support.clients import app_on
from tests.support.database import (
    DEMO_DATABASE,
    TEST_DATABASE,
    fresh_demo_database,
    migrated_database,
)
from tests.support.principals import headers_for
from tests.support.workers import worker_id, worker_name

# A test needs PostgreSQL if it asks for one of these fixtures, or if its module holds a
# helper that makes a database or a cluster (the fault and backup tests make their own).
DATABASE_FIXTURES = {"database_url", "demo_url", "live_database_url"}
DATABASE_HELPERS = ("tests.support.database", "tests.support.service", "tests.support.browser")

# Files whose tests must not overlap one another on two workers: they kill or pause
# processes and a cluster of their own, measure memory or hold timing bounds under load.
# They form one group (tests/support/scheduling.py): one worker runs them one after another
# while the other runs the rest. A new file of that kind: add it here (paths from the root).
EXCLUSIVE = frozenset(
    {
        "tests/db/test_database_timeouts.py",
        "tests/db/test_embedded.py",
        "tests/db/test_pitr.py",
        "tests/patrols/test_upload_memory.py",
        "tests/service/test_faults.py",
        "tests/service/test_slow_clients.py",
        # Standbys and throwaway clusters of their own, replay paused, two app processes
        # behind a proxy: timing-sensitive, so one at a time.
        "tests/db/test_replicas.py",
        "tests/db/test_migrate_concurrently.py",
        "tests/packaging/test_proxy.py",
        "tests/packaging/test_replica_scripts.py",
        "tests/tools/test_joint_replication.py",
    }
)


DATA_DIR = pytest.StashKey[Path]()


def pytest_configure(config: pytest.Config) -> None:
    """Register the `database` marker (given by pytest_collection_modifyitems) and give this
    process (one xdist worker, or the serial run) a data folder of its own for the files the
    app stores (uploads, photos), removed at the end."""
    config.addinivalue_line(
        "markers", "database: needs PostgreSQL (set by tests/conftest.py; -m 'not database')"
    )
    folder = tempfile.mkdtemp(prefix=f"geo-patrol-test-data-{worker_id() or 'serial'}-")
    config.stash[DATA_DIR] = Path(folder)
    os.environ["GEO_PATROL_DATA_DIR"] = folder


def pytest_unconfigure(config: pytest.Config) -> None:
    """Remove the data folder of pytest_configure."""
    folder = config.stash.get(DATA_DIR, None)
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.hookimpl(optionalhook=True, tryfirst=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """Under `--dist loadgroup`, a test file at a time, the EXCLUSIVE files as one group
    (tests/support/scheduling.py)."""
    if config.getvalue("dist") != "loadgroup":
        return None
    from tests.support.scheduling import FileOrGroupScheduling

    return FileOrGroupScheduling(config, log, groups=dict.fromkeys(EXCLUSIVE, "exclusive"))


def _needs_database(item: pytest.Item) -> bool:
    """True if the test asks for a database fixture or its module can make a database."""
    if DATABASE_FIXTURES & set(getattr(item, "fixturenames", ())):
        return True
    names = vars(getattr(item, "module", None) or object()).values()
    return any(
        getattr(value, "__module__", "") in DATABASE_HELPERS or value is EmbeddedCluster
        for value in names
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the tests that need PostgreSQL `database` (`pytest -m "not database"` runs the
    rest in seconds); browser tests last: Playwright's sync driver keeps an event loop
    running in the main thread until the end of its fixtures, and tests that call
    asyncio.run() cannot share it."""
    for item in items:
        if _needs_database(item):
            item.add_marker(pytest.mark.database)
    items.sort(key=lambda item: "tests/browser/" in item.nodeid)


@pytest.fixture(scope="session")
def database_url() -> str:
    """A migrated test database."""
    return migrated_database(TEST_DATABASE)


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


@pytest.fixture
def client(database_url: str, session: Session) -> Iterator[TestClient]:
    """HTTP client through the whole app, sharing the test's rolled-back session."""
    with TestClient(app_on(session, Settings(database_url=database_url))) as client:
        yield client


@pytest.fixture(scope="session")
def demo_engine(database_url: str) -> Iterator[Engine]:
    """Engine on a database of its own holding the demo region and accounts, loaded and
    committed once per run (each of ~40 modules loaded it again before: seconds apiece)."""
    url = fresh_demo_database(DEMO_DATABASE)
    engine = make_engine(url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def demo_connection(demo_engine: Engine) -> Iterator[Connection]:
    """One connection per test module on the demo database, in a transaction rolled back at
    the module's end: what a module does is never seen by the next."""
    with demo_engine.connect() as connection:
        transaction = connection.begin()
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
    with TestClient(app_on(demo_session, Settings(database_url=database_url))) as client:
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


@pytest.fixture
def headers(demo_session: Session) -> dict[str, dict[str, str]]:
    """Bearer headers per demo principal (tests/support/principals.py; the wjj phone revoked)."""
    return headers_for(demo_session)


@pytest.fixture
def new_database(database_url: str) -> Iterator[Callable[[str], str]]:
    """Makes fresh databases on the test server by name (this worker's: suffixed under
    xdist); drops them after the test."""
    made: list[str] = []

    def make(name: str) -> str:
        made.append(fresh_database(database_url, worker_name(name)))
        return made[-1]

    yield make
    for url in made:
        drop_database(url)
