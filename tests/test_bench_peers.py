"""The honest-peer benchmark's parts that decide its verdicts: the open-loop generator keeps
its schedule when the server queues, the targets are judged as the issue states them, and the
ogr2ogr peer reaches the same database as ours."""

from __future__ import annotations

import asyncio

import pytest

from bench import report_api, targets
from bench.children import Run
from bench.ogr_peer import gdal_connection

SERVICE_S = 0.03  # each request holds the (single) server this long
RATE = 50.0  # a request every 20 ms: faster than the server answers
SECONDS = 0.4


async def _queueing_server() -> tuple[asyncio.Server, list[float]]:
    """An HTTP server answering 201 one request at a time (a lock), SERVICE_S each."""
    lock = asyncio.Lock()
    arrivals: list[float] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
                await reader.readexactly(length)
                arrivals.append(asyncio.get_running_loop().time())
                async with lock:
                    await asyncio.sleep(SERVICE_S)
                writer.write(b"HTTP/1.1 201 Created\r\ncontent-length: 2\r\n\r\n{}")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            writer.close()  # the client closed, or the test's server is shutting down

    return await asyncio.start_server(handle, "127.0.0.1", 0), arrivals


def test_open_loop_keeps_its_schedule_and_counts_the_queue_from_it() -> None:
    async def scenario() -> tuple[report_api.ApiLoad, list[float]]:
        server, arrivals = await _queueing_server()
        port = server.sockets[0].getsockname()[1]
        load = report_api.ApiLoad("test", "open")
        async with server:
            await report_api.open_loop(
                ("127.0.0.1", port),
                [None],
                lambda n: {"n": n},
                rate=RATE,
                seconds=SECONDS,
                load=load,
            )
        return load, arrivals

    load, arrivals = asyncio.run(scenario())
    count = round(RATE * SECONDS)  # 20
    assert load.created == count and load.errors == 0
    # Sent on schedule although answers queue: the 20 arrivals span about 19 intervals.
    assert arrivals[-1] - arrivals[0] == pytest.approx((count - 1) / RATE, abs=0.05)
    # The last one waits for the 19 before it: 20 x 30 ms of service from its scheduled time
    # minus the 19 x 20 ms it was scheduled after the first (a closed loop would say 30 ms);
    # more on a busy machine (every sleep overshoots a little): the bounds are loose there.
    expected_last = count * SERVICE_S - (count - 1) / RATE  # 0.22 s
    assert expected_last - 0.01 <= max(load.latencies_s) <= expected_last + 0.3
    assert SERVICE_S - 0.005 <= min(load.latencies_s) <= SERVICE_S + 0.05


def _run(engine: str, seconds: float, county: dict[str, float]) -> Run:
    return Run(engine, 1_000_000, seconds=seconds, answers={"county": county})


def test_upload_targets_as_the_issue_states_them() -> None:
    ours = _run("ours", 2.0, {"a": 1000.0, "b": 500.0})
    ogr = _run("ogr", 9.0, {"a": 1004.0, "b": 500.0})  # 4.5x slower; a differs by 0.398 %
    peer = _run("peer", 1.2, {"a": 1000.0, "b": 503.0})  # ours / peer = 1.67; b 0.596 %
    rows = targets.upload_verdicts(1_000_000, {"ours": [ours], "ogr": [ogr], "peer": [peer]})
    by_name = {v.comparison: v for v in rows}
    speed = by_name["upload 1M → stored and attributed vs ogr2ogr + SQL"]
    assert speed.met is True and speed.measured == "4.50× faster"
    near = by_name["upload 1M → stored and attributed vs GeoPandas"]
    assert near.met is False and near.measured == "ours ÷ peer = 1.67"
    agree_ogr = by_name["upload 1M: per-county metres vs ogr2ogr + SQL"]
    assert agree_ogr.met is True and agree_ogr.measured == "largest difference 0.398 %"
    assert by_name["upload 1M: per-county metres vs GeoPandas"].met is False
    assert "upload 1M vs GeoPandas lengths only" not in " ".join(by_name)  # no split timed


def test_geopandas_without_its_river_buffer_is_judged_too() -> None:
    ours = _run("ours", 2.0, {"a": 1.0})
    peer = Run(
        "peer", 1_000_000, seconds=5.0, phases={"rivers": 3.6}, answers={"county": {"a": 1.0}}
    )
    rows = targets.upload_verdicts(1_000_000, {"ours": [ours], "peer": [peer]})
    full, lengths = rows[0], rows[-1]
    assert full.met is True  # 2.0 / 5.0
    assert lengths.comparison.startswith("upload 1M vs GeoPandas lengths only (3.60 s")
    assert lengths.peer == "1.40 s" and lengths.measured == "ours ÷ peer = 1.43"
    assert lengths.met is True  # 2.0 / 1.4 = 1.43 <= 1.5


def test_report_and_live_targets() -> None:
    throughput, latency = targets.report_verdicts([40.0, 60.0, 50.0], [90.0, 110.0, 100.0], 49.0, 0)
    assert throughput.met is True and throughput.measured == "50%"  # medians 50 of 100
    assert latency.met is True
    _, late = targets.report_verdicts([1.0], [1.0], 50.0, 0)
    assert late.met is False  # p95 must be under 50 ms
    _, failing = targets.report_verdicts([1.0], [1.0], 10.0, 3)
    assert failing.met is False  # errors count against it


def test_the_ogr_peer_connects_where_ours_does() -> None:
    url = "postgresql+psycopg://geo_patrol@/bench?host=%2Fvar%2Frun%2Fpg&port=5433"
    assert gdal_connection(url) == "PG:dbname=bench host=/var/run/pg port=5433 user=geo_patrol"
    tcp = "postgresql+psycopg://u:secret@db.example:5432/bench"
    assert (
        gdal_connection(tcp) == "PG:dbname=bench host=db.example port=5432 user=u password=secret"
    )
