"""Geometry basics shared by the jobs: rounding, MultiPolygons, UTM 51N metres."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pyproj
import shapely
from shapely.geometry import MultiPolygon, Polygon

from .region import PRECISION, Geom

UTM = pyproj.CRS.from_epsg(32651)  # WGS84 / UTM 51N covers 120E..126E
TO_UTM = pyproj.Transformer.from_crs(4326, UTM, always_xy=True)
TO_LONLAT = pyproj.Transformer.from_crs(UTM, 4326, always_xy=True)


def round_coords(geom: Geom) -> Geom:
    """Round every coordinate to PRECISION decimals."""
    return shapely.transform(geom, lambda c: np.round(c, PRECISION))


def as_multipolygon(geom: Geom) -> MultiPolygon:
    """Polygonal parts of geom as a MultiPolygon with RFC 7946 ring orientation."""
    parts = [p for p in shapely.get_parts(geom) if isinstance(p, Polygon) and not p.is_empty]
    return shapely.orient_polygons(MultiPolygon(parts), exterior_cw=False)


def to_utm(geom: Geom) -> Geom:
    """WGS84 lon/lat -> UTM 51N metres."""
    return shapely.transform(geom, lambda c: np.column_stack(TO_UTM.transform(c[:, 0], c[:, 1])))


def to_lonlat(geom: Geom) -> Geom:
    """UTM 51N metres -> WGS84 lon/lat."""
    return shapely.transform(geom, lambda c: np.column_stack(TO_LONLAT.transform(c[:, 0], c[:, 1])))


def vertex_count(geoms: Iterable[Geom]) -> int:
    """Total number of coordinates."""
    return int(sum(shapely.get_num_coordinates(g) for g in geoms))


def coord_set(geom: Geom) -> set[tuple[float, float]]:
    """Set of (x, y) coordinates of geom."""
    return {(float(x), float(y)) for x, y in shapely.get_coordinates(geom)}
