"""The query parameters of OGC API - Features, checked: bbox (+ bbox-crs), datetime, limit,
crs, the paging cursor and each collection's own property filters.

A parameter the collection does not know is refused with a 400 naming it (Part 1 requires
it: a client that thinks it filtered must not get everything). Coordinates in and out are
CRS84 (lon, lat) unless the client names CGCS2000 (EPSG:4490), whose axis order in OGC API
Part 2 is latitude first. CGCS2000 and WGS84 differ by a few centimetres in the demo region
(both are geocentric ITRF-aligned frames), less than any stored position is accurate to, so
the numbers stay as stored and only the axes are swapped.

Introduced in: geo-patrol 0.4.0
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, ClassVar

from geo_patrol.core.catalog import msg
from geo_patrol.core.errors import GeoPatrolError, InvalidInput
from geo_patrol.core.paging import DEFAULT_LIMIT, MAX_LIMIT, KeyValue, decode_cursor


class BadQueryParameter(GeoPatrolError):
    """A query parameter OGC API clients sent wrong or that the resource does not know
    (400, as OGC API - Features Part 1 requires, not the API's 422); `field` names it."""

    status: ClassVar[int] = 400


CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
CGCS2000 = "http://www.opengis.net/def/crs/EPSG/0/4490"
SUPPORTED_CRS = (CRS84, CGCS2000)
# Other spellings clients use for the same two systems.
CRS_ALIASES = {
    CRS84: CRS84,
    "http://www.opengis.net/def/crs/OGC/0/CRS84": CRS84,
    "OGC:CRS84": CRS84,
    CGCS2000: CGCS2000,
    "EPSG:4490": CGCS2000,
    "https://www.opengis.net/def/crs/EPSG/0/4490": CGCS2000,
}
# Parameters every items request may carry (f: the format, JSON whatever it says).
COMMON = frozenset({"f", "limit", "cursor", "bbox", "bbox-crs", "datetime", "crs"})
FORMATS = frozenset({"json", "geojson", "application/geo+json", "application/json"})


def parse_crs(value: str | None, *, name: str = "crs") -> str:
    """The CRS URI a client named (CRS84 when absent); 400 for one we do not serve."""
    if value is None or value == "":
        return CRS84
    found = CRS_ALIASES.get(value.strip())
    if found is None:
        raise BadQueryParameter(
            msg("problem.ogc.crs_unknown", name=name, known=", ".join(SUPPORTED_CRS), value=value),
            field=name,
        )
    return found


def lat_first(crs: str) -> bool:
    """Whether coordinates in `crs` are written latitude first (EPSG:4490 in OGC API)."""
    return crs == CGCS2000


def parse_bbox(value: str | None, *, crs: str) -> tuple[float, float, float, float] | None:
    """The box as (minlon, minlat, maxlon, maxlat) in degrees, from 4 (or 6, heights
    ignored) numbers in `crs` axis order; None when absent."""
    if value is None:
        return None
    try:
        numbers = [float(v) for v in value.split(",")]
    except ValueError:
        raise BadQueryParameter(msg("problem.ogc.bbox_numbers"), field="bbox") from None
    if len(numbers) == 6:
        numbers = [numbers[0], numbers[1], numbers[3], numbers[4]]
    if len(numbers) != 4 or not all(map(math.isfinite, numbers)):
        raise BadQueryParameter(msg("problem.ogc.bbox_numbers"), field="bbox")
    if lat_first(crs):
        numbers = [numbers[1], numbers[0], numbers[3], numbers[2]]
    west, south, east, north = numbers
    if south > north or not (-90 <= south <= 90 and -90 <= north <= 90):
        raise BadQueryParameter(msg("problem.ogc.bbox_latitudes"), field="bbox")
    return west, south, east, north


@dataclass(frozen=True)
class Interval:
    """A `datetime` parameter: an instant (start == end) or an interval, either end open."""

    start: datetime | None
    end: datetime | None

    @property
    def instant(self) -> bool:
        """True for a single instant."""
        return self.start is not None and self.start == self.end

    def half_open(self) -> tuple[datetime | None, datetime | None]:
        """[start, end) for queries: an instant becomes its own second."""
        if self.instant and self.start is not None:
            return self.start, self.start + timedelta(seconds=1)
        return self.start, self.end


def _moment(text: str) -> datetime | None:
    """One end of a datetime parameter (None for an open end); 400 naming `datetime`."""
    if text in ("", ".."):
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise BadQueryParameter(
            msg("problem.ogc.datetime_format", text=text),
            field="datetime",
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def parse_datetime(value: str | None) -> Interval | None:
    """An instant, or `start/end` with `..` (or nothing) for an open end; None when absent."""
    if value is None:
        return None
    if "/" not in value:
        moment = _moment(value)
        if moment is None:
            raise BadQueryParameter(msg("problem.ogc.datetime_open_instant"), field="datetime")
        return Interval(moment, moment)
    first, _, last = value.partition("/")
    interval = Interval(_moment(first), _moment(last))
    if interval.start and interval.end and interval.start > interval.end:
        raise BadQueryParameter(msg("problem.ogc.datetime_backwards"), field="datetime")
    return interval


def parse_limit(value: str | None) -> int:
    """Features per page: DEFAULT_LIMIT when absent; 1 to MAX_LIMIT."""
    if value is None:
        return DEFAULT_LIMIT
    try:
        limit = int(value)
    except ValueError:
        raise BadQueryParameter(msg("problem.ogc.limit_number"), field="limit") from None
    if not 1 <= limit <= MAX_LIMIT:
        raise BadQueryParameter(msg("problem.ogc.limit_range", most=MAX_LIMIT), field="limit")
    return limit


class Direction(StrEnum):
    """Which way a cursor pages from its key."""

    NEXT = "n"
    PREV = "p"


@dataclass(frozen=True)
class Position:
    """Where a page starts: after (NEXT) or before (PREV) a feature's key; no key: first."""

    direction: Direction = Direction.NEXT
    key: KeyValue | None = None


def parse_cursor(value: str | None) -> Position:
    """The position a cursor this service gave out names; 400 for any other."""
    try:
        decoded = decode_cursor(value, arity=2)
    except InvalidInput:
        raise BadQueryParameter(msg("problem.ogc.cursor_unknown"), field="cursor") from None
    if decoded is None:
        return Position()
    direction, key = decoded
    if direction not in (Direction.NEXT, Direction.PREV):
        raise BadQueryParameter(msg("problem.ogc.cursor_unknown"), field="cursor")
    return Position(Direction(str(direction)), key)


def text_value(name: str, value: str) -> str:
    """A text filter value, as given."""
    if not value or len(value) > 200:
        raise BadQueryParameter(msg("problem.ogc.text_length", name=name), field=name)
    return value


def int_value(name: str, value: str) -> int:
    """A positive id filter value."""
    try:
        number = int(value)
    except ValueError:
        raise BadQueryParameter(msg("problem.ogc.whole_number", name=name), field=name) from None
    if not 1 <= number <= 2**31 - 1:
        raise BadQueryParameter(msg("problem.ogc.not_an_id", name=name), field=name)
    return number


def bool_value(name: str, value: str) -> bool:
    """A true/false filter value."""
    if value.lower() in ("true", "1"):
        return True
    if value.lower() in ("false", "0"):
        return False
    raise BadQueryParameter(msg("problem.ogc.boolean", name=name), field=name)


def choice(words: type[StrEnum]) -> Callable[[str, str], str]:
    """A filter value that must be one of an enum's values."""

    def check(name: str, value: str) -> str:
        allowed = [str(w) for w in words]
        if value not in allowed:
            raise BadQueryParameter(
                msg("problem.ogc.one_of", name=name, known=", ".join(allowed)), field=name
            )
        return value

    return check


Parser = Callable[[str, str], Any]


@dataclass(frozen=True)
class ItemsQuery:
    """An items request, checked: box (CRS84 degrees), period, page, output CRS and the
    collection's own filters by name."""

    bbox: tuple[float, float, float, float] | None = None
    period: Interval | None = None
    limit: int = DEFAULT_LIMIT
    position: Position = Position()
    crs: str = CRS84
    filters: dict[str, Any] = field(default_factory=dict)


def check_format(params: Mapping[str, str]) -> None:
    """Only JSON is served (`f` may say json or geojson)."""
    wanted = params.get("f")
    if wanted is not None and wanted.lower() not in FORMATS:
        raise BadQueryParameter(msg("problem.ogc.format_json_only"), field="f")


def parse_items(params: Mapping[str, str], *, filters: Mapping[str, Parser]) -> ItemsQuery:
    """An items request's parameters, every one known and checked (400 naming the first
    that is not)."""
    for name in params:
        if name not in COMMON and name not in filters:
            known = ", ".join(sorted(COMMON | set(filters)))
            raise BadQueryParameter(
                msg("problem.ogc.unknown_parameter_known", name=name, known=known), field=name
            )
    check_format(params)
    return ItemsQuery(
        bbox=parse_bbox(params.get("bbox"), crs=parse_crs(params.get("bbox-crs"), name="bbox-crs")),
        period=parse_datetime(params.get("datetime")),
        limit=parse_limit(params.get("limit")),
        position=parse_cursor(params.get("cursor")),
        crs=parse_crs(params.get("crs")),
        filters={name: filters[name](name, params[name]) for name in filters if name in params},
    )


def parse_plain(params: Mapping[str, str], *, allowed: frozenset[str]) -> str:
    """A request for a document (landing, a collection, one feature): only `allowed`
    parameters; the output CRS (CRS84 unless `crs` is allowed and given)."""
    for name in params:
        if name not in allowed:
            raise BadQueryParameter(msg("problem.ogc.unknown_parameter", name=name), field=name)
    check_format(params)
    return parse_crs(params.get("crs")) if "crs" in allowed else CRS84
