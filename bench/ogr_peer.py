"""The second peer: `ogr2ogr` GPX -> PostGIS (COPY), then the SQL an analyst would write.

An analyst with a database and GDAL loads the track into PostGIS with Debian's gdal-bin
(`ogr2ogr -f PostgreSQL`, `PG_USE_COPY=YES`, the GPX `tracks` layer: one MultiLineString of
every fix) into the same database as the county polygons, then asks for the metres in each
county: `ST_Intersection` of the track with each county polygon in force, `ST_Length` on
geography (the spheroid), and the track's total length the same way. The clock runs from
starting ogr2ogr to the answers; the table is dropped after the clock.

It stores the fixes and answers the per-county question only: no towns, no river coverage,
no cleaning, no crossings. It is the floor of "stored, then measured in the database".
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
from pathlib import Path
from time import perf_counter
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import make_url

from geo_patrol.db.engine import make_engine

OGR2OGR = shutil.which("ogr2ogr") or "/usr/bin/ogr2ogr"
TABLE = "bench_ogr_walk"  # only this fixed name is ever formatted into SQL

COUNTY_METRES = f"""
SELECT j.code, sum(ST_Length(CAST(ST_Intersection(t.wkb_geometry, j.geom) AS geography)))
FROM {TABLE} t JOIN jurisdictions j ON ST_Intersects(t.wkb_geometry, j.geom)
WHERE j.level = 'county' AND j.valid_to IS NULL
GROUP BY j.code
"""
TOTAL_METRES = f"SELECT sum(ST_Length(CAST(wkb_geometry AS geography))) FROM {TABLE}"


def gdal_connection(url: str) -> str:
    """The SQLAlchemy URL as GDAL's `PG:` connection string (host may be a socket folder)."""
    parsed = make_url(url)
    host = parsed.query.get("host") or parsed.host
    parts = {
        "dbname": parsed.database,
        "host": host if isinstance(host, str) else None,
        "port": parsed.query.get("port") or parsed.port,
        "user": parsed.username,
        "password": parsed.password,
    }
    return "PG:" + " ".join(f"{k}={v}" for k, v in parts.items() if v)


def ogr2ogr_command(gpx: Path, url: str) -> list[str]:
    """The ogr2ogr call: the GPX `tracks` layer into TABLE, by COPY, replacing it if there."""
    return [
        OGR2OGR,
        "-f",
        "PostgreSQL",
        gdal_connection(url),
        str(gpx),
        "tracks",
        "-nln",
        TABLE,
        "-overwrite",
        "--config",
        "PG_USE_COPY",
        "YES",
    ]


def run_ogr(gpx: Path, *, url: str) -> dict[str, Any]:
    """Load with ogr2ogr, then per-county and total metres in SQL; timed to the answers."""
    engine = make_engine(url)
    env = {**os.environ, "PGAPPNAME": "bench ogr2ogr"}
    with engine.connect() as conn:
        conn.execute(text(f"DROP TABLE IF EXISTS {TABLE}"))
        conn.commit()
        start = perf_counter()
        subprocess.run(ogr2ogr_command(gpx, url), check=True, env=env, capture_output=True)
        loaded = perf_counter() - start
        county = {str(k): float(v) for k, v in conn.execute(text(COUNTY_METRES)).all()}
        total = float(conn.execute(text(TOTAL_METRES)).scalar_one())
        seconds = perf_counter() - start
        conn.execute(text(f"DROP TABLE {TABLE}"))
        conn.commit()
    engine.dispose()
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # ogr2ogr's
    return {
        "seconds": seconds,
        "rss_delta_mb": peak,
        "phases": {"ogr2ogr": loaded, "sql": seconds - loaded},
        "answers": {"county": county, "total": {"length_m": total}},
    }
