"""Incident routing: who answers for a report at a point, read top to bottom.

1. Lead: the lowest-level jurisdiction whose boundary in force at the report time contains
   the point, with its ancestors (the point lookup).
2. River: the nearest river segment within `segment_distance_m`.
3. Joint case, either way:
   a. Border zone: for each cooperation zone the lead's side belongs to, the other sides'
      jurisdictions within the zone's border-zone width of the point; of those, the
      lowest level found is co-responsible (with its ancestors).
   b. Border river: the point is on a segment shared by several towns; the towns not on the
      lead's side are co-responsible.
   The lead stays the side containing the point; the zone is attached.
4. A point outside every jurisdiction is kept and flagged unrouted, never dropped.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_patrol.db.bulk import copy_rows, fetch_rows
from geo_patrol.geography.levels import level_rank
from geo_patrol.geography.lookup import JurisdictionRef, jurisdictions_at
from geo_patrol.geography.pieces import BoundaryPieces, lowest_level_pieces

NEAREST_SEGMENT = """
SELECT s.id, s.is_border,
       coalesce(array_agg(x.jurisdiction_code) FILTER (WHERE x.jurisdiction_code IS NOT NULL),
                '{}') AS sides
FROM (
    SELECT id, is_border FROM river_segments
    WHERE ST_DWithin(geom::geography, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography,
                     :distance_m)
    ORDER BY geom <-> ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)
    LIMIT 1
) s LEFT JOIN river_segment_sides x ON x.segment_id = s.id
GROUP BY s.id, s.is_border
"""

# Other sides of the lead's zones, their subtrees, and which of those lie within the zone's
# border-zone width of the point (0.05 degrees: an index-only prefilter, > 3 km in China).
OTHER_SIDES_NEAR = f"""
WITH RECURSIVE zones AS (
    SELECT DISTINCT z.id, z.border_zone_width_m AS width
    FROM cooperation_zones z JOIN cooperation_zone_members m ON m.zone_id = z.id
    WHERE m.jurisdiction_code = ANY(:chain)
),
tree AS (
    SELECT m.zone_id, m.jurisdiction_code AS code, 0 AS depth
    FROM cooperation_zone_members m JOIN zones z ON z.id = m.zone_id
    WHERE m.jurisdiction_code <> ALL(:chain)
    UNION
    SELECT t.zone_id, j.code, t.depth + 1 FROM jurisdictions j JOIN tree t ON j.parent_code = t.code
    WHERE j.valid_to IS NULL AND t.depth < 10
)
SELECT DISTINCT j.id, j.code, j.name, j.name_en, j.level, j.parent_code, t.zone_id,
       {level_rank("j.level")} AS rank
FROM tree t
JOIN zones z ON z.id = t.zone_id
JOIN jurisdictions j ON j.code = t.code
 AND j.valid_from <= :at AND (j.valid_to IS NULL OR j.valid_to > :at)
 AND j.code <> ALL(:chain)
WHERE EXISTS (
    SELECT 1 FROM jurisdiction_parts jp
    WHERE jp.jurisdiction_id = j.id
      AND jp.geom && ST_Expand(ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), 0.05)
      AND ST_DWithin(jp.geom::geography,
                     ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography, z.width))
