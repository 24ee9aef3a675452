"""The map's filters: read from the query string, written back into links and tile URLs.

A view is shared by its URL, so every filter lives in the query string; the tile URLs
carry the same filters as the page that asks for them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from datetime import date, datetime, time, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

LOCAL = ZoneInfo("Asia/Shanghai")  # periods are calendar days where the rivers are
DEFAULT_DAYS = 30


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

    @classmethod
    def default(cls, today: date | None = None, **values: object) -> MapFilters:
        """The last 30 days up to today (local), with any given values."""
        today = today or datetime.now(LOCAL).date()
        base = cls(date_from=today - timedelta(days=DEFAULT_DAYS - 1), date_to=today)
        return replace(base, **{k: v for k, v in values.items() if v not in (None, "")})  # type: ignore[arg-type]

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
