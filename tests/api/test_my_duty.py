"""GET /api/v1/me/duty: a chief's own duty this period, for their phone (its device token),
on the hand-built case of tests/support/duty_case.py; a member who is no chief gets []."""

from __future__ import annotations

import json
from datetime import datetime

import jsonschema_rs
import shapely
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_patrol.core.local_time import LOCAL
from geo_patrol.core.vocabulary import DutyPeriod
from geo_patrol.duty.periods import period_of
from tests.support.duty_case import R01, make_duty_case, segment_lines
from tests.support.principals import DEVICE, headers_for


def test_a_chiefs_phone_gets_their_duty_and_stretch(
    demo_client: TestClient, demo_session: Session
) -> None:
    headers = headers_for(demo_session)
    case = make_duty_case(demo_client, demo_session, headers)
    answer = demo_client.get("/api/v1/me/duty", headers=headers[DEVICE])  # sz.patrol's phone
    assert answer.status_code == 200, answer.text
    (duty,) = answer.json()
    today = datetime.now(LOCAL).date()
    week = period_of(DutyPeriod.WEEK, today)
    assert duty["appointment_id"] == case.appointments["sz.patrol"]
    assert (duty["river_code"], duty["level"], duty["side_code"]) == (
        R01,
        "village",
        "320509100202",
    )
    assert duty["period"] == {
        "kind": "week",
        "key": week.key,
        "first_day": week.first.isoformat(),
        "last_day": week.last.isoformat(),
        "label": f"{week.first:%Y-%m-%d} 至 {week.last:%m-%d}",
        "label_zh": f"{week.first:%Y-%m-%d} 至 {week.last:%m-%d}",
        "label_en": f"week of {week.first:%d %b %Y}",
    }
    assert duty["due"] == week.last.isoformat()
    # The joint patrol counted (unless the clock passed midnight into a new week since).
    done = 1 if week.first <= case.day <= week.last else 0
    assert (duty["done"], duty["required"]) == (done, 1)
    assert duty["status"] == ("met" if done else "in_progress")
    if done:
        (candidate,) = duty["candidates"]
        assert (candidate["patrol_id"], candidate["reason"]) == (case.joint_patrol, "counted")
        assert candidate["counted"] is True and 0.6 < candidate["share"] <= 1
    lines = segment_lines(demo_session, R01, range(3))
    stretch = shapely.from_geojson(json.dumps(duty["stretch"]))
    assert abs(stretch.length - shapely.union_all(list(lines.values())).length) < 1e-9
    assert (
        shapely.symmetric_difference(stretch, shapely.union_all(list(lines.values()))).length < 1e-9
    )
    schema = demo_client.get("/openapi.json").json()
    answer_schema = schema["paths"]["/api/v1/me/duty"]["get"]["responses"]["200"]["content"]
    validator = jsonschema_rs.Draft202012Validator(
        {**answer_schema["application/json"]["schema"], "components": schema["components"]}
    )
    assert [str(e) for e in validator.iter_errors(answer.json())] == []


def test_who_is_no_chief_gets_an_empty_list(demo_client: TestClient, demo_session: Session) -> None:
    headers = headers_for(demo_session)
    make_duty_case(demo_client, demo_session, headers)
    for login in ("wujiang.sup", "admin", "zone.coord"):
        answer = demo_client.get("/api/v1/me/duty", headers=headers[login])
        assert (answer.status_code, answer.json()) == (200, []), login
    # Another chief sees their own appointment, never their partner's.
    wjj = demo_client.get("/api/v1/me/duty", headers=headers["wjj.patrol"]).json()
    assert [d["appointment_id"] for d in wjj] == [case_id(demo_session, "wjj.patrol")]
    assert demo_client.get("/api/v1/me/duty").status_code == 401


def case_id(session: Session, login: str) -> int:
    """The appointment a demo login holds."""
    return int(
        session.execute(
            text(
                "SELECT a.id FROM chief_appointments a JOIN members m ON m.id = a.member_id "
                "WHERE m.login = :l"
            ),
            {"l": login},
        ).scalar_one()
    )
