"""The OGC documents and parameters without a server: the OpenAPI 3.0 document a client
generator reads, and the datetime, bbox and cursor rules."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import schemathesis
from schemathesis.core.result import Ok

from geo_patrol.core.paging import encode_cursor
from geo_patrol.ogc.collections import COLLECTIONS
from geo_patrol.ogc.documents import in_crs, openapi
from geo_patrol.ogc.params import (
    CGCS2000,
    CRS84,
    BadQueryParameter,
    Direction,
    parse_bbox,
    parse_cursor,
    parse_datetime,
)


def test_the_openapi_document_is_3_0_with_every_collection() -> None:
    document = openapi("http://example.test/ogc", "0.4.0")
    assert document["openapi"] == "3.0.3"
    loaded = schemathesis.openapi.from_dict(document)
    results = list(loaded.get_all_operations())
    assert all(isinstance(result, Ok) for result in results)
    labels = {result.ok().label for result in results if isinstance(result, Ok)}
    for name in COLLECTIONS:
        assert f"GET /collections/{name}/items" in labels
        assert f"GET /collections/{name}/items/{{featureId}}" in labels
    assert len(labels) == 4 + 3 * len(COLLECTIONS)


def test_datetime_takes_instants_and_intervals_with_open_ends() -> None:
    noon = datetime(2026, 12, 1, 4, tzinfo=UTC)
    assert parse_datetime("2026-12-01T12:00:00+08:00") is not None
    instant = parse_datetime("2026-12-01T04:00:00Z")
    assert instant is not None and instant.instant and instant.start == noon
    opened = parse_datetime("../2026-12-01T04:00:00Z")
    assert opened is not None and (opened.start, opened.end) == (None, noon)
    after = parse_datetime("2026-12-01T04:00:00Z/")
    assert after is not None and (after.start, after.end) == (noon, None)
    for wrong in ("..", "soon", "2026-12-02T00:00:00Z/2026-12-01T00:00:00Z"):
        with pytest.raises(BadQueryParameter):
            parse_datetime(wrong)


def test_a_cgcs2000_box_and_geometry_are_latitude_first() -> None:
    assert parse_bbox("30.8,120.6,31.0,120.9", crs=CGCS2000) == (120.6, 30.8, 120.9, 31.0)
    assert parse_bbox("120.6,30.8,0,120.9,31.0,10", crs=CRS84) == (120.6, 30.8, 120.9, 31.0)
    line = {"type": "LineString", "coordinates": [[120.6, 30.8], [120.7, 30.9]]}
    assert in_crs(line, CGCS2000) == {
        "type": "LineString",
        "coordinates": [[30.8, 120.6], [30.9, 120.7]],
    }
    assert in_crs(line, CRS84) == line


def test_cursors_are_ours_or_refused() -> None:
    assert parse_cursor(encode_cursor(["p", 42])).direction is Direction.PREV
    for wrong in ("x", encode_cursor([42]), encode_cursor(["q", 42])):
        with pytest.raises(BadQueryParameter) as refused:
            parse_cursor(wrong)
        assert refused.value.extra["field"] == "cursor"
