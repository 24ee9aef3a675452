"""Patrol attribution: metres and seconds in every jurisdiction, and confirmed crossings.

Read top to bottom:
1. Each kept fix gets its leaf: the lowest-level jurisdiction whose boundary in force at the
   fix's time contains it (one point-in-polygon probe on the leaf pieces). Its jurisdiction
   at every other level is the leaf's ancestor there (boundaries nest: a town lies within
   its county), so six spatial joins become one and a join on the hierarchy.
2. Each leg (consecutive kept fixes) is measured on the ellipsoid. A leg with the same
   jurisdiction at both ends counts whole for it; a leg whose ends differ is cut by the
   jurisdictions at its ends, each getting the metres inside it. Seconds follow metres.
   Both sides of a joint patrol get their own metres: effort is never lost at the line.
3. Crossings: GPS fixes along a border hop from side to side within a few metres. A change
   of side counts only once the track is firmly on the new side (hysteresis): it stayed
   there for `long_run_m` metres, or for `min_run_m` metres with a fix at least `margin_m`
   from every other jurisdiction of that level. A walk along the border gives no
   crossings; a real crossing gives one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_patrol.bulk import fetch_rows
from geo_patrol.coords import utm_crs_for
from geo_patrol.spatial.levels import level_rank
from geo_patrol.spatial.pieces import lowest_level_pieces

# The kept fixes on their own, indexed: each piece then finds its fixes through one index
# scan (the shape's prepared form reused), much cheaper than one probe per fix.
FIXES = """
CREATE TEMP TABLE fixes ON COMMIT DROP AS
SELECT ord, time, geom FROM patrol_points WHERE patrol_id = :patrol_id AND ord IS NOT NULL
"""

LEAVES = f"""
CREATE TEMP TABLE fix_leaves ON COMMIT DROP AS
SELECT DISTINCT ON (p.ord) p.ord, j.id AS leaf_id
FROM fixes p
JOIN {{pieces}} jp ON ST_Intersects(jp.geom, p.geom)
JOIN jurisdictions j ON j.id = jp.jurisdiction_id
 AND j.valid_from <= coalesce(p.time, now())
 AND (j.valid_to IS NULL OR j.valid_to > coalesce(p.time, now()))
ORDER BY p.ord, {level_rank("j.level")} DESC, j.code
"""

# Every leaf (of a fix, or crossed by a leg) with itself and its ancestors in force when the
# patrol started: one row a level.
CHAINS = """
CREATE TEMP TABLE chains ON COMMIT DROP AS
WITH RECURSIVE chain AS (
    SELECT j.id AS leaf_id, j.id, j.code, j.level, j.parent_code, 0 AS depth
    FROM jurisdictions j
    WHERE j.id IN (SELECT leaf_id FROM fix_leaves UNION SELECT jurisdiction_id FROM splits)
    UNION ALL
    SELECT c.leaf_id, p.id, p.code, p.level, p.parent_code, c.depth + 1
    FROM chain c JOIN jurisdictions p ON p.code = c.parent_code
     AND p.valid_from <= :started AND (p.valid_to IS NULL OR p.valid_to > :started)
    WHERE c.depth < 10
)
SELECT leaf_id, level, id AS jurisdiction_id, code FROM chain
"""

# Legs, with the leaf at each end; only a leg between two leaves needs its line.
LEGS = """
CREATE TEMP TABLE legs ON COMMIT DROP AS
SELECT a.ord, a.time AS t0, b.time AS t1, la.leaf_id AS leaf0, lb.leaf_id AS leaf1,
       ST_Distance(a.geom::geography, b.geom::geography) AS length_m,
       CASE WHEN la.leaf_id IS DISTINCT FROM lb.leaf_id THEN ST_MakeLine(a.geom, b.geom) END
           AS geom
