"""Live positions stored in batches (group commit): each request answered for itself."""

from __future__ import annotations

import asyncio
import logging
import random
import re
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_patrol.api.app import create_app
from geo_patrol.api.routes.osmand import create_osmand_app
from geo_patrol.core.settings import Settings
from geo_patrol.patrols.live.osmand import LivePosition
from geo_patrol.patrols.live.store import refresh_stale_patrols, store_batch
from tests.support.clients import app_on
from tests.support.principals import REVOKED_TOKEN, SZ_PHONE_TOKEN

WJJ_PHONE_TOKEN = REVOKED_TOKEN  # revoked only by tests/support/principals.headers_for
START = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)


@pytest.fixture
def demo_app(database_url: str, demo_session: Session) -> FastAPI:
    """The app on the demo data (its lifespan not started)."""
    return app_on(demo_session, Settings(database_url=database_url))


def position(device: str, minutes: float, lon: float = 120.65) -> LivePosition:
    """A fix of `device` at START + minutes."""
    return LivePosition(
        device_id=device,
        time=START + timedelta(minutes=minutes),
        lon=lon,
        lat=30.9,
        altitude=3.0,
        accuracy_m=5.0,
    )


def live_points(session: Session, token: str) -> list[tuple[int, datetime, int]]:
    """(patrol id, time, seq) of a device's live positions, by patrol and time."""
    rows = session.execute(
        text(
            "SELECT pp.patrol_id, pp.time, pp.seq FROM patrol_points pp "
            "JOIN patrols p ON p.id = pp.patrol_id JOIN devices d ON d.id = p.device_id "
            "WHERE d.token_hash = encode(sha256(convert_to(:t, 'UTF8')), 'hex') AND pp.live "
            "ORDER BY pp.patrol_id, pp.time"
        ),
        {"t": token},
    )
    return [(row.patrol_id, row.time, row.seq) for row in rows]


def test_unknown_and_revoked_devices_are_refused_alone(
    demo_session: Session, database_url: str
) -> None:
    demo_session.execute(
        text(
            "UPDATE devices SET revoked_at = now() "
            "WHERE token_hash = encode(sha256(convert_to(:t, 'UTF8')), 'hex')"
        ),
        {"t": WJJ_PHONE_TOKEN},
    )
    requests = [
        [position(SZ_PHONE_TOKEN, 0)],
        [position("gpd_nobody", 0)],
        [position(WJJ_PHONE_TOKEN, 0)],
        [position(SZ_PHONE_TOKEN, 1), position("not-a-device-token", 1)],  # refused as a whole
        [position(SZ_PHONE_TOKEN, 2), position(SZ_PHONE_TOKEN, 0)],  # one of them a replay
    ]
    outcome = store_batch(
        demo_session, requests=requests, settings=Settings(database_url=database_url)
    )
    assert outcome.refused == {1, 2, 3} and outcome.stored == 2
    points = live_points(demo_session, SZ_PHONE_TOKEN)
    assert [time for _, time, _ in points] == [START, START + timedelta(minutes=2)]
    assert live_points(demo_session, WJJ_PHONE_TOKEN) == []


def test_a_batch_spanning_a_silence_opens_patrols_as_one_by_one_would(
    demo_session: Session, database_url: str
) -> None:
    settings = Settings(database_url=database_url, live_silence_minutes=30)
    # Out of order: 40 fits only after 20 widened the patrol that 0 opened; 100 and 110 are
    # after a silence and make a second patrol; 5 arrives twice.
    minutes = [100, 40, 5, 110, 20, 0, 5]
    requests = [[position(SZ_PHONE_TOKEN, m)] for m in minutes]
    outcome = store_batch(demo_session, requests=requests, settings=settings)
    assert not outcome.refused and outcome.stored == 6
    patrols = demo_session.execute(
        text(
            "SELECT id, started_at, ended_at, closed_at IS NOT NULL AS closed FROM patrols "
            "WHERE source = 'live' ORDER BY id"
        )
    ).all()
    assert [(p.started_at, p.ended_at, p.closed) for p in patrols] == [
        (START, START + timedelta(minutes=40), True),
        (START + timedelta(minutes=100), START + timedelta(minutes=110), False),
    ]
    points = live_points(demo_session, SZ_PHONE_TOKEN)
    first, second = patrols[0].id, patrols[1].id
    assert [(p, t) for p, t, _ in points] == [
        (first, START + timedelta(minutes=m)) for m in (0, 5, 20, 40)
    ] + [(second, START + timedelta(minutes=m)) for m in (100, 110)]
    assert len({(p, seq) for p, _, seq in points}) == len(points)


