"""KML and KMZ track files (Google Earth, "My Tracks", Ovital/奥维互动地图 exports).

Read from every Placemark, in file order: each `<LineString>` (also inside MultiGeometry) is a
segment of "lon,lat[,alt]" tuples; each `gx:Track` (also inside `gx:MultiTrack`) is a segment
of `<when>` times and `<gx:coord>` "lon lat alt" triples; a `<Point>` is a waypoint with the
placemark's name, description and `<TimeStamp><when>`. Elements are matched by local name, so
KML 2.1/2.2, OGC and Google namespaces (or none) all work. The document is read as it streams:
every element is freed at its end, once what is needed of it is kept, and fixes are kept as
numpy arrays, so memory follows the fixes kept, not the bytes read (a 10 MB <coordinates>
text is converted a piece at a time; whitespace and unknown elements cost nothing).

KMZ is a zip holding doc.kml (or else the first .kml), streamed out of the archive into the
reader, never unpacked whole. Its uncompressed size is capped (GEO_PATROL_MAX_UNPACKED_BYTES,
413 past it) both by the size the archive declares and by counting while reading; archives
with absolute or `..` member names, encrypted or corrupt members are refused. The XML safety
rules of `formats.xml_prolog` and `formats.xml` (encodings, no DOCTYPE, no entities, no
network) apply to both, as to GPX.
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from array import array
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import PurePosixPath
from typing import Protocol

import numpy as np
from lxml import etree
from numpy.typing import NDArray

from geo_patrol.core.catalog import Message, msg
from geo_patrol.core.errors import FileTooLarge, ImportFileError
from geo_patrol.patrols.track.formats.xml import SAFE_OPTIONS, local_name, xml_error
from geo_patrol.patrols.track.formats.xml_prolog import PROLOG_LIMIT, check_prolog
from geo_patrol.patrols.track.times import TimeValueError, as_datetime, parse_times
from geo_patrol.patrols.track.types import (
    DEFAULT_MAX_UNCOMPRESSED_BYTES,
    MAX_WAYPOINTS,
    PointChunks,
    TrackFile,
    Waypoint,
)

__all__ = ["parse_kml", "parse_kml_stream", "parse_kmz"]

_COMMA_SPACES = re.compile(r"\s+,\s*|,\s+")  # commas with spaces around them
# Where a long <coordinates> text may be cut: whitespace with no comma on either side.
_BREAK = re.compile(r"(?<![,\s])\s+(?![\s,])")
_TEXT_PIECE = 256 * 1024  # characters of a <coordinates> text converted at a time
_TIMES_PIECE = 8192  # <when> texts of a gx:Track parsed at a time
_READ_CHUNK = 256 * 1024


class Readable(Protocol):
    """A binary stream (a file, a zip member...)."""

    def read(self, size: int = -1, /) -> bytes:
        """Up to `size` bytes (all with -1); b"" at the end."""
        ...


@dataclass
class _TrackRun:
    """One gx:Track being read: coordinates as flat floats, times parsed piece by piece."""

    coords: array[float] = field(default_factory=lambda: array("d"))
    times: list[NDArray[np.datetime64]] = field(default_factory=list)
    whens: list[str | None] = field(default_factory=list)  # not yet parsed
    when_lines: list[int] = field(default_factory=list)
    when_count: int = 0


@dataclass
class _Reader:
    """State of one streaming pass over a KML document: every element is freed at its end,
    after what is needed of it is kept (compactly), so memory follows the fixes kept."""

    filename: str
    points: PointChunks = field(default_factory=PointChunks)
    waypoints: list[tuple[Waypoint, str | None, int]] = field(default_factory=list)
    document: str | None = None
    first_track: str | None = None
    placemarks: int = 0
    # The current Placemark: its name, description, time stamp, Point coordinates.
    name: str | None = None
    description: str | None = None
    stamp: str | None = None
    marks: list[tuple[float, float, int]] = field(default_factory=list)
    before: int = 0  # points collected when the current Placemark started
    pending: tuple[NDArray[np.float64], int] | None = None  # a geometry's <coordinates>
    track: _TrackRun | None = None

    def error(self, line: int, element: str, detail: Message) -> ImportFileError:
        """ImportFileError at `line` in `element`."""
        return ImportFileError(
            msg(
                "problem.track.kml_line",
                filename=self.filename,
                line=line,
                element=element,
                detail=detail,
            ),
            line=line,
            element=element,
            file=self.filename,
        )

    def handlers(self) -> dict[str, Callable[[etree._Element, str], None]]:
        """The end-of-element handlers by local name (given the element and its parent's)."""
        return {
            "coordinates": self.coordinates,
            "LineString": self.line_string,
            "Point": self.point,
            "coord": self.gx_coord,
            "when": self.when,
            "Track": self.gx_track,
            "name": self.text,
            "description": self.text,
            "Placemark": self.placemark,
        }

    def text(self, elem: etree._Element, parent: str) -> None:
        """A name or description of the Placemark, or the Document's name."""
        value = (elem.text or "").strip() or None
        kind = local_name(elem.tag)
        if parent == "Placemark":
            if kind == "name":
                self.name = value
            else:
                self.description = value
        elif parent == "Document" and kind == "name" and not self.placemarks:
            self.document = self.document or value

    def coordinates(self, elem: etree._Element, parent: str) -> None:
        """A LineString's or Point's <coordinates>, parsed piece by piece."""
        if parent in ("LineString", "Point"):
            line = elem.sourceline or 0
            self.pending = _parse_coordinates(elem.text or "", line, self), line

    def _coordinates_of(self, elem: etree._Element) -> tuple[NDArray[np.float64], int]:
        """The pending coordinates of the geometry ending now (an error if it had none)."""
        found, self.pending = self.pending, None
        if found is None:
            raise self.error(
                elem.sourceline or 0, local_name(elem.tag), msg("problem.track.no_coordinates")
            )
        return found

    def line_string(self, elem: etree._Element, parent: str) -> None:
        """A LineString of a Placemark: a new segment (no times)."""
        coords, _ = self._coordinates_of(elem)
        if _in_placemark(elem):
            self.points.add(coords)

    def point(self, elem: etree._Element, parent: str) -> None:
        """A Point of a Placemark: a waypoint once the Placemark's name is known."""
        coords, line = self._coordinates_of(elem)
        if len(coords) != 1:
            raise self.error(line, "Point", msg("problem.track.point_tuples", count=len(coords)))
        if _in_placemark(elem):
            self.marks.append((float(coords[0, 0]), float(coords[0, 1]), line))

    def when(self, elem: etree._Element, parent: str) -> None:
        """A gx:Track's time (parsed in pieces) or a TimeStamp's."""
        if parent == "TimeStamp" and _in_placemark(elem):
            self.stamp = (elem.text or "").strip() or None
            return
        if parent != "Track":
            return
        run = self.track = self.track or _TrackRun()
        run.whens.append(elem.text)
        run.when_lines.append(elem.sourceline or 0)
        run.when_count += 1
        if len(run.whens) >= _TIMES_PIECE:
            self._flush_times(run)

    def _flush_times(self, run: _TrackRun) -> None:
        """Parse the track's pending <when> texts into a datetime64 piece."""
        if run.whens:
            run.times.append(_times(run.whens, run.when_lines, self))
            run.whens, run.when_lines = [], []

    def gx_coord(self, elem: etree._Element, parent: str) -> None:
        """A gx:coord "lon lat [alt]" of a gx:Track."""
        if parent == "Track":
            run = self.track = self.track or _TrackRun()
            run.coords.extend(_parse_gx_coord(elem.text or "", elem.sourceline or 0, self))

    def gx_track(self, elem: etree._Element, parent: str) -> None:
        """The end of a gx:Track: its points as a new segment."""
        run, self.track = self.track or _TrackRun(), None
        self._flush_times(run)
        coords = np.frombuffer(run.coords, dtype=np.float64).reshape(-1, 3)
        if run.when_count and run.when_count != len(coords):
            detail = msg("problem.track.when_count", whens=run.when_count, coords=len(coords))
            raise self.error(elem.sourceline or 0, "gx:Track", detail)
        if _in_placemark(elem):
            times = np.concatenate(run.times) if run.times else None
            self.points.add(coords.copy(), times)

    def placemark(self, elem: etree._Element, parent: str) -> None:
        """The end of a Placemark: its Points become waypoints with its name."""
        for lon, lat, line in self.marks:
            if len(self.waypoints) >= MAX_WAYPOINTS:
                raise self.error(
                    line, "Point", msg("problem.track.too_many_waypoints", limit=MAX_WAYPOINTS)
                )
            mark = Waypoint(self.name, lon, lat, None, self.description)
            self.waypoints.append((mark, self.stamp, line))
        if self.first_track is None and len(self.points) > self.before:
            self.first_track = self.name
        self.placemarks += 1
        self.before = len(self.points)
        self.name = self.description = self.stamp = None
        self.marks = []


def _in_placemark(elem: etree._Element) -> bool:
    """Whether a geometry lies inside a Placemark (others are not read, as before)."""
    return any(local_name(a.tag) == "Placemark" for a in elem.iterancestors())


def _line_of(text: str, item: str, line: int) -> int:
    """The file line of `item` inside a text node that starts on `line`."""
    return line + text[: max(text.find(item), 0)].count("\n")


def _pieces(text: str) -> Iterable[tuple[int, str]]:
    """(start, piece) of a long text, cut only between tuples, about _TEXT_PIECE apart."""
    start = 0
    while start < len(text):
        cut = _BREAK.search(text, start + _TEXT_PIECE) if len(text) - start > _TEXT_PIECE else None
        end = cut.start() if cut else len(text)
        yield start, text[start:end]
        start = cut.end() if cut else len(text)


def _parse_coordinates(text: str, line: int, reader: _Reader) -> NDArray[np.float64]:
    """KML "lon,lat[,alt] lon,lat[,alt] ..." as an (n, 3) array, alt NaN where absent.

    A long text (libxml2 allows 10 MB) is converted piece by piece, so the strings made on
    the way stay small whatever its size.
    """
    parts: list[NDArray[np.float64]] = []
    counted = 0  # text[:counted] has line - first line newlines
    for start, piece in _pieces(text):
        line += text.count("\n", counted, start)
        counted = start
        parts.append(_parse_piece(piece, line, reader))
    return np.concatenate(parts) if len(parts) > 1 else parts[0] if parts else np.zeros((0, 3))


def _parse_piece(text: str, line: int, reader: _Reader) -> NDArray[np.float64]:
    """One piece of a <coordinates> text (whole tuples) as an (n, 3) array."""
    tuples = _COMMA_SPACES.sub(",", text.strip()).split()
    widths = {t.count(",") for t in tuples}
    array: NDArray[np.float64] | None = None
    if len(widths) == 1 and widths <= {1, 2}:  # fast path: all "lon,lat" or all "lon,lat,alt"
        try:
            values = np.array(",".join(tuples).split(","), dtype=np.float64)
            array = values.reshape(len(tuples), widths.pop() + 1)
        except ValueError:
            array = None
    if array is None:
        array = _parse_tuples(text, tuples, line, reader)
    elif array.shape[1] == 2:
        array = np.column_stack([array, np.full(len(array), np.nan)])
    bad = _out_of_range(array)
    if bad is not None:
        where = _line_of(text, tuples[bad], line)
        raise reader.error(
            where, "coordinates", msg("problem.track.has_outside", value=tuples[bad])
        )
    return array


def _parse_tuples(text: str, tuples: list[str], line: int, reader: _Reader) -> NDArray[np.float64]:
    """Slow path of _parse_coordinates: tuple by tuple, naming the line of a bad one."""
    rows: list[list[float]] = []
    for item in tuples:
        parts = item.split(",")
        try:
            if not 2 <= len(parts) <= 3:
                raise ValueError(item)
            values = [float(p) for p in parts]
        except ValueError:
            detail = msg("problem.track.not_a_tuple", value=item)
            raise reader.error(_line_of(text, item, line), "coordinates", detail) from None
        rows.append(values + [np.nan] * (3 - len(values)))
    return np.array(rows, dtype=np.float64).reshape(-1, 3)


def _out_of_range(array: NDArray[np.float64]) -> int | None:
    """Index of the first row whose lon/lat is non-finite or out of range, or None."""
    bad = np.flatnonzero(~((np.abs(array[:, 0]) <= 180.0) & (np.abs(array[:, 1]) <= 90.0)))
    return int(bad[0]) if len(bad) else None


def _parse_gx_coord(text: str, line: int, reader: _Reader) -> list[float]:
    """A gx:coord "lon lat [alt]" as three floats (alt NaN where absent)."""
    parts = text.split()
    try:
        if not 2 <= len(parts) <= 3:
            raise ValueError(text)
        values = [float(p) for p in parts] + [np.nan] * (3 - len(parts))
    except ValueError:
        shown = text.strip()[:80]
        raise reader.error(
            line, "gx:coord", msg("problem.track.not_gx_coord", value=shown)
        ) from None
    if not (abs(values[0]) <= 180.0 and abs(values[1]) <= 90.0):
        raise reader.error(line, "gx:coord", msg("problem.track.is_outside", value=text.strip()))
    return values


def _times(texts: list[str | None], lines: list[int], reader: _Reader) -> NDArray[np.datetime64]:
    """Parsed <when> times; a bad one is reported by line."""
    try:
        return parse_times(texts)
    except TimeValueError as exc:
        detail = msg(
            "problem.track.time_is", text=exc.text, why=exc.why(msg("problem.track.not_iso_time"))
        )
        raise reader.error(lines[exc.index], "when", detail) from exc


def _walk(reader: _Reader, context: Iterable[tuple[str, etree._Element]]) -> None:
    """Hand every element's end to its handler, then free it and what came before it."""
    handlers = reader.handlers()
    names: dict[object, str] = {}
    for _, elem in context:
        tag = elem.tag
        name = names.get(tag) or names.setdefault(tag, local_name(tag))
        handler = handlers.get(name)
        parent = elem.getparent()
        if handler is not None:
            parent_tag = parent.tag if parent is not None else None
            handler(
                elem, names.get(parent_tag) or names.setdefault(parent_tag, local_name(parent_tag))
            )
        elem.clear(keep_tail=False)
        if parent is not None:
            while elem.getprevious() is not None:
                del parent[0]


def parse_kml(data: bytes, *, filename: str) -> TrackFile:
    """Parse a KML document (coordinates as written: WGS84 unless the caller says otherwise)."""
    return parse_kml_stream(io.BytesIO(data), filename=filename)


def parse_kml_stream(source: Readable, *, filename: str, fmt: str = "kml") -> TrackFile:
    """Parse a KML document read from `source` as it streams (never read whole)."""
    head = _Head(source)
    check_prolog(head.head, filename)
    reader = _Reader(filename)
    context = etree.iterparse(head, events=("end",), **SAFE_OPTIONS)
    try:
        _walk(reader, context)
    except etree.XMLSyntaxError as exc:
        raise xml_error(exc, filename) from exc
    root = context.root
    if root is None or local_name(root.tag) != "kml":
        found = f"<{local_name(root.tag)}>" if root is not None else "no element"
        raise ImportFileError(
            msg("problem.track.not_kml", filename=filename, found=found), file=filename
        )
    marks = reader.waypoints
    waypoint_times = _times([t for _, t, _ in marks], [n for _, _, n in marks], reader)
    return TrackFile(
        format=fmt,
        points=reader.points.to_points(),
        waypoints=[
            replace(w, time=as_datetime(t))
            for (w, _, _), t in zip(marks, waypoint_times, strict=True)
        ],
        name=reader.first_track or reader.document,
        creator=reader.document,
    )


class _Head:
    """A byte stream whose first PROLOG_LIMIT bytes are read ahead for the prolog check."""

    def __init__(self, source: Readable) -> None:
        """Read the head of `source`."""
        self.source = source
        self.head = _read_up_to(source, PROLOG_LIMIT + 1)
        self.offset = 0

    def read(self, size: int = -1) -> bytes:
        """The next bytes: the head first, then the source."""
        if self.offset < len(self.head):
            size = _READ_CHUNK if size < 0 else size
            piece = self.head[self.offset : self.offset + size]
            self.offset += len(piece)
            return piece
        return self.source.read(_READ_CHUNK if size < 0 else size)


def _read_up_to(source: Readable, size: int) -> bytes:
    """Up to `size` bytes of `source` (fewer only at its end)."""
    parts: list[bytes] = []
    wanted = size
    while wanted > 0 and (part := source.read(wanted)):
        parts.append(part)
        wanted -= len(part)
    return b"".join(parts)


def parse_kmz(
    data: bytes, *, filename: str, max_uncompressed_bytes: int = DEFAULT_MAX_UNCOMPRESSED_BYTES
) -> TrackFile:
    """Parse the KML document inside a KMZ archive (doc.kml, else the first .kml), streaming
    it out of the archive: more than `max_uncompressed_bytes` unpacked is FileTooLarge (413)."""
    archive = _open_archive(data, filename)
    info = _choose_member(archive, filename)
    if info.flag_bits & 0x1:
        raise ImportFileError(
            msg("problem.track.kmz_encrypted", filename=filename, member=info.filename),
            file=filename,
        )
    if info.file_size > max_uncompressed_bytes:
        raise _too_big(filename, info.filename, max_uncompressed_bytes)
    try:
        stream = archive.open(info)
    except _ZIP_ERRORS as exc:
        raise _unreadable(filename, info.filename, exc) from exc
    with stream:
        capped = _Capped(stream, filename, info.filename, max_uncompressed_bytes)
        return parse_kml_stream(capped, filename=filename, fmt="kmz")


# What zipfile raises for a damaged archive or member (ValueError: a negative seek...).
_ZIP_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    NotImplementedError,
    RuntimeError,
    ValueError,
    OSError,
)


