"""KML and KMZ track files (Google Earth, "My Tracks", Ovital/奥维互动地图 exports).

Read from every Placemark, in file order: each `<LineString>` (also inside MultiGeometry) is a
segment of "lon,lat[,alt]" tuples; each `gx:Track` (also inside `gx:MultiTrack`) is a segment
of `<when>` times and `<gx:coord>` "lon lat alt" triples; a `<Point>` is a waypoint with the
placemark's name, description and `<TimeStamp><when>`. Elements are matched by local name, so
KML 2.1/2.2, OGC and Google namespaces (or none) all work. Placemarks are freed as they are read.

KMZ is a zip holding doc.kml (or else the first .kml). Its uncompressed size is capped both by
the size the archive declares and by counting while reading; archives with absolute or `..`
member names, encrypted or corrupt members are refused. The XML safety rules of
`geo_patrol.ingest.gpx` (no DOCTYPE, no entities, no network) apply to both.
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from dataclasses import dataclass, field, replace
from pathlib import PurePosixPath

import numpy as np
from lxml import etree
from numpy.typing import NDArray

from geo_patrol.errors import ImportFileError
from geo_patrol.ingest.gpx import local_name, safe_iterparse, xml_error
from geo_patrol.ingest.tracks import (
    DEFAULT_MAX_UNCOMPRESSED_BYTES,
    PointBuffer,
    TimeValueError,
    TrackFile,
    Waypoint,
    as_datetime,
    parse_times,
)

__all__ = ["parse_kml", "parse_kmz"]

_COMMA_SPACES = re.compile(r"\s*,\s*")
_READ_CHUNK = 1024 * 1024
_RANGE = "outside lon -180..180 / lat -90..90"
_GEOMETRIES = ("{*}LineString", "{*}Track", "{*}Point")


@dataclass
class _Reader:
    """State of one pass over a KML document."""

    filename: str
    points: PointBuffer = field(default_factory=PointBuffer)
    waypoints: list[tuple[Waypoint, str | None, int]] = field(default_factory=list)
    segment: int = -1
    document: str | None = None
    first_track: str | None = None
    header_read: bool = False

    def error(self, line: int, element: str, detail: str) -> ImportFileError:
        """ImportFileError at `line` in `element`."""
        return ImportFileError(
            f"{self.filename}: line {line}: <{element}> {detail}",
            line=line,
            element=element,
            file=self.filename,
        )

    def placemark(self, placemark: etree._Element) -> None:
        """Read the lines, tracks and points of one Placemark."""
        name = _child_text(placemark, "name")
        before = len(self.points)
        for geometry in placemark.iter(*_GEOMETRIES):
            kind = local_name(geometry.tag)
            if kind == "LineString":
                self.line_string(geometry)
            elif kind == "Track":
                self.gx_track(geometry)
            else:
                self.point(geometry, placemark, name)
        if self.first_track is None and len(self.points) > before:
            self.first_track = name

    def coordinates(self, geometry: etree._Element) -> tuple[NDArray[np.float64], int]:
        """The (n, 3) lon/lat/alt array of a geometry's <coordinates> and its line."""
        for child in geometry:
            if local_name(child.tag) == "coordinates":
                line = child.sourceline or 0
                return _parse_coordinates(child.text or "", line, self), line
        line = geometry.sourceline or 0
        raise self.error(line, local_name(geometry.tag), "has no <coordinates>")

    def line_string(self, geometry: etree._Element) -> None:
        """Append a LineString as a new segment (no times)."""
        coords, line = self.coordinates(geometry)
        self._append(coords, [None] * len(coords), [line] * len(coords))

    def gx_track(self, track: etree._Element) -> None:
        """Append a gx:Track (<when> times paired with <gx:coord>) as a new segment."""
        whens: list[str | None] = []
        coords: list[NDArray[np.float64]] = []
        lines: list[int] = []
        for child in track:
            name = local_name(child.tag)
            if name == "when":
                whens.append(child.text)
            elif name == "coord":
                line = child.sourceline or 0
                lines.append(line)
                coords.append(_parse_gx_coord(child.text or "", line, self))
        line = track.sourceline or 0
        if whens and len(whens) != len(coords):
            detail = f"has {len(whens)} <when> but {len(coords)} <gx:coord> elements"
            raise self.error(line, "gx:Track", detail)
        array = np.array(coords, dtype=np.float64).reshape(-1, 3)
        self._append(array, whens or [None] * len(coords), lines)

    def point(self, geometry: etree._Element, placemark: etree._Element, name: str | None) -> None:
        """Add a Point placemark as a waypoint (its time is parsed at the end)."""
        coords, line = self.coordinates(geometry)
        if len(coords) != 1:
            raise self.error(line, "Point", f"has {len(coords)} coordinate tuples, not 1")
        when = None
        for node in placemark.iter("{*}TimeStamp"):
            when = _child_text(node, "when")
        description = _child_text(placemark, "description")
        lon, lat = float(coords[0, 0]), float(coords[0, 1])
        self.waypoints.append((Waypoint(name, lon, lat, None, description), when, line))

    def _append(
        self, coords: NDArray[np.float64], times: list[str | None], lines: list[int]
    ) -> None:
        """Add one segment of points."""
        if not len(coords):
            return
        self.segment += 1
        buffer = self.points
        buffer.lon.extend(coords[:, 0].tolist())
        buffer.lat.extend(coords[:, 1].tolist())
        buffer.ele.extend(coords[:, 2].tolist())
        buffer.time.extend(times)
        buffer.line.extend(lines)
        buffer.segment.extend([self.segment] * len(coords))

    def read_document(self, placemark: etree._Element) -> None:
        """The <name> of the enclosing Document, read once before anything is freed."""
        self.header_read = True
        for ancestor in placemark.iterancestors():
            if local_name(ancestor.tag) == "Document":
                self.document = _child_text(ancestor, "name")
                return


