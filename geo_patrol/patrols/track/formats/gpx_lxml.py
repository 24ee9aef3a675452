"""GPX 1.0 and 1.1 track files, parsed incrementally with lxml and without DTDs or entities.

Elements are matched by local name, so GPX 1.0, 1.1 and files with a wrong or missing
namespace all work. Each <trkseg> is a segment (a <trk> without segments adds none); routes
(<rte>/<rtept>, one segment each) are used as the track only when the file has no <trkpt>.
Extensions are ignored except for a horizontal accuracy (`accuracy`, `acc`, `hacc`,
`horizontal_accuracy`, or `hdop` in the OsmAnd namespace).

`<hdop>` is a dilution of precision, not metres, and is kept as `hdop` only; the one exception
is OsmAnd, whose recorder writes Android's `Location.getAccuracy()` (metres) into `<hdop>`, so
for a file whose creator starts with "OsmAnd" the value is also taken as `accuracy_m`.

Safety: an encoding other than UTF-8, UTF-16 or GB18030 and a DOCTYPE (and so any entity
declaration: billion laughs, XXE) are refused before parsing, and the parser is configured
not to resolve entities, load DTDs, use the network or accept huge text nodes (`xml`).
Every element is freed as soon as it is read (a point's children with the point), and point
texts become arrays a few thousand at a time, so memory follows the fixes, not the bytes.

Most files are plain tracks a phone wrote, and those are read by `gpx_fast` instead (a regular
expression over the bytes, ~5x faster), which answers only where it gives the same result;
it reads the header with this module's reader (`read_head`). `gpx.parse_gpx` tries it first.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from lxml import etree
from numpy.typing import NDArray

from geo_patrol.core.catalog import Message, msg
from geo_patrol.core.errors import ImportFileError
from geo_patrol.patrols.track.formats.xml import SAFE_OPTIONS, local_name, safe_iterparse, xml_error
from geo_patrol.patrols.track.times import TimeValueError, as_datetime, parse_times
from geo_patrol.patrols.track.types import (
    MAX_WAYPOINTS,
    TrackFile,
    TrackPoints,
    Waypoint,
    renumber_segments,
)

__all__ = ["is_osmand", "parse_gpx_lxml", "read_head"]

# Extension elements holding a horizontal accuracy in metres (any namespace).
_ACCURACY_TAGS = tuple(
    f"{{*}}{name}"
    for name in ("accuracy", "acc", "hacc", "horizontal_accuracy", "horizontalAccuracy", "hdop")
)
_OSMAND_CREATOR = "osmand"
_PIECE = 8192  # points whose texts are converted to arrays at a time
# Byte strings one of which a file must contain for its <extensions> to be searched at all.
_ACCURACY_HINTS = (b"acc", b"Acc", b":hdop")
# Bytes fed to the pull parser between two readings of its events: each event holds an
# element until it is read, and 64 KB of <a/> is 16,000 of them.
_PULL_CHUNK = 1 << 16


def is_osmand(creator: str | None) -> bool:
    """Whether OsmAnd wrote the file (its <hdop> is an accuracy in metres)."""
    return (creator or "").strip().lower().startswith(_OSMAND_CREATOR)


def _extension_accuracy(ext: etree._Element) -> str | None:
    """Horizontal accuracy text from a point's <extensions> (hdop only in OsmAnd's), or None."""
    for node in ext.iter(*_ACCURACY_TAGS):
        tag = str(node.tag)
        if not tag.endswith("}hdop") or _OSMAND_CREATOR in tag.lower():
            return node.text
    return None


@dataclass
class _Raw:
    """Points of one kind (trkpt or rtept): texts of the last few thousand, converted to
    arrays piece by piece (so a big file costs its fixes as arrays, not as strings)."""

    element: str
    filename: str
    lon: list[str | None] = field(default_factory=list)
    lat: list[str | None] = field(default_factory=list)
    ele: list[str | None] = field(default_factory=list)
    time: list[str | None] = field(default_factory=list)
    hdop: list[str | None] = field(default_factory=list)
    accuracy: list[str | None] = field(default_factory=list)
    segment: list[int] = field(default_factory=list)
    line: list[int] = field(default_factory=list)  # of the point element
    time_line: list[int] = field(default_factory=list)  # of its <time>
    parent: etree._Element | None = None  # of the last point
    current: int = -1  # segment of the last point
    count: int = 0  # points seen
    pieces: list[TrackPoints] = field(default_factory=list)
    deferred: ImportFileError | None = None  # routes: raised only if they are the track

    def append(self, elem: etree._Element, names: dict[object, str], extensions: bool) -> None:
        """Collect one point's attribute and child texts (the hot loop: kept lean)."""
        parent = elem.getparent()
        if parent is not self.parent:  # a new <trkseg> (or <rte>) starts a new segment
            self.parent = parent
            self.current += 1
        self.count += 1
        if self.deferred is not None:
            return
        get = elem.get
        self.lon.append(get("lon"))
        self.lat.append(get("lat"))
        line = elem.sourceline or 0
        ele = time = hdop = accuracy = None
        time_line = line
        for child in elem:
            tag = child.tag
            name = names.get(tag) or names.setdefault(tag, local_name(tag))
            if name == "ele":
                ele = child.text
            elif name == "time":
                time, time_line = child.text, child.sourceline or line
            elif name == "hdop":
                hdop = child.text
            elif name == "extensions" and extensions:
                accuracy = _extension_accuracy(child)
        self.ele.append(ele)
        self.time.append(time)
        self.hdop.append(hdop)
        self.accuracy.append(accuracy)
        self.segment.append(self.current)
        self.line.append(line)
        self.time_line.append(time_line)
        if len(self.lon) >= _PIECE:
            self.flush()

    def flush(self) -> None:
        """Convert the collected texts to a piece of arrays and forget them."""
        if not self.lon or self.deferred is not None:
            return
        try:
            self.pieces.append(_piece(self))
        except ImportFileError as error:
            if self.element != "rtept":
                raise
            self.deferred = error  # routes are ignored when the file has track points
        for column in (self.lon, self.lat, self.ele, self.time, self.hdop, self.accuracy):
            column.clear()
        for numbers in (self.segment, self.line, self.time_line):
            numbers.clear()


