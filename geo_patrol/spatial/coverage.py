"""River coverage: which stretches of which segments a patrol came within reach of.

A segment counts as patrolled exactly where the cleaned track came within `distance_m`
(default 50 m) of it: every point of it that near, and no other. The covered parts are
stored both as lines and as fractions along the segment, so that "what did nobody patrol
this week" is range arithmetic over many patrols, not a union of buffers.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

# The && prefilters in degrees only let the GiST indexes prune (0.01 = at least 700 m
# anywhere up to 50 N; `pad` reaches the distance at the track's latitudes); the decision
# is made in metres, in the UTM zone of the centre of the track's bounding box (as
# attribution measures in), corrected for that zone's scale.
MAX_DISTANCE_M = 500.0

# Exactly the points of a segment within `distance_m` of the track count, nothing
# simplified (a track simplified by 1 m before buffering lost the whole of a stretch whose
# nearest fixes were 49.85 m away). The track comes in short pieces (`store_track_pieces`);
# each edge of a segment finds the pieces within reach through their index, and each
# (edge, leg) pair within reach gives the interval of the edge within the distance of the
# leg: the edge's intersection with the leg's "capsule" (two discs and a rectangle), solved
# as equations rather than cut by a buffer polygon, whose chords fall short of the round
# ends by up to 0.24 m. Distances are in the UTM zone of the track, scaled by each edge's
# own UTM scale (its planar length over its ellipsoidal length: 1.00025 at 120.6 E in zone
# 51N, 1.2 cm of 50 m). The intervals become fractions along the segment by the edge's
# place in it, so that neighbouring edges' intervals meet exactly.
COVER = """
WITH box AS (
    SELECT ST_SetSRID(CAST(ST_Extent(geom) AS geometry), 4326) AS box FROM {pieces}
),
t AS (
    SELECT box, 32600 + (CASE WHEN ST_Y(ST_Centroid(box)) < 0 THEN 100 ELSE 0 END)
               + floor((ST_X(ST_Centroid(box)) + 180) / 6)::int + 1 AS utm,
           -- degrees to pad a box by to reach the distance (a degree of longitude is
           -- shortest at the track's highest latitude)
           :distance_m * 1.01 / (111320 * cos(radians(least(89.0,
               greatest(abs(ST_YMin(box)), abs(ST_YMax(box))) + 0.02)))) AS pad
    FROM box WHERE box IS NOT NULL
),
walked AS (
    SELECT s.id, (ST_DumpSegments(s.geom)).* FROM river_segments s, t
    WHERE s.geom && ST_Expand(t.box, 0.01)
),
edges AS MATERIALIZED (
    SELECT id, path[1] AS n, geom, ST_Length(geom) AS len,
           coalesce(sum(ST_Length(geom)) OVER (PARTITION BY id ORDER BY path[1]
               ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS before,
           sum(ST_Length(geom)) OVER (PARTITION BY id) AS total
    FROM walked
),
near AS MATERIALIZED (
    SELECT e.id, e.n, e.len, e.before, e.total, p.k AS piece,
           ST_Transform(e.geom, t.utm) AS edge_m,
           ST_Length(ST_Transform(e.geom, t.utm))
               / ST_Length(CAST(e.geom AS geography)) * :distance_m AS r
    FROM edges e CROSS JOIN t
    JOIN {pieces} p ON p.geom && ST_Expand(e.geom, t.pad)
    WHERE e.len > 0
),
lines AS MATERIALIZED (
    SELECT l.k, ST_Transform(ST_Force2D(l.geom), t.utm) AS geom
    FROM {pieces} l CROSS JOIN t WHERE l.k IN (SELECT piece FROM near)
),
pairs AS MATERIALIZED (
    SELECT n.id, n.n, n.len, n.before, n.total, n.r,
           ST_X(ST_StartPoint(n.edge_m)) AS x0, ST_Y(ST_StartPoint(n.edge_m)) AS y0,
           ST_X(ST_EndPoint(n.edge_m)) - ST_X(ST_StartPoint(n.edge_m)) AS dx,
           ST_Y(ST_EndPoint(n.edge_m)) - ST_Y(ST_StartPoint(n.edge_m)) AS dy,
           ST_X(ST_StartPoint(leg.geom)) AS ax, ST_Y(ST_StartPoint(leg.geom)) AS ay,
           ST_X(ST_EndPoint(leg.geom)) - ST_X(ST_StartPoint(leg.geom)) AS vx,
           ST_Y(ST_EndPoint(leg.geom)) - ST_Y(ST_StartPoint(leg.geom)) AS vy
    FROM near n JOIN lines l ON l.k = n.piece AND ST_DWithin(l.geom, n.edge_m, n.r)
    CROSS JOIN LATERAL ST_DumpSegments(l.geom) AS leg
    WHERE ST_DWithin(leg.geom, n.edge_m, n.r)
),
-- Along the edge P(u) = P0 + u D, u in [0, 1]; the leg from A by V. Each part of the
-- capsule gives an interval of u ('Infinity', '-Infinity' when empty): the discs around A
-- and B solve |P(u) - C|^2 <= r^2; the rectangle is 0 <= (P(u) - A).V <= V.V and
-- |V x (P(u) - A)| <= r |V|, linear in u. The capsule is convex, so the parts' union is
-- one interval.
parts AS MATERIALIZED (
    SELECT p.*, dx * dx + dy * dy AS aa, vx * vx + vy * vy AS vv, x0 - ax AS wx, y0 - ay AS wy,
           x0 - ax - vx AS zx, y0 - ay - vy AS zy
    FROM pairs p
),
spans AS (
    SELECT q.id, q.n, q.len, q.before, q.total,
           least(a.lo, b.lo, s.lo) AS lo, greatest(a.hi, b.hi, s.hi) AS hi
    FROM parts q
    CROSS JOIN LATERAL {disc_a} AS a
    CROSS JOIN LATERAL {disc_b} AS b
    CROSS JOIN LATERAL (
        SELECT CASE WHEN lo <= hi THEN lo ELSE 'Infinity' END AS lo,
               CASE WHEN lo <= hi THEN hi ELSE '-Infinity' END AS hi
        FROM (SELECT CASE WHEN q.vv > 0 THEN greatest({along_lo}, {across_lo})
                          ELSE 'Infinity' END AS lo,
                     CASE WHEN q.vv > 0 THEN least({along_hi}, {across_hi})
                          ELSE '-Infinity' END AS hi) AS z
    ) AS s
),
-- Per segment, the covered fractions: the edge's intervals merged, then placed by the
-- edge's start along the segment (the ends of an edge exactly, its inside through the
-- point's place on the edge in lon/lat, the measure ST_LineSubstring uses).
edge_spans AS (
    SELECT id, n, len, before, total, unnest(range_agg(numrange(
               greatest(lo, 0)::numeric, least(hi, 1)::numeric, '[]'))) AS u
    FROM spans WHERE lo <= 1 AND hi >= 0 AND lo <= hi
    GROUP BY id, n, len, before, total
),
placed AS (
    SELECT x.id, numrange(((x.before + x.len * {place_lo}) / x.total)::numeric,
                          least(1, (x.before + x.len * {place_hi}) / x.total)::numeric, '[]')
               AS span
    FROM edge_spans x JOIN edges e ON e.id = x.id AND e.n = x.n CROSS JOIN t
),
ranges AS (
    SELECT p.id, s.geom, range_agg(p.span) AS covered
    FROM placed p JOIN river_segments s ON s.id = p.id
    GROUP BY p.id, s.geom
)
INSERT INTO patrol_coverage (patrol_id, segment_id, covered_m, fraction, ranges, covered)
SELECT :patrol_id, r.id, sum(ST_Length(part::geography)),
       least(1.0, sum(ST_Length(part::geography)) / nullif(s.length_m, 0)),
       r.covered, ST_Multi(ST_Union(part))
FROM ranges r
JOIN river_segments s ON s.id = r.id
CROSS JOIN LATERAL unnest(r.covered) AS span
CROSS JOIN LATERAL ST_LineSubstring(r.geom, lower(span)::float8, upper(span)::float8) AS part
WHERE upper(span) > lower(span)
GROUP BY r.id, s.length_m, r.covered
"""


def _disc(wx: str, wy: str) -> str:
    """The interval of u where |P(u) - C| <= r, with W = P0 - C (a subquery for LATERAL)."""
    return f"""(
        SELECT CASE WHEN h >= 0 THEN (-b - sqrt(h)) / (2 * aa) ELSE 'Infinity' END AS lo,
               CASE WHEN h >= 0 THEN (-b + sqrt(h)) / (2 * aa) ELSE '-Infinity' END AS hi
        FROM (SELECT q.aa, b, b * b - 4 * q.aa * c AS h
              FROM (SELECT 2 * (q.dx * q.{wx} + q.dy * q.{wy}) AS b,
                           q.{wx} * q.{wx} + q.{wy} * q.{wy} - q.r * q.r AS c) AS bc) AS z
    )"""


def _bound(alpha: str, beta: str, low: str, high: str, end: str) -> str:
    """The lower (`end` 'lo') or upper ('hi') end of the u where low <= alpha + beta u <= high."""
    first, second, inside, outside = (
        ("low", "high", "'-Infinity'", "'Infinity'") if end == "lo"
        else ("high", "low", "'Infinity'", "'-Infinity'")
    )  # fmt: skip
    bounds = {"low": low, "high": high}
    return (
        f"CASE WHEN {beta} > 0 THEN ({bounds[first]} - {alpha}) / {beta} "
        f"WHEN {beta} < 0 THEN ({bounds[second]} - {alpha}) / {beta} "
        f"WHEN {alpha} BETWEEN {low} AND {high} THEN {inside} ELSE {outside} END"
    )


_ALONG = ("(q.wx * q.vx + q.wy * q.vy)", "(q.dx * q.vx + q.dy * q.vy)", "0", "q.vv")
_ACROSS = ("(q.vx * q.wy - q.vy * q.wx)", "(q.vx * q.dy - q.vy * q.dx)",
           "(-q.r * sqrt(q.vv))", "(q.r * sqrt(q.vv))")  # fmt: skip
# Where a point of the edge lies along it in lon/lat (the exact ends for 0 and 1).
_PLACE = ("CASE WHEN {u} IN (0, 1) THEN {u} ELSE ST_LineLocatePoint(e.geom, ST_Transform("
          "ST_LineInterpolatePoint(ST_Transform(e.geom, t.utm), {u}), 4326)) END")  # fmt: skip


def _cover_sql(pieces: str) -> str:
    """COVER for the track pieces in table `pieces`."""
    return COVER.format(
        pieces=pieces, disc_a=_disc("wx", "wy"), disc_b=_disc("zx", "zy"),
        along_lo=_bound(*_ALONG, end="lo"), along_hi=_bound(*_ALONG, end="hi"),
        across_lo=_bound(*_ACROSS, end="lo"), across_hi=_bound(*_ACROSS, end="hi"),
        place_lo=_PLACE.format(u="lower(x.u)::float8"),
        place_hi=_PLACE.format(u="upper(x.u)::float8"),
    )  # fmt: skip


# The covered ranges of each segment, over the visible patrols that ran in [since, until).
COVERED_IN_PERIOD = """
covered AS (
    SELECT c.segment_id, range_agg(c.ranges) AS ranges
    FROM patrol_coverage c JOIN patrols p ON p.id = c.patrol_id JOIN teams t ON t.id = p.team_id
    WHERE p.started_at < :until AND coalesce(p.ended_at, p.started_at) >= :since
      AND {visible}
    GROUP BY c.segment_id
)"""

# The parts of each segment (border segments only, if asked) that no patrol in the period
# covered: the whole [0, 1] range minus the union of covered ranges, cut out of the line.
UNCOVERED = (
    "WITH"
    + COVERED_IN_PERIOD
    + """,
gaps AS (
    SELECT s.id, s.seq, r.code AS river_code, r.name AS river_name, s.is_border, s.geom,
           unnest(nummultirange(numrange(0, 1, '[]'))
                  - coalesce(c.ranges, '{{}}'::nummultirange)) AS gap
    FROM river_segments s
    JOIN rivers r ON r.id = s.river_id
    LEFT JOIN covered c ON c.segment_id = s.id
    WHERE (CAST(:border AS boolean) IS NULL OR s.is_border = :border)
      AND (CAST(:river AS text) IS NULL OR r.code = :river)
)
SELECT id AS segment_id, seq, river_code, river_name, is_border,
       ST_Length(ST_LineSubstring(geom, lower(gap)::float8, upper(gap)::float8)::geography)
           AS length_m,
       ST_AsGeoJSON(ST_LineSubstring(geom, lower(gap)::float8, upper(gap)::float8), 6)::json
           AS geometry
FROM gaps
WHERE upper(gap) - lower(gap) > 1e-6
ORDER BY river_code, seq, lower(gap)
"""
)


def cover_patrol(session: Session, *, patrol_id: int, pieces: str, distance_m: float = 50.0) -> int:
    """Recompute the coverage of one patrol from its track pieces (the table `pieces` made by
    `store_track_pieces`); returns the number of segments touched."""
    if not 0 < distance_m <= MAX_DISTANCE_M:
        raise ValueError(f"coverage distance must be in (0, {MAX_DISTANCE_M}] metres")
    params = {"patrol_id": patrol_id, "distance_m": distance_m}
    session.execute(text("DELETE FROM patrol_coverage WHERE patrol_id = :patrol_id"), params)
    # The planner guesses a thousand rows for every set-returning function here; compiling
    # the statement for that (JIT) took seconds, running it milliseconds.
    session.execute(text("SELECT set_config('jit', 'off', true)"))
    found = session.execute(text(_cover_sql(pieces)), params)
    return int(found.rowcount)  # type: ignore[attr-defined]


def uncovered_stretches(
    session: Session, *, since: Any, until: Any, visible: tuple[str, dict[str, Any]],
    border: bool | None = None, river: str | None = None,
) -> list[Any]:  # fmt: skip
    """Rows of the stretches nobody (among visible patrols) covered in [since, until)."""
    condition, params = visible
    sql = UNCOVERED.format(visible=condition)
    rows = session.execute(
        text(sql), {**params, "since": since, "until": until, "border": border, "river": river}
    )
    return list(rows.all())


# How recently each stretch of each river was patrolled, as of `until` (or now, if that is
# earlier): the covered ranges of the visible patrols that ended within 1, 7 and 30 days
# before it, each class minus the more recent ones, and the rest as "never" (in 30 days).
RECENCY_CLASSES = ("1d", "7d", "30d", "never")

RECENCY = """
WITH as_of AS (SELECT least(CAST(:until AS timestamptz), now()) AS t),
recent AS (
    SELECT c.segment_id, c.ranges, coalesce(p.ended_at, p.started_at) AS at
    FROM patrol_coverage c JOIN patrols p ON p.id = c.patrol_id JOIN teams t ON t.id = p.team_id
    WHERE p.started_at < :until
      AND coalesce(p.ended_at, p.started_at) >= (SELECT t FROM as_of) - interval '30 days'
      AND (CAST(:team_id AS int) IS NULL OR p.team_id = :team_id)
      AND {visible}
),
windows AS (
    SELECT segment_id,
           range_agg(ranges) FILTER (WHERE at >= (SELECT t FROM as_of) - interval '1 day')
               AS d1,
           range_agg(ranges) FILTER (WHERE at >= (SELECT t FROM as_of) - interval '7 days')
               AS d7,
           range_agg(ranges) AS d30
    FROM recent GROUP BY segment_id
),
classes AS (
    SELECT s.id, s.seq, r.code AS river_code, r.name AS river_name, s.is_border, s.geom,
           coalesce(w.d1, '{{}}') AS c1,
           coalesce(w.d7, '{{}}') - coalesce(w.d1, '{{}}') AS c7,
           coalesce(w.d30, '{{}}') - coalesce(w.d7, '{{}}') AS c30,
           nummultirange(numrange(0, 1, '[]')) - coalesce(w.d30, '{{}}') AS never
    FROM river_segments s
    JOIN rivers r ON r.id = s.river_id
    LEFT JOIN windows w ON w.segment_id = s.id
)
SELECT c.id AS segment_id, c.seq, c.river_code, c.river_name, c.is_border, k.recency,
       ST_Length(ST_LineSubstring(c.geom, lower(span)::float8, upper(span)::float8)::geography)
           AS length_m,
       ST_AsGeoJSON(ST_LineSubstring(c.geom, lower(span)::float8, upper(span)::float8), 6)::json
           AS geometry
FROM classes c
CROSS JOIN LATERAL (VALUES ('1d', c.c1), ('7d', c.c7), ('30d', c.c30), ('never', c.never))
    AS k(recency, spans)
CROSS JOIN LATERAL unnest(k.spans) AS span
WHERE upper(span) - lower(span) > 1e-6
ORDER BY c.river_code, c.seq, lower(span)
"""


def river_recency(
    session: Session, *, until: Any, visible: tuple[str, dict[str, Any]],
    team_id: int | None = None,
) -> list[Any]:  # fmt: skip
    """Rows of river stretches with their recency class (RECENCY_CLASSES) as of `until`."""
    condition, params = visible
    rows = session.execute(
        text(RECENCY.format(visible=condition)), {**params, "until": until, "team_id": team_id}
    )
    return list(rows.all())


# Border rivers of a zone: each border segment on a side of the zone (a member or below),
# with the stretches no visible patrol covered in the period, in order along the river, so
# that gaps running over a segment end can be joined into one stretch.
BORDER_GAPS = (
    """
WITH RECURSIVE area AS (
    SELECT jurisdiction_code AS code FROM cooperation_zone_members WHERE zone_id = :zone_id
    UNION
    SELECT j.code FROM jurisdictions j JOIN area a ON j.parent_code = a.code
    WHERE j.valid_to IS NULL
),"""
    + COVERED_IN_PERIOD
    + """,
segments AS (
    SELECT s.id, s.river_id, s.seq, s.length_m, s.geom,
           nummultirange(numrange(0, 1, '[]')) - coalesce(c.ranges, '{{}}') AS gaps
    FROM river_segments s LEFT JOIN covered c ON c.segment_id = s.id
    WHERE s.is_border AND EXISTS (
        SELECT 1 FROM river_segment_sides x JOIN area a ON a.code = x.jurisdiction_code
        WHERE x.segment_id = s.id)
)
SELECT r.code AS river_code, r.name AS river_name, s.id AS segment_id, s.seq, s.length_m,
       lower(g)::float8 AS gap_from, upper(g)::float8 AS gap_to,
       ST_Length(ST_LineSubstring(s.geom, lower(g)::float8, upper(g)::float8)::geography)
           AS gap_m
FROM segments s JOIN rivers r ON r.id = s.river_id
LEFT JOIN LATERAL unnest(s.gaps) AS g ON upper(g) - lower(g) > 1e-6
ORDER BY r.code, s.seq, lower(g)
"""
)


def border_river_gaps(
    session: Session, *, zone_id: int, since: Any, until: Any,
    visible: tuple[str, dict[str, Any]],
) -> list[Any]:  # fmt: skip
    """Rows (river, segment, gap) of the zone's border rivers; gap_* NULL = fully covered."""
    condition, params = visible
    rows = session.execute(
        text(BORDER_GAPS.format(visible=condition)),
        {**params, "zone_id": zone_id, "since": since, "until": until},
    )
    return list(rows.all())
