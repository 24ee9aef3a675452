"""The map's filters: read from the query string, written back into links and tile URLs.

A view is shared by its URL, so every filter lives in the query string; the tile URLs
carry the same filters as the page that asks for them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta
from typing import cast
from urllib.parse import urlencode

from geo_patrol.core.errors import InvalidInput
from geo_patrol.core.local_time import LOCAL  # periods are calendar days where the rivers are

DEFAULT_DAYS = 30
MAX_DAYS = 366


@dataclass(frozen=True)
class MapFilters:
    """What the map shows. `date_from`/`date_to` are local calendar days, both included."""

    date_from: date
    date_to: date
    zone: str | None = None
    jurisdiction: str | None = None
    team: int | None = None
    category: str | None = None
    status: str | None = None
    joint: bool = False
    lang: str = "zh"

    def __post_init__(self) -> None:
        """A period runs forwards and is at most a year long."""
        if self.date_to < self.date_from:
            raise InvalidInput("the period ends before it starts", field="date_to")
        if (self.date_to - self.date_from).days > MAX_DAYS:
            raise InvalidInput("the period is longer than a year", field="date_from")

    @classmethod
    def default(cls, today: date | None = None, **values: object) -> MapFilters:
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

    def query(self, *, with_lang: bool = True) -> str:
        """The filters as a query string (only the ones that are set)."""
        values = {}
        for key, value in asdict(self).items():
            if key == "lang" and (not with_lang or value == "zh"):
                continue
            if value is None or value is False:
                continue
            values[key] = "1" if value is True else str(value)
        return urlencode(values)
