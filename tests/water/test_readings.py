"""Reading import: each reading classed as water.standard.classify classes its stored
values (and by hand, one example per family of parameters), values below the detection
limit counted at half the limit, header variants, bad cells named by line and column and
never stored, retries storing nothing, replacing only when asked, dry runs."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_patrol.core.errors import ImportFileError
from geo_patrol.core.vocabulary import WaterBody
from geo_patrol.water.reading_file import PARAMETERS
from geo_patrol.water.standard import classify
from tests.water.support import RIVERS, add_rivers, csv_of, offset, readings, sections, xlsx_of

SECTIONS = "code,name,kind,water_body,target_class,lon,lat"


@pytest.fixture
def placed(session: Session) -> Session:
    """Three sections: a river one (target III), a lake one (target III), a river one
    (target II) whose name is 北桥."""
    add_rivers(session)
    spots = [offset(RIVERS["T-BENT"], f, 50) for f in (0.2, 0.5, 0.8)]
    data = csv_of(
        SECTIONS,
        f"W1,南桥,border,river,III,{spots[0][0]},{spots[0][1]}",
        f"W2,湖心,border,lake,III,{spots[1][0]},{spots[1][1]}",
        f"W3,北桥,county,river,II,{spots[2][0]},{spots[2][1]}",
    )
    assert sections(session, data).added == 3
    return session


def stored(session: Session) -> list[dict[str, object]]:
    """The readings stored, with their section's code, water body and target."""
    rows = session.execute(
        text(
            "SELECT r.id, w.code, w.water_body, w.target_class AS section_target, r.sampled_at,"
            " r.measured, r.class, r.deciding, r.factors, r.target_class FROM water_readings r"
            " JOIN water_sections w ON w.id = r.section_id ORDER BY w.code, r.sampled_at"
        )
    ).mappings()
    return [dict(row) for row in rows]


def test_classes_stored_equal_classify_of_the_stored_values(placed: Session) -> None:
    data = csv_of(
        "断面编码,采样时间,溶解氧,高锰酸盐指数,化学需氧量,五日生化需氧量,氨氮(mg/L),总磷,总氮,pH",
        "W1,2026-10-05 09:00,6.2,3.1,14,2.5,0.45,0.08,3.2,7.4",
        "W1,2026-11-05,4.1,5.5,18,3.5,1.2,0.16,2.0,7.8",
        "W2,2026-11-05 10:30,7.6,1.9,12,2.0,0.12,0.04,0.9,8.1",
        "W3,2026-11-05 10:30,8.0,2.0,10,2,0.1,0.01,,9.3",
    )
    report = readings(placed, data)
    assert (report.stored, report.refused) == (4, 0), report.results
    rows = stored(placed)
    assert sorted(report.reading_ids) == sorted(int(r["id"]) for r in rows)  # type: ignore[call-overload]
    for row in rows:
        kept = row["measured"]
        measured = {p: float(kept[p]) for p in PARAMETERS if p in kept}  # type: ignore[index, operator]
        again = classify(
            measured, water_body=WaterBody(row["water_body"]), target=row["section_target"]
        )
        assert row["class"] == again.water_class
        assert row["deciding"] == list(again.deciding)
        assert row["factors"] == pytest.approx(dict(again.factors))
        assert row["target_class"] == row["section_target"]
    # By hand, from GB 3838-2002 table 1 (limits transcribed here, not read from the code):
    # W1 in October: DO 6.2 >= 6 (II), CODMn 3.1 <= 4 (II), COD 14 <= 15 (I), BOD5 2.5 <= 3
    # (I), NH3-N 0.45 <= 0.5 (II), TP 0.08 <= 0.1 (II); TN 3.2 is 劣V but a river's TN does
    # not count: class II, decided by DO, CODMn, NH3-N and TP.
    first, second, lake, ph = rows[0], rows[1], rows[2], rows[3]
    assert (first["class"], first["deciding"]) == (2, ["DO", "CODMn", "NH3-N", "TP"])
    assert first["measured"]["TN"] == 3.2  # type: ignore[index]
    # W1 in November: DO 4.1 (IV: >= 3), NH3-N 1.2 (IV: <= 1.5): class IV; against target
    # III, NH3-N exceeds 1.0 by 0.2 (factor 0.2); COD 18 <= 20 meets it
    assert (second["class"], second["deciding"]) == (4, ["DO", "NH3-N"])
    # (CODMn 5.5 <= 6, BOD5 3.5 <= 4, TP 0.16 <= 0.2: no factor; DO has none by the method).
    assert second["factors"] == pytest.approx({"NH3-N": 0.2})
    # The lake: TP 0.04 meets the lake's III (0.05) but not II (0.025); TN 0.9 counts (III).
    assert (lake["class"], lake["deciding"]) == (3, ["TP", "TN"])
    # pH 9.3 is outside 6..9: 劣V whatever else.
    assert (ph["class"], ph["deciding"]) == (6, ["pH"])


