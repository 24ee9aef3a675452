"""Benchmark of patrol exports: one patrol of 1M fixes as GPX, KML and GeoJSON.

    python -m bench export [--quick] [--points 1000000] [--repeat 3] [--workers 1]

The patrol is the upload benchmark's walk, uploaded through `upload_patrol` into a fresh
database; the service runs as `geo-patrol serve` and is asked over HTTP by an administrator.
In the same run, for each format:

- ours: `GET /api/v1/patrols/{id}/export.{fmt}` (GPX and KML written by PostgreSQL block by
  block and streamed; GeoJSON with the track's text from PostGIS spliced in): seconds to the
  first and the last byte (median of --repeat), and how much the service process's peak
  memory grew;
- naive: what the export did before, and what one writes first: every fix as a row into
  Python and the document built there as one string (GeoJSON: the track parsed from
  ST_AsGeoJSON and encoded again), in a process of its own: seconds and peak memory.

Both documents are read back (lxml / json) and must hold the same number of fixes. The
service's memory is that of the process `geo-patrol serve` starts: with --workers 1 (the
default) the one that answers.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import httpx
from lxml import etree
from sqlalchemy import text
from sqlalchemy.orm import Session

from bench import database, tracks
from bench.report import number, size_label, table
from bench.service import running_service
from geo_patrol.access.principal import command_line_principal
from geo_patrol.core.settings import Settings
from geo_patrol.db.engine import make_engine
from geo_patrol.incidents.workflow import verify_passed_incidents
from geo_patrol.patrols.after_track import after_track
from geo_patrol.patrols.upload import UploadRequest, upload_patrol

# Uploads verify the incidents their patrols pass, as the service's do (registering twice
# changes nothing).
after_track(verify_passed_incidents)

NAME = "geo_patrol_bench_export"
PASSWORD = "geo-patrol-demo"
FORMATS = ("gpx", "kml", "geojson")
NAIVE_POINTS = """
SELECT ST_X(geom) AS lon, ST_Y(geom) AS lat, time, ele
FROM patrol_points WHERE patrol_id = :p AND ord IS NOT NULL ORDER BY ord
"""


def _iso(when: Any) -> str:
    return str(when.strftime("%Y-%m-%dT%H:%M:%SZ")) if when else ""


def naive_document(session: Session, patrol_id: int, fmt: str) -> str:
    """The export as built before: rows into Python, one string."""
    if fmt == "geojson":
        row = session.execute(
            text("SELECT ST_AsGeoJSON(track, 6)::json AS g, title FROM patrols WHERE id = :p"),
            {"p": patrol_id},
        ).one()
        feature = {"type": "Feature", "id": patrol_id, "geometry": row.g, "properties": {}}
        return json.dumps(feature, ensure_ascii=False)
    points = session.execute(text(NAIVE_POINTS), {"p": patrol_id}).all()
    if fmt == "gpx":
        lines = [
            '<?xml version="1.0" encoding="UTF-8"?>',
            '<gpx version="1.1" creator="naive" xmlns="http://www.topografix.com/GPX/1/1">',
            f"<trk><name>{escape('walk')}</name><trkseg>",
        ]
        for p in points:
            inner = f"<ele>{p.ele:.1f}</ele>" if p.ele is not None else ""
            inner += f"<time>{_iso(p.time)}</time>" if p.time else ""
            lines.append(f'<trkpt lat="{p.lat:.7f}" lon="{p.lon:.7f}">{inner}</trkpt>')
        lines.append("</trkseg></trk></gpx>")
        return "\n".join(lines) + "\n"
    whens = [f"<when>{_iso(p.time)}</when>" for p in points]
    coords = [f"<gx:coord>{p.lon:.7f} {p.lat:.7f} {p.ele or 0:.1f}</gx:coord>" for p in points]
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<kml xmlns="http://www.opengis.net/kml/2.2" '
        'xmlns:gx="http://www.google.com/kml/ext/2.2"><Document><Placemark><gx:Track>'
        f"{''.join(whens)}{''.join(coords)}</gx:Track></Placemark></Document></kml>\n"
    )


def fixes_in(document: bytes, fmt: str) -> int:
    """How many fixes a document holds, as an independent reader counts them."""
    if fmt == "geojson":
        return len(json.loads(document)["geometry"]["coordinates"])
    tag = "{http://www.topografix.com/GPX/1/1}trkpt" if fmt == "gpx" else "{*}coord"
    return sum(1 for _ in etree.fromstring(document).iter(tag))


def naive_child(url: str, patrol_id: int, fmt: str) -> None:
    """In a process of its own: build the naive document; print seconds, memory, fixes."""
    engine = make_engine(url)
    with Session(engine) as session:
        session.execute(text("SELECT 1"))
        # VmHWM, not ru_maxrss: a child inherits its parent's ru_maxrss across fork and exec.
        before = high_water_mb(os.getpid())
        start = time.perf_counter()
        document = naive_document(session, patrol_id, fmt).encode()
        seconds = time.perf_counter() - start
        peak = high_water_mb(os.getpid())
    print(
        json.dumps(
            {
                "seconds": seconds,
                "peak_mb": peak - before,
                "bytes": len(document),
                "fixes": fixes_in(document, fmt),
            }
        )
    )


def run_naive(url: str, patrol_id: int, fmt: str) -> dict[str, float]:
    """`naive_child` in a fresh interpreter (its own peak memory)."""
    command = [sys.executable, "-m", "bench.export", "--naive", url, str(patrol_id), fmt]
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    result: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    return result


def high_water_mb(pid: int) -> float:
    """A process's peak resident memory so far (VmHWM)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmHWM for process {pid}")


