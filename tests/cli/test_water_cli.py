"""geo-patrol water sections/readings import against a real database of its own: stored,
the same file again unchanged, refused rows named on standard error with exit status 1
(the good rows stored), dry runs; and geo-patrol import rivers snapping the sections of a
recut river again (checked against shapely and pyproj)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import shapely
from shapely.affinity import translate
from sqlalchemy import text
from typer.testing import CliRunner

from geo_patrol.cli.app import app
from geo_patrol.db.engine import make_engine, make_sessionmaker
from tests.support.database import migrated_database
from tests.water.support import RIVERS, add_rivers, offset, snapped

runner = CliRunner()


@pytest.fixture(scope="module")
def database() -> Iterator[str]:
    """A migrated database of its own holding the test rivers: the commands commit."""
    url = migrated_database("geo_patrol_cli_water")
    engine = make_engine(url)
    with make_sessionmaker(engine)() as session, session.begin():
        add_rivers(session)
    engine.dispose()
    previous = os.environ.get("GEO_PATROL_DATABASE_URL")
    os.environ["GEO_PATROL_DATABASE_URL"] = url
    yield url
    if previous is None:
        del os.environ["GEO_PATROL_DATABASE_URL"]
    else:
        os.environ["GEO_PATROL_DATABASE_URL"] = previous


def query(url: str, sql: str) -> list[tuple[object, ...]]:
    """Rows of one statement on the command's database."""
    engine = make_engine(url)
    with engine.connect() as connection:
        rows = [tuple(row) for row in connection.execute(text(sql))]
    engine.dispose()
    return rows


def test_sections_then_readings_then_a_recut_river(database: str, tmp_path: Path) -> None:
    spot = offset(RIVERS["T-BENT"], 0.3, 90)
    listing = tmp_path / "断面.csv"
    listing.write_text(
        "断面编码,断面名称,断面类型,水质目标,经度,纬度\n"
        f"C1,一号,交界,III,{spot[0]},{spot[1]}\n"
        f"C2,二号,市控,II,{offset(RIVERS['T-NORTH'], 0.5, 40)[0]},"
        f"{offset(RIVERS['T-NORTH'], 0.5, 40)[1]}\n",
        encoding="gb18030",
    )
    dry = runner.invoke(app, ["water", "sections", "import", str(listing), "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "would_add" in dry.output and query(database, "SELECT id FROM water_sections") == []
    done = runner.invoke(app, ["water", "sections", "import", str(listing)])
    assert done.exit_code == 0 and "added=2" in done.output, done.output
    again = runner.invoke(app, ["water", "sections", "import", str(listing)])
    assert "unchanged=2" in again.output
    export = tmp_path / "readings.csv"
    export.write_text(
        "断面编码,采样时间,溶解氧,氨氮\nC1,2026-11-03 09:00,6.5,0.6\nC2,2026-11-03 09:00,高,0.3\n",
        encoding="utf-8",
    )
    readings = runner.invoke(app, ["water", "readings", "import", str(export)])
    assert readings.exit_code == 1, readings.output
    assert "row 3, 溶解氧" in readings.output and "stored=1" in readings.output
    assert "row 2\tstored\tC1\t2026-11-03T09:00:00+08:00\tIII\tNH3-N" in readings.output
    retry = runner.invoke(app, ["water", "readings", "import", str(export)])
    assert "stored=0" in retry.output and "unchanged=1" in retry.output
    moved = translate(RIVERS["T-BENT"], yoff=-0.0004)
    rivers = tmp_path / "rivers.geojson"
    feature = {"type": "Feature", "properties": {"code": "T-BENT", "name": "弯河"}}
    feature["geometry"] = json.loads(shapely.to_geojson(moved))
    rivers.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    recut = runner.invoke(app, ["import", "rivers", str(rivers), "--segment-length", "700"])
    assert recut.exit_code == 0, recut.output
    assert "1 monitoring sections snapped again" in recut.output
    [(lon, lat, distance, segment)] = query(
        database,
        "SELECT ST_X(geom), ST_Y(geom), snap_distance_m, segment_id FROM water_sections "
        "WHERE code = 'C1'",
    )
    expected = snapped(moved, *spot)
    assert (lon, lat) == pytest.approx((expected.lon, expected.lat), abs=1e-8)
    assert distance == pytest.approx(expected.distance_m, abs=0.01)
    assert segment is not None
