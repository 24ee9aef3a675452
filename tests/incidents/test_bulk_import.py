"""The incident import on the demo region: each row routed as a single report at its point
would be (checked row by row against the single-report path), datums converted (checked by
the inverse conversion), places found by village and town, every refusal named, dry runs
and refused files store nothing, skip_errors stores the rest, the same file twice nothing."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import openpyxl
import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_patrol.access.principal import command_line_principal, load_member
from geo_patrol.access.scope import Scope, scope_of
from geo_patrol.core.coords import wgs84_to_bd09, wgs84_to_gcj02
from geo_patrol.core.settings import Settings
from geo_patrol.core.vocabulary import Datum
from geo_patrol.incidents.bulk_import import (
    ImportOptions,
    ImportRejected,
    ImportReport,
    import_incidents,
)
from geo_patrol.incidents.reports import IncidentReport, create_incident
from geo_patrol.incidents.routing import route_point, route_points
from tests.support import oracle
from tests.support.principals import member_id

ADMIN = Scope(everything=True)
SETTINGS = Settings()
HOTLINE = "工单编号,来源,受理时间,经度,纬度,坐标系,诉求类型,诉求内容,来电号码"
WHEN = "2026-11-03 09:15"


def csv_of(*rows: str, header: str = HOTLINE, encoding: str = "utf-8-sig") -> bytes:
    """An export as Excel saves it."""
    return "\r\n".join([header, *rows, ""]).encode(encoding)


def xlsx_of(header: list[str], *rows: list[object]) -> bytes:
    """An export as a workbook (openpyxl writes it)."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def run(session: Session, data: bytes, **options: Any) -> ImportReport:
    """An import by the command line (an administrator)."""
    return import_incidents(
        session,
        data=data,
        options=ImportOptions(**options),
        scope=ADMIN,
        principal=command_line_principal(),
        settings=SETTINGS,
    )


def count(session: Session) -> int:
    """Incidents stored."""
    return int(session.execute(text("SELECT count(*) FROM incidents")).scalar_one())


def spread_points() -> list[tuple[float, float]]:
    """Points over the demo region: a grid, both sides of the county border at 50-400 m
    (border-zone joint cases), and one outside every jurisdiction."""
    lons, lats = np.meshgrid(np.linspace(120.56, 120.76, 6), np.linspace(30.78, 30.98, 5))
    points = list(zip(lons.ravel().tolist(), lats.ravel().tolist(), strict=True))
    along, offset = np.array([0, 0, 300, 300, -300]), np.array([-50, 50, -150, 150, 400])
    b_lons, b_lats = oracle.across_border(along, offset)
    points += list(zip(b_lons.tolist(), b_lats.tolist(), strict=True))
    points += [oracle.point_off_border_river(d, s) for d in (30, 90) for s in ("320509", "330411")]
    return [*points, (121.5, 31.5)]


def test_route_points_equals_route_point(demo_session: Session) -> None:
    points = spread_points()
    now = datetime.now(UTC)
    ats = [now - timedelta(days=n % 40) for n in range(len(points))]
    batch = route_points(
        demo_session, lons=[p[0] for p in points], lats=[p[1] for p in points], ats=ats
    )
    single = [
        route_point(demo_session, lon=lon, lat=lat, at=at)
        for (lon, lat), at in zip(points, ats, strict=True)
    ]
    assert batch == single
    assert any(r.joint for r in single) and any(r.unrouted for r in single)
    assert any(not r.joint and not r.unrouted for r in single)


def responsibles(session: Session, incident_id: int) -> list[tuple[object, ...]]:
    """An incident's routing as stored."""
    row = session.execute(
        text(
            "SELECT lead_code, is_joint, zone_id, unrouted, segment_id, tier, deadline_at "
            "- reported_at AS span, ST_X(geom) AS lon, ST_Y(geom) AS lat FROM incidents "
            "WHERE id = :id"
        ),
        {"id": incident_id},
    ).one()
    sides = session.execute(
        text(
            "SELECT code, level, role, direct FROM incident_responsibles "
            "WHERE incident_id = :id ORDER BY code"
        ),
        {"id": incident_id},
    ).all()
    return [tuple(row), *[tuple(side) for side in sides]]


def test_each_row_routed_as_a_single_report(demo_session: Session) -> None:
    points = spread_points()
    rows = [
        f"T{n},12345,{WHEN},{lon:.7f},{lat:.7f},wgs84,偷排,河边排污,13800000000"
        for n, (lon, lat) in enumerate(points)
    ]
    report = run(demo_session, csv_of(*rows))
    assert report.stored == len(points) and report.refused == 0
    for result, (lon, lat) in zip(report.results, points, strict=True):
        single, created = create_incident(
            demo_session,
            report=IncidentReport(
                category="illegal_discharge",
                severity="medium",
                lon=float(f"{lon:.7f}"),
                lat=float(f"{lat:.7f}"),
                reported_at=datetime(2026, 11, 3, 1, 15, tzinfo=UTC),
            ),
            principal=None,
            settings=SETTINGS,
        )
        assert created
        assert result.incident_id is not None
        assert responsibles(demo_session, result.incident_id) == responsibles(demo_session, single)
    stored = demo_session.execute(
        text("SELECT source, external_source, reporter_contact FROM incidents WHERE id = :id"),
        {"id": report.results[0].incident_id},
    ).one()
    assert tuple(stored) == ("import", "12345", "13800000000")


