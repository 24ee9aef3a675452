"""Peak memory of reading each track format, and of the hostile KMZ files of issue 12.

    .venv/bin/python -m bench memory                      # this tree, 3 runs a case
    .venv/bin/python -m bench memory --tree /path/to/main # another checkout (the "before")
    .venv/bin/python -m bench memory --points 100000 --runs 5
    .venv/bin/python -m bench memory --quick              # 50,000 fixes, one run (./run bench)
    .venv/bin/python -m bench memory --only GeoJSON       # the cases whose label has the text

Each run is a fresh Python process (the tree under test first on its path) that imports the
readers, reads the file's bytes, resets its peak (`/proc/self/clear_refs`), then calls
`parse_track` as the service did before issue 12 (in the process itself); the peak resident
memory above the process just before the call (`VmHWM` − `VmRSS`) is the figure, with the
wall time and the outcome. Where the tree has `geo_patrol.patrols.track.worker` (after issue 12),
a second figure is the same file read as the service reads it now: `parse_upload` in a
worker process, the calling process's peak (what stays in the service) and the worker's own
peak (its `VmHWM`, as it reports it), the worker exiting after.

The files: a valid walk of `--points` fixes (one a second, 1.4 m apart) in each format, as
`bench.hostile_files.dense_track` writes it; the hostile KMZ of the issue (placemarks of
coordinate texts just under libxml2's 10 MB limit, 195 MiB unpacked, the last coordinate out
of range) and the whitespace one (a three-fix track and 190 MiB of whitespace), and both
again at 45 MB, under the unpacked cap, so that they are read to the end. Prints a
Markdown table of medians (bench/README.md holds the last one).
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from bench.hostile_files import dense_kmz, dense_track, whitespace_kmz

ROOT = Path(__file__).resolve().parent.parent
MB = 1_000_000

_MEASURE = """
import json, sys, time
from pathlib import Path
from geo_patrol.core.errors import GeoPatrolError
from geo_patrol.patrols.track.read import parse_track
import geo_patrol.patrols.track.formats.gpx_fast
import geo_patrol.patrols.track.formats.kml
import geo_patrol.patrols.track.formats.geojson_file
data = Path({path!r}).read_bytes()
def status(field):
    return next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith(field))
mode = {mode!r}
if mode == "worker":
    from geo_patrol.patrols.track.worker import ParseLimits, parse_upload
    limits = ParseLimits(max_unpacked_bytes=50_000_000, memory_bytes=2**31, timeout_s=600)
    parse_upload(b"lon,lat\\n1,1\\n", filename="warm.csv", datum="wgs84", csv_options=None,
                 limits=limits, isolated=True)  # the forkserver started before the clock
Path("/proc/self/clear_refs").write_text("5")
baseline = status("VmRSS")
worker_kb = 0
start = time.perf_counter()
try:
    if mode == "worker":
        import geo_patrol.patrols.track.worker as worker
        log = []
        worker.log.debug = lambda msg, name, kb: log.append(kb)
        worker.log.isEnabledFor = lambda level: True
        parse_upload(data, filename={name!r}, datum="wgs84", csv_options=None, limits=limits,
                     isolated=True)
        worker_kb = log[0] if log else 0
    else:
        parse_track(data, filename={name!r})
    outcome = "ok"
except GeoPatrolError as error:
    outcome = f"{{error.status}}"
seconds = time.perf_counter() - start
print(json.dumps({{"outcome": outcome, "peak_kb": status("VmHWM") - baseline,
                  "worker_kb": worker_kb, "seconds": seconds}}))
"""


def run_once(tree: Path, path: Path, name: str, mode: str) -> dict[str, object]:
    """One measurement in a fresh process, the tree under test first on its path."""
    script = _MEASURE.format(path=str(path), name=name, mode=mode)
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=1800,
        cwd=tree,
        env={**os.environ, "PYTHONPATH": str(tree)},
    )
    if done.returncode:
        return {"outcome": f"crash {done.returncode}", "peak_kb": 0, "worker_kb": 0, "seconds": 0}
    answer: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return answer


def cases(points: int) -> list[tuple[str, str, Callable[[], bytes]]]:
    """(label, file name, maker) of every file measured."""
    made: list[tuple[str, str, Callable[[], bytes]]] = [
        (
            f"{fmt.upper()} {points:,} fixes",
            f"walk.{fmt}",
            functools.partial(dense_track, fmt, points),
        )
        for fmt in ("gpx", "kml", "kmz", "geojson", "csv")
    ]
    made.append(("hostile KMZ: 195 MiB of near-limit coordinates", "dense.kmz", dense_kmz))
    made.append(("hostile KMZ: 190 MiB of whitespace", "whitespace.kmz", whitespace_kmz))
    under = functools.partial(dense_kmz, 45 * MB)
    made.append(("hostile KMZ under the cap: 45 MB of near-limit coordinates", "d45.kmz", under))
    spaces = functools.partial(whitespace_kmz, 45 * MB)
    made.append(("hostile KMZ under the cap: 45 MB of whitespace", "w45.kmz", spaces))
    return made


def _median(runs: list[dict[str, object]], key: str) -> float:
    """Median of one figure over the runs."""
    return statistics.median(float(str(run[key])) for run in runs)


def main(argv: Sequence[str] | None = None) -> None:
    """Measure every case and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tree", type=Path, default=ROOT, help="checkout to measure")
    parser.add_argument("--points", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="50,000 fixes, one run a case")
    parser.add_argument("--only", default="", help="measure the cases whose label has this")
    # `./run bench --workers 2` hands its arguments to every benchmark; no service here.
    parser.add_argument("--workers", type=int, default=1, help="ignored (no service is run)")
    args = parser.parse_args(argv)
    if args.quick:
        args.points, args.runs = 50_000, 1
    tree = args.tree.resolve()
    worker = (tree / "geo_patrol" / "patrols" / "track" / "worker.py").exists()
    print(f"tree: {tree} ({'with' if worker else 'without'} the parse worker)\n")
    head = "| file | input MB | outcome | in-process peak MB | per input MB | seconds |"
    rule = "|---|---|---|---|---|---|"
    if worker:
        head += " service peak MB (worker) | worker peak MB |"
        rule += "---|---|"
    print(head)
    print(rule)
    with tempfile.TemporaryDirectory() as folder:
        for label, name, make in cases(args.points):
            if args.only.lower() not in label.lower():
                continue
            path = Path(folder) / name
            path.write_bytes(make())
            size = path.stat().st_size / MB
            runs = [run_once(tree, path, name, "inprocess") for _ in range(args.runs)]
            peak = _median(runs, "peak_kb") / 1024
            row = (
                f"| {label} | {size:.2f} | {runs[0]['outcome']} | {peak:.0f} | "
                f"{peak / size:.1f} | {_median(runs, 'seconds'):.2f} |"
            )
            if worker:
                isolated = [run_once(tree, path, name, "worker") for _ in range(args.runs)]
                row += (
                    f" {_median(isolated, 'peak_kb') / 1024:.0f} |"
                    f" {_median(isolated, 'worker_kb') / 1024:.0f} |"
                )
            print(row, flush=True)


if __name__ == "__main__":
    main()
