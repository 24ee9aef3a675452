"""Hostile track files, made on the fly: `bench.memory` measures them and the tests upload
them (their one home: the tests may import bench, the benchmarks import nothing from tests/).

- `dense_kmz`: the KMZ of issue 12 — placemarks whose <coordinates> texts are just under
  libxml2's 10,000,000-byte text-node limit, the very last coordinate out of range so that
  nothing is stored (504 KB of zip for 195 MiB of KML at the default size);
- `whitespace_kmz`: a small valid track followed by whitespace (190 MiB in a 194 KB zip);
- `dense_track`: a valid file of any format with `points` fixes (for the per-format table).

Archives are written member by member through `zipfile`'s streaming writer, so making one
never holds its unpacked text in memory.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator

KML_HEAD = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<kml xmlns="http://www.opengis.net/kml/2.2">'
    b"<Document><name>hostile</name>\n"
)
KML_TAIL = b"</Document></kml>\n"
TEXT_NODE_LIMIT = 10_000_000  # libxml2's XML_MAX_TEXT_LENGTH without huge_tree
TUPLE = b"120.6500001,30.8800001,3.2 "  # 27 bytes a fix
MIB = 1024 * 1024


def _zip(chunks: Iterator[bytes]) -> bytes:
    """A KMZ holding doc.kml made of `chunks`, written as they come."""
    buffer = io.BytesIO()
    archive = zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9)
    with archive, archive.open("doc.kml", "w", force_zip64=True) as member:
        for chunk in chunks:
            member.write(chunk)
    return buffer.getvalue()


def _dense_kml(unpacked: int) -> Iterator[bytes]:
    """KML of about `unpacked` bytes: placemarks with coordinates just under the text limit,
    the last coordinate of the file out of range."""
    per_text = (TEXT_NODE_LIMIT - 1000) // len(TUPLE)
    block = TUPLE * 4096
    written = len(KML_HEAD)
    yield KML_HEAD
    while written < unpacked:
        left = min(per_text, max(1, (unpacked - written) // len(TUPLE)))
        last = written + left * len(TUPLE) + 100 >= unpacked
        yield b"<Placemark><name>p</name><LineString><coordinates>"
        body = left - 1 if last else left
        for _ in range(body // 4096):
            yield block
        yield TUPLE * (body % 4096)
        if last:
            yield b"999.0,99.0,0 "
        yield b"</coordinates></LineString></Placemark>\n"
        written += left * len(TUPLE) + 90
    yield KML_TAIL


def dense_kmz(unpacked: int = 195 * MIB) -> bytes:
    """The issue's hostile KMZ: ~`unpacked` bytes of near-limit coordinate texts, last bad."""
    return _zip(_dense_kml(unpacked))


def dense_kml(unpacked: int) -> bytes:
    """The same KML, not zipped."""
    return b"".join(_dense_kml(unpacked))


def _whitespace_kml(unpacked: int) -> Iterator[bytes]:
    """A three-fix track, then whitespace to about `unpacked` bytes."""
    yield KML_HEAD
    yield (
        b"<Placemark><name>t</name><LineString><coordinates>120.65,30.88 120.651,30.881 "
        b"120.652,30.882</coordinates></LineString></Placemark>"
    )
    space = b" \n\t" * (MIB // 3) + b"<Folder/>"  # whitespace text nodes of 1 MiB each
    for _ in range(unpacked // len(space)):
        yield space
    yield KML_TAIL


def whitespace_kmz(unpacked: int = 190 * MIB) -> bytes:
    """The issue's whitespace KMZ: a small track and ~`unpacked` bytes of whitespace."""
    return _zip(_whitespace_kml(unpacked))


def _fix(i: int) -> tuple[float, float, str]:
    """The i-th fix of a dense valid walk (one a second, ~1.4 m apart)."""
    seconds = i % 86_400
    day = 1 + i // 86_400
    time = f"2024-05-{day:02d}T{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}Z"
    return 120.65 + (i % 5000) * 1e-5, 30.88 + (i // 5000) * 1e-5, time


def dense_track(fmt: str, points: int) -> bytes:
    """A valid track file of `points` fixes in `fmt` (gpx, kml, kmz, geojson, csv)."""
    fixes = [_fix(i) for i in range(points)]
    if fmt == "gpx":
        rows = "".join(
            f'<trkpt lat="{lat:.7f}" lon="{lon:.7f}"><ele>3.2</ele><time>{t}</time></trkpt>\n'
            for lon, lat, t in fixes
        )
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n<gpx version="1.1" creator="bench">'
            f"<trk><trkseg>\n{rows}</trkseg></trk></gpx>\n"
        ).encode()
    if fmt in ("kml", "kmz"):
        whens = "".join(f"<when>{t}</when>" for _, _, t in fixes)
        coords = "".join(f"<gx:coord>{lon:.7f} {lat:.7f} 3.2</gx:coord>\n" for lon, lat, _ in fixes)
        kml = (
            '<?xml version="1.0" encoding="UTF-8"?>\n<kml xmlns="http://www.opengis.net/kml/2.2" '
            'xmlns:gx="http://www.google.com/kml/ext/2.2"><Document><Placemark><name>t</name>'
            f"<gx:Track>{whens}\n{coords}</gx:Track></Placemark></Document></kml>\n"
        ).encode()
        return _zip(iter([kml])) if fmt == "kmz" else kml
    if fmt == "geojson":
        feature = {
            "type": "Feature",
            "properties": {"coordTimes": [t for _, _, t in fixes]},
            "geometry": {"type": "LineString", "coordinates": [[x, y, 3.2] for x, y, _ in fixes]},
        }
        return json.dumps({"type": "FeatureCollection", "features": [feature]}).encode()
    if fmt == "csv":
        rows = "".join(f"{lon:.7f},{lat:.7f},{t},3.2\n" for lon, lat, t in fixes)
        return ("lon,lat,time,ele\n" + rows).encode()
    raise ValueError(fmt)
