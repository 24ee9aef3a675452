"""CSV track files (phone logger and spreadsheet exports), one point per row.

A header row is required. Columns are matched case-insensitively; an option left at its
default also matches common aliases (lon: longitude/lng/long/x/经度, lat: latitude/y/纬度,
time: timestamp/datetime/date_time/时间, ele: elevation/altitude/alt/海拔/高程, accuracy:
accuracy_m/acc/hacc/horizontal_accuracy/精度). Without a time column the points have no times.

Text is UTF-8 (with or without BOM), UTF-16 with BOM (Excel "Unicode text"), else GB18030.
The delimiter is sniffed from the header (comma, tab, semicolon, pipe) unless given.

Times: ISO 8601, `yyyy-MM-dd HH:mm:ss` (also with `/`), Unix epoch seconds or milliseconds
(decided by magnitude), or `time_format` (a `datetime.strptime` format). Times without a zone
are UTC unless `utc_offset_hours` says otherwise (8 for Beijing time).

Every point is one segment. A bad value is an ImportFileError naming the 1-based line of the
file (`line=`) and the column (`field=`).
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
from numpy.typing import NDArray

from geo_patrol.errors import ImportFileError, InvalidInput
from geo_patrol.ingest.tracks import (
    NAT,
    TimeValueError,
    TrackFile,
    TrackPoints,
    epoch_times,
    parse_times,
)

__all__ = ["CsvOptions", "parse_csv"]

_DELIMITERS = (",", "\t", ";", "|")
_ALIASES: Mapping[str, tuple[str, ...]] = {
    "lon": ("lon", "longitude", "lng", "long", "x", "经度"),
    "lat": ("lat", "latitude", "y", "纬度"),
    "time": ("time", "timestamp", "datetime", "date_time", "时间"),
    "ele": ("ele", "elevation", "altitude", "alt", "海拔", "高程"),
    "accuracy": ("accuracy", "accuracy_m", "acc", "hacc", "horizontal_accuracy", "精度"),
}
_DEFAULTS: Mapping[str, str | None] = {
    "lon": "lon",
    "lat": "lat",
    "time": "time",
    "ele": None,
    "accuracy": None,
}
_FIELDS = tuple(_DEFAULTS)


@dataclass(frozen=True)
class CsvOptions:
    """Which columns hold what, and how to read them (None: find by alias / sniff)."""

    lon: str = "lon"
    lat: str = "lat"
    time: str | None = "time"
    ele: str | None = None
    accuracy: str | None = None
    delimiter: str | None = None
    time_format: str | None = None
    utc_offset_hours: float = 0.0  # zone of times written without one; 8 for Beijing time


@dataclass(frozen=True)
class _Column:
    """A column of cell texts with the file line of each."""

    name: str  # as in the header
    values: list[str]
    lines: list[int]
    filename: str

    def error(self, index: int, detail: str) -> ImportFileError:
        """ImportFileError for the cell at `index`."""
        line = self.lines[index]
        return ImportFileError(
            f"{self.filename}: line {line}: column {self.name!r} {detail}",
            line=line,
            field=self.name,
            file=self.filename,
        )


def _decode(data: bytes, filename: str) -> str:
    """The file's text: UTF-8 (BOM optional), UTF-16 with BOM, else GB18030."""
    utf16 = data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    candidates = ("utf-16",) if utf16 else ("utf-8-sig", "gb18030")
    for encoding in candidates:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportFileError(
        f"{filename}: the file is neither UTF-8, UTF-16 nor GB18030 text", file=filename
    )


def _delimiter(text: str, option: str | None) -> str:
    """The given delimiter, else the candidate most frequent in the header line."""
    if option is not None:
        if len(option) != 1:
            raise InvalidInput(
                f"CSV delimiter must be one character, not {option!r}", field="delimiter"
            )
        return option
    header = next((line for line in text.splitlines() if line.strip()), "")
    counts = {candidate: header.count(candidate) for candidate in _DELIMITERS}
    best = max(counts, key=lambda candidate: counts[candidate])
    return best if counts[best] else ","


def _resolve(header: list[str], options: CsvOptions, filename: str) -> dict[str, int]:
    """Our field name -> column index for every column found."""
    index: dict[str, int] = {}
    for position, name in enumerate(header):
        index.setdefault(name.strip().lower(), position)
    resolved: dict[str, int] = {}
    for key in _FIELDS:
        wanted = getattr(options, key)
        is_default = wanted == _DEFAULTS[key]
        if wanted is None and not is_default:
            continue
        names = _ALIASES[key] if is_default else (wanted,)
        found = next((index[n.lower()] for n in names if n and n.lower() in index), None)
        if found is not None:
            resolved[key] = found
        elif key in ("lon", "lat") or not is_default:
            raise ImportFileError(
                f"{filename}: no column {wanted or key!r} for {key}; "
                f"the header has: {', '.join(repr(h) for h in header)}",
                line=1,
                field=key,
                file=filename,
            )
    return resolved


