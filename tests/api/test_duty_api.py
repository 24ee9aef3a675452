"""The duty API over HTTP with the demo logins, on a scenario made through the real upload
and appointment paths (tests/support/duty_scenario.py): what each reader sees (a
supervisor their side's chiefs, the zone coordinator the joint pair, a chief their own),
why each patrol counted or not, the CSV matching the JSON, the roll-ups counted by hand,
bad filters refused by name."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from geo_patrol.core import catalog
from geo_patrol.core.vocabulary import DutyStatus
from tests.api.test_openapi_answers import _answer_schema
from tests.support.duty_scenario import DAY, HOSTILE, Scenario, make_scenario
from tests.support.principals import headers_for

ON = DAY.isoformat()
# The spreadsheet shows statuses as words (English: "in progress"); their codes.
STATUS_CODES = {catalog.text(f"duty.status_{s}", "en"): str(s) for s in DutyStatus}


@pytest.fixture
def scenario(demo_client: TestClient, demo_session: Session) -> Scenario:
    """The chiefs, walks and joint pair of the scenario."""
    return make_scenario(demo_client, demo_session)


@pytest.fixture
def who(demo_session: Session) -> dict[str, dict[str, str]]:
    """Bearer headers per demo login."""
    return headers_for(demo_session)


def duties(client: TestClient, headers: dict[str, str], **params: Any) -> list[dict[str, Any]]:
    """The /api/v1/duty answer's duties on the scenario's day."""
    answer = client.get("/api/v1/duty", params={"on": ON, **params}, headers=headers)
    assert answer.status_code == 200, answer.text
    found: list[dict[str, Any]] = answer.json()["duties"]
    return found


def by_appointment(rows: list[dict[str, Any]], scenario: Scenario) -> dict[str, dict[str, Any]]:
    """The rows of the scenario's chiefs, by their role in it."""
    roles = {v: k for k, v in scenario.chiefs.items()}
    return {roles[r["appointment_id"]]: r for r in rows if r["appointment_id"] in roles}


def test_the_supervisor_sees_the_chiefs_of_their_side_and_why(
    demo_client: TestClient, scenario: Scenario, who: dict[str, dict[str, str]]
) -> None:
    listed = duties(demo_client, who["wujiang.sup"])
    assert all(r["side_code"].startswith("320509") for r in listed)
    rows = by_appointment(listed, scenario)
    assert set(rows) == {"sz_town", "sz_fast", "wj_county"}
    town = rows["sz_town"]
    assert (town["required"], town["done"], town["status"]) == (1, 1, "met")
    assert town["period"]["key"] == "2025-11-D1" and town["due"] == "2025-11-10"
    assert [c["patrol_id"] for c in town["candidates"]] == [scenario.good]
    fast = rows["sz_fast"]
    assert (fast["required"], fast["done"], fast["status"]) == (1, 0, "missed")
    [candidate] = fast["candidates"]
    assert candidate["patrol_id"] == scenario.fast
    assert candidate["reason"] == "disqualified" and candidate["disqualified_by"] == ["too_fast"]
    assert "too_fast" in candidate["reason_text"]
    county = rows["wj_county"]
    assert county["name"] == HOSTILE
    assert (county["period"]["key"], county["status"], county["candidates"]) == (
        "2025-11",
        "missed",
        [],
    )


@pytest.mark.parametrize(
    ("login", "expected"),
    [
        ("xiuzhou.sup", {"wjj_town", "xz_county"}),
        ("shengze.sup", {"sz_town", "sz_fast"}),
        ("sz.patrol", {"sz_town"}),
        ("wjj.patrol", {"wjj_town"}),
        ("admin", {"sz_town", "wjj_town", "sz_fast", "wj_county", "xz_county"}),
    ],
)
def test_each_reader_sees_the_chiefs_in_their_scope(
    demo_client: TestClient,
    scenario: Scenario,
    who: dict[str, dict[str, str]],
    login: str,
    expected: set[str],
) -> None:
    rows = duties(demo_client, who[login])
    assert set(by_appointment(rows, scenario)) == expected
    side = {"xiuzhou.sup": "330411", "shengze.sup": "320509100"}.get(login)
    if side:  # every chief listed (the demo's own too) is on the supervisor's side or below
        assert rows and all(r["side_code"].startswith(side) for r in rows)
    if login in ("sz.patrol", "wjj.patrol"):  # a chief sees their own duty only
        assert {r["member_id"] for r in rows} == {scenario.members[next(iter(expected))]}


