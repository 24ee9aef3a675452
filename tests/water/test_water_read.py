"""Reading water quality through the API: which sections each person sees (the rule of
geo_patrol.water.queries, written out here per login), each with its latest class, the
parameters over its target and its trend, as JSON and GeoJSON; paging walks every row once;
a section's readings newest first; the readings as XLSX and CSV read back.

The sections and readings are put in the tables by tests/support/water.py with classes
derived by hand from the standard's table (and checked against classify on the way in).
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any

import openpyxl
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection
from sqlalchemy.orm import Session

from geo_patrol.core.local_time import LOCAL
from geo_patrol.core.paging import MAX_LIMIT
from tests.support.principals import headers_for
from tests.support.water import WATER_LAST, Seeded, seed_sections

LAST = WATER_LAST
ALL_CODES = {"WT-B1", "WT-A1", "WT-L1", "WT-B2", "WT-B3"}
SIDE_A = {"WT-B1", "WT-A1", "WT-L1"}  # B1 is run by A's town, on a segment shared with B's
SIDE_B = {"WT-B1", "WT-B2", "WT-B3"}
SEES = {
    "admin": ALL_CODES,
    "zone.coord": ALL_CODES,  # both towns are members of the zone
    "meeting.room": ALL_CODES,  # the zone's observer
    "wujiang.sup": SIDE_A,
    "shengze.sup": SIDE_A,
    "xiuzhou.sup": SIDE_B,
    "wjj.sup": SIDE_B,
    "sz.lead": set(),  # a team reads no sections
    "sz.patrol": set(),
}
GEOJSON = "application/geo+json"


@pytest.fixture(scope="module")
def world(demo_connection: Connection) -> tuple[Seeded, dict[str, dict[str, str]]]:
    """The test sections in the module's transaction, and the demo people's headers."""
    with Session(bind=demo_connection, join_transaction_mode="create_savepoint") as setup:
        seeded = seed_sections(setup, last=LAST)
        auth = headers_for(setup)
        setup.commit()
    return seeded, auth


def ours(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The test's sections among the rows (the demo may hold sections of its own)."""
    return [row for row in rows if row["code"] in ALL_CODES]


def next_link(response: Any) -> str | None:
    """The rel="next" URL of a response's Link header."""
    for part in (response.headers.get("link") or "").split(","):
        url, _, rel = part.strip().partition(";")
        if rel.strip() == 'rel="next"':
            return url.strip()[1:-1]
    return None


def walk(client: TestClient, url: str, headers: dict[str, str]) -> list[list[Any]]:
    """The bodies of every page from `url` following rel="next"."""
    bodies: list[list[Any]] = []
    following: str | None = url
    while following is not None:
        response = client.get(following, headers=headers)
        assert response.status_code == 200, response.text
        bodies.append(response.json())
        following = next_link(response)
        assert len(bodies) < 50
    return bodies


@pytest.mark.parametrize("login", sorted(SEES))
def test_each_person_sees_the_sections_of_their_sides_and_zones(
    login: str, demo_client: TestClient, world: tuple[Seeded, dict[str, dict[str, str]]]
) -> None:
    _, auth = world
    response = demo_client.get("/api/v1/water/sections?limit=1000", headers=auth[login])
    assert response.status_code == 200, response.text
    codes = [row["code"] for row in ours(response.json())]
    assert set(codes) == SEES[login]
    assert codes == sorted(codes)