FROM fixes a
JOIN fixes b ON b.ord = a.ord + 1
LEFT JOIN fix_leaves la ON la.ord = a.ord
LEFT JOIN fix_leaves lb ON lb.ord = b.ord
"""

# Each leg between two leaves, cut by the pieces it crosses: metres in each piece's owner.
# (Also where the leg enters each piece, for the place of a crossing.)
SPLITS = """
CREATE TEMP TABLE splits ON COMMIT DROP AS
SELECT l.ord, jp.jurisdiction_id, ST_Length(inside.geom::geography) AS m,
       ST_StartPoint(ST_GeometryN(inside.geom, 1)) AS entry
FROM legs l
JOIN {pieces} jp ON jp.geom && l.geom AND ST_Intersects(jp.geom, l.geom)
CROSS JOIN LATERAL ST_Intersection(l.geom, jp.geom) AS inside(geom)
WHERE l.geom IS NOT NULL
"""

# Which jurisdictions the metres of a piece count for: a leaf piece for the leaf and its
# ancestors, a part for its own jurisdiction.
CREDIT = """
CREATE TEMP TABLE credit ON COMMIT DROP AS
SELECT leaf_id AS owner_id, jurisdiction_id, code FROM chains WHERE :by_leaves
UNION ALL
SELECT DISTINCT s.jurisdiction_id, s.jurisdiction_id, j.code
FROM splits s JOIN jurisdictions j ON j.id = s.jurisdiction_id WHERE NOT :by_leaves
"""

# Metres, seconds, first and last time per jurisdiction: legs within one leaf count whole for
# the leaf and its ancestors; a leg between leaves counts whole for a jurisdiction at both
# of its ends, and is cut by one at only one end: the metres of its splits in the pieces
# credited to that jurisdiction.
ATTRIBUTE = """
WITH whole AS (
    SELECT leaf0 AS leaf_id, sum(length_m) AS inside_m,
           sum(CASE WHEN length_m > 0 THEN extract(epoch FROM t1 - t0) ELSE 0 END) AS seconds,
           min(t0) AS t0, max(t1) AS t1
    FROM legs WHERE leaf0 = leaf1
    GROUP BY leaf0
),
ends AS (
    SELECT l.ord, c.jurisdiction_id, count(*) AS n
    FROM legs l
    CROSS JOIN LATERAL (VALUES (l.leaf0), (l.leaf1)) AS e(leaf_id)
    JOIN chains c ON c.leaf_id = e.leaf_id
    WHERE l.leaf0 IS DISTINCT FROM l.leaf1
    GROUP BY l.ord, c.jurisdiction_id
),
cut AS (
    SELECT e.jurisdiction_id, l.t0, l.t1, l.length_m AS leg_m,
           CASE WHEN e.n = 2 THEN l.length_m
                ELSE (SELECT coalesce(sum(s.m), 0) FROM splits s
                      JOIN credit c ON c.owner_id = s.jurisdiction_id
                      WHERE s.ord = e.ord AND c.jurisdiction_id = e.jurisdiction_id)
           END AS inside_m
    FROM ends e JOIN legs l ON l.ord = e.ord
),
pieces AS (
    SELECT c.jurisdiction_id, w.inside_m, w.seconds, w.t0, w.t1
    FROM whole w JOIN chains c ON c.leaf_id = w.leaf_id
    UNION ALL
    SELECT jurisdiction_id, inside_m,
           CASE WHEN leg_m > 0 THEN extract(epoch FROM t1 - t0) * inside_m / leg_m ELSE 0 END,
           t0, t1
    FROM cut
)
INSERT INTO patrol_jurisdictions
    (patrol_id, jurisdiction_id, code, level, length_m, duration_s, entered_at, exited_at)
