"""Fault suite: the service and PostgreSQL killed or paused under load, real processes.

PostgreSQL here is an embedded cluster of this module's own, in a temporary folder, so
pausing or killing it never touches the shared test cluster; only the processes of that
cluster (its postmaster, read from its postmaster.pid, and the postmaster's children) are
signalled, and every SIGSTOP is followed by SIGCONT in a `finally`.

- SIGKILL of the service during live load: every acknowledged position stored exactly once
  (phones resend what was not acknowledged, as Traccar Client and OsmAnd do).
- SIGKILL of the service during an upload, when it has written everything but its commit
  (held there by a lock on the audit log): nothing of it stored; a retry gives one patrol.
- PostgreSQL paused (SIGSTOP): 503 within the timeouts, /healthz says why, recovery after
  SIGCONT without restarting the service.
- PostgreSQL killed (SIGKILL) and restarted: 503 while it is gone, recovery without
  restarting the service, every acknowledged position stored exactly once.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import shutil
import signal
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, text

from geo_patrol.db.embedded import EmbeddedCluster
from geo_patrol.db.engine import make_engine, make_sessionmaker
from tests.support.database import demo_database
from tests.support.phones import Phone, new_phones, stored_copies, walk_all
from tests.support.service import Service, admin_token, free_port, running_service, start_service

CONNECT_S, STATEMENT_S, POOL_S = 2.0, 3.0, 2.0
BOUND_S = 2 * CONNECT_S + POOL_S + 2.0  # ping, reconnect, a wait for the pool, slack
TIMEOUTS = {
    "db_connect_timeout_s": str(CONNECT_S),
    "db_statement_timeout_s": str(STATEMENT_S),
    "db_pool_timeout_s": str(POOL_S),
}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedCluster]:
    """A PostgreSQL cluster of this module's own, removed afterwards."""
    folder = tmp_path_factory.mktemp("faults")
    cluster = EmbeddedCluster(folder / "pg", preferred_port=free_port())
    cluster.up()
    try:
        yield cluster
    finally:
        signal_cluster(cluster, signal.SIGCONT)
        cluster.down()
        shutil.rmtree(cluster.root, ignore_errors=True)
        if cluster.root != cluster.requested_root:  # placed under /var/tmp (we are root)
            shutil.rmtree(cluster.root.parent, ignore_errors=True)


@pytest.fixture(scope="module")
def url(cluster: EmbeddedCluster) -> str:
    """The cluster's database, migrated, with the demo loaded."""
    return demo_database(cluster.url())


@pytest.fixture(scope="module")
def engine(url: str) -> Iterator[Engine]:
    """The test's own view of the database."""
    engine = make_engine(url)
    yield engine
    engine.dispose()


def cluster_pids(cluster: EmbeddedCluster) -> list[int]:
    """The postmaster this module started (from its postmaster.pid) and its children."""
    lock = cluster.data / "postmaster.pid"
    if not lock.exists():
        return []
    postmaster = int(lock.read_text().split()[0])
    children = Path(f"/proc/{postmaster}/task/{postmaster}/children")
    if not children.exists():
        return []
    return [postmaster, *map(int, children.read_text().split())]


def signal_cluster(cluster: EmbeddedCluster, sig: signal.Signals) -> None:
    """Send `sig` to the cluster's postmaster, then to its children."""
    for pid in cluster_pids(cluster):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)


def phones_for(engine: Engine, count: int, first: datetime) -> list[Phone]:
    """New devices of the demo patrol member."""
    with make_sessionmaker(engine)() as session, session.begin():
        return new_phones(session, count, login="sz.patrol", first_epoch=int(first.timestamp()))


def assert_stored_once(engine: Engine, phones: list[Phone]) -> None:
    """Every position of every phone acknowledged, and stored exactly once."""
    with make_sessionmaker(engine)() as session:
        for phone in phones:
            assert phone.acknowledged == phone.epochs, phone.heard
            assert stored_copies(session, phone) == dict.fromkeys(phone.epochs, 1)


