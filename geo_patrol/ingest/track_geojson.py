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
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from geo_patrol.errors import ImportFileError
from geo_patrol.ingest.tracks import (
    MAX_WAYPOINTS,
    NAT,
    TimeValueError,
    TrackFile,
    TrackPoints,
    Waypoint,
    epoch_times,
    parse_times,
    renumber_segments,
)

__all__ = ["parse_geojson"]

_TIME_ARRAYS = ("coordTimes", "times")
_TIME_KEYS = ("time", "timestamp")
_ACCURACY_KEYS = ("accuracy", "accuracy_m")


class _FeatureError(Exception):
    """A problem in one feature, turned into an ImportFileError with the feature number."""

    def __init__(self, detail: str, field: str) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field


def _positions(coords: object) -> NDArray[np.float64]:
    """A list of [lon, lat(, ele)] positions as an (n, 3) array, ele NaN where absent."""
    if not isinstance(coords, list):
        raise _FeatureError("coordinates are not an array of positions", "geometry")
    if not coords:
        return np.zeros((0, 3))
    try:
        array = np.array(coords, dtype=np.float64)
    except (ValueError, TypeError):
        array = np.zeros(0)
    if array.ndim != 2 or array.shape[1] < 2:
        for index, position in enumerate(coords):
            if not isinstance(position, list) or len(position) < 2:
                detail = f"position {index + 1} is {position!r}, not [lon, lat(, ele)]"
                raise _FeatureError(detail, "geometry")
        raise _FeatureError("positions mix numbers and other values", "geometry")
    if array.shape[1] == 2:
        array = np.column_stack([array, np.full(len(array), np.nan)])
    bad = np.flatnonzero(~((np.abs(array[:, 0]) <= 180) & (np.abs(array[:, 1]) <= 90)))
    if len(bad):
        position = coords[int(bad[0])]
        detail = f"position {bad[0] + 1} {position!r} is outside lon -180..180 / lat -90..90"
        raise _FeatureError(detail, "geometry")
    return array[:, :3]


def _time_values(values: list[Any]) -> NDArray[np.datetime64]:
    """Times given as ISO strings, epoch numbers or null; TimeValueError for anything else."""
    for index, value in enumerate(values):
        if isinstance(value, bool) or not (value is None or isinstance(value, str | int | float)):
            raise TimeValueError(index, value)
    out = np.full(len(values), NAT)
    numbers = [i for i, v in enumerate(values) if isinstance(v, int | float)]
    texts = [i for i, v in enumerate(values) if isinstance(v, str)]
    if numbers:
        out[numbers] = epoch_times([values[i] for i in numbers])
    if texts:
        try:
            out[texts] = parse_times([values[i] for i in texts])
        except TimeValueError as exc:
            raise TimeValueError(texts[exc.index], exc.text) from exc
    return out


def _line_times(times: object, count: int) -> NDArray[np.datetime64]:
    """The per-position times of a line (all NaT when the feature has none)."""
    if times is None:
        return np.full(count, NAT)
    if not isinstance(times, list) or len(times) != count:
        found = f"{len(times)} values" if isinstance(times, list) else "no array"
        raise _FeatureError(f"has {count} positions but its time array has {found}", "coordTimes")
    try:
        return _time_values(times)
    except TimeValueError as exc:
        detail = f"time {exc.index + 1} {exc.text!r} is not a time"
        raise _FeatureError(detail, "coordTimes") from exc


def _property(properties: Mapping[str, Any], keys: tuple[str, ...]) -> Any:
    """The first of `keys` present in the properties (None if none is)."""
    for key in keys:
        if key in properties:
            return properties[key]
    return None


