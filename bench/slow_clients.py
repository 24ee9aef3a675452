"""Slow clients against the real service: /healthz and live positions beside them.

`python -m bench slow_clients [--slow 0,50,500] [--requests 200] [--quick]` starts
`geo-patrol serve` on a database of its own (the demo loaded), opens that many clients that
send a request head a byte every 0.5 s (spread over loopback addresses, 50 each, half on
each port), and times /healthz and live OsmAnd positions sent one after another from
another address. Then it reports how many of the slow clients the service had closed 2 s
after the header timeout. With `--no-timeouts` the header timeout is set to a day (the
service as it was). Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import numpy as np

from bench import database
from bench.service import Server, running_service
from geo_patrol.demo.simulate import PHONE as SZ_PHONE_TOKEN

DATABASE = "geo_patrol_bench_slow"
HEADER_S = 10.0
PER_ADDRESS = 50
# The slow clients, timed requests and positions below are also what tests/service/
# test_slow_clients.py drives (their one home: the benchmarks import nothing from tests/).
SLOW_HEAD = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 10_000


@dataclass(frozen=True)
class SlowResult:
    """What one slow client saw: refused at once (503), closed after so long, or never."""

    refused: bool
    closed_after_s: float | None


async def slow_client(
    url: str, source: str, *, byte_every_s: float, give_up_s: float
) -> SlowResult:
    """Send a request head a byte at a time from `source` until the server closes."""
    parts = urlsplit(url)
    reader, writer = await asyncio.open_connection(
        parts.hostname, parts.port, local_addr=(source, 0)
    )
    started = time.monotonic()
    try:
        for byte in SLOW_HEAD:
            writer.write(bytes([byte]))
            try:
                answer = await asyncio.wait_for(reader.read(100), byte_every_s)
            except TimeoutError:
                if time.monotonic() - started > give_up_s:
                    return SlowResult(False, None)
                continue
            return SlowResult(answer.startswith(b"HTTP/1.1 503"), time.monotonic() - started)
    except ConnectionError:
        return SlowResult(False, time.monotonic() - started)
    finally:
        writer.close()
    return SlowResult(False, None)


async def timed_requests(
    client: httpx.AsyncClient, urls: list[tuple[str, dict[str, str]]]
) -> list[tuple[int, float]]:
    """Each request in turn: its status and seconds."""
    results = []
    for url, params in urls:
        started = time.monotonic()
        response = await client.get(url, params=params)
        results.append((response.status_code, time.monotonic() - started))
    return results


def positions(token: str, count: int, start: int) -> list[dict[str, str]]:
    """OsmAnd query strings of one phone walking east, one a second from epoch `start`."""
    return [
        {"id": token, "lat": "30.9", "lon": f"{120.6 + n * 1e-5:.5f}", "timestamp": str(start + n)}
        for n in range(count)
    ]


async def _run(service: Server, slow: int, requests: int, epoch: int) -> list[object]:
    """One measurement: `slow` slow clients, and the timed requests beside them."""
    sources = [
        f"127.0.{1 + n // (PER_ADDRESS * 250)}.{10 + n // PER_ADDRESS % 250}" for n in range(slow)
    ]
    attack = [
        asyncio.create_task(
            slow_client(
                service.http if n % 2 else service.osmand,
                source,
                byte_every_s=0.5,
                give_up_s=HEADER_S + 2,
            )
        )
        for n, source in enumerate(sources)
    ]
    await asyncio.sleep(1.0)
    urls: list[tuple[str, dict[str, str]]] = [(f"{service.http}/healthz", {})] * requests
    live = [(service.osmand, p) for p in positions(SZ_PHONE_TOKEN, requests, epoch)]
    async with httpx.AsyncClient(timeout=30) as client:
        health = await timed_requests(client, urls)
        stored = await timed_requests(client, live)
    results: list[SlowResult] = list(await asyncio.gather(*attack))
    closed = [r.closed_after_s for r in results if r.closed_after_s is not None]
    row: list[object] = [slow]
    for measured in (health, stored):
        seconds = np.array([s for _, s in measured]) * 1000
        ok = sum(status == 200 for status, _ in measured)
        row.append(
            f"{np.percentile(seconds, 50):.1f} / {np.percentile(seconds, 99):.1f} / "
            f"{seconds.max():.1f} ms ({ok}/{len(measured)} ok)"
        )
    row.append(
        f"{len(closed)} of {slow}" + (f", median {np.median(closed):.1f} s" if closed else "")
    )
    return row


def main(argv: Sequence[str] | None = None) -> None:
    """Run the measurements and print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--slow", default="0,50,500")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--no-timeouts", action="store_true")
    parser.add_argument("--quick", action="store_true", help="0 and 50 slow clients, 50 requests")
    args = parser.parse_args(argv)
    if args.quick:
        args.slow, args.requests = "0,50", 50
    url = database.create(DATABASE, resolved_incidents=0)
    settings = {
        "http_header_timeout_s": "86400" if args.no_timeouts else str(HEADER_S),
        "log_level": "warning",
        "maintenance_seconds": "0",
    }
    rows = []
    try:
        with tempfile.TemporaryDirectory() as folder:
            data, log = Path(folder) / "data", Path(folder) / "service.log"
            serve = [sys.executable, "-m", "geo_patrol", "serve"]
            with running_service(url, data, log, settings=settings, command=serve) as service:
                epoch = int(time.time()) - 86_400
                for number, slow in enumerate(int(n) for n in args.slow.split(",")):
                    start = epoch + number * 10 * args.requests
                    rows.append(asyncio.run(_run(service, slow, args.requests, start)))
    finally:
        database.drop(url)
    print(
        "| slow clients | /healthz p50 / p99 / max | live position p50 / p99 / max | "
        f"slow clients closed by the service within {HEADER_S + 2:g} s |"
    )
    print("|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(str(cell) for cell in row) + " |")


if __name__ == "__main__":
    main()
