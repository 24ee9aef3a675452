"""Incidents: create (routed, tiered, linked to duplicates), and every step of their history."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from geo_patrol.access import audit
from geo_patrol.access.principal import Principal
from geo_patrol.coords import to_wgs84
from geo_patrol.errors import InvalidInput
from geo_patrol.models import SEVERITIES
from geo_patrol.settings import Settings
from geo_patrol.spatial.routing import Routing, route_point

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


EXISTING = "SELECT id FROM incidents WHERE source = :source AND client_id = :client_id"

TIER_RULE = """
SELECT r.tier, d.hours FROM tier_rules r
JOIN tier_deadlines d ON d.category = r.category AND d.tier = r.tier
JOIN incident_categories c ON c.code = r.category AND c.active
WHERE r.category = :category AND r.severity = :severity
"""

INSERT = """
INSERT INTO incidents (source, client_id, category, severity, description, reporter_member_id,
    reporter_name, reporter_contact, address, reported_at, geom, datum, tier, deadline_at,
    lead_code, is_joint, zone_id, unrouted, segment_id, patrol_id)
VALUES (:source, :client_id, :category, :severity, :description, :member_id, :reporter_name,
    :reporter_contact, :address, :reported_at, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326),
    :datum, :tier, :deadline_at, :lead_code, :is_joint, :zone_id, :unrouted, :segment_id,
    :patrol_id)
RETURNING id
"""

EVENT = """
INSERT INTO incident_events (incident_id, kind, member_id, actor, from_status, to_status,
                             from_tier, to_tier, note)
VALUES (:incident_id, :kind, :member_id, :actor, :from_status, :to_status, :from_tier,
        :to_tier, :note)
"""

# An open case of the same category close in space and time: ten photos of one outfall
# are one case. The report joins the earliest such case (its root).
DUPLICATE_OF = """
SELECT coalesce(i.duplicate_of, i.id) FROM incidents i
WHERE i.id <> :incident_id AND i.category = :category
  AND i.status NOT IN ('resolved', 'verified', 'closed', 'rejected')
  AND i.reported_at BETWEEN CAST(:reported_at AS timestamptz) - :window
                        AND CAST(:reported_at AS timestamptz) + :window
  AND ST_DWithin(i.geom::geography, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography,
                 :distance_m)
ORDER BY i.reported_at, i.id LIMIT 1
"""


def record_event(
    session: Session, *, incident_id: int, kind: str, principal: Principal | None, **change: Any
) -> None:
    """Append one step to an incident's history."""
    values = {"from_status": None, "to_status": None, "from_tier": None, "to_tier": None,
              "note": None, **change}  # fmt: skip
    session.execute(
        text(EVENT),
        {"incident_id": incident_id, "kind": kind,
         "member_id": principal.member_id if principal else None,
         "actor": principal.label if principal else "system", **values},
    )  # fmt: skip


def create_incident(
    session: Session, *, report: IncidentReport, principal: Principal | None, settings: Settings,
    address: str | None = None,
) -> tuple[int, bool]:  # fmt: skip
    """Store, route, tier and link a report; a retry with the same client id returns it."""
    if report.client_id:
        existing = session.execute(
            text(EXISTING), {"source": report.source, "client_id": report.client_id}
        ).scalar()
        if existing is not None:
            return int(existing), False
    lon, lat = _wgs84(report)
    reported_at = report.reported_at or datetime.now(UTC)
    routing = route_point(session, lon=lon, lat=lat, at=reported_at,
                          segment_distance_m=settings.incident_segment_distance_m)  # fmt: skip
    try:
        with session.begin_nested():
            incident_id, tier = _insert(session, report, principal, routing, lon, lat, reported_at)
    except IntegrityError:  # the same client id raced in through another request
        again = session.execute(
            text(EXISTING), {"source": report.source, "client_id": report.client_id}
        ).scalar()
        if again is None:
            raise
        return int(again), False
    _store_responsibles(session, incident_id, routing)
    record_event(session, incident_id=incident_id, kind="created", principal=principal,
                 to_status="reported", to_tier=tier, note=_routing_note(routing))  # fmt: skip
    _link_duplicate(session, incident_id, report.category, lon, lat, reported_at, settings)
    audit.record(session, action="incident.create", principal=principal,
                 target=f"incident:{incident_id}", address=address,
                 detail={"source": report.source, "joint": routing.joint})  # fmt: skip
    log.info("incident %s (%s) routed to %s%s", incident_id, report.category,
             routing.lead[0].code if routing.lead else "nobody (unrouted)",
             " jointly" if routing.joint else "")  # fmt: skip
    return incident_id, True


