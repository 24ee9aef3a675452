"""The meetings and decisions API on the demo data: a meeting prepared, its decisions
recorded and followed up through HTTP; bad input named as problem+json; 403 for those who
see but may not write, 404 for those who do not see; lists paged with Link; every answer
held to the OpenAPI document."""

from __future__ import annotations

import csv
import io
from typing import Any

import jsonschema_rs
import openpyxl
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.support.principals import headers_for, member_id

ZONE = "ZONE-SZ-WJJ"
SZ, WJJ = "320509100", "330411100"
MEETING = {
    "zone": ZONE,
    "title": "十一月联席会议",
    "held_at": "2026-11-20T02:00:00Z",
    "place": "盛泽镇政府",
    "period_from": "2026-10-01",
    "period_to": "2026-10-31",
    "attendees": [{"side_code": SZ, "name": "盛泽代表"}, {"side_code": WJJ, "name": "王江泾代表"}],
    "agenda": [{"kind": "other", "title": "交界河道保洁", "detail": {"from": "coordinator"}}],
}
PROBLEM = "application/problem+json"


@pytest.fixture
def people(demo_session: Session) -> dict[str, dict[str, str]]:
    """Bearer headers per demo login."""
    return headers_for(demo_session)


def check_schema(client: TestClient, method: str, path: str, status: int, body: Any) -> None:
    """`body` matches the OpenAPI's answer of `method path` with `status`."""
    openapi = client.get("/openapi.json").json()
    schema = openapi["paths"][path][method]["responses"][str(status)]["content"][
        "application/json"
    ]["schema"]
    validator = jsonschema_rs.Draft202012Validator({**schema, "components": openapi["components"]})
    errors = [str(e) for e in validator.iter_errors(body)]
    assert errors == [], (path, errors[:3])


def field_of(response: Any) -> str:
    """The field a problem+json answer names (its own, or its first error's)."""
    assert response.headers["content-type"].startswith(PROBLEM), response.text
    body = response.json()
    return str(body.get("field") or body["errors"][0]["field"])


def test_prepare_record_and_follow_up(
    demo_client: TestClient, demo_session: Session, people: dict[str, dict[str, str]]
) -> None:
    coord, patrol = people["zone.coord"], people["sz.patrol"]
    made = demo_client.post("/api/v1/meetings", json=MEETING, headers=coord)
    assert made.status_code == 201, made.text
    meeting_id = made.json()["id"]
    again = demo_client.post("/api/v1/meetings", json=MEETING, headers=coord)
    assert again.json()["id"] == meeting_id  # a retried create
    agenda = demo_client.put(
        f"/api/v1/meetings/{meeting_id}/agenda",
        json={
            "items": [
                {"kind": "incident", "target_id": 1, "title": "超期案件"},
                MEETING["agenda"][0],
            ]
        },
        headers=coord,
    )
    assert [i["position"] for i in agenda.json()["agenda"]] == [1, 2]
    check_schema(demo_client, "put", "/api/v1/meetings/{meeting_id}/agenda", 200, agenda.json())
    patched = demo_client.patch(
        f"/api/v1/meetings/{meeting_id}",
        json={"minutes": "双方同意", "status": "held"},
        headers=coord,
    )
    assert (patched.json()["minutes"], patched.json()["status"]) == ("双方同意", "held")
    assert patched.json()["place"] == MEETING["place"]  # fields not given are kept
    decision = {
        "body": "清理交界河道漂浮物",
        "deadline": "2020-01-31",  # long past: overdue unless done
        "owners": [
            {"side_code": SZ, "member_id": member_id(demo_session, "sz.patrol")},
            {"side_code": WJJ},
        ],
    }
    recorded = demo_client.post(
        f"/api/v1/meetings/{meeting_id}/decisions", json=decision, headers=coord
    )
    assert recorded.status_code == 201, recorded.text
    decision_id = recorded.json()["id"]
    double = demo_client.post(
        f"/api/v1/meetings/{meeting_id}/decisions", json=decision, headers=coord
    )
    assert double.json()["id"] == decision_id  # a double-submitted form
    shown = demo_client.get(f"/api/v1/decisions/{decision_id}", headers=patrol)
    assert shown.status_code == 200, shown.text
    assert (shown.json()["status"], shown.json()["stored_status"]) == ("overdue", "open")
    check_schema(demo_client, "get", "/api/v1/decisions/{decision_id}", 200, shown.json())
    mine = demo_client.get("/api/v1/decisions?mine=true&status=overdue", headers=patrol)
    assert [d["id"] for d in mine.json()] == [decision_id]
    posted = demo_client.post(
        f"/api/v1/decisions/{decision_id}/updates",
        json={"note": "已清理", "status": "done"},
        headers=patrol,
    )
    assert posted.status_code == 201, posted.text
    check_schema(demo_client, "post", "/api/v1/decisions/{decision_id}/updates", 201, posted.json())
    assert posted.json()["status"] == "done" and posted.json()["done_at"]
    assert [u["kind"] for u in posted.json()["updates"]] == ["created", "status"]
    assert posted.json()["updates"][1]["actor"] == "sz.patrol"
    listed = demo_client.get(f"/api/v1/meetings?zone={ZONE}", headers=people["xiuzhou.sup"])
    assert meeting_id in [m["id"] for m in listed.json()]
    check_schema(demo_client, "get", "/api/v1/meetings", 200, listed.json())
    check_schema(
        demo_client,
        "get",
        "/api/v1/decisions",
        200,
        demo_client.get("/api/v1/decisions", headers=coord).json(),
    )