def _unreadable(filename: str, member: str, exc: Exception) -> ImportFileError:
    """The error for a member zipfile cannot read."""
    return ImportFileError(
        msg("problem.track.kmz_member_unreadable", filename=filename, member=member, error=exc),
        file=filename,
    )


class _Capped:
    """A zip member's stream that refuses to give more than `limit` bytes in all."""

    def __init__(self, stream: Readable, filename: str, member: str, limit: int) -> None:
        """Wrap `stream`."""
        self.stream, self.filename, self.member, self.limit = stream, filename, member, limit
        self.total = 0

    def read(self, size: int = -1) -> bytes:
        """The next bytes (at most _READ_CHUNK at a time); FileTooLarge past the limit."""
        size = _READ_CHUNK if size < 0 else min(size, _READ_CHUNK)
        try:
            piece = self.stream.read(size)
        except _ZIP_ERRORS as exc:
            raise _unreadable(self.filename, self.member, exc) from exc
        self.total += len(piece)
        if self.total > self.limit:
            raise _too_big(self.filename, self.member, self.limit)
        return piece


def _open_archive(data: bytes, filename: str) -> zipfile.ZipFile:
    """The zip archive, with every member name checked for path tricks."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except _ZIP_ERRORS as exc:
        raise ImportFileError(
            msg("problem.track.bad_kmz", filename=filename, error=exc), file=filename
        ) from exc
    for info in archive.infolist():
        name = info.filename
        parts = re.split(r"[\\/]", name)
        if (
            name.startswith(("/", "\\"))
            or re.match(r"^[A-Za-z]:", name)
            or ".." in parts
            or "\x00" in name
        ):
            raise ImportFileError(
                msg("problem.track.kmz_unsafe_name", filename=filename, name=name),
                file=filename,
            )
    return archive


def _choose_member(archive: zipfile.ZipFile, filename: str) -> zipfile.ZipInfo:
    """doc.kml at the top (else anywhere), else the first .kml member."""
    members = [
        info
        for info in archive.infolist()
        if not info.is_dir()
        and info.filename.lower().endswith(".kml")
        and not info.filename.startswith("__MACOSX/")
    ]
    if not members:
        raise ImportFileError(
            msg("problem.track.kmz_without_kml", filename=filename), file=filename
        )
    for info in members:
        if info.filename.lower() == "doc.kml":
            return info
    for info in members:
        if PurePosixPath(info.filename).name.lower() == "doc.kml":
            return info
    return members[0]


def _too_big(filename: str, member: str, limit: int) -> FileTooLarge:
    """The error for a member over the uncompressed size cap."""
    return FileTooLarge(
        msg("problem.track.kmz_member_too_large", filename=filename, member=member, limit=limit),
        file=filename,
    )
