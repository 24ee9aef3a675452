"""Job 5, rivers: the border river along the town border, one crossing it, one inside each
county."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import shapely
from shapely.geometry import LineString, Point
from shapely.ops import substring

from .geometry import round_coords, to_lonlat, to_utm
from .region import (
    BORDER_RIVER_ENDS,
    BORDER_RIVER_MAX_OFFSET_M,
    CROSSING_POINT,
    DEMO_SOURCE,
    WUJIANG,
    XIUZHOU,
    FloatArray,
    Geom,
    LonLat,
)

# Which way each river runs against its drawn line (rivers.flow; DATA_SOURCES.md says how we
# know). The real 小天圩 border river is 麻溪塘/麻溪港, which runs from 盛泽 (upstream) past
# 王江泾 into the 苏嘉运河: towards the southern end of our border stretch, against its drawing.
# 澜溪塘 runs north-east with the plain's drainage towards 太浦河 (drawn south to north); 太浦河
# carries Lake Tai's water east towards 黄浦江 (drawn from the lake end); 新塍塘 runs east from
# 新塍 towards Jiaxing (drawn west to east).
FLOWS = {
    "R-320509-330411-01": "reversed",
    "R-320509-330411-02": "as_drawn",
    "R-320509-01": "as_drawn",
    "R-330411-01": "as_drawn",
}


def chaikin(xy: FloatArray, iterations: int = 3, max_cut: float = 20.0) -> FloatArray:
    """Chaikin corner cutting with cuts of at most max_cut metres; end points kept."""
    for _ in range(iterations):
        out = [xy[0]]
        for a, b in itertools.pairwise(xy):
            seg_len = float(np.hypot(*(b - a)))
            t = min(0.25, max_cut / seg_len) if seg_len > 0 else 0.0
            out += [a + t * (b - a), b - t * (b - a)]
        out.append(xy[-1])
        xy = np.asarray(out)
    return xy


def border_river(shared: Geom) -> LineString:
    """小天圩河 (demo): the smoothed shared border between BORDER_RIVER_ENDS."""
    ends = [Point(p) for p in BORDER_RIVER_ENDS]
    parts = shapely.get_parts(shapely.line_merge(shared))
    line = min(parts, key=lambda g: sum(g.distance(e) for e in ends))
    d = sorted(line.project(e) for e in ends)
    stretch = to_utm(substring(line, d[0], d[1]))
    smooth = LineString(chaikin(shapely.get_coordinates(stretch))).simplify(0.5)
    offset = smooth.hausdorff_distance(stretch)
    if offset > BORDER_RIVER_MAX_OFFSET_M or not 4000 <= smooth.length <= 8000:
        raise RuntimeError(f"border river off: {offset:.1f} m, {smooth.length:.0f} m long")
    return round_coords(to_lonlat(smooth))


def wiggle(start: FloatArray, end: FloatArray, amplitude: float, waves: float) -> LineString:
    """A gently meandering line from start to end (UTM metres)."""
    s = np.linspace(0.0, 1.0, 61)
    direction = end - start
    normal = np.array([-direction[1], direction[0]]) / np.hypot(*direction)
    offset = amplitude * np.sin(2 * np.pi * waves * s) * np.sin(np.pi * s)
    return LineString(start + np.outer(s, direction) + np.outer(offset, normal))


def crossing_river(border: Geom) -> LineString:
    """澜溪塘 (demo): crosses the border roughly at right angles near CROSSING_POINT."""
    b = to_utm(shapely.line_merge(border))
    at = b.project(to_utm(Point(CROSSING_POINT)))
    p0, p1 = b.interpolate(at - 1500), b.interpolate(at + 1500)
    tangent = np.array([p1.x - p0.x, p1.y - p0.y]) / p0.distance(p1)
    normal = np.array([-tangent[1], tangent[0]])
    centre = np.array(shapely.get_coordinates(b.interpolate(at))[0])
    line = wiggle(centre - 2600 * normal, centre + 2400 * normal, 120.0, 1.5)
    return round_coords(to_lonlat(line))


def inner_river(county: Geom, start: LonLat, end: LonLat, waves: float) -> LineString:
    """A river inside a county: meandering line clipped to the county shrunk by ~150 m."""
    a, b = (np.array(shapely.get_coordinates(to_utm(Point(p)))[0]) for p in (start, end))
    line = to_lonlat(wiggle(a, b, 600.0, waves))
    inside = shapely.intersection(line, county.buffer(-0.0015))
    longest = max(shapely.get_parts(inside), key=lambda g: g.length)
    return round_coords(longest)


def make_rivers(
    counties: dict[str, Geom], border: Geom, shared_towns: Geom
) -> list[dict[str, Any]]:
    """The four demo rivers."""
    rivers = [
        (
            "R-320509-330411-01",
            "小天圩河（演示）",
            "Xiaotianwei River (demo)",
            True,
            border_river(shared_towns),
        ),
        (
            "R-320509-330411-02",
            "澜溪塘（演示）",
            "Lanxi Tang (demo)",
            False,
            crossing_river(border),
        ),
        (
            "R-320509-01",
            "太浦河（演示）",
            "Taipu River (demo)",
            False,
            inner_river(counties[WUJIANG], (120.43, 30.975), (120.90, 31.035), 2.5),
        ),
        (
            "R-330411-01",
            "新塍塘（演示）",
            "Xincheng Tang (demo)",
            False,
            inner_river(counties[XIUZHOU], (120.545, 30.800), (120.715, 30.772), 1.5),
        ),
    ]
    return [
        {
            "code": c,
            "name": n,
            "name_en": e,
            "border": b,
            "flow": FLOWS[c],
            "source": DEMO_SOURCE,
            "geom": g,
        }
        for c, n, e, b, g in rivers
    ]