def test_the_zone_coordinator_sees_the_joint_pair_credited_once(
    demo_client: TestClient, scenario: Scenario, who: dict[str, dict[str, str]]
) -> None:
    answer = demo_client.get("/api/v1/duty/joint", params={"on": ON}, headers=who["zone.coord"])
    assert answer.status_code == 200, answer.text
    [pair] = [p for p in answer.json()["pairs"] if p["joint_id"] == scenario.joint_id]
    assert {c["appointment_id"] for c in pair["chiefs"]} == {
        scenario.chiefs["sz_town"],
        scenario.chiefs["wjj_town"],
    }
    assert (pair["required"], pair["done"], pair["status"]) == (1, 1, "met")
    assert [(c["patrol_id"], c["reason"]) for c in pair["candidates"]] == [
        (scenario.good, "counted")
    ]
    assert pair["period"]["key"] == "2025-11"  # the joint rule: once a month
    # The pair's chiefs are the coordinator's to read too; the other chiefs are not.
    seen = set(by_appointment(duties(demo_client, who["zone.coord"]), scenario))
    assert {"sz_town", "wjj_town"} <= seen and "sz_fast" not in seen
    # A team lead with no supervisor role is no chief of the pair: it is not theirs to read.
    other = demo_client.get("/api/v1/duty/joint", params={"on": ON}, headers=who["sz.lead"])
    assert scenario.joint_id not in {p["joint_id"] for p in other.json()["pairs"]}


def test_filters_pick_exactly_what_they_name(
    demo_client: TestClient, scenario: Scenario, who: dict[str, dict[str, str]]
) -> None:
    admin = who["admin"]
    everyone = duties(demo_client, admin, river=scenario.river)
    assert set(by_appointment(everyone, scenario)) == set(scenario.chiefs)
    cases: dict[str, tuple[dict[str, Any], set[str]]] = {
        "level": ({"level": "county"}, {"wj_county", "xz_county"}),
        "side and below": ({"side": "320509"}, {"sz_town", "sz_fast", "wj_county"}),
        "side exactly": ({"side": "330411100"}, {"wjj_town"}),
        "status": ({"status": "met"}, {"sz_town", "wjj_town"}),
        "chief": ({"chief": scenario.members["sz_fast"]}, {"sz_fast"}),
        "river by name": ({"river": "太浦河（演示）"}, set(scenario.chiefs)),
    }
    for name, (params, expected) in cases.items():
        rows = duties(demo_client, admin, **{"river": scenario.river, **params})
        assert set(by_appointment(rows, scenario)) == expected, name
        if "status" in params:
            assert {r["status"] for r in rows} == {params["status"]}, name
    # The previous period of each kind: late October (town) and October (county), before
    # any patrol: nobody met, and the chiefs in force all of it owe the rule's number.
    before = by_appointment(duties(demo_client, admin, period="previous"), scenario)
    assert {r["period"]["key"] for r in before.values()} == {"2025-10-D3", "2025-10"}
    assert {(r["required"], r["done"], r["status"]) for r in before.values()} == {(1, 0, "missed")}


