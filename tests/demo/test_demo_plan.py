"""The demo's quarter of chiefs' patrols as planned (no database): on awkward days (the
first minutes of a month, week and 旬, the last of February, New Year) no patrol lies in the
future or outside its period, the joint patrol never falls in the last 旬, and the diligent
chiefs have patrolled in the current period once a day of it has passed."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import cache

import pytest

from geo_patrol.core.local_time import LOCAL
from geo_patrol.core.vocabulary import DutyPeriod
from geo_patrol.demo.quarter import HABITS, MARGIN, Outing, plan_outings
from geo_patrol.duty.periods import local_date, period_of

MOMENTS = [
    datetime(2026, 6, 1, 0, 10, tzinfo=LOCAL),  # a Monday, the 1st: nothing of today yet
    datetime(2026, 6, 1, 23, 50, tzinfo=LOCAL),
    datetime(2026, 3, 11, 8, 0, tzinfo=LOCAL),  # the first morning of a mid 旬
    datetime(2026, 2, 28, 23, 59, tzinfo=LOCAL),  # the last minute of February
    datetime(2026, 12, 21, 10, 0, tzinfo=LOCAL),  # a Monday, the first day of a late 旬
    datetime(2027, 1, 1, 0, 1, tzinfo=LOCAL),  # New Year, a Friday
]


def always(phone: str, river: str, day: date) -> bool:
    """Every chief in force every day."""
    return True


@cache
def plan(now: datetime) -> dict[str, list[Outing]]:
    """The outings of each habit at `now` (made once per moment)."""
    return {h.key: list(plan_outings(h, now=now.astimezone(UTC), in_force=always)) for h in HABITS}


@pytest.mark.parametrize("now", MOMENTS, ids=lambda m: m.strftime("%Y-%m-%d %H:%M"))
def test_no_patrol_in_the_future_or_outside_its_period(now: datetime) -> None:
    for outings in plan(now).values():
        for outing in outings:
            ends = outing.start + timedelta(seconds=float(outing.seconds[-1]))
            assert ends <= now - MARGIN
            assert outing.period.first <= local_date(outing.start) <= outing.period.last


@pytest.mark.parametrize("now", MOMENTS, ids=lambda m: m.strftime("%Y-%m-%d %H:%M"))
def test_the_skipped_periods_have_no_patrol_and_the_joint_one_avoids_the_last_dekad(
    now: datetime,
) -> None:
    outings = plan(now)
    backs = {key: {o.back for o in found} for key, found in outings.items()}
    assert 1 not in backs["shuangqiao"] and 4 not in backs["shuangqiao"]
    assert 1 not in backs["wangjiangjing"] and 1 not in backs["xiuzhou-xtw"]
    assert backs["wujiang-lanxi"] == {2} and backs["joint-one-side"] == {1}
    assert {0, 1} & backs["shengze-lanxi"] == set()
    last_dekad = period_of(DutyPeriod.DEKAD, local_date(now)).previous()
    assert all(
        not last_dekad.first <= local_date(o.start) <= last_dekad.last for o in outings["joint"]
    )
    # The finished periods of the plan are all there: last week, 旬 and month.
    assert {1, 2} <= backs["qianyue"] and {1, 2} <= backs["joint"]
    assert 1 in backs["maota"] and 1 in backs["shengze"]


@pytest.mark.parametrize("now", MOMENTS, ids=lambda m: m.strftime("%Y-%m-%d %H:%M"))
def test_the_diligent_have_patrolled_once_a_day_of_the_period_has_passed(now: datetime) -> None:
    outings = plan(now)
    today = local_date(now)
    for key, kind in (
        ("qianyue", DutyPeriod.WEEK),
        ("shengze", DutyPeriod.DEKAD),
        ("wujiang-xtw", DutyPeriod.MONTH),
    ):
        if period_of(kind, today).first < today:
            assert 0 in {o.back for o in outings[key]}, key
    if now == MOMENTS[0]:  # ten minutes into a new week, 旬 and month: nothing yet
        assert all(o.back > 0 for found in outings.values() for o in found)


def test_the_drive_is_too_fast_for_a_walk_and_the_walks_are_not() -> None:
    """Average speeds from the planned fixes (metres along the track over the seconds):
    over 3 m/s when 周福根 drove, under it on foot."""
    import pyproj

    geod = pyproj.Geod(ellps="WGS84")
    for outing in plan(MOMENTS[4])["maota"]:
        speed = geod.line_length(outing.lons, outing.lats) / float(outing.seconds[-1])
        assert (speed > 3.0) == (outing.back == 1), (outing.back, speed)
