"""Section import on rivers of the test's own: snapping checked against shapely in the UTM
zone and pyproj.Geod, refusals named and never stored, upsert by code, the file kinds
(CSV in UTF-8 and GB18030, XLSX, GeoJSON) and datums, and resnap after a recut."""

from __future__ import annotations

import pytest
import shapely
from shapely.affinity import translate
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_patrol.core.coords import wgs84_to_gcj02
from geo_patrol.core.errors import ImportFileError, InvalidInput
from geo_patrol.geography.segments import rebuild_segments
from geo_patrol.water.section_file import parse_target
from geo_patrol.water.sections import recut_river_ids, resnap
from tests.water.support import (
    RIVERS,
    SETTINGS,
    add_rivers,
    csv_of,
    geojson_of,
    offset,
    sections,
    segment_under,
    snapped,
    stored_sections,
    xlsx_of,
)

EN = "code,name,kind,water_body,target_class,lon,lat,river"


def row(code: str, lon: float, lat: float, river: str = "", target: str = "III") -> str:
    """A CSV row of the English header."""
    return f"{code},{code} name,border,river,{target},{lon!r},{lat!r},{river}"


def count(session: Session) -> int:
    """Sections stored."""
    return int(session.execute(text("SELECT count(*) FROM water_sections")).scalar_one())


def test_snaps_to_the_nearest_or_named_river_like_shapely_and_geod(session: Session) -> None:
    ids = add_rivers(session)
    bent, north = RIVERS["T-BENT"], RIVERS["T-NORTH"]
    near_bent = offset(bent, 0.3, 150)  # 150 m left (north) of the bent river
    near_north = offset(north, 0.7, -220)  # 220 m south of the north river
    named = offset(bent, 0.5, 200)  # nearer the bent river, but the row names 北河
    too_far = offset(bent, 0.5, -(SETTINGS.water_snap_max_m + 300))  # south, far off
    report = sections(
        session,
        csv_of(
            EN,
            row("S1", *near_bent),
            row("S2", *near_north),
            row("S3", *named, river="北河"),
            row("S4", *too_far),
            row("S5", *near_bent, river="no such river"),
        ),
    )
    assert [r.outcome for r in report.results] == ["added"] * 3 + ["refused"] * 2
    stored = stored_sections(session)
    assert set(stored) == {"S1", "S2", "S3"}
    for code, line, river, (lon, lat) in (
        ("S1", bent, "T-BENT", near_bent),
        ("S2", north, "T-NORTH", near_north),
        ("S3", north, "T-NORTH", named),
    ):
        expected = snapped(line, lon, lat)
        got = stored[code]
        assert got["river"] == river
        assert (got["given_lon"], got["given_lat"]) == (lon, lat)
        assert got["lon"] == pytest.approx(expected.lon, abs=1e-8)
        assert got["lat"] == pytest.approx(expected.lat, abs=1e-8)
        assert got["snap_distance_m"] == pytest.approx(expected.distance_m, abs=0.01)
        assert got["segment_id"] == segment_under(session, ids[river], expected.lon, expected.lat)
    assert stored["S1"]["snap_distance_m"] == pytest.approx(150, abs=1)
    far = report.results[3].errors[0]
    assert (far.row, far.field, far.message.key) == (5, "river", "problem.water.too_far")
    oracle = snapped(bent, *too_far).distance_m
    assert far.message.fields["river"] == "T-BENT"
    assert far.message.fields["distance_m"] == round(oracle)
    unknown = report.results[4].errors[0]
    assert (unknown.row, unknown.message.key) == (6, "problem.water.no_river")


def test_reimport_changes_nothing_and_an_edit_updates_saying_what(session: Session) -> None:
    add_rivers(session)
    first = offset(RIVERS["T-BENT"], 0.2, 100)
    data = csv_of(EN, row("S1", *first), row("S2", *offset(RIVERS["T-NORTH"], 0.5, 50)))
    assert [r.outcome for r in sections(session, data).results] == ["added", "added"]
    again = sections(session, data)
    assert (again.added, again.updated, again.unchanged) == (0, 0, 2)
    moved = offset(RIVERS["T-BENT"], 0.6, 100)
    edited = csv_of(EN, row("S1", *moved, target="II"), row("S2", *offset(RIVERS["T-NORTH"], 0.5, 50)))
    dry = sections(session, edited, dry_run=True)
    assert [r.outcome for r in dry.results] == ["would_update", "unchanged"]
    assert stored_sections(session)["S1"]["target_class"] == 3  # a dry run stores nothing
    report = sections(session, edited)
    assert report.results[0].outcome == "updated"
    assert {"target_class", "position", "snapped"} <= set(report.results[0].changed)
    assert "name" not in report.results[0].changed
    assert count(session) == 2
    got = stored_sections(session)["S1"]
    assert (got["given_lon"], got["given_lat"], got["target_class"]) == (*moved, 2)


