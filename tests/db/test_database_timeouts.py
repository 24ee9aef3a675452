"""A database that stops answering, or has no free connection: 503 within the timeouts.

The database is reached through a proxy that can stop forwarding (a paused server as the
service sees it); the real processes are paused and killed in tests/service/test_faults.py.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from geo_patrol.api.app import create_app
from geo_patrol.core.settings import Settings
from geo_patrol.db.engine import Timeouts, make_engine
from tests.support.pausable_proxy import PausableProxy

CONNECT_S, STATEMENT_S, POOL_S = 2.0, 1.0, 1.0
# The longest a new request may take to hear 503 from a paused database: its pooled
# connection's ping (the connect timeout), and slack.
BOUND_S = CONNECT_S + 3.0


@pytest.fixture
def proxy(database_url: str) -> Iterator[PausableProxy]:
    """A proxy to the test database, resumed and closed after the test."""
    proxy = PausableProxy(database_url)
    yield proxy
    proxy.close()


def timed(call: object) -> tuple[Response, float]:
    """The response of a request and the seconds it took."""
    started = time.monotonic()
    response = call()  # type: ignore[operator]
    return response, time.monotonic() - started


def settings_for(url: str, **extra: Any) -> Settings:
    """Short timeouts, no background maintenance."""
    return Settings(
        database_url=url,
        db_connect_timeout_s=CONNECT_S,
        db_statement_timeout_s=STATEMENT_S,
        db_pool_timeout_s=POOL_S,
        maintenance_seconds=0,
        **extra,
    )


def test_a_paused_database_answers_503_within_the_timeouts_and_recovers(
    proxy: PausableProxy, caplog: pytest.LogCaptureFixture
) -> None:
    with TestClient(create_app(settings_for(proxy.url))) as client:
        assert client.get("/healthz").status_code == 200  # a pooled connection to ping
        proxy.pause()
        health, seconds = timed(lambda: client.get("/healthz"))
        assert health.status_code == 503 and seconds < BOUND_S
        assert health.headers["content-type"] == "application/problem+json"
        assert "timeout" in health.json()["database"] or "answer" in health.json()["database"]
        position = {"id": "gpd_nobody", "lat": "30.9", "lon": "120.6"}
        for call in (
            lambda: client.get("/osmand", params=position),  # the phone keeps it, resends
            lambda: client.post("/api/v1/auth/login", json={"login": "x", "password": "y"}),
        ):
            response, seconds = timed(call)
            assert response.status_code == 503 and seconds < BOUND_S
        proxy.resume()
        assert client.get("/healthz").status_code == 200  # no restart needed
        assert client.get("/osmand", params=position).status_code == 400  # unknown device
    outage = [r for r in caplog.records if "outage" in r.getMessage()]
    assert len(outage) >= 2
    assert sum(r.exc_info is not None for r in outage) == 1  # the traceback once
    assert any("back after" in r.getMessage() for r in caplog.records)


def test_a_statement_the_server_does_not_answer_is_given_up(proxy: PausableProxy) -> None:
    timeouts = Timeouts(connect_s=CONNECT_S, statement_s=STATEMENT_S, pool_s=POOL_S)
    engine = make_engine(proxy.url, timeouts)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            proxy.pause()
            started = time.monotonic()
            with pytest.raises(OperationalError, match="did not answer"):
                connection.execute(text("SELECT 2"))
            seconds = time.monotonic() - started
        assert timeouts.answer_s - 0.5 < seconds < timeouts.answer_s + 2
        proxy.resume()
        with engine.connect() as connection:  # the broken connection was dropped
            assert connection.execute(text("SELECT 3")).scalar_one() == 3
    finally:
        engine.dispose()


def test_the_server_cancels_a_statement_past_the_statement_timeout(database_url: str) -> None:
    engine = make_engine(database_url, Timeouts(connect_s=2, statement_s=0.5, pool_s=1))
    try:
        with engine.connect() as connection, pytest.raises(OperationalError) as raised:
            connection.execute(text("SELECT pg_sleep(5)"))
        assert isinstance(raised.value.orig, psycopg.errors.QueryCanceled)
    finally:
        engine.dispose()


def test_waiting_for_a_free_connection_is_bounded(database_url: str) -> None:
    app = create_app(settings_for(database_url, db_pool_size=1, db_pool_overflow=0))
    with TestClient(app) as client, app.state.engine.connect():  # the only connection
        response, seconds = timed(
            lambda: client.post("/api/v1/auth/login", json={"login": "x", "password": "y"})
        )
        assert response.status_code == 503 and seconds < POOL_S + 3
        assert response.headers["content-type"] == "application/problem+json"
        health = client.get("/healthz")
        assert health.status_code == 503 and "QueuePool limit" in health.json()["database"]