@dataclass
class _Reader:
    """State of one pass over a GPX file."""

    filename: str
    extensions: bool = True  # whether <extensions> may hold an accuracy
    tracks: _Raw = field(init=False)
    routes: _Raw = field(init=False)
    waypoints: list[tuple[Waypoint, str | None, int]] = field(default_factory=list)
    names: dict[object, str] = field(default_factory=dict)
    header: tuple[str | None, str | None] | None = None  # (name, creator)
    # <name>s read as they end: of the gpx root (GPX 1.0) and of <metadata> (GPX 1.1).
    header_names: dict[str, str | None] = field(default_factory=dict)
    track_name: str | None = None
    route_name: str | None = None
    named: etree._Element | None = None  # the last metadata/trk/rte whose <name> was read

    def __post_init__(self) -> None:
        """The point collectors."""
        self.tracks = _Raw("trkpt", self.filename)
        self.routes = _Raw("rtept", self.filename)

    def waypoint(self, elem: etree._Element) -> None:
        """Append one wpt (its time is parsed with the others at the end)."""
        line = elem.sourceline or 0
        if len(self.waypoints) >= MAX_WAYPOINTS:
            raise _Where(self.filename, "wpt", "wpt").error(
                line, msg("problem.track.too_many_waypoints", limit=MAX_WAYPOINTS)
            )
        lon, lat = (
            _floats([elem.get(axis)], [line], _Where(self.filename, "wpt", axis))
            for axis in ("lon", "lat")
        )
        _check_range(lon, lat, [line], "wpt", self.filename)
        description = _text(elem, "desc") or _text(elem, "cmt")
        point = Waypoint(_text(elem, "name"), float(lon[0]), float(lat[0]), None, description)
        self.waypoints.append((point, _text(elem, "time"), line))

    def name(self, elem: etree._Element, parent: etree._Element, parent_name: str) -> None:
        """A <name> of the file, its metadata, or a track or route, as it ends."""
        text = (elem.text or "").strip() or None
        if parent_name == "gpx":
            self.header_names.setdefault("gpx", text)
        elif parent is self.named:
            return  # not the first <name> of its element
        elif parent_name == "metadata":
            self.named = parent
            self.header_names["metadata"] = text or self.header_names.get("metadata")
        else:  # the first <name> of a trk or rte
            self.named = parent
            if parent_name == "trk" and self.track_name is None:
                self.track_name = text
            elif parent_name == "rte" and self.route_name is None:
                self.route_name = text

    def read_header(self, root: etree._Element | None) -> None:
        """Name (metadata/name in 1.1, name in 1.0) and creator, once the body starts."""
        if self.header is not None or root is None:
            return
        names = self.header_names
        self.header = (names.get("metadata") or names.get("gpx"), root.get("creator"))