SELECT :patrol_id, j.id, j.code, j.level, sum(p.inside_m), sum(p.seconds), min(p.t0), max(p.t1)
FROM pieces p JOIN jurisdictions j ON j.id = p.jurisdiction_id
GROUP BY j.id, j.code, j.level
"""

SEQUENCE = """
SELECT p.ord, coalesce(f.leaf_id, -1) AS leaf_id, coalesce(l.length_m, 0) AS next_m
FROM fixes p
LEFT JOIN fix_leaves f ON f.ord = p.ord
LEFT JOIN legs l ON l.ord = p.ord
ORDER BY p.ord
"""

START_AND_CENTRE = """
SELECT min(time) AS started, ST_X(ST_Centroid(ST_Extent(geom))) AS lon,
       ST_Y(ST_Centroid(ST_Extent(geom))) AS lat
FROM patrol_points WHERE patrol_id = :patrol_id AND ord IS NOT NULL
"""

# Where the leg into the new side meets it: the first place along the leg where it enters a
# piece credited to the new jurisdiction (its end if none); its time interpolated along the
# leg. (The ends of such a leg have different leaves, so the leg has its line and splits.)
CROSSING = """
INSERT INTO patrol_crossings (patrol_id, level, at, from_code, to_code, geom)
SELECT :patrol_id, x.level,
       l.t0 + (l.t1 - l.t0) * ST_LineLocatePoint(l.geom, entry.geom),
       x.from_code, x.to_code, entry.geom
FROM unnest(CAST(:levels AS text[]), CAST(:legs AS int[]), CAST(:from_codes AS text[]),
            CAST(:to_codes AS text[])) AS x(level, leg_ord, from_code, to_code)
JOIN legs l ON l.ord = x.leg_ord
CROSS JOIN LATERAL (
    SELECT coalesce(
        (SELECT s.entry FROM splits s JOIN credit c ON c.owner_id = s.jurisdiction_id
         WHERE s.ord = l.ord AND c.code = x.to_code
         ORDER BY ST_LineLocatePoint(l.geom, s.entry) LIMIT 1),
        ST_EndPoint(l.geom)) AS geom
) AS entry
"""


@dataclass(frozen=True)
class Crossing:
    """A confirmed change of side: the fix that starts the new side, and the two codes."""

    first_ord: int
    from_code: str
    to_code: str


Run = tuple[str | None, int, int, float]  # code, first index, last index, metres


def confirmed_crossings(runs: list[Run], *, firm: set[int]) -> list[Crossing]:
    """Crossings between consecutive firm runs (indices into `runs`) of different codes."""
    crossings: list[Crossing] = []
    firm_runs = [(i, run) for i, run in enumerate(runs) if i in firm and run[0] is not None]
    if not firm_runs:
        return crossings
    current_index, current = firm_runs[0]
    for index, run in firm_runs[1:]:
        if run[0] != current[0]:
            # The crossing happened where the track last left the current side.
            last_current = max(i for i in range(current_index, index) if runs[i][0] == current[0])
            crossings.append(Crossing(runs[last_current + 1][1], str(current[0]), str(run[0])))
        current_index, current = index, run
    return crossings


def candidate_runs(runs: list[Run], *, min_run_m: float, long_run_m: float) -> list[int]:
    """Runs long enough to count but too short to be firm by length alone."""
    return [i for i, run in enumerate(runs) if min_run_m <= run[3] < long_run_m and run[0]]


def runs_of(
    ids: NDArray[np.int64], next_m: NDArray[np.float64], codes: dict[int, str]
) -> list[Run]:
    """Maximal runs of equal jurisdiction ids (-1: none), with the code of each run."""
    if not len(ids):
        return []
    starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])
    lasts = np.r_[starts[1:], len(ids)] - 1
    metres = np.add.reduceat(next_m, starts)
    return [
        (codes.get(jid), first, last, m)
        for jid, first, last, m in zip(
            ids[starts].tolist(), starts.tolist(), lasts.tolist(), metres.tolist(), strict=True
        )
    ]


def attribute_patrol(
    session: Session, *, patrol_id: int, min_run_m: float = 25.0, margin_m: float = 15.0,
    long_run_m: float = 300.0,
) -> int:  # fmt: skip
    """Recompute a patrol's jurisdictions and crossings; returns the number of crossings."""
    params = {"patrol_id": patrol_id}
    for table in ("patrol_jurisdictions", "patrol_crossings"):
        session.execute(text(f"DELETE FROM {table} WHERE patrol_id = :patrol_id"), params)
    start = session.execute(text(START_AND_CENTRE), params).one()
    for table in ("fixes", "fix_leaves", "legs", "splits", "chains", "credit", "borders"):
        session.execute(text(f"DROP TABLE IF EXISTS {table}"))
    # The planner's guesses for these joins are far off; compiling them (JIT) took longer
    # than running them.
    session.execute(
        text("SELECT set_config('work_mem', '256MB', true), set_config('jit', 'off', true)")
    )
    pieces = lowest_level_pieces(session, at=start.started)
    session.execute(text(FIXES), params)
    session.execute(
        text("CREATE INDEX ON fixes USING gist (geom); CREATE UNIQUE INDEX ON fixes (ord)")
    )
    session.execute(text("ANALYZE fixes"))
    session.execute(text(LEAVES.format(pieces=pieces)))
    session.execute(text("CREATE INDEX ON fix_leaves (ord); ANALYZE fix_leaves"))
    session.execute(text(LEGS), params)
    # Temporary tables are never analysed automatically; without statistics the planner
    # picks plans made for empty tables.
    session.execute(text("CREATE INDEX ON legs (ord); ANALYZE legs"))
    session.execute(text(SPLITS.format(pieces=pieces)))
    session.execute(text("CREATE INDEX ON splits (ord); ANALYZE splits"))
    session.execute(text(CHAINS), {"started": start.started or _now(session)})
    session.execute(text(CREDIT), {"by_leaves": pieces == "jurisdiction_leaves"})
    session.execute(text("ANALYZE chains; ANALYZE credit"))
    session.execute(text(ATTRIBUTE), params)
    if start.lon is None:
        return 0
    utm = utm_crs_for(start.lon, start.lat).to_epsg()
    rules = {"min_run_m": min_run_m, "margin_m": margin_m, "long_run_m": long_run_m}
    return _record_crossings(session, patrol_id=patrol_id, utm=int(utm or 32651), **rules)


