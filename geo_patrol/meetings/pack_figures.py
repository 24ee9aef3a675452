"""The figures of a joint-meeting pack (联席会议材料) for one zone and period, in scope.

The sides of a zone are its member jurisdictions. A joint patrol is one by a team of the
zone (a joint team). Border crossings count at the side's own level. Coverage is that of
the border river segments on the zone's sides; the longest unpatrolled stretch joins gaps
that run over a segment end.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_patrol.access.principal import Principal
from geo_patrol.access.scope import Scope
from geo_patrol.core.catalog import msg
from geo_patrol.core.errors import NotFound
from geo_patrol.core.local_time import LOCAL, ZONE_NAME
from geo_patrol.core.selection import Selection
from geo_patrol.db.clauses import statement
from geo_patrol.db.tables import LEVELS
from geo_patrol.incidents.queries import list_incidents
from geo_patrol.meetings.agenda import Agenda, proposed_agenda
from geo_patrol.meetings.decisions import Decision, decisions_of
from geo_patrol.meetings.duty_figures import DutyFigures, duty_figures
from geo_patrol.meetings.records import Meeting, last_meeting
from geo_patrol.meetings.visibility import zone_of
from geo_patrol.patrols.coverage import border_river_gaps
from geo_patrol.patrols.queries import patrol_filter
from geo_patrol.water.trends import SectionTrend, border_trends

ZONE = "SELECT id, code, name, border_zone_width_m FROM cooperation_zones WHERE code = :code"

# Patrols are those visible to the caller that ran in the period.
EFFORT = """
WITH visible_patrols AS (
    SELECT p.id, t.zone_id FROM patrols p JOIN teams t ON t.id = p.team_id
    WHERE {visible} AND p.started_at < :until
      AND coalesce(p.ended_at, p.started_at) >= :since
),
effort AS (
    SELECT pj.code, sum(pj.length_m) AS metres, sum(pj.duration_s) AS seconds,
           count(*) AS patrols, count(*) FILTER (WHERE v.zone_id = :zone_id) AS joint_patrols
    FROM patrol_jurisdictions pj JOIN visible_patrols v ON v.id = pj.patrol_id
    GROUP BY pj.code
),
crossings AS (
    SELECT code, count(*) AS crossings FROM (
        SELECT c.from_code AS code FROM patrol_crossings c
        JOIN visible_patrols v ON v.id = c.patrol_id
        UNION ALL
        SELECT c.to_code FROM patrol_crossings c JOIN visible_patrols v ON v.id = c.patrol_id
    ) x GROUP BY code
)
SELECT m.jurisdiction_code AS code, j.name, j.level,
       coalesce(e.metres, 0) / 1000 AS km, coalesce(e.seconds, 0) / 3600 AS hours,
       coalesce(e.patrols, 0) AS patrols, coalesce(e.joint_patrols, 0) AS joint_patrols,
       coalesce(c.crossings, 0) AS crossings
FROM cooperation_zone_members m
JOIN jurisdictions j ON j.code = m.jurisdiction_code
 AND j.valid_from < :until AND (j.valid_to IS NULL OR j.valid_to >= :until)
LEFT JOIN effort e ON e.code = m.jurisdiction_code
LEFT JOIN crossings c ON c.code = m.jurisdiction_code
WHERE m.zone_id = :zone_id
ORDER BY array_position(CAST(:levels AS text[]), j.level::text), m.jurisdiction_code
"""

ESCALATIONS = """
SELECT count(*) FROM incident_events
WHERE kind = 'escalated' AND incident_id = ANY(:ids) AND at >= :since AND at < :until
"""

NAMES = "SELECT code, name FROM jurisdictions WHERE valid_to IS NULL"

# The zone's tracks, simplified to about 5 m, for a page that carries them inside it.
TRACKS = """
WITH area AS (
    SELECT ST_Union(j.geom) AS geom FROM cooperation_zone_members m
    JOIN jurisdictions j ON j.code = m.jurisdiction_code AND j.valid_to IS NULL
    WHERE m.zone_id = :zone_id
)
SELECT p.id, t.name AS team_name,
       to_char(p.started_at AT TIME ZONE :zone, 'YYYY-MM-DD HH24:MI') AS started,
       round(p.length_m::numeric / 1000, 2)::float8 AS km,
       ST_AsGeoJSON(ST_SimplifyPreserveTopology(p.track, 0.00005), 6)::json AS geometry
FROM patrols p JOIN teams t ON t.id = p.team_id, area
WHERE {visible} AND p.track IS NOT NULL AND p.track && area.geom
  AND p.started_at < :until AND coalesce(p.ended_at, p.started_at) >= :since