def test_metals_and_others_by_hand(placed: Session) -> None:
    data = csv_of(
        "断面名称,监测时间,铜,锌,氟化物,硒,砷,汞,镉,六价铬,铅,氰化物,挥发酚,石油类,阴离子表面活性剂,硫化物,粪大肠菌群",
        "南桥,2026-11-06,0.005,0.04,0.8,0.005,0.02,0.00004,0.0008,0.008,0.008,0.004,0.001,0.03,0.1,0.03,30000",
        "北桥,2026-11-06,0.005,0.04,0.8,0.005,0.02,0.00008,0.0008,0.008,0.008,0.004,0.001,0.3,0.1,0.03,100",
    )
    report = readings(placed, data)
    assert report.stored == 2, report.results
    south, north = stored(placed)[0], stored(placed)[1]
    # Every metal and the others below class I's limits; faecal coliform 30000 (class V) does
    # not count: class I.
    assert (south["code"], south["class"]) == ("W1", 1)
    # Hg 0.00008 is above I/II (0.00005), within III (0.0001); oil 0.3 is IV (<= 0.5).
    assert (north["code"], north["class"], north["deciding"]) == ("W3", 4, ["oil"])
    assert north["factors"] == pytest.approx({"Hg": 0.6, "oil": 5.0})


def test_below_the_detection_limit_counts_half_the_limit(placed: Session) -> None:
    data = csv_of(
        "断面编码,采样时间,NH3-N,TP,DO,COD,CODMn",
        "W1,2026-11-07,<0.05,0.05L,ND,未检出,＜4",
        "W3,2026-11-07,0.4,0.05L,<0.5,,",
    )
    report = readings(placed, data)
    assert report.stored == 2, report.results
    w1, w3 = stored(placed)
    # NH3-N "<0.05" -> 0.025 (I); TP "0.05L" -> 0.025 (II: above 0.02); DO "ND" -> 0 (劣V);
    # COD "未检出" -> 0 (I); CODMn "＜4" -> 2 (I).
    assert w1["measured"] == {"NH3-N": 0.025, "TP": 0.025, "DO": 0.0, "COD": 0.0, "CODMn": 2.0}
    assert (w1["class"], w1["deciding"]) == (6, ["DO"])
    # W3: DO "<0.5" -> 0.25: anoxic, 劣V; empty cells are not measured (not stored).
    assert w3["measured"] == {"NH3-N": 0.4, "TP": 0.025, "DO": 0.25}
    assert w3["class"] == 6


def test_header_variants_xlsx_and_times(placed: Session) -> None:
    book = xlsx_of(
        ["section code", "sampled at", "NH3N", "Total phosphorus (mg/L)", "pH值"],
        ["W1", datetime(2026, 11, 8, 9, 30), 0.3, 0.05, 7],
        ["W2", "2026-11-08T09:30+00:00", 0.3, 0.05, 7],
    )
    report = readings(placed, book)
    assert report.stored == 2, report.results
    w1, w2 = stored(placed)
    assert w1["sampled_at"] == datetime(2026, 11, 8, 1, 30, tzinfo=UTC)  # China time
    assert w2["sampled_at"] == datetime(2026, 11, 8, 9, 30, tzinfo=UTC)
    assert w1["measured"] == {"NH3-N": 0.3, "TP": 0.05, "pH": 7.0}
    gb = csv_of("断面编码,采样日期,氨氮,总磷（mg/L）", "W3,2026/11/9,0.2,0.03", encoding="gb18030")
    assert readings(placed, gb).stored == 1
    with pytest.raises(ImportFileError) as refused:
        readings(placed, csv_of("断面编码,采样时间,总磷(μg/L)", "W1,2026-11-09,30"))
    assert "μg/L" in refused.value.detail


