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


# ---------------------------------------------------------------------------------------
# Crossings and coverage, replayed from docs/gis/rules.md's statement of the rules. Distances are
# measured in an azimuthal equidistant projection centred on the place in question (not the
# UTM zone the service uses), lengths on the ellipsoid with pyproj.Geod.


@cache
def local_metres(lon: float, lat: float) -> pyproj.Transformer:
    """lon/lat -> metres in an azimuthal equidistant projection centred on (lon, lat)."""
    aeqd = pyproj.CRS.from_proj4(f"+proj=aeqd +lat_0={lat} +lon_0={lon} +datum=WGS84 +units=m")
    return pyproj.Transformer.from_crs("EPSG:4326", aeqd, always_xy=True)


def to_metres(geometry: shapely.Geometry, frame: pyproj.Transformer) -> shapely.Geometry:
    """A lon/lat geometry in the metres of `frame`."""
    return shapely.transform(geometry, lambda xy: np.column_stack(frame.transform(*xy.T)))


@cache
def straight_border() -> tuple[float, float, float]:
    """The middle of the longest straight edge of the county border (lon, lat) and the
    edge's azimuth, oriented so that its right-hand side is Xiuzhou (330411). There every
    level from province to grid shares the line, and no other border is within 700 m."""
    wujiang, xiuzhou = polygons()["320509"][1], polygons()["330411"][1]
    border = shapely.line_merge(shapely.intersection(wujiang.boundary, xiuzhou.boundary))
    coords = np.vstack([shapely.get_coordinates(g) for g in getattr(border, "geoms", [border])])
    edges = np.stack([coords[:-1], coords[1:]], axis=1)
    _, _, lengths = GEOD.inv(edges[:, 0, 0], edges[:, 0, 1], edges[:, 1, 0], edges[:, 1, 1])
    a, b = edges[int(np.argmax(lengths))]
    lon, lat = (a + b) / 2
    azimuth, _, _ = GEOD.inv(a[0], a[1], b[0], b[1])
    right_lon, right_lat, _ = GEOD.fwd(lon, lat, azimuth + 90, 20)
    if side_of(right_lon, right_lat) != "330411":
        azimuth += 180
    return float(lon), float(lat), float(azimuth)