def _text(elem: etree._Element, name: str) -> str | None:
    """Stripped text of the first child with local name `name`, or None."""
    for child in elem:
        if local_name(child.tag) == name:
            text = (child.text or "").strip()
            return text or None
    return None


_POINTS = frozenset({"trkpt", "rtept", "wpt"})
_NAMED = frozenset({"gpx", "metadata", "trk", "rte", "trkseg"})  # never inside a point


def _walk(reader: _Reader, context: Iterable[tuple[str, etree._Element]]) -> None:
    """Dispatch the end of every element of one GPX file to the reader, freeing each one
    once read (a point's children are read, and freed, with it): the tree never grows with
    the file, whatever it holds between or around the points."""
    names = reader.names
    for _, elem in context:
        tag = elem.tag
        name = names.get(tag) or names.setdefault(tag, local_name(tag))
        parent = elem.getparent()
        if parent is None:
            continue  # the root: its end is the end of the file
        parent_tag = parent.tag
        parent_name = names.get(parent_tag) or names.setdefault(parent_tag, local_name(parent_tag))
        if parent_name in _POINTS:
            continue  # read with its point
        if name in _POINTS:
            reader.read_header(elem.getroottree().getroot())
            if name == "trkpt":
                reader.tracks.append(elem, names, reader.extensions)
            elif name == "rtept":
                reader.routes.append(elem, names, reader.extensions)
            else:
                reader.waypoint(elem)
        elif parent_name not in _NAMED and _inside_point(parent, names):
            continue  # inside a point's extensions: read with its point
        elif name == "name" and parent_name in _NAMED:
            reader.name(elem, parent, parent_name)
        elem.clear(keep_tail=False)
        while elem.getprevious() is not None:
            del parent[0]


def _inside_point(elem: etree._Element, names: dict[object, str]) -> bool:
    """Whether `elem` is a point or lies inside one (a point's extensions)."""
    for node in (elem, *elem.iterancestors()):
        tag = node.tag
        if (names.get(tag) or names.setdefault(tag, local_name(tag))) in _POINTS:
            return True
    return False


