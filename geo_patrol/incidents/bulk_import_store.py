"""Store a batch of routed, imported reports at once, each as a single report is stored.

One statement writes every report with its tier and deadline from the rule tables, and its
first event; one more its responsible sides (the same columns and rule SQL as
`reports.INSERT`). Duplicates are then linked as if the reports had arrived one at a time
in file order: a set-based pass finds the few reports with any open case of their category
near them in time and place, and only those are linked one by one, each to a case stored
before it (`reports.link_duplicate`), under each category's matching lock taken once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_patrol.access.principal import Principal
from geo_patrol.core.settings import Settings
from geo_patrol.db.tables import OPEN_STATUSES
from geo_patrol.incidents.reports import MATCH_LOCK, IncidentReport, link_duplicate, routing_note
from geo_patrol.incidents.routing import Routing

INSERT_MANY = """
WITH input AS (
    SELECT * FROM unnest(
        CAST(:ns AS int[]), CAST(:categories AS text[]), CAST(:severities AS text[]),
        CAST(:descriptions AS text[]), CAST(:contacts AS text[]), CAST(:addresses AS text[]),
        CAST(:reported_ats AS timestamptz[]), CAST(:lons AS float8[]), CAST(:lats AS float8[]),
        CAST(:datums AS text[]), CAST(:lead_codes AS text[]), CAST(:joints AS boolean[]),
        CAST(:zone_ids AS int[]), CAST(:unrouteds AS boolean[]), CAST(:segment_ids AS int[]),
        CAST(:external_sources AS text[]), CAST(:external_ids AS text[]),
        CAST(:notes AS text[]))
    AS i(n, category, severity, description, contact, address, reported_at, lon, lat, datum,
         lead_code, is_joint, zone_id, unrouted, segment_id, external_source, external_id, note)
),
incident AS (
    INSERT INTO incidents (source, category, severity, description, reporter_member_id,
        reporter_contact, address, reported_at, geom, datum, tier, deadline_at, lead_code,
        is_joint, zone_id, unrouted, segment_id, external_source, external_id)
    SELECT :source, i.category, i.severity, i.description, :member_id, i.contact, i.address,
        i.reported_at, ST_SetSRID(ST_MakePoint(i.lon, i.lat), 4326), i.datum, r.tier,
        i.reported_at + d.hours * interval '1 hour', i.lead_code, i.is_joint, i.zone_id,
        i.unrouted, i.segment_id, i.external_source, i.external_id
    FROM input i
    JOIN tier_rules r ON r.category = i.category AND r.severity = i.severity
    JOIN tier_deadlines d ON d.category = r.category AND d.tier = r.tier
    JOIN incident_categories c ON c.code = r.category AND c.active
    ORDER BY i.n
    ON CONFLICT DO NOTHING
    RETURNING id, tier, external_source, external_id
),
stored AS (
    SELECT i.n, i.note, incident.id, incident.tier FROM incident
    JOIN input i ON i.external_source = incident.external_source
                AND i.external_id = incident.external_id
),
created AS (
    INSERT INTO incident_events (incident_id, kind, member_id, actor, to_status, to_tier, note)
    SELECT id, 'created', :member_id, :actor, 'reported', tier, note FROM stored ORDER BY id
)
SELECT n, id FROM stored
"""

RESPONSIBLES_MANY = """
INSERT INTO incident_responsibles (incident_id, code, level, role, direct)
SELECT r.incident_id, r.code, r.level, r.role, r.direct
FROM unnest(CAST(:ids AS bigint[]), CAST(:codes AS text[]), CAST(:levels AS text[]),
            CAST(:roles AS text[]), CAST(:directs AS boolean[]))
     WITH ORDINALITY AS r(incident_id, code, level, role, direct, n)