def test_bad_cells_are_named_and_their_rows_never_stored(placed: Session) -> None:
    data = csv_of(
        "断面编码,采样时间,溶解氧,氨氮,pH",
        "W1,2026-11-10,6.5,0.3,7",
        "W1,2026-11-11,high,0.3,7",
        "W2,2026-11-11,6.5,-0.1,7",
        "W3,2026-11-11,6.5,0.3,ND",
        "W9,2026-11-11,6.5,0.3,7",
        "W3,yesterday,6.5,0.3,7",
        "W3,2026-11-12,,,",
    )
    report = readings(placed, data)
    errors = {(e.row, e.field): e.message.key for r in report.results for e in r.errors}
    assert errors == {
        (3, "溶解氧"): "problem.water.not_value",
        (4, "氨氮"): "problem.water.negative",
        (5, "pH"): "problem.water.not_value",
        (6, "断面编码"): "problem.water.no_section",
        (7, "采样时间"): "problem.incidents.import_not_time_format",
        (8, "采样时间"): "problem.water.nothing_measured",
    }
    assert (report.stored, report.refused) == (1, 6)
    assert len(stored(placed)) == 1


def test_retry_stores_nothing_a_change_is_refused_unless_replace(
    placed: Session, caplog: pytest.LogCaptureFixture
) -> None:
    header = "断面编码,采样时间,溶解氧,氨氮"
    data = csv_of(header, "W1,2026-11-12 08:00,6.5,0.3", "W2,2026-11-12 08:00,6.5,0.3")
    first = readings(placed, data)
    assert first.stored == 2 and len(first.reading_ids) == 2
    again = readings(placed, data)
    assert (again.stored, again.unchanged, again.reading_ids) == (0, 2, [])
    changed = csv_of(header, "W1,2026-11-12 08:00,6.5,1.3", "W2,2026-11-12 08:00,6.5,0.3")
    dry = readings(placed, changed, dry_run=True, replace=True)
    assert [r.outcome for r in dry.results] == ["would_replace", "unchanged"]
    refused = readings(placed, changed)
    [error] = refused.results[0].errors
    assert (error.row, error.field, error.message.key) == (
        2, "采样时间", "problem.water.differs_from_stored",
    )  # fmt: skip
    assert error.message.fields["changed"] == "NH3-N"
    assert stored(placed)[0]["measured"] == {"DO": 6.5, "NH3-N": 0.3}
    with caplog.at_level(logging.INFO, logger="geo_patrol.water.readings"):
        replaced = readings(placed, changed, replace=True)
    assert replaced.results[0].outcome == "replaced"
    w1 = stored(placed)[0]
    assert replaced.reading_ids == [w1["id"]] == [first.reading_ids[0]]
    assert (w1["measured"], w1["class"]) == ({"DO": 6.5, "NH3-N": 1.3}, 4)
    assert any("replaced" in line for line in caplog.messages)
    assert len(stored(placed)) == 2
    twice = csv_of(header, "W3,2026-11-13,7,0.2", "W3,2026-11-13,7,0.2", "W3,2026-11-13,7,0.9")
    inside = readings(placed, twice)
    assert [r.outcome for r in inside.results] == ["stored", "unchanged", "refused"]
    assert inside.results[2].errors[0].message.key == "problem.water.same_time"


def test_a_dry_run_stores_nothing(placed: Session) -> None:
    data = csv_of("断面编码,采样时间,氨氮", "W1,2026-11-14,0.3")
    report = readings(placed, data, dry_run=True)
    assert [r.outcome for r in report.results] == ["would_store"]
    assert report.results[0].water_class == 2 and report.reading_ids == []
    assert stored(placed) == []
