"""Job 4, made-up partitions: towns, villages and grids tiling their parents (Voronoi),
and one settlement point per village."""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from typing import Any

import numpy as np
import shapely
from shapely.geometry import LineString, MultiPolygon, Point

from .geometry import as_multipolygon, coord_set, round_coords
from .region import (
    DEMO_SOURCE,
    DENSIFY,
    GRID_NUMERALS,
    GRID_RNG_SEED,
    PRECISION,
    TOWN_SEEDS,
    VILLAGE_NAMES,
    VILLAGE_RNG_SEED,
    Area,
    FloatArray,
    Geom,
    LonLat,
)


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
