"""Job 7, output: the four data files (one feature a line, rounded) and the size summary."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from shapely.geometry import mapping

from .geometry import vertex_count
from .region import PRECISION, Area, Geom


def rounded(obj: Any) -> Any:
    """Coordinates of a GeoJSON geometry mapping as nested lists rounded to PRECISION."""
    if isinstance(obj, (list, tuple)):
        if obj and isinstance(obj[0], float):
            return [round(v, PRECISION) for v in obj]
        return [rounded(o) for o in obj]
    return obj


def feature_collection(features: Iterable[tuple[dict[str, Any], Geom]]) -> str:
    """A FeatureCollection, one feature per line, compact separators."""
    lines = []
    for props, geom in features:
        g = mapping(geom)
        g = {"type": g["type"], "coordinates": rounded(g["coordinates"])}
        feature = {"type": "Feature", "properties": props, "geometry": g}
        lines.append(json.dumps(feature, ensure_ascii=False, separators=(",", ":")))
    return '{"type":"FeatureCollection","features":[\n' + ",\n".join(lines) + "\n]}\n"


def area_props(area: Area) -> dict[str, Any]:
    """GeoJSON properties of a jurisdiction."""
    return {
        "code": area.code,
        "name": area.name,
        "name_en": area.name_en,
        "level": area.level,
        "parent_code": area.parent_code,
        "source": area.source,
    }


def write_outputs(
    out: Path,
    areas: Sequence[Area],
    rivers: Sequence[dict[str, Any]],
    points: Sequence[dict[str, Any]],
    org: dict[str, Any],
) -> None:
    """Write the four data files."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "jurisdictions.geojson").write_text(
        feature_collection((area_props(a), a.geom) for a in areas), encoding="utf-8"
    )
    (out / "rivers.geojson").write_text(
        feature_collection(
            ({k: v for k, v in r.items() if k != "geom"}, r["geom"]) for r in rivers
        ),
        encoding="utf-8",
    )
    (out / "villages.geojson").write_text(
        feature_collection(
            ({k: v for k, v in p.items() if k != "geom"}, p["geom"]) for p in points
        ),
        encoding="utf-8",
    )
    (out / "organisation.json").write_text(
        json.dumps(org, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )


def summary(
    out: Path,
    areas: Sequence[Area],
    rivers: Sequence[dict[str, Any]],
    points: Sequence[dict[str, Any]],
) -> list[str]:
    """Counts, vertices and sizes."""
    rows = [f"{'level / file':<28}{'features':>9}{'vertices':>10}{'bytes':>10}"]
    for level in ("province", "city", "county", "town", "village", "grid"):
        sel = [a.geom for a in areas if a.level == level]
        rows.append(f"  {level:<26}{len(sel):>9}{vertex_count(sel):>10}")
    files = {
        "jurisdictions.geojson": [a.geom for a in areas],
        "rivers.geojson": [r["geom"] for r in rivers],
        "villages.geojson": [p["geom"] for p in points],
        "organisation.json": [],
    }
    total = 0
    for name, geoms in files.items():
        size = (out / name).stat().st_size
        total += size
        rows.append(f"{name:<28}{len(geoms) or '':>9}{vertex_count(geoms) or '':>10}{size:>10}")
    rows.append(f"{'total':<28}{'':>9}{'':>10}{total:>10}")
    if total > 1_500_000:
        raise RuntimeError(f"output too large: {total} bytes")
    return rows