def test_the_latest_class_its_target_and_the_trend(
    demo_client: TestClient, world: tuple[Seeded, dict[str, dict[str, str]]]
) -> None:
    seeded, auth = world
    rows = demo_client.get("/api/v1/water/sections", headers=auth["admin"]).json()
    by_code = {row["code"]: row for row in ours(rows)}
    border = by_code["WT-B1"]
    assert (border["kind"], border["target_class"], border["target_class_name"]) == (
        "border",
        3,
        "III",
    )
    assert border["sides"] == ["320509100", "330411100"]
    latest = border["latest"]
    # DO 4.0 and NH3-N 1.2 are both IV (worse than the target III); TP 0.15 is III.
    assert (latest["water_class"], latest["class_name"], latest["worse_than_target"]) == (
        4,
        "IV",
        True,
    )
    assert latest["over_target"] == ["DO", "NH3-N"]
    # (1.2 - 1.0) / 1.0 for NH3-N against III; DO has no factor, TP meets III.
    assert latest["factors"].keys() == {"NH3-N"}
    assert latest["factors"]["NH3-N"] == pytest.approx(0.2)
    assert datetime.fromisoformat(latest["sampled_at"]) == LAST
    # The last 12 of 13 monthly readings, oldest first.
    trend = border["trend"]
    assert [p["water_class"] for p in trend] == seeded.classes["WT-B1"][-12:]
    assert [datetime.fromisoformat(p["sampled_at"]) for p in trend] == seeded.times["WT-B1"][-12:]
    assert trend[-1]["class_name"] == "IV" and trend[0]["class_name"] == "II"
    # A at its target (II, target II) is not worse; the lake's TP is judged by lake limits:
    # 0.04 is III there (II in a river), (0.04 - 0.025) / 0.025 over the target II.
    assert by_code["WT-A1"]["latest"]["worse_than_target"] is False
    lake = by_code["WT-L1"]["latest"]
    assert (lake["water_class"], lake["over_target"]) == (3, ["TP"])
    assert lake["factors"]["TP"] == pytest.approx(0.6)
    # 劣V: DO 1.5 and COD 45 (COD (45 - 20) / 20 over III); no reading yet: null.
    worst = by_code["WT-B2"]["latest"]
    assert (worst["water_class"], worst["class_name"], worst["over_target"]) == (
        6,
        "劣V",
        ["DO", "COD"],
    )
    assert worst["factors"]["COD"] == pytest.approx(1.25)
    assert by_code["WT-B3"]["latest"] is None and by_code["WT-B3"]["trend"] == []
    # The point is where the section was put.
    for code, (lon, lat) in seeded.points.items():
        assert (by_code[code]["lon"], by_code[code]["lat"]) == pytest.approx((lon, lat), abs=1e-9)


def test_worse_filters_on_the_latest_reading(
    demo_client: TestClient, world: tuple[Seeded, dict[str, dict[str, str]]]
) -> None:
    _, auth = world
    worse = demo_client.get("/api/v1/water/sections?worse=true", headers=auth["admin"]).json()
    better = demo_client.get("/api/v1/water/sections?worse=false", headers=auth["admin"]).json()
    assert {r["code"] for r in ours(worse)} == {"WT-B1", "WT-L1", "WT-B2"}
    assert {r["code"] for r in ours(better)} == {"WT-A1", "WT-B3"}
    kind = demo_client.get("/api/v1/water/sections?kind=border", headers=auth["admin"]).json()
    assert {r["code"] for r in ours(kind)} == {"WT-B1"}


@pytest.mark.parametrize("ask", ["query", "accept"])
def test_geojson_holds_the_same_sections_as_points(
    ask: str, demo_client: TestClient, world: tuple[Seeded, dict[str, dict[str, str]]]
) -> None:
    seeded, auth = world
    headers = dict(auth["wujiang.sup"])
    url = "/api/v1/water/sections?limit=2"
    if ask == "query":
        url += "&f=geojson"
    else:
        headers["Accept"] = GEOJSON
    plain = demo_client.get("/api/v1/water/sections?limit=1000", headers=auth["wujiang.sup"])
    first = demo_client.get(url, headers=headers)
    assert first.headers["content-type"].startswith(GEOJSON)
    features: list[dict[str, Any]] = []
    for body in walk(demo_client, url, headers):
        assert body["type"] == "FeatureCollection"  # type: ignore[call-overload]
        features += body["features"]  # type: ignore[call-overload]
    assert [f["id"] for f in features] == [row["id"] for row in plain.json()]
    for feature in features:
        code = feature["properties"]["code"]
        if code in seeded.points:
            assert feature["id"] == seeded.ids[code]
            assert feature["geometry"]["type"] == "Point"
            assert feature["geometry"]["coordinates"] == pytest.approx(seeded.points[code])
            assert "lon" not in feature["properties"]