def _now(session: Session) -> Any:
    """The database's transaction time."""
    return session.execute(text("SELECT now()")).scalar_one()


# The lines between jurisdictions of each level near the patrol, in metres (the patrol's UTM
# zone), in short pieces: "how far is this fix from every other jurisdiction of the level"
# is then an index probe for lines of another jurisdiction within the margin.
BORDERS = """
CREATE TEMP TABLE borders ON COMMIT DROP AS
SELECT j.id AS jurisdiction_id, j.level,
       ST_Subdivide(ST_Transform(ST_Boundary(j.geom), :utm), 32) AS geom
FROM jurisdictions j
WHERE j.valid_to IS NULL
  AND j.geom && (SELECT ST_Expand(ST_Extent(geom), 0.01) FROM fixes)
"""

# Fixes (ord, level) at least `margin_m` from every other jurisdiction of the level: no line
# of another jurisdiction within the margin (a probe of the index for each fix).
FAR_FIXES = """
WITH fixes AS (
    SELECT u.ord, u.level, u.jurisdiction_id, ST_Transform(p.geom, :utm) AS geom
    FROM unnest(CAST(:ords AS int[]), CAST(:levels AS text[]), CAST(:ids AS bigint[]))
         AS u(ord, level, jurisdiction_id)
    JOIN fixes p ON p.ord = u.ord
)
SELECT f.ord, f.level FROM fixes f
LEFT JOIN LATERAL (
    SELECT 1 AS near FROM borders b
    WHERE ST_DWithin(b.geom, f.geom, :margin_m)
      AND b.level = f.level AND b.jurisdiction_id IS DISTINCT FROM f.jurisdiction_id
    LIMIT 1
) AS other ON true
WHERE other.near IS NULL
"""

