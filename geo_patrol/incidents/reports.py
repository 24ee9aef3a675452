"""Incidents: create (routed, tiered, linked to duplicates), and every step of their history."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert, text, update
from sqlalchemy.orm import Session

from geo_patrol.access import audit
from geo_patrol.access.principal import Principal
from geo_patrol.core.catalog import msg, reason
from geo_patrol.core.coords import to_wgs84
from geo_patrol.core.errors import InvalidInput
from geo_patrol.core.settings import Settings
from geo_patrol.db.clauses import statement
from geo_patrol.db.tables import SEVERITIES, Incident, IncidentEvent
from geo_patrol.incidents.queries import is_open
from geo_patrol.incidents.routing import Routing, route_point

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IncidentReport:
    """A new report as it arrives (API, Open311, patrol observation)."""

    category: str
    severity: str
    lon: float
    lat: float
    source: str = "api"
    datum: str = "wgs84"
    description: str | None = None
    reported_at: datetime | None = None
    client_id: str | None = None
    reporter_name: str | None = None
    reporter_contact: str | None = None
    address: str | None = None
    patrol_id: int | None = None
    external_source: str | None = None  # an imported report: the platform and its id for it
    external_id: str | None = None


EXISTING = "SELECT id FROM incidents WHERE source = :source AND client_id = :client_id"

# The report with its tier and deadline from the rule tables, its responsible sides and the
# first step of its history, in one statement. Nothing is written when the category has no
# active rule (rule_tier is NULL) or when its client id is already stored (a retry racing
# this one: id is NULL).
INSERT = """
WITH rule AS (
    SELECT r.tier, d.hours FROM tier_rules r
    JOIN tier_deadlines d ON d.category = r.category AND d.tier = r.tier
    JOIN incident_categories c ON c.code = r.category AND c.active
    WHERE r.category = :category AND r.severity = :severity
),
incident AS (
    INSERT INTO incidents (source, client_id, category, severity, description,
        reporter_member_id, reporter_name, reporter_contact, address, reported_at, geom, datum,
        tier, deadline_at, lead_code, is_joint, zone_id, unrouted, segment_id, patrol_id,
        external_source, external_id)
    SELECT :source, :client_id, :category, :severity, :description, :member_id, :reporter_name,
        :reporter_contact, :address, :reported_at, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326),
        :datum, rule.tier, CAST(:reported_at AS timestamptz) + rule.hours * interval '1 hour',
        :lead_code, :is_joint, :zone_id, :unrouted, :segment_id, :patrol_id,
        :external_source, :external_id
    FROM rule
    ON CONFLICT (source, client_id) WHERE client_id IS NOT NULL DO NOTHING
    RETURNING id, tier
),
responsibles AS (
    INSERT INTO incident_responsibles (incident_id, code, level, role, direct)
    SELECT incident.id, r.code, r.level, r.role, r.direct
    FROM incident, unnest(CAST(:codes AS text[]), CAST(:levels AS text[]),
                          CAST(:roles AS text[]), CAST(:directs AS boolean[]))
                   WITH ORDINALITY AS r(code, level, role, direct, n)
    ORDER BY r.n
    ON CONFLICT DO NOTHING
),
created AS (
    INSERT INTO incident_events (incident_id, kind, member_id, actor, to_status, to_tier, note)
    SELECT id, 'created', :member_id, :actor, 'reported', tier, :note FROM incident
)
SELECT (SELECT tier FROM rule) AS rule_tier, (SELECT id FROM incident) AS id
"""

# The open case a report duplicates: ten photos of one outfall are one case. A case is an
# incident that is not itself a duplicate, and only its own report counts: its status (an open
# duplicate never stands for a closed case), its place and its report time (duplicates never
# widen it, so a cluster cannot creep from report to report). Of several, the nearest on the
# ellipsoid, then the earliest reported, then the lowest id. FOR SHARE: a case being closed
# at this moment is either closed after this link, or seen closed (PostgreSQL re-reads the
# locked row) and passed over for the next in order (the order's columns never change).
DUPLICATE_OF = """
WITH report AS (SELECT ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography AS g)
SELECT c.id FROM incidents c, report
WHERE {other} AND c.duplicate_of IS NULL AND c.category = :category
  AND {open}
  AND c.reported_at BETWEEN CAST(:reported_at AS timestamptz) - :window
                        AND CAST(:reported_at AS timestamptz) + :window
  AND ST_DWithin(c.geom::geography, report.g, :distance_m)
