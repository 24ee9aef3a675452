"""Slow clients against the real service: /healthz and live positions beside them.

`python -m bench.slow_clients [--slow 0,50,500] [--requests 200]` starts `geo-patrol serve`
on a database of its own (the demo loaded), opens that many clients that send a request
head a byte every 0.5 s (spread over loopback addresses, 50 each, half on each port), and
times /healthz and live OsmAnd positions sent one after another from another address. Then
it reports how many of the slow clients the service had closed 2 s after the header
timeout. With `--no-timeouts` the header timeout is set to a day (the service as it was).
Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
import psycopg
from sqlalchemy.engine import make_url

from tests.support.database import fresh_demo_database
from tests.support.principals import SZ_PHONE_TOKEN
from tests.support.service import Service, start_service
from tests.support.slow_clients import SlowResult, positions, slow_client, timed_requests

DATABASE = "geo_patrol_bench_slow"
HEADER_S = 10.0
PER_ADDRESS = 50


async def _run(service: Service, slow: int, requests: int, epoch: int) -> list[object]:
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


def main() -> None:
    """Run the measurements and print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--slow", default="0,50,500")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--no-timeouts", action="store_true")
    args = parser.parse_args()
    url = fresh_demo_database(DATABASE)
    settings = {
        "http_header_timeout_s": "86400" if args.no_timeouts else str(HEADER_S),
        "log_level": "warning",
    }
    rows = []
    try:
        with tempfile.TemporaryDirectory() as folder:
            service = start_service(url, Path(folder), settings=settings)
            try:
                epoch = int(time.time()) - 86_400
                for number, slow in enumerate(int(n) for n in args.slow.split(",")):
                    start = epoch + number * 10 * args.requests
                    rows.append(asyncio.run(_run(service, slow, args.requests, start)))
            finally:
                service.stop()
    finally:
        _drop(url)
    print(
        "| slow clients | /healthz p50 / p99 / max | live position p50 / p99 / max | "
        f"slow clients closed by the service within {HEADER_S + 2:g} s |"
    )
    print("|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(str(cell) for cell in row) + " |")


def _drop(url: str) -> None:
    """Drop the benchmark's database."""
    parsed = make_url(url)
    server = parsed.set(drivername="postgresql", database="postgres")
    with psycopg.connect(server.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')


if __name__ == "__main__":
    main()
