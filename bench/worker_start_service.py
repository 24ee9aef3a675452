"""Upload time of a small GPX file against the real service, started both ways.

    .venv/bin/python -m bench.worker_start_service [--tree PATH] [--runs 20]

On a fresh demo database of the test cluster, the service is started as `python -m
geo_patrol serve` and then as the venv's `geo-patrol serve` console script (the tree under
test on PYTHONPATH); each gets one upload that starts its forkserver ("first"), then `--runs`
uploads of distinct three-fix files, each read in a worker and stored (201). Prints the
first and the median in ms; the difference between trees is the worker's start.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx
from sqlalchemy import text

from geo_patrol.db.engine import make_engine, make_sessionmaker
from tests.support.database import fresh_demo_database
from tests.support.principals import headers_for
from tests.support.service import LOOPBACK, Service, free_port

ROOT = Path(__file__).resolve().parent.parent
POINT = b'<trkpt lat="30.9" lon="120.%d"><time>2024-01-01T00:00:00Z</time></trkpt>'


def gpx(number: int) -> bytes:
    """A three-fix file of its own (the service stores the same file once)."""
    return b"<gpx><trk><trkseg>" + POINT % (100 + number) * 3 + b"</trkseg></trk></gpx>"


def main() -> None:
    """Print a Markdown table row per way of starting the service."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", type=Path, default=ROOT, help="checkout to measure")
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    url = fresh_demo_database("geo_patrol_worker_start")
    engine = make_engine(url)
    with make_sessionmaker(engine)() as session, session.begin():
        headers = headers_for(session)["sz.patrol"]
        team = session.execute(
            text("SELECT id FROM teams WHERE name = '联合巡河队一队'")
        ).scalar_one()
    engine.dispose()
    entries = {
        "python -m geo_patrol serve": [sys.executable, "-m", "geo_patrol", "serve"],
        "geo-patrol serve": [str(Path(sys.executable).parent / "geo-patrol"), "serve"],
    }
    print("| started by | first upload ms | upload median ms | statuses |\n|---|---|---|---|")
    for index, (name, command) in enumerate(entries.items()):
        service = _start(command, url, Path(f"/tmp/bench-worker-start-{index}"), args.tree)
        try:
            times: list[float] = []
            statuses: set[int] = set()
            with httpx.Client(timeout=60) as client:
                for number in range(args.runs + 1):
                    start = time.perf_counter()
                    response = client.post(
                        f"{service.http}/api/v1/patrols",
                        headers=headers,
                        data={"team_id": str(team)},
                        files={"file": ("t.gpx", gpx(index * 1000 + number))},
                    )
                    times.append((time.perf_counter() - start) * 1000)
                    statuses.add(response.status_code)
        finally:
            service.stop()
        median = statistics.median(times[1:])
        print(f"| {name} | {times[0]:.0f} | {median:.1f} | {sorted(statuses)} |")


def _start(command: list[str], url: str, folder: Path, tree: Path) -> Service:
    """The service started by `command`, up."""
    folder.mkdir(exist_ok=True)
    http_port, osmand_port = free_port(), free_port()
    environment = {
        **os.environ,
        "PYTHONPATH": str(tree.resolve()),
        "GEO_PATROL_DATABASE_URL": url,
        "GEO_PATROL_DATA_DIR": str(folder / "data"),
        "GEO_PATROL_HOST": LOOPBACK,
        "GEO_PATROL_PORT": str(http_port),
        "GEO_PATROL_OSMAND_PORT": str(osmand_port),
        "GEO_PATROL_MAINTENANCE_SECONDS": "0",
    }
    log = folder / "service.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, cwd=folder, env=environment, stdout=out, stderr=subprocess.STDOUT
        )
    service = Service(f"http://{LOOPBACK}:{http_port}", "", process, log)
    service.wait_until_up()
    return service


if __name__ == "__main__":
    main()
