"""The proposed agenda on the demo data: undone decisions of earlier meetings, overdue or
escalated joint cases, unpatrolled border stretches (their length against pyproj.Geod on the
segments' own lines), chiefs who missed their duty and worsened border sections."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import pyproj
import shapely
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_patrol.access.principal import command_line_principal
from geo_patrol.access.scope import Scope
from geo_patrol.core.catalog import msg
from geo_patrol.core.settings import Settings
from geo_patrol.core.vocabulary import AgendaKind, DecisionStatus
from geo_patrol.demo.accounts import ZONE
from geo_patrol.incidents.reports import IncidentReport, create_incident
from geo_patrol.meetings import decisions, records
from geo_patrol.meetings.agenda import (
    AgendaItem,
    default_period,
    ordered,
    proposed_agenda,
    stretches,
)
from geo_patrol.meetings.decisions import OwnerIn
from geo_patrol.meetings.visibility import zone_of
from tests.support import oracle
from tests.support.border_water import add_reading, add_section, border_segment
from tests.support.principals import headers_for

ADMIN = Scope(everything=True)
TODAY = date(2026, 12, 6)
SZ, WJJ = "320509100", "330411100"
GEOD = pyproj.Geod(ellps="WGS84")

# Border segments of the zone's area, with their lines (for the oracle).
ZONE_BORDER_SEGMENTS = """
WITH RECURSIVE area AS (
    SELECT jurisdiction_code AS code FROM cooperation_zone_members m
    JOIN cooperation_zones z ON z.id = m.zone_id WHERE z.code = :zone
    UNION SELECT j.code FROM jurisdictions j JOIN area a ON j.parent_code = a.code
    WHERE j.valid_to IS NULL
)
SELECT s.id, r.code AS river, ST_AsText(s.geom) AS wkt FROM river_segments s
JOIN rivers r ON r.id = s.river_id
WHERE s.is_border AND EXISTS (SELECT 1 FROM river_segment_sides x JOIN area a
    ON a.code = x.jurisdiction_code WHERE x.segment_id = s.id)
"""


def test_default_period_is_the_month_before() -> None:
    assert default_period(date(2026, 12, 6)) == (date(2026, 11, 1), date(2026, 11, 30))
    assert default_period(date(2026, 1, 1)) == (date(2025, 12, 1), date(2025, 12, 31))


def item(kind: AgendaKind, target: int, *severity: float) -> AgendaItem:
    """An item with only what ordering reads."""
    return AgendaItem(kind, target, msg("agenda.kind_other"), {}, "", severity)


def test_items_are_ordered_by_kind_then_severity() -> None:
    items = [
        item(AgendaKind.SECTION, 1, 3),
        item(AgendaKind.INCIDENT, 2, 1, 0),
        item(AgendaKind.DECISION, 3, 0, -5),
        item(AgendaKind.INCIDENT, 4, 2, 0),
        item(AgendaKind.DECISION, 5, 1, -9),
        item(AgendaKind.UNCOVERED, 6, 800),
        item(AgendaKind.UNCOVERED, 7, 1200),
    ]
    assert [i.target_id for i in ordered(items)] == [5, 3, 4, 2, 7, 6, 1]


def test_gaps_over_segment_ends_make_one_stretch() -> None:
    def row(segment: int, seq: int, start: float | None, end: float | None) -> SimpleNamespace:
        metres = None if start is None or end is None else (end - start) * 1000
        return SimpleNamespace(
            river_code="A",
            river_name="A",
            segment_id=segment,
            seq=seq,
            length_m=1000,
            gap_from=start,
            gap_to=end,
            gap_m=metres,
        )

    found = stretches([row(1, 0, 0.5, 1.0), row(2, 1, 0.0, 0.25), row(3, 2, None, None)])
    assert [(s.segment_ids, s.from_fraction, s.to_fraction, s.length_m) for s in found] == [
        ([1, 2], 0.5, 0.25, 750)
    ]


def joint_case(session: Session, zone_id: int, *, deadline: datetime) -> int:
    """A joint case of the zone with the given deadline."""
    lon, lat = oracle.point_off_border_river(300, "320509")
    report = IncidentReport(category="illegal_discharge", severity="medium", lon=lon, lat=lat)
    case, _ = create_incident(session, report=report, principal=None, settings=Settings())
    session.execute(
        text(
            "UPDATE incidents SET (is_joint, zone_id, deadline_at) = (true, :z, :d) WHERE id = :i"
        ),
        {"z": zone_id, "d": deadline, "i": case},
    )
    return case


def escalate(session: Session, case: int) -> None:
    """An escalation in the case's history."""
    session.execute(
        text(
            "INSERT INTO incident_events (incident_id, kind, actor, from_tier, to_tier)"
            " VALUES (:i, 'escalated', 'system', 'town', 'county')"
        ),
        {"i": case},
    )


def meeting_with_decisions(session: Session) -> tuple[int, int, int]:
    """An October meeting with an overdue, a done and an open decision."""
    principal = command_line_principal()
    meeting = records.create_meeting(
        session,
        principal=principal,
        scope=ADMIN,
        zone_code=ZONE,
        title="十月联席会议",
        held_at=datetime(2026, 10, 28, 2, tzinfo=UTC),
        place=None,
        period_from=date(2026, 10, 1),
        period_to=date(2026, 10, 31),
    )
    made = []
    for body, deadline in (
        ("清淤", date(2026, 11, 15)),
        ("补植", date(2026, 11, 20)),
        ("联合巡河", date(2026, 12, 31)),
    ):
        made.append(
            decisions.add_decision(
                session,
                principal=principal,
                scope=ADMIN,
                meeting_id=meeting,
                body=body,
                deadline=deadline,
                owners=[OwnerIn(SZ), OwnerIn(WJJ)],
                links=[],
            )
        )
    decisions.update_decision(
        session,
        principal=principal,
        scope=ADMIN,
        decision_id=made[1],
        note="已补植",
        status=DecisionStatus.DONE,
    )
    return made[0], made[1], made[2]


