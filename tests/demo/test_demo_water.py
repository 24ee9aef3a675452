"""The demo's border water sections, the joint case the worsening one opened with its
upstream leads, last month's joint meeting with its five decisions, and this month's
proposed agenda: what geo_patrol/demo/water.py and demo/meeting.py promise, checked against
the station file read here, hand-derived classes, shapely on the demo river and the JSON
API."""

from __future__ import annotations

import csv
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pyproj
import pytest
import shapely
import shapely.ops
from fastapi.testclient import TestClient
from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

from geo_patrol.access.scope import scope_of
from geo_patrol.core.local_time import LOCAL
from geo_patrol.core.settings import Settings
from geo_patrol.core.vocabulary import AgendaKind, DecisionStatus, DutyPeriod
from geo_patrol.demo.load import DEMO_DATA
from geo_patrol.demo.meeting import load_demo_meeting
from geo_patrol.demo.simulate import principal_of, river_line
from geo_patrol.demo.water import load_demo_water
from geo_patrol.duty.periods import local_date, period_of
from geo_patrol.meetings.agenda import proposed_agenda
from geo_patrol.meetings.decisions import decisions_of
from geo_patrol.meetings.visibility import zone_of

GEOD = pyproj.Geod(ellps="WGS84")
XTW = "R-320509-330411-01"
SOUTH, NORTH, LANXI = "JJ-XTW-01", "JJ-XTW-02", "JJ-LXT-01"
ZONE = "ZONE-SZ-WJJ"
SETTINGS = Settings()
LOADED: dict[str, float] = {}


@pytest.fixture(scope="module", autouse=True)
def loaded(demo_connection: Connection, tmp_path_factory: pytest.TempPathFactory) -> None:
    """The water demo and the meeting loaded on the module's demo data, as `geo-patrol demo`
    loads them (after the region); how long each took, kept for the report."""
    settings = Settings(data_dir=tmp_path_factory.mktemp("demo-water"))
    with Session(bind=demo_connection, join_transaction_mode="create_savepoint") as setup:
        started = time.perf_counter()
        load_demo_water(setup, settings=settings)
        LOADED["water_s"] = time.perf_counter() - started
        started = time.perf_counter()
        load_demo_meeting(setup)
        LOADED["meeting_s"] = time.perf_counter() - started
        setup.commit()


def today() -> date:
    """The local day."""
    return local_date(datetime.now(UTC))


def last_month() -> tuple[date, date]:
    """Last calendar month's first and last local days."""
    month = period_of(DutyPeriod.MONTH, today()).previous()
    return month.first, month.last


def file_rows() -> list[dict[str, str]]:
    """The station file as committed."""
    with (DEMO_DATA / "water_readings.csv").open(encoding="utf-8") as file:
        return list(csv.DictReader(file))


def readings(session: Session, code: str) -> list[tuple[datetime, int, int | None]]:
    """A section's readings in time order: (sampled_at, class, incident id)."""
    rows = session.execute(
        text(
            "SELECT r.sampled_at, r.class AS water_class, r.incident_id FROM water_readings r "
            "JOIN water_sections s ON s.id = r.section_id WHERE s.code = :c ORDER BY r.sampled_at"
        ),
        {"c": code},
    )
    return [(row.sampled_at, row.water_class, row.incident_id) for row in rows]


def case_of(session: Session) -> int:
    """The joint case the worsening section's last reading opened."""
    found = readings(session, SOUTH)[-1][2]
    assert found is not None
    return found


def test_load_time_is_small() -> None:
    # The demo runs once per test run and at ./run demo: it must stay in seconds.
    assert LOADED["water_s"] < 10 and LOADED["meeting_s"] < 5, LOADED


def test_three_border_sections_with_a_year_of_monthly_readings(demo_session: Session) -> None:
    rows = demo_session.execute(
        text("SELECT code, kind, target_class, snap_distance_m FROM water_sections ORDER BY code")
    ).all()
    assert [(r.code, r.kind, r.target_class) for r in rows] == [
        (LANXI, "border", 3),
        (SOUTH, "border", 3),
        (NORTH, "border", 3),
    ]
    assert all(r.snap_distance_m < SETTINGS.water_snap_max_m for r in rows)
    first, _ = last_month()
    months = [(first.year * 12 + first.month - 1 - back) for back in range(11, -1, -1)]
    for code in (SOUTH, NORTH, LANXI):
        found = readings(demo_session, code)
        assert len(found) == 12
        local = [at.astimezone(LOCAL) for at, _, _ in found]
        assert [d.year * 12 + d.month - 1 for d in local] == months
        assert all(d.day == 3 for d in local)


