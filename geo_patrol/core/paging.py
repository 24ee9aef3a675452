"""Keyset paging: opaque cursors, pages that know whether more follow, and RFC 8288 links.

A list is ordered by a key that is unique and never NULL (for example `(reported_at, id)`
newest first). A page is read with one row more than asked for: when that row exists, the
page is cut and its last row's key becomes the next page's cursor. The cursor is the key's
values as JSON in URL-safe base64 (no padding), opaque to clients and checked on the way
back in (a bad one is a 422 naming `cursor`); it carries no scope or filter, which every
request applies again, so an edited cursor can only move the position inside what the
caller may see. Rows inserted while a client pages do not shift later pages, nothing is
returned twice, and a deleted row leaves no hole (unlike OFFSET).

The SQL side is `geo_patrol.db.clauses.after_key`; the HTTP side (the `limit` and `cursor`
parameters and the `Link` header) is `geo_patrol.api.paging`.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from geo_patrol.core.catalog import msg
from geo_patrol.core.errors import InvalidInput

T = TypeVar("T")
KeyValue = str | int | float | bool
# The default and the largest page of every list (an export streams every row instead).
DEFAULT_LIMIT = 100
MAX_LIMIT = 10_000
CURSOR_FIELD = "cursor"


def encode_cursor(key: Sequence[KeyValue]) -> str:
    """The opaque cursor of a row's sort key (dates and times as ISO text, by the caller)."""
    raw = json.dumps(list(key), separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_cursor(cursor: str | None, *, arity: int) -> tuple[KeyValue, ...] | None:
    """The key inside `cursor` (None for the first page); a cursor that is not one of ours
    with `arity` scalar values is refused naming the field."""
    if cursor is None or cursor == "":
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        key = json.loads(raw.decode("utf-8"))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise InvalidInput(msg("problem.core.cursor_unknown"), field=CURSOR_FIELD) from None
    if (
        not isinstance(key, list)
        or len(key) != arity
        or not all(isinstance(v, str | int | float) and v is not None for v in key)
    ):
        raise InvalidInput(msg("problem.core.cursor_unknown"), field=CURSOR_FIELD)
    return tuple(key)


@dataclass(frozen=True)
class Page(Generic[T]):
    """The rows of one page and the cursor of the next (None: this is the last page)."""

    items: list[T]
    next_cursor: str | None = None


def page_of(rows: Sequence[T], *, limit: int, key: Callable[[T], Sequence[KeyValue]]) -> Page[T]:
    """The page from `rows` read with `limit + 1`: cut to `limit`, with the next cursor when
    the extra row was there."""
    if len(rows) <= limit:
        return Page(list(rows))
    kept = list(rows[:limit])
    return Page(kept, encode_cursor(key(kept[-1])))


def with_cursor(url: str, cursor: str | None) -> str:
    """`url` with its `cursor` query parameter replaced (removed when None), every other
    parameter kept in order."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != CURSOR_FIELD]
    if cursor is not None:
        query.append((CURSOR_FIELD, cursor))
    return urlunsplit(parts._replace(query=urlencode(query)))


def link_header(url: str, *, next_cursor: str | None, first: bool = False) -> str | None:
    """The RFC 8288 `Link` value of a page at `url`: rel="next" when more rows follow, and
    rel="first" on pages after the first; None when there is nothing to link."""
    links = []
    if next_cursor is not None:
        links.append(f'<{with_cursor(url, next_cursor)}>; rel="next"')
    if first:
        links.append(f'<{with_cursor(url, None)}>; rel="first"')
    return ", ".join(links) or None
