"""River coverage: which stretches of which segments a patrol came within reach of.

A segment counts as patrolled where the cleaned track came within `distance_m` (default
50 m). The buffer is drawn in the track's UTM zone (metres); the covered parts are stored
both as lines and as fractions along the segment, so that "what did nobody patrol this
week" is range arithmetic over many patrols, not a union of buffers.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

# The && prefilter in degrees (0.01 = at least 700 m anywhere up to 50 N) only lets the
# GiST index prune; the decision is the buffer intersection in metres, in the UTM zone of
# the centre of the track's bounding box (as attribution measures in).
MAX_DISTANCE_M = 500.0

# The track comes in short pieces (`track_pieces.store_track_pieces`) before buffering: a
# thousand small buffers are far cheaper than one buffer of a 100,000-vertex line, and the
# union of what they cover is exact range arithmetic on each segment. Only pieces within
# reach of a segment are buffered at all, and each is first simplified by SIMPLIFY_M in
# metres (collapsed pieces kept): a walk logged every second has a vertex every metre or so,
# and buffering those vertices cost most of the time (4.5 s of 6 s for a 1M-fix walk) for a
# boundary that moves by at most SIMPLIFY_M.
SIMPLIFY_M = 1.0

COVER = """
WITH box AS (
    SELECT ST_SetSRID(CAST(ST_Extent(geom) AS geometry), 4326) AS box FROM {pieces}
),
t AS (
    SELECT box, 32600 + (CASE WHEN ST_Y(ST_Centroid(box)) < 0 THEN 100 ELSE 0 END)
               + floor((ST_X(ST_Centroid(box)) + 180) / 6)::int + 1 AS utm
    FROM box WHERE box IS NOT NULL
),
segs AS MATERIALIZED (
    SELECT s.id, s.geom, s.length_m, ST_Transform(s.geom, t.utm) AS geom_m
    FROM river_segments s, t
    WHERE s.geom && ST_Expand(t.box, 0.01)
),
lines AS MATERIALIZED (
    SELECT ST_Transform(ST_Force2D(l.geom), t.utm) AS geom
    FROM {pieces} l CROSS JOIN t
    WHERE EXISTS (SELECT 1 FROM segs sg WHERE sg.geom && ST_Expand(l.geom, 0.01))
),
pieces AS MATERIALIZED (
    SELECT ST_Buffer(ST_Simplify(l.geom, :simplify_m, true), :distance_m) AS area
    FROM lines l
    WHERE EXISTS (
        SELECT 1 FROM segs sg
        WHERE sg.geom_m && ST_Expand(l.geom, :distance_m)
          AND ST_DWithin(sg.geom_m, l.geom, :distance_m)
    )
),
hits AS (
    SELECT sg.id, sg.geom, sg.length_m,
           (ST_Dump(ST_CollectionExtract(ST_Transform(
               ST_Intersection(sg.geom_m, pc.area), 4326), 2))).geom AS inside
    FROM segs sg JOIN pieces pc ON sg.geom_m && pc.area
    WHERE ST_Intersects(sg.geom_m, pc.area)
),
ranges AS (
    SELECT id, length_m, geom,
           range_agg(numrange(
               least(ST_LineLocatePoint(geom, ST_StartPoint(inside)),
                     ST_LineLocatePoint(geom, ST_EndPoint(inside)))::numeric,
               greatest(ST_LineLocatePoint(geom, ST_StartPoint(inside)),
                        ST_LineLocatePoint(geom, ST_EndPoint(inside)))::numeric, '[]'))
               AS covered
    FROM hits WHERE NOT ST_IsEmpty(inside)
    GROUP BY id, length_m, geom
)
INSERT INTO patrol_coverage (patrol_id, segment_id, covered_m, fraction, ranges, covered)
SELECT :patrol_id, r.id, sum(ST_Length(part::geography)),
       least(1.0, sum(ST_Length(part::geography)) / nullif(r.length_m, 0)),
       r.covered, ST_Multi(ST_Union(part))
FROM ranges r
CROSS JOIN LATERAL unnest(r.covered) AS span
CROSS JOIN LATERAL ST_LineSubstring(r.geom, lower(span)::float8, upper(span)::float8) AS part
WHERE upper(span) > lower(span)
GROUP BY r.id, r.length_m, r.covered
"""

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
    params = {"patrol_id": patrol_id, "distance_m": distance_m, "simplify_m": SIMPLIFY_M}
    session.execute(text("DELETE FROM patrol_coverage WHERE patrol_id = :patrol_id"), params)
    found = session.execute(text(COVER.format(pieces=pieces)), params)
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
