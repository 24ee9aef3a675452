"""Duplicates: a report joins the nearest open case of its category within 100 m and 72 h of
the case's own report, as docs/supervisors/joint-cases-and-tiers.md states it; checked against a
plain-Python replay of that rule with pyproj.Geod distances, on reports generated around both
edges."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import pyproj
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_patrol.access.principal import Principal, load_member
from geo_patrol.access.scope import scope_of
from geo_patrol.core.settings import Settings
from geo_patrol.incidents.reports import IncidentReport, create_incident
from geo_patrol.incidents.workflow import transition
from tests.support import oracle
from tests.support.principals import member_id

GEOD = pyproj.Geod(ellps="WGS84")
# Far from the demo's own incidents (reported days before the test runs), in space and time.
BASE = datetime(2020, 6, 1, 8, 0, tzinfo=UTC)
DISCHARGE, FISHING = "illegal_discharge", "illegal_fishing"
Test = TypeVar("Test", bound=Callable[..., None])


@pytest.fixture
def origin() -> tuple[float, float]:
    """A point deep inside Xiuzhou, where every report has the same supervisor."""
    return oracle.point_off_border_river(1000, "330411")


def file(
    client: TestClient,
    headers: dict[str, str],
    origin: tuple[float, float],
    *,
    east_m: float = 0.0,
    hours: float = 0.0,
    category: str = DISCHARGE,
) -> int:
    """POST a report `east_m` east of the origin, `hours` after BASE; its id."""
    lon, lat, _ = GEOD.fwd(*origin, 90.0, east_m)
    body = {
        "category": category,
        "severity": "medium",
        "lon": float(lon),
        "lat": float(lat),
        "reported_at": (BASE + timedelta(hours=hours)).isoformat(),
    }
    response = client.post("/api/v1/incidents", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def duplicate_of(client: TestClient, headers: dict[str, str], incident_id: int) -> int | None:
    """The case an incident is linked to (None: a case of its own)."""
    response = client.get(f"/api/v1/incidents/{incident_id}", headers=headers)
    assert response.status_code == 200, response.text
    value = response.json()["properties"]["duplicate_of"]
    return None if value is None else int(value)


def walk(client: TestClient, headers: dict[str, str], incident_id: int, *steps: str) -> None:
    """Take workflow steps on an incident through the API."""
    for step in steps:
        response = client.post(
            f"/api/v1/incidents/{incident_id}/actions",
            json={"action": step, "note": "test"},
            headers=headers,
        )
        assert response.status_code == 200, (step, response.text)


# --- Each defect class the issue found, as a regression -------------------------------------


def test_a_chain_of_reports_cannot_creep_beyond_100_m_of_its_case(
    demo_client: TestClient, headers: dict[str, dict[str, str]], origin: tuple[float, float]
) -> None:
    patrol, sup = headers["wjj.patrol"], headers["xiuzhou.sup"]
    case = file(demo_client, patrol, origin)
    near = file(demo_client, patrol, origin, east_m=80, hours=1)
    far = file(demo_client, patrol, origin, east_m=160, hours=2)  # 80 m from `near` only
    further = file(demo_client, patrol, origin, east_m=230, hours=3)
    assert duplicate_of(demo_client, sup, near) == case
    assert duplicate_of(demo_client, sup, far) is None  # was linked to `case`, 160 m away
    assert duplicate_of(demo_client, sup, further) == far  # the new case takes its neighbours


def test_a_chain_of_reports_cannot_creep_beyond_72_h_of_its_case(
    demo_client: TestClient, headers: dict[str, dict[str, str]], origin: tuple[float, float]
) -> None:
    patrol, sup = headers["wjj.patrol"], headers["xiuzhou.sup"]
    case = file(demo_client, patrol, origin)
    later = file(demo_client, patrol, origin, east_m=10, hours=60)
    much_later = file(demo_client, patrol, origin, east_m=20, hours=120)  # 60 h after `later`
    at_edge = file(demo_client, patrol, origin, east_m=5, hours=72)
    assert duplicate_of(demo_client, sup, later) == case
    assert duplicate_of(demo_client, sup, much_later) is None  # was linked to `case`, 120 h
    # Exactly 72 h after the case is within; it is nearer `case` (5 m) than `much_later` (15 m).
    assert duplicate_of(demo_client, sup, at_edge) == case


def test_an_open_duplicate_never_links_a_report_to_its_closed_case(
    demo_client: TestClient, headers: dict[str, dict[str, str]], origin: tuple[float, float]
) -> None:
    patrol, sup = headers["wjj.patrol"], headers["xiuzhou.sup"]
    case = file(demo_client, patrol, origin)
    duplicate = file(demo_client, patrol, origin, east_m=50, hours=1)
    assert duplicate_of(demo_client, sup, duplicate) == case
    walk(demo_client, sup, case, "assign", "accept", "resolve", "close")
    # The duplicate's own status is still "reported"; the case's (closed) is what counts.
    after_close = file(demo_client, patrol, origin, east_m=60, hours=2)
    assert duplicate_of(demo_client, sup, after_close) is None  # was linked to the closed case
    walk(demo_client, sup, case, "reopen")
    # Reopened, the case is open again; `after_close` (a case now) is nearer the report: 20 m.
    assert duplicate_of(demo_client, sup, file(demo_client, patrol, origin, hours=3)) == case
    assert (
        duplicate_of(demo_client, sup, file(demo_client, patrol, origin, east_m=80, hours=3))
        == after_close
    )


def test_a_report_joins_the_nearest_qualifying_case_not_the_earliest(
    demo_client: TestClient, headers: dict[str, dict[str, str]], origin: tuple[float, float]
) -> None:
    patrol, sup = headers["wjj.patrol"], headers["xiuzhou.sup"]
    early = file(demo_client, patrol, origin)
    late = file(demo_client, patrol, origin, east_m=150, hours=1)  # a case of its own
    between = file(demo_client, patrol, origin, east_m=90, hours=2)  # 90 m and 60 m away
    assert duplicate_of(demo_client, sup, early) is None
    assert duplicate_of(demo_client, sup, late) is None
    assert duplicate_of(demo_client, sup, between) == late  # was linked to `early`


def test_equally_near_cases_go_to_the_earliest_reported(
    demo_client: TestClient, headers: dict[str, dict[str, str]], origin: tuple[float, float]
) -> None:
    patrol, sup = headers["wjj.patrol"], headers["xiuzhou.sup"]
    second = file(demo_client, patrol, origin, hours=100)  # filed first, reported later
    first = file(demo_client, patrol, origin)  # 100 h apart: two cases on one spot
    other = file(demo_client, patrol, origin, hours=50, category=FISHING)
    report = file(demo_client, patrol, origin, hours=50)
    assert duplicate_of(demo_client, sup, second) is None
    assert duplicate_of(demo_client, sup, first) is None
    assert duplicate_of(demo_client, sup, other) is None  # another category
    assert duplicate_of(demo_client, sup, report) == first


# --- The rule replayed on generated reports ------------------------------------------------

# The documentation's words (docs/supervisors/joint-cases-and-tiers.md), not the code's: open
# statuses, and the status each walk ends in from the status it starts from.
OPEN = frozenset({"reported", "assigned", "accepted", "in_progress", "reopened"})
WALKS = {
    ("reported", ("assign",)): "assigned",
    ("reported", ("reject",)): "rejected",
    ("reported", ("assign", "accept", "resolve")): "resolved",
    ("reported", ("assign", "accept", "resolve", "close")): "closed",
    ("reported", ("assign", "accept", "resolve", "close", "reopen")): "reopened",
    ("resolved", ("close",)): "closed",
    ("closed", ("reopen",)): "reopened",
    ("reopened", ("assign", "accept", "resolve", "close")): "closed",
}
STEPS = sorted({steps for _, steps in WALKS})
DISTANCE_M, WINDOW = 100.0, timedelta(hours=72)
# Distances from an earlier report and times from it: on, just inside and just outside the
# edges (0.05 m and 1 s), and well inside or outside, so chains and choices arise.
NEAR_EDGE_M = (0.0, 0.0, 40.0, 60.0, 99.95, 99.99, 100.01, 100.05, 130.0, 199.95, 200.05)
H72 = 72 * 3600
NEAR_EDGE_S = (0, 0, 3600, 36 * 3600, H72 - 1, H72, H72 + 1, 140 * 3600)


@dataclass(frozen=True)
class Report:
    """A report `metres` from report `anchor` (-1: the origin) at `bearing`, `seconds` later."""

    anchor: int
    metres: float
    bearing: float
    seconds: int
    category: str


@dataclass(frozen=True)
class Walk:
    """Workflow steps on the `target`-th report stored (skipped if not from its status)."""

    target: int
    steps: tuple[str, ...]


@st.composite
def scenarios(draw: st.DrawFn) -> list[Report | Walk]:
    """Up to eight reports around the edges, with walks (some closing cases) between them."""
    ops: list[Report | Walk] = []
    stored = 0
    for _ in range(draw(st.integers(2, 10))):
        if stored and draw(st.integers(0, 3)) == 0:
            ops.append(Walk(draw(st.integers(0, stored - 1)), draw(st.sampled_from(STEPS))))
            continue
        if stored == 8:
            continue
        ops.append(
            Report(
                anchor=draw(st.integers(-1, stored - 1)),
                metres=draw(st.sampled_from(NEAR_EDGE_M)),
                bearing=draw(st.floats(0, 360)),
                seconds=draw(st.sampled_from(NEAR_EDGE_S)) * draw(st.sampled_from((1, -1))),
                category=draw(st.sampled_from((DISCHARGE,) * 7 + (FISHING,))),
            )
        )
        stored += 1
    return ops


@dataclass
class Stored:
    """One report as the replay sees it."""

    lon: float
    lat: float
    at: datetime
    category: str
    status: str = "reported"
    case: int | None = None  # the index of the report whose case it joined


def place(stored: list[Stored], report: Report, origin: tuple[float, float]) -> Stored:
    """Where and when a generated report is."""
    anchor = stored[report.anchor] if report.anchor >= 0 else Stored(*origin, BASE, "")
    lon, lat, at = anchor.lon, anchor.lat, anchor.at
    lon, lat, _ = GEOD.fwd(lon, lat, report.bearing, report.metres)
    return Stored(float(lon), float(lat), at + timedelta(seconds=report.seconds), report.category)


def replay_one(stored: list[Stored], new: Stored) -> int | None:
    """The rule as stated: the nearest open case (a report that joined none) of the category,
    within 100 m (Geod) and 72 h of its own report; ties to the earliest reported, then first
    stored. Examples with a distance within a micrometre of an edge or a tie are rejected."""
    candidates = []
    for index, case in enumerate(stored):
        if case.case is not None or case.status not in OPEN or case.category != new.category:
            continue
        if abs(case.at - new.at) > WINDOW:
            continue
        metres = float(GEOD.inv(case.lon, case.lat, new.lon, new.lat)[2])
        assume(abs(metres - DISTANCE_M) > 1e-6)
        if metres <= DISTANCE_M:
            candidates.append((metres, case.at, index))
    candidates.sort()
    if len(candidates) > 1:
        assume(candidates[0][0] == candidates[1][0] or candidates[1][0] - candidates[0][0] > 1e-6)
    return candidates[0][2] if candidates else None


def example_each(scenarios: tuple[list[Report | Walk], ...]) -> Callable[[Test], Test]:
    """@example for each scenario."""

    def decorate(test: Test) -> Test:
        for ops in scenarios:
            test = example(ops=ops)(test)
        return test

    return decorate


def admin(session: Session) -> Principal:
    """The demo administrator, who may take any step."""
    principal = load_member(session, member_id=member_id(session, "admin"), via="token")
    assert principal is not None
    return principal


def report(anchor: int, metres: float, hours: float = 0, seconds: int = 0) -> Report:
    """A report east of `anchor`, of the main category (for the explicit examples)."""
    return Report(anchor, metres, 90.0, round(hours * 3600) + seconds, DISCHARGE)


# Each edge and choice at least once, whatever the random examples find: 1 cm and 1 s either
# side of 100 m and 72 h (before and after the case), a closed case with an open duplicate,
# a reopened case, the nearer of two cases, and ties filed in and against report-time order.
EDGES: tuple[list[Report | Walk], ...] = (
    [report(-1, 0), report(0, 99.99), report(0, 100.01), report(0, -99.99), report(0, -100.01)],
    [
        report(-1, 0),
        report(0, 10, seconds=H72),
        report(0, 10, seconds=-H72),
        report(0, 20, seconds=H72 + 1),
        report(0, 20, seconds=-H72 - 1),
    ],
    [
        report(-1, 0),
        report(0, 50, 1),
        Walk(0, ("assign", "accept", "resolve", "close")),
        report(1, 10, 2),
        Walk(2, ("reject",)),
        report(1, 20, 3),
        Walk(0, ("reopen",)),
        report(0, 0, 4),
    ],
    [report(-1, 0), report(0, 0, 140), report(0, 0, 70)],
    [report(-1, 0), report(0, 0, -140), report(0, 0, -70)],
    [report(-1, 0), report(0, 150, 1), report(0, 90, 2)],
)


@settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(ops=scenarios())
@example_each(EDGES)
def test_case_links_match_a_replay_of_the_stated_rule(
    demo_session: Session, origin: tuple[float, float], ops: list[Report | Walk]
) -> None:
    savepoint = demo_session.begin_nested()  # each example starts from the demo alone
    try:
        check_scenario(demo_session, origin, ops)
    finally:
        savepoint.rollback()


def check_scenario(session: Session, origin: tuple[float, float], ops: list[Report | Walk]) -> None:
    """Store the reports through create_incident, replay the rule, compare the links."""
    others = session.execute(
        text("SELECT count(*) FROM incidents WHERE reported_at BETWEEN :a AND :b"),
        {"a": BASE - timedelta(days=30), "b": BASE + timedelta(days=30)},
    ).scalar_one()
    assert others == 0  # the replay knows only the reports it makes
    actor, stored, ids = admin(session), list[Stored](), list[int]()
    for op in ops:
        if isinstance(op, Walk):
            status = WALKS.get((stored[op.target].status, op.steps))
            if status is not None:
                take_steps(session, actor, ids[op.target], op.steps)
                stored[op.target].status = status
            continue
        new = place(stored, op, origin)
        new.case = replay_one(stored, new)
        stored.append(new)
        ids.append(store(session, new))
    rows = session.execute(
        text("SELECT id, duplicate_of, status FROM incidents WHERE id = ANY(:ids)"), {"ids": ids}
    )
    found = {int(row.id): (row.duplicate_of, row.status) for row in rows}
    expected = {
        ids[n]: (None if s.case is None else ids[s.case], s.status) for n, s in enumerate(stored)
    }
    assert found == expected


def store(session: Session, report: Stored) -> int:
    """A generated report through the path every report takes."""
    incident_id, created = create_incident(
        session,
        report=IncidentReport(
            category=report.category,
            severity="medium",
            lon=report.lon,
            lat=report.lat,
            reported_at=report.at,
        ),
        principal=None,
        settings=Settings(),
    )
    assert created
    return incident_id


def take_steps(
    session: Session, actor: Principal, incident_id: int, steps: tuple[str, ...]
) -> None:
    """Walk an incident through the workflow as the administrator."""
    scope = scope_of(session, actor)
    for step in steps:
        transition(
            session,
            incident_id=incident_id,
            action=step,
            principal=actor,
            scope=scope,
            note="test",
            address=None,
        )
