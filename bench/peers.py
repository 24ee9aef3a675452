"""Honest peers in the same run (issue 17, item 4): four comparisons and the peer table.

    .venv/bin/python -m bench peers            # upload 1M (1 round), routing 1M (3); ~15 min
    .venv/bin/python -m bench peers --quick    # upload 100k, routing 100k, short load runs

1. upload -> stored and attributed (ours) against `ogr2ogr` GPX -> PostGIS by COPY + the SQL of
   per-county lengths (bench.ogr_peer), and against in-memory GeoPandas (bench.peer);
2. the report API against a bare FastAPI endpoint doing one INSERT (bench.bare): closed-loop
   throughput, and the p95 at a fixed open-loop rate of 100 reports/s (bench.report_api);
3. batch routing against GeoPandas `sjoin` (bench.routing), identical codes;
4. live positions, 100 phones flat out (bench.live): rate, p99, nothing lost.

Ours and its peer alternate run by run (medians), so the shared machine's load falls on
both. One database (geo_patrol_bench_peers), made fresh and dropped at the end. Prints
Markdown tables and writes them to bench/results/peers.md.
"""

from __future__ import annotations

import argparse
import functools
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from sqlalchemy import text

from bench import database, live, report, report_api, routing, service, targets
from bench.run import ROOT, Printer, print_upload, upload_benchmark
from geo_patrol.db.engine import make_engine

NAME = "geo_patrol_bench_peers"
RESULTS = ROOT / "bench" / "results" / "peers.md"
PARTS = ("upload", "routing", "report", "live")
REPORT_CLIENTS = 32
OPEN_RATE = 100.0
LIVE_PHONES = 100


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="100k points, 5 s load runs")
    parser.add_argument("--runs", type=int, default=3, help="runs of each, alternating")
    parser.add_argument(
        "--upload-runs", type=int, help="upload rounds (default 1 at 1M points, else 3)"
    )
    parser.add_argument("--workers", type=int, default=2, help="service worker processes")
    parser.add_argument("--points", type=int, help="upload and routing size (default 1M)")
    parser.add_argument("--only", help=f"comma-separated parts of {','.join(PARTS)}")
    return parser.parse_args(argv)


COMMAND = ["python -m bench peers"]  # the command line, for the header


def header() -> str:
    """When, what and how loaded."""
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    one, five, fifteen = os.getloadavg()
    return (
        f"_{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, commit {commit or '?'}, {os.cpu_count()} CPUs "
        f"(shared), load average {one:.2f} / {five:.2f} / {fifteen:.2f}; "
        f"`{' '.join(COMMAND)}`._"
    )


# -- 1. upload ---------------------------------------------------------------------------


def upload_part(
    url: str, work: Path, points: int, runs: int | None, say: Printer
) -> list[targets.Verdict]:
    """Ours, ogr2ogr + SQL and GeoPandas, alternating."""
    results = upload_benchmark(url, work, [points], None, say, runs=runs)
    print_upload(results, say)
    return targets.upload_verdicts(points, results[points])


# -- 2. routing --------------------------------------------------------------------------


def routing_part(url: str, points: int, runs: int, say: Printer) -> list[targets.Verdict]:
    """Batch routing against GeoPandas sjoin (bench.routing's comparison)."""
    polygons = routing.demo_polygons()
    engine = make_engine(url)
    try:
        routing.warm_up(engine, polygons)
        row = routing.batch(engine, polygons, points, runs)
    finally:
        engine.dispose()
    a = row.agreement
    say(
        "### Batch routing against GeoPandas sjoin\n\n"
        + report.table(
            ("points", "runs", "ours s", "GeoPandas s", "speed-up", "same code", "identical"),
            [
                [
                    f"{points:,}",
                    str(runs),
                    f"{row.ours_s:.2f}",
                    f"{row.peer_s:.2f}",
                    f"{row.peer_s / row.ours_s:.2f}×",
                    f"{a.same:,}",
                    "yes" if a.identical else "NO",
                ]
            ],
        )
    )
    return [targets.routing_verdict(points, row.ours_s, row.peer_s, a.identical)]