def test_the_spreadsheet_matches_the_json(
    demo_client: TestClient, scenario: Scenario, who: dict[str, dict[str, str]]
) -> None:
    rows = duties(demo_client, who["wujiang.sup"])
    answer = demo_client.get(
        "/api/v1/duty.csv", params={"on": ON, "lang": "en"}, headers=who["wujiang.sup"]
    )
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    raw = answer.content
    assert (
        raw.startswith("\ufeff".encode())
        and b"\r\n" in raw
        and b"\n" not in raw.replace(b"\r\n", b"")
    )
    table = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    assert len(table) == len(rows)
    for line, row in zip(table, rows, strict=True):
        assert int(line["appointment_id"]) == row["appointment_id"]
        assert line["period"] == row["period"]["key"]
        assert line["chief"] == row["name"]
        assert (int(line["required"]), int(line["done"]), STATUS_CODES[line["status"]]) == (
            row["required"],
            row["done"],
            row["status"],
        )
        assert line["due"] == row["due"]
        counted = [str(c["patrol_id"]) for c in row["candidates"] if c["counted"]]
        assert line["patrols_counted"] == ";".join(counted)
        assert int(line["incidents_total"]) == row["incidents"]["total"]
    fast = next(line for line in table if int(line["appointment_id"]) == scenario.chiefs["sz_fast"])
    assert fast["patrols_not_counted"] == f"{scenario.fast}:disqualified"
    # Chinese headers and words on request; a name that looks like a formula is quoted.
    zh = demo_client.get(
        "/api/v1/duty.csv", params={"on": ON, "lang": "zh"}, headers=who["wujiang.sup"]
    )
    header = next(csv.reader(io.StringIO(zh.content.decode("utf-8-sig"))))
    assert header[:3] == ["周期类型", "周期", "周期名称"] and "河长" in header
    assert "2025年11月上旬" in zh.content.decode("utf-8-sig")


def test_the_spreadsheet_has_one_row_per_chief_per_period(
    demo_client: TestClient, scenario: Scenario, who: dict[str, dict[str, str]]
) -> None:
    params = {"on": ON, "periods": 3, "chief": scenario.members["sz_town"], "lang": "en"}
    answer = demo_client.get("/api/v1/duty.csv", params=params, headers=who["admin"])
    table = list(csv.DictReader(io.StringIO(answer.content.decode("utf-8-sig"))))
    # The town chief, appointed on 1 October: the three 旬 up to early November.
    assert [line["period"] for line in table] == ["2025-10-D2", "2025-10-D3", "2025-11-D1"]
    assert [line["status"] for line in table] == ["missed", "missed", "met"]


def _counted(statuses: list[str]) -> dict[str, Any]:
    """Assessed, met, missed, in progress, share: counted by hand from statuses."""
    owed = [s for s in statuses if s != "not_due"]
    met = owed.count("met")
    return {
        "assessed": len(owed),
        "met": met,
        "missed": owed.count("missed"),
        "in_progress": owed.count("in_progress"),
        "share": met / len(owed) if owed else None,
    }


def test_the_summary_counts_what_the_list_shows(
    demo_client: TestClient, scenario: Scenario, who: dict[str, dict[str, str]]
) -> None:
    headers = who["wujiang.sup"]
    rows = duties(demo_client, headers)
    answer = demo_client.get(
        "/api/v1/duty/summary", params={"on": ON, "periods": 3}, headers=headers
    )
    assert answer.status_code == 200, answer.text
    summary = answer.json()
    tally = ("assessed", "met", "missed", "in_progress", "share")
    assert summary["overall"] == _counted([r["status"] for r in rows])
    groups = {(g["dimension"], g["key"]): g for g in summary["rollups"]}
    expected = {
        ("level", "town"): [r for r in rows if r["level"] == "town"],
        ("side", "320509100"): [r for r in rows if r["side_code"] == "320509100"],
        ("county", "320509"): [r for r in rows if r["county_code"] == "320509"],
        ("river", scenario.river): [r for r in rows if r["river_code"] == scenario.river],
    }
    for key, chosen in expected.items():
        assert {k: groups[key][k] for k in tally} == _counted([r["status"] for r in chosen]), key
    assert groups[("county", "320509")]["name"] == "吴江区"
    # The trend: each period's counts are those of the spreadsheet's rows of that period.
    sheet = demo_client.get(
        "/api/v1/duty.csv", params={"on": ON, "periods": 3, "lang": "en"}, headers=headers
    )
    lines = list(csv.DictReader(io.StringIO(sheet.content.decode("utf-8-sig"))))
    overall = [t for t in summary["trend"] if t["side"] is None]
    assert {t["period"]["key"] for t in overall} == {line["period"] for line in lines}
    for point in overall:
        statuses = [
            STATUS_CODES[line["status"]]
            for line in lines
            if line["period"] == point["period"]["key"]
        ]
        assert {k: point[k] for k in tally} == _counted(statuses), point["period"]["key"]


