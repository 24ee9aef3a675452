"""The map's filters: read from the query string, written back into links and tile URLs.

A view is shared by its URL, so every filter lives in the query string; the tile URLs
carry the same filters as the page that asks for them. What they select (period, zone,
jurisdiction, team, category, status, joint) is `geo_patrol.core.selection.Selection`, which
the domains read; this adds the page's language and the query string.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import asdict, dataclass
from urllib.parse import urlencode

from geo_patrol.core.selection import Selection

__all__ = ["MapFilters"]


@dataclass(frozen=True)
class MapFilters(Selection):
    """What the map shows, and in which language."""

    lang: str = "zh"

    def query(self, *, with_lang: bool = True, only: Collection[str] | None = None) -> str:
        """The filters as a query string (only the ones that are set; of those, only the
        names in `only` when given: the ones a caller wrote, not the defaults)."""
        values = {}
        for key, value in asdict(self).items():
            if key == "lang" and (not with_lang or value == "zh"):
                continue
            if only is not None and key not in only:
                continue
            if value is None or value is False:
                continue
            values[key] = "1" if value is True else str(value)
        return urlencode(values)