ORDER BY ST_Distance(c.geom::geography, report.g), c.reported_at, c.id
LIMIT 1 FOR SHARE OF c
"""

# Reports of one category are matched one at a time, in the order they take this lock (held
# to the end of the transaction): two reports of one spill arriving together cannot both
# start a case, the second waits and then sees the first. 7302: this lock's class (live.py
# holds 7211).
MATCH_LOCK = "SELECT pg_advisory_xact_lock(7302, hashtext(:category))"


def record_event(
    session: Session, *, incident_id: int, kind: str, principal: Principal | None, **change: Any
) -> None:
    """Append one step to an incident's history."""
    values = {
        "from_status": None,
        "to_status": None,
        "from_tier": None,
        "to_tier": None,
        "note": None,
        **change,
    }
    session.execute(
        insert(IncidentEvent).values(
            incident_id=incident_id,
            kind=kind,
            member_id=principal.member_id if principal else None,
            actor=principal.label if principal else "system",
            **values,
        )
    )


def unlink_duplicate(session: Session, *, incident_id: int, principal: Principal) -> None:
    """A supervisor decides a report is a case of its own: the link goes, an event says so."""
    session.execute(update(Incident).where(Incident.id == incident_id).values(duplicate_of=None))
    record_event(
        session,
        incident_id=incident_id,
        kind="unlinked",
        principal=principal,
        note="not a duplicate",
    )


def create_incident(
    session: Session,
    *,
    report: IncidentReport,
    principal: Principal | None,
    settings: Settings,
    address: str | None = None,
) -> tuple[int, bool]:
    """Store, route, tier and link a report; a retry with the same client id returns it."""
    if report.client_id:
        existing = session.execute(
            text(EXISTING), {"source": report.source, "client_id": report.client_id}
        ).scalar()
        if existing is not None:
            return int(existing), False
    lon, lat = _wgs84(report)
    reported_at = report.reported_at or datetime.now(UTC)
    routing = route_point(
        session,
        lon=lon,
        lat=lat,
        at=reported_at,
        segment_distance_m=settings.incident_segment_distance_m,
    )
    incident_id = store_routed(
        session,
        report=report,
        principal=principal,
        routing=routing,
        point=(lon, lat),
        reported_at=reported_at,
        settings=settings,
    )
    if incident_id is None:  # the same client id raced in through another request
        again = session.execute(
            text(EXISTING), {"source": report.source, "client_id": report.client_id}
        ).scalar_one()
        return int(again), False
    audit.record(
        session,
        action="incident.create",
        principal=principal,
        target=f"incident:{incident_id}",
        address=address,
        detail={"source": report.source, "joint": routing.joint},
    )
    log.info(
        "incident %s (%s) routed to %s%s",
        incident_id,
        report.category,
        routing.lead[0].code if routing.lead else "nobody (unrouted)",
        " jointly" if routing.joint else "",
    )
    return incident_id, True


def store_routed(
    session: Session,
    *,
    report: IncidentReport,
    principal: Principal | None,
    routing: Routing,
    point: tuple[float, float],
    reported_at: datetime,
    settings: Settings,
) -> int | None:
    """Store a report already routed at `point` (WGS84) and link it to the case it
    duplicates; None if its client id is already stored."""
    lon, lat = point
    incident_id = _insert(session, report, principal, routing, lon, lat, reported_at)
    if incident_id is not None:
        link_duplicate(session, incident_id, report.category, lon, lat, reported_at, settings)
    return incident_id


