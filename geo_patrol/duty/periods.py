"""The calendar periods of patrol duty, in China Standard Time (core.local_time).

A week runs Monday to Sunday; a dekad (旬) is days 1-10, 11-20 or 21 to the end of the
month; then the month and the quarter. A period is the local days [first, last] and the
instants [starts, ends) in UTC. A patrol belongs to the period in which it started (a patrol
spanning midnight at a period's end counts in the earlier one).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from geo_patrol.core.local_time import LOCAL
from geo_patrol.core.vocabulary import DutyPeriod

DEKAD_NAMES_ZH = ("上旬", "中旬", "下旬")
DEKAD_NAMES_EN = ("early", "mid", "late")


@dataclass(frozen=True, order=True)
class Period:
    """One calendar period of duty: its kind and its first and last local day."""

    first: date
    last: date
    kind: DutyPeriod

    @property
    def starts(self) -> datetime:
        """The instant the period begins (local midnight of its first day), in UTC."""
        return local_midnight(self.first)

    @property
    def ends(self) -> datetime:
        """The instant after the period (local midnight after its last day), in UTC."""
        return local_midnight(self.last + timedelta(days=1))

    @property
    def days(self) -> int:
        """How many days the period has."""
        return (self.last - self.first).days + 1

    @property
    def key(self) -> str:
        """A stable name: 2026-W49, 2026-12-D2, 2026-12, 2026-Q4."""
        if self.kind is DutyPeriod.WEEK:
            year, week, _ = self.first.isocalendar()
            return f"{year}-W{week:02d}"
        if self.kind is DutyPeriod.DEKAD:
            return f"{self.first:%Y-%m}-D{_dekad_index(self.first) + 1}"
        if self.kind is DutyPeriod.MONTH:
            return f"{self.first:%Y-%m}"
        return f"{self.first.year}-Q{(self.first.month - 1) // 3 + 1}"

    def label(self, language: str = "zh") -> str:
        """How people name the period: 2026年12月中旬 / mid Dec 2026, 2026年第4季度 / Q4 2026."""
        first, kind = self.first, self.kind
        if language == "zh":
            if kind is DutyPeriod.WEEK:
                return f"{first:%Y-%m-%d} 至 {self.last:%m-%d}"
            if kind is DutyPeriod.DEKAD:
                return f"{first.year}年{first.month}月{DEKAD_NAMES_ZH[_dekad_index(first)]}"
            if kind is DutyPeriod.MONTH:
                return f"{first.year}年{first.month}月"
            return f"{first.year}年第{(first.month - 1) // 3 + 1}季度"
        if kind is DutyPeriod.WEEK:
            return f"week of {first:%d %b %Y}"
        if kind is DutyPeriod.DEKAD:
            return f"{DEKAD_NAMES_EN[_dekad_index(first)]} {first:%b %Y}"
        if kind is DutyPeriod.MONTH:
            return f"{first:%b %Y}"
        return f"Q{(first.month - 1) // 3 + 1} {first.year}"

    def previous(self) -> Period:
        """The period before this one."""
        return period_of(self.kind, self.first - timedelta(days=1))

    def next(self) -> Period:
        """The period after this one."""
        return period_of(self.kind, self.last + timedelta(days=1))


def local_midnight(day: date) -> datetime:
    """The instant a local day begins, in UTC."""
    return datetime.combine(day, time(0), tzinfo=LOCAL).astimezone(UTC)


def local_date(moment: datetime) -> date:
    """The local calendar day of an instant."""
    return moment.astimezone(LOCAL).date()


def _dekad_index(day: date) -> int:
    """0, 1 or 2: the dekad of the month a day is in."""
    return min((day.day - 1) // 10, 2)


def _month_end(year: int, month: int) -> date:
    """The last day of a month."""
    return date(year, month, calendar.monthrange(year, month)[1])


def period_of(kind: DutyPeriod, day: date) -> Period:
    """The period of a kind that contains a local day."""
    kind = DutyPeriod(kind)
    if kind is DutyPeriod.WEEK:
        first = day - timedelta(days=day.weekday())
        return Period(first, first + timedelta(days=6), kind)
    if kind is DutyPeriod.DEKAD:
        index = _dekad_index(day)
        first = day.replace(day=10 * index + 1)
        last = _month_end(day.year, day.month) if index == 2 else day.replace(day=10 * index + 10)
        return Period(first, last, kind)
    if kind is DutyPeriod.MONTH:
        return Period(day.replace(day=1), _month_end(day.year, day.month), kind)
    first_month = 3 * ((day.month - 1) // 3) + 1
    return Period(date(day.year, first_month, 1), _month_end(day.year, first_month + 2), kind)


def period_at(kind: DutyPeriod, moment: datetime) -> Period:
    """The period of a kind that contains an instant (by its local day)."""
    return period_of(kind, local_date(moment))


def recent_periods(kind: DutyPeriod, day: date, count: int) -> list[Period]:
    """The `count` periods of a kind up to and including the one containing `day`, oldest
    first (a trend)."""
    periods = [period_of(kind, day)]
    while len(periods) < count:
        periods.append(periods[-1].previous())
    return periods[::-1]


def periods_between(kind: DutyPeriod, first: date, last: date) -> list[Period]:
    """Every period of a kind that has a day in [first, last], in order."""
    periods = [period_of(kind, first)]
    while periods[-1].last < last:
        periods.append(periods[-1].next())
    return periods


def required_in(required: int, *, days_in_force: int, period_days: int) -> int:
    """The patrols owed in a period by an appointment in force on only some of its days:
    the rule's number in proportion to the days, rounded half up (a chief appointed for half
    of a weekly period owes its one patrol; for a third of it, none). In force every day:
    the rule's number."""
    if days_in_force >= period_days:
        return required
    return int(required * days_in_force / period_days + 0.5)