@pytest.mark.parametrize("datum", [Datum.GCJ02, Datum.BD09, Datum.CGCS2000])
def test_datum_converted(demo_session: Session, datum: Datum) -> None:
    lon, lat = 120.6512345, 30.9012345
    convert = {Datum.GCJ02: wgs84_to_gcj02, Datum.BD09: wgs84_to_bd09}.get(datum)
    shown = convert(lon, lat) if convert else (lon, lat)
    rows = [f"D1,12345,{WHEN},{float(shown[0]):.9f},{float(shown[1]):.9f},,偷排,,"]
    report = run(demo_session, csv_of(*rows), datum=datum)
    result = report.results[0]
    # 1e-7 degrees: about 1 cm (the file's nine decimals and the inverse's iteration).
    assert result.lon is not None and result.lat is not None
    assert abs(result.lon - lon) < 1e-7 and abs(result.lat - lat) < 1e-7
    geod = oracle.GEOD.inv(lon, lat, result.lon, result.lat)[2]
    assert geod < 0.02


def test_places_by_village_and_town_gb18030(demo_session: Session) -> None:
    header = "事件编号,来源,上报时间,事发地址,村,镇,类型,事件描述"
    data = csv_of(
        "V1,河长制平台,2026年11月3日 9时15分,盛泽镇黄家溪村东侧河道,,,漂浮物,垃圾",
        "V2,河长制平台,2026/11/3 9:15,,龙北村,盛泽镇,黑臭水体,发臭",
        "V3,河长制平台,2026-11-03T01:15:00Z,王江泾镇某路口,,,电鱼,有人电鱼",
        header=header,
        encoding="gb18030",
    )
    report = run(demo_session, data, dry_run=True)
    by_row = {r.row: r for r in report.results}
    village = demo_session.execute(
        text("SELECT ST_X(geom), ST_Y(geom) FROM villages WHERE name = '黄家溪村'")
    ).one()
    assert (by_row[2].lon, by_row[2].lat) == (village[0], village[1])
    assert by_row[2].placed_by == "village point" and by_row[2].jurisdiction
    assert by_row[3].placed_by == "village point" and by_row[3].place_name == "龙北村"
    assert by_row[4].placed_by == "town area" and by_row[4].place_name == "王江泾镇"
    assert str(by_row[4].jurisdiction).startswith("330411100")
    assert {r.outcome for r in report.results} == {"would_store"}
    assert count(demo_session) == 0 or report.stored == 0


def test_every_refusal_named_and_nothing_stored(demo_session: Session) -> None:
    before = count(demo_session)
    rows = [
        f"G1,12345,{WHEN},120.65,30.90,wgs84,偷排,好,",  # good: row 2
        f",12345,{WHEN},120.65,30.90,wgs84,偷排,,",  # 3 no external id
        "G3,12345,yesterday,120.65,30.90,wgs84,偷排,,",  # 4 bad time
        f"G4,12345,{WHEN},,,wgs84,偷排,,",  # 5 no place
        f"G5,12345,{WHEN},120.65,95,wgs84,偷排,,",  # 6 latitude
        f"G6,12345,{WHEN},120.65,30.90,mars,偷排,,",  # 7 datum
        f"G7,12345,{WHEN},120.65,30.90,wgs84,噪音扰民,,",  # 8 unmapped category
        f"G1,12345,{WHEN},120.65,30.90,wgs84,偷排,,",  # 9 the same id as row 2
        f"G9,12345,{WHEN},120.65,,wgs84,偷排,,",  # 10 lon without lat
        "G10,12345,2099-01-01 00:00,120.65,30.90,wgs84,偷排,,",  # 11 future
    ]
    with pytest.raises(ImportRejected) as caught:
        run(demo_session, csv_of(*rows))
    # Each detail is a catalog message (rendered per reader); str() is its English.
    errors = {e["row"]: {**e, "detail": str(e["detail"])} for e in caught.value.extra["errors"]}
    assert set(errors) == set(range(3, 12))
    assert errors[9]["code"] == "incidents.import_same_id"
    assert errors[3]["field"] == "工单编号"
    assert errors[4]["field"] == "受理时间"
    assert errors[5]["detail"].startswith("no place")
    assert errors[6]["field"] == "纬度"
    assert errors[7]["field"] == "坐标系"
    assert errors[8]["field"] == "诉求类型" and "噪音扰民" in errors[8]["detail"]
    assert "illegal_discharge" in errors[8]["detail"]
    assert "row 2" in errors[9]["detail"]
    assert errors[10]["field"] == "纬度"
    assert "future" in errors[11]["detail"]
    assert count(demo_session) == before
    dry = run(demo_session, csv_of(*rows), dry_run=True)
    assert (dry.would_store, dry.refused, dry.stored) == (1, 9, 0)
    assert [r.row for r in dry.results] == list(range(2, 12)) and dry.rows == 10
    assert count(demo_session) == before
    kept = run(demo_session, csv_of(*rows), skip_errors=True)
    assert (kept.stored, kept.refused) == (1, 9)
    assert count(demo_session) == before + 1


