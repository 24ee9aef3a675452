"""The incident list page (`/incidents`): the same cases as the API gives the same reader,
open ones by deadline, overdue ones, all; each side sees its own."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient
from lxml import html
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_patrol.incidents.workflow import OPEN
from tests.support import oracle
from tests.support.principals import headers_for


def listed(client: TestClient, headers: dict[str, str], query: str) -> list[list[str]]:
    """The table's rows as the texts of their cells."""
    page = client.get(f"/incidents?{query}&lang=en", headers=headers)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    table = html.fromstring(page.text).get_element_by_id("incidents")
    return [[td.text_content() for td in tr.findall("td")] for tr in table.iter("tr")][1:]


def api_cases(client: TestClient, headers: dict[str, str]) -> list[dict[str, Any]]:
    """The reader's incidents from the JSON API."""
    features = client.get("/api/v1/incidents", headers=headers).json()["features"]
    return [f["properties"] for f in features]


def is_overdue(case: dict[str, Any]) -> bool:
    """Open with its deadline passed, from the case's own fields (not the API's flag)."""
    deadline = case["deadline_at"]
    return (
        case["status"] in OPEN
        and deadline is not None
        and datetime.fromisoformat(deadline) < datetime.now(UTC)
    )


def by_deadline(cases: list[dict[str, Any]]) -> list[str]:
    """Case numbers, soonest deadline first (none last), newest first among equals."""

    def key(c: dict[str, Any]) -> tuple[bool, str, float, int]:
        reported = datetime.fromisoformat(c["reported_at"]).timestamp()
        return (c["deadline_at"] is None, c["deadline_at"] or "", -reported, -c["id"])

    return [f"#{c['id']}" for c in sorted(cases, key=key)]


# The cases each reader may read, by the names the test gives them below.
READS = {
    "wujiang.sup": {"wujiang", "joint"},
    "xiuzhou.sup": {"xiuzhou", "joint", "late"},
    "zone.coord": {"joint"},
}


def test_the_list_holds_what_the_api_gives_the_same_reader(
    demo_client: TestClient, demo_session: Session
) -> None:
    headers = headers_for(demo_session)
    # Cases on each side, a joint one by the border river, severities with other deadlines,
    # and one whose deadline has passed.
    made = {}
    for name, who, side, metres, severity in (
        ("wujiang", "wujiang.sup", "320509", 2500, "low"),
        ("xiuzhou", "xiuzhou.sup", "330411", 2500, "high"),
        ("joint", "wujiang.sup", "320509", 50, "medium"),
        ("late", "xiuzhou.sup", "330411", 2400, "low"),
    ):
        lon, lat = oracle.point_off_border_river(metres, side)
        answer = demo_client.post(
            "/api/v1/incidents",
            headers=headers[who],
            json={"category": "floating_waste", "lon": lon, "lat": lat, "severity": severity},
        )
        assert answer.status_code == 201, answer.text
        made[name] = answer.json()["id"]
    demo_session.execute(
        text("UPDATE incidents SET deadline_at = now() - interval '1 hour' WHERE id = :id"),
        {"id": made["late"]},
    )
    for who in ("wujiang.sup", "xiuzhou.sup", "zone.coord"):
        cases = api_cases(demo_client, headers[who])
        open_cases = [c for c in cases if c["status"] in OPEN]
        rows = listed(demo_client, headers[who], "view=open")
        assert [r[0] for r in rows] == by_deadline(open_cases), who
        # The API gives API clients the same view.
        api_open = demo_client.get(
            "/api/v1/incidents", params={"open": "true", "order": "deadline"}, headers=headers[who]
        ).json()["features"]
        assert [f"#{f['id']}" for f in api_open] == by_deadline(open_cases), who
        overdue = [r[0] for r in listed(demo_client, headers[who], "view=overdue")]
        assert overdue == by_deadline([c for c in cases if is_overdue(c)]), who
        everything = [r[0] for r in listed(demo_client, headers[who], "view=all")]
        assert everything == [f"#{c['id']}" for c in cases], who
        joint = listed(demo_client, headers[who], "view=all&joint=1")
        assert [r[0] for r in joint] == [f"#{c['id']}" for c in cases if c["is_joint"]], who
        assert all(r[1].endswith("Joint case") for r in joint)
        # Who reads which case, from the set-up: each side its own cases and the joint one
        # (by the border river), the zone's coordinator the joint case only; every case is
        # new, so open; only the late one is overdue, on its side.
        mine = {f"#{made[name]}" for name in READS[who]}
        assert len(everything) == len(mine) and set(everything) == mine, who
        assert {r[0] for r in rows} == mine, who
        assert [r[0] for r in joint] == [f"#{made['joint']}"], who
        assert overdue == ([f"#{made['late']}"] if who == "xiuzhou.sup" else []), who
    # Sides by name, as the jurisdictions table has them now.
    row = next(
        r
        for r in listed(demo_client, headers["wujiang.sup"], "view=open")
        if r[0] == f"#{made['wujiang']}"
    )
    record = demo_client.get(f"/api/v1/incidents/{made['wujiang']}", headers=headers["wujiang.sup"])
    lead = record.json()["properties"]["lead_code"]
    name = demo_session.execute(
        text("SELECT name FROM jurisdictions WHERE code = :c AND valid_to IS NULL"), {"c": lead}
    ).scalar_one()
    assert (row[2], row[5]) == ("Reported", name)


def test_browsers_are_sent_to_sign_in_first(demo_client: TestClient) -> None:
    answer = demo_client.get(
        "/incidents?view=overdue", headers={"Accept": "text/html"}, follow_redirects=False
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?next=%2Fincidents%3Fview%3Doverdue"