def test_refusals_name_what_is_wrong(
    demo_client: TestClient, people: dict[str, dict[str, str]]
) -> None:
    coord = people["zone.coord"]
    meeting_id = demo_client.post("/api/v1/meetings", json=MEETING, headers=coord).json()["id"]
    url = f"/api/v1/meetings/{meeting_id}/decisions"
    good = {"body": "x", "deadline": "2026-12-31", "owners": [{"side_code": SZ}]}
    cases = [
        (
            {**good, "owners": [{"side_code": SZ}, {"side_code": "999999"}]},
            422,
            "owners[1].side_code",
        ),
        (
            {**good, "owners": [{"side_code": SZ, "member_id": 2_000_000_000}]},
            422,
            "owners[0].member_id",
        ),
        (
            {**good, "links": [{"kind": "incident", "target_id": 987654321}]},
            422,
            "links[0].target_id",
        ),
        ({**good, "links": [{"kind": "planet", "target_id": 1}]}, 422, "links.0.kind"),
        ({**good, "owners": []}, 422, "owners"),
        ({**good, "deadline": "someday"}, 422, "deadline"),
    ]
    for body, status, field in cases:
        answer = demo_client.post(url, json=body, headers=coord)
        assert answer.status_code == status, answer.text
        assert field_of(answer) == field, answer.json()
    wrong_period = {**MEETING, "title": "x", "period_to": "2026-09-01"}
    answer = demo_client.post("/api/v1/meetings", json=wrong_period, headers=coord)
    assert (answer.status_code, field_of(answer)) == (422, "period_to")
    patched = demo_client.patch(
        f"/api/v1/meetings/{meeting_id}", json={"period_from": "2026-11-15"}, headers=coord
    )
    assert (patched.status_code, field_of(patched)) == (422, "period_to")
    untitled = demo_client.patch(
        f"/api/v1/meetings/{meeting_id}", json={"title": None}, headers=coord
    )
    assert (untitled.status_code, field_of(untitled)) == (422, "title")
    unknown = demo_client.post("/api/v1/meetings", json={**MEETING, "zone": "NOPE"}, headers=coord)
    assert (unknown.status_code, field_of(unknown)) == (404, "zone")
    attendee = {"attendees": [{"side_code": "999999", "name": "x"}]}
    answer = demo_client.put(
        f"/api/v1/meetings/{meeting_id}/attendees", json=attendee, headers=coord
    )
    assert (answer.status_code, field_of(answer)) == (422, "attendees[0].side_code")
    decision_id = demo_client.post(url, json=good, headers=coord).json()["id"]
    updates = f"/api/v1/decisions/{decision_id}/updates"
    empty = demo_client.post(updates, json={}, headers=people["admin"])
    assert (empty.status_code, field_of(empty)) == (422, "note")
    overdue = demo_client.post(updates, json={"status": "overdue"}, headers=people["admin"])
    assert (overdue.status_code, field_of(overdue)) == (422, "status")  # derived, never posted
    # Seen but not allowed: 403; not seen: 404.
    assert demo_client.post(updates, json={"note": "x"}, headers=coord).status_code == 403
    assert (
        demo_client.post(updates, json={"note": "x"}, headers=people["wjj.sup"]).status_code == 403
    )
    assert (
        demo_client.post(updates, json={"note": "x"}, headers=people["sz.lead"]).status_code == 404
    )
    assert (
        demo_client.get(f"/api/v1/decisions/{decision_id}", headers=people["wjj.lead"]).status_code
        == 404
    )
    assert (
        demo_client.get(f"/api/v1/meetings/{meeting_id}", headers=people["sz.lead"]).status_code
        == 404
    )
    observer = people["meeting.room"]
    assert demo_client.get(f"/api/v1/meetings/{meeting_id}", headers=observer).status_code == 200
    assert demo_client.get("/api/v1/meetings/2000000000", headers=coord).status_code == 404


