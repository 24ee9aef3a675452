"""Keyset paging's pure parts: cursors round-trip, bad ones are refused, links keep filters."""

from __future__ import annotations

import base64
from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from geo_patrol.core.errors import InvalidInput
from geo_patrol.core.paging import decode_cursor, encode_cursor, link_header, page_of

keys = st.lists(
    st.one_of(st.integers(), st.text(), st.floats(allow_nan=False, allow_infinity=False)),
    min_size=1,
    max_size=3,
)


@given(keys)
def test_a_cursor_gives_back_its_key(key: list[object]) -> None:
    cursor = encode_cursor(key)  # type: ignore[arg-type]
    assert cursor.isascii() and "=" not in cursor and "/" not in cursor and "+" not in cursor
    assert decode_cursor(cursor, arity=len(key)) == tuple(key)


@given(st.text(max_size=60))
def test_any_other_text_is_refused_naming_the_cursor(text: str) -> None:
    try:
        decoded = decode_cursor(text, arity=2)
    except InvalidInput as error:
        assert error.extra["field"] == "cursor"
    else:  # only a text that happens to be a two-value cursor, or empty, is taken
        assert decoded is None or len(decoded) == 2


@pytest.mark.parametrize("payload", [b"[1]", b"[1,null]", b'{"a":1}', b"[[1],2]", b"\xff"])
def test_cursors_of_the_wrong_shape_are_refused(payload: bytes) -> None:
    cursor = base64.urlsafe_b64encode(payload).decode().rstrip("=")
    with pytest.raises(InvalidInput):
        decode_cursor(cursor, arity=2)


def test_a_page_is_cut_only_when_the_extra_row_came() -> None:
    rows = [(i, f"r{i}") for i in range(6)]
    assert page_of(rows[:5], limit=5, key=lambda r: [r[0]]).next_cursor is None
    cut = page_of(rows, limit=5, key=lambda r: [r[0]])
    assert cut.items == rows[:5]
    assert decode_cursor(cut.next_cursor, arity=1) == (4,)


def test_the_next_link_keeps_every_filter_and_replaces_the_cursor() -> None:
    url = "http://h/api/v1/incidents?status=open&bbox=1,2,3,4&cursor=old&limit=5"
    link = link_header(url, next_cursor="new", first=True)
    assert link is not None
    next_part, first_part = link.split(", <")
    assert next_part.endswith('; rel="next"') and first_part.endswith('; rel="first"')
    query = parse_qs(urlsplit(next_part[1 : next_part.index(">")]).query)
    assert query == {"status": ["open"], "bbox": ["1,2,3,4"], "limit": ["5"], "cursor": ["new"]}
    assert link_header(url, next_cursor=None) is None
