"""Patrol attribution: metres and seconds in every jurisdiction, and confirmed crossings.

Read top to bottom:
1. Each kept fix gets, at every level, the jurisdiction whose boundary in force at the fix's
   time contains it (point-in-polygon on the subdivided parts).
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

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import text
from sqlalchemy.orm import Session

LABELS = """
CREATE TEMP TABLE point_labels ON COMMIT DROP AS
SELECT DISTINCT ON (p.ord, j.level) p.ord, j.level, j.id AS jurisdiction_id, j.code
FROM patrol_points p
JOIN jurisdiction_parts jp ON ST_Intersects(jp.geom, p.geom)
JOIN jurisdictions j ON j.id = jp.jurisdiction_id
 AND j.valid_from <= coalesce(p.time, now())
 AND (j.valid_to IS NULL OR j.valid_to > coalesce(p.time, now()))
WHERE p.patrol_id = :patrol_id AND p.ord IS NOT NULL
ORDER BY p.ord, j.level, j.code
"""

LEGS = """
CREATE TEMP TABLE legs ON COMMIT DROP AS
SELECT a.ord, a.time AS t0, b.time AS t1, ST_MakeLine(a.geom, b.geom) AS geom,
       ST_Distance(a.geom::geography, b.geom::geography) AS length_m
FROM patrol_points a
JOIN patrol_points b ON b.patrol_id = a.patrol_id AND b.ord = a.ord + 1
WHERE a.patrol_id = :patrol_id AND a.ord IS NOT NULL
"""

# One row per (leg, level, jurisdiction at either end) with the metres of the leg inside it.
PIECES = """
WITH leg_j AS (
    SELECT DISTINCT l.ord, x.level, x.jurisdiction_id, x.code
    FROM legs l JOIN point_labels x ON x.ord IN (l.ord, l.ord + 1)
),
whole AS (
    SELECT a.ord, a.level FROM point_labels a
    JOIN point_labels b ON b.ord = a.ord + 1 AND b.level = a.level
     AND b.jurisdiction_id = a.jurisdiction_id
)
SELECT lj.level, lj.jurisdiction_id, lj.code, l.t0, l.t1, l.length_m AS leg_m,
       CASE WHEN w.ord IS NOT NULL THEN l.length_m
            ELSE (SELECT coalesce(sum(ST_Length(ST_Intersection(l.geom, jp.geom)::geography)), 0)
                  FROM jurisdiction_parts jp
                  WHERE jp.jurisdiction_id = lj.jurisdiction_id AND jp.geom && l.geom)
       END AS inside_m
FROM leg_j lj
JOIN legs l ON l.ord = lj.ord
LEFT JOIN whole w ON w.ord = lj.ord AND w.level = lj.level
"""

ATTRIBUTE = f"""
INSERT INTO patrol_jurisdictions
    (patrol_id, jurisdiction_id, code, level, length_m, duration_s, entered_at, exited_at)
SELECT :patrol_id, jurisdiction_id, code, level, sum(inside_m),
       sum(CASE WHEN leg_m > 0 THEN extract(epoch FROM t1 - t0) * inside_m / leg_m ELSE 0 END),
       min(t0), max(t1)
FROM ({PIECES}) AS pieces
GROUP BY jurisdiction_id, code, level
"""

SEQUENCE = """
SELECT p.ord, x.code, coalesce(l.length_m, 0) AS next_m
FROM patrol_points p
LEFT JOIN point_labels x ON x.ord = p.ord AND x.level = :level
LEFT JOIN legs l ON l.ord = p.ord
WHERE p.patrol_id = :patrol_id AND p.ord IS NOT NULL
ORDER BY p.ord
"""

# Where the leg into the new side meets it: the start of the leg's piece inside the new
# jurisdiction; its time interpolated along the leg.
CROSSING = """
INSERT INTO patrol_crossings (patrol_id, level, at, from_code, to_code, geom)
SELECT :patrol_id, :level,
       l.t0 + (l.t1 - l.t0) * ST_LineLocatePoint(l.geom, entry.geom),
       :from_code, :to_code, entry.geom