def test_lists_page_with_link(demo_client: TestClient, people: dict[str, dict[str, str]]) -> None:
    coord = people["zone.coord"]
    ids = [
        demo_client.post(
            "/api/v1/meetings",
            json={**MEETING, "title": f"会议 {n}", "held_at": f"2026-11-2{n}T02:00:00Z"},
            headers=coord,
        ).json()["id"]
        for n in range(3)
    ]
    for n in range(3):
        demo_client.post(
            f"/api/v1/meetings/{ids[0]}/decisions",
            json={
                "body": f"事项 {n}",
                "deadline": f"2026-12-0{n + 1}",
                "owners": [{"side_code": SZ}],
            },
            headers=coord,
        )
    for path, expected in (
        (f"/api/v1/meetings?zone={ZONE}", list(reversed(ids))),  # newest first
        (f"/api/v1/decisions?meeting_id={ids[0]}", None),
    ):
        seen: list[int] = []
        url: str | None = f"{path}&limit=2"
        while url:
            answer = demo_client.get(url, headers=coord)
            assert answer.status_code == 200, answer.text
            seen += [row["id"] for row in answer.json()]
            link = answer.headers.get("link", "")
            url = link.split(">")[0][1:] if 'rel="next"' in link else None
        whole = [row["id"] for row in demo_client.get(path, headers=coord).json()]
        assert seen == whole
        if expected is not None:
            assert [i for i in seen if i in ids] == expected
        else:
            assert len(seen) == 3
    bad = demo_client.get("/api/v1/decisions?cursor=nonsense", headers=coord)
    assert (bad.status_code, field_of(bad)) == (422, "cursor")


def test_overdue_decisions_are_reminded(
    demo_client: TestClient, demo_session: Session, people: dict[str, dict[str, str]]
) -> None:
    """An overdue decision owned by Shengze (its patrol member named) is in the reminders of
    that member and of Shengze's supervisors, on the duty page too; not in Wangjiangjing's,
    and no longer once done."""
    coord = people["zone.coord"]
    meeting_id = demo_client.post("/api/v1/meetings", json=MEETING, headers=coord).json()["id"]
    owner = {"side_code": SZ, "member_id": member_id(demo_session, "sz.patrol")}
    body = {"body": "盛泽侧清淤 <b>", "deadline": "2026-12-01", "owners": [owner]}
    decision_id = demo_client.post(
        f"/api/v1/meetings/{meeting_id}/decisions", json=body, headers=coord
    ).json()["id"]

    def reminded(login: str, on: str = "2026-12-02") -> list[int]:
        answer = demo_client.get(f"/api/v1/duty/reminders?on={on}", headers=people[login])
        assert answer.status_code == 200, answer.text
        return [d["id"] for d in answer.json()["decisions"]]

    assert decision_id in reminded("sz.patrol")
    assert decision_id in reminded("shengze.sup")
    assert decision_id in reminded("zone.coord")
    assert decision_id not in reminded("wjj.sup")
    assert decision_id not in reminded("wjj.patrol")
    assert decision_id not in reminded("sz.patrol", on="2026-12-01")  # the deadline itself
    page = demo_client.get("/duty?on=2026-12-02&lang=en", headers=people["shengze.sup"])
    assert page.status_code == 200
    assert f'data-decision="{decision_id}"' in page.text
    assert "盛泽侧清淤 &lt;b&gt;" in page.text and "1 day(s) late" in page.text
    demo_client.post(
        f"/api/v1/decisions/{decision_id}/updates",
        json={"note": "完成", "status": "done"},
        headers=people["sz.patrol"],
    )
    assert decision_id not in reminded("sz.patrol")


def test_decisions_export_matches_the_json_list(
    demo_client: TestClient, demo_session: Session, people: dict[str, dict[str, str]]
) -> None:
    """The CSV and XLSX exports hold the JSON list's decisions, read back independently
    (csv module, openpyxl), with the list's filters."""
    coord = people["zone.coord"]
    meeting_id = demo_client.post("/api/v1/meetings", json=MEETING, headers=coord).json()["id"]
    for n, deadline in enumerate(("2020-01-01", "2099-01-01")):
        demo_client.post(
            f"/api/v1/meetings/{meeting_id}/decisions",
            json={"body": f"事项 {n}", "deadline": deadline, "owners": [{"side_code": SZ}]},
            headers=coord,
        )
    query = f"meeting_id={meeting_id}"
    listed = demo_client.get(f"/api/v1/decisions?{query}", headers=coord).json()
    assert [d["status"] for d in listed] == ["overdue", "open"]
    answer = demo_client.get(f"/api/v1/decisions.csv?{query}&lang=en", headers=coord)
    assert answer.status_code == 200, answer.text
    rows = list(csv.DictReader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert [(int(r["id"]), r["body"], r["deadline"], r["status"]) for r in rows] == [
        (d["id"], d["body"], d["deadline"], d["status"]) for d in listed
    ]
    assert rows[0]["owners"] == SZ
    book = demo_client.get(f"/api/v1/decisions.xlsx?{query}&status=overdue", headers=coord)
    sheet = openpyxl.load_workbook(io.BytesIO(book.content)).worksheets[0]
    cells = list(sheet.iter_rows(values_only=True))
    assert cells[0][:3] == ("编号", "会议编号", "会议")
    assert [(row[0], row[6], row[8]) for row in cells[1:]] == [
        (listed[0]["id"], "事项 0", "已逾期")
    ]
    hidden = demo_client.get(f"/api/v1/decisions.csv?{query}", headers=people["wjj.lead"])
    assert hidden.content.decode("utf-8-sig").count("\n") == 1  # the header only
