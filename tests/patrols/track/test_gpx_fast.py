"""formats.gpx_fast: the regex fast path gives exactly the lxml parser's TrackFile.

Every fixture GPX and a set of variants of real layouts are parsed both ways and compared
array by array (NaN and NaT positions included); files the fast path must leave to the lxml
parser are checked to be declined, and errors still name their line.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from geo_patrol.core.errors import ImportFileError
from geo_patrol.patrols.track.formats.gpx import parse_gpx
from geo_patrol.patrols.track.formats.gpx_fast import parse_gpx_fast
from geo_patrol.patrols.track.formats.gpx_lxml import parse_gpx_lxml
from geo_patrol.patrols.track.types import TrackFile

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "tracks"
FIXTURE_GPX = sorted(path.name for path in FIXTURES.glob("*.gpx"))
# Fixtures the fast path answers (the others have waypoints, a route, a DOCTYPE or an error).
# garmin_tpx.gpx has <extensions> in its points: prefixed names, so declined (see gpx_fast).
FAST_FIXTURES = {
    "around-visnjan-with-car.gpx",
    "multi_track.gpx",
    "no_times.gpx",
    # Real files out of the usual shape (issue 12; tests/patrols/test_real_device_faults.py).
    "Mojstrovka.gpx",
    "first_and_last_elevation.gpx",
    "track-with-empty-segment.gpx",
    "visnjan-clock-back.gpx",
    "visnjan-cold-start.gpx",
}
assert set(FIXTURE_GPX) >= FAST_FIXTURES, "a fast-path fixture was renamed or removed"

HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n'
OSMAND = (
    HEAD + '<gpx version="1.1" creator="OsmAnd~ 4.7.3" xmlns="http://www.topografix.com/GPX/1/1">\n'
)


def _osmand(n: int, *, name: str = "walk") -> str:
    """A GPX laid out as OsmAnd writes it (bench/tracks.py): one point a line."""
    rows = "\n".join(
        f'<trkpt lat="{30.85 + i * 1e-5:.7f}" lon="{120.6 + i * 1e-5:.7f}"><ele>{i % 7}.5</ele>'
        f"<time>2026-11-16T04:{i // 60 % 60:02d}:{i % 60:02d}Z</time><hdop>1.{i % 9}</hdop></trkpt>"
        for i in range(n)
    )
    return f"{OSMAND}<trk><name>{name}</name><trkseg>\n{rows}\n</trkseg></trk></gpx>\n"


def _assert_same(fast: TrackFile, slow: TrackFile) -> None:
    """Every array (dtype, NaN/NaT positions), the header and the waypoints are equal."""
    for name in ("lon", "lat", "time", "ele", "accuracy_m", "hdop", "segment"):
        got, want = getattr(fast.points, name), getattr(slow.points, name)
        assert got.dtype == want.dtype, name
        np.testing.assert_array_equal(got, want, err_msg=name)
    assert (fast.format, fast.name, fast.creator) == (slow.format, slow.name, slow.creator)
    assert fast.waypoints == slow.waypoints


def _both(data: bytes) -> tuple[TrackFile | None, TrackFile]:
    """(fast path's answer, lxml parser's TrackFile) for the same bytes."""
    return parse_gpx_fast(data, filename="t.gpx"), parse_gpx_lxml(data, filename="t.gpx")


@pytest.mark.parametrize("name", FIXTURE_GPX)
def test_fixtures_equal_the_lxml_parser(name: str) -> None:
    data = (FIXTURES / name).read_bytes()
    fast = parse_gpx_fast(data, filename=name)
    try:
        slow = parse_gpx_lxml(data, filename=name)
    except ImportFileError:
        assert fast is None  # the lxml parser gives the error and its line
        return
    assert (fast is not None) == (name in FAST_FIXTURES)
    if fast is not None:
        _assert_same(fast, slow)


def _track(points: str, *, head: str = "", trk: str = "<trk><name>T</name>") -> str:
    """A GPX 1.1 file with `points` (already wrapped in trkseg) in one track."""
    return f'{HEAD}<gpx version="1.1" creator="test">{head}{trk}{points}</trk></gpx>'


def _segment(points: str, **track: str) -> str:
    """A GPX 1.1 file with `points` in one segment of one track (`track`: as for _track)."""
    return _track(f"<trkseg>{points}</trkseg>", **track)


P1 = '<trkpt lat="30.1" lon="120.1"><ele>1.5</ele><time>2024-05-01T00:30:00Z</time></trkpt>'
P2 = '<trkpt lat="30.2" lon="120.2"><ele>2.5</ele><time>2024-05-01T00:30:10Z</time></trkpt>'
P3 = '<trkpt lat="30.3" lon="120.3"><ele>3.5</ele><time>2024-05-01T00:30:20Z</time></trkpt>'
GARMIN = (
    '<trkpt lat="45.27" lon="13.71"><ele>211.15</ele><time>2020-12-18T06:15:50.250Z</time>'
    "<extensions><gpxtpx:TrackPointExtension><gpxtpx:hr>120</gpxtpx:hr>"
    "</gpxtpx:TrackPointExtension></extensions></trkpt>"
)
VARIANTS = {
    "osmand": _osmand(300),
    "lon before lat": _segment(
        P1.replace('lat="30.1" lon="120.1"', 'lon="120.1" lat="30.1"')
        + P2.replace('lat="30.2" lon="120.2"', 'lon="120.2" lat="30.2"')
    ),
    "missing ele and time": _segment(
        f'{P1}<trkpt lat="30.2" lon="120.2"/><trkpt lat="30.3" lon="120.3">'
        f"<time>2024-05-01T00:30:20Z</time></trkpt>{P3}"
    ),
    "empty ele time hdop": _segment(
        f'{P1}<trkpt lat="30.2" lon="120.2"><ele></ele><time></time><hdop/></trkpt>'
        f'<trkpt lat="30.3" lon="120.3"><ele/><time/></trkpt>'
    ),
    "segments, tracks and an empty segment": _track(
        f"<trkseg>{P1}</trkseg>\n<trkseg>\n</trkseg>\n<trkseg>{P2}{P3}</trkseg>"
        f"</trk>\n<trk><name>second</name><trkseg>{P1}</trkseg>",
    ),
    "GPX 1.0 course and speed": (
        HEAD + '<gpx version="1.0" creator="GPSBabel" xmlns="http://www.topografix.com/GPX/1/0">'
        "<name>log</name><time>2024-05-01T00:00:00Z</time><trk><name>ACTIVE LOG</name><trkseg>"
        + "".join(
            f'<trkpt lat="46.{i}" lon="14.{i}"><ele>{i}</ele><time>2024-05-01T00:0{i}:00Z</time>'
            f"<course>{i * 10}.5</course><speed>1.{i}</speed><sat>7</sat></trkpt>"
            for i in range(5)
        )
        + "</trkseg></trk></gpx>"
    ),
    "extensions of the track after its points": _track(
        f"<trkseg>{P1}{P2}</trkseg><extensions><g:c>red</g:c></extensions>",
        trk='<trk xmlns:g="http://example.com/g"><name>T</name>',
    ),
    "whitespace between children": _segment(
        "\n  "
        + P1.replace("><", ">\n    <").replace("<ele>1.5", "<ele> 1.5 ")
        + "\n  "
        + P2.replace("><", ">\t<")
        + "\n"
    ),
    "CRLF": _osmand(20).replace("\n", "\r\n"),
    "metadata name and time": _segment(
        P1 + P2,
        head="<metadata><name> Patrol 7 </name><time>2024-05-01T00:00:00Z</time></metadata>",
    ),
    "no names": _segment(P1 + P2, trk="<trk>"),
    "comment in the header": _segment(P1, head="<!-- OsmAnd -->"),
    "offsets and fractions": _segment(
        P1.replace("00:30:00Z", "08:30:00.5+08:00") + P2.replace("00:30:10Z", "00:30:10.123456Z")
    ),
    "fractions of seconds": _segment(
        P1.replace("00:30:00Z", "00:30:00.5Z")
        + P2.replace("00:30:10Z", "00:30:10.12Z")
        + P3.replace("00:30:20Z", "00:30:20.999Z")
    ),
    "UTF-8 BOM and Chinese name": "\ufeff" + _segment(P1, trk="<trk><name>巡逻</name>"),
    "OsmAnd hdop is accuracy": _osmand(5).replace("<hdop>1.3</hdop>", ""),
    "leap day and a date that is not": _segment(P1.replace("2024-05-01", "2024-02-29")),
}


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_variants_equal_the_lxml_parser(variant: str) -> None:
    fast, slow = _both(VARIANTS[variant].encode())
    assert fast is not None, "the fast path should answer this layout"
    _assert_same(fast, slow)


def test_osmand_layout_takes_the_fast_path() -> None:
    data = _osmand(2000).encode()
    fast, slow = _both(data)
    assert fast is not None and len(fast.points) == 2000
    _assert_same(fast, slow)
    assert fast.name == "walk" and fast.creator == "OsmAnd~ 4.7.3"
    np.testing.assert_array_equal(fast.points.accuracy_m, fast.points.hdop)


DECLINED = {
    "Garmin TrackPointExtension": _segment(
        GARMIN + GARMIN.replace("45.27", "45.28"),
        trk='<trk xmlns:gpxtpx="http://www.garmin.com/xmlschemas/TrackPointExtension/v1">',
    ),
    "undeclared prefix after the points": _track(
        f"<trkseg>{P1}</trkseg><extensions><g:c>red</g:c></extensions>"
    ),
    "namespace URI that is not one": _segment(P1).replace(
        "<gpx ", '<gpx xmlns="http://ex ample.com/" '
    ),
    "comment between points": _segment(f"{P1}<!-- pause -->{P2}"),
    "comment in extensions": _segment(
        P1.replace("</trkpt>", "<extensions><!-- x --></extensions></trkpt>")
    ),
    "character reference": _segment(P1.replace("<ele>1.5", "<ele>&#49;.5")),
    "entity in a time": _segment(P1.replace("00:30:00Z", "00:30:00&#90;")),
    "waypoint": _segment(P1, head='<wpt lat="3" lon="1"><name>W</name></wpt>'),
    "route": _segment(P1, head='<rte><rtept lat="1" lon="2"/></rte>'),
    "accuracy extension": _segment(
        P1.replace("</trkpt>", "<extensions><acc>5</acc></extensions></trkpt>")
    ),
    "prefixed point": _segment(
        P1 + '<g:trkpt xmlns:g="http://www.topografix.com/GPX/1/1" lat="1" lon="2"/>'
    ),
    "point outside a segment": _track(P1),
    "name only in a later track": _track(
        f"<trkseg>{P1}</trkseg></trk><trk><name>late</name><trkseg>{P2}</trkseg>", trk="<trk>"
    ),
    "duplicate ele": _segment(P1.replace("<time>", "<ele>9</ele><time>")),
    "unknown child": _segment(P1.replace("<time>", "<foo>1</foo><time>")),
    "date that does not exist": _segment(P1.replace("2024-05-01", "2023-02-29")),
}


@pytest.mark.parametrize("case", [*sorted(DECLINED), "UTF-16"])
def test_declined_files_go_to_the_lxml_parser(case: str) -> None:
    if case == "UTF-16":
        data = VARIANTS["no names"].replace("UTF-8", "UTF-16").encode("utf-16")
    else:
        data = DECLINED[case].encode()
    assert parse_gpx_fast(data, filename="t.gpx") is None
    try:
        slow = parse_gpx_lxml(data, filename="t.gpx")
    except ImportFileError as exc:
        with pytest.raises(ImportFileError) as info:
            parse_gpx(data, filename="t.gpx")
        assert info.value.detail == exc.detail
    else:
        _assert_same(parse_gpx(data, filename="t.gpx"), slow)


def test_a_file_broken_in_the_middle_names_its_line() -> None:
    lines = _osmand(1000).split("\n")
    lines[500] = lines[500].replace("</ele>", "</ele", 1)  # line 501 of the file
    data = "\n".join(lines).encode()
    assert parse_gpx_fast(data, filename="broken.gpx") is None
    with pytest.raises(ImportFileError) as info:
        parse_gpx(data, filename="broken.gpx")
    assert info.value.extra["line"] == 501
    assert "not well-formed XML at line 501" in info.value.detail


def test_a_bad_value_in_the_middle_names_its_line() -> None:
    lines = _osmand(1000).split("\n")
    lines[700] = lines[700].replace('lat="', 'lat="9', 1)  # lat 930.8...: out of range
    with pytest.raises(ImportFileError) as info:
        parse_gpx("\n".join(lines).encode(), filename="bad.gpx")
    assert (info.value.extra["line"], info.value.extra["field"]) == (701, "lat")


def test_doctype_is_still_refused() -> None:
    data = _osmand(10).replace(HEAD, HEAD + '<!DOCTYPE gpx [<!ENTITY a "b">]>\n').encode()
    with pytest.raises(ImportFileError) as info:
        parse_gpx(data, filename="dtd.gpx")
    assert "refused for safety" in info.value.detail
