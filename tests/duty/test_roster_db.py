"""A roster stored on the demo region: chiefs found by phone or added, stretches cut to
segments (two points checked against shapely's nearest segment), joint pairs formed; a file
with bad rows stores nothing and names each; the same file again changes nothing."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
import shapely
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_patrol.access.principal import Principal, command_line_principal, load_member
from geo_patrol.access.scope import Scope, scope_of
from geo_patrol.demo.load import DEMO_DATA
from geo_patrol.duty.roster import import_roster
from geo_patrol.duty.roster_file import RosterRejected
from tests.support import oracle
from tests.support.principals import member_id

ADMIN = Scope(everything=True)
DOCS = Path(__file__).resolve().parents[2] / "docs" / "supervisors"
HEADER = "姓名,手机,级别,河道,河段,行政区,起始日期,截止日期,联合河长"


def csv_of(*rows: str, header: str = HEADER) -> bytes:
    """A roster as Excel on Chinese Windows saves it (GB18030)."""
    return "\r\n".join([header, *rows, ""]).encode("gb18030")


def between_points() -> tuple[tuple[float, float], tuple[float, float]]:
    """Two points about 80 m off the border river (6 km), an eighth and three quarters along."""
    river = oracle_river()
    points = []
    for fraction in (0.12, 0.77):
        at = river.interpolate(fraction, normalized=True)
        ahead = river.interpolate(fraction + 0.01, normalized=True)
        azimuth, _, _ = oracle.GEOD.inv(at.x, at.y, ahead.x, ahead.y)
        lon, lat, _ = oracle.GEOD.fwd(at.x, at.y, azimuth + 90, 80)
        points.append((round(float(lon), 6), round(float(lat), 6)))
    return points[0], points[1]


def oracle_river() -> shapely.LineString:
    """The border river's line, from the demo's file."""
    data = json.loads((DEMO_DATA / "rivers.geojson").read_text(encoding="utf-8"))
    feature = next(f for f in data["features"] if f["properties"]["code"] == oracle.BORDER_RIVER)
    line: shapely.LineString = shapely.geometry.shape(feature["geometry"])
    return line


def expected_segments(session: Session, points: tuple[tuple[float, float], ...]) -> list[int]:
    """Segment ids from the one nearest the first point to the one nearest the second, by
    shapely in metres around each point (not by the database)."""
    rows = session.execute(
        text(
            "SELECT s.id, s.seq, ST_AsText(s.geom) AS wkt FROM river_segments s "
            "JOIN rivers r ON r.id = s.river_id WHERE r.code = :code ORDER BY s.seq"
        ),
        {"code": oracle.BORDER_RIVER},
    ).all()
    seqs = []
    for lon, lat in points:
        frame = oracle.local_metres(lon, lat)
        distances = [
            oracle.to_metres(shapely.from_wkt(row.wkt), frame).distance(shapely.Point(0, 0))
            for row in rows
        ]
        nearest = min(range(len(rows)), key=lambda i: (distances[i], rows[i].seq))
        assert distances[nearest] < 200
        seqs.append(rows[nearest].seq)
    low, high = min(seqs), max(seqs)
    return [row.id for row in rows if low <= row.seq <= high]


def stored(session: Session) -> tuple[int, int, int]:
    """Counts of appointments, members and joint appointments."""
    row = session.execute(
        text(
            "SELECT (SELECT count(*) FROM chief_appointments), (SELECT count(*) FROM members),"
            " (SELECT count(*) FROM joint_appointments)"
        )
    ).one()
    return int(row[0]), int(row[1]), int(row[2])


def good_roster() -> bytes:
    """Three chiefs: a new village chief of the whole river (by name) and a new town chief
    of segments 2-4 on the other side (side by name), paired; the demo's Wujiang supervisor
    as county chief between two points (phone written with spaces and +86)."""
    (lon1, lat1), (lon2, lat2) = between_points()
    return csv_of(
        "沈村长,13700000001,村级,小天圩河（演示）,,320509100202,2026-01-01,,小天圩河联合河长",
        "钱镇长,13700000002,镇级,R-320509-330411-01,2-4,王江泾镇,2026/1/1,,小天圩河联合河长",
        f'王建华,+86 138 0000 0011,县级,R-320509-330411-01,"{lon1},{lat1};{lon2},{lat2}",'
        "320509,2026年1月1日,2026-12-31,",
    )


def appointments(session: Session) -> dict[str, dict[str, object]]:
    """Stored appointments by chief's name, with their segments."""
    rows = session.execute(
        text(
            "SELECT m.name, m.home_jurisdiction_code AS home, a.level, a.jurisdiction_code, "
            "a.valid_from, a.valid_to, a.joint_id, a.stretch_kind, a.source, "
            "ARRAY(SELECT segment_id FROM chief_stretches WHERE appointment_id = a.id "
            "ORDER BY segment_id) AS segments "
            "FROM chief_appointments a JOIN members m ON m.id = a.member_id"
        )
    )
    return {row.name: dict(row._mapping) for row in rows}


