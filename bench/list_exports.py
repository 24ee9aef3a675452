"""Benchmark of list exports: every incident of a big list as CSV, XLSX, GeoPackage and
Shapefile, with the peak memory of the process that writes it.

    python -m bench list_exports [--incidents 200000] [--quick] [--keep]

A fresh database (the demo plus `--incidents` resolved incidents, bench.database) is made on
the test server. Each format is written in a process of its own through the route's own
path (exports.sources.incidents, then exports.writers.write, as an administrator): seconds,
file size, and how far the process's peak resident memory rose above what it held once the
modules were imported. "list in memory" is what the CSV route did before 0.4.0: the whole
list read into Python (list_incidents) and the CSV built as one string.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy.orm import Session

from bench import database
from bench.report import table
from geo_patrol.access.principal import command_line_principal
from geo_patrol.access.scope import Scope
from geo_patrol.db.engine import make_engine
from geo_patrol.exports import sources
from geo_patrol.exports.writers import ListFormat, write
from geo_patrol.incidents.queries import list_incidents

NAME = "geo_patrol_bench_list_exports"
HEADERS = ["format", "rows", "seconds", "file MB", "peak memory rise MB"]


def rss_mb() -> float:
    """This process's resident memory now (MB)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def peak_mb() -> float:
    """This process's peak resident memory since the last reset_peak() (MB)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def reset_peak() -> None:
    """Start the peak over from the memory held now (Linux: clear_refs 5), so that what the
    imports held and freed does not count."""
    Path("/proc/self/clear_refs").write_text("5")


def child(url: str, fmt: str) -> None:
    """Write the incidents in `fmt` (or build the old in-memory CSV) and print the figures."""
    engine = make_engine(url)
    reset_peak()
    base = rss_mb()
    started = time.perf_counter()
    with Session(engine) as session, tempfile.TemporaryDirectory() as folder:
        principal = command_line_principal()
        scope = Scope(everything=True)
        if fmt == "memory":
            rows = list_incidents(session, scope=scope, principal=principal, limit=10**9)
            text = "\n".join(",".join(str(v) for v in row.values()) for row in rows)
            count, size = len(rows), len(text.encode())
        else:
            request = sources.Request(scope=scope, principal=principal)
            table_ = sources.incidents(session, request, {})
            path = write(table_, Path(folder), ListFormat(fmt))
            count, size = -1, path.stat().st_size
    seconds = time.perf_counter() - started
    print(json.dumps({"rows": count, "seconds": seconds, "size": size, "rise": peak_mb() - base}))


def measure(url: str, fmt: str) -> dict[str, float]:
    """One format written in a process of its own."""
    done = subprocess.run(
        [sys.executable, "-m", "bench", "list_exports", "--child", fmt, "--url", url],
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main(argv: Sequence[str] | None = None) -> None:
    """Make the database, write each format, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--incidents", type=int, default=200_000)
    parser.add_argument("--quick", action="store_true", help="20,000 incidents")
    parser.add_argument("--keep", action="store_true", help="keep the database")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.url, args.child)
        return
    count = 20_000 if args.quick else args.incidents
    url = database.create(NAME, resolved_incidents=count)
    try:
        rows = []
        for fmt in ("memory", *(f.value for f in ListFormat)):
            got = measure(url, fmt)
            label = "list in memory (before 0.4.0)" if fmt == "memory" else fmt
            rows.append(
                [
                    label,
                    f"{count:,}",
                    f"{got['seconds']:.1f}",
                    f"{got['size'] / 1e6:.1f}",
                    f"{got['rise']:.0f}",
                ]
            )
            print(rows[-1], flush=True)
        print(table(HEADERS, rows))
    finally:
        if not args.keep:
            database.drop(url)