def _child_text(elem: etree._Element, name: str) -> str | None:
    """Stripped text of the first child with local name `name`, or None."""
    for child in elem:
        if local_name(child.tag) == name:
            text = (child.text or "").strip()
            return text or None
    return None


def _line_of(text: str, item: str, line: int) -> int:
    """The file line of `item` inside a text node that starts on `line`."""
    return line + text[: max(text.find(item), 0)].count("\n")


def _parse_coordinates(text: str, line: int, reader: _Reader) -> NDArray[np.float64]:
    """KML "lon,lat[,alt] lon,lat[,alt] ..." as an (n, 3) array, alt NaN where absent."""
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
        raise reader.error(where, "coordinates", f"has {tuples[bad]!r}, {_RANGE}")
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
            detail = f"has {item!r}, not a lon,lat[,alt] tuple"
            raise reader.error(_line_of(text, item, line), "coordinates", detail) from None
        rows.append(values + [np.nan] * (3 - len(values)))
    return np.array(rows, dtype=np.float64).reshape(-1, 3)


def _out_of_range(array: NDArray[np.float64]) -> int | None:
    """Index of the first row whose lon/lat is non-finite or out of range, or None."""
    bad = np.flatnonzero(~((np.abs(array[:, 0]) <= 180.0) & (np.abs(array[:, 1]) <= 90.0)))
    return int(bad[0]) if len(bad) else None


def _parse_gx_coord(text: str, line: int, reader: _Reader) -> NDArray[np.float64]:
    """A gx:coord "lon lat [alt]" as a length-3 array."""
    parts = text.split()
    try:
        if not 2 <= len(parts) <= 3:
            raise ValueError(text)
        values = np.array([float(p) for p in parts] + [np.nan] * (3 - len(parts)))
    except ValueError:
        raise reader.error(line, "gx:coord", f"is {text.strip()!r}, not 'lon lat alt'") from None
    if _out_of_range(values.reshape(1, 3)) is not None:
        raise reader.error(line, "gx:coord", f"is {text.strip()!r}, {_RANGE}")
    return values