def test_a_good_roster_is_stored_with_its_stretches_and_joint_pair(demo_session: Session) -> None:
    before = stored(demo_session)
    report = import_roster(
        demo_session, data=good_roster(), scope=ADMIN, by=command_line_principal(), source="r.csv"
    )
    assert (report.created, report.unchanged, report.members_created) == (3, 0, 2)
    assert (report.joints_created, report.rows) == (1, 3)
    assert stored(demo_session) == (before[0] + 3, before[1] + 2, before[2] + 1)
    made = appointments(demo_session)
    village, town, county = made["沈村长"], made["钱镇长"], made["王建华"]
    assert (village["level"], village["jurisdiction_code"], village["home"]) == (
        "village",
        "320509100202",
        "320509100202",
    )
    assert (town["jurisdiction_code"], town["home"], town["stretch_kind"]) == (
        "330411100",
        "330411100",
        "segments",
    )
    assert county["home"] == "320509"  # the existing member, matched by phone
    assert (county["valid_from"], county["valid_to"]) == (date(2026, 1, 1), date(2026, 12, 31))
    assert village["joint_id"] == town["joint_id"] is not None and county["joint_id"] is None
    assert village["source"] == "r.csv"
    river_segments = demo_session.execute(
        text(
            "SELECT s.id, s.seq FROM river_segments s JOIN rivers r ON r.id = s.river_id "
            "WHERE r.code = :c ORDER BY s.id"
        ),
        {"c": oracle.BORDER_RIVER},
    ).all()
    assert village["segments"] == [row.id for row in river_segments]
    assert town["segments"] == [row.id for row in river_segments if row.seq in (2, 3, 4)]
    expected = expected_segments(demo_session, between_points())
    assert 3 < len(expected) < len(river_segments)
    assert county["segments"] == sorted(expected)
    zone = demo_session.execute(
        text("SELECT zone_id FROM joint_appointments WHERE id = :j"), {"j": village["joint_id"]}
    ).scalar()
    assert (
        zone
        == demo_session.execute(
            text("SELECT id FROM cooperation_zones WHERE code = 'ZONE-SZ-WJJ'")
        ).scalar_one()
    )


def test_the_same_roster_again_changes_nothing(demo_session: Session) -> None:
    import_roster(demo_session, data=good_roster(), scope=ADMIN, by=command_line_principal())
    before = stored(demo_session)
    again = import_roster(
        demo_session, data=good_roster(), scope=ADMIN, by=command_line_principal()
    )
    assert (again.created, again.unchanged, again.members_created) == (0, 3, 0)
    assert (again.joints_created, again.joints_unchanged) == (0, 1)
    assert [outcome.outcome for outcome in again.outcomes] == ["unchanged"] * 3
    assert stored(demo_session) == before


def test_a_later_roster_ends_an_appointment_on_its_last_day(demo_session: Session) -> None:
    import_roster(demo_session, data=good_roster(), scope=ADMIN, by=command_line_principal())
    ending = (
        good_roster()
        .decode("gb18030")
        .replace(",,小天圩河联合河长\r\n钱", ",2026-06-30,小天圩河联合河长\r\n钱")
    )
    report = import_roster(
        demo_session, data=ending.encode("utf-8-sig"), scope=ADMIN, by=command_line_principal()
    )
    assert (report.created, report.unchanged, report.ended) == (0, 2, 1)
    assert appointments(demo_session)["沈村长"]["valid_to"] == date(2026, 6, 30)


