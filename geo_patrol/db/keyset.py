"""The SQL side of a list's keyset paging (geo_patrol.core.paging): its order as a `Keyset`.

A list names the expressions it is ordered by (the last one unique, none NULL, an index
serving them) and the result columns that carry their values. `after(cursor)` is the WHERE
condition of the page after a cursor; the query reads `limit + 1` rows (`read_limit`), and
`page(rows, limit)` cuts them and makes the next cursor from the last row kept.

Introduced in: geo-patrol 0.4.0.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from geo_patrol.core.catalog import msg
from geo_patrol.core.errors import InvalidInput
from geo_patrol.core.paging import CURSOR_FIELD, KeyValue, Page, decode_cursor, page_of
from geo_patrol.db.clauses import Clause, after_key

T = TypeVar("T")


def key_value(value: object) -> KeyValue:
    """A sort key's value as a cursor holds it (times and days as ISO text)."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, str | int | float):
        return value
    raise TypeError(f"a keyset column holds {type(value).__name__}, not a scalar")


def _is_time(value: KeyValue) -> bool:
    """An ISO time (PostgreSQL's text of a timestamptz is one), or PostgreSQL's infinity."""
    if not isinstance(value, str):
        return False
    if value in ("infinity", "-infinity"):
        return True
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


def _is_day(value: KeyValue) -> bool:
    """An ISO calendar day."""
    try:
        date.fromisoformat(str(value))
    except ValueError:
        return False
    return isinstance(value, str)


def _is_numeric(value: KeyValue) -> bool:
    """The text of an exact number (a numeric key goes out as text, to come back exact)."""
    try:
        Decimal(str(value))
    except InvalidOperation:
        return False
    return isinstance(value, str) and Decimal(value).is_finite()


# What a cursor's value must be for each kind of key column: an edited cursor is refused
# here, naming the field, rather than by the database.
KINDS: dict[str, Callable[[KeyValue], bool]] = {
    "time": _is_time,
    "day": _is_day,
    "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "text": lambda v: isinstance(v, str),
    "float": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "bool": lambda v: isinstance(v, bool),
    "numeric": _is_numeric,
}


def read_limit(limit: int | None) -> int | None:
    """How many rows a page of `limit` reads: one more, to know whether more follow."""
    return None if limit is None else limit + 1


@dataclass(frozen=True)
class Keyset:
    """A list's order: SQL expressions (`columns`), the result fields holding them and
    their kinds (keys of KINDS)."""

    columns: tuple[str, ...]
    fields: tuple[str, ...]
    kinds: tuple[str, ...]
    descending: bool = False

    def after(self, cursor: str | None) -> Clause | None:
        """Rows after `cursor` in this order (None on the first page); a bad cursor is 422."""
        key = decode_cursor(cursor, arity=len(self.columns))
        if key is not None and not all(
            KINDS[kind](value) for kind, value in zip(self.kinds, key, strict=True)
        ):
            raise InvalidInput(msg("problem.core.cursor_unknown"), field=CURSOR_FIELD)
        return after_key(self.columns, key, descending=self.descending)

    def order_by(self) -> str:
        """The ORDER BY list of this order."""
        direction = " DESC" if self.descending else ""
        return ", ".join(f"{column}{direction}" for column in self.columns)

    def key(self, row: Any) -> tuple[KeyValue, ...]:
        """The cursor values of a row (a mapping, or a result row)."""
        values: Mapping[str, Any] = getattr(row, "_mapping", row)
        return tuple(key_value(values[name]) for name in self.fields)

    def page(self, rows: Sequence[T], limit: int | None) -> Page[T]:
        """The page from rows read with `read_limit(limit)` (all of them when None)."""
        if limit is None:
            return Page(list(rows))
        return page_of(rows, limit=limit, key=self.key)


def page_in_memory(
    rows: Sequence[T],
    *,
    key: Callable[[T], tuple[KeyValue, ...]],
    kinds: tuple[str, ...],
    limit: int | None,
    cursor: str | None,
) -> Page[T]:
    """The page after `cursor` of rows already computed and sorted by `key` (unique), for
    a list computed outside SQL that is small and bounded (say so where it is used): the
    same cursors and links as a list paged in its statement."""
    after = decode_cursor(cursor, arity=len(kinds))
    if after is not None:
        if not all(KINDS[kind](value) for kind, value in zip(kinds, after, strict=True)):
            raise InvalidInput(msg("problem.core.cursor_unknown"), field=CURSOR_FIELD)
        rows = [row for row in rows if key(row) > after]
    if limit is None:
        return Page(list(rows))
    return page_of(rows, limit=limit, key=key)
