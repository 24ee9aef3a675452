"""Roll-ups of the assessment: how many chiefs met their duty, per side, county, level, zone
and river, and the same share period after period (the trend).

A chief is assessed when something is owed (required > 0; not_due chiefs are left out of
every count). The share meeting duty is met / assessed: chiefs still in progress count in
the denominator, so a share mid-period says how many are done already, and the share of a
finished period how many did it. A chief in two zones counts in both zones' rows; a chief
appointed twice (two stretches) counts once per appointment, as the office assesses them.
The functions over lists of ChiefDuty are pure; `summarise` runs the assessment (one
statement over every period of the trend) and names the groups.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum

from sqlalchemy.orm import Session

from geo_patrol.access.scope import Scope
from geo_patrol.core.vocabulary import DutyPeriod, DutyStatus
from geo_patrol.duty.assessment import ChiefDuty, DutyFilter, assess_chiefs, trend_periods
from geo_patrol.duty.periods import Period, local_date
from geo_patrol.geography.queries import current_names, list_zones

DEFAULT_TREND_PERIODS = 6


class Dimension(StrEnum):
    """What a roll-up groups the chiefs by."""

    SIDE = "side"
    COUNTY = "county"
    LEVEL = "level"
    ZONE = "zone"
    RIVER = "river"


@dataclass(frozen=True)
class Tally:
    """Counts of chiefs by status, for one group (or one period of the trend)."""

    assessed: int = 0
    met: int = 0
    missed: int = 0
    in_progress: int = 0

    @property
    def share(self) -> float | None:
        """The share of assessed chiefs meeting duty (None when none was assessed)."""
        return self.met / self.assessed if self.assessed else None

    def add(self, status: DutyStatus) -> Tally:
        """The tally with one more chief of `status` (not_due chiefs are not counted)."""
        if status is DutyStatus.NOT_DUE:
            return self
        return Tally(
            assessed=self.assessed + 1,
            met=self.met + (status is DutyStatus.MET),
            missed=self.missed + (status is DutyStatus.MISSED),
            in_progress=self.in_progress + (status is DutyStatus.IN_PROGRESS),
        )


@dataclass(frozen=True)
class Rollup:
    """One group of a roll-up: its key (a code, level, zone id or river code), its name."""

    dimension: Dimension
    key: str
    name: str
    tally: Tally


@dataclass(frozen=True)
class TrendPoint:
    """The share of chiefs meeting duty in one period of one kind (and one side, or all)."""

    period: Period
    side: str | None
    tally: Tally


@dataclass(frozen=True)
class DutySummary:
    """Roll-ups of the current periods and the trend over the last ones."""

    day: date
    periods: int
    overall: Tally
    rollups: list[Rollup]
    trend: list[TrendPoint]
    duties: list[ChiefDuty]  # every chief in every period of the trend


def tally(duties: Iterable[ChiefDuty]) -> Tally:
    """The counts of a list of duties."""
    counted = Tally()
    for duty in duties:
        counted = counted.add(duty.status)
    return counted


def _keys(duty: ChiefDuty, dimension: Dimension) -> list[str]:
    """The groups a duty falls in along `dimension` (a chief in no zone: none)."""
    if dimension is Dimension.SIDE:
        return [duty.side_code]
    if dimension is Dimension.COUNTY:
        return [duty.county_code or ""]
    if dimension is Dimension.LEVEL:
        return [str(duty.level)]
    if dimension is Dimension.ZONE:
        return [str(zone) for zone in duty.zone_ids]
    return [duty.river_code]


def _default_name(duty: ChiefDuty, dimension: Dimension, key: str) -> str:
    """A group's name from the duty itself (where it carries one), else its key."""
    if dimension is Dimension.SIDE:
        return duty.side_name or key
    if dimension is Dimension.RIVER:
        return duty.river_name
    return key


def rollup(
    duties: Iterable[ChiefDuty], dimension: Dimension, *, names: dict[str, str] | None = None
) -> list[Rollup]:
    """Counts per group along one dimension, in key order (names: key -> name, optional)."""
    tallies: dict[str, Tally] = {}
    shown: dict[str, str] = {}
    for duty in duties:
        for key in _keys(duty, dimension):
            tallies[key] = tallies.get(key, Tally()).add(duty.status)
            shown.setdefault(key, _default_name(duty, dimension, key))
    names = names or {}
    return [
        Rollup(dimension, key, names.get(key, shown[key]), tallies[key])
        for key in sorted(tallies, key=_level_order if dimension is Dimension.LEVEL else str)
    ]


def _level_order(level: str) -> str:
    """County, town, village: the order offices read the levels in."""
    return {"county": "0", "town": "1", "village": "2"}.get(level, level)


def rollups(
    duties: Sequence[ChiefDuty], *, names: dict[Dimension, dict[str, str]] | None = None
) -> list[Rollup]:
    """Counts along every dimension (side, county, level, zone, river)."""
    names = names or {}
    return [row for d in Dimension for row in rollup(duties, d, names=names.get(d))]


def current_of(duties: Iterable[ChiefDuty], day: date) -> list[ChiefDuty]:
    """The duties whose period contains `day`."""
    return [duty for duty in duties if duty.period.first <= day <= duty.period.last]


def trend(
    duties: Iterable[ChiefDuty], *, by: Callable[[ChiefDuty], str | None] = lambda _: None
) -> list[TrendPoint]:
    """Counts per period (and per `by`, e.g. the side), oldest period first, kinds apart."""
    tallies: dict[tuple[Period, str | None], Tally] = {}
    for duty in duties:
        key = (duty.period, by(duty))
        tallies[key] = tallies.get(key, Tally()).add(duty.status)
    order = {kind: rank for rank, kind in enumerate(DutyPeriod)}
    keys = sorted(tallies, key=lambda k: (order[k[0].kind], k[0].first, k[1] or ""))
    return [TrendPoint(period, side, tallies[(period, side)]) for period, side in keys]


def summarise(
    session: Session,
    *,
    scope: Scope,
    member_id: int | None,
    day: date | None = None,
    periods: int = DEFAULT_TREND_PERIODS,
    selected: DutyFilter = DutyFilter(),
    now: datetime | None = None,
) -> DutySummary:
    """Assess the visible chiefs over the last `periods` periods of each kind up to `day`
    (today, local time), roll up the current ones and trace the share per period, overall
    and per side."""
    now = now or datetime.now(UTC)
    day = day or local_date(now)
    duties = assess_chiefs(
        session,
        scope=scope,
        member_id=member_id,
        periods=trend_periods(day, periods),
        selected=selected,
        now=now,
    )
    current = current_of(duties, day)
    return DutySummary(
        day=day,
        periods=periods,
        overall=tally(current),
        rollups=rollups(current, names=group_names(session, current)),
        trend=trend(duties) + trend(duties, by=lambda duty: duty.side_code),
        duties=duties,
    )


def group_names(session: Session, duties: Sequence[ChiefDuty]) -> dict[Dimension, dict[str, str]]:
    """The names of the counties and zones of `duties` (sides and rivers carry theirs)."""
    counties = sorted({duty.county_code for duty in duties if duty.county_code})
    zone_ids = {zone for duty in duties for zone in duty.zone_ids}
    zones = {str(z["id"]): z["name"] for z in list_zones(session) if z["id"] in zone_ids}
    return {
        Dimension.COUNTY: current_names(session, codes=counties) if counties else {},
        Dimension.ZONE: zones,
    }