ORDER BY rank DESC, j.code, t.zone_id
"""

ZONE_OF = """
SELECT m.zone_id FROM cooperation_zone_members m
WHERE m.jurisdiction_code = ANY(:chain)
ORDER BY m.zone_id LIMIT 1
"""


@dataclass
class Routing:
    """The outcome: lead chain, co-responsible chains, zone, river segment, flags."""

    lead: list[JurisdictionRef] = field(default_factory=list)
    co: list[list[JurisdictionRef]] = field(default_factory=list)
    zone_id: int | None = None
    segment_id: int | None = None
    border_segment: bool = False

    @property
    def unrouted(self) -> bool:
        """No jurisdiction contains the point."""
        return not self.lead

    @property
    def joint(self) -> bool:
        """More than one side answers."""
        return bool(self.co)


def route_point(
    session: Session, *, lon: float, lat: float, at: datetime, segment_distance_m: float = 100.0
) -> Routing:
    """Apply the routing rule to one point."""
    found = jurisdictions_at(session, lon=lon, lat=lat, at=at)
    routing = Routing(lead=found.chain)
    point = {"lon": lon, "lat": lat}
    segment = session.execute(
        text(NEAREST_SEGMENT), {**point, "distance_m": segment_distance_m}
    ).first()
    if segment is not None:
        routing.segment_id, routing.border_segment = segment.id, bool(segment.is_border)
    if routing.unrouted:
        return routing
    chain = [ref.code for ref in routing.lead]
    near = session.execute(text(OTHER_SIDES_NEAR), {**point, "chain": chain, "at": at}).all()
    co_codes: list[str] = []
    if near:
        lowest = near[0].rank
        co_codes += [row.code for row in near if row.rank == lowest]
        routing.zone_id = near[0].zone_id
    if segment is not None and segment.is_border:
        co_codes += [code for code in segment.sides if code not in chain]
    routing.co = _chains(session, codes=sorted(set(co_codes)), at=at, exclude=set(chain))
    if routing.co and routing.zone_id is None:
        routing.zone_id = session.execute(text(ZONE_OF), {"chain": chain}).scalar()
    return routing


ANCESTORS = """
WITH RECURSIVE chain AS (
    SELECT j.code, j.id, j.name, j.name_en, j.level, j.parent_code, 0 AS depth
    FROM jurisdictions j
    WHERE j.code = :code AND j.valid_from <= :at AND (j.valid_to IS NULL OR j.valid_to > :at)
    UNION ALL
    SELECT p.code, p.id, p.name, p.name_en, p.level, p.parent_code, c.depth + 1
    FROM chain c JOIN jurisdictions p ON p.code = c.parent_code
     AND p.valid_from <= :at AND (p.valid_to IS NULL OR p.valid_to > :at)
    WHERE c.depth < 10
)
SELECT id, code, name, name_en, level, parent_code FROM chain ORDER BY depth
"""


def _chains(
    session: Session, *, codes: list[str], at: datetime, exclude: set[str]
) -> list[list[JurisdictionRef]]:
    """Each co-responsible jurisdiction with the ancestors not shared with the lead."""
    chains = []
    for code in codes:
        rows = session.execute(text(ANCESTORS), {"code": code, "at": at}).all()
        chain = [
            JurisdictionRef(r.id, r.code, r.name, r.name_en, r.level, r.parent_code)
            for r in rows
            if r.code not in exclude
        ]
        if chain:
            chains.append(chain)
    return chains


# Batch: the lowest-level jurisdiction in force containing each staged point, in one
# set-based statement (the bulk form of step 1). With the boundaries in force now, over the
# leaf pieces (a point lies in about one); at an earlier moment, over the subdivided parts
# of every version then in force (a point lies in one per level). Fetched with the driver's
# own cursor (psycopg placeholders).
#
# The points come staged in square cells of CELL_DEG. A cell that exactly one piece in force
# touches, and that lies in that piece's interior (`ST_ContainsProperly`, the cell widened by
# 1e-9 degrees so that rounding of the cell's edges cannot matter), gives that piece's code
# to all its points with no test per point: they are inside it and in no other piece. Only
# the points of the other cells (those crossed by a boundary: about 3 % of the two demo
# counties' cells) are tested one by one, as before, so every point gets the same code as a
# test of every point would give. No index on the points is built (a million-point GiST
# build was a third of the time). The points come back as one list of ids per code (a
# million rows of (id, code) took longer to fetch than to find).
def _batch_lead(pieces: BoundaryPieces) -> str:
    """The batch lookup over one table of boundary pieces."""
    in_force = "j.valid_from <= %(at)s AND (j.valid_to IS NULL OR j.valid_to > %(at)s)"
    return f"""
