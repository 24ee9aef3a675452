"""A selection of patrols and incidents: a period of local calendar days, and optionally a
cooperation zone, a jurisdiction, a team, an incident category and status, joint cases only.

The map, its tiles, the meeting pack and the command line all select by it; the map's
query-string form of it (with the page's language) is `geo_patrol.web.map.filters.MapFilters`.
It lives in core because no one domain owns it: it names patrols and incidents alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Self, cast

from geo_patrol.core.catalog import msg
from geo_patrol.core.errors import InvalidInput
from geo_patrol.core.local_time import LOCAL  # periods are calendar days where the rivers are

__all__ = ["DEFAULT_DAYS", "MAX_DAYS", "Selection"]

DEFAULT_DAYS = 30
MAX_DAYS = 366


@dataclass(frozen=True)
class Selection:
    """What is selected. `date_from`/`date_to` are local calendar days, both included."""

    date_from: date
    date_to: date
    zone: str | None = None
    jurisdiction: str | None = None
    team: int | None = None
    category: str | None = None
    status: str | None = None
    joint: bool = False

    def __post_init__(self) -> None:
        """A period runs forwards and is at most a year long."""
        if self.date_to < self.date_from:
            raise InvalidInput(msg("problem.core.period_reversed"), field="date_to")
        if (self.date_to - self.date_from).days > MAX_DAYS:
            raise InvalidInput(msg("problem.core.period_too_long"), field="date_from")

    @classmethod
    def default(cls, today: date | None = None, **values: object) -> Self:
        """The given values; the period defaults to the 30 days up to `date_to` (today, local)."""
        today = today or datetime.now(LOCAL).date()
        given = {k: v for k, v in values.items() if v not in (None, "")}
        date_to = cast(date, given.pop("date_to", today))
        date_from = cast(date, given.pop("date_from", date_to - timedelta(days=DEFAULT_DAYS - 1)))
        return cls(date_from=date_from, date_to=date_to, **given)  # type: ignore[arg-type]

    @property
    def since(self) -> datetime:
        """Start of the period (inclusive), as an aware datetime."""
        return datetime.combine(self.date_from, time(), LOCAL)

    @property
    def until(self) -> datetime:
        """End of the period (exclusive): midnight after `date_to`."""
        return datetime.combine(self.date_to + timedelta(days=1), time(), LOCAL)
