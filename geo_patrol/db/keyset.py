"""The SQL side of a list's keyset paging (geo_patrol.core.paging): its order as a `Keyset`.

A list names the expressions it is ordered by (the last one unique, none NULL, an index
serving them) and the result columns that carry their values. `after(cursor)` is the WHERE
condition of the page after a cursor; the query reads `limit + 1` rows (`read_limit`), and
`page(rows, limit)` cuts them and makes the next cursor from the last row kept.

Introduced in: geo-patrol 0.4.0.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar

from geo_patrol.core.paging import KeyValue, Page, decode_cursor, page_of
from geo_patrol.db.clauses import Clause, after_key

T = TypeVar("T", bound=Mapping[str, Any])


def key_value(value: object) -> KeyValue:
    """A sort key's value as a cursor holds it (times and days as ISO text)."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, str | int | float):
        return value
    raise TypeError(f"a keyset column holds {type(value).__name__}, not a scalar")


def read_limit(limit: int | None) -> int | None:
    """How many rows a page of `limit` reads: one more, to know whether more follow."""
    return None if limit is None else limit + 1


@dataclass(frozen=True)
class Keyset:
    """A list's order: SQL expressions (`columns`) and the result fields holding them."""

    columns: tuple[str, ...]
    fields: tuple[str, ...]
    descending: bool = False

    def after(self, cursor: str | None) -> Clause | None:
        """Rows after `cursor` in this order (None on the first page); a bad cursor is 422."""
        key = decode_cursor(cursor, arity=len(self.columns))
        return after_key(self.columns, key, descending=self.descending)

    def order_by(self) -> str:
        """The ORDER BY list of this order."""
        direction = " DESC" if self.descending else ""
        return ", ".join(f"{column}{direction}" for column in self.columns)

    def key(self, row: Mapping[str, Any]) -> tuple[KeyValue, ...]:
        """The cursor values of a row."""
        return tuple(key_value(row[name]) for name in self.fields)

    def page(self, rows: Sequence[T], limit: int | None) -> Page[T]:
        """The page from rows read with `read_limit(limit)` (all of them when None)."""
        if limit is None:
            return Page(list(rows))
        return page_of(rows, limit=limit, key=self.key)
