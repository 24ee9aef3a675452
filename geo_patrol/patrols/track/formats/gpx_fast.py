"""A regular-expression fast path for plain GPX tracks, used only where it equals `gpx_lxml`.

A phone's GPX (OsmAnd and most loggers) is a million lines of the same
`<trkpt lat=".." lon=".."><ele>..</ele><time>..</time><hdop>..</hdop></trkpt>`. Walking it
element by element in Python costs ~5 µs a point; one `re.findall` over the bytes and numpy
conversions cost ~1 µs. The fast path answers only where that gives exactly the lxml parser's
TrackFile and returns None for anything else; the caller then runs the lxml parser, which
also writes every error message with its line. It answers when:

- the whole file is well-formed XML (libxml2 with a do-nothing target: no tree is built), and
  the part before the first point and after the last one pass the lxml parser itself (read
  with the points left out), namespace checks included;
- the text is UTF-8 or ASCII, with no DOCTYPE, and no waypoint or route (`<wpt`, `<rte`:
  such files are small);
- from the first point to the last there is nothing but points, whitespace and segment or
  track boundaries: every point a direct child of a `<trkseg>`, with `lat`/`lon` (one order
  for the whole file) and text-only GPX 1.0/1.1 children; ele, time and hdop at most once
  each and in schema order. No comment, CDATA, processing instruction or reference (`&`) can
  hide there, and nothing with a namespace prefix: so not <extensions> or <link> (Garmin's
  TrackPointExtension), whose prefixes' errors a well-formedness pass does not see;
- every number is one `float()` reads, every coordinate is in range and every time one
  `parse_times` reads (those are the lxml parser's errors, reported there with their line).

The header (GPX name, creator, first track's name) is read by running the lxml parser's own
reader over the bytes up to the first point's end (`gpx_lxml.read_head`): every name it can
use is there (a name that could come later sends the file to the lxml parser).
"""

from __future__ import annotations

import functools
import itertools
import re
from operator import itemgetter
from typing import Final, NamedTuple, cast

import numpy as np
from lxml import etree
from numpy.typing import NDArray

from geo_patrol.core.errors import ImportFileError
from geo_patrol.patrols.track.formats.gpx_lxml import is_osmand, read_head
from geo_patrol.patrols.track.formats.xml_prolog import check_prolog
from geo_patrol.patrols.track.times import TimeValueError, first_implausible, parse_times
from geo_patrol.patrols.track.types import TrackFile, TrackPoints

__all__ = ["parse_gpx_fast"]

_W = rb"[ \t\r\n]*"
# The characters of a decimal number, with whitespace (numpy then parses these exactly as the
# lxml parser's float() does; an empty text is NaN, anything numpy refuses declines the file).
_DECIMAL = rb"([-+.0-9eE \t\r\n]*)"


def _captured(name: bytes, text: bytes) -> bytes:
    """An optional child whose text is captured (an empty or self-closed one gives b'')."""
    return rb"(?:" + _W + rb"<" + name + rb"(?:" + _W + rb"/>|>" + text + rb"</" + name + rb">))?"


def _others(names: list[bytes]) -> bytes:
    """Any number of the text-only children the parser ignores, in any order.

    Not <link> or <extensions>: elements inside them may bear namespace prefixes, whose
    errors (an undeclared prefix, a bad URI) the lxml parser refuses and a well-formedness
    pass does not see. A file with them is declined.
    """
    text = rb"<(?:" + b"|".join(names) + rb")(?:" + _W + rb"/>|>[^<]*</[^>]*>)"
    return rb"(?:" + _W + text + rb")*"


_BETWEEN = b"course speed magvar geoidheight name cmt desc src urlname url sym type fix sat".split()
# The children of a <trkpt> (GPX 1.1 with GPX 1.0's course, speed, url and urlname): ele, time
# and hdop at most once each and in schema order, the others in any order between them.
_CHILDREN = b"".join(
    [
        _captured(b"ele", _DECIMAL),
        _captured(b"time", rb"([^<&\r]*)"),  # lxml would turn a CR into LF
        _others(_BETWEEN),
        _captured(b"hdop", _DECIMAL),
        _others(b"vdop pdop ageofdgpsdata dgpsid".split()),
    ]
)
_LAT_LON = rb'lat="' + _DECIMAL + rb'"[ \t\r\n]+lon="' + _DECIMAL + rb'"'
_LON_LAT = rb'lon="' + _DECIMAL + rb'"[ \t\r\n]+lat="' + _DECIMAL + rb'"'


def _point(coordinates: bytes, children: bytes = _CHILDREN) -> bytes:
    """A <trkpt> with its coordinates (two groups) and ele, time and hdop (three groups)."""
    return rb"<trkpt[ \t\r\n]+" + coordinates + _W + rb"(?:/>|>" + children + _W + rb"</trkpt>)"


