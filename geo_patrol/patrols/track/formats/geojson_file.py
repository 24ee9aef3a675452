"""GeoJSON track files (RFC 7946 lon/lat): FeatureCollection, Feature or a bare geometry.

* LineString and MultiLineString: one segment per line. Times come from a per-coordinate
  `coordTimes` (or `times`) property array, the convention of togeojson and Strava/Garmin
  conversions; for a MultiLineString it is an array per line (a flat array covering all lines
  is accepted too). A third coordinate is the elevation.
* Point with a `time` (or `timestamp`) property: a track point; consecutive such features,
  in the order given, form one segment. An `accuracy` property is its accuracy in metres.
* Point without a time but with a `name`: a waypoint. Other Points are track points without
  a time. GeometryCollections are read part by part; other geometry types are ignored.

Times are ISO 8601 strings or Unix epoch numbers (milliseconds when >= 1e11, else seconds).
Errors name the 1-based feature (`feature=`) and the member at fault (`field=`).

The document is streamed (ijson over yajl): positions and times are kept as numpy arrays,
converted a few thousand at a time, and members the reader does not use are skipped unbuilt,
so memory follows the fixes kept, not the bytes read. Nesting deeper than MAX_DEPTH is
refused.
"""

from __future__ import annotations

import io
import itertools
import json
import re
from array import array
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import ijson  # type: ignore[import-untyped]
import numpy as np
from numpy.typing import NDArray

from geo_patrol.core.catalog import Message, msg
from geo_patrol.core.errors import ImportFileError
from geo_patrol.patrols.track.times import TimeValueError, epoch_times, parse_times
from geo_patrol.patrols.track.types import MAX_WAYPOINTS, NAT, PointChunks, TrackFile, Waypoint

__all__ = ["MAX_DEPTH", "parse_geojson"]

# GeoJSON needs about eight levels; properties may nest a little more.
MAX_DEPTH = 100
_TIME_ARRAYS = ("coordTimes", "times")
_TIME_KEYS = ("time", "timestamp")
_ACCURACY_KEYS = ("accuracy", "accuracy_m")
_TEXT_KEYS = ("name", "description", "desc")
_TIMES_PIECE = 4096  # time texts parsed at a time
_POINTS_PIECE = 4096  # timed Point features collected before they become a numpy chunk
_READ_PIECE = 64 * 1024
_OPEN = ("start_map", "start_array")
_CLOSE = ("end_map", "end_array")


NOT_A_TIME = msg("problem.track.not_a_time")
MIXED = msg("problem.track.mixed_positions")


def _values(count: int) -> Message:
    """ "{count} values" of a time array."""
    return msg("problem.track.values", count=count)


def _times_differ(count: int, found: Message) -> Message:
    """A line whose time array does not match its positions."""
    return msg("problem.track.times_differ", count=count, found=found)


def _bad_time(number: int, exc: TimeValueError) -> Message:
    """Time `number` (1-based) of a time array cannot be read."""
    return msg("problem.track.bad_time", number=number, text=exc.text, why=exc.why(NOT_A_TIME))


class _FeatureError(Exception):
    """A problem in one feature, turned into an ImportFileError with the feature number."""

    def __init__(self, detail: Message, field: str) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field


