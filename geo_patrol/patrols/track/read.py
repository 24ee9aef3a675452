"""GPS track files (GPX, KML/KMZ, GeoJSON, CSV) read into one numpy-backed structure.

`parse_track` picks the parser by file extension (or, for an unknown extension, by the first
bytes), then converts every coordinate to WGS84 with `geo_patrol.core.coords.to_wgs84`. The datum
cannot be detected: phone exports from Chinese map apps (AMap, Tencent, Ovital/奥维 in its
default "Chinese map" mode) are GCJ-02 and Baidu's are BD-09, and the caller must say so.

Every parser is strict about what it reads: a coordinate that is not a number or lies outside
lon -180..180 / lat -90..90 is refused with an ImportFileError naming the line (XML, CSV) or
the feature (GeoJSON). Cleaning of plausible-but-wrong points is `track.cleaning`.

Times are numpy datetime64[ms] in UTC. Text times are ISO 8601 (`Z`, `+08:00`, `+0800`,
fractional seconds of any length, `T` or space); a time without a zone is taken as UTC. Any
other text (a bare number such as "1714521600", a year alone) is refused, and so is a time,
text or epoch number, outside the years FIRST_YEAR..LAST_YEAR that requests may name.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import PurePath
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from geo_patrol.core.coords import to_wgs84
from geo_patrol.core.errors import ImportFileError, InvalidInput
from geo_patrol.core.values import FIRST_YEAR, LAST_YEAR

if TYPE_CHECKING:
    from geo_patrol.patrols.track.formats.csv_file import CsvOptions

__all__ = [
    "DEFAULT_MAX_UNCOMPRESSED_BYTES",
    "EXTENSIONS",
    "MAX_WAYPOINTS",
    "OUTSIDE_YEARS",
    "PointChunks",
    "TimeValueError",
    "TrackFile",
    "TrackPoints",
    "Waypoint",
    "as_datetime",
    "detect_format",
    "epoch_millis",
    "epoch_times",
    "first_implausible",
    "from_epoch_millis",
    "parse_times",
    "parse_track",
    "renumber_segments",
]

# What a KMZ may unpack to when the caller gives no cap (the service passes
# GEO_PATROL_MAX_UNPACKED_BYTES, by default its upload limit).
DEFAULT_MAX_UNCOMPRESSED_BYTES = 50_000_000
# Waypoints are Python objects (~300 bytes each) and no patrol needs thousands of them.
MAX_WAYPOINTS = 10_000
EXTENSIONS: Mapping[str, str] = {
    ".gpx": "gpx",
    ".kml": "kml",
    ".kmz": "kmz",
    ".geojson": "geojson",
    ".json": "geojson",
    ".csv": "csv",
}
_ACCEPTED = ".gpx, .kml, .kmz, .geojson, .json, .csv"
_MS = "datetime64[ms]"
NAT = np.datetime64("NaT", "ms")
# Epoch numbers at least this large are milliseconds (1e11 ms is 1973, 1e11 s is year 5138).
_EPOCH_MS_THRESHOLD = 1e11
# A zone after a time of day: "T08:00:00.5+08:00", " 08:00 +0800", "T08:00:00-03", and as
# phone exports write it, " 08:00:00 UTC+8", " 08:00 GMT+08:00", " 08:00 UTC".
_OFFSET = re.compile(
    r"[T ]\d\d(?::?\d\d){0,2}(?:[.,]\d+)?\s*(?:(UTC|GMT)\s*)?(?:([+-])(\d\d?)(?::?(\d\d))?)?$",
    re.I,
)
# What numpy may read of an ISO 8601 time once its zone is cut off: a calendar date, optionally
# with a time of day (numpy alone would also read "1714521600" as a year; other ISO 8601 forms
# go through datetime.fromisoformat).
_ISO = re.compile(r"\d{4}-\d\d-\d\d(?:[T ]\d\d(?::\d\d(?::\d\d(?:\.\d+)?)?)?)?", re.I)
# What datetime.fromisoformat may read: ISO 8601 dates (calendar, basic or week) with a time
# of day after "T" or a space (it would take any character there: "2024-05-01+08:00").
_ISO_ANY = re.compile(
    r"\d{4}-?(?:\d\d-?\d\d|W\d\d-?\d)(?:[T ]\d\d(?::?\d\d(?::?\d\d(?:[.,]\d+)?)?)?)?", re.I
)
# The times a file may hold: those a request may name (geo_patrol.core.values).
_FIRST_MS = np.datetime64(f"{FIRST_YEAR:04d}-01-01", "ms")
_END_MS = np.datetime64(f"{LAST_YEAR + 1:04d}-01-01", "ms")
OUTSIDE_YEARS = f"outside the years {FIRST_YEAR} to {LAST_YEAR}"
# Layouts numpy and fromisoformat refuse but spreadsheets and Chinese apps write.
_EXTRA_FORMATS = ("%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y/%m/%d", "%Y-%m-%d %H:%M")
_SNIFF_BYTES = 4096
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, eq=False)
class TrackPoints:
    """Track points in file order, one array per field, all of the same length."""

    lon: NDArray[np.float64]
    lat: NDArray[np.float64]
    time: NDArray[np.datetime64]  # datetime64[ms] UTC; NaT where the file has no time
    ele: NDArray[np.float64]  # NaN where absent
    accuracy_m: NDArray[np.float64]  # horizontal accuracy in metres; NaN where absent
    hdop: NDArray[np.float64]  # horizontal dilution of precision (unitless); NaN if absent
    segment: NDArray[np.int32]  # 0-based track/segment index, non-decreasing

    def __post_init__(self) -> None:
        """Check that every array has the length of `lon`."""
        n = len(self.lon)
        for name in ("lat", "time", "ele", "accuracy_m", "hdop", "segment"):
            if len(getattr(self, name)) != n:
                raise ValueError(
                    f"TrackPoints.{name} has {len(getattr(self, name))} values, not {n}"
                )

    def __len__(self) -> int:
        """Number of points."""
        return len(self.lon)

    @classmethod
    def from_arrays(
        cls,
        lon: ArrayLike,
        lat: ArrayLike,
        *,
        time: ArrayLike | None = None,
        ele: ArrayLike | None = None,
        accuracy_m: ArrayLike | None = None,
        hdop: ArrayLike | None = None,
        segment: ArrayLike | None = None,
    ) -> TrackPoints:
        """Build from array-likes; missing fields become NaN/NaT, the segment 0."""
        x = np.asarray(lon, dtype=np.float64)
        n = len(x)

        def floats(values: ArrayLike | None) -> NDArray[np.float64]:
            return np.full(n, np.nan) if values is None else np.asarray(values, dtype=np.float64)

        return cls(
            lon=x,
            lat=np.asarray(lat, dtype=np.float64),
            time=np.full(n, NAT) if time is None else np.asarray(time, dtype=_MS),
            ele=floats(ele),
            accuracy_m=floats(accuracy_m),
            hdop=floats(hdop),
            segment=np.zeros(n, np.int32) if segment is None else np.asarray(segment, np.int32),
        )


@dataclass(frozen=True)
class Waypoint:
    """A named place in a track file (GPX wpt, KML Point placemark, GeoJSON Point)."""

    name: str | None
    lon: float
    lat: float
    time: datetime | None = None  # aware, UTC
    description: str | None = None


@dataclass(frozen=True, eq=False)
class TrackFile:
    """The track points, waypoints and header of one file, in WGS84 after `parse_track`."""

    format: str  # "gpx", "kml", "kmz", "geojson", "csv"
    points: TrackPoints
    waypoints: list[Waypoint]
    name: str | None
    creator: str | None  # GPX creator attribute; KML: the Document's <name>


class TimeValueError(ValueError):
    """A time that cannot be read, or lies outside FIRST_YEAR..LAST_YEAR (`problem` says so);
    `index` is its position in the input."""

    def __init__(self, index: int, text: object, problem: str | None = None) -> None:
        super().__init__(f"time {text!r} is {problem or 'not recognised'}")
        self.index = index
        self.text = text
        self.problem = problem

    def why(self, default: str) -> str:
        """What is wrong: the problem found, else `default` (the reader's "not a time")."""
        return self.problem or default


def first_implausible(times: NDArray[np.datetime64]) -> int | None:
    """Index of the first time outside FIRST_YEAR..LAST_YEAR (NaT is fine), or None."""
    bad = np.flatnonzero(~np.isnat(times) & ((times < _FIRST_MS) | (times >= _END_MS)))
    return int(bad[0]) if len(bad) else None


def _check_years(times: NDArray[np.datetime64], texts: Sequence[object]) -> None:
    """TimeValueError for the first time outside FIRST_YEAR..LAST_YEAR."""
    index = first_implausible(times)
    if index is not None:
        raise TimeValueError(index, texts[index], OUTSIDE_YEARS)


@dataclass
class PointChunks:
    """Fixes collected while a parser walks a file, as numpy chunks: about 40 bytes a fix,
    never Python lists of numbers (a float in a list costs 32 bytes, a tuple 64 more)."""

    lon: list[NDArray[np.float64]] = field(default_factory=list)
    lat: list[NDArray[np.float64]] = field(default_factory=list)
    ele: list[NDArray[np.float64]] = field(default_factory=list)
    time: list[NDArray[np.datetime64]] = field(default_factory=list)
    segment: list[NDArray[np.int32]] = field(default_factory=list)
    count: int = 0
    segments: int = 0

    def __len__(self) -> int:
        """Number of points collected."""
        return self.count

    def add(
        self,
        coords: NDArray[np.float64],
        time: NDArray[np.datetime64] | None = None,
        *,
        new_segment: bool = True,
    ) -> None:
        """Add (n, 3) lon/lat/ele rows with their times (None: NaT), as a new segment or not."""
        n = len(coords)
        if not n:
            return
        if new_segment or not self.segments:
            self.segments += 1
        self.lon.append(np.ascontiguousarray(coords[:, 0], dtype=np.float64))
        self.lat.append(np.ascontiguousarray(coords[:, 1], dtype=np.float64))
        self.ele.append(np.ascontiguousarray(coords[:, 2], dtype=np.float64))
        self.time.append(np.full(n, NAT) if time is None else time.astype(_MS))
        self.segment.append(np.full(n, self.segments - 1, dtype=np.int32))
        self.count += n

    def to_points(
        self, *, accuracy: ArrayLike | None = None, hdop: ArrayLike | None = None
    ) -> TrackPoints:
        """TrackPoints of everything added, in order."""

        def joined(chunks: list[NDArray[Any]], dtype: str) -> NDArray[Any]:
            return np.concatenate(chunks) if chunks else np.zeros(0, dtype)

        return TrackPoints.from_arrays(
            joined(self.lon, "f8"),
            joined(self.lat, "f8"),
            time=joined(self.time, _MS),
            ele=joined(self.ele, "f8"),
            accuracy_m=accuracy,
            hdop=hdop,
            segment=joined(self.segment, "i4"),
        )


def renumber_segments(segment: ArrayLike) -> NDArray[np.int32]:
    """Non-decreasing segment ids renumbered 0, 1, 2... without gaps (empty segments)."""
    seg = np.asarray(segment, dtype=np.int64)
    if not len(seg):
        return np.zeros(0, dtype=np.int32)
    return np.unique(seg, return_inverse=True)[1].astype(np.int32)


def _split_zone(text: str) -> tuple[str, int | None] | None:
    """(naive text, zone offset in minutes or None) for a stripped time; None if not a time."""
    if not text[:4].isdigit():  # numpy would also accept "now" and "today"
        return None
    if text[-1] in "Zz":
        return text[:-1].rstrip(), 0
    match = _OFFSET.search(text)
    if match is None or not (match.group(1) or match.group(2)):
        return text, None
    naive = text[: match.start(1) if match.group(1) else match.start(2)].rstrip()
    if not match.group(2):  # "UTC" or "GMT" alone
        return naive, 0
    hours, minutes = int(match.group(3)), int(match.group(4) or 0)
    if hours > 14 or minutes > 59:  # no zone is that far from UTC
        return None
    return naive, (-1 if match.group(2) == "-" else 1) * (hours * 60 + minutes)


def _parse_one(text: str) -> np.datetime64:
    """One zone-less time text (ISO 8601 or a spreadsheet layout) as datetime64[ms]."""
    try:
        parsed = datetime.fromisoformat(text) if _ISO_ANY.fullmatch(text) else None
    except ValueError:
        parsed = None
    if parsed is not None:
        if parsed.tzinfo is not None:  # a zone _split_zone did not take: never dropped
            raise ValueError(text)
        return np.datetime64(parsed, "ms")
    for layout in _EXTRA_FORMATS:
        try:
            return np.datetime64(datetime.strptime(text, layout), "ms")
        except ValueError:
            continue
    raise ValueError(text)


def parse_times(
    texts: Sequence[str | None], *, utc_offset_hours: float = 0.0
) -> NDArray[np.datetime64]:
    """Time texts as UTC datetime64[ms] (None/empty -> NaT); TimeValueError for a bad one.

    `utc_offset_hours` is the zone of texts written without one (default 0: they are UTC).
    """
    default = round(utc_offset_hours * 60)
    naive: list[str] = []
    offsets = np.zeros(len(texts), dtype=np.int64)
    for index, raw in enumerate(texts):
        text = raw.strip() if raw else ""
        if not text:
            naive.append("NaT")
            continue
        split = _split_zone(text)
        if split is None:
            raise TimeValueError(index, raw)
        naive.append(split[0])
        offsets[index] = default if split[1] is None else split[1]
    try:
        if not all(text == "NaT" or _ISO.fullmatch(text) for text in naive):
            raise ValueError("not all ISO 8601")
        times: NDArray[np.datetime64] = np.array(naive, dtype=_MS)
    except ValueError:
        try:
            times = _parse_each(naive)
        except TimeValueError as exc:
            raise TimeValueError(exc.index, texts[exc.index]) from None
    times -= (offsets * 60_000).astype("timedelta64[ms]")
    _check_years(times, texts)
    return times


def _parse_each(texts: Sequence[str]) -> NDArray[np.datetime64]:
    """Slow path of parse_times: one at a time, naming the first text that fails."""
    out = np.full(len(texts), NAT)
    for index, text in enumerate(texts):
        if text == "NaT":
            continue
        try:
            out[index] = np.datetime64(text, "ms") if _ISO.fullmatch(text) else _parse_one(text)
        except ValueError:
            try:
                out[index] = _parse_one(text)
            except ValueError:
                raise TimeValueError(index, text) from None
    return out


def as_datetime(value: np.datetime64 | None) -> datetime | None:
    """An aware UTC datetime (to the microsecond) for a datetime64 value; None for NaT/None."""
    if value is None or np.isnat(value):
        return None
    us = int(value.astype("datetime64[us]").astype(np.int64))
    return _EPOCH + timedelta(microseconds=us)


def epoch_millis(times: NDArray[np.datetime64]) -> NDArray[np.float64]:
    """datetime64 values as Unix epoch milliseconds (NaN for NaT)."""
    millis = times.astype(_MS).astype(np.int64).astype(np.float64)
    return np.where(np.isnat(times), np.nan, millis)


def from_epoch_millis(millis: NDArray[np.float64]) -> NDArray[np.datetime64]:
    """Unix epoch milliseconds (NaN: unknown) as datetime64[ms] (NaT)."""
    whole = np.where(np.isnan(millis), 0, millis).astype(np.int64).astype(_MS)
    return np.where(np.isnan(millis), NAT, whole)


def epoch_times(values: ArrayLike) -> NDArray[np.datetime64]:
    """Unix epoch numbers as datetime64[ms]: milliseconds if any is >= 1e11, else seconds.

    TimeValueError for a number outside FIRST_YEAR..LAST_YEAR (before it could overflow)."""
    numbers = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(numbers)
    if not finite.any():
        return np.full(len(numbers), NAT)
    scale = 1.0 if np.abs(numbers[finite]).max() >= _EPOCH_MS_THRESHOLD else 1000.0
    first, end = (float(t.astype(np.int64)) for t in (_FIRST_MS, _END_MS))
    bad = np.flatnonzero(finite & ~((numbers * scale >= first) & (numbers * scale < end)))
    if len(bad):
        number = numbers[int(bad[0])].item()
        shown = int(number) if number.is_integer() else number
        raise TimeValueError(int(bad[0]), shown, OUTSIDE_YEARS)
    ms = np.where(finite, np.round(numbers * scale), 0).astype(np.int64)
    times: NDArray[np.datetime64] = ms.astype(_MS)
    times[~finite] = NAT
    return times


def detect_format(data: bytes, filename: str) -> str:
    """Format name from the file extension, else from the first bytes."""
    suffix = PurePath(filename).suffix.lower()
    if suffix in EXTENSIONS:
        return EXTENSIONS[suffix]
    if data.startswith(b"PK\x03\x04"):
        return "kmz"
    head = data[:_SNIFF_BYTES].lstrip(b"\xef\xbb\xbf \t\r\n")
    lowered = data[:_SNIFF_BYTES].lower()
    if head.startswith(b"<"):
        if b"<gpx" in lowered:
            return "gpx"
        if b"<kml" in lowered:
            return "kml"
    elif head.startswith((b"{", b"[")):
        return "geojson"
    elif head and b"\x00" not in head and re.match(rb"[^\r\n]*[,;\t|]", head):
        return "csv"
    raise ImportFileError(
        f"{filename}: unrecognised track file type {suffix or '(no extension)'!r}; "
        f"accepted: {_ACCEPTED}",
        file=filename,
    )


def _parser(
    fmt: str, csv_options: CsvOptions | None, max_uncompressed_bytes: int
) -> Callable[[bytes, str], TrackFile]:
    """The parse function for a format (imported here: the parsers import this module)."""
    from geo_patrol.patrols.track.formats.csv_file import parse_csv
    from geo_patrol.patrols.track.formats.geojson_file import parse_geojson
    from geo_patrol.patrols.track.formats.gpx import parse_gpx
    from geo_patrol.patrols.track.formats.kml import parse_kml, parse_kmz

    parsers: dict[str, Callable[[bytes, str], TrackFile]] = {
        "gpx": lambda data, name: parse_gpx(data, filename=name),
        "kml": lambda data, name: parse_kml(data, filename=name),
        "kmz": lambda data, name: parse_kmz(
            data, filename=name, max_uncompressed_bytes=max_uncompressed_bytes
        ),
        "geojson": lambda data, name: parse_geojson(data, filename=name),
        "csv": lambda data, name: parse_csv(data, filename=name, options=csv_options),
    }
    return parsers[fmt]


def parse_track(
    data: bytes,
    *,
    filename: str,
    datum: str = "wgs84",
    csv_options: CsvOptions | None = None,
    max_uncompressed_bytes: int = DEFAULT_MAX_UNCOMPRESSED_BYTES,
) -> TrackFile:
    """Parse a track file and convert its coordinates from `datum` to WGS84."""
    try:
        to_wgs84(np.empty(0), np.empty(0), datum=datum)
    except ValueError as exc:
        raise InvalidInput(str(exc), field="datum") from exc
    fmt = detect_format(data, filename)
    track = _parser(fmt, csv_options, max_uncompressed_bytes)(data, filename)
    if len(track.points) == 0:
        found = f" (only {len(track.waypoints)} waypoints)" if track.waypoints else ""
        raise ImportFileError(f"{filename}: the file has no track points{found}", file=filename)
    return _to_wgs84(track, datum)


def _to_wgs84(track: TrackFile, datum: str) -> TrackFile:
    """The track with points and waypoints converted from `datum` to WGS84."""
    points = track.points
    lon, lat = to_wgs84(points.lon, points.lat, datum=datum)
    wlon, wlat = to_wgs84(
        [w.lon for w in track.waypoints], [w.lat for w in track.waypoints], datum=datum
    )
    waypoints = [
        replace(w, lon=float(x), lat=float(y))
        for w, x, y in zip(track.waypoints, wlon, wlat, strict=True)
    ]
    return replace(track, points=replace(points, lon=lon, lat=lat), waypoints=waypoints)