def test_the_south_section_fell_to_class_v_last_month_the_others_stayed_iii(
    demo_session: Session,
) -> None:
    # Hand-derived from the file: NH3-N 1.86 (1.5 < x <= 2.0) and TP 0.36 (0.3 < x <= 0.4)
    # are class V; every other row is class III (TP 0.1 < x <= 0.2 decides, DO >= 5).
    last_row = [row for row in file_rows() if row["断面编码"] == SOUTH][-1]
    assert (last_row["氨氮(mg/L)"], last_row["总磷(mg/L)"]) == ("1.86", "0.36")
    assert [c for _, c, _ in readings(demo_session, SOUTH)] == [3] * 11 + [5]
    assert [c for _, c, _ in readings(demo_session, NORTH)] == [3] * 12
    assert [c for _, c, _ in readings(demo_session, LANXI)] == [3] * 12


def test_only_the_worsening_reading_opened_a_case(demo_session: Session) -> None:
    opened = [
        (code, i) for code in (SOUTH, NORTH, LANXI) for _, _, i in readings(demo_session, code) if i
    ]
    assert opened == [(SOUTH, case_of(demo_session))]
    count = demo_session.execute(
        text("SELECT count(*) FROM incidents WHERE category = 'water_quality'")
    ).scalar_one()
    assert count == 1


def test_the_case_is_joint_and_both_sides_see_it(
    demo_client: TestClient, demo_session: Session, headers: dict[str, dict[str, str]]
) -> None:
    case = case_of(demo_session)
    answers = {
        login: demo_client.get(f"/api/v1/incidents/{case}", headers=headers[login])
        for login in ("wujiang.sup", "xiuzhou.sup")
    }
    assert {login: a.status_code for login, a in answers.items()} == {
        "wujiang.sup": 200,
        "xiuzhou.sup": 200,
    }
    case_json = answers["wujiang.sup"].json()["properties"]
    assert (case_json["category"], case_json["is_joint"]) == ("water_quality", True)
    sides = {side["code"][:6] for side in case_json["responsible"]}
    assert {"320509", "330411"} <= sides


def test_the_case_lists_leads_of_each_kind_upstream_in_the_48_hours_before(
    demo_session: Session,
) -> None:
    case = case_of(demo_session)
    sampled = readings(demo_session, SOUTH)[-1][0]
    leads = demo_session.execute(
        text(
            "SELECT l.kind, l.upstream_m, l.at, l.patrol_id, l.lead_incident_id, l.segment_id, "
            "l.from_fraction, l.to_fraction FROM water_leads l WHERE l.incident_id = :i"
        ),
        {"i": case},
    ).all()
    assert Counter(lead.kind for lead in leads).keys() == {"patrol", "incident", "uncovered"}
    for lead in leads:
        assert 0 <= lead.upstream_m <= SETTINGS.water_upstream_m
        if lead.at is not None:
            assert sampled - timedelta(hours=SETTINGS.water_lead_hours) <= lead.at <= sampled
    pond = next(lead for lead in leads if lead.kind == "incident")
    client_id = demo_session.execute(
        text("SELECT client_id FROM incidents WHERE id = :i"), {"i": pond.lead_incident_id}
    ).scalar_one()
    assert client_id.startswith("demo-water-pond")
    # Independently: the report lies upstream (the river flows towards the start of its
    # line, so upstream is further along it), about 0.27 of the line's length above 南桥.
    line = river_line(XTW)
    section, report = (
        demo_session.execute(text(sql), {"c": SOUTH, "i": pond.lead_incident_id}).one()
        for sql in (
            "SELECT ST_X(geom) AS x, ST_Y(geom) AS y FROM water_sections WHERE code = :c",
            "SELECT ST_X(geom) AS x, ST_Y(geom) AS y FROM incidents WHERE id = :i",
        )
    )
    at_section = line.project(shapely.Point(section.x, section.y), normalized=True)
    at_report = line.project(shapely.Point(report.x, report.y), normalized=True)
    assert at_report > at_section
    along = shapely.ops.substring(line, at_section, at_report, normalized=True)
    assert pond.upstream_m == pytest.approx(GEOD.geometry_length(along), abs=30)


def test_the_meeting_of_last_month_has_five_decisions_two_done_one_overdue(
    demo_session: Session,
) -> None:
    first, last = last_month()
    meeting = demo_session.execute(
        text(
            "SELECT m.id, m.held_at, m.status FROM meetings m JOIN cooperation_zones z "
            "ON z.id = m.zone_id WHERE z.code = :z"
        ),
        {"z": ZONE},
    ).one()
    assert first <= meeting.held_at.astimezone(LOCAL).date() <= last
    assert meeting.status == "held"
    stored = demo_session.execute(
        text("SELECT id, status, deadline FROM meeting_decisions WHERE meeting_id = :m"),
        {"m": meeting.id},
    ).all()
    # Overdue by hand: not done and the deadline before today's local day.
    by_hand = Counter(
        "overdue" if row.status != "done" and row.deadline < today() else row.status
        for row in stored
    )
    assert by_hand == {"done": 2, "overdue": 1, "in_progress": 1, "open": 1}
    shown = decisions_of(demo_session, meeting_ids=[meeting.id], today=today(), history=True)
    assert Counter(d.status for d in shown) == {
        DecisionStatus.DONE: 2,
        DecisionStatus.OVERDUE: 1,
        DecisionStatus.IN_PROGRESS: 1,
        DecisionStatus.OPEN: 1,
    }
    both = [d for d in shown if {o.side_code for o in d.owners} == {"320509100", "330411100"}]
    assert len(both) >= 3
    assert all(o.member_id is not None for d in shown for o in d.owners)
    done = [d for d in shown if d.status is DecisionStatus.DONE]
    assert all(d.done_at is not None and d.updates[-1].to_status == "done" for d in done)
    cause = next(d for d in shown if d.status is DecisionStatus.IN_PROGRESS)
    assert ("incident", case_of(demo_session)) in {(lk.kind, lk.target_id) for lk in cause.links}