def test_paging_walks_every_section_and_reading_once(
    demo_client: TestClient, world: tuple[Seeded, dict[str, dict[str, str]]]
) -> None:
    seeded, auth = world
    admin = auth["admin"]
    whole = demo_client.get(f"/api/v1/water/sections?limit={MAX_LIMIT}", headers=admin)
    expected = [row["id"] for row in whole.json()]
    pages = walk(demo_client, "/api/v1/water/sections?limit=2", admin)
    walked = [row["id"] for body in pages for row in body]
    assert walked == expected and len(set(walked)) == len(walked) >= 5
    assert len(pages) == -(-len(expected) // 2)
    # Thirteen readings in pages of five, newest first, each once.
    section = seeded.ids["WT-B1"]
    pages = walk(demo_client, f"/api/v1/water/sections/{section}/readings?limit=5", admin)
    assert [len(body) for body in pages] == [5, 5, 3]
    readings = [row for body in pages for row in body]
    times = [datetime.fromisoformat(row["sampled_at"]) for row in readings]
    assert times == seeded.times["WT-B1"][::-1]
    assert [row["water_class"] for row in readings] == seeded.classes["WT-B1"][::-1]
    assert [row["measured"] for row in readings] == [
        s.measured for s in seeded.readings["WT-B1"][::-1]
    ]
    bad = demo_client.get(f"/api/v1/water/sections/{section}/readings?cursor=x", headers=admin)
    assert bad.status_code == 422 and bad.json()["field"] == "cursor"


def test_one_section_and_its_readings_only_in_scope(
    demo_client: TestClient, world: tuple[Seeded, dict[str, dict[str, str]]]
) -> None:
    seeded, auth = world
    theirs = seeded.ids["WT-B2"]
    for login, status in (("xiuzhou.sup", 200), ("wujiang.sup", 404), ("zone.coord", 200)):
        one = demo_client.get(f"/api/v1/water/sections/{theirs}", headers=auth[login])
        assert one.status_code == status, (login, one.text)
        readings = demo_client.get(f"/api/v1/water/sections/{theirs}/readings", headers=auth[login])
        assert readings.status_code == status, (login, readings.text)
    one = demo_client.get(f"/api/v1/water/sections/{theirs}", headers=auth["wujiang.sup"])
    assert one.headers["content-type"].startswith("application/problem+json")
    assert one.json()["field"] == "section_id"
    (reading,) = demo_client.get(
        f"/api/v1/water/sections/{theirs}/readings", headers=auth["wjj.sup"]
    ).json()
    assert reading["deciding"] == ["DO", "COD"] and reading["over_target"] == ["DO", "COD"]
    assert reading["worse_than_target"] is True and reading["class_name"] == "劣V"


def test_the_readings_as_xlsx_and_csv(
    demo_client: TestClient, world: tuple[Seeded, dict[str, dict[str, str]]]
) -> None:
    seeded, auth = world
    answer = demo_client.get("/api/v1/water/readings.xlsx", headers=auth["wujiang.sup"])
    assert answer.status_code == 200, answer.text
    sheet = openpyxl.load_workbook(io.BytesIO(answer.content)).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    header = list(rows[0])
    assert header[:3] == ["断面编码", "断面名称", "采样时间"]
    assert "氨氮 (mg/L)" in header and "总磷 (mg/L)" in header
    assert header[-3:] == ["水质类别", "水质目标", "超标项目"]
    column = {name: header.index(name) for name in header}
    mine = [row for row in rows[1:] if row[0] in ALL_CODES]
    # Side A's sections (WT-A1, WT-B1, WT-L1) by code, each reading by time.
    expected = [
        (code, at, sample)
        for code in sorted(SIDE_A)
        for at, sample in zip(seeded.times[code], seeded.readings[code], strict=True)
    ]
    assert [(row[0], row[2]) for row in mine] == [
        (code, at.astimezone(LOCAL).replace(tzinfo=None)) for code, at, _ in expected
    ]
    words = {1: "I类", 2: "II类", 3: "III类", 4: "IV类", 5: "V类", 6: "劣V类"}
    for row, (_, _, sample) in zip(mine, expected, strict=True):
        assert row[column["溶解氧 (mg/L)"]] == sample.measured["DO"]
        assert row[column["氨氮 (mg/L)"]] == sample.measured.get("NH3-N")
        assert row[column["水质类别"]] == words[sample.water_class or 0]
    last = mine[len(seeded.readings["WT-A1"]) + len(seeded.readings["WT-B1"]) - 1]
    assert (last[0], last[column["水质目标"]], last[column["超标项目"]]) == (
        "WT-B1",
        "III类",
        "DO;NH3-N",
    )
    # One section in English: the column keys as headers, local times as text.
    section = seeded.ids["WT-B2"]
    text = demo_client.get(
        f"/api/v1/water/readings.csv?lang=en&section_id={section}", headers=auth["wjj.sup"]
    )
    assert text.status_code == 200, text.text
    table = list(csv.reader(io.StringIO(text.content.decode("utf-8-sig"))))
    assert table[0][:3] == ["section_code", "section_name", "sampled_at"]
    assert "nh3_n" in table[0] and table[0][-3:] == ["water_class", "target_class", "over_target"]
    (line,) = table[1:]
    assert line[0] == "WT-B2" and line[2] == "2026-11-05 10:00:00"
    assert line[-3:] == ["worse than V", "III", "DO;COD"]
    # Out of scope: nothing of side B for side A's supervisor.
    hidden = demo_client.get(
        f"/api/v1/water/readings.csv?section_id={section}", headers=auth["wujiang.sup"]
    )
    assert len(list(csv.reader(io.StringIO(hidden.content.decode("utf-8-sig"))))) == 1