def _wgs84(report: IncidentReport) -> tuple[float, float]:
    """The report's point in WGS84, checked."""
    if report.severity not in SEVERITIES:
        raise InvalidInput(
            msg("problem.incidents.severity_choice", severities=", ".join(SEVERITIES)),
            field="severity",
        )
    if not (-180 <= report.lon <= 180 and -90 <= report.lat <= 90):
        raise InvalidInput(msg("problem.incidents.position_out_of_range"), field="lon")
    try:
        lon, lat = to_wgs84(report.lon, report.lat, datum=report.datum)
    except ValueError as error:
        raise InvalidInput(reason(error), field="datum") from error
    return float(lon), float(lat)


def _insert(
    session: Session,
    report: IncidentReport,
    principal: Principal | None,
    routing: Routing,
    lon: float,
    lat: float,
    reported_at: datetime,
) -> int | None:
    """Write the report, its responsible sides and its first event; None if already stored."""
    sides = [
        (ref, role, n == 0)
        for role, chains in (("lead", [routing.lead]), ("co", routing.co))
        for chain in chains
        for n, ref in enumerate(chain)
    ]
    row = session.execute(
        text(INSERT),
        {
            "source": report.source,
            "client_id": report.client_id,
            "category": report.category,
            "severity": report.severity,
            "description": report.description,
            "member_id": principal.member_id if principal else None,
            "actor": principal.label if principal else "system",
            "reporter_name": report.reporter_name,
            "reporter_contact": report.reporter_contact,
            "address": report.address,
            "reported_at": reported_at,
            "lon": lon,
            "lat": lat,
            "datum": report.datum,
            "lead_code": routing.lead[0].code if routing.lead else None,
            "is_joint": routing.joint,
            "zone_id": routing.zone_id,
            "unrouted": routing.unrouted,
            "segment_id": routing.segment_id,
            "patrol_id": report.patrol_id,
            "external_source": report.external_source,
            "external_id": report.external_id,
            "codes": [ref.code for ref, _, _ in sides],
            "levels": [ref.level for ref, _, _ in sides],
            "roles": [role for _, role, _ in sides],
            "directs": [direct for _, _, direct in sides],
            "note": routing_note(routing),
        },
    ).one()
    if row.rule_tier is None:
        raise InvalidInput(
            msg("problem.incidents.unknown_category", category=report.category),
            field="category",
        )
    return None if row.id is None else int(row.id)


def routing_note(routing: Routing) -> str:
    """How the report was routed, for the history."""
    if routing.unrouted:
        return "outside every jurisdiction: unrouted, for administrators"
    note = f"lead {routing.lead[0].code} {routing.lead[0].name}"
    if routing.joint:
        note += "; joint with " + ", ".join(f"{c[0].code} {c[0].name}" for c in routing.co)
    return note


def link_duplicate(
    session: Session,
    incident_id: int,
    category: str,
    lon: float,
    lat: float,
    reported_at: datetime,
    settings: Settings,
    *,
    locked: bool = False,
    earlier_only: bool = False,
) -> None:
    """Link the report to the open case it duplicates (see DUPLICATE_OF), if any. A batch
    (`earlier_only`) stored at once links each report as if stored one at a time in order:
    only incidents stored before it count (`locked`: the batch holds the category's lock)."""
    if not locked:
        session.execute(text(MATCH_LOCK), {"category": category})
    other = "c.id < :incident_id" if earlier_only else "c.id <> :incident_id"
    case = session.execute(
        statement(DUPLICATE_OF, open=is_open("c.status"), other=other),
        {
            "incident_id": incident_id,
            "category": category,
            "lon": lon,
            "lat": lat,
            "reported_at": reported_at,
            "window": timedelta(hours=settings.duplicate_hours),
            "distance_m": settings.duplicate_distance_m,
        },
    ).scalar()
    if case is not None:
        session.execute(
            update(Incident).where(Incident.id == incident_id).values(duplicate_of=case)
        )
        record_event(
            session,
            incident_id=incident_id,
            kind="linked",
            principal=None,
            note=f"duplicate of incident {case}",
        )