WITH cells AS (
    SELECT cx, cy, ST_MakeEnvelope(cx * %(cell)s - 1e-9, cy * %(cell)s - 1e-9,
                                   (cx + 1) * %(cell)s + 1e-9, (cy + 1) * %(cell)s + 1e-9, 4326)
           AS box
    FROM (SELECT DISTINCT cx, cy FROM batch_points) c
),
hits AS (
    SELECT c.cx, c.cy, count(*) = 1 AND bool_and(ST_ContainsProperly(jp.geom, c.box)) AS whole,
           min(j.code) AS code
    FROM cells c
    JOIN {pieces} jp ON ST_Intersects(jp.geom, c.box)
    JOIN jurisdictions j ON j.id = jp.jurisdiction_id AND {in_force}
    GROUP BY c.cx, c.cy
)
SELECT code, string_agg(CAST(id AS text), ',') FROM (
SELECT p.id, h.code FROM batch_points p JOIN hits h ON h.cx = p.cx AND h.cy = p.cy AND h.whole
UNION ALL
SELECT id, code FROM (
    SELECT DISTINCT ON (p.id) p.id, j.code, {level_rank("j.level")} AS rank
    FROM batch_points p
    JOIN hits h ON h.cx = p.cx AND h.cy = p.cy AND NOT h.whole
    JOIN {pieces} jp ON ST_Intersects(jp.geom, ST_SetSRID(ST_MakePoint(p.lon, p.lat), 4326))
    JOIN jurisdictions j ON j.id = jp.jurisdiction_id AND {in_force}
    ORDER BY p.id, rank DESC, j.code
) tested
) leads GROUP BY code
"""


BATCH_LEAD = {pieces: _batch_lead(pieces) for pieces in BoundaryPieces}

STAGE = """
DROP TABLE IF EXISTS batch_points;
CREATE TEMP TABLE batch_points (id int, lon float8, lat float8, cx int, cy int) ON COMMIT DROP
"""

# Points are staged in 0.005 degree cells (about 500 m), neighbours together.
CELL_DEG = 0.005
# Coordinates that are not finite, or beyond any boundary, go to a cell that no piece reaches
# (their points are in no jurisdiction, as a test of each would find).
NOWHERE_DEG = 1e6


def batch_cells(x: NDArray[np.float64], y: NDArray[np.float64]) -> tuple[NDArray[np.int32], ...]:
    """The cell (column, row) of each point: floor(coordinate / CELL_DEG)."""
    cells = []
    for values in (x, y):
        kept = np.clip(np.nan_to_num(values, nan=NOWHERE_DEG), -NOWHERE_DEG, NOWHERE_DEG)
        cells.append(np.floor(kept / CELL_DEG).astype(np.int32))
    return cells[0], cells[1]


def lead_codes_batch(
    session: Session, *, lons: ArrayLike, lats: ArrayLike, at: datetime
) -> dict[int, str]:
    """Lowest-level jurisdiction code per point index (points outside all are absent).

    Raises work_mem for the rest of the transaction (the sort of a million matches fits) and
    turns JIT off for it: compiling the plan of a million points took 0.4-0.9 s of the 4-8 s
    it ran (bench/README.md, routing against GeoPandas) and saved nothing measurable.
    """
    x, y = np.asarray(lons, np.float64), np.asarray(lats, np.float64)
    cx, cy = batch_cells(x, y)
    order = np.lexsort((cy, cx))
    session.execute(text(STAGE))
    copy_rows(
        session,
        table="batch_points",
        columns={
            "id": order.astype(np.int32),
            "lon": x[order],
            "lat": y[order],
            "cx": cx[order],
            "cy": cy[order],
        },
    )
    session.execute(
        text(
            "ANALYZE batch_points; "
            "SELECT set_config('work_mem', '256MB', true), set_config('jit', 'off', true)"
        )
    )
    pieces = lowest_level_pieces(session, at=at)
    rows = fetch_rows(session, BATCH_LEAD[pieces], {"at": at, "cell": CELL_DEG})
    codes: dict[int, str] = {}
    for code, ids in rows:
        codes.update(dict.fromkeys(map(int, ids.split(",")), code))
    return codes


# Batch routing of whole reports (an import): the same four steps as `route_point`, each a
# set-based statement over all the points, so row n's Routing equals route_point's for it.
# Boundaries in force change only at the moments versions start or end: between two such
# moments every report sees the same boundaries, so the leads are looked up once per period.
CHANGES = """
SELECT DISTINCT t FROM (
    SELECT valid_from AS t FROM jurisdictions
    UNION ALL SELECT valid_to FROM jurisdictions WHERE valid_to IS NOT NULL
) moments ORDER BY t
"""

# Each start code and its ancestors in force at :at (ANCESTORS for many codes at once).
ANCESTORS_OF_MANY = """
WITH RECURSIVE chain AS (
    SELECT j.code AS start, j.code, j.id, j.name, j.name_en, j.level, j.parent_code, 0 AS depth
    FROM jurisdictions j
    WHERE j.code = ANY(:codes) AND j.valid_from <= :at AND (j.valid_to IS NULL OR j.valid_to > :at)
    UNION ALL
    SELECT c.start, p.code, p.id, p.name, p.name_en, p.level, p.parent_code, c.depth + 1
    FROM chain c JOIN jurisdictions p ON p.code = c.parent_code
     AND p.valid_from <= :at AND (p.valid_to IS NULL OR p.valid_to > :at)
    WHERE c.depth < 10
)
SELECT start, id, code, name, name_en, level, parent_code FROM chain ORDER BY start, depth
"""

# An index prefilter that keeps every place within a distance: a degree of longitude is at
# least 30 km up to latitude 74 (China reaches 54), so metres / 30,000 degrees is enough.
METRES_PER_DEGREE = 30_000.0

POINTS = """
SELECT * FROM unnest(CAST(:ids AS int[]), CAST(:lons AS float8[]), CAST(:lats AS float8[]),
                     CAST(:ats AS timestamptz[]), CAST(:chains AS text[]))
         AS p(id, lon, lat, at, chain)