def test_reminders_are_the_unmet_duties_ending_soon(
    demo_client: TestClient, scenario: Scenario, who: dict[str, dict[str, str]]
) -> None:
    headers = who["admin"]
    answer = demo_client.get("/api/v1/duty", headers=headers)  # today
    today = answer.json()["on"]
    rows = answer.json()["duties"]
    for within in (3, 40):
        reminded = demo_client.get(
            "/api/v1/duty/reminders", params={"within_days": within}, headers=headers
        ).json()
        expected = {
            (r["appointment_id"], (date.fromisoformat(r["due"]) - date.fromisoformat(today)).days)
            for r in rows
            if r["status"] == "in_progress"
            and (date.fromisoformat(r["due"]) - date.fromisoformat(today)).days < within
        }
        got = {(r["duty"]["appointment_id"], r["days_left"]) for r in reminded["reminders"]}
        assert got == expected, within
    # Within 40 days every scenario chief still owes this month's or this 旬's patrol.
    assert {scenario.chiefs[k] for k in scenario.chiefs} <= {a for a, _ in got}


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/api/v1/duty", {"level": "province"}, "level"),
        ("/api/v1/duty", {"status": "late"}, "status"),
        ("/api/v1/duty", {"on": "2026-13-01"}, "on"),
        ("/api/v1/duty", {"period": "last"}, "period"),
        ("/api/v1/duty", {"side": "999999"}, "side"),
        ("/api/v1/duty", {"river": "no such river"}, "river"),
        ("/api/v1/duty", {"zone": "ZONE-NONE"}, "zone"),
        ("/api/v1/duty", {"chief": "0"}, "chief"),
        ("/api/v1/duty.csv", {"periods": "0"}, "periods"),
        ("/api/v1/duty.csv", {"lang": "fr"}, "lang"),
        ("/api/v1/duty/joint", {"side": "999999"}, "side"),
        ("/api/v1/duty/summary", {"periods": "99"}, "periods"),
        ("/api/v1/duty/reminders", {"within_days": "0"}, "within_days"),
        ("/duty", {"level": "province"}, "level"),
        ("/duty", {"river": "no such river"}, "river"),
    ],
)
def test_bad_filters_are_refused_by_name(
    demo_client: TestClient,
    who: dict[str, dict[str, str]],
    path: str,
    params: dict[str, str],
    field: str,
) -> None:
    answer = demo_client.get(path, params=params, headers=who["wujiang.sup"])
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    body = answer.json()
    named = {body.get("field")} | {e["field"] for e in body.get("errors", [])}
    assert field in named, body


def test_a_phone_token_is_sent_to_its_own_route(
    demo_client: TestClient, who: dict[str, dict[str, str]]
) -> None:
    """Devices read their member's duty at /api/v1/me/duty; these routes are for people."""
    assert demo_client.get("/api/v1/duty", headers=who["sz.phone"]).status_code == 403
    assert demo_client.get("/api/v1/duty", headers=who["anonymous"]).status_code == 401


def test_the_answers_hold_to_the_openapi(
    demo_client: TestClient, scenario: Scenario, who: dict[str, dict[str, str]]
) -> None:
    """Every part filled (candidates of each reason, incidents, a pair, roll-ups, trend)."""
    openapi = demo_client.get("/openapi.json").json()
    reads = {
        "/api/v1/duty": {"on": ON},
        "/api/v1/duty/joint": {"on": ON},
        "/api/v1/duty/summary": {"on": ON, "periods": 2},
        "/api/v1/duty/reminders": {"within_days": 40},
    }
    for path, params in reads.items():
        answer = demo_client.get(path, params=params, headers=who["admin"])
        assert answer.status_code == 200, answer.text
        validator = _answer_schema(openapi, "get", path, 200, "application/json")
        assert [str(e) for e in validator.iter_errors(answer.json())] == [], path
