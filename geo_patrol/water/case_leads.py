"""A water-quality case as its readers see it: the reading that opened it (section, class,
target, previous class, parameters over the limit) and its leads upstream, each with a link.
Whoever may see the incident sees these (the incident list's rule: in scope, or reported by
the caller); a case opened by no reading has none."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_patrol.access.principal import Principal
from geo_patrol.access.scope import Scope
from geo_patrol.core.catalog import msg
from geo_patrol.core.errors import NotFound
from geo_patrol.core.vocabulary import LeadKind, WaterBody
from geo_patrol.db.clauses import statement
from geo_patrol.incidents.queries import readable
from geo_patrol.water.rule import OverLimit, over_limit

SEEN = "SELECT 1 FROM incidents i WHERE i.id = :id AND {visible}"

READING = """
SELECT w.id, w.sampled_at, w.class AS water_class, w.target_class, w.measured,
       sec.id AS section_id, sec.code, sec.name, sec.name_en, sec.kind, sec.water_body,
       r.code AS river_code, r.name AS river_name, prev.class AS previous_class
FROM water_readings w
JOIN water_sections sec ON sec.id = w.section_id
JOIN rivers r ON r.id = sec.river_id
LEFT JOIN LATERAL (
    SELECT p.class FROM water_readings p
    WHERE p.section_id = w.section_id AND p.sampled_at < w.sampled_at AND p.class IS NOT NULL
    ORDER BY p.sampled_at DESC LIMIT 1
) prev ON true
WHERE w.incident_id = :id
ORDER BY w.sampled_at, w.id
LIMIT 1
"""

LEADS = """
SELECT l.kind, coalesce(l.patrol_id, l.lead_incident_id, l.segment_id) AS target_id,
       l.upstream_m, l.at, l.from_fraction, l.to_fraction, r.code AS river_code, s.seq,
       CASE WHEN l.kind = 'uncovered' THEN ST_Length(
           ST_LineSubstring(s.geom, l.from_fraction, l.to_fraction)::geography) END AS length_m
FROM water_leads l
LEFT JOIN river_segments s ON s.id = l.segment_id
LEFT JOIN rivers r ON r.id = s.river_id
WHERE l.incident_id = :id
ORDER BY l.upstream_m, l.kind, l.id
"""

# Where a lead is read: the JSON of a patrol or incident, the segment as an OGC feature.
LINKS = {
    LeadKind.PATROL: "/api/v1/patrols/{}",
    LeadKind.INCIDENT: "/api/v1/incidents/{}",
    LeadKind.UNCOVERED: "/ogc/collections/segments/items/{}",
}


@dataclass(frozen=True)
class CaseReading:
    """The reading that opened a case."""

    id: int
    sampled_at: datetime
    water_class: int
    target_class: int
    previous_class: int | None
    section_id: int
    section_code: str
    section_name: str
    section_name_en: str | None
    section_kind: str
    river_code: str
    river_name: str
    over_limit: list[OverLimit]


@dataclass(frozen=True)
class CaseLead:
    """A lead as listed: what, which, how far upstream, when, where to read it."""

    kind: LeadKind
    id: int
    upstream_m: float
    at: datetime | None
    link: str
    river_code: str | None = None
    segment_seq: int | None = None
    from_fraction: float | None = None
    to_fraction: float | None = None
    length_m: float | None = None


@dataclass(frozen=True)
class CaseLeads:
    """The reading (None: no reading opened this incident) and the leads of a case."""

    incident_id: int
    reading: CaseReading | None
    leads: list[CaseLead]


def case_leads(
    session: Session, *, scope: Scope, principal: Principal, incident_id: int
) -> CaseLeads:
    """The reading and leads of incident `incident_id`, if the caller may see it."""
    seen = statement(SEEN, visible=readable(scope, principal))
    if session.execute(seen, {"id": incident_id}).first() is None:
        raise NotFound(msg("problem.api.no_incident", incident_id=incident_id), field="incident_id")
    row = session.execute(text(READING), {"id": incident_id}).first()
    reading = _reading(row) if row is not None else None
    leads = [_lead(lead) for lead in session.execute(text(LEADS), {"id": incident_id})]
    return CaseLeads(incident_id=incident_id, reading=reading, leads=leads)


def _reading(row: Any) -> CaseReading:
    """A reading row as shown."""
    return CaseReading(
        id=int(row.id),
        sampled_at=row.sampled_at,
        water_class=int(row.water_class),
        target_class=int(row.target_class),
        previous_class=row.previous_class,
        section_id=int(row.section_id),
        section_code=row.code,
        section_name=row.name,
        section_name_en=row.name_en,
        section_kind=row.kind,
        river_code=row.river_code,
        river_name=row.river_name,
        over_limit=over_limit(
            row.measured or {}, water_body=WaterBody(row.water_body), target=row.target_class
        ),
    )


def _lead(row: Any) -> CaseLead:
    """A lead row as shown."""
    kind = LeadKind(row.kind)
    return CaseLead(
        kind=kind,
        id=int(row.target_id),
        upstream_m=float(row.upstream_m),
        at=row.at,
        link=LINKS[kind].format(row.target_id),
        river_code=row.river_code,
        segment_seq=row.seq,
        from_fraction=row.from_fraction,
        to_fraction=row.to_fraction,
        length_m=row.length_m,
    )
