"""Forty uploads at once against a real service: read two at a time, memory bounded.

The service runs with uvicorn on a free port (in a thread of this process, so its memory is
this process's), on a database of its own with the demo accounts committed, with
GEO_PATROL_PARSE_SLOTS=2. Forty clients send a 2 MB hostile KMZ each (20 MB of near-limit
coordinate texts, the last one out of range) at the same moment. Read from /proc while they
run: how many parse workers are alive, and this process's peak memory.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import text

from bench.hostile_files import dense_kmz
from geo_patrol.api.app import create_app
from geo_patrol.core.settings import Settings
from geo_patrol.db.engine import make_engine, make_sessionmaker
from tests.support.database import fresh_demo_database
from tests.support.live_server import serving
from tests.support.memory import reset_peak, status_kb, worker_rss_mb
from tests.support.principals import headers_for

UPLOADS = 40
SLOTS = 2


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str], int]]:
    """(base URL, the Shengze patrol member's headers, the joint team's id)."""
    url = fresh_demo_database("geo_patrol_uploads")
    engine = make_engine(url)
    with make_sessionmaker(engine)() as session, session.begin():
        headers = headers_for(session)["sz.patrol"]
        team = session.execute(
            text("SELECT id FROM teams WHERE name = '联合巡河队一队'")
        ).scalar_one()
    engine.dispose()
    settings = Settings(
        database_url=url,
        data_dir=tmp_path_factory.mktemp("data"),
        maintenance_seconds=0,
        osmand_port=None,
        parse_slots=SLOTS,
        parse_wait_seconds=120,
        # Fewer connections than waiting uploads: a wait must not hold one.
        db_pool_size=SLOTS + 1,
        db_pool_overflow=0,
        db_pool_timeout_s=1,
    )
    with serving(create_app(settings)) as base:
        yield base, headers, int(team)


def test_forty_parallel_uploads_are_read_two_at_a_time(
    service: tuple[str, dict[str, str], int],
) -> None:
    base, headers, team = service
    data = dense_kmz(2_000_000)
    seen: list[tuple[int, float]] = []
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            seen.append(worker_rss_mb())
            time.sleep(0.005)

    async def upload(client: httpx.AsyncClient, number: int) -> int:
        response = await client.post(
            f"{base}/api/v1/patrols",
            headers=headers,
            data={"team_id": str(team)},
            files={"file": (f"hostile-{number}.kmz", data)},
        )
        return response.status_code

    async def others_answered(client: httpx.AsyncClient) -> list[int]:
        """While the uploads wait, the rest of the service (a list, the map's data) answers."""
        await asyncio.sleep(1.0)
        answers = [await client.get(f"{base}/api/v1/patrols", headers=headers) for _ in range(5)]
        return [answer.status_code for answer in answers]

    async def forty() -> tuple[list[int], list[int]]:
        async with httpx.AsyncClient(timeout=300) as client:
            meanwhile = asyncio.create_task(others_answered(client))
            statuses = await asyncio.gather(*(upload(client, n) for n in range(UPLOADS)))
            return list(statuses), await meanwhile

    baseline = reset_peak()
    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        statuses, others = asyncio.run(forty())
    finally:
        done.set()
        sampler.join()
    grown_mb = (status_kb("VmHWM") - baseline) / 1024
    assert statuses == [422] * UPLOADS
    assert others == [200] * 5
    assert max(count for count, _ in seen) <= SLOTS
    assert max(mb for _, mb in seen) < SLOTS * 200
    # The service: the bodies (2 MB each, spooled) and the workers' answers; before, forty
    # parses at once in its own threads took about 20 MB each.
    assert grown_mb < 150, f"the service grew by {grown_mb:.0f} MB"
