"""Upload time of a small GPX file against the real service, started both ways.

    .venv/bin/python -m bench worker_start_service [--tree PATH] [--runs 20] [--quick]

On a fresh demo database of the test cluster, the service is started as `python -m
geo_patrol serve` and then as the venv's `geo-patrol serve` console script (the tree under
test on PYTHONPATH); each gets one upload that starts its forkserver ("first"), then `--runs`
uploads of distinct three-fix files, each read in a worker and stored (201). Prints the
first and the median in ms; the difference between trees is the worker's start.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import httpx

from bench import database
from bench.service import running_service

ROOT = Path(__file__).resolve().parent.parent
DATABASE = "geo_patrol_worker_start"
POINT = b'<trkpt lat="30.9" lon="120.%d"><time>2024-01-01T00:00:00Z</time></trkpt>'


def gpx(number: int) -> bytes:
    """A three-fix file of its own (the service stores the same file once)."""
    return b"<gpx><trk><trkseg>" + POINT % (100 + number) * 3 + b"</trkseg></trk></gpx>"


def main(argv: Sequence[str] | None = None) -> None:
    """Print a Markdown table row per way of starting the service."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", type=Path, default=ROOT, help="checkout to measure")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--quick", action="store_true", help="3 uploads a way")
    args = parser.parse_args(argv)
    runs = 3 if args.quick else args.runs
    url = database.create(DATABASE, resolved_incidents=0)
    try:
        headers = database.api_headers(url, "sz.patrol")
        team = database.team_id(url)
        entries = {
            "python -m geo_patrol serve": [sys.executable, "-m", "geo_patrol", "serve"],
            "geo-patrol serve": [str(Path(sys.executable).parent / "geo-patrol"), "serve"],
        }
        print("| started by | first upload ms | upload median ms | statuses |\n|---|---|---|---|")
        for index, (name, command) in enumerate(entries.items()):
            folder = Path(f"/tmp/bench-worker-start-{index}")
            folder.mkdir(exist_ok=True)
            with running_service(
                url,
                folder / "data",
                folder / "service.log",
                settings={"maintenance_seconds": "0"},
                command=command,
                tree=args.tree,
            ) as server:
                times, statuses = _uploads(server.http, headers, team, index, runs)
            median = statistics.median(times[1:])
            print(f"| {name} | {times[0]:.0f} | {median:.1f} | {sorted(statuses)} |")
    finally:
        database.drop(url)


def _uploads(
    base: str, headers: dict[str, str], team: int, index: int, runs: int
) -> tuple[list[float], set[int]]:
    """`runs` + 1 uploads of distinct files: their times in ms, and the statuses seen."""
    times: list[float] = []
    statuses: set[int] = set()
    with httpx.Client(timeout=60) as client:
        for number in range(runs + 1):
            start = time.perf_counter()
            response = client.post(
                f"{base}/api/v1/patrols",
                headers=headers,
                data={"team_id": str(team)},
                files={"file": ("t.gpx", gpx(index * 1000 + number))},
            )
            times.append((time.perf_counter() - start) * 1000)
            statuses.add(response.status_code)
    return times, statuses


if __name__ == "__main__":
    main()