# -- 3. the report API -------------------------------------------------------------------


def _bodies(points: tuple[np.ndarray, np.ndarray], prefix: str) -> report_api.Bodies:
    """Request number -> a floating-waste report at the next point, with a unique client id."""
    lons, lats = points[0].tolist(), points[1].tolist()

    def body(number: int) -> dict[str, object]:
        i = number % len(lons)
        return {
            "category": "floating_waste",
            "severity": "low",
            "lon": lons[i],
            "lat": lats[i],
            "client_id": f"{prefix}-{number}",
        }

    return body


def _address(server: service.Server) -> tuple[str, int]:
    host, port = server.http.rsplit(":", 1)
    return host.removeprefix("http://"), int(port)


def report_part(
    url: str, work: Path, runs: int, workers: int, seconds: float, say: Printer
) -> list[targets.Verdict]:
    """Both servers up at once; closed loop ours, bare, then open loop ours, bare; repeated."""
    points = routing.inside_points(routing.counties(routing.demo_polygons()), routing.API_POINTS)
    loads: list[report_api.ApiLoad] = []
    bare_command = [sys.executable, "-m", "bench.bare"]
    with (
        service.running_service(url, work, work / "ours.log", workers, quiet=True) as ours,
        service.running_service(
            url, work, work / "bare.log", workers, quiet=True, command=bare_command
        ) as bare,
    ):
        tokens: list[str | None] = [
            routing.api_token(ours, f"bench peers {n}") for n in range(REPORT_CLIENTS)
        ]
        sides: dict[str, tuple[tuple[str, int], list[str | None]]] = {
            "ours": (_address(ours), tokens),
            "bare": (_address(bare), [None]),
        }
        for name, (address, keys) in sides.items():  # warm up: connections, caches
            load = report_api.ApiLoad(f"{name}-warm", "warm")
            warm = keys[:4] if name == "ours" else keys * 4
            _closed(address, warm, f"warm-{name}", load, 1.0, points)
        for run in range(runs):
            for name, (address, keys) in sides.items():
                clients = keys if name == "ours" else keys * REPORT_CLIENTS
                load = report_api.ApiLoad(name, f"closed, {REPORT_CLIENTS} clients")
                loads.append(_closed(address, clients, f"{name}-c{run}", load, seconds, points))
            for name, (address, keys) in sides.items():
                load = report_api.ApiLoad(name, f"open, {OPEN_RATE:.0f}/s")
                body = _bodies(points, f"peers-{name}-o{run}")
                report_api.run(
                    functools.partial(
                        report_api.open_loop,
                        address,
                        keys,
                        body,
                        rate=OPEN_RATE,
                        seconds=2 * seconds,
                        load=load,
                    )
                )
                loads.append(load)
    stored = _stored(url)
    say("### Report API against the bare endpoint\n\n" + _report_table(loads, stored))
    closed = {s: [x.rate for x in loads if x.name == s and "closed" in x.mode] for s in sides}
    opened = [x for x in loads if x.name == "ours" and "open" in x.mode]
    p95 = statistics.median(x.percentile_ms(95) for x in opened)
    errors = sum(x.errors for x in opened)
    return targets.report_verdicts(closed["ours"], closed["bare"], p95, errors)


def _closed(
    address: tuple[str, int],
    tokens: list[str | None],
    prefix: str,
    load: report_api.ApiLoad,
    seconds: float,
    points: tuple[np.ndarray, np.ndarray],
) -> report_api.ApiLoad:
    body = _bodies(points, f"peers-{prefix}")
    report_api.run(lambda: report_api.closed_loop(address, tokens, body, seconds, load))
    return load


def _stored(url: str) -> dict[str, int]:
    """Reports stored by each side (their client ids start with peers-ours / peers-bare)."""
    engine = make_engine(url)
    with engine.connect() as conn:
        ours = conn.execute(
            text("SELECT count(*) FROM incidents WHERE client_id LIKE 'peers-ours-%'")
        ).scalar_one()
        bare = conn.execute(
            text("SELECT count(*) FROM bench_bare_reports WHERE client_id LIKE 'peers-bare-%'")
        ).scalar_one()
    engine.dispose()
    return {"ours": int(ours), "bare": int(bare)}