def gpx(points: int) -> bytes:
    """A walk of `points` fixes a second and about a metre apart."""
    start = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)
    fixes = "".join(
        f'<trkpt lat="30.9" lon="{120.6 + n * 1e-5:.6f}"><time>'
        f"{(start + timedelta(seconds=n)).isoformat().replace('+00:00', 'Z')}</time></trkpt>"
        for n in range(points)
    )
    return (
        f'<?xml version="1.0"?><gpx version="1.1" creator="test"><trk><trkseg>{fixes}'
        "</trkseg></trk></gpx>"
    ).encode()


UPLOADS = """
SELECT u.id, u.patrol_id, p.points_raw,
       (SELECT count(*) FROM patrol_points pp WHERE pp.patrol_id = p.id) AS stored
FROM uploads u LEFT JOIN patrols p ON p.id = u.patrol_id WHERE u.sha256 = :sha
"""
UPLOAD_POINTS = 50_000


def _upload(service: Service, token: str, team: int, data: bytes) -> int:
    """POST the file as a phone app would (with its upload id); the status, 0 when the
    connection broke."""
    try:
        response = httpx.post(
            f"{service.http}/api/v1/patrols",
            timeout=60,
            headers={"Authorization": f"Bearer {token}"},
            data={"team_id": str(team), "upload_id": "walk-1"},
            files={"file": ("walk.gpx", data)},
        )
    except httpx.TransportError:
        return 0
    return response.status_code


def _uploads(engine: Engine, data: bytes) -> list[tuple[int, int | None, int, int]]:
    """(upload id, patrol id, its points_raw, points stored) of every upload of `data`."""
    with engine.connect() as connection:
        rows = connection.execute(text(UPLOADS), {"sha": hashlib.sha256(data).hexdigest()})
        return [(row.id, row.patrol_id, row.points_raw, row.stored) for row in rows]


BLOCKED_AT_AUDIT = """
SELECT count(*) FROM pg_stat_activity
WHERE datname = current_database() AND wait_event_type = 'Lock'
  AND query LIKE '%INSERT INTO audit_log%'
"""


def _kill_before_commit(engine: Engine, service: Service, upload: threading.Thread) -> None:
    """SIGKILL the service while its upload has written everything but not committed: the
    audit log is held locked, so the upload's last statement (its audit record) waits."""
    with engine.connect() as connection:
        connection.execute(text("LOCK TABLE audit_log IN SHARE MODE"))
        upload.start()
        with engine.connect() as watcher:
            deadline = time.monotonic() + 60
            while not watcher.execute(text(BLOCKED_AT_AUDIT)).scalar_one():
                assert time.monotonic() < deadline, "the upload never reached its audit record"
                watcher.rollback()  # a transaction sees one snapshot of pg_stat_activity
                time.sleep(0.01)
        service.stop(signal.SIGKILL)
        connection.rollback()  # the lock goes; the dead client's transaction is rolled back


def test_service_killed_during_live_load_and_an_upload(
    url: str, engine: Engine, tmp_path: Path
) -> None:
    phones = phones_for(engine, 5, datetime.now(UTC) - timedelta(hours=3))
    token, data = admin_token(url), gpx(UPLOAD_POINTS)
    with engine.connect() as connection:
        team = connection.execute(text("SELECT min(id) FROM teams")).scalar_one()
    ports = (free_port(), free_port())
    service = start_service(url, tmp_path, ports=ports, settings=TIMEOUTS)
    restarted: list[Service] = []
    first: list[int] = []
    done = threading.Event()

    def upload_kill_restart() -> None:
        upload = threading.Thread(target=lambda: first.append(_upload(service, token, team, data)))
        try:
            time.sleep(0.5)  # the phones are walking
            _kill_before_commit(engine, service, upload)
            upload.join()
            time.sleep(0.5)
            restarted.append(
                start_service(url, tmp_path, name="again", ports=ports, settings=TIMEOUTS)
            )
            time.sleep(1.0)  # the phones go on a little on the restarted service
        finally:
            done.set()

    chaos = threading.Thread(target=upload_kill_restart)
    chaos.start()
    try:
        asyncio.run(walk_all(phones, service.osmand, until=done, deadline_s=90))
        chaos.join()
        assert service.process.returncode == -signal.SIGKILL and first == [0]  # no answer
        assert _uploads(engine, data) == []  # killed before its commit: nothing of it stored
        assert _upload(restarted[0], token, team, data) in (200, 201)  # the phone's retry
        assert _upload(restarted[0], token, team, data) == 200  # and another
    finally:
        chaos.join()
        for again in restarted:
            again.stop()
    assert sum(p.heard["ConnectError"] for p in phones) > 0, "the phones saw no restart"
    assert_stored_once(engine, phones)
    assert [row[1:] for row in _uploads(engine, data)] == [
        (_uploads(engine, data)[0][1], UPLOAD_POINTS, UPLOAD_POINTS)
    ]
    sha = hashlib.sha256(data).hexdigest()
    assert (tmp_path / "data" / "uploads" / sha[:2] / sha).read_bytes() == data