class _Utf8:
    """A UTF-16/UTF-32 document re-encoded as UTF-8 a piece at a time (yajl reads UTF-8)."""

    def __init__(self, data: bytes, encoding: str) -> None:
        """Decode `data` from `encoding` as it is read."""
        self.text = io.TextIOWrapper(io.BytesIO(data), encoding=encoding)

    def read(self, size: int = -1) -> bytes:
        """About `size` bytes of UTF-8 (none for 0: ijson's probe of the stream's type)."""
        if size == 0:
            return b""
        return self.text.read(_READ_PIECE if size < 0 else max(size // 4, 1)).encode()


class _Events:
    """The document's (event, value) pairs; nesting beyond MAX_DEPTH and bad JSON refused."""

    def __init__(self, data: bytes, filename: str) -> None:
        """Stream `data`, which json.loads would decode by its encoding, through yajl."""
        self.data, self.filename, self.depth = data, filename, 0
        encoding = json.detect_encoding(data[:4])
        stream: Any
        if encoding == "utf-8-sig":
            stream = io.BytesIO(memoryview(data)[3:])
        elif encoding == "utf-8":
            stream = io.BytesIO(data)
        else:
            stream = _Utf8(data, encoding)
        self.events: Iterator[tuple[str, Any]] = ijson.basic_parse(stream, use_float=True)

    def next(self) -> tuple[str, Any]:
        """The next event."""
        try:
            event, value = next(self.events)
        except ijson.JSONError as exc:
            raise self.invalid(str(exc)) from exc
        except UnicodeDecodeError as exc:
            raise self.unreadable(str(exc)) from exc
        except StopIteration:
            raise self.invalid("parse error: premature EOF") from None
        if event in _OPEN:
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise ImportFileError(
                    msg("problem.track.json_too_deep", filename=self.filename, max_depth=MAX_DEPTH),
                    file=self.filename,
                )
        elif event in _CLOSE:
            self.depth -= 1
        return event, value

    def finish(self) -> None:
        """Read to the end (trailing garbage is an error)."""
        try:
            for _ in self.events:
                pass
        except ijson.JSONError as exc:
            raise self.invalid(str(exc)) from exc
        except UnicodeDecodeError as exc:
            raise self.unreadable(str(exc)) from exc

    def unreadable(self, detail: Message | str) -> ImportFileError:
        """The document is not text in its encoding."""
        return ImportFileError(
            msg("problem.track.json_unreadable", filename=self.filename, detail=detail),
            file=self.filename,
        )

    def invalid(self, message: str) -> ImportFileError:
        """yajl's error, with the line it points at when it can be found."""
        if message.startswith("b'") and "invalid bytes in UTF8" in message:
            return self.unreadable(msg("problem.track.invalid_utf8"))
        lines = message.split("\n")
        summary = lines[0]
        line = _error_line(self.data, lines)
        if line is None:
            return ImportFileError(
                msg("problem.track.json_invalid", filename=self.filename, summary=summary),
                file=self.filename,
            )
        return ImportFileError(
            msg(
                "problem.track.json_invalid_at_line",
                filename=self.filename,
                line=line,
                summary=summary,
            ),
            line=line,
            file=self.filename,
        )


def _error_line(data: bytes, lines: list[str]) -> int | None:
    """The 1-based line yajl's error context points at, if it is found exactly once."""
    if len(lines) < 3 or "^" not in lines[2]:
        return None
    column = lines[2].index("^")
    before = lines[1][:column].lstrip(" ")
    after = lines[1][column:].rstrip(" ")
    pattern = re.escape((before + after).encode()).replace(rb"\ ", rb"\s")
    found = [m.start() for m in itertools.islice(re.finditer(pattern, data), 2)]
    if len(found) != 1:
        return None
    return data.count(b"\n", 0, found[0] + len(before.encode())) + 1


def _skip(events: _Events, event: str) -> None:
    """Skip the value that `event` starts, unbuilt."""
    if event not in _OPEN:
        return
    depth = events.depth - 1
    while events.depth > depth:
        events.next()


def _value(events: _Events, event: str, value: Any) -> Any:
    """The value that (event, value) starts, built as json.loads would (for small members)."""
    if event == "start_map":
        result: dict[str, Any] = {}
        while (item := events.next())[0] != "end_map":
            result[item[1]] = _value(events, *events.next())
        return result
    if event == "start_array":
        items: list[Any] = []
        while (item := events.next())[0] != "end_array":
            items.append(_value(events, *item))
        return items
    return value


def _is_number(value: object) -> bool:
    """A JSON number (not a boolean)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def _as_floats(item: list[Any]) -> list[float] | None:
    """A position's values as numpy reads them into float64 (null NaN, true 1.0, "2.5" 2.5),
    or None if one is not a number to numpy."""
    try:
        return [np.nan if v is None else float(v) for v in item]
    except (TypeError, ValueError):
        return None


class _Parts(list[Any]):
    """An array of arrays of positions (or deeper): read part by part."""


def _small_array(events: _Events) -> list[Any]:
    """The rest of an array that should hold a few scalars (a position)."""
    items: list[Any] = []
    while (item := events.next())[0] != "end_array":
        items.append(_value(events, *item))
    return items


@dataclass
class _Positions:
    """An array of positions, kept as flat lon/lat/ele floats, with its first problems
    (reported in the order json.loads and numpy found them: shape, then mix, then range)."""

    flat: array[float] = field(default_factory=lambda: array("d"))
    count: int = 0
    width: int = 0
    heads: list[Any] = field(default_factory=list)  # the first two items as written
    values: int = 0  # numbers in all the items (what a MultiLineString would count)
    shape: tuple[int, Any] | None = None  # first item that is not an array of two or more
    mixed: bool = False  # numbers mixed with other values, or positions of different widths
    outside: tuple[int, Any] | None = None  # first position outside the lon/lat ranges

    def add(self, item: Any) -> None:
        """One item of the array: a position (a list of scalars) or anything else."""
        index, self.count = self.count, self.count + 1
        if index < 2:
            self.heads.append(item)
        self.values += len(item) if isinstance(item, list) else 0
        if not isinstance(item, list) or len(item) < 2:
            if self.shape is None:
                self.shape = (index, item)
            return
        values = _as_floats(item) if not self.mixed else None
        if values is None or len(item) != (self.width or len(item)):
            self.mixed = True
            return
        self.width = len(item)
        lon, lat = values[0], values[1]
        if self.outside is None and not (abs(lon) <= 180 and abs(lat) <= 90):
            self.outside = (index, item)
        self.flat.extend((lon, lat, values[2] if len(values) > 2 else np.nan))

    def array(self) -> NDArray[np.float64]:
        """The (n, 3) positions; _FeatureError for the first problem."""
        if self.shape is not None:
            index, item = self.shape
            raise _not_position(index, item)
        if self.mixed:
            raise _FeatureError(MIXED, "geometry")
        if self.outside is not None:
            index, item = self.outside
            raise _FeatureError(
                msg("problem.track.position_outside", number=index + 1, value=item), "geometry"
            )
        return np.frombuffer(self.flat, dtype=np.float64).reshape(-1, 3).copy()


def _coordinates(events: _Events, event: str, value: Any) -> Any:
    """`coordinates`: a position (a list of scalars), _Positions for an array of positions,
    _Parts for deeper arrays, or the plain value."""
    if event != "start_array":
        return _value(events, event, value)
    item = events.next()
    if item[0] == "end_array":
        return []
    if item[0] != "start_array":
        return [_value(events, *item), *_small_array(events)]
    first = _coordinates(events, *item)
    positions = _Positions()
    if first == []:  # an empty line or a bad position: the next item tells which
        item = events.next()
        if item[0] == "end_array":
            return _Parts([first])
        second = _coordinates(events, *item)
        if isinstance(second, _Parts | _Positions) or second == []:
            return _more_parts(events, _Parts([first, second]))
        positions.add(first)
        first = second
    elif isinstance(first, _Parts | _Positions):
        return _more_parts(events, _Parts([first]))
    positions.add(first)
    while (item := events.next())[0] != "end_array":
        if item[0] == "start_array":
            positions.add(_small_array(events))
        else:
            positions.add(_value(events, *item))
    return positions


def _more_parts(events: _Events, parts: _Parts) -> _Parts:
    """The rest of an array of parts (lines, rings...)."""
    while (item := events.next())[0] != "end_array":
        parts.append(_coordinates(events, *item))
    return parts


@dataclass
class _Times:
    """A time array, parsed a few thousand at a time: texts into datetime64 pieces, numbers
    kept as floats (their unit, seconds or milliseconds, is judged over the whole array)."""

    pieces: list[NDArray[np.datetime64]] = field(default_factory=list)
    numbers: array[float] = field(default_factory=lambda: array("d"))
    texts: list[str] = field(default_factory=list)
    text_at: list[int] = field(default_factory=list)
    count: int = 0
    done: int = 0  # values covered by the pieces
    error: TimeValueError | None = None

    def add(self, value: Any) -> None:
        """One value of the array."""
        index, self.count = self.count, self.count + 1
        self.numbers.append(float(value) if _is_number(value) else np.nan)
        if isinstance(value, str):
            self.texts.append(value)
            self.text_at.append(index)
            if len(self.texts) >= _TIMES_PIECE:
                self.flush()
        elif not (value is None or _is_number(value)) and self.error is None:
            self.error = TimeValueError(index, value)

    def flush(self) -> None:
        """Parse the pending texts into a piece covering every value since the last."""
        piece = np.full(self.count - self.done, NAT)
        if self.texts and self.error is None:
            try:
                times = parse_times(self.texts)
            except TimeValueError as exc:
                self.error = TimeValueError(self.text_at[exc.index], exc.text, exc.problem)
            else:
                piece[np.asarray(self.text_at, dtype=np.int64) - self.done] = times
        self.pieces.append(piece)
        self.texts, self.text_at, self.done = [], [], self.count

    def values(self) -> NDArray[np.datetime64]:
        """All the times (TimeValueError for the first bad one)."""
        self.flush()
        if self.error is not None:
            raise self.error
        out = np.concatenate(self.pieces)
        numbers = np.frombuffer(self.numbers, dtype=np.float64)
        given = np.flatnonzero(~np.isnan(numbers))
        if len(given):
            try:
                out[given] = epoch_times(numbers[given])
            except TimeValueError as exc:
                raise TimeValueError(int(given[exc.index]), exc.text, exc.problem) from None
        return out


def _time_array(events: _Events, event: str, value: Any) -> Any:
    """`coordTimes`: a _Times, a list of them (an array per line), or the plain value."""
    if event != "start_array":
        return _value(events, event, value)
    item = events.next()
    if item[0] == "start_array":
        lines: list[Any] = [_time_array(events, *item)]
        while (item := events.next())[0] != "end_array":
            lines.append(_time_array(events, *item))
        return lines
    times = _Times()
    while item[0] != "end_array":
        times.add(_value(events, *item))
        item = events.next()
    return times


def _size(value: object) -> int | None:
    """How many items an array read by this module has (None: not an array)."""
    if isinstance(value, _Times | _Positions):
        return value.count
    return len(value) if isinstance(value, list) else None


def _line_times(times: object, count: int) -> NDArray[np.datetime64]:
    """The per-position times of a line (all NaT when the feature has none)."""
    if times is None:
        return np.full(count, NAT)
    if isinstance(times, _Known):
        return times.times
    size = _size(times)
    if size != count:
        found = msg("problem.track.no_array") if size is None else _values(size)
        raise _FeatureError(_times_differ(count, found), "coordTimes")
    try:
        if not isinstance(times, _Times):  # arrays where times were expected
            raise TimeValueError(0, "[...]" if isinstance(times, list) and times else times)
        return times.values()
    except TimeValueError as exc:
        raise _FeatureError(_bad_time(exc.index + 1, exc), "coordTimes") from exc


def _point_time(value: object) -> NDArray[np.datetime64]:
    """A Point's `time`: an ISO text, an epoch number or null."""
    try:
        if value is None:
            return np.full(1, NAT)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return epoch_times([float(value)])
        if isinstance(value, str):
            return parse_times([value])
        raise TimeValueError(0, value)
    except TimeValueError as exc:
        raise _FeatureError(
            msg("problem.track.time_is_not", text=exc.text, why=exc.why(NOT_A_TIME)), "time"
        ) from exc


def _not_position(index: int, item: object) -> _FeatureError:
    """Item `index` of a line is not an array of two or more numbers."""
    shown = item.heads if isinstance(item, _Positions) else item
    return _FeatureError(
        msg("problem.track.not_a_position", number=index + 1, value=shown), "geometry"
    )


def _positions(coords: object) -> NDArray[np.float64]:
    """A LineString's coordinates as an (n, 3) array, ele NaN where absent."""
    if isinstance(coords, _Positions):
        return coords.array()
    if isinstance(coords, _Parts):  # arrays of arrays where positions were expected
        for index, item in enumerate(coords):
            if (_size(item) or 0) < 2:
                raise _not_position(index, item)
        raise _FeatureError(MIXED, "geometry")
    if not isinstance(coords, list):
        raise _FeatureError(msg("problem.track.not_positions"), "geometry")
    if not coords:
        return np.zeros((0, 3))
    raise _not_position(0, coords[0])


def _one_position(coords: object) -> NDArray[np.float64]:
    """A Point's coordinates as a (1, 3) array."""
    if isinstance(coords, _Positions | _Parts):
        if (_size(coords) or 0) < 2:
            raise _not_position(0, coords.heads if isinstance(coords, _Positions) else coords)
        raise _FeatureError(MIXED, "geometry")
    positions = _Positions()
    positions.add(coords)
    return positions.array()


@dataclass
class _Geometry:
    """A geometry object as read: its type, coordinates and parts (GeometryCollection)."""

    kind: Any = None
    coordinates: Any = None
    geometries: Any = None
    has_coordinates: bool = False


def _geometry(events: _Events, event: str, value: Any) -> _Geometry | bool | None:
    """A geometry (None for null, False for anything but an object)."""
    if event != "start_map":
        _skip(events, event)
        return None if event == "null" else False
    geometry = _Geometry()
    while (item := events.next())[0] != "end_map":
        key, (event, value) = item[1], events.next()
        if key == "type":
            geometry.kind = _value(events, event, value)
        elif key == "coordinates":
            geometry.coordinates = _coordinates(events, event, value)
            geometry.has_coordinates = True
        elif key == "geometries":
            geometry.geometries = _geometries(events, event, value)
        else:
            _skip(events, event)
    return geometry


def _geometries(events: _Events, event: str, value: Any) -> Any:
    """A GeometryCollection's `geometries` (a list of _geometry results)."""
    if event != "start_array":
        return _value(events, event, value)
    parts: list[Any] = []
    while (item := events.next())[0] != "end_array":
        parts.append(_geometry(events, *item))
    return parts


def _properties(events: _Events, event: str, value: Any) -> dict[str, Any]:
    """The properties the reader uses (others are skipped unbuilt); {} if not an object."""
    found: dict[str, Any] = {}
    if event != "start_map":
        _skip(events, event)
        return found
    while (item := events.next())[0] != "end_map":
        key, (event, value) = item[1], events.next()
        if key in _TIME_ARRAYS:
            found[key] = _time_array(events, event, value)
        elif key in _TIME_KEYS or key in _ACCURACY_KEYS or key in _TEXT_KEYS:
            found[key] = _value(events, event, value)
        else:
            _skip(events, event)
    return found


def _property(properties: Mapping[str, Any], keys: tuple[str, ...]) -> Any:
    """The first of `keys` present in the properties (None if none is)."""
    for key in keys:
        if key in properties:
            return properties[key]
    return None


@dataclass
class _Reader:
    """Points, waypoints and segment bookkeeping while walking the features."""

    points: PointChunks = field(default_factory=PointChunks)
    accuracy: array[float] = field(default_factory=lambda: array("d"))
    waypoints: list[Waypoint] = field(default_factory=list)
    run: array[float] = field(default_factory=lambda: array("d"))  # timed Points pending
    run_times: array[int] = field(default_factory=lambda: array("q"))
    in_point_run: bool = False
    run_flushed: bool = False  # part of the current run is already in `points`
    first_line_name: str | None = None

    def flush_run(self) -> None:
        """The pending Points of the current run as a chunk."""
        if self.run:
            coords = np.frombuffer(self.run, dtype=np.float64).reshape(-1, 3).copy()
            times = np.frombuffer(self.run_times, dtype=np.int64).astype("datetime64[ms]")
            self.points.add(coords, times, new_segment=not self.run_flushed)
            self.run, self.run_times, self.run_flushed = array("d"), array("q"), True

    def line(self, coords: object, times: object) -> None:
        """One LineString's positions with their times (or None): a new segment."""
        positions = _positions(coords)
        line_times = _line_times(times, len(positions))
        self.flush_run()
        self.in_point_run = self.run_flushed = False
        self.accuracy.extend(np.full(len(positions), np.nan))
        self.points.add(positions, line_times)

    def multi_line(self, coords: object, times: object) -> None:
        """A MultiLineString: one segment per part; times per part or one flat array."""
        if isinstance(coords, _Positions):  # positions where lines were expected
            if isinstance(times, _Times) and times.count != coords.values:
                detail = _times_differ(coords.values, _values(times.count))
                raise _FeatureError(detail, "coordTimes")
            for part in coords.heads:
                self.line(part[:1] if isinstance(part, list) else part, None)
            return
        if not isinstance(coords, list):
            raise _FeatureError(msg("problem.track.not_lines"), "geometry")
        if isinstance(times, _Times):
            sizes = [_size(part) or 0 for part in coords]
            if sum(sizes) != times.count:
                detail = _times_differ(sum(sizes), _values(times.count))
                raise _FeatureError(detail, "coordTimes")
            bounds = np.cumsum([0, *sizes]).tolist()
            try:
                flat = times.values()
            except TimeValueError as exc:  # as when each line's times were read in turn
                part = int(np.searchsorted(bounds, exc.index, side="right")) - 1
                for earlier in coords[: part + 1]:
                    _positions(earlier)
                index = exc.index - bounds[part]
                raise _FeatureError(_bad_time(index + 1, exc), "coordTimes") from exc
            for part, (a, b) in zip(coords, itertools.pairwise(bounds), strict=True):
                self.line(part, _Known(flat[a:b]))
            return
        for index, part in enumerate(coords):
            part_times = times[index] if isinstance(times, list) and index < len(times) else None
            self.line(part, part_times)

    def point(self, coords: object, properties: Mapping[str, Any]) -> None:
        """A Point: a timed track point, a named waypoint, or an untimed track point."""
        position = _one_position(coords)
        time = _property(properties, _TIME_KEYS)
        name = properties.get("name")
        if time is None and name is not None:
            if len(self.waypoints) >= MAX_WAYPOINTS:
                raise _FeatureError(
                    msg("problem.track.one_too_many_waypoints", limit=MAX_WAYPOINTS), "geometry"
                )
            description = _property(properties, ("description", "desc"))
            lon, lat = float(position[0, 0]), float(position[0, 1])
            text = None if description is None else str(description)
            self.waypoints.append(Waypoint(str(name), lon, lat, None, text))
            return
        parsed = _point_time(time)
        accuracy = _property(properties, _ACCURACY_KEYS)
        self.accuracy.append(float(accuracy) if _is_number(accuracy) else np.nan)
        if not self.in_point_run:
            self.flush_run()
            self.run_flushed = False
        self.in_point_run = True
        self.run.extend(position[0])
        self.run_times.append(int(parsed.astype(np.int64)[0]))
        if len(self.run_times) >= _POINTS_PIECE:
            self.flush_run()

    def geometry(self, geometry: _Geometry | bool | None, properties: Mapping[str, Any]) -> None:
        """Dispatch one geometry (GeometryCollections part by part)."""
        if geometry is None:
            return
        if geometry is False or geometry is True:
            raise _FeatureError(msg("problem.track.geometry_not_object"), "geometry")
        kind, coords = geometry.kind, geometry.coordinates
        times = _property(properties, _TIME_ARRAYS)
        if kind == "LineString":
            self.line(coords, times)
        elif kind == "MultiLineString":
            self.multi_line(coords, times)
        elif kind == "Point":
            self.point(coords, properties)
        elif kind == "GeometryCollection":
            parts = geometry.geometries if isinstance(geometry.geometries, list) else []
            for part in parts:
                self.geometry(part, {})
        if kind in ("LineString", "MultiLineString") and self.first_line_name is None:
            name = properties.get("name")
            self.first_line_name = None if name is None else str(name)

    def to_track(self, name: str | None) -> TrackFile:
        """All points collected, in file order."""
        self.flush_run()
        return TrackFile(
            format="geojson",
            points=self.points.to_points(accuracy=np.frombuffer(self.accuracy, np.float64)),
            waypoints=self.waypoints,
            name=name or self.first_line_name,
            creator=None,
        )


@dataclass
class _Known:
    """Times already read (a part of a MultiLineString's flat array)."""

    times: NDArray[np.datetime64]


def _feature_error(filename: str, number: int, exc: _FeatureError) -> ImportFileError:
    """The ImportFileError of a problem in feature `number`."""
    return ImportFileError(
        msg("problem.track.geojson_feature", filename=filename, number=number, detail=exc.detail),
        feature=number,
        field=exc.field,
        file=filename,
    )


def _feature(events: _Events) -> tuple[_Geometry | bool | None, dict[str, Any]]:
    """(geometry, properties) of a feature object whose "{" was read."""
    geometry: _Geometry | bool | None = None
    properties: dict[str, Any] = {}
    while (item := events.next())[0] != "end_map":
        key, (event, value) = item[1], events.next()
        if key == "geometry":
            geometry = _geometry(events, event, value)
        elif key == "properties":
            properties = _properties(events, event, value)
        else:
            _skip(events, event)
    return geometry, properties


@dataclass
class _Document:
    """The top-level object's members, read as they stream; features handed to the reader."""

    reader: _Reader = field(default_factory=_Reader)
    kind: Any = None
    name: Any = None
    features_ok: bool = False
    geometry: _Geometry | bool | None = None
    properties: dict[str, Any] = field(default_factory=dict)
    bare: _Geometry = field(default_factory=_Geometry)


def _features(events: _Events, event: str, doc: _Document, filename: str) -> None:
    """The `features` array, each feature read and handed to the reader as it ends."""
    if event != "start_array":
        _skip(events, event)
        return
    doc.features_ok = True
    for number in itertools.count(1):
        event, _ = events.next()
        if event == "end_array":
            return
        if event != "start_map":
            raise ImportFileError(
                msg("problem.track.feature_not_object", filename=filename, number=number),
                feature=number,
                file=filename,
            )
        geometry, properties = _feature(events)
        try:
            doc.reader.geometry(geometry, properties)
        except _FeatureError as exc:
            raise _feature_error(filename, number, exc) from exc


def _document(events: _Events, filename: str) -> _Document:
    """Read the top-level object (members in any order)."""
    event, _ = events.next()
    if event != "start_map":
        _skip(events, event)
        events.finish()
        raise ImportFileError(
            msg("problem.track.not_geojson_object", filename=filename), file=filename
        )
    doc = _Document()
    while (item := events.next())[0] != "end_map":
        key, (event, value) = item[1], events.next()
        if key == "type":
            doc.kind = doc.bare.kind = _value(events, event, value)
        elif key == "name":
            doc.name = _value(events, event, value)
        elif key == "features":
            _features(events, event, doc, filename)
        elif key == "geometry":
            doc.geometry = _geometry(events, event, value)
        elif key == "properties":
            doc.properties = _properties(events, event, value)
        elif key == "coordinates":
            doc.bare.coordinates = _coordinates(events, event, value)
            doc.bare.has_coordinates = True
        elif key == "geometries":
            doc.bare.geometries = _geometries(events, event, value)
        else:
            _skip(events, event)
    events.finish()
    return doc


def parse_geojson(data: bytes, *, filename: str) -> TrackFile:
    """Parse a GeoJSON track file, streaming it."""
    doc = _document(_Events(data, filename), filename)
    kind = doc.kind
    if kind == "FeatureCollection":
        if not doc.features_ok:
            raise ImportFileError(
                msg("problem.track.features_not_array", filename=filename), file=filename
            )
        reader = doc.reader
    else:
        reader = _Reader()
        if kind == "Feature":
            geometry, properties = doc.geometry, doc.properties
        elif (isinstance(kind, str) and doc.bare.has_coordinates) or kind == "GeometryCollection":
            geometry, properties = doc.bare, {}
        else:
            raise ImportFileError(
                msg("problem.track.not_geojson_type", filename=filename, kind=kind), file=filename
            )
        try:
            reader.geometry(geometry, properties)
        except _FeatureError as exc:
            raise _feature_error(filename, 1, exc) from exc
    return reader.to_track(doc.name if isinstance(doc.name, str) else None)