async def _send_all(app: FastAPI, queries: list[dict[str, str]]) -> list[int]:
    """All the requests at once to the 5055 listener; their statuses.

    (Not to /osmand on the main app: its dependencies would use the test's one session from
    other threads while the writer stores a batch with it.)
    """
    listener = httpx.ASGITransport(app=create_osmand_app(app))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=listener, base_url="http://phone") as phone,
    ):
        responses = await asyncio.gather(*(phone.get("/", params=query) for query in queries))
    return [response.status_code for response in responses]


def test_concurrent_replays_of_one_phone_end_once_and_in_order(
    demo_app: FastAPI, demo_session: Session, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    epochs = [int((START + timedelta(seconds=5 * i)).timestamp()) for i in range(60)]
    sent = epochs + epochs[10:30]  # a buffer replayed while the live fixes arrive
    random.Random(7).shuffle(sent)
    # Walking east 5 m in each 5 s (so the cleaning keeps every fix).
    queries = [
        {
            "id": SZ_PHONE_TOKEN,
            "lat": "30.9",
            "timestamp": str(epoch),
            "lon": f"{120.6 + (epoch - epochs[0]) * 1e-5:.6f}",
        }
        for epoch in sent
    ]
    queries.append({"id": "gpd_nobody", "lat": "30.9", "lon": "120.6"})
    with caplog.at_level(logging.DEBUG, logger="geo_patrol.patrols.live.writer"):
        statuses = asyncio.run(_send_all(demo_app, queries))
    assert statuses == [200] * len(sent) + [400]
    sizes = [int(m) for m in re.findall(r"batch of (\d+) requests committed", caplog.text)]
    assert sum(sizes) == len(queries) and max(sizes) > 1  # stored together, answered alone
    points = live_points(demo_session, SZ_PHONE_TOKEN)
    assert [int(t.timestamp()) for _, t, _ in points] == epochs
    assert len({patrol for patrol, _, _ in points}) == 1
    assert len({seq for _, _, seq in points}) == len(epochs)
    refresh_stale_patrols(demo_session, settings=Settings(database_url=database_url))
    ordered = (
        demo_session.execute(
            text(
                "SELECT time FROM patrol_points WHERE patrol_id = :p AND ord IS NOT NULL "
                "ORDER BY ord"
            ),
            {"p": points[0][0]},
        )
        .scalars()
        .all()
    )
    assert [int(t.timestamp()) for t in ordered] == epochs


def test_revoked_device_is_refused_on_the_listener_port(
    demo_app: FastAPI, demo_session: Session
) -> None:
    query = {"id": SZ_PHONE_TOKEN, "lat": "30.9", "lon": "120.65"}
    assert asyncio.run(_send_all(demo_app, [query, query])) == [200, 200]
    demo_session.execute(text("UPDATE devices SET revoked_at = now()"))
    assert asyncio.run(_send_all(demo_app, [query, query])) == [400, 400]


def test_positions_not_stored_are_answered_503_so_the_phone_resends() -> None:
    unreachable = "postgresql+psycopg://nobody@127.0.0.1:1/nothing"  # nothing listens on port 1
    with TestClient(create_app(Settings(database_url=unreachable))) as client:
        response = client.get("/osmand", params={"id": SZ_PHONE_TOKEN, "lat": 30.9, "lon": 120.6})
    assert response.status_code == 503 and response.content == b""
