"""Independent computations on the demo polygons (shapely + pyproj), and test tracks."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta
from functools import cache

import numpy as np
import pyproj
import shapely

from geo_patrol.demo.load import DEMO_DATA

GEOD = pyproj.Geod(ellps="WGS84")
UTM51 = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:32651", always_xy=True)


@cache
def polygons() -> dict[str, tuple[str, shapely.Geometry]]:
    """code -> (level, geometry) from the demo file."""
    data = json.loads((DEMO_DATA / "jurisdictions.geojson").read_text(encoding="utf-8"))
    return {
        f["properties"]["code"]: (f["properties"]["level"], shapely.geometry.shape(f["geometry"]))
        for f in data["features"]
    }


def lengths_by_code(lon: np.ndarray, lat: np.ndarray, codes: list[str]) -> dict[str, float]:
    """Metres of the polyline inside each polygon: legs cut by shapely, measured by Geod."""
    line = shapely.LineString(np.column_stack([lon, lat]))
    result = {}
    for code in codes:
        inside = shapely.intersection(line, polygons()[code][1])
        result[code] = sum(
            GEOD.geometry_length(part)
            for part in getattr(inside, "geoms", [inside])
            if not part.is_empty
        )
    return result


def side_of(lon: float, lat: float) -> str | None:
    """Which demo county covers a point."""
    point = shapely.Point(lon, lat)
    for code in ("320509", "330411"):
        if polygons()[code][1].covers(point):
            return code
    return None


def border_crossing_line(length_m: float = 1200.0) -> tuple[np.ndarray, np.ndarray]:
    """A straight walk across the Wujiang-Xiuzhou border that shapely says crosses it once."""
    wujiang, xiuzhou = polygons()["320509"][1], polygons()["330411"][1]
    border = shapely.line_merge(shapely.intersection(wujiang.boundary, xiuzhou.boundary))
    parts = sorted(getattr(border, "geoms", [border]), key=lambda g: -g.length)
    line = parts[0]
    for fraction in np.linspace(0.2, 0.8, 25):
        a = line.interpolate(fraction - 0.002, normalized=True)
        b = line.interpolate(fraction + 0.002, normalized=True)
        mid = line.interpolate(fraction, normalized=True)
        azimuth, _, _ = GEOD.inv(a.x, a.y, b.x, b.y)
        lons, lats = walk(mid.x, mid.y, azimuth + 90, length_m)
        sides = [side_of(x, y) for x, y in zip(lons, lats, strict=True)]
        changes = sum(1 for s, t in itertools.pairwise(sides) if s != t)
        if None not in sides and changes == 1:
            return lons, lats
    raise AssertionError("no clean crossing found on the demo border")


def walk(
    lon: float, lat: float, azimuth: float, length_m: float, step_m: float = 1.5
) -> tuple[np.ndarray, np.ndarray]:
    """Points every `step_m` along a geodesic centred on (lon, lat)."""
    start_lon, start_lat, _ = GEOD.fwd(lon, lat, azimuth + 180, length_m / 2)
    n = int(length_m / step_m) + 1
    lons, lats, _ = GEOD.fwd(
        np.full(n, start_lon), np.full(n, start_lat), np.full(n, azimuth), np.arange(n) * step_m
    )
    return np.asarray(lons), np.asarray(lats)


def times(n: int, start: datetime | None = None, step_s: float = 1.25) -> list[datetime]:
    """Timestamps one step apart (walking pace with 1.5 m steps)."""
    start = start or datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3)
    return [start + timedelta(seconds=i * step_s) for i in range(n)]


def gpx(lons: np.ndarray, lats: np.ndarray, when: list[datetime], name: str = "test") -> bytes:
    """A GPX 1.1 file as OsmAnd writes it."""
    points = "\n".join(
        f'<trkpt lat="{lat:.7f}" lon="{lon:.7f}"><ele>3.0</ele>'
        f"<time>{t.strftime('%Y-%m-%dT%H:%M:%SZ')}</time><hdop>1.2</hdop></trkpt>"
        for lon, lat, t in zip(lons, lats, when, strict=True)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<gpx version="1.1" creator="OsmAnd~ 4.7.3" xmlns="http://www.topografix.com/GPX/1/1">'
        f"<trk><name>{name}</name><trkseg>{points}</trkseg></trk></gpx>"
    ).encode()


BORDER_RIVER = "R-320509-330411-01"


def point_off_border_river(distance_m: float, side: str) -> tuple[float, float]:
    """A point `distance_m` from the middle of the border river, in county `side`."""
    rivers = json.loads((DEMO_DATA / "rivers.geojson").read_text(encoding="utf-8"))
    river = next(
        shapely.geometry.shape(f["geometry"])
        for f in rivers["features"]
        if f["properties"]["code"] == BORDER_RIVER
    )
    a, b = river.interpolate(0.49, normalized=True), river.interpolate(0.51, normalized=True)
    mid = river.interpolate(0.5, normalized=True)
    azimuth, _, _ = GEOD.inv(a.x, a.y, b.x, b.y)
    for turn in (90, -90):
        lon, lat, _ = GEOD.fwd(mid.x, mid.y, azimuth + turn, distance_m)
        if side_of(lon, lat) == side:
            return float(lon), float(lat)
    raise AssertionError(f"no point on side {side}")
