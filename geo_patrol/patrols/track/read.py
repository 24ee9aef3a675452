"""GPS track files (GPX, KML/KMZ, GeoJSON, CSV) read into one numpy-backed structure.

`parse_track` picks the parser by file extension (or, for an unknown extension, by the first
bytes), then converts every coordinate to WGS84 with `geo_patrol.core.coords.to_wgs84`. The datum
cannot be detected: phone exports from Chinese map apps (AMap, Tencent, Ovital/奥维 in its
default "Chinese map" mode) are GCJ-02 and Baidu's are BD-09, and the caller must say so.

Every parser (`formats/`) is strict about what it reads: a coordinate that is not a number or
lies outside lon -180..180 / lat -90..90 is refused with an ImportFileError naming the line
(XML, CSV) or the feature (GeoJSON). Cleaning of plausible-but-wrong points is
`track.cleaning`. What the parsers fill is `track.types` (TrackPoints in a TrackFile); how
they read times is `track.times`. The parsers import only those and their own helpers, so
this module, above them, imports them at its top.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import PurePath

import numpy as np

from geo_patrol.core.catalog import msg, reason
from geo_patrol.core.coords import to_wgs84
from geo_patrol.core.errors import ImportFileError, InvalidInput
from geo_patrol.patrols.track.formats.csv_file import CsvOptions, parse_csv
from geo_patrol.patrols.track.formats.geojson_file import parse_geojson
from geo_patrol.patrols.track.formats.gpx import parse_gpx
from geo_patrol.patrols.track.formats.kml import parse_kml, parse_kmz
from geo_patrol.patrols.track.types import DEFAULT_MAX_UNCOMPRESSED_BYTES, TrackFile

__all__ = ["EXTENSIONS", "detect_format", "parse_track"]

EXTENSIONS: Mapping[str, str] = {
    ".gpx": "gpx",
    ".kml": "kml",
    ".kmz": "kmz",
    ".geojson": "geojson",
    ".json": "geojson",
    ".csv": "csv",
}
_ACCEPTED = ".gpx, .kml, .kmz, .geojson, .json, .csv"
_SNIFF_BYTES = 4096


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
        msg(
            "problem.track.unknown_type",
            filename=filename,
            suffix=suffix or "(no extension)",
            accepted=_ACCEPTED,
        ),
        file=filename,
    )


def _parser(
    fmt: str, csv_options: CsvOptions | None, max_uncompressed_bytes: int
) -> Callable[[bytes, str], TrackFile]:
    """The parse function for a format."""
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
        raise InvalidInput(reason(exc), field="datum") from exc
    fmt = detect_format(data, filename)
    track = _parser(fmt, csv_options, max_uncompressed_bytes)(data, filename)
    if len(track.points) == 0:
        found = (
            msg("problem.track.only_waypoints", count=len(track.waypoints))
            if track.waypoints
            else ""
        )
        raise ImportFileError(
            msg("problem.track.no_points", filename=filename, found=found), file=filename
        )
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
