"""duty.periods against dates worked out by hand and against the calendar oracle of
tests/support/duty_oracle.py: weeks (ISO, Monday to Sunday), dekads (旬), months and
quarters in China Standard Time, whose local midnight is 16:00 UTC the day before."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geo_patrol.core.vocabulary import DutyPeriod
from geo_patrol.duty.assessment import current_periods, trend_periods
from geo_patrol.duty.periods import (
    Period,
    period_at,
    period_of,
    periods_between,
    recent_periods,
    required_in,
)
from tests.support.duty_oracle import window_of

WEEK, DEKAD, MONTH, QUARTER = (
    DutyPeriod.WEEK,
    DutyPeriod.DEKAD,
    DutyPeriod.MONTH,
    DutyPeriod.QUARTER,
)


@pytest.mark.parametrize(
    ("day", "first", "last"),
    [
        (date(2024, 2, 29), date(2024, 2, 21), date(2024, 2, 29)),  # leap year: 9 days
        (date(2024, 2, 21), date(2024, 2, 21), date(2024, 2, 29)),
        (date(2026, 2, 28), date(2026, 2, 21), date(2026, 2, 28)),  # 8 days
        (date(2100, 2, 25), date(2100, 2, 21), date(2100, 2, 28)),  # a century, not leap
        (date(2000, 2, 25), date(2000, 2, 21), date(2000, 2, 29)),  # divisible by 400: leap
        (date(2026, 1, 31), date(2026, 1, 21), date(2026, 1, 31)),  # 11 days
        (date(2026, 12, 10), date(2026, 12, 1), date(2026, 12, 10)),
        (date(2026, 12, 11), date(2026, 12, 11), date(2026, 12, 20)),
        (date(2026, 12, 20), date(2026, 12, 11), date(2026, 12, 20)),
    ],
)
def test_dekads(day: date, first: date, last: date) -> None:
    period = period_of(DEKAD, day)
    assert (period.first, period.last) == (first, last)
    assert period.days == (last - first).days + 1


def test_the_last_dekad_of_february_has_nine_days_in_a_leap_year_and_eight_otherwise() -> None:
    assert period_of(DEKAD, date(2024, 2, 25)).days == 9
    assert period_of(DEKAD, date(2025, 2, 25)).days == 8
    assert period_of(DEKAD, date(2024, 2, 25)).key == "2024-02-D3"


@pytest.mark.parametrize(
    ("day", "first", "last", "key"),
    [
        # 1 January 2026 is a Thursday, so 2026 has 53 ISO weeks; the last runs into 2027.
        (date(2026, 12, 31), date(2026, 12, 28), date(2027, 1, 3), "2026-W53"),
        (date(2027, 1, 3), date(2026, 12, 28), date(2027, 1, 3), "2026-W53"),
        (date(2027, 1, 4), date(2027, 1, 4), date(2027, 1, 10), "2027-W01"),
        # 30 December 2024 is a Monday; its week holds 2 January 2025 (Thursday): 2025-W01.
        (date(2024, 12, 31), date(2024, 12, 30), date(2025, 1, 5), "2025-W01"),
        (date(2025, 1, 5), date(2024, 12, 30), date(2025, 1, 5), "2025-W01"),
        (date(2026, 1, 1), date(2025, 12, 29), date(2026, 1, 4), "2026-W01"),
    ],
)
def test_weeks_across_the_year_end(day: date, first: date, last: date, key: str) -> None:
    period = period_of(WEEK, day)
    assert (period.first, period.last, period.key) == (first, last, key)


@pytest.mark.parametrize(
    ("day", "first", "last", "days", "key"),
    [
        (date(2026, 3, 31), date(2026, 1, 1), date(2026, 3, 31), 90, "2026-Q1"),
        (date(2024, 2, 29), date(2024, 1, 1), date(2024, 3, 31), 91, "2024-Q1"),
        (date(2026, 4, 1), date(2026, 4, 1), date(2026, 6, 30), 91, "2026-Q2"),
        (date(2026, 9, 30), date(2026, 7, 1), date(2026, 9, 30), 92, "2026-Q3"),
        (date(2026, 12, 31), date(2026, 10, 1), date(2026, 12, 31), 92, "2026-Q4"),
    ],
)
def test_quarters(day: date, first: date, last: date, days: int, key: str) -> None:
    period = period_of(QUARTER, day)
    assert (period.first, period.last, period.days, period.key) == (first, last, days, key)


def test_months() -> None:
    assert period_of(MONTH, date(2026, 12, 6)) == Period(
        date(2026, 12, 1), date(2026, 12, 31), MONTH
    )
    assert period_of(MONTH, date(2026, 2, 1)).days == 28
    assert period_of(MONTH, date(2028, 2, 1)).days == 29


def test_local_midnight_is_sixteen_hundred_utc_the_day_before() -> None:
    december = period_of(MONTH, date(2026, 12, 6))
    assert december.starts == datetime(2026, 11, 30, 16, tzinfo=UTC)
    assert december.ends == datetime(2026, 12, 31, 16, tzinfo=UTC)
    # A quarter starting on New Year's Day starts at 16:00 UTC on New Year's Eve.
    assert period_of(QUARTER, date(2027, 2, 1)).starts == datetime(2026, 12, 31, 16, tzinfo=UTC)
    week = period_of(WEEK, date(2026, 12, 6))  # Monday 30 November to Sunday 6 December
    assert (week.starts, week.ends) == (
        datetime(2026, 11, 29, 16, tzinfo=UTC),
        datetime(2026, 12, 6, 16, tzinfo=UTC),
    )


@pytest.mark.parametrize(
    ("moment", "first"),
    [
        (datetime(2026, 11, 30, 15, 59, 59, tzinfo=UTC), date(2026, 11, 21)),  # 23:59:59 local
        (datetime(2026, 11, 30, 16, 0, 0, tzinfo=UTC), date(2026, 12, 1)),  # 00:00 local
        (datetime(2026, 12, 10, 15, 59, 50, tzinfo=UTC), date(2026, 12, 1)),
        (datetime(2026, 12, 10, 16, 0, 0, tzinfo=UTC), date(2026, 12, 11)),
    ],
)
def test_an_instant_falls_in_the_period_of_its_local_day(moment: datetime, first: date) -> None:
    assert period_at(DEKAD, moment).first == first


def test_labels_and_keys() -> None:
    mid = period_of(DEKAD, date(2026, 12, 15))
    assert (mid.key, mid.label("zh"), mid.label("en")) == (
        "2026-12-D2",
        "2026年12月中旬",
        "mid Dec 2026",
    )
    q4 = period_of(QUARTER, date(2026, 11, 1))
    assert (q4.label("zh"), q4.label("en")) == ("2026年第4季度", "Q4 2026")


@pytest.mark.parametrize(
    ("required", "days", "period_days", "owed"),
    [
        (1, 7, 7, 1),
        (1, 4, 7, 1),  # 0.571
        (1, 3, 7, 0),  # 0.429
        (1, 15, 30, 1),  # exactly half: up
        (1, 5, 10, 1),
        (1, 4, 10, 0),
        (3, 5, 10, 2),  # 1.5: up
        (2, 1, 31, 0),
        (4, 9, 8, 4),  # more days than the period: the rule's number
    ],
)
def test_required_in_proportion_rounded_half_up(
    required: int, days: int, period_days: int, owed: int
) -> None:
    assert required_in(required, days_in_force=days, period_days=period_days) == owed


def test_recent_and_between() -> None:
    three = recent_periods(DEKAD, date(2026, 12, 6), 3)
    assert [p.first for p in three] == [date(2026, 11, 11), date(2026, 11, 21), date(2026, 12, 1)]
    weeks = periods_between(WEEK, date(2026, 12, 31), date(2027, 1, 12))
    assert [p.key for p in weeks] == ["2026-W53", "2027-W01", "2027-W02"]


days = st.dates(min_value=date(1999, 1, 1), max_value=date(2101, 12, 31))


@settings(max_examples=300, deadline=None)
@given(day=days, kind=st.sampled_from(list(DutyPeriod)))
def test_each_day_is_in_exactly_one_period_of_each_kind(day: date, kind: DutyPeriod) -> None:
    period = period_of(kind, day)
    assert period.first <= day <= period.last
    expected = window_of(str(kind), day)  # the calendar oracle
    assert (period.first, period.last) == (expected.first, expected.last)
    # Every day of the period gives this period back, and the days around it do not.
    assert {period_of(kind, period.first + timedelta(days=n)) for n in range(period.days)} == {
        period
    }
    assert period_of(kind, period.first - timedelta(days=1)) != period
    assert period_of(kind, period.last + timedelta(days=1)) != period


@settings(max_examples=200, deadline=None)
@given(
    first=days, span=st.integers(min_value=0, max_value=400), kind=st.sampled_from(list(DutyPeriod))
)
def test_periods_tile_without_gaps_and_previous_inverts_next(
    first: date, span: int, kind: DutyPeriod
) -> None:
    last = first + timedelta(days=span)
    periods = periods_between(kind, first, last)
    assert periods[0].first <= first <= periods[0].last
    assert periods[-1].first <= last <= periods[-1].last
    for before, after in itertools.pairwise(periods):
        assert after.first == before.last + timedelta(days=1)
        assert before.ends == after.starts
        assert before.next() == after and after.previous() == before
    assert sum(p.days for p in periods) == (periods[-1].last - periods[0].first).days + 1
    one = periods[0]
    assert one.next().previous() == one and one.previous().next() == one


def test_current_and_trend_periods() -> None:
    day = date(2026, 12, 6)  # a Sunday in the first 旬 of December, in Q4
    assert [(p.kind, p.first, p.last) for p in current_periods(day)] == [
        (WEEK, date(2026, 11, 30), date(2026, 12, 6)),
        (DEKAD, date(2026, 12, 1), date(2026, 12, 10)),
        (MONTH, date(2026, 12, 1), date(2026, 12, 31)),
        (QUARTER, date(2026, 10, 1), date(2026, 12, 31)),
    ]
    trend = trend_periods(day, 3)
    assert [p.key for p in trend if p.kind is MONTH] == ["2026-10", "2026-11", "2026-12"]
    assert [p.key for p in trend if p.kind is QUARTER] == ["2026-Q2", "2026-Q3", "2026-Q4"]
    assert [p.key for p in trend if p.kind is DEKAD] == ["2026-11-D2", "2026-11-D3", "2026-12-D1"]
