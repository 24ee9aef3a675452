"""The leads of a water-quality case: what lay upstream of its section in the hours before the
reading, on the same river (water.upstream gives the stretch).

- patrols whose cleaned track came within the coverage distance of the stretch (their stored
  coverage, patrols.coverage, meets the stretch's ranges) and that ran in the window;
- incidents reported in the window within `incident_segment_distance_m` of the stretch;
- the parts of the stretch no patrol in the window covered (the same range arithmetic as
  patrols.coverage.uncovered_stretches).

Each lead has `upstream_m`: how far above the section, along the flow, its nearest point on
the stretch is (for a patrol, the covered point nearest the section; for an incident, the
point of the stretch nearest the report, measured in the UTM zone of the section). Every
patrol and incident counts, whoever may see it: the case lists what happened; who may open
a lead is decided when it is opened.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_patrol.core.vocabulary import LeadKind
from geo_patrol.water.upstream import Place, StretchPart, metres_at

# The stretch as rows: each part with its segment's line, length, place and river's flow.
STRETCH = """
WITH stretch AS (
    SELECT t.segment_id, t.lo, t.hi, s.geom, s.length_m, s.flow_start_m, r.flow
    FROM unnest(CAST(:ids AS int[]), CAST(:los AS float8[]), CAST(:his AS float8[]))
         AS t(segment_id, lo, hi)
    JOIN river_segments s ON s.id = t.segment_id JOIN rivers r ON r.id = s.river_id
)"""

IN_WINDOW = "p.started_at <= :until AND coalesce(p.ended_at, p.started_at) >= :since"

PATROLS = (
    STRETCH
    + f""",
met AS (
    SELECT c.patrol_id, p.started_at, st.*,
           unnest(c.ranges * nummultirange(numrange(st.lo::numeric, st.hi::numeric, '[]')))
               AS part
    FROM stretch st
    JOIN patrol_coverage c ON c.segment_id = st.segment_id
    JOIN patrols p ON p.id = c.patrol_id
    WHERE {IN_WINDOW}
)
SELECT m.patrol_id, min(m.started_at) AS at,
       min(:position - greatest({metres_at("m", "lower(m.part)")},
                                {metres_at("m", "upper(m.part)")})) AS upstream_m
FROM met m
GROUP BY m.patrol_id
"""
)

# The nearest piece of the stretch to each report within reach, and the point of it nearest
# the report (in metres, in the section's UTM zone), kept inside the piece.
INCIDENTS = (
    STRETCH
    + """,
piece AS (
    SELECT st.*, ST_LineSubstring(st.geom, st.lo, st.hi) AS line FROM stretch st
),
near AS (
    SELECT DISTINCT ON (i.id) i.id, i.reported_at, pc.*,
           greatest(pc.lo, least(pc.hi, ST_LineLocatePoint(pc.geom, ST_Transform(
               ST_ClosestPoint(ST_Transform(pc.line, :srid), ST_Transform(i.geom, :srid)),
               4326)))) AS x
    FROM piece pc
    JOIN incidents i ON i.geom && ST_Expand(pc.line, 0.05)
     AND ST_DWithin(i.geom::geography, pc.line::geography, :distance_m)
    WHERE i.reported_at >= :since AND i.reported_at <= :until
      AND i.id <> ALL(CAST(:exclude AS bigint[]))
    ORDER BY i.id, ST_Distance(i.geom::geography, pc.line::geography)
)
"""
    + f"""SELECT n.id, n.reported_at AS at, :position - {metres_at("n", "n.x")} AS upstream_m
FROM near n
"""
)

UNCOVERED = (
    STRETCH
    + f""",
covered AS (
    SELECT c.segment_id, range_agg(c.ranges) AS ranges
    FROM patrol_coverage c JOIN patrols p ON p.id = c.patrol_id
    WHERE c.segment_id = ANY(CAST(:ids AS int[])) AND {IN_WINDOW}
    GROUP BY c.segment_id
),
gaps AS (
    SELECT st.*,
           unnest(nummultirange(numrange(st.lo::numeric, st.hi::numeric, '[]'))
                  - coalesce(cv.ranges, '{{}}'::nummultirange)) AS gap
    FROM stretch st LEFT JOIN covered cv ON cv.segment_id = st.segment_id
)
SELECT g.segment_id, lower(g.gap)::float8 AS lo, upper(g.gap)::float8 AS hi,
       :position - greatest({metres_at("g", "lower(g.gap)")},
                            {metres_at("g", "upper(g.gap)")}) AS upstream_m
FROM gaps g
WHERE upper(g.gap) - lower(g.gap) > 1e-6
"""
)


@dataclass(frozen=True)
class Lead:
    """One lead: a patrol, an incident or an uncovered piece of a segment, how far upstream
    of the section (metres along the flow) and when (patrol start, report time)."""

    kind: LeadKind
    upstream_m: float
    at: datetime | None = None
    patrol_id: int | None = None
    incident_id: int | None = None
    segment_id: int | None = None
    from_fraction: float | None = None
    to_fraction: float | None = None


def find_leads(
    session: Session,
    *,
    place: Place,
    stretch: Sequence[StretchPart],
    since: datetime,
    until: datetime,
    incident_distance_m: float,
    exclude_incidents: Sequence[int] = (),
) -> list[Lead]:
    """The patrols, incidents and uncovered pieces of `stretch` (above `place`) in the window
    [since, until], nearest the section first."""
    if not stretch:
        return []
    params: dict[str, Any] = {
        "ids": [part.segment_id for part in stretch],
        "los": [part.from_fraction for part in stretch],
        "his": [part.to_fraction for part in stretch],
        "position": place.position_m,
        "srid": place.srid,
        "since": since,
        "until": until,
        "distance_m": incident_distance_m,
        "exclude": list(exclude_incidents),
    }
    leads = [
        Lead(LeadKind.PATROL, _metres(r.upstream_m), r.at, patrol_id=int(r.patrol_id))
        for r in session.execute(text(PATROLS), params)
    ]
    leads += [
        Lead(LeadKind.INCIDENT, _metres(r.upstream_m), r.at, incident_id=int(r.id))
        for r in session.execute(text(INCIDENTS), params)
    ]
    leads += [
        Lead(
            LeadKind.UNCOVERED,
            _metres(r.upstream_m),
            segment_id=int(r.segment_id),
            from_fraction=float(r.lo),
            to_fraction=float(r.hi),
        )
        for r in session.execute(text(UNCOVERED), params)
    ]
    leads.sort(key=lambda lead: (lead.upstream_m, lead.kind))
    return leads


def _metres(value: float) -> float:
    """Metres upstream, never below 0 (a lead at the section itself, rounding aside)."""
    return max(0.0, float(value))