def across_border(along: np.ndarray, offset: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """lon/lat of points `along` metres along the straight border edge from its middle and
    `offset` metres off it (positive: into Xiuzhou 330411, negative: into Wujiang 320509)."""
    lon, lat, azimuth = straight_border()
    frame = local_metres(lon, lat)
    theta = np.radians(azimuth)  # clockwise from north: the edge runs along (sin, cos)
    x = along * np.sin(theta) + offset * np.cos(theta)
    y = along * np.cos(theta) - offset * np.sin(theta)
    lons, lats = frame.transform(x, y, direction="INVERSE")
    return np.asarray(lons), np.asarray(lats)


@cache
def _in_metres(code: str, lon: float, lat: float) -> shapely.Geometry:
    """A demo polygon near (lon, lat) in the metres of `local_metres(lon, lat)`: cut to
    0.03 degrees around it (distances up to 2 km are those to the whole polygon)."""
    near = shapely.clip_by_rect(polygons()[code][1], lon - 0.03, lat - 0.03, lon + 0.03, lat + 0.03)
    return to_metres(near, local_metres(lon, lat))


RuleRun = tuple[str | None, int, int, float, float]  # code, first, last, metres, clearance


def runs_by_rule(lon: np.ndarray, lat: np.ndarray, level: str) -> list[RuleRun]:
    """The fixes in a row on one side at `level`: code, first and last fix, metres from the
    first fix to the first fix of the next run (the last run: to its own last fix), and the
    largest clearance of its fixes (distance to the nearest other jurisdiction of the level)."""
    shapes = {code: shape for code, (lvl, shape) in sorted(polygons().items()) if lvl == level}
    points = shapely.points(np.column_stack([lon, lat]))
    codes: list[str | None] = [None] * len(points)
    for code, shape in reversed(shapes.items()):  # the lowest code where shapes touch
        for inside in np.flatnonzero(shapely.covers(shape, points)).tolist():
            codes[inside] = code
    centre = round(float(lon.mean()), 2), round(float(lat.mean()), 2)  # within 1 km or so
    points_m = shapely.points(np.column_stack(local_metres(*centre).transform(lon, lat)))
    distances = {  # (a polygon wholly cut away is far: NaN -> inf)
        code: np.nan_to_num(shapely.distance(_in_metres(code, *centre), points_m), nan=np.inf)
        for code in shapes
    }
    clear = [
        float(min((distances[o][k] for o in shapes if o != code), default=np.inf))
        for k, code in enumerate(codes)
    ]
    legs = np.asarray(GEOD.line_lengths(lon, lat)) if len(lon) > 1 else np.zeros(0)
    runs: list[RuleRun] = []
    first = 0
    for k in range(1, len(codes) + 1):
        if k == len(codes) or codes[k] != codes[first]:
            end = min(k, len(codes) - 1)
            metres = float(legs[first:end].sum())
            runs.append((codes[first], first, k - 1, metres, max(clear[first:k])))
            first = k
    return runs


def crossings_by_rule(
    lon: np.ndarray,
    lat: np.ndarray,
    level: str,
    *,
    min_run_m: float = 25.0,
    margin_m: float = 15.0,
    long_run_m: float = 300.0,
) -> list[tuple[int, str, str]]:
    """The crossing rule of docs/gis/rules.md: (first fix on the new side, from, to). The first
    run is the side the patrol started on; after it a side counts once the track is firmly on it
    (long_run_m metres there, or min_run_m metres with a fix margin_m clear of the line);
    a crossing is a change between sides that count."""
    runs = runs_by_rule(lon, lat, level)
    firm = [
        (i, run)
        for i, run in enumerate(runs)
        if run[0] is not None
        and (i == 0 or run[3] >= long_run_m or (run[3] >= min_run_m and run[4] >= margin_m))
    ]
    found = []
    for (i, before), (j, after) in itertools.pairwise(firm):
        if before[0] != after[0]:
            last = max(k for k in range(i, j) if runs[k][0] == before[0])
            found.append((runs[last + 1][1], str(before[0]), str(after[0])))
    return found


@cache
def straight_river() -> tuple[str, float, float, float]:
    """The river with the longest straight edge, the middle of that edge (lon, lat) and its
    azimuth."""
    rivers = json.loads((DEMO_DATA / "rivers.geojson").read_text(encoding="utf-8"))
    best: tuple[float, str, float, float, float] = (0.0, "", 0.0, 0.0, 0.0)
    for feature in rivers["features"]:
        c = shapely.get_coordinates(shapely.geometry.shape(feature["geometry"]))
        azimuths, _, lengths = GEOD.inv(c[:-1, 0], c[:-1, 1], c[1:, 0], c[1:, 1])
        i = int(np.argmax(lengths))
        if lengths[i] > best[0]:
            lon, lat = (c[i] + c[i + 1]) / 2
            best = (float(lengths[i]), feature["properties"]["code"], lon, lat, azimuths[i])
    return best[1], float(best[2]), float(best[3]), float(best[4])


def along_river(along: np.ndarray, offset: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """lon/lat of points `along` metres along the straight river edge from its middle and
    `offset` metres off it (positive: to its right)."""
    _, lon, lat, azimuth = straight_river()
    frame = local_metres(lon, lat)
    theta = np.radians(azimuth)
    x = along * np.sin(theta) + offset * np.cos(theta)
    y = along * np.cos(theta) - offset * np.sin(theta)
    lons, lats = frame.transform(x, y, direction="INVERSE")
    return np.asarray(lons), np.asarray(lats)


def beside_river(offset_m: float, length_m: float, step_m: float) -> tuple[np.ndarray, np.ndarray]:
    """lon/lat of fixes exactly `offset_m` to the right of the straight river edge (measured
    in `local_metres` from the edge as stored: its ends, straight between them), along
    `length_m` of it around its middle."""
    code, lon, lat, _ = straight_river()
    rivers = json.loads((DEMO_DATA / "rivers.geojson").read_text(encoding="utf-8"))
    river = next(
        shapely.geometry.shape(f["geometry"])
        for f in rivers["features"]
        if f["properties"]["code"] == code
    )
    frame = local_metres(lon, lat)
    river_m = to_metres(river, frame)
    centre = shapely.line_locate_point(river_m, shapely.Point(frame.transform(lon, lat)))
    along = centre + np.arange(-length_m / 2, length_m / 2 + step_m / 2, step_m)
    base = shapely.get_coordinates(shapely.line_interpolate_point(river_m, along))
    ahead = shapely.get_coordinates(shapely.line_interpolate_point(river_m, along + 1.0))
    normal = (ahead - base)[:, ::-1] * [1, -1]  # to the right of the direction of the line
    normal /= np.linalg.norm(normal, axis=1)[:, None]
    x, y = (base + normal * offset_m).T
    lons, lats = frame.transform(x, y, direction="INVERSE")
    return np.asarray(lons), np.asarray(lats)


def covered_by_rule(
    lon: np.ndarray, lat: np.ndarray, segments: dict[int, shapely.Geometry], distance_m: float
) -> dict[int, float]:
    """Metres of each segment (lon/lat lines) within `distance_m` of the track: every leg
    and fix of the track buffered in an azimuthal equidistant projection centred on it (128
    segments a quarter circle: round ends within 1 mm), cut out of each segment, and the
    union of the pieces measured along it (in that projection, true to 1e-8 within 2 km)."""
    frame = local_metres(float(lon.mean()), float(lat.mean()))
    xy = np.column_stack(frame.transform(lon, lat))
    parts = np.concatenate(
        [shapely.linestrings(np.stack([xy[:-1], xy[1:]], axis=1)), shapely.points(xy)]
    )
    result = {}
    for segment_id, line in segments.items():
        line_m = to_metres(line, frame)
        near = parts[shapely.dwithin(parts, line_m, distance_m + 1)]
        if not len(near):
            continue
        pieces = shapely.get_parts(
            shapely.intersection(line_m, shapely.buffer(near, distance_m, quad_segs=128))
        )
        pieces = pieces[shapely.get_type_id(pieces) == 1]  # the lines (not touching points)
        ends = np.sort(
            np.column_stack(
                [
                    shapely.line_locate_point(line_m, shapely.get_point(pieces, 0)),
                    shapely.line_locate_point(line_m, shapely.get_point(pieces, -1)),
                ]
            ),
            axis=1,
        )
        result[segment_id] = merged_length(ends)
    return {k: v for k, v in result.items() if v > 0}


def merged_length(spans: np.ndarray) -> float:
    """Length of the union of the intervals (rows lo, hi)."""
    total, reach = 0.0, -np.inf
    for lo, hi in spans[np.argsort(spans[:, 0])].tolist():
        if hi > reach:
            total += hi - max(lo, reach)
            reach = hi
    return total


def point_inside_xiuzhou(distance_m: float) -> tuple[float, float]:
    """A point `distance_m` from the border river, on the Xiuzhou side."""
    return point_off_border_river(distance_m, "330411")


BORDER_COUNTIES = ["320509", "330411"]


def meander(n: int, amplitude_m: float, wavelength_m: float) -> tuple[np.ndarray, np.ndarray]:
    """A walk of n fixes 1.5 m apart along the county border, swinging across it."""
    wujiang, xiuzhou = polygons()["320509"][1], polygons()["330411"][1]
    border = shapely.line_merge(shapely.intersection(wujiang.boundary, xiuzhou.boundary))
    line = max(getattr(border, "geoms", [border]), key=lambda g: g.length)
    utm = shapely.transform(line, lambda xy: np.column_stack(UTM51.transform(*xy.T)))
    along = np.arange(n) * 1.5 + utm.length * 0.3
    base = shapely.get_coordinates(shapely.line_interpolate_point(utm, along))
    ahead = shapely.get_coordinates(shapely.line_interpolate_point(utm, along + 1.0))
    normal = (ahead - base)[:, ::-1] * [1, -1]
    normal /= np.linalg.norm(normal, axis=1)[:, None]
    offset = amplitude_m * np.sin(2 * np.pi * along / wavelength_m)
    x, y = (base + normal * offset[:, None]).T
    lon, lat = UTM51.transform(x, y, direction="INVERSE")
    return np.asarray(lon), np.asarray(lat)


def assert_like_shapely(
    got: dict[str, tuple[float, float | None]], lons: np.ndarray, lats: np.ndarray
) -> None:
    """Metres per county within 0.5 % of shapely/pyproj on the same fixes."""
    expected = lengths_by_code(lons, lats, BORDER_COUNTIES)
    for code in BORDER_COUNTIES:
        assert abs(got[code][0] - expected[code]) / expected[code] < 0.005, code