def _wgs84(report: IncidentReport) -> tuple[float, float]:
    """The report's point in WGS84, checked."""
    if report.severity not in SEVERITIES:
        raise InvalidInput(f"severity must be one of {', '.join(SEVERITIES)}", field="severity")
    if not (-180 <= report.lon <= 180 and -90 <= report.lat <= 90):
        raise InvalidInput("lon must be in -180..180 and lat in -90..90", field="lon")
    try:
        lon, lat = to_wgs84(report.lon, report.lat, datum=report.datum)
    except ValueError as error:
        raise InvalidInput(str(error), field="datum") from error
    return float(lon), float(lat)


def _insert(
    session: Session, report: IncidentReport, principal: Principal | None, routing: Routing,
    lon: float, lat: float, reported_at: datetime,
) -> tuple[int, str]:  # fmt: skip
    """The incidents row, with its tier and deadline from the rule tables."""
    rule = session.execute(
        text(TIER_RULE), {"category": report.category, "severity": report.severity}
    ).first()
    if rule is None:
        raise InvalidInput(
            f"unknown category {report.category!r} (see /api/v1/incident-categories)",
            field="category",
        )
    incident_id = session.execute(
        text(INSERT),
        {"source": report.source, "client_id": report.client_id, "category": report.category,
         "severity": report.severity, "description": report.description,
         "member_id": principal.member_id if principal else None,
         "reporter_name": report.reporter_name, "reporter_contact": report.reporter_contact,
         "address": report.address, "reported_at": reported_at, "lon": lon, "lat": lat,
         "datum": report.datum, "tier": rule.tier,
         "deadline_at": reported_at + timedelta(hours=rule.hours),
         "lead_code": routing.lead[0].code if routing.lead else None,
         "is_joint": routing.joint, "zone_id": routing.zone_id, "unrouted": routing.unrouted,
         "segment_id": routing.segment_id, "patrol_id": report.patrol_id},
    ).scalar_one()  # fmt: skip
    return int(incident_id), str(rule.tier)


def _store_responsibles(session: Session, incident_id: int, routing: Routing) -> None:
    """The lead chain and each co-responsible chain."""
    rows = [
        {"i": incident_id, "code": ref.code, "level": ref.level, "role": role, "direct": n == 0}
        for role, chains in (("lead", [routing.lead]), ("co", routing.co))
        for chain in chains
        for n, ref in enumerate(chain)
    ]
    if rows:
        session.execute(
            text(
                "INSERT INTO incident_responsibles (incident_id, code, level, role, direct) "
                "VALUES (:i, :code, :level, :role, :direct) ON CONFLICT DO NOTHING"
            ),
            rows,
        )


def _routing_note(routing: Routing) -> str:
    """How the report was routed, for the history."""
    if routing.unrouted:
        return "outside every jurisdiction: unrouted, for administrators"
    note = f"lead {routing.lead[0].code} {routing.lead[0].name}"
    if routing.joint:
        note += "; joint with " + ", ".join(f"{c[0].code} {c[0].name}" for c in routing.co)
    return note


def _link_duplicate(
    session: Session, incident_id: int, category: str, lon: float, lat: float,
    reported_at: datetime, settings: Settings,
) -> None:  # fmt: skip
    """Link the report to an open case it duplicates."""
    root = session.execute(
        text(DUPLICATE_OF),
        {"incident_id": incident_id, "category": category, "lon": lon, "lat": lat,
         "reported_at": reported_at, "window": timedelta(hours=settings.duplicate_hours),
         "distance_m": settings.duplicate_distance_m},
    ).scalar()  # fmt: skip
    if root is not None:
        session.execute(
            text("UPDATE incidents SET duplicate_of = :root WHERE id = :id"),
            {"root": root, "id": incident_id},
        )
        record_event(session, incident_id=incident_id, kind="linked", principal=None,
                     note=f"duplicate of incident {root}")  # fmt: skip