ORDER BY p.started_at
"""


@dataclass
class RiverCoverage:
    """Coverage of one border river in the period."""

    code: str
    name: str
    length_m: float
    uncovered_m: float
    longest_gap_m: float

    @property
    def covered_fraction(self) -> float:
        """Share of the border stretch patrolled (0..1)."""
        return 0.0 if self.length_m <= 0 else max(0.0, 1 - self.uncovered_m / self.length_m)


@dataclass
class PackData:
    """Everything a meeting pack shows besides its map."""

    zone: dict[str, Any]
    filters: Selection
    effort: list[dict[str, Any]]
    coverage: list[RiverCoverage]
    incidents: list[dict[str, Any]]
    escalations: int
    names: dict[str, str]
    tracks: list[dict[str, Any]]
    duty: DutyFigures
    last_meeting: Meeting | None = None
    decisions: list[Decision] = field(default_factory=list)
    agenda: Agenda | None = None
    water: list[SectionTrend] = field(default_factory=list)

    def counts(self, key: str) -> Counter[str]:
        """Incidents (duplicates merged into their case) counted by `key`."""
        return Counter(str(i[key] or "unrouted") for i in self.cases)

    @property
    def cases(self) -> list[dict[str, Any]]:
        """Incidents that are cases of their own (not linked duplicates)."""
        return [i for i in self.incidents if i["duplicate_of"] is None]

    @property
    def duplicates(self) -> int:
        """Reports linked to an existing case."""
        return sum(1 for i in self.incidents if i["duplicate_of"] is not None)


def summarise_gaps(rows: list[Any]) -> list[RiverCoverage]:
    """Per river: border length, uncovered metres, longest gap (joined over segment ends)."""
    rivers: dict[str, RiverCoverage] = {}
    seen_segments: set[int] = set()
    run_m = 0.0
    last: tuple[str, int, float] | None = None  # river, seq and end of the previous gap
    for row in rows:
        river = rivers.setdefault(
            row.river_code, RiverCoverage(row.river_code, row.river_name, 0.0, 0.0, 0.0)
        )
        if row.segment_id not in seen_segments:
            seen_segments.add(row.segment_id)
            river.length_m += row.length_m
        if row.gap_from is None:
            last = None
            continue
        continues = (
            last is not None
            and last[0] == row.river_code
            and last[1] == row.seq - 1
            and last[2] >= 1 - 1e-9
            and row.gap_from <= 1e-9
        )
        run_m = run_m + row.gap_m if continues else row.gap_m
        river.uncovered_m += row.gap_m
        river.longest_gap_m = max(river.longest_gap_m, run_m)
        last = (row.river_code, row.seq, row.gap_to)
    return list(rivers.values())


def pack_data(
    session: Session, *, scope: Scope, principal: Principal, filters: Selection
) -> PackData:
    """Read the figures of the meeting pack for `filters.zone` and its period."""
    zone_row = session.execute(text(ZONE), {"code": filters.zone}).first()
    if zone_row is None:
        raise NotFound(msg("problem.meetings.no_zone", zone=filters.zone), field="zone")
    zone = dict(zone_row._mapping)
    period = {"since": filters.since, "until": filters.until, "zone_id": zone["id"]}
    seen = patrol_filter(scope)
    effort = [
        dict(r._mapping)
        for r in session.execute(
            statement(EFFORT, visible=seen), {**period, "levels": list(LEVELS)}
        )
    ]
    incidents = list_incidents(
        session,
        scope=scope,
        principal=principal,
        jurisdictions=[e["code"] for e in effort],
        since=filters.since,
        until=filters.until,
        limit=5000,
    )
    escalations = session.execute(
        text(ESCALATIONS), {**period, "ids": [i["id"] for i in incidents]}
    ).scalar_one()
    gaps = border_river_gaps(
        session,
        zone_id=zone["id"],
        since=filters.since,
        until=filters.until,
        visible=seen,
    )
    tracks = [
        dict(r._mapping)
        for r in session.execute(statement(TRACKS, visible=seen), {**period, "zone": ZONE_NAME})
    ]
    today = datetime.now(LOCAL).date()
    return PackData(
        zone=zone,
        filters=filters,
        effort=effort,
        coverage=summarise_gaps(gaps),
        incidents=incidents[::-1],  # oldest first
        escalations=int(escalations),
        names={r.code: r.name for r in session.execute(text(NAMES))},
        tracks=tracks,
        duty=duty_figures(
            session,
            scope=scope,
            member_id=principal.member_id,
            zone_id=zone["id"],
            day=min(filters.date_to, today),
        ),
        **follow_up(session, scope=scope, principal=principal, filters=filters, today=today),
    )


def follow_up(
    session: Session, *, scope: Scope, principal: Principal, filters: Selection, today: date
) -> dict[str, Any]:
    """The pack's follow-up sections: the zone's last meeting before the period's end and its
    decisions as they stand `today` (with their history), the proposed agenda of the period,
    and the border sections' water."""
    zone = zone_of(session, code=str(filters.zone))
    meeting = last_meeting(session, zone_id=zone.id, before=filters.until)
    decisions = (
        []
        if meeting is None
        else decisions_of(session, meeting_ids=[meeting.id], today=today, history=True)
    )
    agenda = proposed_agenda(
        session,
        scope=scope,
        principal=principal,
        zone=zone,
        date_from=filters.date_from,
        date_to=filters.date_to,
        today=today,
    )
    water = border_trends(
        session, zone_id=zone.id, date_from=filters.date_from, date_to=filters.date_to
    )
    return {"last_meeting": meeting, "decisions": decisions, "agenda": agenda, "water": water}