def fetch(client: httpx.Client, path: str) -> tuple[float, float, bytes]:
    """Seconds to the first and the last byte of a streamed GET, and the body."""
    start = time.perf_counter()
    first, chunks = None, []
    with client.stream("GET", path) as response:
        response.raise_for_status()
        for chunk in response.iter_bytes():
            first = first if first is not None else time.perf_counter() - start
            chunks.append(chunk)
    return first or 0.0, time.perf_counter() - start, b"".join(chunks)


def upload_walk(url: str, points: int, work: Path) -> int:
    """The benchmark walk uploaded for the joint team; its patrol id."""
    gpx = tracks.write_gpx(points, work)
    settings = Settings(database_url=url, data_dir=work)
    engine = make_engine(url)
    request = UploadRequest(team_id=database.team_id(url), filename=gpx.name, data=gpx.read_bytes())
    with Session(engine) as session:
        result = upload_patrol(
            session,
            request=request,
            principal=command_line_principal(),
            settings=settings,
            address=None,
        )
        session.commit()
    engine.dispose()
    return result.patrol_id


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point: see the module docstring."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["--naive"]:
        naive_child(argv[1], int(argv[2]), argv[3])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--points", type=int, default=1_000_000, help="fixes in the patrol")
    parser.add_argument("--quick", action="store_true", help="a 100k-fix patrol")
    parser.add_argument("--repeat", type=int, default=3, help="requests per format (median)")
    parser.add_argument("--workers", type=int, default=1, help="service worker processes")
    args = parser.parse_args(argv)
    if args.quick:
        args.points = 100_000
    url = database.create(NAME, resolved_incidents=0)
    rows = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            patrol_id = upload_walk(url, args.points, work)
            log = work / "service.log"
            with running_service(url, work, log, args.workers, quiet=True) as server:
                client = httpx.Client(base_url=server.http, timeout=600)
                token = client.post(
                    "/api/v1/auth/tokens", json={"login": "admin", "password": PASSWORD}
                ).json()["token"]
                client.headers["Authorization"] = f"Bearer {token}"
                for fmt in FORMATS:
                    path = f"/api/v1/patrols/{patrol_id}/export.{fmt}"
                    base_mb = high_water_mb(server.process.pid)
                    runs = [fetch(client, path) for _ in range(args.repeat)]
                    grew = high_water_mb(server.process.pid) - base_mb
                    naive = run_naive(url, patrol_id, fmt)
                    ours_fixes = fixes_in(runs[-1][2], fmt)
                    if ours_fixes != naive["fixes"]:
                        raise RuntimeError(
                            f"{fmt}: ours {ours_fixes} fixes, naive {naive['fixes']}"
                        )
                    total = statistics.median(r[1] for r in runs)
                    rows.append(
                        [
                            fmt,
                            size_label(args.points),
                            f"{ours_fixes:,}",
                            number(len(runs[-1][2]) / 1e6),
                            number(statistics.median(r[0] for r in runs), 2),
                            number(total, 2),
                            number(grew, 0),
                            number(naive["seconds"], 2),
                            number(naive["peak_mb"], 0),
                            f"{naive['seconds'] / total:.1f}×",
                        ]
                    )
                client.close()
    finally:
        database.drop(url)
    print(
        table(
            [
                "format",
                "track",
                "fixes",
                "MB",
                "ours first byte s",
                "ours s",
                "ours server peak +MB",
                "naive s",
                "naive peak +MB",
                "naive / ours",
            ],
            rows,
        )
    )


if __name__ == "__main__":
    main(sys.argv[1:])