"""

# NEAREST_SEGMENT for every point.
NEAREST_SEGMENTS = f"""
SELECT p.id AS point, s.id, s.is_border, s.sides FROM ({POINTS}) p
CROSS JOIN LATERAL (
    SELECT s.id, s.is_border,
           coalesce(array_agg(x.jurisdiction_code) FILTER (WHERE x.jurisdiction_code IS NOT NULL),
                    '{{}}') AS sides
    FROM (
        SELECT id, is_border FROM river_segments
        WHERE geom && ST_Expand(ST_SetSRID(ST_MakePoint(p.lon, p.lat), 4326),
                                :distance_m / {METRES_PER_DEGREE})
          AND ST_DWithin(geom::geography,
                         ST_SetSRID(ST_MakePoint(p.lon, p.lat), 4326)::geography, :distance_m)
        ORDER BY geom <-> ST_SetSRID(ST_MakePoint(p.lon, p.lat), 4326)
        LIMIT 1
    ) s LEFT JOIN river_segment_sides x ON x.segment_id = s.id
    GROUP BY s.id, s.is_border
) s
"""

# OTHER_SIDES_NEAR for every routed point: the candidates (other sides of the zones of each
# distinct lead chain, and their subtrees) once per chain, then the distance test per point.
OTHER_SIDES_NEAR_MANY = f"""
WITH RECURSIVE points AS ({POINTS}),
chains AS (SELECT DISTINCT chain, string_to_array(chain, ',') AS codes FROM points),
zones AS (
    SELECT DISTINCT c.chain, z.id, z.border_zone_width_m AS width
    FROM chains c JOIN cooperation_zone_members m ON m.jurisdiction_code = ANY(c.codes)
    JOIN cooperation_zones z ON z.id = m.zone_id
),
tree AS (
    SELECT z.chain, m.zone_id, m.jurisdiction_code AS code, 0 AS depth
    FROM cooperation_zone_members m JOIN zones z ON z.id = m.zone_id
    JOIN chains c ON c.chain = z.chain
    WHERE m.jurisdiction_code <> ALL(c.codes)
    UNION
    SELECT t.chain, t.zone_id, j.code, t.depth + 1
    FROM jurisdictions j JOIN tree t ON j.parent_code = t.code
    WHERE j.valid_to IS NULL AND t.depth < 10
)
SELECT DISTINCT p.id AS point, j.id, j.code, j.name, j.name_en, j.level, j.parent_code,
       t.zone_id, {level_rank("j.level")} AS rank
FROM points p
JOIN chains c ON c.chain = p.chain
JOIN tree t ON t.chain = p.chain
JOIN zones z ON z.id = t.zone_id AND z.chain = p.chain
JOIN jurisdictions j ON j.code = t.code
 AND j.valid_from <= p.at AND (j.valid_to IS NULL OR j.valid_to > p.at)
 AND j.code <> ALL(c.codes)
WHERE EXISTS (
    SELECT 1 FROM jurisdiction_parts jp
    WHERE jp.jurisdiction_id = j.id
      AND jp.geom && ST_Expand(ST_SetSRID(ST_MakePoint(p.lon, p.lat), 4326),
                               least(0.05, z.width / {METRES_PER_DEGREE}))
      AND ST_DWithin(jp.geom::geography,
                     ST_SetSRID(ST_MakePoint(p.lon, p.lat), 4326)::geography, z.width))