FROM legs l
CROSS JOIN LATERAL (
    SELECT coalesce(
        (SELECT ST_StartPoint(ST_GeometryN(ST_Intersection(l.geom, jp.geom), 1))
         FROM jurisdiction_parts jp JOIN jurisdictions j ON j.id = jp.jurisdiction_id
         WHERE j.code = :to_code AND j.valid_to IS NULL AND jp.geom && l.geom
           AND ST_Intersects(jp.geom, l.geom)
         ORDER BY ST_LineLocatePoint(l.geom, ST_StartPoint(
                  ST_GeometryN(ST_Intersection(l.geom, jp.geom), 1)))
         LIMIT 1),
        ST_EndPoint(l.geom)) AS geom
) AS entry
WHERE l.ord = :leg_ord
"""

LEVELS_PRESENT = "SELECT DISTINCT level FROM point_labels"


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


def runs_of(codes: list[str | None], next_m: NDArray[np.float64]) -> list[Run]:
    """Maximal runs of equal codes: (code, first index, last index, metres until next run)."""
    runs: list[Run] = []
    start = 0
    for i in range(1, len(codes) + 1):
        if i == len(codes) or codes[i] != codes[start]:
            runs.append((codes[start], start, i - 1, float(next_m[start:i].sum())))
            start = i
    return runs


def attribute_patrol(
    session: Session, *, patrol_id: int, min_run_m: float = 25.0, margin_m: float = 15.0,
    long_run_m: float = 300.0,
) -> int:  # fmt: skip
    """Recompute a patrol's jurisdictions and crossings; returns the number of crossings."""
    params = {"patrol_id": patrol_id}
    for table in ("patrol_jurisdictions", "patrol_crossings"):
        session.execute(text(f"DELETE FROM {table} WHERE patrol_id = :patrol_id"), params)
    session.execute(text("DROP TABLE IF EXISTS point_labels; DROP TABLE IF EXISTS legs"))
    session.execute(text(LABELS), params)
    session.execute(text("CREATE INDEX ON point_labels (ord, level)"))
    session.execute(text(LEGS), params)
    session.execute(text("CREATE INDEX ON legs (ord)"))
    # Temporary tables are never analysed automatically; without statistics the planner
    # scans them whole for every crossing.
    session.execute(text("ANALYZE point_labels; ANALYZE legs"))
    session.execute(text(ATTRIBUTE), params)
    count = 0
    for level in session.execute(text(LEVELS_PRESENT)).scalars().all():
        rules = {"min_run_m": min_run_m, "margin_m": margin_m, "long_run_m": long_run_m}
        count += _record_crossings(session, patrol_id=patrol_id, level=level, **rules)
    return count


# Fixes (by ord) at least `margin_m` from every other jurisdiction of the level; a fix with
# none within the search box (0.002 degrees, over 140 m) is far by definition.
FAR_FIXES = """
SELECT p.ord
FROM unnest(CAST(:ords AS int[])) AS u(ord)
JOIN patrol_points p ON p.patrol_id = :patrol_id AND p.ord = u.ord
LEFT JOIN point_labels x ON x.ord = p.ord AND x.level = :level
WHERE NOT EXISTS (
    SELECT 1 FROM jurisdiction_parts jp JOIN jurisdictions j ON j.id = jp.jurisdiction_id
    WHERE jp.geom && ST_Expand(p.geom, 0.002) AND j.level = :level AND j.valid_to IS NULL
      AND j.id IS DISTINCT FROM x.jurisdiction_id
      -- on the sphere: within 0.5 % of the ellipsoid, plenty for a margin of metres
      AND ST_DWithin(jp.geom::geography, p.geom::geography, :margin_m, false))
"""


SAMPLES = 12


def _spread(first: int, last: int) -> list[int]:
    """At most SAMPLES indices spread evenly over first..last."""
    count = last - first + 1
    if count <= SAMPLES:
        return list(range(first, last + 1))
    return sorted({first + round(i * (count - 1) / (SAMPLES - 1)) for i in range(SAMPLES)})


def _record_crossings(
    session: Session, *, patrol_id: int, level: str, min_run_m: float, margin_m: float,
    long_run_m: float,
) -> int:  # fmt: skip
    """Find and store the confirmed crossings at one level."""
    rows = session.execute(text(SEQUENCE), {"patrol_id": patrol_id, "level": level}).all()
    if len(rows) < 2:
        return 0
    runs = runs_of([row.code for row in rows], np.array([r.next_m for r in rows], np.float64))
    firm = {i for i, run in enumerate(runs) if run[3] >= long_run_m and run[0]}
    candidates = candidate_runs(runs, min_run_m=min_run_m, long_run_m=long_run_m)
    # Up to SAMPLES fixes spread along each candidate run are enough to find one far fix.
    ords = [rows[k].ord for i in candidates for k in _spread(runs[i][1], runs[i][2])]
    far_params = {"patrol_id": patrol_id, "level": level, "ords": ords, "margin_m": margin_m}
    far = set(session.execute(text(FAR_FIXES), far_params).scalars())
    firm |= {
        i for i in candidates if any(rows[k].ord in far for k in range(runs[i][1], runs[i][2] + 1))
    }
    found = confirmed_crossings(runs, firm=firm)
    for crossing in found:
        session.execute(
            text(CROSSING),
            {"patrol_id": patrol_id, "level": level, "from_code": crossing.from_code,
             "to_code": crossing.to_code, "leg_ord": rows[crossing.first_ord].ord - 1},
        )  # fmt: skip
    return len(found)
