"""Incident import: the bulk path against the single-report path, on the same rows.

    .venv/bin/python -m bench incident-import [--rows N] [--runs R] [--quick]

N reports at random points over the two demo counties (some outside both: unrouted), one
CSV export. Each run, in one process through the whole app (FastAPI's TestClient, no
network): (a) the bulk path, POST /api/v1/incidents/import of the file; (b) the single
path, POST /api/v1/incidents once per row, one after another. Both store the same reports
on a database with the demo region, emptied of incidents before each path (so neither finds
the other's reports as duplicates); the clock covers the requests only. Every row's stored
routing (lead, joint, zone, segment, tier, responsible sides) is compared between the two
paths. Prints a
Markdown table: medians of the runs, rows/s, and the bulk/single ratio.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import numpy as np
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from bench.database import api_headers, create, drop
from geo_patrol.api.app import create_app
from geo_patrol.core.settings import Settings
from geo_patrol.db.engine import make_engine

NAME = "geo_patrol_bench_incident_import"
SEED = 20261206
BOX = (120.55, 30.78, 120.77, 30.98)  # the demo counties' border region, with a margin
# Half an hour ago: deadlines still ahead, so no escalation changes a tier during the run.
WHEN = (datetime.now(UTC) - timedelta(minutes=30)).replace(second=0, microsecond=0)

ROUTING = """
SELECT {key} AS key, i.lead_code, i.is_joint, i.zone_id, i.segment_id, i.tier, i.unrouted,
       ARRAY(SELECT r.code || ':' || r.role FROM incident_responsibles r
             WHERE r.incident_id = i.id ORDER BY r.code) AS sides
FROM incidents i WHERE {where}
"""


def points(count: int) -> list[tuple[float, float]]:
    """Random points in the box (fixed seed), rounded as an export writes them."""
    rng = np.random.default_rng(SEED)
    lons = rng.uniform(BOX[0], BOX[2], count).round(6)
    lats = rng.uniform(BOX[1], BOX[3], count).round(6)
    return list(zip(lons.tolist(), lats.tolist(), strict=True))


def export(run: int, rows: list[tuple[float, float]]) -> bytes:
    """The rows as a hotline export (Chinese headers, China time)."""
    lines = ["工单编号,来源,受理时间,经度,纬度,诉求类型,诉求内容"]
    local = (WHEN + timedelta(hours=8)).strftime("%Y-%m-%d %H:%M")
    lines += [
        f"R{run}-{n},bench,{local},{lon},{lat},漂浮物,benchmark"
        for n, (lon, lat) in enumerate(rows)
    ]
    return ("\n".join(lines) + "\n").encode()


def bulk(client: TestClient, headers: dict[str, str], data: bytes) -> float:
    """Seconds of one import request."""
    started = time.perf_counter()
    answer = client.post(
        "/api/v1/incidents/import",
        files={"file": ("bench.csv", data, "text/csv")},
        headers=headers,
    )
    elapsed = time.perf_counter() - started
    assert answer.status_code == 200, answer.text
    return elapsed


def single(
    client: TestClient, headers: dict[str, str], run: int, rows: list[tuple[float, float]]
) -> float:
    """Seconds of one report request per row."""
    started = time.perf_counter()
    for n, (lon, lat) in enumerate(rows):
        answer = client.post(
            "/api/v1/incidents",
            json={
                "category": "floating_waste",
                "lon": lon,
                "lat": lat,
                "reported_at": WHEN.isoformat(),
                "client_id": f"R{run}-{n}",
            },
            headers=headers,
        )
        assert answer.status_code == 201, answer.text
    return time.perf_counter() - started


def stored_routing(engine: Engine, path: str) -> dict[str, tuple[object, ...]]:
    """Each stored report's routing by its id in the file, then the incidents emptied (so
    that the other path starts from the same database, and finds no duplicates of these)."""
    key, source = ("i.external_id", "import") if path == "bulk" else ("i.client_id", "api")
    with engine.begin() as conn:
        found = {
            row.key: tuple(row)[1:]
            for row in conn.execute(
                text(ROUTING.format(key=key, where="i.source = :source")), {"source": source}
            )
        }
        conn.execute(text("TRUNCATE incidents CASCADE"))
    return found


def main(argv: Sequence[str] | None = None) -> None:
    """Run the comparison and print the table."""
    parser = argparse.ArgumentParser(prog="python -m bench incident-import")
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="300 rows, 2 runs")
    args = parser.parse_args(argv)
    count, runs = (300, 2) if args.quick else (args.rows, args.runs)
    rows = points(count)
    url = create(NAME, resolved_incidents=0)
    try:
        headers = api_headers(url, "admin")
        times: dict[str, list[float]] = {"bulk": [], "single": []}
        engine = make_engine(url)
        compared = differing = 0
        with TestClient(create_app(Settings(database_url=url))) as client:
            for run in range(runs):
                times["bulk"].append(bulk(client, headers, export(run, rows)))
                imported = stored_routing(engine, "bulk")
                times["single"].append(single(client, headers, run, rows))
                reported = stored_routing(engine, "single")
                keys = imported.keys() & reported.keys()
                compared += len(keys)
                differing += sum(1 for key in keys if imported[key] != reported[key])
        engine.dispose()
    finally:
        drop(url)
    print_table(count, times, compared, differing)


def print_table(count: int, times: dict[str, list[float]], compared: int, differing: int) -> None:
    """Medians, rows/s and the ratio, as Markdown."""
    bulk_s, single_s = (statistics.median(times[path]) for path in ("bulk", "single"))
    print(f"| path ({count:,} rows, {len(times['bulk'])} runs) | median (s) | rows/s | ratio |")
    print("|---|---:|---:|---:|")
    print(
        f"| bulk: POST /api/v1/incidents/import | {bulk_s:.2f} | {count / bulk_s:,.0f} | "
        f"{single_s / bulk_s:.1f}× |"
    )
    print(
        f"| single: POST /api/v1/incidents per row | {single_s:.2f} | {count / single_s:,.0f} "
        "| 1.0× |"
    )
    print(f"\nrouting compared row by row: {compared:,} rows, {differing} differ")
