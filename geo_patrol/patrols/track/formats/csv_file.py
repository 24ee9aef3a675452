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
import itertools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
from numpy.typing import NDArray

from geo_patrol.core.catalog import Message, msg
from geo_patrol.core.errors import ImportFileError, InvalidInput
from geo_patrol.patrols.track.times import (
    OUTSIDE_YEARS,
    TimeValueError,
    epoch_times,
    first_implausible,
    parse_times,
)
from geo_patrol.patrols.track.types import NAT, TrackFile, TrackPoints

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
_ROWS_PIECE = 8192  # rows whose texts are converted to arrays at a time
_DECODE_PIECE = 1 << 20


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

    def error(self, index: int, detail: Message) -> ImportFileError:
        """ImportFileError for the cell at `index`."""
        line = self.lines[index]
        return ImportFileError(
            msg(
                "problem.track.csv_column_value",
                filename=self.filename,
                line=line,
                name=self.name,
                detail=detail,
            ),
            line=line,
            field=self.name,
            file=self.filename,
        )


def _encoding(data: bytes, filename: str) -> str:
    """The file's encoding: UTF-8 (BOM optional), UTF-16 with BOM, else GB18030. Checked by
    decoding piece by piece, never into one string (one character outside the BMP makes a
    str four bytes a character)."""
    utf16 = data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    for encoding in ("utf-16",) if utf16 else ("utf-8-sig", "gb18030"):
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            for start in range(0, len(data), _DECODE_PIECE):
                decoder.decode(data[start : start + _DECODE_PIECE])
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        return encoding
    raise ImportFileError(msg("problem.track.unknown_encoding", filename=filename), file=filename)


def _lines(data: bytes, filename: str) -> Iterator[str]:
    """The file's lines, decoded as they are read (line endings kept, for csv)."""
    return io.TextIOWrapper(io.BytesIO(data), encoding=_encoding(data, filename), newline="")


def _delimiter(header: str, option: str | None) -> str:
    """The given delimiter, else the candidate most frequent in the header line."""
    if option is not None:
        if len(option) != 1:
            raise InvalidInput(msg("problem.track.csv_delimiter", option=option), field="delimiter")
        return option
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
                msg(
                    "problem.track.csv_no_column",
                    filename=filename,
                    wanted=wanted or key,
                    key=key,
                    header=", ".join(repr(h) for h in header),
                ),
                line=1,
                field=key,
                file=filename,
            )
    return resolved


def _rows(data: bytes, options: CsvOptions, filename: str) -> Any:
    """A csv reader over the file, its delimiter sniffed from the first non-blank line."""
    lines = _lines(data, filename)
    skipped: list[str] = []
    header = ""
    for line in lines:
        skipped.append(line)
        if line.strip():
            header = line
            break
    delimiter = _delimiter(header.splitlines()[0] if header else "", options.delimiter)
    return csv.reader(itertools.chain(skipped, lines), delimiter=delimiter)


def _read_columns(data: bytes, options: CsvOptions, filename: str) -> _Columns:
    """The wanted columns, converted to arrays a piece of rows at a time; empty rows skipped."""
    reader = _rows(data, options, filename)
    try:
        header = next((row for row in reader if any(cell.strip() for cell in row)), None)
        if header is None:
            raise ImportFileError(msg("problem.track.file_empty", filename=filename), file=filename)
        wanted = _resolve(header, options, filename)
        columns = _Columns(header, wanted, options, filename)
        for row in reader:
            if any(cell.strip() for cell in row):
                columns.add(row, reader.line_num)
        columns.flush()
    except csv.Error as exc:
        line = reader.line_num
        raise ImportFileError(
            msg("problem.track.csv_line", filename=filename, line=line, error=exc),
            line=line,
            file=filename,
        ) from exc
    return columns