ORDER BY r.n
ON CONFLICT DO NOTHING
"""

# The stored reports with any open case of their category within the duplicate window and
# distance (their candidates for a link; most reports have none). The box (metres / 30,000
# degrees: a degree is at least 30 km below latitude 74) only lets the index help.
MAY_DUPLICATE = """
SELECT i.id FROM incidents i
CROSS JOIN LATERAL (
    SELECT 1 FROM incidents c
    WHERE c.geom && ST_Expand(i.geom, :distance_m / 30000.0)
      AND c.category = i.category AND c.id <> i.id AND c.duplicate_of IS NULL
      AND c.status = ANY(CAST(:open_statuses AS text[]))
      AND c.reported_at BETWEEN i.reported_at - :window AND i.reported_at + :window
      AND ST_DWithin(c.geom::geography, i.geom::geography, :distance_m)
    LIMIT 1
) candidate
WHERE i.id = ANY(:ids)
"""


@dataclass(frozen=True)
class Routed:
    """One report to store, where (WGS84) it is, and how it is routed."""

    report: IncidentReport
    routing: Routing
    lon: float
    lat: float
    reported_at: datetime


def store_many(
    session: Session, *, batch: list[Routed], principal: Principal, settings: Settings
) -> list[int | None]:
    """Store the batch (reports with an external id); per report its id, or None if that
    external id is already stored."""
    if not batch:
        return []
    found = session.execute(text(INSERT_MANY), _columns(batch, principal)).all()
    ids: list[int | None] = [None] * len(batch)
    for n, incident_id in found:
        ids[n] = int(incident_id)
    _responsibles(session, batch, ids)
    _link(session, batch, ids, settings)
    return ids


def _columns(batch: list[Routed], principal: Principal) -> dict[str, object]:
    """The INSERT_MANY parameters: one array per column."""
    reports = [item.report for item in batch]
    routings = [item.routing for item in batch]
    return {
        "source": reports[0].source,
        "member_id": principal.member_id,
        "actor": principal.label,
        "ns": list(range(len(batch))),
        "categories": [r.category for r in reports],
        "severities": [str(r.severity) for r in reports],
        "descriptions": [r.description for r in reports],
        "contacts": [r.reporter_contact for r in reports],
        "addresses": [r.address for r in reports],
        "reported_ats": [item.reported_at for item in batch],
        "lons": [item.lon for item in batch],
        "lats": [item.lat for item in batch],
        "datums": [str(r.datum) for r in reports],
        "lead_codes": [g.lead[0].code if g.lead else None for g in routings],
        "joints": [g.joint for g in routings],
        "zone_ids": [g.zone_id for g in routings],
        "unrouteds": [g.unrouted for g in routings],
        "segment_ids": [g.segment_id for g in routings],
        "external_sources": [r.external_source for r in reports],
        "external_ids": [r.external_id for r in reports],
        "notes": [routing_note(g) for g in routings],
    }


def _responsibles(session: Session, batch: list[Routed], ids: list[int | None]) -> None:
    """The lead's chain and each co-responsible chain of every stored report."""
    rows: list[tuple[int, str, str, str, bool]] = []
    for item, incident_id in zip(batch, ids, strict=True):
        if incident_id is None:
            continue
        routing = item.routing
        for role, chains in (("lead", [routing.lead]), ("co", routing.co)):
            for chain in chains:
                rows += [
                    (incident_id, ref.code, ref.level, role, n == 0) for n, ref in enumerate(chain)
                ]
    if rows:
        columns = list(zip(*rows, strict=True))
        session.execute(
            text(RESPONSIBLES_MANY),
            {
                "ids": list(columns[0]),
                "codes": list(columns[1]),
                "levels": list(columns[2]),
                "roles": list(columns[3]),
                "directs": list(columns[4]),
            },
        )


def _link(session: Session, batch: list[Routed], ids: list[int | None], settings: Settings) -> None:
    """Link duplicates in file order, only for the reports that have a candidate."""
    stored = [(item, i) for item, i in zip(batch, ids, strict=True) if i is not None]
    for category in sorted({item.report.category for item, _ in stored}):
        session.execute(text(MATCH_LOCK), {"category": category})
    maybe = set(
        session.execute(
            text(MAY_DUPLICATE),
            {
                "ids": [i for _, i in stored],
                "open_statuses": list(OPEN_STATUSES),
                "window": timedelta(hours=settings.duplicate_hours),
                "distance_m": settings.duplicate_distance_m,
            },
        ).scalars()
    )
    for item, incident_id in stored:
        if incident_id in maybe:
            link_duplicate(
                session,
                incident_id,
                item.report.category,
                item.lon,
                item.lat,
                item.reported_at,
                settings,
                locked=True,
                earlier_only=True,
            )
