"""The demo's river chiefs and their quarter of patrols, assessed: the outcomes the plan of
geo_patrol/demo/quarter.py promises (written out here by hand, never read from the plan),
for the periods that are always over (last week, the last 旬, last month) and the current
ones, the too_fast patrol that does not count, the joint pair credited once, the
replacement mid-quarter, each caller's view, and a second run that adds nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyproj
import pytest
import shapely
from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

from geo_patrol.access.principal import load_member
from geo_patrol.access.scope import Scope, scope_of
from geo_patrol.core.settings import Settings
from geo_patrol.core.vocabulary import CandidateReason, DutyPeriod, DutyStatus
from geo_patrol.demo.chiefs import change_day
from geo_patrol.demo.load import load_demo
from geo_patrol.demo.quarter import simulate_quarter
from geo_patrol.demo.simulate import river_line, simulate_week
from geo_patrol.duty.assessment import ChiefDuty, assess_chiefs, assess_joint
from geo_patrol.duty.periods import Period, local_date, period_of
from tests.support.duty_checks import agree_on_everything
from tests.support.duty_oracle import KINDS, SHANGHAI, windows_over
from tests.support.principals import member_id

EVERYTHING = Scope(everything=True)
MET, MISSED, IN_PROGRESS = DutyStatus.MET, DutyStatus.MISSED, DutyStatus.IN_PROGRESS
XTW, LANXI, TAIPU, XINCHENG = (
    "R-320509-330411-01",
    "R-320509-330411-02",
    "R-320509-01",
    "R-330411-01",
)
GEOD = pyproj.Geod(ellps="WGS84")


@pytest.fixture(scope="module")
def simulated(demo_connection: Connection, tmp_path_factory: pytest.TempPathFactory) -> None:
    """The quarter and the week simulated on the module's demo data, as `geo-patrol demo`
    does (the quarter first)."""
    settings = Settings(data_dir=tmp_path_factory.mktemp("demo-duty"))
    with Session(bind=demo_connection, join_transaction_mode="create_savepoint") as setup:
        simulate_quarter(setup, settings=settings)
        simulate_week(setup, settings=settings)
        setup.commit()


pytestmark = pytest.mark.usefixtures("simulated")


def last(kind: DutyPeriod) -> Period:
    """The last finished period of a kind."""
    return period_of(kind, local_date(datetime.now(UTC))).previous()


def current(kind: DutyPeriod) -> Period:
    """The period of a kind that holds today."""
    return period_of(kind, local_date(datetime.now(UTC)))


def duties(session: Session, period: Period, scope: Scope = EVERYTHING) -> list[ChiefDuty]:
    """Every chief's duty in a period, as an administrator sees it."""
    return assess_chiefs(session, scope=scope, member_id=None, periods=[period])


def by_chief(rows: list[ChiefDuty]) -> dict[tuple[str, str], ChiefDuty]:
    """Duties by (chief's name, river code)."""
    return {(row.member_name, row.river_code): row for row in rows}


def test_the_roster_appoints_three_levels_on_both_sides_with_history(demo_session: Session) -> None:
    rows = demo_session.execute(
        text(
            "SELECT m.name, a.level, a.jurisdiction_code, r.code, a.valid_to IS NULL AS open, "
            "a.joint_id IS NOT NULL AS joint FROM chief_appointments a "
            "JOIN members m ON m.id = a.member_id JOIN rivers r ON r.id = a.river_id"
        )
    ).all()
    assert sorted(tuple(row) for row in rows) == sorted(
        [
            ("钱建明", "county", "320509", XTW, True, False),
            ("钱建明", "county", "320509", LANXI, True, False),
            ("蒋文华", "county", "320509", TAIPU, True, False),
            ("褚国平", "county", "330411", XTW, True, False),
            ("姚志刚", "county", "330411", XINCHENG, True, False),
            ("沈建平", "town", "320509100", XTW, True, True),
            ("陈海林", "town", "320509100", LANXI, True, False),
            ("朱卫东", "town", "330411100", XTW, False, False),
            ("金秀兰", "town", "330411100", XTW, True, True),
            ("吴永明", "village", "320509100203", XTW, True, False),
            ("周福根", "village", "320509100206", LANXI, True, False),
            ("陆晓燕", "village", "330411100202", XTW, True, False),
            ("顾秀英", "village", "330411100203", LANXI, False, False),
            ("杨丽萍", "village", "330411100203", LANXI, True, False),
        ]
    )
    # The replacement: the old appointment ends the day before the new one, a Thursday.
    old, new = demo_session.execute(
        text(
            "SELECT a.id, a.valid_to, a.replaces_id, a.valid_from FROM chief_appointments a "
            "JOIN members m ON m.id = a.member_id WHERE m.name IN ('顾秀英', '杨丽萍') "
            "ORDER BY a.valid_from"
        )
    ).all()
    day = change_day(local_date(datetime.now(UTC)))
    assert new.replaces_id == old.id and new.valid_from == day and day.isoweekday() == 4
    assert old.valid_to == day - timedelta(days=1)