def parse_gpx_lxml(data: bytes, *, filename: str) -> TrackFile:
    """Parse a GPX file element by element with lxml, naming the line of any error."""
    reader = _Reader(filename, extensions=any(hint in data for hint in _ACCURACY_HINTS))
    context = safe_iterparse(data, filename=filename, events=("end",))
    try:
        _walk(reader, context)
    except etree.XMLSyntaxError as exc:
        raise xml_error(exc, filename) from exc
    root = context.root
    if root is None or local_name(root.tag) != "gpx":
        found = f"<{local_name(root.tag)}>" if root is not None else "no element"
        raise ImportFileError(
            msg("problem.track.not_gpx", filename=filename, found=found), file=filename
        )
    reader.read_header(root)
    name, creator = reader.header or (None, None)
    use_routes = not reader.tracks.count and bool(reader.routes.count)
    raw = reader.routes if use_routes else reader.tracks
    osmand = is_osmand(creator)
    return TrackFile(
        format="gpx",
        points=_to_points(raw, filename, osmand=osmand),
        waypoints=_waypoints(reader.waypoints, filename),
        name=name or (reader.route_name if use_routes else reader.track_name),
        creator=creator,
    )


@dataclass(frozen=True)
class _Where:
    """What a column of values is, for error messages."""

    filename: str
    element: str  # the point element (trkpt, rtept, wpt)
    name: str  # the attribute (lat, lon) or child element (ele, hdop...)

    def error(self, line: int, detail: Message) -> ImportFileError:
        """ImportFileError at `line` about this value."""
        attribute = self.name in ("lat", "lon")
        element = self.element if attribute else self.name
        what = f"<{self.element}> {self.name}" if attribute else f"<{self.element}> <{self.name}>"
        return ImportFileError(
            msg(
                "problem.track.gpx_line",
                filename=self.filename,
                line=line,
                what=what,
                detail=detail,
            ),
            line=line,
            element=element,
            field=self.name,
            file=self.filename,
        )


def _floats(texts: list[str | None], lines: list[int], where: _Where) -> NDArray[np.float64]:
    """Decimal texts as floats (None/blank -> NaN); the first bad one is reported by line."""
    try:
        return np.array(texts, dtype=np.float64)  # None -> NaN
    except ValueError:
        pass
    values = ["nan" if t is None or not t.strip() else t for t in texts]
    try:
        return np.array(values, dtype=np.float64)
    except ValueError:
        pass
    for text, line in zip(values, lines, strict=True):
        try:
            float(text)
        except ValueError:
            raise where.error(
                line, msg("problem.track.value_not_number", value=text.strip())
            ) from None
    raise AssertionError("unreachable: numpy refused a value that float() accepts")


def _check_range(
    lon: NDArray[np.float64], lat: NDArray[np.float64], lines: list[int], element: str, file: str
) -> None:
    """Refuse a missing, non-finite or out-of-range coordinate, naming its line."""
    for axis, values, limit in (("lat", lat, 90.0), ("lon", lon, 180.0)):
        bad = np.flatnonzero(~(np.abs(values) <= limit))
        if len(bad):
            index = int(bad[0])
            value = values[index]
            detail = (
                msg("problem.track.missing_or_not_finite")
                if np.isnan(value)
                else msg("problem.track.value_outside", value=value, limit=limit)
            )
            raise _Where(file, element, axis).error(lines[index], detail)


def _times(texts: list[str | None], lines: list[int], filename: str) -> NDArray[np.datetime64]:
    """Parsed <time> values; an unparsable one is reported with its line."""
    try:
        return parse_times(texts)
    except TimeValueError as exc:
        line = lines[exc.index]
        raise ImportFileError(
            msg(
                "problem.track.gpx_time",
                filename=filename,
                line=line,
                text=exc.text,
                why=exc.why(msg("problem.track.not_iso_time")),
            ),
            line=line,
            element="time",
            field="time",
            file=filename,
        ) from exc


def _piece(raw: _Raw) -> TrackPoints:
    """The collected texts as arrays (segment ids as collected; accuracy as written)."""
    filename, lines = raw.filename, raw.line

    def column(texts: list[str | None], name: str) -> NDArray[np.float64]:
        return _floats(texts, lines, _Where(filename, raw.element, name))

    lon, lat = column(raw.lon, "lon"), column(raw.lat, "lat")
    _check_range(lon, lat, lines, raw.element, filename)
    return TrackPoints(
        lon=lon,
        lat=lat,
        time=_times(raw.time, raw.time_line, filename),
        ele=column(raw.ele, "ele"),
        accuracy_m=column(raw.accuracy, "accuracy"),
        hdop=column(raw.hdop, "hdop"),
        segment=np.asarray(raw.segment, dtype=np.int32),
    )


