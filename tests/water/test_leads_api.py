"""GET /api/v1/incidents/{incident_id}/leads: the reading and leads of a case, seen by both
sides of the joint case, each lead's link answering; an incident no reading opened has none."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_patrol.core.settings import Settings
from geo_patrol.water.rule import open_cases
from tests.water.along_flow import river_line
from tests.water.sections import add_reading, add_section

BORDER_RIVER = "R-320509-330411-01"
NOW = datetime.now(UTC).replace(microsecond=0)


def test_a_case_with_its_reading_and_leads(
    demo_client: TestClient, demo_session: Session, headers: dict[str, dict[str, str]]
) -> None:
    line, _ = river_line(BORDER_RIVER)
    lon, lat = line.interpolate(0.3, normalized=True).coords[0]
    section = add_section(demo_session, code="S-API", river_code=BORDER_RIVER, lon=lon, lat=lat)
    add_reading(
        demo_session, section_id=section, at=NOW - timedelta(days=30), measured={"TP": 0.15}
    )
    reading = add_reading(
        demo_session, section_id=section, at=NOW, measured={"TP": 0.5, "DO": 2.5, "COD": 18}
    )
    [case] = open_cases(demo_session, reading_ids=[reading], settings=Settings())

    for side in ("wujiang.sup", "xiuzhou.sup", "zone.coord"):
        assert (
            demo_client.get(f"/api/v1/incidents/{case}/leads", headers=headers[side]).status_code
            == 200
        )
    answer = demo_client.get(f"/api/v1/incidents/{case}/leads", headers=headers["admin"]).json()
    got = answer["reading"]
    assert got["id"] == reading and got["section"]["code"] == "S-API"
    assert got["section"]["river_code"] == BORDER_RIVER
    # TP 0.5 > 0.4 (V): 劣V; target III (0.2): factor (0.5 − 0.2) / 0.2 = 1.5; DO 2.5 < 5
    # fails III without a factor; COD 18 meets III (20). Previous: TP 0.15 is III.
    assert (got["water_class"], got["class_name"], got["target_name"]) == (6, "劣V", "III")
    assert (got["previous_class"], got["previous_name"]) == (3, "III")
    over = {o["parameter"]: o for o in got["over_limit"]}
    assert set(over) == {"TP", "DO"}
    assert abs(over["TP"]["factor"] - 1.5) < 1e-9 and over["DO"]["factor"] is None
    stored = demo_session.execute(
        text(
            "SELECT kind, upstream_m FROM water_leads WHERE incident_id = :i"
            " ORDER BY upstream_m, kind, id"
        ),
        {"i": case},
    ).all()
    assert [(lead["kind"], lead["upstream_m"]) for lead in answer["leads"]] == [
        tuple(r) for r in stored
    ]
    assert stored and {lead["kind"] for lead in answer["leads"]} == {"uncovered"}
    first = answer["leads"][0]
    assert demo_client.get(first["link"], headers=headers["admin"]).status_code == 200
    assert first["length_m"] > 0 and first["river_code"] == BORDER_RIVER

    # The incident page shows the reading and each lead with its link.
    page = demo_client.get(f"/incidents/{case}?lang=zh", headers=headers["xiuzhou.sup"])
    assert page.status_code == 200
    html = page.text
    for words in ("触发本案的断面监测", "S-API", "劣V", "TP 0.5 (超标 1.50 倍)", "上游线索"):
        assert words in html, words
    assert html.count('class="lead-uncovered"') == len(stored)
    assert f'href="{first["link"]}"' in html
    english = demo_client.get(f"/incidents/{case}?lang=en", headers=headers["admin"]).text
    assert "The reading that opened this case" in english and "1.50 times over" in english


def test_an_incident_no_reading_opened(
    demo_client: TestClient, headers: dict[str, dict[str, str]]
) -> None:
    made = demo_client.post(
        "/api/v1/incidents",
        headers=headers["admin"],
        json={"category": "illegal_discharge", "severity": "low", "lon": 120.65, "lat": 30.92},
    )
    assert made.status_code == 201, made.text
    answer = demo_client.get(
        f"/api/v1/incidents/{made.json()['id']}/leads", headers=headers["admin"]
    )
    assert answer.json() == {"incident_id": made.json()["id"], "reading": None, "leads": []}
    missing = demo_client.get("/api/v1/incidents/999999999/leads", headers=headers["admin"])
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")