SAMPLES = 12


def _spread(first: int, last: int) -> list[int]:
    """At most SAMPLES indices spread evenly over first..last."""
    count = last - first + 1
    if count <= SAMPLES:
        return list(range(first, last + 1))
    return sorted({first + round(i * (count - 1) / (SAMPLES - 1)) for i in range(SAMPLES)})


@dataclass
class _Level:
    """One level's jurisdiction (id, -1 for none) at every kept fix in time order, and runs."""

    level: str
    ords: NDArray[np.int64]
    ids: NDArray[np.int64]
    runs: list[Run]


def _levels(session: Session) -> list[_Level]:
    """For each level present, the jurisdiction of every kept fix and its runs."""
    rows = np.array(fetch_rows(session, SEQUENCE, {}), np.float64)
    if not len(rows):
        return []
    ords, next_m = rows[:, 0].astype(np.int64), rows[:, 2]
    leaves, leaf_index = np.unique(rows[:, 1].astype(np.int64), return_inverse=True)
    chains: dict[str, dict[int, tuple[int, str]]] = {}
    for leaf, level, jid, code in session.execute(
        text("SELECT leaf_id, level, jurisdiction_id, code FROM chains")
    ):
        chains.setdefault(level, {})[leaf] = (jid, code)
    found = []
    for level, by_leaf in sorted(chains.items()):
        lookup = np.array([by_leaf.get(leaf, (-1, ""))[0] for leaf in leaves.tolist()], np.int64)
        ids = lookup[leaf_index]
        codes = {jid: code for jid, code in by_leaf.values()}
        found.append(_Level(level, ords, ids, runs_of(ids, next_m, codes)))
    return found


def _record_crossings(
    session: Session, *, patrol_id: int, utm: int, min_run_m: float, margin_m: float,
    long_run_m: float,
) -> int:  # fmt: skip
    """Find and store the confirmed crossings at every level."""
    levels = _levels(session)
    if not levels or len(levels[0].ords) < 2:
        return 0
    session.execute(text(BORDERS), {"utm": utm})
    session.execute(text("CREATE INDEX ON borders USING gist (geom); ANALYZE borders"))
    firm: dict[str, set[int]] = {}
    asked: dict[str, list[str | int | None]] = {"ords": [], "levels": [], "ids": []}
    candidates: dict[str, list[int]] = {}
    for x in levels:
        firm[x.level] = {i for i, run in enumerate(x.runs) if run[3] >= long_run_m and run[0]}
        candidates[x.level] = candidate_runs(x.runs, min_run_m=min_run_m, long_run_m=long_run_m)
        # Up to SAMPLES fixes spread along each candidate run are enough to find one far fix.
        for i in candidates[x.level]:
            for k in _spread(x.runs[i][1], x.runs[i][2]):
                asked["ords"].append(int(x.ords[k]))
                asked["levels"].append(x.level)
                asked["ids"].append(int(x.ids[k]))
    far_params = {"patrol_id": patrol_id, "utm": utm, "margin_m": margin_m, **asked}
    far = {(row.ord, row.level) for row in session.execute(text(FAR_FIXES), far_params)}
    found: dict[str, list[str | int]] = {"levels": [], "legs": [], "from_codes": [], "to_codes": []}
    for x in levels:
        firm[x.level] |= {
            i for i in candidates[x.level]
            if any((int(x.ords[k]), x.level) in far for k in range(x.runs[i][1], x.runs[i][2] + 1))
        }  # fmt: skip
        for crossing in confirmed_crossings(x.runs, firm=firm[x.level]):
            found["levels"].append(x.level)
            found["legs"].append(int(x.ords[crossing.first_ord]) - 1)
            found["from_codes"].append(crossing.from_code)
            found["to_codes"].append(crossing.to_code)
    if found["levels"]:
        session.execute(text(CROSSING), {"patrol_id": patrol_id, **found})
    return len(found["levels"])
