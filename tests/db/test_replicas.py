"""Read replicas against a real streaming standby of the test cluster (tests/support/replica.py).

The standby is made once for the module; each test leaves it running and replaying. What a
read sees proves where it ran: a standby answers pg_is_in_recovery() true, and while its
replay is paused it does not see a row the primary committed since.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from fastapi import APIRouter
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from geo_patrol.accounts.members import issue_api_token
from geo_patrol.api import routes
from geo_patrol.api.app import create_app
from geo_patrol.api.deps import get_read_session
from geo_patrol.api.written import WRITTEN_COOKIE, WRITTEN_HEADER
from geo_patrol.core.settings import Settings
from geo_patrol.db.embedded import drop_database
from geo_patrol.db.engine import Timeouts, make_engine
from geo_patrol.db.replicas import ReadReplicas, written_position
from tests.support.database import migrated_database
from tests.support.paths import FIXTURES
from tests.support.replica import Standby

DATABASE = "geo_patrol_test_replicas"
MAX_LAG_S = 5.0
TIMEOUTS = Timeouts(connect_s=2, statement_s=10, pool_s=2, pool_size=1, pool_overflow=0)


@pytest.fixture(scope="module")
def primary_url() -> Iterator[str]:
    """A migrated database of its own on the test cluster (made before the standby: the base
    backup carries it)."""
    url = migrated_database(DATABASE)
    yield url
    drop_database(url)


@pytest.fixture(scope="module")
def standby(primary_url: str) -> Iterator[Standby]:
    """A streaming hot standby of the test cluster."""
    replica = Standby.of(primary_url)
    yield replica
    replica.remove()


@pytest.fixture(scope="module")
def replica_url(primary_url: str, standby: Standby) -> str:
    """The primary's database on the standby (its name as made: suffixed per test worker)."""
    return standby.url(str(make_url(primary_url).database))


@pytest.fixture(scope="module")
def primary(primary_url: str) -> Iterator[Engine]:
    """An engine on the primary's database."""
    engine = make_engine(primary_url)
    yield engine
    engine.dispose()


