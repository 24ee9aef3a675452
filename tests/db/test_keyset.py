"""A list's keyset order: cursors checked by kind before they reach SQL, pages cut with the
next cursor, and the same paging over a small list computed in Python."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from geo_patrol.core.errors import InvalidInput
from geo_patrol.core.paging import KeyValue, decode_cursor, encode_cursor
from geo_patrol.db.keyset import Keyset, key_value, page_in_memory, read_limit

ORDER = Keyset(("i.reported_at", "i.id"), ("reported_at", "id"), ("time", "int"), descending=True)


def test_a_cursor_of_the_wrong_kinds_is_refused_naming_the_field() -> None:
    bad: list[list[KeyValue]] = [
        ["yesterday", 1],
        ["2026-01-01T00:00:00+00:00", "1"],
        [1, 2],
        ["infinity", True],
    ]
    for key in bad:
        with pytest.raises(InvalidInput) as refused:
            ORDER.after(encode_cursor(key))
        assert refused.value.extra["field"] == "cursor"
    clause = ORDER.after(encode_cursor(["2026-01-01 08:00:00+08", 5]))
    assert clause is not None
    assert clause.sql == "(i.reported_at, i.id) < (:after_0, :after_1)"
    assert ORDER.after(None) is None


def test_a_page_is_cut_at_the_limit_with_the_last_kept_row_as_cursor() -> None:
    rows = [
        {"reported_at": datetime(2026, 1, 3, tzinfo=UTC), "id": 9},
        {"reported_at": datetime(2026, 1, 2, tzinfo=UTC), "id": 4},
        {"reported_at": datetime(2026, 1, 1, tzinfo=UTC), "id": 2},
    ]
    assert read_limit(2) == 3 and read_limit(None) is None
    page = ORDER.page(rows, 2)
    assert page.items == rows[:2]
    assert decode_cursor(page.next_cursor, arity=2) == ("2026-01-02T00:00:00+00:00", 4)
    assert ORDER.page(rows, 3).next_cursor is None
    assert ORDER.page(rows, None).items == rows
    assert key_value(date(2026, 1, 2)) == "2026-01-02"


def test_paging_in_memory_reaches_every_row_once() -> None:
    rows = [(d, n) for n, d in enumerate([2, 0, 1, 1, 0, 2, 2])]
    ordered = sorted(rows)
    walked, cursor = [], None
    while True:
        page = page_in_memory(
            ordered, key=lambda r: r, kinds=("int", "int"), limit=2, cursor=cursor
        )
        walked += page.items
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert walked == ordered
    with pytest.raises(InvalidInput):
        page_in_memory(ordered, key=lambda r: r, kinds=("int", "int"), limit=2, cursor="%%")