@functools.cache
def _tight_scan(*, lon_first: bool, segments: bool, layout: tuple[bool, ...]) -> re.Pattern[bytes]:
    """A faster scan for files whose points all have the same children (most files).

    `layout` says which of ele, time and hdop each point has: no optional group to try, and
    an absent value is an empty group.
    """
    texts = (_DECIMAL, rb"([^<&\r]*)", _DECIMAL)
    children = b"".join(
        _W + rb"<" + name + rb">" + text + rb"</" + name + rb">" if has else b"()"
        for name, text, has in zip((b"ele", b"time", b"hdop"), texts, layout, strict=True)
    )
    coordinates = _LON_LAT if lon_first else _LAT_LON
    return _points_pattern(coordinates, children, segments=segments)


# Between two points: whitespace, or the end of a segment and the start of another (with,
# between them, empty segments or the end of a track and the start of the next one).
_NEXT_TRACK = rb"</trk>" + _W + rb"<trk>" + _W + rb"(?:<name>[^<]*</name>" + _W + rb")?"
_BOUNDARY = (
    rb"</trkseg>" + _W + rb"(?:(?:<trkseg>" + _W + rb"</trkseg>|" + _NEXT_TRACK + rb")" + _W
) + (rb")*<trkseg>" + _W)


def _points_pattern(coordinates: bytes, children: bytes, *, segments: bool) -> re.Pattern[bytes]:
    """Each match a point, or one character that is neither a point nor what may lie between.

    The whitespace before a match is never given back, so a scan never restarts inside it and
    stays linear. A stray character matches alone, so the number of matches exceeds the number
    of "<trkpt" in the bytes unless every one of them matched as a point and nothing else did.
    With `segments`, the first group is the segment boundary before the point, if any.
    """
    boundary = rb"(" + _BOUNDARY + rb")?" if segments else b""
    point = _point(coordinates, children)
    return re.compile(rb"[ \t\r\n]*+" + boundary + rb"(?:" + point + rb"|([^ \t\r\n]))")


# The scans by layout: (lon first, several segments) -> pattern. Files are written by one
# program, so the first point's attribute order is that of every point (else: declined).
_SCANS: Final = {
    (lon_first, segments): _points_pattern(
        _LON_LAT if lon_first else _LAT_LON, _CHILDREN, segments=segments
    )
    for lon_first in (False, True)
    for segments in (False, True)
}
_ANY_POINT: Final = re.compile(_point(rb"(?:" + _LAT_LON + rb"|" + _LON_LAT + rb")"))

_DECLARATION = re.compile(rb"<\?xml[^>]*\?>")
_ENCODING = re.compile(rb"""encoding[ \t\r\n]*=[ \t\r\n]*["']([A-Za-z0-9._-]+)["']""")
_ASCII_ENCODINGS = (b"utf-8", b"utf8", b"us-ascii", b"ascii")
# A point, waypoint or route element with a namespace prefix (<gpx:trkpt>).
_PREFIXED = re.compile(rb"<[^ \t\r\n<>/:]+:(?:trkpt|wpt|rte)")
_CHUNK = 1 << 20  # bytes fed to libxml2 at a time (it refuses a 10 MB buffer without huge_tree)


class _NullTarget:
    """An lxml parser target that builds nothing: a well-formedness check."""

    def close(self) -> None:
        """Called at the end of the document."""


def _plain(data: bytes, filename: str, *, start: int, end: int) -> bool:
    """Whether the file is UTF-8 (or ASCII) with no point, waypoint or route outside start:end.

    Between `start` and `end` the point pattern itself leaves no room for comments, CDATA,
    processing instructions or elements the lxml parser would read.
    """
    try:
        check_prolog(data, filename)
    except ImportFileError:
        return False
    if b"\x00" in data[:4] or data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return False  # UTF-16 or UTF-32
    declaration = _DECLARATION.match(data, 3 if data.startswith(b"\xef\xbb\xbf") else 0)
    if declaration is not None:
        encoding = _ENCODING.search(declaration.group())
        if encoding is not None and encoding.group(1).lower() not in _ASCII_ENCODINGS:
            return False
    for where in ((0, start), (end, len(data))):
        if any(data.find(name, *where) >= 0 for name in (b"<wpt", b"<rte")):
            return False
        prefixed = any(data.find(name, *where) >= 0 for name in (b":trkpt", b":wpt", b":rte"))
        if prefixed and _PREFIXED.search(data, *where):  # not just xmlns:wptx1="..."
            return False
    return True


def _well_formed(data: bytes) -> bool:
    """Whether libxml2, configured as the lxml parser is, reads the whole file without error."""
    parser = etree.XMLParser(
        # The stubs' ParserTarget lists every callback; lxml wires only those the target has.
        target=cast("etree.ParserTarget[None]", _NullTarget()),
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
    )
    try:
        for start in range(0, len(data), _CHUNK):
            parser.feed(data[start : start + _CHUNK])
        parser.close()
    except etree.XMLSyntaxError:
        return False
    return True


