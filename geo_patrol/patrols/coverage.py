"""River coverage: which stretches of which segments a patrol came within reach of.

A segment counts as patrolled exactly where the cleaned track came within `distance_m`
(default 50 m) of it: every point of it that near, and no other. The covered parts are
stored both as lines and as fractions along the segment, so that "what did nobody patrol
this week" is range arithmetic over many patrols, not a union of buffers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyproj
from numpy.typing import NDArray
from sqlalchemy import delete, text
from sqlalchemy.orm import Session

from geo_patrol.core.coords import utm_crs_for
from geo_patrol.core.paging import Page
from geo_patrol.db.bulk import copy_rows, fetch_rows
from geo_patrol.db.clauses import Clause, all_of, equals, statement
from geo_patrol.db.keyset import Keyset, read_limit
from geo_patrol.db.tables import PatrolCoverage
from geo_patrol.patrols.track.types import TrackPoints
from geo_patrol.patrols.track_pieces import PIECE_LEGS

GEOD = pyproj.Geod(ellps="WGS84")

# The && prefilters in degrees only let the GiST indexes prune (0.01 = at least 700 m
# anywhere up to 50 N; `pad` reaches the distance at the track's latitudes); the decision
# is made in metres, in the UTM zone of the centre of the track's bounding box (as
# attribution measures in), corrected for that zone's scale.
MAX_DISTANCE_M = 500.0

# Exactly the points of a segment within `distance_m` of the track count, nothing
# simplified (a track simplified by 1 m before buffering lost the whole of a stretch whose
# nearest fixes were 49.85 m away). The track comes in short pieces (`store_track_pieces`);
# each edge of a segment finds the pieces within reach through their index (NEAR_EDGES).
# Then, in numpy, each (edge, leg of those pieces) pair gives the interval of the edge
# within the distance of the leg: the edge's intersection with the leg's "capsule" (two
# discs and a rectangle), solved as equations rather than cut by a buffer polygon, whose
# chords fall short of the round ends by up to 0.24 m. Distances are in the UTM zone of the
# track, scaled by each edge's own UTM scale (its planar length over its ellipsoidal
# length: 1.00019 at 120.7 E, 31 N in zone 51N, 1 cm of 50 m). The intervals become fractions
# along the segment by the edge's place in it (COVERED), so that neighbouring edges'
# intervals meet exactly.
NEAR_EDGES = """
WITH walked AS (
    SELECT s.id, (ST_DumpSegments(s.geom)).* FROM river_segments s
    WHERE s.geom && ST_MakeEnvelope(%(west)s, %(south)s, %(east)s, %(north)s, 4326)
),
edges AS (
    SELECT id, path[1] AS n, geom, ST_Length(geom) AS len,
           coalesce(sum(ST_Length(geom)) OVER (PARTITION BY id ORDER BY path[1]
               ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS before,
           sum(ST_Length(geom)) OVER (PARTITION BY id) AS total
    FROM walked
)
SELECT e.id, ST_X(ST_StartPoint(e.geom)), ST_Y(ST_StartPoint(e.geom)),
       ST_X(ST_EndPoint(e.geom)), ST_Y(ST_EndPoint(e.geom)), e.before, e.len, e.total,
       array_agg(p.k ORDER BY p.k)
FROM edges e JOIN {pieces} p ON p.geom && ST_Expand(e.geom, %(pad)s)
WHERE e.len > 0
GROUP BY e.id, e.n, e.geom, e.before, e.len, e.total
"""

SPANS = """
CREATE TEMP TABLE covered_spans (segment_id bigint, lo float8, hi float8) ON COMMIT DROP
"""

COVERED = """
WITH ranges AS (
    SELECT c.segment_id AS id, s.geom, s.length_m,
           range_agg(numrange(c.lo::numeric, c.hi::numeric, '[]')) AS covered
    FROM covered_spans c JOIN river_segments s ON s.id = c.segment_id
    GROUP BY c.segment_id, s.geom, s.length_m
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
    WHERE {where} AND {segments_from}
)
SELECT id AS segment_id, seq, river_code, river_name, is_border, lower(gap)::text AS gap_from,
       ST_Length(ST_LineSubstring(geom, lower(gap)::float8, upper(gap)::float8)::geography)
           AS length_m,
       ST_AsGeoJSON(ST_LineSubstring(geom, lower(gap)::float8, upper(gap)::float8), 6)::json
           AS geometry
FROM gaps
WHERE upper(gap) - lower(gap) > 1e-6 AND {after}
ORDER BY river_code, seq, lower(gap)
LIMIT :limit
"""
)
# The gaps of a river by segment and place along it. The gap's start goes out as the text of
# its exact numeric, which compares exactly when it comes back.
UNCOVERED_ORDER = Keyset(
    ("river_code", "seq", "lower(gap)"),
    ("river_code", "seq", "gap_from"),
    ("text", "int", "numeric"),
)


def cover_patrol(
    session: Session, *, patrol_id: int, pieces: str, kept: TrackPoints, distance_m: float = 50.0
) -> int:
    """Recompute the coverage of one patrol from its kept fixes in time order and their
    track pieces (the table `pieces` made from them by `store_track_pieces`); returns the
    number of segments touched."""
    if not 0 < distance_m <= MAX_DISTANCE_M:
        raise ValueError(f"coverage distance must be in (0, {MAX_DISTANCE_M}] metres")
    params = {"patrol_id": patrol_id}
    gone = delete(PatrolCoverage).where(PatrolCoverage.patrol_id == patrol_id)
    session.execute(gone, execution_options={"synchronize_session": False})
    if len(kept) < 2:
        return 0
    edges = _near_edges(session, pieces=pieces, kept=kept, distance_m=distance_m)
    spans = covered_spans(edges, kept=kept, distance_m=distance_m)
    session.execute(text("DROP TABLE IF EXISTS covered_spans"))
    session.execute(text(SPANS))
    copy_rows(session, table="covered_spans", columns=spans)
    found = session.execute(text(COVERED), params)
    return int(found.rowcount)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Edges:
    """River segment edges near the track: segment id, ends (lon/lat), the edge's start,
    its length and the segment's (in degrees, as ST_LineSubstring measures), and the
    track pieces within reach of each."""

    segment: NDArray[np.int64]
    ends: NDArray[np.float64]  # rows: lon0, lat0, lon1, lat1
    before: NDArray[np.float64]
    length: NDArray[np.float64]
    total: NDArray[np.float64]
    pieces_of: list[list[int]]


def _near_edges(session: Session, *, pieces: str, kept: TrackPoints, distance_m: float) -> Edges:
    """The edges of river segments within reach of the track's pieces (by their boxes)."""
    west, east = float(kept.lon.min()), float(kept.lon.max())
    south, north = float(kept.lat.min()), float(kept.lat.max())
    # Degrees of longitude are shortest at the track's highest latitude.
    top = min(89.0, max(abs(south), abs(north)) + 0.02)
    pad = distance_m * 1.01 / (111_320 * float(np.cos(np.radians(top))))
    box = {"west": west - pad, "east": east + pad, "south": south - pad, "north": north + pad}
    rows = fetch_rows(session, NEAR_EDGES.format(pieces=pieces), {**box, "pad": pad})
    return Edges(
        segment=np.array([row[0] for row in rows], np.int64),
        ends=np.array([row[1:5] for row in rows], np.float64).reshape(-1, 4),
        before=np.array([row[5] for row in rows], np.float64),
        length=np.array([row[6] for row in rows], np.float64),
        total=np.array([row[7] for row in rows], np.float64),
        pieces_of=[list(row[8]) for row in rows],
    )


def covered_spans(edges: Edges, *, kept: TrackPoints, distance_m: float) -> dict[str, NDArray[Any]]:
    """Columns (segment_id, lo, hi) of the fractions of segments within `distance_m` of the
    track's legs: per edge, the union of its intervals within reach of each nearby leg."""
    if not len(edges.segment):
        return {"segment_id": edges.segment, "lo": edges.before, "hi": edges.before}
    centre = (kept.lon.min() + kept.lon.max()) / 2, (kept.lat.min() + kept.lat.max()) / 2
    utm = pyproj.Transformer.from_crs(4326, utm_crs_for(*centre), always_xy=True)
    x, y = (np.asarray(v) for v in utm.transform(kept.lon, kept.lat))
    ex0, ey0 = (np.asarray(v) for v in utm.transform(edges.ends[:, 0], edges.ends[:, 1]))
    ex1, ey1 = (np.asarray(v) for v in utm.transform(edges.ends[:, 2], edges.ends[:, 3]))
    _, _, metres = GEOD.inv(*edges.ends.T)
    reach = distance_m * np.hypot(ex1 - ex0, ey1 - ey0) / np.maximum(metres, 1e-9)
    edge, leg = _pairs(edges.pieces_of, len(kept))
    lo, hi = capsule_intervals(
        np.column_stack([ex0, ey0, ex1, ey1])[edge],
        np.column_stack([x[leg], y[leg], x[leg + 1], y[leg + 1]]),
        reach[edge],
    )
    keep = (lo <= hi) & (hi >= 0) & (lo <= 1)
    edge, lo, hi = _merged(edge[keep], np.maximum(lo[keep], 0), np.minimum(hi[keep], 1))
    # Where those points of the UTM edge lie along the edge in lon/lat (its ends exactly).
    places = []
    for u in (lo, hi):
        px, py = (
            np.asarray(v)
            for v in utm.transform(
                ex0[edge] + u * (ex1 - ex0)[edge],
                ey0[edge] + u * (ey1 - ey0)[edge],
                direction="INVERSE",
            )
        )
        places.append(np.where((u == 0) | (u == 1), u, _located(edges.ends[edge], px, py)))
    start, length, total = edges.before[edge], edges.length[edge], edges.total[edge]
    return {
        "segment_id": edges.segment[edge],
        "lo": (start + length * places[0]) / total,
        "hi": np.minimum(1.0, (start + length * places[1]) / total),
    }


def _pairs(pieces_of: list[list[int]], fixes: int) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """(edge, leg) index pairs: every leg of every piece near each edge (leg i joins fixes
    i and i + 1; piece k holds legs k * PIECE_LEGS onwards)."""
    edge = np.repeat(np.arange(len(pieces_of)), [len(p) for p in pieces_of])
    piece = np.concatenate([np.asarray(p, np.int64) for p in pieces_of])
    legs = piece[:, None] * PIECE_LEGS + np.arange(PIECE_LEGS)[None, :]
    valid = legs < fixes - 1
    return np.broadcast_to(edge[:, None], legs.shape)[valid], legs[valid]


def capsule_intervals(
    edge: NDArray[np.float64], leg: NDArray[np.float64], reach: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Per row, the interval [lo, hi] of u in which P0 + u (P1 - P0) on the edge (rows x0,
    y0, x1, y1) lies within `reach` of the leg (rows ax, ay, bx, by); lo > hi: none. The
    leg's capsule is two discs and a rectangle; it is convex, so the union of the parts'
    intervals is one interval."""
    dx, dy = edge[:, 2] - edge[:, 0], edge[:, 3] - edge[:, 1]
    vx, vy = leg[:, 2] - leg[:, 0], leg[:, 3] - leg[:, 1]
    wx, wy = edge[:, 0] - leg[:, 0], edge[:, 1] - leg[:, 1]
    aa, vv = dx * dx + dy * dy, vx * vx + vy * vy
    ends = [_disc(aa, dx, dy, wx, wy, reach), _disc(aa, dx, dy, wx - vx, wy - vy, reach)]
    with np.errstate(divide="ignore", invalid="ignore"):
        along = _linear(wx * vx + wy * vy, dx * vx + dy * vy, 0.0, vv)
        width = reach * np.sqrt(vv)
        across = _linear(vx * wy - vy * wx, vx * dy - vy * dx, -width, width)
    lo, hi = np.maximum(along[0], across[0]), np.minimum(along[1], across[1])
    empty = (vv == 0) | (lo > hi)
    parts = [*ends, (np.where(empty, np.inf, lo), np.where(empty, -np.inf, hi))]
    return np.minimum.reduce([p[0] for p in parts]), np.maximum.reduce([p[1] for p in parts])


def _disc(
    aa: NDArray[np.float64],
    dx: NDArray[np.float64],
    dy: NDArray[np.float64],
    wx: NDArray[np.float64],
    wy: NDArray[np.float64],
    reach: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The u where |P0 + u D - C| <= reach, with W = P0 - C (inf, -inf: none)."""
    b = 2 * (dx * wx + dy * wy)
    h = b * b - 4 * aa * (wx * wx + wy * wy - reach * reach)
    root = np.sqrt(np.maximum(h, 0))
    return (
        np.where(h >= 0, (-b - root) / (2 * aa), np.inf),
        np.where(h >= 0, (-b + root) / (2 * aa), -np.inf),
    )


def _linear(
    alpha: NDArray[np.float64], beta: NDArray[np.float64], low: Any, high: Any
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The u where low <= alpha + beta u <= high (beta 0: all or none)."""
    a, b = (low - alpha) / beta, (high - alpha) / beta
    inside = (alpha >= low) & (alpha <= high)
    flat = beta == 0
    return (
        np.where(flat, np.where(inside, -np.inf, np.inf), np.minimum(a, b)),
        np.where(flat, np.where(inside, np.inf, -np.inf), np.maximum(a, b)),
    )


def _merged(
    edge: NDArray[np.int64], lo: NDArray[np.float64], hi: NDArray[np.float64]
) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]]:
    """The intervals (within [0, 1]) of each edge merged where they overlap or touch."""
    if not len(edge):
        return edge, lo, hi
    order = np.lexsort((lo, edge))
    edge, lo, hi = edge[order], lo[order], hi[order]
    # Shifted by 2 per edge, two edges' intervals never meet; an interval starts a new
    # one where it begins beyond the farthest end so far.
    shifted = hi + 2 * edge
    reached = np.maximum.accumulate(shifted)
    first = np.flatnonzero(np.r_[True, lo[1:] + 2 * edge[1:] > reached[:-1]])
    return edge[first], lo[first], np.maximum.reduceat(shifted, first) - 2 * edge[first]


def _located(
    ends: NDArray[np.float64], lon: NDArray[np.float64], lat: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Where each point lies along its edge (rows lon0, lat0, lon1, lat1), 0 to 1, measured
    in lon/lat as ST_LineLocatePoint does."""
    dx, dy = ends[:, 2] - ends[:, 0], ends[:, 3] - ends[:, 1]
    t = ((lon - ends[:, 0]) * dx + (lat - ends[:, 1]) * dy) / (dx * dx + dy * dy)
    return np.asarray(np.clip(t, 0.0, 1.0))


def uncovered_stretches(
    session: Session,
    *,
    since: Any,
    until: Any,
    visible: Clause,
    border: bool | None = None,
    river: str | None = None,
    limit: int | None = None,
    cursor: str | None = None,
) -> Page[dict[str, Any]]:
    """A page of the stretches nobody (among visible patrols) covered in [since, until),
    by river, segment and place along it (every one when `limit` is None): the statement
    computes the gaps of the segments from the cursor's on only."""
    after = UNCOVERED_ORDER.after(cursor)
    start = (
        None
        if after is None
        else Clause(
            "(r.code, s.seq) >= (:after_0, :after_1)",
            {k: v for k, v in after.params.items() if k in ("after_0", "after_1")},
        )
    )
    where = all_of(equals("s.is_border", "border", border), equals("r.code", "river", river))
    sql = statement(
        UNCOVERED, visible=visible, where=where, segments_from=all_of(start), after=all_of(after)
    )
    params = {"since": since, "until": until, "limit": read_limit(limit)}
    rows = [dict(row._mapping) for row in session.execute(sql, params)]
    page = UNCOVERED_ORDER.page(rows, limit)
    for row in page.items:
        del row["gap_from"]
    return page


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
      AND {visible} AND {where}
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
    session: Session,
    *,
    until: Any,
    visible: Clause,
    team_id: int | None = None,
) -> list[Any]:
    """Rows of river stretches with their recency class (RECENCY_CLASSES) as of `until`."""
    sql = statement(RECENCY, visible=visible, where=all_of(equals("p.team_id", "team_id", team_id)))
    return list(session.execute(sql, {"until": until}).all())


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
    session: Session,
    *,
    zone_id: int,
    since: Any,
    until: Any,
    visible: Clause,
) -> list[Any]:
    """Rows (river, segment, gap) of the zone's border rivers; gap_* NULL = fully covered."""
    rows = session.execute(
        statement(BORDER_GAPS, visible=visible),
        {"zone_id": zone_id, "since": since, "until": until},
    )
    return list(rows.all())