def test_mapping_table_and_unknown_village(demo_session: Session) -> None:
    rows = [f"M1,12345,{WHEN},120.65,30.90,,噪音扰民,,", f"M2,12345,{WHEN},,,,偷排,,"]
    header = "工单编号,来源,受理时间,经度,纬度,坐标系,诉求类型,地址,来电号码"
    rows[1] = f"M2,12345,{WHEN},,,,偷排,火星村,"
    report = run(
        demo_session,
        csv_of(*rows, header=header),
        categories="噪音扰民,illegal_discharge",
        dry_run=True,
    )
    by_row = {r.row: r for r in report.results}
    assert by_row[2].category == "illegal_discharge"
    assert by_row[3].outcome == "refused" and by_row[3].errors[0]["field"] == "地址"


def test_same_file_twice_stores_nothing_new_xlsx(demo_session: Session) -> None:
    header = ["外部编号", "来源", "时间", "经度", "纬度", "类别", "描述", "电话"]
    moment = datetime(2026, 11, 3, 9, 15)
    rows = [
        [f"X{n}", "河长制平台", moment, 120.6 + n / 100, 30.9, "偷排", "描述", "13900000000"]
        for n in range(4)
    ]
    data = xlsx_of(header, *rows)
    first = run(demo_session, data)
    assert first.stored == 4
    stored_at = demo_session.execute(
        text("SELECT reported_at FROM incidents WHERE external_id = 'X0'")
    ).scalar_one()
    assert stored_at == datetime(2026, 11, 3, 1, 15, tzinfo=UTC)  # China time, stored UTC
    before = count(demo_session)
    again = run(demo_session, data)
    assert (again.stored, again.already_imported) == (0, 4)
    assert {r.incident_id for r in again.results} == {r.incident_id for r in first.results}
    assert count(demo_session) == before


def test_formula_cell_refused(demo_session: Session) -> None:
    header = ["外部编号", "来源", "时间", "经度", "纬度", "类别"]
    data = xlsx_of(header, ["F1", "12345", WHEN, "=120+0.6", 30.9, "偷排"])
    report = run(demo_session, data, dry_run=True)
    assert report.results[0].errors[0]["field"] == "经度"
    assert "formula" in str(report.results[0].errors[0]["detail"])


def test_supervisor_imports_only_own_side(demo_session: Session) -> None:
    rows = [
        f"S1,12345,{WHEN},120.60,30.90,,偷排,,",  # Shengze (320509)
        f"S2,12345,{WHEN},120.72,30.85,,偷排,,",  # Wangjiangjing (330411)
    ]
    principal = load_member(
        demo_session, member_id=member_id(demo_session, "wujiang.sup"), via="token"
    )
    assert principal is not None
    report = import_incidents(
        demo_session,
        data=csv_of(*rows),
        options=ImportOptions(dry_run=True),
        scope=scope_of(demo_session, principal),
        principal=principal,
        settings=SETTINGS,
    )
    assert [r.row for r in report.results] == [2, 3]  # each row once
    by_row = {r.row: r for r in report.results}
    assert by_row[2].outcome == "would_store" and str(by_row[2].jurisdiction).startswith("320509")
    assert by_row[3].outcome == "refused" and "may not report" in str(by_row[3].errors[0]["detail"])


def test_duplicates_linked_in_file_order_as_single_reports(demo_session: Session) -> None:
    """Three hotline calls about one outfall (10 m apart) and one elsewhere: the second and
    third are linked to the first, as reports arriving one at a time would be."""
    lon, lat = 120.6412, 30.9011
    east, _, _ = oracle.GEOD.fwd(lon, lat, 90, 10)
    rows = [
        f"U1,12345,{WHEN},{lon},{lat},,偷排,,",
        f"U2,12345,{WHEN},{east:.7f},{lat},,偷排,,",
        f"U3,12345,{WHEN},{lon},{lat},,偷排,,",
        f"U4,12345,{WHEN},120.70,30.85,,偷排,,",
    ]
    report = run(demo_session, csv_of(*rows))
    ids = [int(r.incident_id or 0) for r in report.results]
    links: dict[int, int | None] = dict(
        demo_session.execute(
            text("SELECT id, duplicate_of FROM incidents WHERE id = ANY(:ids)"), {"ids": ids}
        ).all()
    )
    assert [links[i] for i in ids] == [None, ids[0], ids[0], None]
    events = demo_session.execute(
        text("SELECT count(*) FROM incident_events WHERE incident_id = ANY(:ids)"), {"ids": ids}
    ).scalar_one()
    assert events == 4 + 2  # created each, linked twice