@pytest.fixture(scope="module")
def steady(url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """One service that lives through the database's faults."""
    with running_service(url, tmp_path_factory.mktemp("steady"), **TIMEOUTS) as service:
        yield service


def test_postgresql_paused_answers_503_within_the_timeouts(
    cluster: EmbeddedCluster, steady: Service
) -> None:
    position = {"id": "gpd_nobody", "lat": "30.9", "lon": "120.6"}
    login = {"login": "nobody", "password": "wrong"}
    assert httpx.get(f"{steady.http}/healthz").status_code == 200
    logged = len(steady.log_text())
    try:
        signal_cluster(cluster, signal.SIGSTOP)
        for method, path, query, body in (
            ("GET", "/healthz", None, None),
            ("GET", "/osmand", position, None),
            ("POST", "/api/v1/auth/login", None, login),
        ):
            started = time.monotonic()
            response = httpx.request(
                method, steady.http + path, params=query, json=body, timeout=30
            )
            seconds = time.monotonic() - started
            assert response.status_code == 503 and seconds < BOUND_S, (path, seconds)
            if path != "/osmand":  # (phones get an empty body, as Traccar answers)
                assert response.headers["content-type"] == "application/problem+json"
            if path == "/healthz":
                assert response.json()["database"]  # what is wrong, in its words
    finally:
        signal_cluster(cluster, signal.SIGCONT)
    assert _until_healthy(steady) < 15
    assert httpx.get(f"{steady.http}/osmand", params=position).status_code == 400
    log = steady.log_text()[logged:]
    assert log.count("first failure of a database outage") == 1  # its traceback, once
    assert "failure 2 of this database outage" in log and "database is back after" in log


def test_postgresql_killed_and_restarted_under_live_load(
    cluster: EmbeddedCluster, engine: Engine, steady: Service
) -> None:
    phones = phones_for(engine, 5, datetime.now(UTC) - timedelta(hours=6))
    logged = len(steady.log_text())
    done = threading.Event()

    def crash_and_restart() -> None:
        try:
            time.sleep(1.0)
            signal_cluster(cluster, signal.SIGKILL)
            time.sleep(3.0)
            cluster.up()
            time.sleep(1.0)  # the phones go on a little on the restarted database
        finally:
            done.set()

    chaos = threading.Thread(target=crash_and_restart)
    chaos.start()
    try:
        asyncio.run(walk_all(phones, steady.osmand, until=done, deadline_s=90))
    finally:
        chaos.join()
    assert steady.process.poll() is None  # the same process throughout
    assert _until_healthy(steady) < 15
    failed = sum(phone.heard["503"] for phone in phones)
    assert failed > 0
    log = steady.log_text()[logged:]
    assert log.count("first failure of a database outage") == 1  # one traceback, not one each
    assert 1 <= log.count(" of this database outage)") <= failed  # a line per failed batch
    engine.dispose()  # its connections died with the server
    assert_stored_once(engine, phones)


def _until_healthy(service: Service) -> float:
    """Seconds until /healthz answers 200 (at most 30)."""
    started = time.monotonic()
    while time.monotonic() - started < 30:
        if httpx.get(f"{service.http}/healthz", timeout=10).status_code == 200:
            break
        time.sleep(0.3)
    return time.monotonic() - started
