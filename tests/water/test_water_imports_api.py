"""The water import routes on the demo region: who may import what (administrators any
row, supervisors their sides' sections and the readings of sections on a river segment
their side shares, other writers 403), row errors in the reader's language naming line
and column, and problem+json for files that cannot be read."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from tests.water.support import GEOD, csv_of

BORDER_RIVER = "R-320509-330411-01"
SECTIONS = "断面编码,断面名称,断面类型,水质目标,经度,纬度,河流,所属"
CSV = "text/csv"


def on_border_segment(session: Session, metres: float) -> tuple[float, float, list[str]]:
    """A point `metres` north of the middle of a border segment of the demo border river,
    and the sides sharing that segment."""
    row = session.execute(
        text(
            "SELECT ST_X(p) AS lon, ST_Y(p) AS lat, ARRAY(SELECT jurisdiction_code FROM "
            "river_segment_sides x WHERE x.segment_id = s.id ORDER BY 1) AS sides "
            "FROM river_segments s JOIN rivers r ON r.id = s.river_id, "
            "ST_LineInterpolatePoint(s.geom, 0.5) AS p "
            "WHERE r.code = :code AND s.is_border ORDER BY s.seq LIMIT 1"
        ),
        {"code": BORDER_RIVER},
    ).one()
    lon, lat, _ = GEOD.fwd(row.lon, row.lat, 0, metres)
    return lon, lat, list(row.sides)


def post(
    client: TestClient, kind: str, data: bytes, headers: dict[str, str], **form: str
) -> object:
    """POST a file to the import route of `kind` (sections or readings)."""
    return client.post(
        f"/api/v1/water/{kind}/import",
        headers=headers,
        files={"file": (f"{kind}.csv", data, CSV)},
        data=form,
    )


def test_supervisors_import_their_sides_sections_and_shared_readings(
    demo_client: TestClient, demo_session: Session, headers: dict[str, dict[str, str]]
) -> None:
    lon, lat, sides = on_border_segment(demo_session, 40)
    assert sides == ["320509100", "330411100"]
    data = csv_of(
        SECTIONS,
        f"JB-1,界标桥,交界,III,{lon},{lat},{BORDER_RIVER},320509100",
        f"JB-2,对岸桥,交界,III,{lon},{lat},{BORDER_RIVER},330411100",
        f"JB-3,无主桥,交界,III,{lon},{lat},{BORDER_RIVER},",
    )
    zh = {**headers["shengze.sup"], "Accept-Language": "zh-CN"}
    answer = post(demo_client, "sections", data, zh)
    assert answer.status_code == 200, answer.text  # type: ignore[attr-defined]
    body = answer.json()  # type: ignore[attr-defined]
    assert [r["outcome"] for r in body["results"]] == ["added", "refused", "refused"]
    assert body["results"][0]["river"] == BORDER_RIVER
    assert body["results"][0]["snap_distance_m"] < 41
    [error] = body["results"][1]["errors"]
    assert (error["row"], error["field"], error["code"]) == (3, "所属", "water.not_your_side")
    assert error["detail"].startswith("您无权为 330411100 导入断面")
    english = post(demo_client, "sections", data, headers["wjj.sup"], dry_run="true")
    results = english.json()["results"]  # type: ignore[attr-defined]
    # wjj.sup may not take over 320509100's stored section, may add its own (dry run).
    assert [r["outcome"] for r in results] == ["refused", "would_add", "refused"]
    assert results[0]["errors"][0]["detail"].startswith("you may not import sections of")
    stored = demo_session.execute(text("SELECT count(*) FROM water_sections")).scalar_one()
    assert stored == 1
    readings = csv_of("断面编码,采样时间,氨氮,总磷", "JB-1,2026-11-03 09:00,1.6,0.1")
    # The other side's supervisor: the section lies on a segment both sides share.
    shared = post(demo_client, "readings", readings, headers["wjj.sup"])
    assert shared.status_code == 200, shared.text  # type: ignore[attr-defined]
    row = shared.json()["results"][0]  # type: ignore[attr-defined]
    assert (row["outcome"], row["water_class"], row["class_name"]) == ("stored", 5, "V")
    assert row["deciding"] == ["NH3-N"] and row["over_target"] == ["NH3-N"]
    assert shared.json()["reading_ids"] == [row["reading_id"]]  # type: ignore[attr-defined]
    # Class V at a border section with a class III target: the import opened a joint case,
    # which both sides' supervisors read with the reading as its lead's source.
    [case] = shared.json()["cases"]  # type: ignore[attr-defined]
    for login in ("shengze.sup", "wjj.sup"):
        seen = demo_client.get(f"/api/v1/incidents/{case}", headers=headers[login])
        assert seen.status_code == 200, (login, seen.text)
        assert (seen.json()["properties"]["category"], seen.json()["properties"]["is_joint"]) == (
            "water_quality",
            True,
        )
        leads = demo_client.get(f"/api/v1/incidents/{case}/leads", headers=headers[login])
        assert leads.status_code == 200, (login, leads.text)
        assert leads.json()["reading"]["id"] == row["reading_id"]
    again = post(demo_client, "readings", readings, headers["admin"])
    assert again.json()["unchanged"] == 1 and again.json()["reading_ids"] == []  # type: ignore[attr-defined]
    assert again.json()["cases"] == []  # type: ignore[attr-defined]


def test_other_writers_are_refused(
    demo_client: TestClient, headers: dict[str, dict[str, str]]
) -> None:
    data = csv_of("断面编码,采样时间,氨氮", "JB-1,2026-11-03 09:00,1.6")
    for login in ("sz.lead", "sz.patrol", "zone.coord"):
        answer = post(demo_client, "readings", data, headers[login])
        assert answer.status_code == 403, (login, answer.text)  # type: ignore[attr-defined]
        assert answer.headers["content-type"].startswith("application/problem+json")  # type: ignore[attr-defined]
        assert answer.json()["code"] == "water.not_importer"  # type: ignore[attr-defined]


def test_files_that_cannot_be_read_are_problems(
    demo_client: TestClient, headers: dict[str, dict[str, str]]
) -> None:
    admin = {**headers["admin"], "Accept-Language": "en"}
    cases = {
        ("sections", b"PK\x03\x04 not a workbook"): "sheets.xlsx_damaged",
        ("sections", csv_of("断面编码,断面名称,经度,纬度", "A,甲,120.6,30.9")): (
            "incidents.import_problems"  # two columns missing: both named
        ),
        ("sections", b'{"type": "FeatureCollection"}'): "water.geojson_not_features",
        ("sections", b"{not json"): "water.geojson_invalid",
        ("readings", csv_of("断面编码,采样时间,总磷(ug/L)", "A,2026-11-03,3")): (
            "water.not_mg_per_litre"
        ),
        ("readings", csv_of("断面编码,断面名称,采样时间,备注", "A,甲,2026-11-03,x")): (
            "water.no_parameters"
        ),
        ("readings", csv_of("断面编码,备注", "A,x")): "water.import_no_header",
        ("readings", b"\xff\xfe\x00\x00"): "sheets.utf16_not_read",
    }
    for (kind, data), code in cases.items():
        answer = post(demo_client, kind, data, admin)
        assert answer.status_code == 422, (code, answer.text)  # type: ignore[attr-defined]
        assert answer.headers["content-type"].startswith("application/problem+json")  # type: ignore[attr-defined]
        assert answer.json()["code"] == code, answer.text  # type: ignore[attr-defined]
    micrograms = csv_of("断面编码,采样时间,总磷(μg/L)", "A,2026-11-03,3")
    zh = post(demo_client, "readings", micrograms, {**headers["admin"], "Accept-Language": "zh"})
    assert "总磷(μg/L)" in zh.json()["detail"] and "单位" in zh.json()["detail"]  # type: ignore[attr-defined]