@dataclass
class _Reader:
    """Points, waypoints and segment bookkeeping while walking the features."""

    lon: list[NDArray[np.float64]] = field(default_factory=list)
    time: list[NDArray[np.datetime64]] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)
    segment: list[NDArray[np.int64]] = field(default_factory=list)
    waypoints: list[Waypoint] = field(default_factory=list)
    next_segment: int = 0
    in_point_run: bool = False
    first_line_name: str | None = None

    def add(self, coords: NDArray[np.float64], times: NDArray[np.datetime64], run: bool) -> None:
        """Append a chunk of points: a new segment unless it continues a run of Points."""
        if not (run and self.in_point_run):
            self.next_segment += 1
        self.in_point_run = run
        self.lon.append(coords)
        self.time.append(times)
        self.segment.append(np.full(len(coords), self.next_segment, dtype=np.int64))

    def line(self, coords: object, times: object) -> None:
        """One LineString's positions with their times (or None)."""
        array = _positions(coords)
        self.accuracy.extend([np.nan] * len(array))
        self.add(array, _line_times(times, len(array)), run=False)

    def multi_line(self, coords: object, times: object) -> None:
        """A MultiLineString: one segment per part; times per part or one flat array."""
        if not isinstance(coords, list):
            raise _FeatureError("coordinates are not an array of lines", "geometry")
        if isinstance(times, list) and times and not isinstance(times[0], list):
            sizes = [len(part) if isinstance(part, list) else 0 for part in coords]
            if sum(sizes) != len(times):
                detail = f"has {sum(sizes)} positions but its time array has {len(times)} values"
                raise _FeatureError(detail, "coordTimes")
            bounds = np.cumsum([0, *sizes]).tolist()
            times = [times[a:b] for a, b in itertools.pairwise(bounds)]
        for index, part in enumerate(coords):
            part_times = times[index] if isinstance(times, list) and index < len(times) else None
            self.line(part, part_times)

    def point(self, coords: object, properties: Mapping[str, Any]) -> None:
        """A Point: a timed track point, a named waypoint, or an untimed track point."""
        array = _positions([coords])
        time = _property(properties, _TIME_KEYS)
        name = properties.get("name")
        if time is None and name is not None:
            if len(self.waypoints) >= MAX_WAYPOINTS:
                raise _FeatureError(f"is one more than {MAX_WAYPOINTS:,} waypoints", "geometry")
            description = _property(properties, ("description", "desc"))
            lon, lat = float(array[0, 0]), float(array[0, 1])
            text = None if description is None else str(description)
            self.waypoints.append(Waypoint(str(name), lon, lat, None, text))
            return
        try:
            parsed = _time_values([time])
        except TimeValueError as exc:
            raise _FeatureError(f"time {exc.text!r} is not a time", "time") from exc
        accuracy = _property(properties, _ACCURACY_KEYS)
        valid = isinstance(accuracy, int | float) and not isinstance(accuracy, bool)
        self.accuracy.append(float(accuracy) if valid else np.nan)
        self.add(array, parsed, run=True)

    def geometry(self, geometry: object, properties: Mapping[str, Any]) -> None:
        """Dispatch one geometry (GeometryCollections part by part)."""
        if geometry is None:
            return
        if not isinstance(geometry, Mapping):
            raise _FeatureError("geometry is not an object", "geometry")
        kind, coords = geometry.get("type"), geometry.get("coordinates")
        times = _property(properties, _TIME_ARRAYS)
        if kind == "LineString":
            self.line(coords, times)
        elif kind == "MultiLineString":
            self.multi_line(coords, times)
        elif kind == "Point":
            self.point(coords, properties)
        elif kind == "GeometryCollection":
            for part in geometry.get("geometries") or []:
                self.geometry(part, {})
        if kind in ("LineString", "MultiLineString") and self.first_line_name is None:
            name = properties.get("name")
            self.first_line_name = None if name is None else str(name)

    def to_points(self) -> TrackPoints:
        """All points collected, in file order."""
        coords = np.concatenate(self.lon) if self.lon else np.zeros((0, 3))
        return TrackPoints.from_arrays(
            coords[:, 0],
            coords[:, 1],
            time=np.concatenate(self.time) if self.time else np.zeros(0, "datetime64[ms]"),
            ele=coords[:, 2],
            accuracy_m=self.accuracy,
            segment=renumber_segments(np.concatenate(self.segment) if self.segment else []),
        )


def _load(data: bytes, filename: str) -> Any:
    """The decoded JSON document."""
    try:
        return json.loads(data)
    except json.JSONDecodeError as exc:
        raise ImportFileError(
            f"{filename}: not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}",
            line=exc.lineno,
            file=filename,
        ) from exc
    except (UnicodeDecodeError, RecursionError) as exc:
        raise ImportFileError(f"{filename}: not readable JSON: {exc}", file=filename) from exc


def _features(doc: Any, filename: str) -> list[tuple[object, Mapping[str, Any]]]:
    """(geometry, properties) of every feature, or of the bare geometry."""
    if not isinstance(doc, Mapping):
        raise ImportFileError(f"{filename}: not a GeoJSON object", file=filename)
    kind = doc.get("type")
    if kind == "FeatureCollection":
        features = doc.get("features")
        if not isinstance(features, list):
            raise ImportFileError(f"{filename}: 'features' is not an array", file=filename)
    elif kind == "Feature":
        features = [doc]
    elif (isinstance(kind, str) and "coordinates" in doc) or kind == "GeometryCollection":
        features = [{"type": "Feature", "geometry": doc, "properties": {}}]
    else:
        raise ImportFileError(f"{filename}: not GeoJSON (type {kind!r})", file=filename)
    result: list[tuple[object, Mapping[str, Any]]] = []
    for number, feature in enumerate(features, start=1):
        if not isinstance(feature, Mapping):
            raise ImportFileError(
                f"{filename}: feature {number} is not an object", feature=number, file=filename
            )
        properties = feature.get("properties")
        result.append(
            (feature.get("geometry"), properties if isinstance(properties, Mapping) else {})
        )
    return result


def parse_geojson(data: bytes, *, filename: str) -> TrackFile:
    """Parse a GeoJSON track file."""
    doc = _load(data, filename)
    reader = _Reader()
    for number, (geometry, properties) in enumerate(_features(doc, filename), start=1):
        try:
            reader.geometry(geometry, properties)
        except _FeatureError as exc:
            raise ImportFileError(
                f"{filename}: feature {number}: {exc.detail}",
                feature=number,
                field=exc.field,
                file=filename,
            ) from exc
    name = doc.get("name") if isinstance(doc.get("name"), str) else None
    return TrackFile(
        format="geojson",
        points=reader.to_points(),
        waypoints=reader.waypoints,
        name=name or reader.first_line_name,
        creator=None,
    )