def test_a_stretch_between_two_points_is_the_segments_they_fall_on(demo_session: Session) -> None:
    """周福根's stretch is given by two points at 55 % and 95 % of 澜溪塘, cut into six
    segments of about equal length: the fourth to the sixth (seqs 3 to 5)."""
    line = river_line(LANXI)
    ends = [(120.67743, 30.88393), (120.66941, 30.90047)]
    fractions = [line.project(shapely.Point(p), normalized=True) for p in ends]
    expected = list(range(int(min(fractions) * 6), int(max(fractions) * 6) + 1))
    seqs = demo_session.execute(
        text(
            "SELECT s.seq FROM chief_stretches cs JOIN river_segments s ON s.id = cs.segment_id "
            "JOIN chief_appointments a ON a.id = cs.appointment_id "
            "JOIN members m ON m.id = a.member_id WHERE m.name = '周福根' ORDER BY s.seq"
        )
    ).scalars()
    assert expected == [3, 4, 5] == list(seqs)


def test_the_last_week_dekad_and_month_went_as_planned(demo_session: Session) -> None:
    planned = {
        DutyPeriod.WEEK: {
            ("吴永明", XTW): MET,
            ("陆晓燕", XTW): MISSED,
            ("周福根", LANXI): MISSED,
            ("杨丽萍", LANXI): MET,
        },
        DutyPeriod.DEKAD: {
            ("沈建平", XTW): MET,
            ("金秀兰", XTW): MISSED,
            ("陈海林", LANXI): MISSED,
        },
        DutyPeriod.MONTH: {
            ("钱建明", XTW): MET,
            ("钱建明", LANXI): MISSED,
            ("蒋文华", TAIPU): MET,
            ("褚国平", XTW): MISSED,
            ("姚志刚", XINCHENG): MET,
        },
    }
    for kind, statuses in planned.items():
        found = by_chief(duties(demo_session, last(kind)))
        assert {key: row.status for key, row in found.items()} == statuses, kind
        assert all(row.required == 1 for row in found.values())
        assert all((row.done >= 1) == (row.status is MET) for row in found.values())


def test_the_current_periods_are_met_or_in_progress_never_missed(demo_session: Session) -> None:
    for kind in (DutyPeriod.WEEK, DutyPeriod.DEKAD, DutyPeriod.MONTH):
        found = by_chief(duties(demo_session, current(kind)))
        assert found and {row.status for row in found.values()} <= {MET, IN_PROGRESS}
    # Those who skip the current period have not done it (yet).
    assert by_chief(duties(demo_session, current(DutyPeriod.DEKAD)))[("陈海林", LANXI)].done == 0
    assert by_chief(duties(demo_session, current(DutyPeriod.MONTH)))[("钱建明", LANXI)].done == 0


def test_the_chief_who_only_drove_missed_his_week_disqualified(demo_session: Session) -> None:
    week = by_chief(duties(demo_session, last(DutyPeriod.WEEK)))[("周福根", LANXI)]
    assert (week.required, week.done, week.status) == (1, 0, MISSED)
    (candidate,) = week.candidates
    assert candidate.reason is CandidateReason.DISQUALIFIED
    assert candidate.disqualified_by == ["too_fast"] and "too_fast" in candidate.flags
    assert candidate.share >= 0.3  # it covered enough: only its speed disqualifies it
    # Its speed on foot, from the stored fixes with pyproj: over the 3 m/s of a walk.
    fixes = demo_session.execute(
        text(
            "SELECT ST_X(geom) AS lon, ST_Y(geom) AS lat, time FROM patrol_points "
            "WHERE patrol_id = :p AND drop_reason IS NULL ORDER BY ord"
        ),
        {"p": candidate.patrol_id},
    ).all()
    metres = GEOD.line_length([f.lon for f in fixes], [f.lat for f in fixes])
    seconds = (fixes[-1].time - fixes[0].time).total_seconds()
    assert metres / seconds > 3.0