def _to_points(raw: _Raw, filename: str, *, osmand: bool) -> TrackPoints:
    """All the pieces as one TrackPoints; OsmAnd's <hdop> is also its accuracy in metres."""
    raw.flush()
    if raw.deferred is not None:
        raise raw.deferred
    pieces = raw.pieces or [TrackPoints.from_arrays(np.zeros(0), np.zeros(0))]

    def joined(name: str) -> NDArray[Any]:
        return np.concatenate([getattr(piece, name) for piece in pieces])

    hdop, accuracy = joined("hdop"), joined("accuracy_m")
    if osmand:
        accuracy = np.where(np.isnan(accuracy), hdop, accuracy)
    return TrackPoints(
        lon=joined("lon"),
        lat=joined("lat"),
        time=joined("time"),
        ele=joined("ele"),
        accuracy_m=accuracy,
        hdop=hdop,
        segment=renumber_segments(joined("segment")),
    )


def _waypoints(found: list[tuple[Waypoint, str | None, int]], filename: str) -> list[Waypoint]:
    """Waypoints with their times parsed."""
    times = _times([t for _, t, _ in found], [line for _, _, line in found], filename)
    return [
        Waypoint(w.name, w.lon, w.lat, as_datetime(t), w.description)
        for (w, _, _), t in zip(found, times, strict=True)
    ]


def read_head(
    data: bytes, *, end: int, tail: int, filename: str
) -> tuple[str | None, str | None] | None:
    """(name, creator) as `parse_gpx_lxml` reads them, from the bytes up to the first point's
    end: what `gpx_fast` needs besides the points, or None where it must decline the file.

    This module's own reader runs over those bytes, so the GPX name and creator are read
    at the same moment as in a whole-file parse. The first named track names the file when
    the GPX has no name; if that is not settled before the first point, the file is declined.
    The bytes from `tail` (the last point's end) are then fed too: with the head, they are
    checked as the lxml parser checks them, namespaces included (the points between hold no
    prefixed name: the scan allows none).
    """
    pull = etree.XMLPullParser(events=("end",), **SAFE_OPTIONS)
    reader = _Reader(filename, extensions=False)
    try:
        for offset in range(0, end, _PULL_CHUNK):
            pull.feed(data[offset : min(offset + _PULL_CHUNK, end)])
            _walk(reader, pull.read_events())  # read and freed as it comes
        found = _first_point(reader)
        for offset in range(tail, len(data), _PULL_CHUNK):
            pull.feed(data[offset : offset + _PULL_CHUNK])
            _walk(reader, pull.read_events())
        pull.close()
    except etree.XMLSyntaxError:
        return None
    if found is None:
        return None
    name, creator, track = found
    if name is None:
        name = track
        if name is None and data.find(b"name", end) >= 0:
            return None  # a later track's name could name the file
    return name, creator


def _first_point(reader: _Reader) -> tuple[str | None, str | None, str | None] | None:
    """(GPX name, creator, first track's name) once the head up to the first point is read;
    None unless that point is the first of a <trkseg> of a <trk> of the <gpx>."""
    segment = reader.tracks.parent
    track = segment.getparent() if segment is not None else None
    if reader.tracks.count != 1 or reader.header is None or segment is None or track is None:
        return None  # the first point's end was not read, or no header
    root = segment.getroottree().getroot()
    if [local_name(e.tag) for e in (root, track, segment)] != ["gpx", "trk", "trkseg"]:
        return None
    name, creator = reader.header
    return name, creator, reader.track_name or _text(track, "name")
