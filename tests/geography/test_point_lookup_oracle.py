"""Point lookup on the demo region checked against shapely on the same polygons.

Random points over the region, every vertex of the provincial border (exactly on it), and
points a few centimetres either side of it: the lowest-level jurisdiction PostGIS reports
must be one shapely says covers the point, and together with `on_boundary_with` they must be
exactly the lowest-level jurisdictions shapely finds.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import numpy as np
import pytest
import shapely
from sqlalchemy.orm import Session

from geo_patrol.db.tables import LEVEL_RANK
from geo_patrol.demo.load import DEMO_DATA
from geo_patrol.geography.lookup import jurisdictions_at

NOW = datetime.now(UTC)


def demo_polygons() -> dict[str, tuple[str, shapely.Geometry]]:
    """code -> (level, geometry) straight from the demo file."""
    data = json.loads((DEMO_DATA / "jurisdictions.geojson").read_text())
    return {
        f["properties"]["code"]: (f["properties"]["level"], shapely.geometry.shape(f["geometry"]))
        for f in data["features"]
    }


POLYGONS = demo_polygons()
TREE = shapely.STRtree([geom for _, geom in POLYGONS.values()])
CODES = list(POLYGONS)


def expected_lowest(lon: float, lat: float) -> set[str]:
    """Codes of the lowest-level jurisdictions covering the point, by shapely."""
    point = shapely.Point(lon, lat)
    hits = [CODES[i] for i in TREE.query(point, predicate="intersects")]
    if not hits:
        return set()
    lowest = max(LEVEL_RANK[POLYGONS[code][0]] for code in hits)
    return {code for code in hits if LEVEL_RANK[POLYGONS[code][0]] == lowest}


def border_points() -> Iterator[tuple[float, float]]:
    """Vertices of the Wujiang-Xiuzhou border, and points 5 cm either side of them."""
    wujiang, xiuzhou = POLYGONS["320509"][1], POLYGONS["330411"][1]
    shared = shapely.intersection(wujiang.boundary, xiuzhou.boundary)
    coords = shapely.get_coordinates(shared)[::7]
    for lon, lat in coords:
        yield float(lon), float(lat)
        for dlon in (-5e-7, 5e-7):
            yield float(lon + dlon), float(lat)


def random_points(count: int) -> Iterator[tuple[float, float]]:
    """Uniform points over the two counties' bounding box (some fall outside both)."""
    minx, miny, maxx, maxy = shapely.union(POLYGONS["320509"][1], POLYGONS["330411"][1]).bounds
    rng = np.random.default_rng(20261127)
    for lon, lat in zip(
        rng.uniform(minx - 0.05, maxx + 0.05, count),
        rng.uniform(miny - 0.05, maxy + 0.05, count),
        strict=True,
    ):
        yield float(lon), float(lat)


@pytest.fixture
def demo(demo_session: Session) -> Session:
    """The demo region (loaded once per run into the demo database), in a transaction
    rolled back after the test."""
    return demo_session


def check(session: Session, lon: float, lat: float) -> None:
    """PostGIS and shapely agree on the lowest-level jurisdictions at the point."""
    found = jurisdictions_at(session, lon=lon, lat=lat, at=NOW)
    got = {ref.code for ref in [*found.chain[:1], *found.on_boundary_with]}
    assert got == expected_lowest(lon, lat), (lon, lat)
    if found.chain:
        levels = [ref.level for ref in found.chain]
        assert levels[-1] == "province"
        assert [LEVEL_RANK[level] for level in levels] == sorted(
            (LEVEL_RANK[level] for level in levels), reverse=True
        )


def test_random_points_agree_with_shapely(demo: Session) -> None:
    for lon, lat in random_points(400):
        check(demo, lon, lat)


def test_points_on_and_near_the_border_agree_with_shapely(demo: Session) -> None:
    points = list(border_points())
    assert len(points) > 30
    for lon, lat in points:
        check(demo, lon, lat)


def test_wujiang_point_chain_ends_at_jiangsu(demo: Session) -> None:
    wujiang = POLYGONS["320509"][1]
    point = shapely.point_on_surface(wujiang)
    found = jurisdictions_at(demo, lon=point.x, lat=point.y, at=NOW)
    codes = [ref.code for ref in found.chain]
    assert "320509" in codes and "320500" in codes
    assert codes[-1] == "320000"


def test_batch_routing_agrees_with_shapely(demo: Session) -> None:
    from geo_patrol.incidents.routing import lead_codes_batch

    points = list(random_points(3000))
    lons, lats = [p[0] for p in points], [p[1] for p in points]
    got = lead_codes_batch(demo, lons=lons, lats=lats, at=NOW)
    for index, (lon, lat) in enumerate(points):
        expected = expected_lowest(lon, lat)
        if len(expected) > 1:
            continue  # exactly on a shared edge: either side is right
        assert ({got[index]} if index in got else set()) == expected, (lon, lat)