def test_this_months_proposed_agenda_has_items_of_several_kinds(demo_session: Session) -> None:
    coordinator = principal_of(demo_session, "zone.coord")
    agenda = proposed_agenda(
        demo_session,
        scope=scope_of(demo_session, coordinator),
        principal=coordinator,
        zone=zone_of(demo_session, code=ZONE),
        today=today(),
    )
    kinds = Counter(item.kind for item in agenda.items)
    assert {AgendaKind.DECISION, AgendaKind.SECTION, AgendaKind.UNCOVERED} <= kinds.keys()
    # The three decisions not done are proposed again; the section that fell to V too.
    assert kinds[AgendaKind.DECISION] == 3
    section = demo_session.execute(
        text("SELECT id FROM water_sections WHERE code = :c"), {"c": SOUTH}
    ).scalar_one()
    assert [i.target_id for i in agenda.items if i.kind is AgendaKind.SECTION] == [section]


def test_loading_again_adds_nothing(
    demo_session: Session, tmp_path_factory: pytest.TempPathFactory
) -> None:
    counts = (
        "SELECT (SELECT count(*) FROM water_sections), (SELECT count(*) FROM water_readings), "
        "(SELECT count(*) FROM incidents), (SELECT count(*) FROM patrols), "
        "(SELECT count(*) FROM water_leads), (SELECT count(*) FROM meetings), "
        "(SELECT count(*) FROM meeting_decisions), (SELECT count(*) FROM decision_updates)"
    )
    before = demo_session.execute(text(counts)).one()
    settings = Settings(data_dir=tmp_path_factory.mktemp("demo-water-again"))
    load_demo_water(demo_session, settings=settings)
    load_demo_meeting(demo_session)
    assert demo_session.execute(text(counts)).one() == before


def along(line: shapely.LineString, a: float, b: float) -> float:
    """Metres along the line between two of its fractions (geodesic)."""
    low, high = sorted((a, b))
    return float(GEOD.geometry_length(shapely.ops.substring(line, low, high, normalized=True)))


def test_the_patrol_and_the_uncovered_stretch_lie_where_shapely_puts_them(
    demo_session: Session,
) -> None:
    # The river flows towards the start of its line: upstream of 南桥 is further along it.
    line = river_line(XTW)
    case = case_of(demo_session)
    section = demo_session.execute(
        text("SELECT ST_X(geom) AS x, ST_Y(geom) AS y FROM water_sections WHERE code = :c"),
        {"c": SOUTH},
    ).one()
    at_section = line.project(shapely.Point(section.x, section.y), normalized=True)
    patrol = demo_session.execute(
        text(
            "SELECT l.upstream_m, ST_AsText(p.track) AS track, u.client_upload_id "
            "FROM water_leads l JOIN patrols p ON p.id = l.patrol_id "
            "JOIN uploads u ON u.id = p.upload_id "
            "WHERE l.incident_id = :i"
        ),
        {"i": case},
    ).one()
    assert patrol.client_upload_id.startswith("demo-water-patrol-")
    track = shapely.from_wkt(patrol.track)
    nearest = min(line.project(shapely.Point(c), normalized=True) for c in track.coords)
    assert nearest > at_section
    # The coverage counts a track within a few metres of the line: tens of metres of play.
    assert patrol.upstream_m == pytest.approx(along(line, at_section, nearest), abs=60)
    gaps = demo_session.execute(
        text(
            "SELECT l.upstream_m, "
            "ST_AsText(ST_LineInterpolatePoint(s.geom, l.from_fraction)) AS a, "
            "ST_AsText(ST_LineInterpolatePoint(s.geom, l.to_fraction)) AS b "
            "FROM water_leads l JOIN river_segments s ON s.id = l.segment_id "
            "WHERE l.incident_id = :i AND l.kind = 'uncovered'"
        ),
        {"i": case},
    ).all()
    assert gaps
    for gap in gaps:
        ends = [line.project(shapely.from_wkt(end), normalized=True) for end in (gap.a, gap.b)]
        assert min(ends) >= at_section - 1e-6
        assert gap.upstream_m == pytest.approx(along(line, at_section, min(ends)), abs=15)
    # Between the section and the patrol nobody walked: a gap starts at the section itself.
    assert min(gap.upstream_m for gap in gaps) == pytest.approx(0, abs=15)