class Clock:
    """A clock the test moves by hand (the lag bound without waiting for it)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    """A hand-moved clock."""
    return Clock()


@pytest.fixture
def replicas(primary: Engine, replica_url: str, clock: Clock) -> Iterator[ReadReplicas]:
    """The chooser over the one standby, checked once."""
    chooser = ReadReplicas(primary, [replica_url], max_lag_s=MAX_LAG_S, check_s=1.0, clock=clock)
    chooser.check()
    yield chooser
    chooser.dispose()


def _write(primary: Engine, name: str) -> str:
    """Commit a team named `name` on the primary; the WAL position after the commit."""
    with Session(primary) as session:
        session.execute(text("INSERT INTO teams (name) VALUES (:n)"), {"n": name})
        session.commit()
        return written_position(session)


def _replica_session(replicas: ReadReplicas, *, after: str | None = None) -> Session:
    """A session the chooser gives on the replica (there must be one)."""
    session = replicas.session(after=after)
    assert session is not None, "the read did not go to the replica"
    return session


def _sees(session: Session, name: str) -> bool:
    """Whether `session` sees the team named `name`."""
    found = session.execute(text("SELECT count(*) FROM teams WHERE name = :n"), {"n": name})
    return bool(found.scalar_one())


def test_reads_are_served_by_the_replica(
    replicas: ReadReplicas, standby: Standby, primary_url: str
) -> None:
    name = make_url(primary_url).database
    assert replicas.healthy() == [f"{standby.root}:{standby.port}/{name}"]
    with _replica_session(replicas) as session:
        assert session.execute(text("SELECT pg_is_in_recovery()")).scalar_one() is True


def test_a_marked_read_goes_to_the_primary_until_the_replica_replayed_the_write(
    replicas: ReadReplicas, primary: Engine, standby: Standby
) -> None:
    standby.pause()
    try:
        position = _write(primary, "written while replay is paused")
        # The caller who wrote: no replica has its write, so the read goes to the primary.
        assert replicas.session(after=position) is None
        # Anyone else reads the replica, which does not have the row yet.
        with _replica_session(replicas) as session:
            assert not _sees(session, "written while replay is paused")
    finally:
        standby.resume()
    standby.wait_replayed(position)
    with _replica_session(replicas, after=position) as session:
        assert session.execute(text("SELECT pg_is_in_recovery()")).scalar_one() is True
        assert _sees(session, "written while replay is paused")


def test_a_lagging_replica_is_skipped_until_it_catches_up(
    replicas: ReadReplicas,
    primary: Engine,
    standby: Standby,
    clock: Clock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="geo_patrol.db.replicas")
    standby.pause()
    try:
        _write(primary, "lag 1")
        replicas.check()  # the primary's position is sampled now: behind it, but just now
        assert replicas.healthy()
        clock.now += MAX_LAG_S - 1
        replicas.check()
        assert replicas.healthy(), "within the bound"
        clock.now += 2
        position = _write(primary, "lag 2")
        replicas.check()
        assert replicas.healthy() == []
        assert replicas.session() is None
        assert f"{MAX_LAG_S + 1:.1f} s behind the primary" in caplog.text
    finally:
        standby.resume()
    standby.wait_replayed(position)
    clock.now += 1
    replicas.check()
    assert replicas.healthy()
    assert "taken back" in caplog.text


def test_a_replica_whose_pool_is_busy_is_passed_over_not_dropped(
    primary: Engine, replica_url: str
) -> None:
    one = Timeouts(connect_s=2, statement_s=10, pool_s=0.2, pool_size=1, pool_overflow=0)
    chooser = ReadReplicas(primary, [replica_url], one, max_lag_s=5, check_s=1)
    try:
        chooser.check()
        with _replica_session(chooser) as busy:
            busy.execute(text("SELECT 1"))  # holds the pool's only connection
            assert chooser.session() is None  # this read goes to the primary
            assert chooser.healthy()
    finally:
        chooser.dispose()


def test_a_lost_replica_falls_back_to_the_primary_and_is_taken_back(
    replicas: ReadReplicas, standby: Standby, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="geo_patrol.db.replicas")
    with _replica_session(replicas) as session:
        session.execute(text("SELECT 1"))  # a pooled connection the stop will break
    standby.stop()
    try:
        assert replicas.session() is None
        assert replicas.healthy() == []
        assert "dropped: unreachable" in caplog.text
        replicas.check()
        assert replicas.healthy() == []
    finally:
        standby.start()
    replicas.check()
    assert replicas.healthy()
    assert "taken back" in caplog.text
    with _replica_session(replicas) as session:
        assert session.execute(text("SELECT pg_is_in_recovery()")).scalar_one() is True


@pytest.fixture(scope="module")
def app_client(
    primary_url: str, replica_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestClient]:
    """The whole app on the primary with the standby as its replica (a long lag bound: the
    paused standby stays in use)."""
    settings = Settings(
        database_url=primary_url,
        read_database_url=replica_url,
        replica_max_lag_s=600,
        replica_check_s=0.2,
        maintenance_seconds=0,
        data_dir=tmp_path_factory.mktemp("replica-app"),
        osmand_port=None,
    )
    with TestClient(create_app(settings)) as client:
        yield client


def _admin(session: Session) -> dict[str, str]:
    """The bearer header of a new administrator."""
    member = session.execute(
        text(
            "INSERT INTO members (name, home_jurisdiction_code, login) "
            "VALUES ('admin', '320509', 'admin') RETURNING id"
        )
    ).scalar_one()
    session.execute(
        text("INSERT INTO member_roles (member_id, role) VALUES (:m, 'admin')"), {"m": member}
    )
    token = issue_api_token(session, member_id=member, label="test", days=1, address=None)
    return {"Authorization": f"Bearer {token}"}


def test_a_phone_reads_its_own_upload_while_others_read_the_replica(
    app_client: TestClient, primary: Engine, standby: Standby
) -> None:
    with Session(primary) as session:
        admin = _admin(session)
        team = session.execute(
            text("INSERT INTO teams (name) VALUES ('river team') RETURNING id")
        ).scalar_one()
        session.commit()
    replicas: ReadReplicas = app_client.app.state.read_replicas  # type: ignore[attr-defined]
    replicas.check()
    assert replicas.healthy()
    standby.pause()
    try:
        track = (FIXTURES / "tracks" / "around-visnjan-with-car.gpx").read_bytes()
        answer = app_client.post(
            "/api/v1/patrols",
            headers=admin,
            data={"team_id": str(team), "mode": "car"},
            files={"file": ("walk.gpx", track, "application/gpx+xml")},
        )
        assert answer.status_code == 201, answer.text
        patrol = answer.json()["id"]
        position = answer.headers[WRITTEN_HEADER]
        assert app_client.cookies.get(WRITTEN_COOKIE) == position

        # The uploader (its cookie) reads from the primary: the new patrol is listed.
        mine = app_client.get("/api/v1/patrols", headers=admin, params={"limit": 500})
        assert mine.status_code == 200
        assert patrol in [p["id"] for p in mine.json()]

        # Without the marker the read goes to the paused replica, which has not got it.
        app_client.cookies.clear()
        theirs = app_client.get("/api/v1/patrols", headers=admin, params={"limit": 500})
        assert theirs.status_code == 200
        assert patrol not in [p["id"] for p in theirs.json()]

        # The marker as a header (an API client echoing it) does the same as the cookie.
        echoed = {**admin, WRITTEN_HEADER: position}
        assert app_client.get(f"/api/v1/patrols/{patrol}", headers=echoed).status_code == 200
        assert app_client.get(f"/api/v1/patrols/{patrol}", headers=admin).status_code == 404
    finally:
        standby.resume()
    standby.wait_replayed(position)
    assert app_client.get(f"/api/v1/patrols/{patrol}", headers=admin).status_code == 200

    # The replica lost: reads fall back to the primary, no error.
    standby.stop()
    try:
        listed = app_client.get("/api/v1/patrols", headers=admin)
        assert listed.status_code == 200
        assert replicas.healthy() == []
    finally:
        standby.start()


def test_only_reading_methods_take_a_read_session() -> None:
    """No handler taking ReadSessionDep answers a writing method (it would fail on a replica)."""
    readers = [
        (method, route.path)
        for module in vars(routes).values()
        if isinstance(getattr(module, "router", None), APIRouter)
        for route in module.router.routes
        if isinstance(route, APIRoute)
        and any(dep.call is get_read_session for dep in route.dependant.dependencies)
        for method in route.methods or ()
    ]
    assert len({path for _, path in readers}) >= 60
    assert {method for method, _ in readers} == {"GET"}


def test_a_pooled_connection_the_server_closed_is_replaced(primary: Engine) -> None:
    """A server that restarted (a replica coming back) closed the pool's connections: the
    next checkout replaces them instead of failing (it raised a TypeError, a 500, before)."""
    engine = make_engine(str(primary.url.render_as_string(hide_password=False)), TIMEOUTS)
    try:
        with engine.connect() as connection:
            pid = connection.execute(text("SELECT pg_backend_pid()")).scalar_one()
        with primary.connect() as other:
            other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        with engine.connect() as connection:
            assert connection.execute(text("SELECT pg_backend_pid()")).scalar_one() != pid
    finally:
        engine.dispose()
