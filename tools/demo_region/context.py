"""Job 3, context simplification: the province and city boundaries simplified as one
topology, the two counties kept at full resolution."""

from __future__ import annotations

from collections.abc import Sequence

import shapely
from shapely.geometry import LineString, Point

from .geometry import as_multipolygon, coord_set
from .region import CONTEXT_TOLERANCE, Geom


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
