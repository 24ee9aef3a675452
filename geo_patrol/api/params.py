"""Parsing of query parameters shared by several routes."""

from __future__ import annotations

from geo_patrol.errors import InvalidInput


def parse_bbox(value: str | None) -> list[float] | None:
    """minlon,minlat,maxlon,maxlat as four floats (None when absent)."""
    if value is None:
        return None
    try:
        numbers = [float(v) for v in value.split(",")]
    except ValueError as error:
        raise InvalidInput("bbox must be minlon,minlat,maxlon,maxlat", field="bbox") from error
    if len(numbers) != 4:
        raise InvalidInput("bbox must be minlon,minlat,maxlon,maxlat", field="bbox")
    return numbers