class _Columns:
    """Cell texts of the last few thousand rows, converted to arrays piece by piece."""

    def __init__(
        self, header: list[str], wanted: dict[str, int], options: CsvOptions, filename: str
    ) -> None:
        """Collect the `wanted` columns (our name -> position) of `header`."""
        self.header, self.wanted, self.options, self.filename = header, wanted, options, filename
        self.cells: dict[str, list[str]] = {key: [] for key in wanted}
        self.lines: list[int] = []
        self.numbers: dict[str, list[NDArray[np.float64]]] = {key: [] for key in wanted}
        self.times: list[tuple[str, NDArray[Any], _Column]] = []  # (kind, values, first cell)
        self.epoch_lines: list[NDArray[np.int32]] = []  # the lines of the epoch pieces' rows

    def add(self, row: list[str], line: int) -> None:
        """One row's wanted cells."""
        self.lines.append(line)
        for key, position in self.wanted.items():
            if position >= len(row):
                name = self.header[position]
                raise ImportFileError(
                    msg(
                        "problem.track.csv_row_short",
                        filename=self.filename,
                        line=line,
                        count=len(row),
                        name=name,
                    ),
                    line=line,
                    field=name,
                    file=self.filename,
                )
            self.cells[key].append(row[position].strip())
        if len(self.lines) >= _ROWS_PIECE:
            self.flush()

    def column(self, key: str) -> _Column:
        """The pending cells of one column."""
        name = self.header[self.wanted[key]].strip()
        return _Column(name, self.cells[key], self.lines, self.filename)

    def flush(self) -> None:
        """Convert the pending rows and forget their texts."""
        if not self.lines:
            return
        for key in self.wanted:
            column = self.column(key)
            if key == "time":
                self.times.append(_time_piece(column, self.options))
                if self.times[-1][0] == "epoch":
                    self.epoch_lines.append(np.asarray(self.lines, dtype=np.int32))
            else:
                required = key in ("lon", "lat")
                self.numbers[key].append(_numbers(column, len(self.lines), required=required))
        _check_range(self.numbers["lon"][-1], self.numbers["lat"][-1], self)
        self.cells = {key: [] for key in self.wanted}
        self.lines = []

    def floats(self, key: str, count: int) -> NDArray[np.float64]:
        """A numeric column (NaN where there is none)."""
        if key not in self.numbers or not self.numbers[key]:
            return np.full(count, np.nan)
        return np.concatenate(self.numbers[key])

    def epoch_times(self) -> NDArray[np.datetime64]:
        """The epoch column as times; a number outside the plausible years named by line."""
        try:
            return epoch_times(np.concatenate([values for _, values, _ in self.times]))
        except TimeValueError as exc:
            lines = np.concatenate(self.epoch_lines)
            line = int(lines[exc.index])
            name = self.times[0][2].name
            column = _Column(name, [str(exc.text)], [line], self.filename)
            raise column.error(0, _is(exc.text, exc.why(NOT_A_TIME))) from exc

    def time(self, count: int) -> NDArray[np.datetime64]:
        """The time column: epoch numbers (seconds or milliseconds by magnitude for the whole
        column), or texts; a column mixing the two is refused."""
        if not self.times:
            return np.full(count, NAT)
        kinds = {kind for kind, _, _ in self.times} - {"empty"}
        if kinds == {"epoch"}:
            return self.epoch_times()
        if "epoch" in kinds:
            first = next(column for kind, _, column in self.times if kind == "epoch")
            index = next(i for i, value in enumerate(first.values) if value)
            raise first.error(index, _is(first.values[index], NOT_A_TIME))
        return np.concatenate(
            [np.full(len(v), NAT) if kind == "empty" else v for kind, v, _ in self.times]
        )


NOT_A_TIME = msg("problem.track.not_recognised_time")


def _is(value: object, why: Message) -> Message:
    """A cell's fault: "is '...', <why>"."""
    return msg("problem.track.is_value", value=value, why=why)


def _time_piece(column: _Column, options: CsvOptions) -> tuple[str, NDArray[Any], _Column]:
    """(kind, values, the piece's first non-empty cell) of a piece of the time column:
    "epoch" numbers, "text" times, or "empty"."""
    first = _Column(column.name, column.values[:0], column.lines[:0], column.filename)
    found = next((i for i, value in enumerate(column.values) if value), None)
    if found is not None:
        first = _Column(column.name, [column.values[found]], [column.lines[found]], column.filename)
    if options.time_format:
        return "text", _strptime_times(column, options.time_format, options.utc_offset_hours), first
    try:
        numbers = np.array([v or "nan" for v in column.values], dtype=np.float64)
    except ValueError:
        numbers = None
    if numbers is not None:
        return ("empty" if found is None else "epoch"), numbers, first
    try:
        times = parse_times(column.values, utc_offset_hours=options.utc_offset_hours)
    except TimeValueError as exc:
        raise column.error(exc.index, _is(exc.text, exc.why(NOT_A_TIME))) from exc
    return "text", times, first


def _numbers(column: _Column | None, count: int, *, required: bool) -> NDArray[np.float64]:
    """A numeric column (NaN for empty optional cells or a missing optional column)."""
    if column is None:
        return np.full(count, np.nan)
    values = column.values
    if required and "" in values:
        raise column.error(values.index(""), msg("problem.track.is_empty"))
    try:
        return np.array([v or "nan" for v in values], dtype=np.float64)
    except ValueError:
        pass
    for index, value in enumerate(values):
        try:
            float(value or "nan")
        except ValueError:
            raise column.error(index, _is(value, msg("problem.track.not_a_number"))) from None
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
            raise column.error(
                index, _is(value, msg("problem.track.not_in_format", layout=layout))
            ) from None
        if parsed.tzinfo is not None:
            parsed = parsed.astimezone(UTC).replace(tzinfo=None)
            out[index] = np.datetime64(parsed, "ms")
        else:
            out[index] = np.datetime64(parsed, "ms") - np.timedelta64(
                round(offset_h * 3_600_000), "ms"
            )
    late = first_implausible(out)
    if late is not None:
        raise column.error(late, _is(column.values[late], OUTSIDE_YEARS))
    return out


def _check_range(lon: NDArray[np.float64], lat: NDArray[np.float64], columns: _Columns) -> None:
    """Refuse a non-finite or out-of-range coordinate in the pending piece."""
    for key, values, limit in (("lon", lon, 180.0), ("lat", lat, 90.0)):
        bad = np.flatnonzero(~(np.abs(values) <= limit))
        if len(bad):
            column = columns.column(key)
            index = int(bad[0])
            outside = msg("problem.track.outside_limit", limit=limit)
            raise column.error(index, _is(column.values[index], outside))


def parse_csv(data: bytes, *, filename: str, options: CsvOptions | None = None) -> TrackFile:
    """Parse a CSV track file with a header row."""
    options = options or CsvOptions()
    columns = _read_columns(data, options, filename)
    lon = columns.floats("lon", 0)
    count = len(lon)
    points = TrackPoints.from_arrays(
        lon,
        columns.floats("lat", count),
        time=columns.time(count),
        ele=columns.floats("ele", count),
        accuracy_m=columns.floats("accuracy", count),
    )
    return TrackFile(format="csv", points=points, waypoints=[], name=None, creator=None)
