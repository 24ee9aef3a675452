"""The parse worker is another process, and starting one does not run the service's imports
again.

A stand-in service runs in a fresh Python process, started as a script (as the `geo-patrol`
console script starts it) and as `python -m` (as `python -m geo_patrol` does). Its main
imports a module that appends a line with its process id to a file when it is imported (the
service's heavy modules, seconds of imports in the real one), then reads files in workers.
multiprocessing prepares each worker by running the parent's main script again: without the
forkserver importing what it imports, that line would be written once per worker.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from geo_patrol.core.errors import FileTooLarge
from geo_patrol.patrols.track.worker import ParseLimits, parse_upload

ROOT = Path(__file__).resolve().parents[3]
UPLOADS = 4

SERVICE = """
import os
with open(os.environ["MARKS"], "a") as marks:
    marks.write(f"{os.getpid()}\\n")
"""

MAIN = f"""
import json, os, resource
import heavy_service
from geo_patrol.core.errors import FileTooLarge
from geo_patrol.patrols.track.worker import ParseLimits, parse_upload
from bench.hostile_files import dense_track

if __name__ == "__main__":
    point = b'<trkpt lat="30.9" lon="120.7"><time>2024-01-01T00:00:00Z</time></trkpt>'
    gpx = b"<gpx><trk><trkseg>" + point * 3 + b"</trkseg></trk></gpx>"
    before = resource.getrlimit(resource.RLIMIT_DATA)
    limits = ParseLimits(max_unpacked_bytes=50_000_000, memory_bytes=2**30, timeout_s=60)
    fixes = [len(parse_upload(gpx, filename="t.gpx", datum="wgs84", csv_options=None,
                              limits=limits, isolated=True).points.lon)
             for _ in range({UPLOADS})]
    small = ParseLimits(max_unpacked_bytes=50_000_000, memory_bytes=64 * 2**20, timeout_s=60)
    try:
        parse_upload(dense_track("csv", 1_000_000), filename="d.csv", datum="wgs84",
                     csv_options=None, limits=small, isolated=True)
        big = "read"
    except FileTooLarge as error:
        big = error.detail
    print(json.dumps({{"pid": os.getpid(), "fixes": fixes, "big": big,
                      "limit_kept": resource.getrlimit(resource.RLIMIT_DATA) == before}}))
"""


@pytest.mark.parametrize("started", ["script", "module"])
def test_workers_are_other_processes_that_do_not_import_the_main_again(
    started: str, tmp_path: Path
) -> None:
    (tmp_path / "heavy_service.py").write_text(SERVICE)
    (tmp_path / "svc").mkdir()
    (tmp_path / "svc" / "__main__.py").write_text(MAIN)
    (tmp_path / "main.py").write_text(MAIN)
    marks = tmp_path / "marks"
    env = {**os.environ, "MARKS": str(marks), "PYTHONPATH": os.pathsep.join([str(ROOT), "."])}
    command = [sys.executable, "main.py"] if started == "script" else [sys.executable, "-m", "svc"]
    run = subprocess.run(
        command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert run.returncode == 0, run.stderr
    answer = json.loads(run.stdout.strip().splitlines()[-1])
    # Read elsewhere: three fixes each time; the 64 MB limit stopped that process, not this one.
    assert answer["fixes"] == [3] * UPLOADS
    assert "needs more than 64 MB" in answer["big"], answer["big"]
    assert answer["limit_kept"]
    importers = marks.read_text().split()
    others = [pid for pid in importers if pid != str(answer["pid"])]
    # The service itself, and at most the forkserver once; never each of the 5 workers.
    assert str(answer["pid"]) in importers
    assert len(others) <= 1, importers


def test_a_file_bigger_than_the_memory_limit_is_413(tmp_path: Path) -> None:
    # The worker cannot even receive it: it answers "memory" and stops reading, so the
    # service's send breaks (before: that broken pipe was taken for a worker that died without
    # answering, a 500 unless the kill that followed landed before the worker's own exit).
    limits = ParseLimits(max_unpacked_bytes=50_000_000, memory_bytes=64 * 2**20, timeout_s=60)
    data = b"lon,lat\n" + b"120.0,30.0\n" * 9_000_000  # 99 MB
    for _ in range(3):
        with pytest.raises(FileTooLarge, match="needs more than 64 MB"):
            parse_upload(
                data,
                filename="big.csv",
                datum="wgs84",
                csv_options=None,
                limits=limits,
                isolated=True,
            )