def _report_table(loads: list[report_api.ApiLoad], stored: dict[str, int]) -> str:
    rows = [
        [
            x.name,
            x.mode,
            f"{x.seconds:.1f}",
            f"{x.created:,}",
            str(x.errors),
            f"{x.rate:,.0f}",
            f"{x.percentile_ms(50):.1f}",
            f"{x.percentile_ms(95):.1f}",
            f"{x.percentile_ms(99):.1f}",
            f"{x.percentile_ms(99, x.late_s):.1f}" if x.late_s else "—",
        ]
        for x in loads
    ]
    created = {s: sum(x.created for x in loads if x.name == s) for s in stored}
    note = ", ".join(
        f"{s}: {stored[s]:,} stored of {created[s]:,} answered 201" for s in ("ours", "bare")
    )
    headers = (
        "server",
        "load",
        "seconds",
        "201",
        "errors",
        "reports/s",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "generator late p99 ms",
    )
    return report.table(headers, rows) + f"\n\n{note} (warm-up runs not counted)."


# -- 4. live positions -------------------------------------------------------------------


def live_part(
    url: str, work: Path, runs: int, workers: int, seconds: float, say: Printer
) -> list[targets.Verdict]:
    """100 phones flat out, `runs` times on a fresh server each; the median run by rate."""
    devices = database.issue_devices(url, LIVE_PHONES)
    ids = [device_id for device_id, _ in devices]
    phones = [live.Phone(token, seed=i) for i, (_, token) in enumerate(devices)]
    done = []
    for number in range(runs):
        before = database.count_live_points(url, ids)
        with service.running_service(url, work, work / f"live-{number}.log", workers) as server:
            server_cpu, client_cpu = live.cpu_seconds(server.process.pid), live.cpu_seconds()
            mode = f"{LIVE_PHONES} phones, flat out"
            result = live.run_load(server.osmand, phones, seconds=seconds, rate=None, mode=mode)
            server_cpu = live.cpu_seconds(server.process.pid) - server_cpu
            client_cpu = live.cpu_seconds() - client_cpu
        stored = database.count_live_points(url, ids) - before
        done.append(
            live.LiveRun(
                result,
                LIVE_PHONES,
                None,
                stored,
                100 * server_cpu / result.seconds,
                100 * client_cpu / result.seconds,
            )
        )
    say(
        f"### Live positions, {LIVE_PHONES} phones flat out ({runs} runs)\n\n"
        + report.table(report.LIVE_HEADERS, report.live_rows(done))
    )
    median = sorted(done, key=lambda r: r.result.ok / r.result.seconds)[len(done) // 2]
    return [targets.live_verdict(median)]


# -- the run -----------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> None:
    """All four comparisons on one fresh database; the peer table at the end."""
    args = parse_args(argv)
    COMMAND[1:] = list(argv or [])
    parts = args.only.split(",") if args.only else list(PARTS)
    points = args.points or (100_000 if args.quick else 1_000_000)
    seconds = 5.0 if args.quick else 10.0
    say = Printer()
    say(f"## Honest peers\n\n{header()}")
    started = time.monotonic()
    verdicts: list[targets.Verdict] = []
    with tempfile.TemporaryDirectory(prefix="geo-patrol-peers-") as folder:
        work = Path(folder)
        url = database.create(NAME)
        try:
            if "upload" in parts:
                verdicts += upload_part(url, work, points, args.upload_runs, say)
            if "routing" in parts:
                verdicts += routing_part(url, points, args.runs, say)
            if "report" in parts:
                verdicts += report_part(url, work, args.runs, args.workers, seconds, say)
            if "live" in parts:
                verdicts += live_part(url, work, args.runs, args.workers, 2 * seconds, say)
        finally:
            database.drop(url)
    say(
        "### The peer table\n\n"
        + report.table(targets.HEADERS, [v.row() for v in verdicts])
        + f"\n\n{header()} Total {time.monotonic() - started:.0f} s."
    )
    say.save(RESULTS)


if __name__ == "__main__":
    main(sys.argv[1:])