def test_proposed_agenda_of_the_demo_zone(demo_session: Session) -> None:
    zone = zone_of(demo_session, code=ZONE)
    overdue, done, open_ = meeting_with_decisions(demo_session)
    now = datetime.now(UTC)
    late = joint_case(demo_session, zone.id, deadline=now - timedelta(days=2))
    up = joint_case(demo_session, zone.id, deadline=now + timedelta(days=2))
    both = joint_case(demo_session, zone.id, deadline=now - timedelta(hours=1))
    calm = joint_case(demo_session, zone.id, deadline=now + timedelta(days=2))
    escalate(demo_session, up)
    escalate(demo_session, both)
    section = add_section(
        demo_session, "T-AGENDA", border_segment(demo_session), kind="border", target=3
    )
    add_reading(demo_session, section, "2026-10-10 09:00+08", 3)
    add_reading(demo_session, section, "2026-11-10 09:00+08", 5, {"COD": 0.6})
    agenda = proposed_agenda(
        demo_session,
        scope=ADMIN,
        principal=command_line_principal(),
        zone=zone,
        today=TODAY,
    )
    assert (agenda.date_from, agenda.date_to) == (date(2026, 11, 1), date(2026, 11, 30))
    kinds = [i.kind for i in agenda.items]
    assert kinds == sorted(kinds, key=list(AgendaKind).index)
    by_kind = {k: [i for i in agenda.items if i.kind is k] for k in AgendaKind}
    # Undone decisions only, the overdue one first; each links to its page.
    assert [i.target_id for i in by_kind[AgendaKind.DECISION]] == [overdue, open_]
    assert by_kind[AgendaKind.DECISION][0].detail["status"] == "overdue"
    assert by_kind[AgendaKind.DECISION][0].link == f"/decisions/{overdue}"
    assert done not in [i.target_id for i in by_kind[AgendaKind.DECISION]]
    # Overdue and escalated first, then the overdue one, then the escalated one; not `calm`.
    assert [i.target_id for i in by_kind[AgendaKind.INCIDENT]] == [both, late, up]
    assert calm not in [i.target_id for i in by_kind[AgendaKind.INCIDENT]]
    assert by_kind[AgendaKind.INCIDENT][0].link == f"/incidents/{both}"
    # Nobody patrolled the demo's border: every border metre of the zone is a stretch.
    patrols = demo_session.execute(text("SELECT count(*) FROM patrols")).scalar_one()
    assert patrols == 0
    expected: dict[str, float] = {}
    for row in demo_session.execute(text(ZONE_BORDER_SEGMENTS), {"zone": ZONE}):
        line = shapely.from_wkt(row.wkt)
        expected[row.river] = expected.get(row.river, 0.0) + GEOD.geometry_length(line)
    got: dict[str, float] = {}
    for i in by_kind[AgendaKind.UNCOVERED]:
        got[i.detail["river_code"]] = got.get(i.detail["river_code"], 0.0) + i.detail["length_m"]
        assert i.link.startswith(f"/map?zone={ZONE}&date_from=2026-11-01&date_to=2026-11-30#")
    assert set(got) == set(expected)
    for river, metres in expected.items():
        assert abs(got[river] - metres) < 0.002 * metres + 1, (river, got[river], metres)
    lengths = [i.detail["length_m"] for i in by_kind[AgendaKind.UNCOVERED]]
    assert lengths == sorted(lengths, reverse=True)
    # Every chief on the agenda owes more than they did in each period listed.
    assert by_kind[AgendaKind.CHIEF]
    for i in by_kind[AgendaKind.CHIEF]:
        assert i.detail["periods"] and all(p["done"] < p["required"] for p in i.detail["periods"])
        assert all(p["last"] <= "2026-11-30" for p in i.detail["periods"])
    # The section fell from III to V (target III), COD 0.6 over.
    (s,) = by_kind[AgendaKind.SECTION]
    assert (s.target_id, s.detail["water_class"], s.detail["last_class"]) == (section, 5, 3)
    assert s.detail["over"] == [{"parameter": "COD", "factor": 0.6}]
    assert s.title.text("en") == "Section T-AGENDA: class V (last period III, target III)"


def test_proposed_agenda_over_http(demo_client: TestClient, demo_session: Session) -> None:
    headers = headers_for(demo_session)
    params = {"zone": ZONE, "from": "2026-11-01", "to": "2026-11-30", "lang": "en"}
    seen = demo_client.get("/api/v1/agenda/proposed", params=params, headers=headers["zone.coord"])
    assert seen.status_code == 200, seen.text
    body = seen.json()
    assert (body["zone"], body["date_from"], body["date_to"]) == (ZONE, "2026-11-01", "2026-11-30")
    assert {i["kind"] for i in body["items"]} >= {"uncovered"}
    assert all(i["title"] and i["link"].startswith("/") for i in body["items"])
    # A patrol member holds no jurisdiction of the zone: the zone is not theirs to see.
    hidden = demo_client.get("/api/v1/agenda/proposed", params=params, headers=headers["sz.patrol"])
    assert hidden.status_code == 404, hidden.text
    reversed_ = {**params, "from": "2026-12-01"}
    bad = demo_client.get("/api/v1/agenda/proposed", params=reversed_, headers=headers["admin"])
    assert bad.status_code == 422 and bad.headers["content-type"].startswith(
        "application/problem+json"
    )