def _times(texts: list[str | None], lines: list[int], reader: _Reader) -> NDArray[np.datetime64]:
    """Parsed <when> times; a bad one is reported by line."""
    try:
        return parse_times(texts)
    except TimeValueError as exc:
        detail = f"{exc.text!r} is not an ISO 8601 time"
        raise reader.error(lines[exc.index], "when", detail) from exc


def parse_kml(data: bytes, *, filename: str) -> TrackFile:
    """Parse a KML document (coordinates as written: WGS84 unless the caller says otherwise)."""
    reader = _Reader(filename)
    context = safe_iterparse(data, filename=filename, events=("end",), tag=["{*}Placemark"])
    try:
        for _, placemark in context:
            if not reader.header_read:
                reader.read_document(placemark)
            reader.placemark(placemark)
            placemark.clear(keep_tail=False)
            parent = placemark.getparent()
            while parent is not None and placemark.getprevious() is not None:
                del parent[0]
    except etree.XMLSyntaxError as exc:
        raise xml_error(exc, filename) from exc
    root = context.root
    if root is None or local_name(root.tag) != "kml":
        found = f"<{local_name(root.tag)}>" if root is not None else "no element"
        raise ImportFileError(f"{filename}: not a KML file (root is {found})", file=filename)
    marks = reader.waypoints
    waypoint_times = _times([t for _, t, _ in marks], [n for _, _, n in marks], reader)
    return TrackFile(
        format="kml",
        points=reader.points.to_points(_times(reader.points.time, reader.points.line, reader)),
        waypoints=[
            replace(w, time=as_datetime(t))
            for (w, _, _), t in zip(marks, waypoint_times, strict=True)
        ],
        name=reader.first_track or reader.document,
        creator=reader.document,
    )


def parse_kmz(
    data: bytes, *, filename: str, max_uncompressed_bytes: int = DEFAULT_MAX_UNCOMPRESSED_BYTES
) -> TrackFile:
    """Parse the KML document inside a KMZ archive (doc.kml, else the first .kml)."""
    document = _read_member(data, filename, max_uncompressed_bytes)
    return replace(parse_kml(document, filename=filename), format="kmz")


def _open_archive(data: bytes, filename: str) -> zipfile.ZipFile:
    """The zip archive, with every member name checked for path tricks."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zlib.error, ValueError, EOFError) as exc:
        raise ImportFileError(
            f"{filename}: not a readable KMZ (zip) archive: {exc}", file=filename
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
                f"{filename}: the archive has an unsafe member name {name!r} "
                "(absolute path or '..'); refused",
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
        raise ImportFileError(f"{filename}: the KMZ archive contains no .kml file", file=filename)
    for info in members:
        if info.filename.lower() == "doc.kml":
            return info
    for info in members:
        if PurePosixPath(info.filename).name.lower() == "doc.kml":
            return info
    return members[0]


def _too_big(filename: str, member: str, limit: int) -> ImportFileError:
    """The error for a member over the uncompressed size cap."""
    return ImportFileError(
        f"{filename}: {member} in the KMZ archive is larger than {limit:,} bytes "
        "uncompressed; refused (zip bomb protection)",
        file=filename,
    )


def _read_member(data: bytes, filename: str, limit: int) -> bytes:
    """The chosen .kml member's bytes, refusing more than `limit` uncompressed bytes."""
    archive = _open_archive(data, filename)
    info = _choose_member(archive, filename)
    if info.flag_bits & 0x1:
        raise ImportFileError(f"{filename}: {info.filename} is encrypted", file=filename)
    if info.file_size > limit:
        raise _too_big(filename, info.filename, limit)
    chunks: list[bytes] = []
    total = 0
    try:
        with archive.open(info) as stream:
            while chunk := stream.read(_READ_CHUNK):
                total += len(chunk)
                if total > limit:
                    raise _too_big(filename, info.filename, limit)
                chunks.append(chunk)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError) as exc:
        raise ImportFileError(
            f"{filename}: {info.filename} in the KMZ archive cannot be read: {exc}", file=filename
        ) from exc
    return b"".join(chunks)