def test_the_joint_pair_is_credited_once_for_a_patrol_of_both_sides(demo_session: Session) -> None:
    (pair,) = assess_joint(
        demo_session, scope=EVERYTHING, member_id=None, periods=[last(DutyPeriod.MONTH)]
    )
    assert (pair.required, pair.done, pair.status) == (1, 1, MET)
    assert {chief["name"] for chief in pair.chiefs} == {"沈建平", "金秀兰"}
    (joint,) = [c for c in pair.candidates if c.counted]
    members = demo_session.execute(
        text(
            "SELECT m.name FROM patrol_members pm JOIN members m ON m.id = pm.member_id "
            "WHERE pm.patrol_id = :p"
        ),
        {"p": joint.patrol_id},
    ).scalars()
    assert set(members) == {"沈建平", "金秀兰"}
    # Each town chief is credited the same patrol in their own 旬.
    day = local_date(joint.started_at)
    dekad = by_chief(duties(demo_session, period_of(DutyPeriod.DEKAD, day)))
    for name in ("沈建平", "金秀兰"):
        counted = [c.patrol_id for c in dekad[(name, XTW)].candidates if c.counted]
        assert joint.patrol_id in counted
    # The joint team's patrol with 盛泽镇 alone does not count for the pair.
    joint_team = demo_session.execute(text("SELECT id FROM teams WHERE name = '联合巡河队一队'"))
    team = joint_team.scalar_one()
    alone = [c for c in pair.candidates if c.team_id == team and not c.counted]
    assert [c.reason for c in alone] == [CandidateReason.ONE_SIDE_ONLY]
    assert all(c.reason is CandidateReason.ONE_SIDE_ONLY for c in pair.candidates if not c.counted)


def test_the_replaced_chief_owes_nothing_in_the_week_of_the_change(demo_session: Session) -> None:
    """Replaced on a Thursday: the old chief was in force 3 of its 7 days (3/7 of a patrol
    rounds to none), the new one 4 (rounds to one); the handover walk on the Friday is
    outside the old chief's appointment."""
    week = period_of(DutyPeriod.WEEK, change_day(local_date(datetime.now(UTC))))
    found = by_chief(duties(demo_session, week))
    old = found[("顾秀英", LANXI)]
    new = found[("杨丽萍", LANXI)]
    assert (old.required, old.status) == (0, DutyStatus.NOT_DUE)
    assert [c.reason for c in old.candidates] == [
        CandidateReason.COUNTED,
        CandidateReason.OUTSIDE_APPOINTMENT,
    ]
    assert (new.required, new.status) == (1, MET) and new.done == 2


def test_each_caller_sees_their_own_chiefs(demo_session: Session) -> None:
    def scope(login: str) -> Scope:
        principal = load_member(demo_session, member_id=member_id(demo_session, login), via="token")
        assert principal is not None
        return scope_of(demo_session, principal)

    kinds = (DutyPeriod.WEEK, DutyPeriod.DEKAD, DutyPeriod.MONTH)
    wujiang = assess_chiefs(
        demo_session,
        scope=scope("wujiang.sup"),
        member_id=member_id(demo_session, "wujiang.sup"),
        periods=[last(kind) for kind in kinds],
    )
    names = {"钱建明", "蒋文华", "沈建平", "陈海林", "吴永明", "周福根"}
    assert {row.member_name for row in wujiang} == names
    assert {row.side_code[:6] for row in wujiang} == {"320509"}
    own = assess_chiefs(
        demo_session,
        scope=scope("sz.patrol"),
        member_id=member_id(demo_session, "sz.patrol"),
        periods=[last(DutyPeriod.WEEK), current(DutyPeriod.WEEK)],
    )
    assert {row.member_name for row in own} == {"吴永明"} and len(own) == 2
    pairs = assess_joint(
        demo_session, scope=scope("zone.coord"), member_id=None, periods=[last(DutyPeriod.MONTH)]
    )
    assert [pair.done for pair in pairs] == [1]


def test_the_demo_again_adds_nothing(demo_session: Session, tmp_path: Path) -> None:
    def counts() -> list[int]:
        return [
            demo_session.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
            for table in ("chief_appointments", "joint_appointments", "patrols", "patrol_points")
        ]

    before = counts()
    load_demo(demo_session)
    settings = Settings(data_dir=tmp_path)
    assert " 0 uploaded and 0 live positions new" in simulate_quarter(
        demo_session, settings=settings
    )
    simulate_week(demo_session, settings=settings)
    assert counts() == before


def test_everything_on_the_demo_agrees_with_the_oracle(demo_session: Session) -> None:
    """Every chief and joint pair of the demo over its simulated quarter and week, in every
    period of the last 100 days, assessed by the product and by the independent oracle of
    tests/support/duty_oracle.py, which reads every input back from the database."""
    now = datetime.now(UTC)
    today = now.astimezone(SHANGHAI).date()
    windows = [w for kind in KINDS for w in windows_over(kind, today - timedelta(days=100), today)]
    assert agree_on_everything(demo_session, windows=windows, now=now) > 30