def test_a_dry_run_says_what_would_be_stored_and_stores_nothing(demo_session: Session) -> None:
    before = stored(demo_session)
    report = import_roster(
        demo_session, data=good_roster(), scope=ADMIN, by=command_line_principal(), dry_run=True
    )
    assert (report.created, report.members_created, report.joints_created) == (3, 2, 1)
    assert all(outcome.appointment_id is None for outcome in report.outcomes)
    assert stored(demo_session) == before


def _principal(session: Session, login: str) -> tuple[Principal, Scope]:
    """A demo login's principal and scope."""
    principal = load_member(session, member_id=member_id(session, login), via="token")
    assert principal is not None
    return principal, scope_of(session, principal)


def test_a_file_with_bad_rows_stores_nothing_and_names_every_row(demo_session: Session) -> None:
    """Wujiang's supervisor: good rows, then one fault per row, found in the file (level,
    date) and in the database (river, side, stretch, other side, name of a known phone)."""
    principal, scope = _principal(demo_session, "wujiang.sup")
    (lon1, lat1), _ = between_points()
    data = csv_of(
        "沈村长,13700000001,村级,小天圩河（演示）,,320509100202,2026-01-01,,",
        "韩村长,13700000003,省级,小天圩河（演示）,,320509100202,2026-01-01,,",
        "韩村长2,13700000004,村级,没有这条河,,320509100202,2026-01-01,,",
        "韩村长3,13700000005,村级,小天圩河（演示）,,没有这个村,2026-01-01,,",
        "韩村长4,13700000006,村级,小天圩河（演示）,998-999,320509100202,2026-01-01,,",
        "韩村长5,13700000007,村级,小天圩河（演示）,,330411100202,2026-01-01,,",
        "王建华2,13800000011,村级,小天圩河（演示）,,320509100202,2026-01-01,,",
        f'韩村长6,13700000008,村级,小天圩河（演示）,"{lon1},{lat1};121.5,31.5",'
        "320509100202,2026-01-01,,",
        "韩村长7,13700000009,村级,小天圩河（演示）,,320509100202,2026-02-30,,",
        "钱镇长,13700000002,镇级,小天圩河（演示）,2-4,320509100,2026-01-01,,孤单",
    )
    before = stored(demo_session)
    with pytest.raises(RosterRejected) as refused:
        import_roster(demo_session, data=data, scope=scope, by=principal)
    assert stored(demo_session) == before
    found = [(error["row"], error["field"]) for error in refused.value.extra["errors"]]
    assert found == [
        (3, "级别"),
        (4, "河道"),
        (5, "行政区"),
        (6, "河段"),
        (7, "行政区"),
        (8, "姓名"),
        (9, "河段"),
        (10, "起始日期"),
        (11, "联合河长"),
    ]
    assert refused.value.status == 422
    assert "330411100202" in refused.value.errors[4].detail


def test_english_headers_and_a_title_row(demo_session: Session) -> None:
    header = "No.,Name,Phone,Level,River,Stretch,Side,From,To,Remark"
    data = (
        "2026 river chiefs,,,,,,,,,\n"
        + header
        + "\n1,Shen,13700000011,village,R-320509-01,0,320509100201,2026-03-01,,note\n"
    )
    report = import_roster(
        demo_session, data=data.encode(), scope=ADMIN, by=command_line_principal()
    )
    assert (report.created, report.outcomes[0].row) == (1, 3)


def test_the_example_of_the_user_docs_imports(demo_session: Session) -> None:
    """The roster shown in docs/supervisors/chiefs.md (and its Chinese page) is a good one."""
    for page in ("chiefs.md", "chiefs.zh.md"):
        markdown = (DOCS / page).read_text(encoding="utf-8")
        example = markdown.split("```text\n", 1)[1].split("```", 1)[0]
        report = import_roster(
            demo_session,
            data=example.encode("gb18030"),
            scope=ADMIN,
            by=command_line_principal(),
            dry_run=True,
        )
        assert (report.created, report.joints_created, report.members_created) == (3, 1, 2)