def test_xlsx_gb18030_geojson_and_datums(session: Session) -> None:
    add_rivers(session)
    lon, lat = offset(RIVERS["T-BENT"], 0.4, 80)
    g_lon, g_lat = (float(v[0]) for v in wgs84_to_gcj02([lon], [lat]))
    workbook = xlsx_of(
        ["断面编码", "断面名称", "断面类型", "水体", "水质目标", "经度", "纬度", "坐标系"],
        ["X1", "桥一", "国控断面", "湖库", "Ⅲ类", g_lon, g_lat, "火星坐标"],
        ["X2", "桥二", "省控", "河流", "IV", lon, lat, ""],
    )
    report = sections(session, workbook)
    assert [r.outcome for r in report.results] == ["added", "added"], report.results
    gb = csv_of(
        "断面编码,断面名称,断面类型,水体,水质目标,经度,纬度,所属",
        f"X3,交界桥,交界,河流,III类,{lon},{lat},",
        encoding="gb18030",
    )
    assert sections(session, gb).results[0].outcome == "added"
    collection = geojson_of(
        ((lon, lat), {"code": "X4", "name": "Bridge", "kind": "municipal", "target_class": 2}),
        (None, {"code": "X5", "name": "Line", "kind": "county", "target_class": 3}),
    )
    made = sections(session, collection)
    assert [r.outcome for r in made.results] == ["added", "refused"]
    assert made.results[1].errors[0].field == "geometry"
    stored = stored_sections(session)
    assert (stored["X1"]["kind"], stored["X1"]["water_body"], stored["X1"]["target_class"]) == (
        "national", "lake", 3,
    )  # fmt: skip
    # GCJ-02 converted: its forward conversion gives back the file's numbers.
    back_lon, back_lat = wgs84_to_gcj02([stored["X1"]["given_lon"]], [stored["X1"]["given_lat"]])
    assert (float(back_lon[0]), float(back_lat[0])) == pytest.approx((g_lon, g_lat), abs=1e-7)
    assert stored["X3"]["kind"] == "border" and stored["X4"]["target_class"] == 2
    assert stored["X4"]["given_lon"] == lon


def test_bad_rows_are_named_and_never_stored(session: Session) -> None:
    add_rivers(session)
    lon, lat = offset(RIVERS["T-BENT"], 0.4, 80)
    report = sections(
        session,
        csv_of(
            "断面编码,断面名称,断面类型,水质目标,经度,纬度,所属",
            f"B1,甲,国控,劣V,{lon},{lat},",
            f"B2,乙,某控,III,{lon},{lat},",
            f"B3,丙,国控,III,east,{lat},",
            f"B4,丁,国控,III,{lon},{lat},999999",
            f"B4,丁,国控,III,{lon},{lat},",
        ),
    )
    errors = {(e.row, e.field): e.message.key for r in report.results for e in r.errors}
    assert errors == {
        (2, "水质目标"): "problem.water.not_target",
        (3, "断面类型"): "problem.water.not_kind",
        (4, "经度"): "problem.incidents.import_not_degrees",
        (5, "所属"): "problem.water.no_side",
        (6, "断面编码"): "problem.water.same_code",
    }
    assert count(session) == 0


def test_a_file_without_its_columns_is_refused(session: Session) -> None:
    with pytest.raises(ImportFileError) as refused:
        sections(session, csv_of("断面编码,断面名称,经度,纬度", "A,甲,120.6,30.9"))
    assert "断面类型" in refused.value.detail and "水质目标" in refused.value.detail
    with pytest.raises(ImportFileError):
        sections(session, b'{"type": "Feature"}')


@pytest.mark.parametrize(
    ("written", "expected"),
    [("I", 1), ("ii", 2), ("III类", 3), ("Ⅳ", 4), ("Ⅴ类", 5), ("3", 3), (2, 2), (5.0, 5),
     ("Ⅲ类水", 3)],
)  # fmt: skip
def test_target_classes_as_written(written: str | int | float, expected: int) -> None:
    assert parse_target(written) == expected


@pytest.mark.parametrize("written", ["劣V", "6", 0, "VI", "III-IV", 3.5])
def test_not_targets(written: str | int | float) -> None:
    with pytest.raises(InvalidInput):
        parse_target(written)


def test_resnap_after_the_river_is_recut_and_moved(session: Session) -> None:
    ids = add_rivers(session)
    lon, lat = offset(RIVERS["T-BENT"], 0.55, 120)
    sections(session, csv_of(EN, row("R1", lon, lat), row("R2", *offset(RIVERS["T-NORTH"], 0.1, 60))))
    moved = translate(RIVERS["T-BENT"], yoff=0.0005)  # about 55 m north
    session.execute(
        text("UPDATE rivers SET geom = ST_Multi(ST_GeomFromText(:w, 4326)) WHERE id = :id"),
        {"w": moved.wkt, "id": ids["T-BENT"]},
    )
    rebuild_segments(session, river_ids=[ids["T-BENT"]], segment_length_m=300)
    assert stored_sections(session)["R1"]["segment_id"] is None
    assert recut_river_ids(session) == [ids["T-BENT"]]
    north_before = stored_sections(session)["R2"]
    done = resnap(session, river_ids=recut_river_ids(session), settings=SETTINGS)
    assert (done.sections, done.too_far) == (1, [])
    got = stored_sections(session)["R1"]
    expected = snapped(moved, lon, lat)
    assert (got["lon"], got["lat"]) == pytest.approx((expected.lon, expected.lat), abs=1e-8)
    assert got["snap_distance_m"] == pytest.approx(expected.distance_m, abs=0.01)
    assert got["segment_id"] == segment_under(session, ids["T-BENT"], expected.lon, expected.lat)
    assert stored_sections(session)["R2"] == north_before
    assert recut_river_ids(session) == []
    # On the line drawn in degrees within a few centimetres (closest in the UTM plane).
    assert shapely.Point(got["lon"], got["lat"]).distance(moved) < 1e-6