def parse_gpx_fast(data: bytes, *, filename: str) -> TrackFile | None:
    """The TrackFile `parse_gpx` gives for `data`, or None where only the lxml parser can say."""
    start = data.find(b"<trkpt")
    first = _ANY_POINT.match(data, start) if start >= 0 else None
    last = _ANY_POINT.match(data, data.rfind(b"<trkpt"))
    if first is None or last is None or not _plain(data, filename, start=start, end=last.end()):
        return None
    header = read_head(data, end=first.end(), tail=last.end(), filename=filename)
    # Well-formedness first: the scan below is linear only in well-formed XML.
    if header is None or not _well_formed(data):
        return None
    name, creator = header
    osmand = is_osmand(creator)
    points = _Scan(data, first, last.end()).points(osmand=osmand)
    if points is None:
        return None
    return TrackFile(format="gpx", points=points, waypoints=[], name=name, creator=creator)


class _Scan:
    """The points from the first to the last, scanned a piece of matches at a time: a piece
    is converted to arrays before the next is scanned, and the first stray character ends
    the scan, so memory follows the points kept, never the bytes scanned."""

    def __init__(self, data: bytes, first: re.Match[bytes], end: int) -> None:
        """Set up the scans (the tight one first if the first point fits it)."""
        self.data, self.start, self.end = data, first.start(), end
        lon_first = first.group(3) is not None
        self.segments = data.find(b"<trkseg", self.start, end) >= 0
        self.count = data.count(b"<trkpt")
        layout = tuple(first.group(i) is not None for i in (5, 6, 7))
        tight = _tight_scan(lon_first=lon_first, segments=self.segments, layout=layout)
        tight_first = tight.match(data, self.start)
        self.scans = [_SCANS[lon_first, self.segments]]
        if tight_first is not None and tight_first.end() == first.end():
            self.scans.insert(0, tight)  # points with other children, or not all alike: next
        offset = 1 if self.segments else 0
        self.lat, self.lon = (offset + 1, offset) if lon_first else (offset, offset + 1)
        self.ele, self.time, self.hdop = offset + 2, offset + 3, offset + 4
        self.stray = offset + 5  # the group of a character that is not a point

    def points(self, *, osmand: bool) -> TrackPoints | None:
        """TrackPoints of every point; None if one needs the lxml parser's word (and line)."""
        for scan in self.scans:
            pieces = self._read(scan)
            if pieces is _STRAY:
                continue
            if pieces is None or isinstance(pieces, _Stray):
                return None
            return _joined(pieces, osmand=osmand)
        return None

    def _read(self, scan: re.Pattern[bytes]) -> list[_Piece] | _Stray | None:
        """The pieces of one scan; _STRAY if a match is not a point; None to decline."""
        matches = scan.finditer(self.data, self.start, self.end)
        pieces: list[_Piece] = []
        total = 0
        while rows := [m.groups(b"") for m in itertools.islice(matches, _MATCHES)]:
            if any(row[self.stray] for row in rows):
                return _STRAY
            total += len(rows)
            piece = self._piece(rows)
            if piece is None:
                return None
            pieces.append(piece)
        return pieces if total == self.count else _STRAY

    def _piece(self, rows: list[tuple[bytes, ...]]) -> _Piece | None:
        """One piece's columns as arrays; None if a text needs the lxml parser."""
        try:
            lat, lon = _column_floats(rows, self.lat), _column_floats(rows, self.lon)
            ele, hdop = _column_floats(rows, self.ele), _column_floats(rows, self.hdop)
        except ValueError:  # a text float() refuses
            return None
        if not ((np.abs(lat) <= 90.0).all() and (np.abs(lon) <= 180.0).all()):
            return None  # out of range or missing
        time = _times(tuple(map(itemgetter(self.time), rows)))
        if time is None:
            return None
        starts = np.zeros(len(rows), dtype=bool)
        if self.segments:  # each boundary starts a segment
            starts = np.fromiter(map(len, map(itemgetter(0), rows)), np.int64, len(rows)) > 0
        return _Piece(lon, lat, ele, hdop, time, starts)


class _Stray:
    """A scan met something that is not a point."""


_STRAY = _Stray()
_MATCHES = 16_384  # matches converted at a time


class _Piece(NamedTuple):
    """The arrays of a piece of points; `starts`: where a segment boundary precedes."""

    lon: NDArray[np.float64]
    lat: NDArray[np.float64]
    ele: NDArray[np.float64]
    hdop: NDArray[np.float64]
    time: NDArray[np.datetime64]
    starts: NDArray[np.bool_]