def _read_columns(text: str, options: CsvOptions, filename: str) -> dict[str, _Column]:
    """The wanted columns' cell texts, empty rows skipped."""
    reader = csv.reader(
        io.StringIO(text, newline=""), delimiter=_delimiter(text, options.delimiter)
    )
    try:
        header = next((row for row in reader if any(cell.strip() for cell in row)), None)
        if header is None:
            raise ImportFileError(f"{filename}: the file is empty", file=filename)
        wanted = _resolve(header, options, filename)
        cells: dict[str, list[str]] = {key: [] for key in wanted}
        lines: list[int] = []
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            lines.append(reader.line_num)
            for key, position in wanted.items():
                if position >= len(row):
                    raise ImportFileError(
                        f"{filename}: line {reader.line_num}: the row has {len(row)} columns, "
                        f"no {header[position]!r}",
                        line=reader.line_num,
                        field=header[position],
                        file=filename,
                    )
                cells[key].append(row[position].strip())
    except csv.Error as exc:
        line = reader.line_num
        raise ImportFileError(f"{filename}: line {line}: {exc}", line=line, file=filename) from exc
    return {
        key: _Column(header[wanted[key]].strip(), cells[key], lines, filename) for key in wanted
    }


def _numbers(column: _Column | None, count: int, *, required: bool) -> NDArray[np.float64]:
    """A numeric column (NaN for empty optional cells or a missing optional column)."""
    if column is None:
        return np.full(count, np.nan)
    values = column.values
    if required and "" in values:
        raise column.error(values.index(""), "is empty")
    try:
        return np.array([v or "nan" for v in values], dtype=np.float64)
    except ValueError:
        pass
    for index, value in enumerate(values):
        try:
            float(value or "nan")
        except ValueError:
            raise column.error(index, f"is {value!r}, not a number") from None
    raise AssertionError("unreachable: numpy refused a value that float() accepts")


def _strptime_times(column: _Column, layout: str, offset_h: float) -> NDArray[np.datetime64]:
    """Times read with a strptime layout; naive ones shifted by the UTC offset."""
    out = np.full(len(column.values), NAT)
    for index, value in enumerate(column.values):
        if not value:
            continue
        try:
            parsed = datetime.strptime(value, layout)
        except ValueError:
            raise column.error(index, f"is {value!r}, not in the format {layout!r}") from None
        if parsed.tzinfo is not None:
            parsed = parsed.astimezone(UTC).replace(tzinfo=None)
            out[index] = np.datetime64(parsed, "ms")
        else:
            out[index] = np.datetime64(parsed, "ms") - np.timedelta64(
                round(offset_h * 3_600_000), "ms"
            )
    return out


def _times(column: _Column | None, count: int, options: CsvOptions) -> NDArray[np.datetime64]:
    """The time column: strptime layout, epoch numbers, or ISO-like texts."""
    if column is None:
        return np.full(count, NAT)
    if options.time_format:
        return _strptime_times(column, options.time_format, options.utc_offset_hours)
    try:
        numbers = np.array([v or "nan" for v in column.values], dtype=np.float64)
    except ValueError:
        numbers = None
    if numbers is not None:
        return epoch_times(numbers)
    try:
        return parse_times(column.values, utc_offset_hours=options.utc_offset_hours)
    except TimeValueError as exc:
        raise column.error(exc.index, f"is {exc.text!r}, not a recognised time") from exc


def _check_range(
    lon: NDArray[np.float64], lat: NDArray[np.float64], columns: dict[str, _Column]
) -> None:
    """Refuse a non-finite or out-of-range coordinate."""
    for key, values, limit in (("lon", lon, 180.0), ("lat", lat, 90.0)):
        bad = np.flatnonzero(~(np.abs(values) <= limit))
        if len(bad):
            column = columns[key]
            index = int(bad[0])
            detail = f"is {column.values[index]!r}, outside -{limit:g}..{limit:g}"
            raise column.error(index, detail)


def parse_csv(data: bytes, *, filename: str, options: CsvOptions | None = None) -> TrackFile:
    """Parse a CSV track file with a header row."""
    options = options or CsvOptions()
    columns = _read_columns(_decode(data, filename), options, filename)
    count = len(columns["lon"].values)
    lon = _numbers(columns["lon"], count, required=True)
    lat = _numbers(columns["lat"], count, required=True)
    _check_range(lon, lat, columns)
    points = TrackPoints.from_arrays(
        lon,
        lat,
        time=_times(columns.get("time"), count, options),
        ele=_numbers(columns.get("ele"), count, required=False),
        accuracy_m=_numbers(columns.get("accuracy"), count, required=False),
    )
    return TrackFile(format="csv", points=points, waypoints=[], name=None, creator=None)
