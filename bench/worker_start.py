"""How long a parse worker takes to start, as the service is started each way.

    .venv/bin/python -m bench worker_start                      # this tree, 20 runs an entry
    .venv/bin/python -m bench worker_start --tree /path/to/old  # another checkout (before)
    .venv/bin/python -m bench worker_start --runs 50 --subprocess

The figure is the wall time of `parse_upload(..., isolated=True)` on a three-fix GPX file
(start a worker, send it the file, get the arrays back, the worker exits and is joined),
median of `--runs`, after a first upload that starts the forkserver (its own time is
printed as "first"); "in process" is the same file read without a worker.

Each entry runs in a fresh Python process whose `__main__` is what that entry leaves, which
is all multiprocessing looks at when it prepares a worker (`__main__.__spec__.name` and
`__main__.__file__`), with what it imports imported: `python -m geo_patrol serve` (the
package's `__main__`), the `geo-patrol` console script (a script importing
`geo_patrol.cli.app`), and pytest — that one for real: a test file run by the venv's `pytest`
script. `--subprocess` also times option 3 of the issue: a plain `python -c` child that
imports the readers and reads the file (no forkserver).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent

_MEASURE = """
import importlib.util, json, statistics, subprocess, sys, time
entry = {entry!r}
main = sys.modules["__main__"]
if entry == "python -m geo_patrol":
    main.__spec__ = importlib.util.find_spec("geo_patrol.__main__")
    main.__file__ = main.__spec__.origin
    import geo_patrol.cli.app
elif entry == "geo-patrol":
    main.__file__ = {script!r}
    import geo_patrol.cli.app
from geo_patrol.patrols.track.worker import ParseLimits, parse_upload
DATA = (b'<gpx><trk><trkseg>' + b''.join(
    b'<trkpt lat="30.9" lon="120.%d"><time>2024-01-01T00:00:0%dZ</time></trkpt>' % (i, i)
    for i in range(3)) + b'</trkseg></trk></gpx>')
LIMITS = ParseLimits(max_unpacked_bytes=50_000_000, memory_bytes=2**30, timeout_s=60)
def timed(isolated):
    start = time.perf_counter()
    parse_upload(DATA, filename="t.gpx", datum="wgs84", csv_options=None, limits=LIMITS,
                 isolated=isolated)
    return (time.perf_counter() - start) * 1000
CHILD = ("import sys; from geo_patrol.patrols.track.read import parse_track; "
         "parse_track(sys.stdin.buffer.read(), filename='t.gpx', max_uncompressed_bytes=10**7)")
def child():
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", CHILD], input=DATA, check=True)
    return (time.perf_counter() - start) * 1000
def measure():
    first = timed(True)
    runs = [timed(True) for _ in range({runs})]
    here = statistics.median(timed(False) for _ in range({runs}))
    sub = statistics.median(child() for _ in range({runs})) if {subprocess} else None
    print(json.dumps({{"entry": entry, "first": first, "median": statistics.median(runs),
                      "max": max(runs), "in_process": here, "subprocess": sub}}))
if entry != "pytest":
    measure()
"""


def run(entry: str, tree: Path, runs: int, with_subprocess: bool) -> dict[str, object]:
    """The figures of one entry, measured in a fresh process."""
    code = _MEASURE.format(
        entry=entry,
        script=str(BIN / "geo-patrol"),
        runs=runs,
        subprocess=with_subprocess,
    )
    with tempfile.TemporaryDirectory() as scratch:
        if entry == "pytest":
            test = Path(scratch) / "test_worker_start.py"
            test.write_text(code + "\ndef test_measure():\n    measure()\n")
            command = [str(BIN / "pytest"), "-q", "-s", "-p", "no:cacheprovider", str(test)]
        else:
            command = [sys.executable, "-c", code]
        env = {**os.environ, "PYTHONPATH": str(tree)}
        done = subprocess.run(
            command, capture_output=True, text=True, cwd=scratch, env=env, check=False
        )
    lines = [line for line in done.stdout.splitlines() if line.startswith('{"entry"')]
    if not lines:
        raise SystemExit(f"{entry}: no figures\n{done.stdout}\n{done.stderr}")
    figures: dict[str, object] = json.loads(lines[0])
    return figures


def main(argv: Sequence[str] | None = None) -> None:
    """Print a Markdown table of the figures of the three entries."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", type=Path, default=ROOT, help="checkout to measure")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--subprocess", action="store_true", help="also time option 3")
    parser.add_argument("--quick", action="store_true", help="3 runs an entry")
    args = parser.parse_args(argv)
    if args.quick:
        args.runs = 3
    print(
        "| started by | first upload ms | worker median ms | worker max ms | in process ms"
        + (" | plain subprocess ms |" if args.subprocess else " |")
    )
    print("|---|---|---|---|---|" + ("---|" if args.subprocess else ""))
    for entry in ("python -m geo_patrol", "geo-patrol", "pytest"):
        f = run(entry, args.tree.resolve(), args.runs, args.subprocess)
        cells = [
            f"{f['first']:.0f}",
            f"{f['median']:.1f}",
            f"{f['max']:.1f}",
            f"{f['in_process']:.1f}",
        ]
        if args.subprocess:
            cells.append(f"{f['subprocess']:.0f}")
        print(f"| {entry} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