def _column_floats(rows: list[tuple[bytes, ...]], index: int) -> NDArray[np.float64]:
    """One column as floats (empty -> NaN, as the lxml parser's None); ValueError if bad."""
    try:  # no tuple of texts in the common case: every one is a number
        return np.fromiter(map(float, map(itemgetter(index), rows)), np.float64, len(rows))
    except ValueError:
        return _floats(tuple(map(itemgetter(index), rows)))


def _joined(pieces: list[_Piece], *, osmand: bool) -> TrackPoints:
    """The pieces as one TrackPoints (OsmAnd's hdop is its accuracy in metres)."""
    columns = (np.concatenate(column) for column in zip(*pieces, strict=True))
    lon, lat, ele, hdop, time, starts = columns
    segment = np.cumsum(starts).astype(np.int32)
    return TrackPoints(
        lon=lon,
        lat=lat,
        time=time,
        ele=ele,
        accuracy_m=hdop.copy() if osmand else np.full(len(hdop), np.nan),
        hdop=hdop,
        segment=segment,
    )


def _floats(texts: tuple[bytes, ...]) -> NDArray[np.float64]:
    """Decimal texts as floats (empty -> NaN, as the lxml parser's None); ValueError if bad."""
    if b"" in texts:
        return np.fromiter((float(text) if text else np.nan for text in texts), np.float64)
    return np.fromiter(map(float, texts), dtype=np.float64, count=len(texts))


# Where the separators of "YYYY-MM-DDTHH:MM:SS" are.
_SEPARATORS = {4: b"-", 7: b"-", 10: b"T", 13: b":", 16: b":"}


def _times(texts: tuple[bytes, ...]) -> NDArray[np.datetime64] | None:
    """<time> texts as `parse_times` reads them; None where it refuses one (the line is needed).

    Times written as "YYYY-MM-DDTHH:MM:SS[.f to .fff]Z", as nearly every device writes them,
    are decoded with array arithmetic; any other text sends the column through `parse_times`.
    """
    values = np.array(texts, dtype="S")
    if values.dtype.itemsize in (20, 22, 23, 24):
        times = _utc_times(values)
        if times is not None and first_implausible(times) is None:
            return times
    try:
        return parse_times([text.decode() for text in texts])
    except (TimeValueError, UnicodeDecodeError):
        return None


def _utc_times(values: NDArray[np.bytes_]) -> NDArray[np.datetime64] | None:
    """Times of the rows "YYYY-MM-DDTHH:MM:SS[.f-fff]Z" (or empty: NaT); None if any is not."""
    chars = values.view(np.uint8).reshape(len(values), values.dtype.itemsize)
    length = chars.shape[1] - (chars == 0).sum(axis=1)
    empty = length == 0
    ok = empty | (length == 20) | ((length >= 22) & (chars[:, 19] == ord(".")))
    ok &= empty | (chars[np.arange(len(chars)), np.maximum(length - 1, 0)] == ord("Z"))

    def digit(column: int) -> NDArray[np.int64]:
        value = chars[:, column] - np.uint8(ord("0"))  # wraps below "0"
        ok[...] &= empty | (value <= 9)
        return value.astype(np.int64)

    def number(*columns: int) -> NDArray[np.int64]:
        total = np.zeros(len(chars), dtype=np.int64)
        for column in columns:
            total = total * 10 + digit(column)
        return np.where(empty, 0, total)

    for column, separator in _SEPARATORS.items():
        ok &= empty | (chars[:, column] == separator[0])
    year, month, day = number(0, 1, 2, 3), number(5, 6), number(8, 9)
    hour, minute, second = number(11, 12), number(14, 15), number(17, 18)
    fraction = np.zeros(len(chars), dtype=np.int64)
    for column, scale in ((20, 100), (21, 10), (22, 1)):
        if column < chars.shape[1]:
            inside = length - 1 > column  # the digit is before the "Z"
            value = chars[:, column] - np.uint8(ord("0"))
            ok &= ~inside | (value <= 9)
            fraction += np.where(inside, value.astype(np.int64) * scale, 0)
    months = ((year - 1970) * 12 + month - 1).astype("datetime64[M]")
    month_days = (months + 1).astype("datetime64[D]") - months.astype("datetime64[D]")
    ok &= empty | ((month >= 1) & (month <= 12) & (day >= 1) & (day <= month_days.astype(int)))
    ok &= empty | ((hour <= 23) & (minute <= 59) & (second <= 59))
    if not ok.all():
        return None
    seconds = ((day - 1) * 86_400 + hour * 3600 + minute * 60 + second) * 1000 + fraction
    times: NDArray[np.datetime64] = months.astype("datetime64[ms]") + seconds.astype("m8[ms]")
    times[empty] = np.datetime64("NaT")
    return times