ORDER BY point, rank DESC, j.code, t.zone_id
"""

ZONES_OF_CODES = """
SELECT jurisdiction_code AS code, min(zone_id) AS zone_id FROM cooperation_zone_members
WHERE jurisdiction_code = ANY(:codes) GROUP BY jurisdiction_code
"""


def route_points(
    session: Session,
    *,
    lons: list[float],
    lats: list[float],
    ats: list[datetime],
    segment_distance_m: float = 100.0,
) -> list[Routing]:
    """`route_point` for many points at once (each at its own moment), in a few set-based
    statements: the leads by `lead_codes_batch`, then segments and joint sides for all."""
    leads = _batch_leads(session, lons=lons, lats=lats, ats=ats)
    routings = [Routing(lead=leads.get(n, [])) for n in range(len(lons))]
    chains = [",".join(ref.code for ref in routing.lead) for routing in routings]
    points: dict[str, list[Any]] = {
        "ids": list(range(len(lons))),
        "lons": list(lons),
        "lats": list(lats),
        "ats": list(ats),
        "chains": chains,
    }
    segments = {
        row.point: row
        for row in session.execute(
            text(NEAREST_SEGMENTS), {**points, "distance_m": segment_distance_m}
        )
    }
    near: dict[int, list[Any]] = {}
    routed = [n for n, routing in enumerate(routings) if not routing.unrouted]
    if routed:
        only = {key: [values[n] for n in routed] for key, values in points.items()}
        for row in session.execute(text(OTHER_SIDES_NEAR_MANY), only):
            near.setdefault(row.point, []).append(row)
    co_codes = {n: _co_codes(routings[n], near.get(n, []), segments.get(n)) for n in routed}
    for n, segment in segments.items():
        routings[n].segment_id, routings[n].border_segment = segment.id, bool(segment.is_border)
    _attach_co(session, routings, co_codes, ats)
    return routings


def _co_codes(routing: Routing, near: list[Any], segment: Any) -> list[str]:
    """Step 3 of one point, from its fetched rows (as `route_point` does it)."""
    chain = [ref.code for ref in routing.lead]
    codes: list[str] = []
    if near:
        lowest = near[0].rank
        codes += [row.code for row in near if row.rank == lowest]
        routing.zone_id = near[0].zone_id
    if segment is not None and segment.is_border:
        codes += [code for code in segment.sides if code not in chain]
    return sorted(set(codes))


def _attach_co(
    session: Session, routings: list[Routing], co_codes: dict[int, list[str]], ats: list[datetime]
) -> None:
    """Each point's co-responsible chains, and its zone when only a border river made it
    joint (the first zone of its lead chain, as ZONE_OF)."""
    wanted = {n: codes for n, codes in co_codes.items() if codes}
    ancestors = _ancestors(session, codes_at={n: (codes, ats[n]) for n, codes in wanted.items()})
    all_codes = sorted({ref.code for n in wanted for ref in routings[n].lead})
    zones = {
        row.code: row.zone_id for row in session.execute(text(ZONES_OF_CODES), {"codes": all_codes})
    }
    for n, codes in wanted.items():
        routing = routings[n]
        exclude = {ref.code for ref in routing.lead}
        for code in codes:
            chain = [ref for ref in ancestors.get((n, code), []) if ref.code not in exclude]
            if chain:
                routing.co.append(chain)
        if routing.co and routing.zone_id is None:
            found = [zones[code] for code in exclude if code in zones]
            routing.zone_id = min(found) if found else None


def _ancestors(
    session: Session, *, codes_at: dict[int, tuple[list[str], datetime]]
) -> dict[tuple[int, str], list[JurisdictionRef]]:
    """For each point's codes, the chain up from each in force at its moment; one statement
    per period of unchanged boundaries."""
    changes = _changes(session)
    by_period: dict[int, list[int]] = {}
    for n, (_, at) in codes_at.items():
        by_period.setdefault(bisect_right(changes, at), []).append(n)
    found: dict[tuple[int, str], list[JurisdictionRef]] = {}
    for members in by_period.values():
        codes = sorted({code for n in members for code in codes_at[n][0]})
        at = min(codes_at[n][1] for n in members)
        chains: dict[str, list[JurisdictionRef]] = {}
        for r in session.execute(text(ANCESTORS_OF_MANY), {"codes": codes, "at": at}):
            ref = JurisdictionRef(r.id, r.code, r.name, r.name_en, r.level, r.parent_code)
            chains.setdefault(r.start, []).append(ref)
        for n in members:
            for code in codes_at[n][0]:
                found[(n, code)] = chains.get(code, [])
    return found


def _changes(session: Session) -> list[datetime]:
    """The moments a boundary version started or ended, in order."""
    return list(session.execute(text(CHANGES)).scalars())


def _batch_leads(
    session: Session, *, lons: list[float], lats: list[float], ats: list[datetime]
) -> dict[int, list[JurisdictionRef]]:
    """The lead chain per point index: `lead_codes_batch` once per period of unchanged
    boundaries, then each lead code's ancestors."""
    changes = _changes(session)
    periods: dict[int, list[int]] = {}
    for n, at in enumerate(ats):
        periods.setdefault(bisect_right(changes, at), []).append(n)
    codes: dict[int, list[str]] = {}
    for members in periods.values():
        at = min(ats[n] for n in members)
        found = lead_codes_batch(
            session, lons=[lons[n] for n in members], lats=[lats[n] for n in members], at=at
        )
        for k, code in found.items():
            codes[members[k]] = [code]
    chains = _ancestors(session, codes_at={n: (code, ats[n]) for n, code in codes.items()})
    return {n: chains[(n, code[0])] for n, code in codes.items()}
