"""Demo incidents across the border region, created through the real routing and workflow.

Some sit on the border river (joint cases), some deep inside one side, one in the sea
(unrouted), a cluster of duplicate photos of one outfall, cases escalated by their
deadline, and cases resolved then passed by a later patrol (verification evidence).
Client ids are fixed, so running the demo again adds nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pyproj
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_patrol.access.principal import Principal, load_member
from geo_patrol.access.scope import scope_of
from geo_patrol.core.settings import Settings
from geo_patrol.demo.simulate import river_line
from geo_patrol.incidents.reports import IncidentReport, create_incident
from geo_patrol.incidents.workflow import escalate_overdue, transition

GEOD = pyproj.Geod(ellps="WGS84")
BORDER_RIVER = "R-320509-330411-01"


@dataclass(frozen=True)
class DemoIncident:
    """Where (a river, a fraction along it, metres to one side), what, who, how far along."""

    key: str
    river: str
    fraction: float
    offset_m: float
    category: str
    severity: str
    reporter: str
    days_ago: float
    steps: tuple[str, ...] = ()
    description: str = ""


INCIDENTS = (
    DemoIncident(
        "outfall-1",
        BORDER_RIVER,
        0.30,
        25,
        "illegal_discharge",
        "high",
        "wjj.patrol",
        5,
        (),
        "排污口夜间偷排，水面有泡沫",
    ),
    DemoIncident(
        "outfall-2",
        BORDER_RIVER,
        0.301,
        40,
        "illegal_discharge",
        "high",
        "sz.patrol",
        4.9,
        (),
        "同一排污口，另一张照片",
    ),
    DemoIncident(
        "outfall-3",
        BORDER_RIVER,
        0.299,
        10,
        "illegal_discharge",
        "high",
        "wjj.patrol",
        4.8,
        (),
        "同一排污口，下游方向拍摄",
    ),
    DemoIncident(
        "fish-pond",
        BORDER_RIVER,
        0.55,
        -35,
        "aquaculture_pollution",
        "medium",
        "sz.patrol",
        6,
        ("assign", "accept", "start"),
        "养殖尾水直排河道",
    ),
    DemoIncident(
        "floating",
        BORDER_RIVER,
        0.75,
        20,
        "floating_waste",
        "low",
        "wjj.patrol",
        3,
        ("assign", "accept", "resolve"),
        "水葫芦堆积",
    ),
    DemoIncident(
        "bank",
        "R-320509-01",
        0.33,
        15,
        "bank_damage",
        "medium",
        "sz.patrol",
        2,
        ("assign",),
        "护岸塌方约十米",
    ),
    DemoIncident(
        "black-water",
        "R-330411-01",
        0.2,
        20,
        "black_odorous_water",
        "medium",
        "wjj.patrol",
        1.5,
        (),
        "河水发黑发臭",
    ),
    DemoIncident(
        "nets", "R-330411-01", 0.31, -10, "illegal_fishing", "low", "wjj.patrol", 0.5, (), "电鱼"
    ),
    DemoIncident(
        "dispute",
        "R-320509-330411-02",
        0.5,
        5,
        "border_dispute",
        "medium",
        "joint.lead",
        1,
        ("assign", "accept"),
        "跨界河段保洁责任争议",
    ),
    DemoIncident(
        "crossing-waste",
        "R-320509-330411-02",
        0.1,
        30,
        "floating_waste",
        "medium",
        "sz.patrol",
        2.5,
        ("assign", "accept", "resolve", "verify", "close"),
        "漂浮垃圾",
    ),
)


def place(incident: DemoIncident) -> tuple[float, float]:
    """The incident's point: along the river, then `offset_m` to its left (negative: right)."""
    line = river_line(incident.river)
    a = line.interpolate(max(0.0, incident.fraction - 0.005), normalized=True)
    b = line.interpolate(min(1.0, incident.fraction + 0.005), normalized=True)
    at = line.interpolate(incident.fraction, normalized=True)
    azimuth, _, _ = GEOD.inv(a.x, a.y, b.x, b.y)
    lon, lat, _ = GEOD.fwd(at.x, at.y, azimuth - 90, incident.offset_m)
    return float(lon), float(lat)


def _principal(session: Session, login: str) -> Principal:
    """A demo login's principal."""
    member = session.execute(text("SELECT id FROM members WHERE login = :l"), {"l": login})
    principal = load_member(session, member_id=int(member.scalar_one()), via="token")
    assert principal is not None
    return principal


def load_demo_incidents(session: Session, *, settings: Settings) -> str:
    """Report the demo incidents and walk them through their steps; idempotent."""
    now = datetime.now(UTC)
    created = 0
    for incident in INCIDENTS:
        lon, lat = place(incident)
        report = IncidentReport(
            category=incident.category,
            severity=incident.severity,
            lon=lon,
            lat=lat,
            description=incident.description,
            client_id=f"demo-{incident.key}",
            reported_at=now - timedelta(days=incident.days_ago),
        )
        incident_id, new = create_incident(
            session,
            report=report,
            principal=_principal(session, incident.reporter),
            settings=settings,
            address="demo",
        )
        if new:
            created += 1
            _walk(session, incident_id, incident.steps)
    sea = IncidentReport(
        category="other",
        severity="low",
        lon=124.8,
        lat=28.5,
        description="海上漂浮油污（边界外）",
        client_id="demo-sea",
    )
    created += int(create_incident(session, report=sea, principal=None, settings=settings)[1])
    escalated = escalate_overdue(session, now=now)
    return f"demo incidents: {created} reported, {escalated} escalated by deadline"


def _walk(session: Session, incident_id: int, steps: tuple[str, ...]) -> None:
    """Take the workflow steps as the lead side's supervisor of that incident."""
    lead = session.execute(
        text("SELECT lead_code FROM incidents WHERE id = :i"), {"i": incident_id}
    ).scalar_one()
    login = "xiuzhou.sup" if str(lead).startswith("330411") else "wujiang.sup"
    actor = _principal(session, login)
    for step in steps:
        transition(
            session,
            incident_id=incident_id,
            action=step,
            principal=actor,
            scope=scope_of(session, actor),
            note=None,
            address="demo",
        )
