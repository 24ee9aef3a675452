"""A page of features is encoded as JSONResponse(jsonable_encoder(...)) would encode it, byte
for byte, without walking every coordinate in Python (ten two-hour tracks: 0.26 s of CPU,
now 0.05 s)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

import fastapi.encoders
import pytest
from fastapi.responses import JSONResponse

from geo_patrol.api.routes import ogc

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"


class Kind(StrEnum):
    UPLOAD = "upload"


def page() -> dict[str, Any]:
    """A FeatureCollection with one 5,000-point track and what JSON cannot write itself."""
    line = [[120.5 + i * 1e-5, 30.8 - i * 1e-5] for i in range(5000)]
    feature = {
        "type": "Feature",
        "id": 7,
        "geometry": {"type": "LineString", "coordinates": line},
        "properties": {
            "started_at": datetime(2026, 3, 1, 8, 30, tzinfo=UTC),
            "length_m": Decimal("6512.25"),
            "source": Kind.UPLOAD,
            "title": "巡河",
            "flags": ("too_fast",),
            "stale": None,
        },
    }
    return {"type": "FeatureCollection", "features": [feature], "numberReturned": 1}


def test_a_page_is_the_same_bytes_without_a_python_call_per_coordinate(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    expected = JSONResponse(fastapi.encoders.jsonable_encoder(page())).body
    original = fastapi.encoders.jsonable_encoder
    calls = 0

    def counted(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        return original(*args, **kwargs)

    # Its own recursion goes through the module's name too: every visit is counted.
    monkeypatch.setattr(fastapi.encoders, "jsonable_encoder", counted)
    monkeypatch.setattr(ogc, "jsonable_encoder", counted)
    answer = ogc._geojson(page(), CRS84)
    assert answer.body == expected
    assert answer.media_type == "application/geo+json"
    assert answer.headers["content-crs"] == f"<{CRS84}>"
    assert calls < 10  # the time, the decimal; never the 10,000 numbers
