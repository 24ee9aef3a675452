"""geo_patrol.ingest track parsers: every format, datums, safety and error locations.

Expected values are spelled out from the fixtures' contents (tests/fixtures/tracks), never
taken from a parser's output.
"""

from __future__ import annotations

import io
import json
import time
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pyproj
import pytest

from geo_patrol.core.coords import gcj02_to_wgs84
from geo_patrol.core.errors import FileTooLarge, ImportFileError, InvalidInput
from geo_patrol.patrols.track.formats.csv_file import CsvOptions
from geo_patrol.patrols.track.formats.kml import _Capped, parse_kmz
from geo_patrol.patrols.track.read import parse_track
from geo_patrol.patrols.track.times import TimeValueError, epoch_times, parse_times
from geo_patrol.patrols.track.types import TrackFile

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "tracks"
GEOD = pyproj.Geod(ellps="WGS84")

# The made-up patrol path of make_fixtures.py, written out again.
PATH_LON = [120.65000, 120.65010, 120.65020, 120.65030, 120.65040, 120.65050]
PATH_LAT = [30.88000, 30.88005, 30.88010, 30.88015, 30.88020, 30.88025]
PATH_ELE = [3.2, 3.4, 3.1, 2.9, 3.0, 3.3]
PATH_TIMES = np.array(
    [f"2024-05-01T00:30:{s:02d}" for s in (0, 10, 20, 30, 40, 50)], dtype="datetime64[ms]"
)
SIGN = (120.65025, 30.88030)
CHINESE_CSV = CsvOptions(
    lon="东经",
    lat="北纬",
    time="定位时间",
    ele="高度(米)",
    accuracy="定位精度(米)",
    utc_offset_hours=8,
)


def _parse(name: str, **kwargs: object) -> TrackFile:
    """parse_track on a fixture file."""
    return parse_track((FIXTURES / name).read_bytes(), filename=name, **kwargs)  # type: ignore[arg-type]


def _error(data: bytes, filename: str, **kwargs: object) -> ImportFileError:
    """The ImportFileError parse_track raises."""
    with pytest.raises(ImportFileError) as info:
        parse_track(data, filename=filename, **kwargs)  # type: ignore[arg-type]
    return info.value


def _assert_path(track: TrackFile, *, times: bool = True, ele: bool = True) -> None:
    """The track is exactly the fixture patrol path."""
    points = track.points
    np.testing.assert_allclose(points.lon, PATH_LON, rtol=0, atol=1e-9)
    np.testing.assert_allclose(points.lat, PATH_LAT, rtol=0, atol=1e-9)
    if ele:
        np.testing.assert_allclose(points.ele, PATH_ELE)
    else:
        assert np.isnan(points.ele).all()
    if times:
        np.testing.assert_array_equal(points.time, PATH_TIMES)
    else:
        assert np.isnat(points.time).all()


# --- GPX ----------------------------------------------------------------------------------


def test_osmand_gpx_1_1() -> None:
    track = _parse("osmand_1_1.gpx")
    assert (track.format, track.name, track.creator) == (
        "gpx",
        "2024-05-01_08-30_Wed",
        "OsmAnd~ 4.8.6",
    )
    _assert_path(track)
    np.testing.assert_array_equal(track.points.hdop, [4.5, 3.9, 3.8, 5.1, 12.0, 4.0])
    # OsmAnd records Location.getAccuracy() (metres) in <hdop>.
    np.testing.assert_array_equal(track.points.accuracy_m, track.points.hdop)
    assert track.points.segment.tolist() == [0] * 6
    assert track.points.time.dtype == np.dtype("datetime64[ms]")
    [sign] = track.waypoints
    assert (sign.name, sign.description) == ("河长公示牌", "公示牌完好")
    assert (sign.lon, sign.lat) == SIGN
    assert sign.time is not None and sign.time.isoformat() == "2024-05-01T00:30:25+00:00"


def test_gpsbabel_gpx_1_0() -> None:
    track = _parse("gpsbabel_1_0.gpx")
    assert (track.name, track.creator) == (
        "Border patrol download",
        "GPSBabel - http://www.gpsbabel.org",
    )
    _assert_path(track)
    assert np.isnan(track.points.hdop).all() and np.isnan(track.points.accuracy_m).all()
    [sign] = track.waypoints
    assert (sign.name, sign.description, sign.time) == ("SIGN 01", "01-MAY-24 08:30:25", None)


def test_garmin_track_point_extension_is_ignored() -> None:
    track = _parse("garmin_tpx.gpx")
    assert (track.name, track.creator) == ("Jiaxing Walking", "Garmin Connect")
    _assert_path(track)
    assert np.isnan(track.points.accuracy_m).all()


def test_gpx_without_times_or_elevations() -> None:
    track = _parse("no_times.gpx")
    assert track.name == "计划巡河路线"
    _assert_path(track, times=False, ele=False)


def test_gpx_tracks_and_segments() -> None:
    track = _parse("multi_track.gpx")
    points = track.points
    assert points.segment.tolist() == [0, 0, 1, 2, 2]  # the empty <trkseg> counts for nothing
    assert points.lon.tolist() == [120.65, 120.6501, 120.66, 120.67, 120.6701]
    expected = ["00:30:00", "00:30:10.500", "01:00:00", "01:30:00", "01:30:10"]
    assert (
        points.time.tolist()
        == np.array([f"2024-05-01T{t}" for t in expected], dtype="datetime64[ms]").tolist()
    )
    assert (track.name, track.creator) == ("上午巡河", "六只脚 (foooooot)")


def test_route_only_gpx_uses_the_route() -> None:
    track = _parse("route_only.gpx")
    assert track.points.lon.tolist() == PATH_LON[::2]
    assert track.points.lat.tolist() == PATH_LAT[::2]
    assert track.name == "Planned route"


def test_routes_are_ignored_when_there_are_track_points() -> None:
    data = (
        b'<gpx version="1.1"><rte><rtept lat="1" lon="2"/></rte>'
        b'<trk><trkseg><trkpt lat="30.9" lon="120.7"/></trkseg></trk></gpx>'
    )
    track = parse_track(data, filename="both.gpx")
    assert (track.points.lon.tolist(), track.points.lat.tolist()) == ([120.7], [30.9])


@pytest.mark.parametrize(
    "xmlns",
    [
        'xmlns="http://www.topografix.com/GPX/1/0"',
        'xmlns="http://www.topografix.com/GPX/1/1"',
        'xmlns="http://example.com/not-gpx"',
        "",
    ],
)
def test_gpx_namespace_does_not_matter(xmlns: str) -> None:
    data = (
        f'<?xml version="1.0"?>\n<gpx version="1.1" {xmlns}><trk><trkseg>'
        '<trkpt lat="30.9" lon="120.7"><ele>4</ele><time>2024-05-01T00:00:00Z</time></trkpt>'
        "</trkseg></trk></gpx>"
    ).encode()
    track = parse_track(data, filename="ns.gpx")
    assert (track.points.lon[0], track.points.lat[0], track.points.ele[0]) == (120.7, 30.9, 4.0)
    assert str(track.points.time[0]) == "2024-05-01T00:00:00.000"


def test_gpx_accuracy_extension() -> None:
    data = (
        b'<gpx version="1.1" creator="GPSLogger"><trk><trkseg>'
        b'<trkpt lat="30.9" lon="120.7"><hdop>1.1</hdop>'
        b"<extensions><accuracy>7.5</accuracy></extensions></trkpt>"
        b'<trkpt lat="30.9" lon="120.7"><hdop>0.9</hdop></trkpt>'
        b"</trkseg></trk></gpx>"
    )
    points = parse_track(data, filename="acc.gpx").points
    np.testing.assert_array_equal(points.accuracy_m, [7.5, np.nan])
    np.testing.assert_array_equal(points.hdop, [1.1, 0.9])  # hdop is not turned into metres


def test_real_gpsbabel_garmin_file() -> None:
    """A genuine GPX 1.0 recording (gpxpy test data, Apache-2.0)."""
    track = _parse("cerknicko-jezero.gpx")
    points = track.points
    assert len(points) == 296
    assert np.bincount(points.segment).tolist() == [173, 52, 2, 44, 2, 2, 21]
    first, last = 0, len(points) - 1
    assert (points.lat[first], points.lon[first], points.ele[first]) == (
        45.772175035,
        14.357659249,
        542.320923,
    )
    assert str(points.time[first]) == "2010-08-05T14:23:59.000"
    assert (points.lat[last], points.lon[last]) == (45.790873384, 14.304442042)
    assert str(points.time[last]) == "2010-08-05T16:23:49.000"
    assert (track.name, track.creator) == ("ACTIVE LOG", "GPSBabel - http://www.gpsbabel.org")
    assert [w.name for w in track.waypoints][:3] == ["001", "BACK T TH", "BIRDS NEST"]
    assert track.waypoints[0].time is not None
    assert track.waypoints[0].time.isoformat() == "2010-08-05T14:23:59+00:00"
    assert track.waypoints[1].time is None and track.waypoints[1].description == "BACK TO THE ROOTS"


def test_real_garmin_etrex_file() -> None:
    """A genuine GPX 1.1 recording from an eTrex 20x (gpxpy test data, Apache-2.0)."""
    track = _parse("around-visnjan-with-car.gpx")
    points = track.points
    assert len(points) == 104 and set(points.segment.tolist()) == {0}
    assert (track.name, track.creator) == ("2020-12-18 07:24:29", "eTrex 20x")
    assert (points.lat[0], points.lon[0], points.ele[0]) == (45.2735188510, 13.7142099626, 211.15)
    assert str(points.time[0]) == "2020-12-18T06:15:50.000"
    assert (points.lat[-1], points.lon[-1], points.ele[-1]) == (
        45.2733349521,
        13.7139970623,
        210.67,
    )
    assert str(points.time[-1]) == "2020-12-18T06:24:24.000"


# --- KML / KMZ ----------------------------------------------------------------------------


def test_my_tracks_kml_gx_track() -> None:
    track = _parse("my_tracks.kml")
    assert track.format == "kml"
    _assert_path(track)
    assert track.points.segment.tolist() == [0, 0, 0, 1, 1, 1]  # two gx:Track in a MultiTrack
    assert (track.name, track.creator) == ("Morning patrol", "Morning patrol")
    start, end = track.waypoints
    assert (start.name, start.lon, start.lat) == ("Morning patrol (Start)", 120.65, 30.88)
    assert end.time is not None and end.time.isoformat() == "2024-05-01T00:30:50+00:00"


def _gcj02_file_coordinates() -> tuple[list[float], list[float]]:
    """The GCJ-02 lon/lat written in ovital_gcj02.kml (copied from the file)."""
    lon = [120.65418460, 120.65428479, 120.65438498, 120.65448516, 120.65458535, 120.65468554]
    lat = [30.87763891, 30.87768911, 30.87773931, 30.87778952, 30.87783972, 30.87788992]
    return lon, lat


@pytest.mark.parametrize("name", ["ovital_gcj02.kml", "ovital_gcj02.kmz"])
def test_ovital_gcj02_recovered_to_wgs84(name: str) -> None:
    track = _parse(name, datum="gcj02")
    assert track.format == name[-3:]
    assert (track.name, track.creator) == ("王江泾段巡河", "奥维互动地图")
    expected = gcj02_to_wgs84(*_gcj02_file_coordinates())
    np.testing.assert_allclose(track.points.lon, expected[0], rtol=0, atol=1e-12)
    np.testing.assert_allclose(track.points.lat, expected[1], rtol=0, atol=1e-12)
    # ...which is the original WGS84 path to within the file's 8 decimals (~1 mm).
    _, _, error_m = GEOD.inv(
        track.points.lon, track.points.lat, np.array(PATH_LON), np.array(PATH_LAT)
    )
    assert np.max(error_m) < 0.005
    [sign] = track.waypoints
    assert sign.name == "河长公示牌" and sign.description == "界河南岸"
    assert GEOD.inv(sign.lon, sign.lat, *SIGN)[2] < 0.005


def test_gcj02_file_read_as_wgs84_is_hundreds_of_metres_off() -> None:
    track = _parse("ovital_gcj02.kml")
    assert track.points.lon.tolist() == _gcj02_file_coordinates()[0]
    _, _, offset_m = GEOD.inv(
        track.points.lon, track.points.lat, np.array(PATH_LON), np.array(PATH_LAT)
    )
    assert np.all(offset_m > 300)


def test_kml_linestring_with_spaces_and_multigeometry() -> None:
    data = b"""<kml xmlns="http://www.opengis.net/kml/2.2"><Document><Placemark><MultiGeometry>
      <LineString><coordinates>
        120.65,30.88 120.651, 30.881
      </coordinates></LineString>
      <LineString><coordinates>120.66,30.89,5 120.661,30.891,6</coordinates></LineString>
    </MultiGeometry></Placemark></Document></kml>"""
    points = parse_track(data, filename="multi.kml").points
    assert points.lon.tolist() == [120.65, 120.651, 120.66, 120.661]
    assert points.segment.tolist() == [0, 0, 1, 1]
    np.testing.assert_array_equal(points.ele, [np.nan, np.nan, 5.0, 6.0])


def _kml_line(coordinates: str) -> bytes:
    """A minimal KML with one LineString placemark."""
    return (
        "<kml><Placemark><LineString><coordinates>"
        f"{coordinates}</coordinates></LineString></Placemark></kml>"
    ).encode()


def test_kml_bad_coordinate_names_its_line() -> None:
    data = _kml_line("\n120.65,30.88\n120.66,abc\n")
    error = _error(data, "bad.kml")
    assert (error.extra["line"], error.extra["element"]) == (3, "coordinates")
    assert "120.66,abc" in error.detail


def test_kmz_size_cap_applies() -> None:
    data = (FIXTURES / "ovital_gcj02.kmz").read_bytes()  # doc.kml: 912 bytes
    error = _error(data, "small.kmz", max_uncompressed_bytes=100)
    assert isinstance(error, FileTooLarge)
    assert error.detail == (
        "small.kmz: doc.kml in the KMZ archive is larger than 100 bytes uncompressed; refused "
        "(zip bomb protection; the limit is GEO_PATROL_MAX_UNPACKED_BYTES)"
    )
    assert parse_track(data, filename="small.kmz", max_uncompressed_bytes=912).points.lon.size > 0


def test_zip_bomb_kmz_is_refused_by_its_declared_size() -> None:
    error = _error((FIXTURES / "zip_bomb.kmz").read_bytes(), "zip_bomb.kmz")
    assert "zip bomb" in error.detail and "50,000,000 bytes" in error.detail


def test_kmz_size_is_also_counted_while_reading() -> None:
    """A member whose declared size is small but whose data is larger: refused or corrupt."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("doc.kml", b"<kml>" + b" " * 5000 + b"</kml>")
    data = bytearray(buffer.getvalue())
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        at = data.find(signature) + offset
        data[at : at + 4] = (50).to_bytes(4, "little")  # claims 50 bytes
    # zipfile never gives more than the declared size, so the liar ends in a checksum
    # error after 50 bytes: it is refused as unreadable, never unpacked past its claim.
    error = _error(bytes(data), "liar.kmz", max_uncompressed_bytes=1000)
    assert not isinstance(error, FileTooLarge)
    assert (
        error.detail
        == "liar.kmz: doc.kml in the KMZ archive cannot be read: Bad CRC-32 for file 'doc.kml'"
    )


def test_kmz_member_stream_is_capped_while_reading() -> None:
    """The count while reading: a member stream that gives more than the cap is refused as
    too large at the first byte past it, whatever its size claimed."""
    capped = _Capped(io.BytesIO(b"x" * 1001), "liar.kmz", "doc.kml", 1000)
    assert capped.read(1000) == b"x" * 1000
    with pytest.raises(FileTooLarge) as info:
        capped.read(10)
    assert info.value.detail.startswith(
        "liar.kmz: doc.kml in the KMZ archive is larger than 1,000 bytes uncompressed"
    )


@pytest.mark.parametrize("member", ["../evil.kml", "/etc/evil.kml", "a/../../evil.kml"])
def test_kmz_path_tricks_are_refused(member: str) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(member, b"<kml/>")
    error = _error(buffer.getvalue(), "tricky.kmz")
    assert "unsafe member name" in error.detail


def test_kmz_that_is_not_a_zip() -> None:
    error = _error(b"PK\x03\x04 but not really a zip", "broken.kmz")
    assert "not a readable KMZ" in error.detail


def test_kmz_without_kml() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("files/icon.png", b"png")
    assert "no .kml" in _error(buffer.getvalue(), "empty.kmz").detail


def test_kmz_direct_call_reads_doc_kml_first() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(
            "other.kml",
            b"<kml><Placemark><Point><coordinates>1,1</coordinates></Point></Placemark></kml>",
        )
        archive.writestr(
            "doc.kml",
            _kml_line("120.7,30.9 120.71,30.91"),
        )
    track = parse_kmz(buffer.getvalue(), filename="two.kmz")
    assert track.points.lon.tolist() == [120.7, 120.71]


# --- GeoJSON ------------------------------------------------------------------------------


def test_geojson_coord_times() -> None:
    track = _parse("coordtimes.geojson")
    assert (track.format, track.name) == ("geojson", "Morning patrol")
    _assert_path(track)
    [sign] = track.waypoints
    assert (sign.name, sign.lon, sign.lat, sign.description) == ("河长公示牌", *SIGN, "公示牌完好")


def _feature(geometry: str, coordinates: object, **properties: object) -> dict[str, object]:
    """A GeoJSON feature."""
    return {
        "type": "Feature",
        "properties": properties,
        "geometry": {"type": geometry, "coordinates": coordinates},
    }


def _collection(*features: dict[str, object]) -> bytes:
    """A GeoJSON FeatureCollection as bytes."""
    return json.dumps({"type": "FeatureCollection", "features": list(features)}).encode()


def test_geojson_timed_points_and_multilinestring() -> None:
    doc = _collection(
        _feature("Point", [120.65, 30.88], time="2024-05-01T08:30:00+08:00", accuracy=6),
        _feature("Point", [120.6501, 30.8801], timestamp=1714523410000),
        _feature(
            "MultiLineString",
            [[[120.66, 30.89]], [[120.67, 30.9]]],
            coordTimes=[["2024-05-01T01:00:00Z"], ["2024-05-01T01:10:00Z"]],
        ),
    )
    points = parse_track(doc, filename="points.json").points
    assert points.lon.tolist() == [120.65, 120.6501, 120.66, 120.67]
    assert points.segment.tolist() == [0, 0, 1, 2]
    expected = ["00:30:00", "00:30:10", "01:00:00", "01:10:00"]
    assert [str(t) for t in points.time] == [f"2024-05-01T{t}.000" for t in expected]
    np.testing.assert_array_equal(points.accuracy_m, [6.0, np.nan, np.nan, np.nan])


def test_geojson_errors_name_the_feature() -> None:
    good = _feature("LineString", [[120.6, 30.8], [120.7, 30.9]])
    bad = _feature("LineString", [[120.6, 30.8], [200.0, 30.9]])
    error = _error(_collection(good, bad), "bad.geojson")
    assert (error.extra["feature"], error.extra["field"]) == (2, "geometry")
    assert "position 2" in error.detail
    times = _feature("LineString", [[120.6, 30.8], [120.7, 30.9]], coordTimes=["2024-05-01"])
    assert _error(_collection(times), "t.geojson").extra["field"] == "coordTimes"


def test_geojson_members_in_any_order() -> None:
    # Streaming must not depend on the order of members: properties after the geometry,
    # "coordinates" before "type", "features" before the collection's "type".
    feature = (
        '{"geometry": {"coordinates": [[120.6, 30.8], [120.7, 30.9]], "type": "LineString"},'
        ' "properties": {"coordTimes": ["2024-05-01T00:00:00Z", "2024-05-01T00:00:10Z"],'
        ' "name": "late"}, "type": "Feature"}'
    )
    doc = ('{"features": [' + feature + '], "name": "walk", "type": "FeatureCollection"}').encode()
    track = parse_track(doc, filename="order.geojson")
    assert track.name == "walk" and track.points.lon.tolist() == [120.6, 120.7]
    assert [str(t) for t in track.points.time] == [
        "2024-05-01T00:00:00.000",
        "2024-05-01T00:00:10.000",
    ]


def test_geojson_long_line_is_read_in_pieces() -> None:
    # 10,000 positions: times are parsed a few thousand at a time, epoch numbers (here every
    # third, in milliseconds) judged over the whole line; a bad time is named by its index.
    count = 10_000
    start = np.datetime64("2024-05-01T00:00:00", "ms")
    expected = start + np.arange(count).astype("timedelta64[s]")
    millis = expected.astype(np.int64).tolist()
    times: list[object] = [
        millis[i] if i % 3 == 0 else f"{str(expected[i])[:19]}Z" for i in range(count)
    ]
    coords = [[120.0 + i * 1e-5, 30.0, 2.5] for i in range(count)]
    points = parse_track(
        _collection(_feature("LineString", coords, coordTimes=times)), filename="long.geojson"
    ).points
    np.testing.assert_array_equal(points.time, expected)
    np.testing.assert_array_equal(points.lon, [c[0] for c in coords])
    np.testing.assert_array_equal(points.ele, np.full(count, 2.5))
    times[7_001] = "7001"
    error = _error(_collection(_feature("LineString", coords, coordTimes=times)), "l.geojson")
    assert (error.extra["feature"], error.extra["field"]) == (1, "coordTimes")
    assert "time 7002 '7001' is not a time" in error.detail


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "utf-16-le", "utf-32-be"])
def test_geojson_in_any_json_encoding(encoding: str) -> None:
    doc = json.dumps(
        {"type": "LineString", "coordinates": [[120.6, 30.8], [120.7, 30.9]]}, ensure_ascii=False
    )
    track = parse_track(doc.encode(encoding), filename="enc.geojson")
    assert track.points.lat.tolist() == [30.8, 30.9]


@pytest.mark.parametrize("opening", [b"[", b'{"a":'])
def test_geojson_deep_nesting_is_refused_clearly(opening: bytes) -> None:
    closing = b"]" if opening == b"[" else b"}"
    error = _error(opening * 10_000 + b"1" + closing * 10_000, "deep.geojson")
    assert "nested more than" in error.detail


def test_invalid_json_names_the_line() -> None:
    error = _error(b'{"type": "FeatureCollection",\n "features": [,]}', "broken.geojson")
    assert error.extra["line"] == 2


# --- CSV ----------------------------------------------------------------------------------


def test_csv_with_bom_and_chinese_headers() -> None:
    track = _parse("chinese_bom.csv", csv_options=CHINESE_CSV)
    assert track.format == "csv"
    _assert_path(track)  # 08:30 Beijing time is 00:30 UTC
    np.testing.assert_array_equal(track.points.accuracy_m, [5, 10, 15, 20, 25, 30])


def test_csv_chinese_headers_without_options_names_the_missing_column() -> None:
    error = _error((FIXTURES / "chinese_bom.csv").read_bytes(), "chinese_bom.csv")
    assert error.extra["field"] == "lon" and "东经" in error.detail


def test_csv_gb18030_and_chinese_aliases() -> None:
    data = "经度,纬度,时间\n120.65,30.88,2024/05/01 08:30:00\n".encode("gb18030")
    points = parse_track(data, filename="gbk.csv").points
    assert (points.lon[0], points.lat[0]) == (120.65, 30.88)
    assert str(points.time[0]) == "2024-05-01T08:30:00.000"  # no zone, no offset: UTC


def test_csv_epoch_milliseconds() -> None:
    track = _parse("epoch_ms.csv")
    _assert_path(track)
    np.testing.assert_array_equal(track.points.accuracy_m, [4, 5, 6, 7, 8, 9])


def test_csv_epoch_seconds_and_time_format() -> None:
    seconds = b"lng,lat,date_time\n120.65,30.88,1714523400\n"
    assert str(parse_track(seconds, filename="s.csv").points.time[0]) == "2024-05-01T00:30:00.000"
    custom = b"x;y;when\n120.65;30.88;01.05.2024 08h30\n"
    options = CsvOptions(lon="x", lat="y", time="when", time_format="%d.%m.%Y %Hh%M")
    points = parse_track(custom, filename="c.csv", csv_options=options).points
    assert str(points.time[0]) == "2024-05-01T08:30:00.000"


def test_csv_without_time_column() -> None:
    points = parse_track(b"longitude\tlatitude\n120.65\t30.88\n", filename="t.csv").points
    assert np.isnat(points.time).all() and points.lat.tolist() == [30.88]


@pytest.mark.parametrize(
    ("body", "line", "field"),
    [
        ("lon,lat\n120.65,30.88\n\n120.66,abc\n", 4, "lat"),
        ("lon,lat\n120.65,30.88\n120.66,95\n", 3, "lat"),
        ("lon,lat\n,30.88\n", 2, "lon"),
        ("lon,lat,time\n120.65,30.88,yesterday\n", 2, "time"),
        ("lon,lat,time\n120.65\n", 2, "lat"),
    ],
)
def test_csv_bad_row_names_line_and_field(body: str, line: int, field: str) -> None:
    error = _error(body.encode(), "bad.csv")
    assert (error.extra["line"], error.extra["field"]) == (line, field)


# --- parse_track --------------------------------------------------------------------------


def test_unknown_extension_is_sniffed() -> None:
    data = (FIXTURES / "osmand_1_1.gpx").read_bytes()
    assert parse_track(data, filename="upload.bin").format == "gpx"
    kml = (FIXTURES / "my_tracks.kml").read_bytes()
    assert parse_track(kml, filename="upload").format == "kml"
    kmz = (FIXTURES / "ovital_gcj02.kmz").read_bytes()
    assert parse_track(kmz, filename="upload.zip").format == "kmz"
    assert parse_track(b"lon,lat\n120.6,30.8\n", filename="x.txt").format == "csv"
    assert (
        parse_track(b'{"type": "LineString", "coordinates": [[120.6, 30.8]]}', filename="x").format
        == "geojson"
    )


def test_unrecognised_file() -> None:
    assert "unrecognised track file type" in _error(b"\x00\x01\x02", "x.bin").detail


def test_no_track_points_is_an_error() -> None:
    data = b'<gpx version="1.1"><wpt lat="30.9" lon="120.7"><name>A</name></wpt></gpx>'
    assert "no track points (only 1 waypoints)" in _error(data, "w.gpx").detail


def test_unknown_datum() -> None:
    with pytest.raises(InvalidInput) as info:
        _parse("osmand_1_1.gpx", datum="tokyo")
    assert info.value.extra["field"] == "datum"


def test_wrong_root_element() -> None:
    kml = (FIXTURES / "my_tracks.kml").read_bytes()
    assert "not a GPX file (root is <kml>)" in _error(kml, "actually_kml.gpx").detail


# --- safety and malformed files -----------------------------------------------------------


@pytest.mark.parametrize("name", ["billion_laughs.gpx", "xxe.gpx"])
def test_doctype_and_entities_are_refused(name: str) -> None:
    error = _error((FIXTURES / name).read_bytes(), name)
    assert "DTDs and entities are refused" in error.detail
    assert error.extra["line"] == 2
    assert "root:" not in error.detail  # nothing of /etc/passwd


def test_doctype_in_kml_and_in_utf16_is_refused() -> None:
    kml = b'<?xml version="1.0"?><!DOCTYPE kml SYSTEM "http://example.com/x.dtd"><kml/>'
    assert "DOCTYPE" in _error(kml, "x.kml").detail
    utf16 = '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE gpx [<!ENTITY a "b">]><gpx/>'
    assert "refused" in _error(utf16.encode("utf-16"), "x.gpx").detail


def test_doctype_hidden_after_a_huge_comment_is_refused() -> None:
    data = (
        b"<?xml version='1.0'?><!--" + b"x" * 70_000 + b'--><!DOCTYPE gpx [<!ENTITY a "b">]><gpx/>'
    )
    assert "no root element in the first 64 KB" in _error(data, "x.gpx").detail


def test_doctype_text_inside_a_description_is_fine() -> None:
    data = (
        b'<gpx version="1.1"><wpt lat="30.9" lon="120.7"><desc><![CDATA[<!DOCTYPE html><p>x</p>]]>'
        b'</desc></wpt><trk><trkseg><trkpt lat="30.9" lon="120.7"/></trkseg></trk></gpx>'
    )
    track = parse_track(data, filename="html.gpx")
    assert track.waypoints[0].description == "<!DOCTYPE html><p>x</p>"


def test_truncated_gpx_names_the_line() -> None:
    data = (FIXTURES / "truncated.gpx").read_bytes()
    last_line = data.count(b"\n") + 1  # the file stops in the middle of this line
    error = _error(data, "truncated.gpx")
    assert error.extra["line"] == last_line
    assert f"not well-formed XML at line {last_line}" in error.detail


def test_bad_lat_names_line_and_element() -> None:
    error = _error((FIXTURES / "bad_lat.gpx").read_bytes(), "bad_lat.gpx")
    assert (error.extra["line"], error.extra["element"], error.extra["field"]) == (
        7,
        "trkpt",
        "lat",
    )
    assert "line 7" in error.detail and "'abc'" in error.detail


@pytest.mark.parametrize(
    ("point", "element", "field"),
    [
        ('<trkpt lat="95" lon="120.7"/>', "trkpt", "lat"),
        ('<trkpt lat="30.9" lon="-181"/>', "trkpt", "lon"),
        ('<trkpt lat="30.9"/>', "trkpt", "lon"),
        ('<trkpt lat="30.9" lon="120.7"><ele>high</ele></trkpt>', "ele", "ele"),
        (
            '<trkpt lat="30.9" lon="120.7">\n<time>2024-13-45T00:00:00Z</time></trkpt>',
            "time",
            "time",
        ),
    ],
)
def test_bad_gpx_values_name_line_and_element(point: str, element: str, field: str) -> None:
    head = '<gpx version="1.1">\n<trk><trkseg>\n<trkpt lat="30.8" lon="120.6"/>\n'
    data = f"{head}{point}\n</trkseg></trk></gpx>"
    error = _error(data.encode(), "bad.gpx")
    expected_line = 5 if element == "time" else 4
    assert (error.extra["line"], error.extra["element"], error.extra["field"]) == (
        expected_line,
        element,
        field,
    )


# --- times --------------------------------------------------------------------------------


def test_parse_times_formats() -> None:
    texts = [
        "2024-05-01T00:30:00Z",
        "2024-05-01T08:30:00+08:00",
        "2024-05-01T08:30:00+0800",
        "2024-04-30T21:30:00-03",
        "2024-05-01T00:30:00.1234567Z",
        "2024-05-01T00:30:00",
        "2024-05-01 00:30:00",
        " 2024/05/01 00:30:00 ",
        None,
        "",
    ]
    result = parse_times(texts)
    assert [str(t) for t in result[:8]] == [
        "2024-05-01T00:30:00.000",
        "2024-05-01T00:30:00.000",
        "2024-05-01T00:30:00.000",
        "2024-05-01T00:30:00.000",
        "2024-05-01T00:30:00.123",
        "2024-05-01T00:30:00.000",
        "2024-05-01T00:30:00.000",
        "2024-05-01T00:30:00.000",
    ]
    assert np.isnat(result[8:]).all()
    assert (
        str(parse_times(["2024-05-01 08:30:00"], utc_offset_hours=8)[0])
        == "2024-05-01T00:30:00.000"
    )


@pytest.mark.parametrize(
    "bad", ["now", "today", "05/01/2024", "2024-05-01T25:00:00Z", "1714521600", "2024", "2024-05"]
)
def test_parse_times_refuses(bad: str) -> None:
    with pytest.raises(TimeValueError) as info:
        parse_times(["2024-05-01T00:00:00Z", bad])
    assert info.value.index == 1


def test_epoch_times_by_magnitude() -> None:
    assert [str(t) for t in epoch_times([1714523400, np.nan])] == ["2024-05-01T00:30:00.000", "NaT"]
    assert str(epoch_times([1714523400123])[0]) == "2024-05-01T00:30:00.123"


# Times no reader may take: a bare number where a text time belongs (numpy read "1714521600"
# as the year 1714521600 and overflowed to -39140548), and years no record can have.
BAD_TIMES = ["1714521600", "0001-01-01T00:00:00Z", "2400-01-01T00:00:00Z", "2024-05-01+08:00"]


@pytest.mark.parametrize("bad", BAD_TIMES)
def test_gpx_refuses_times_that_are_not_times(bad: str) -> None:
    good = '<trkpt lat="30.88" lon="120.65"><time>2024-05-01T00:00:00Z</time></trkpt>\n'
    wrong = good.replace("2024-05-01T00:00:00Z", bad)
    gpx = f'<gpx version="1.1"><trk><trkseg>\n{good}{wrong}</trkseg></trk></gpx>'
    error = _error(gpx.encode(), "t.gpx")
    assert (error.extra["line"], error.extra["field"]) == (3, "time")
    assert repr(bad) in error.detail


@pytest.mark.parametrize("bad", BAD_TIMES)
def test_kml_refuses_times_that_are_not_times(bad: str) -> None:
    kml = (
        '<kml xmlns:gx="http://www.google.com/kml/ext/2.2"><Placemark><gx:Track>\n'
        "<when>2024-05-01T00:00:00Z</when>\n"
        f"<when>{bad}</when>\n"
        "<gx:coord>120.65 30.88 0</gx:coord><gx:coord>120.66 30.89 0</gx:coord>\n"
        "</gx:Track></Placemark></kml>"
    )
    error = _error(kml.encode(), "t.kml")
    assert (error.extra["line"], error.extra["element"]) == (3, "when")
    assert repr(bad) in error.detail


@pytest.mark.parametrize("bad", [*BAD_TIMES, 10**15, -(10**13)])
def test_geojson_refuses_times_that_are_not_times(bad: object) -> None:
    coords = [[120.65, 30.88], [120.66, 30.89]]
    line = _feature("LineString", coords, coordTimes=["2024-05-01T00:00:00Z", bad])
    error = _error(_collection(line), "t.geojson")
    assert (error.extra["feature"], error.extra["field"]) == (1, "coordTimes")
    assert f"time 2 {bad!r} is" in error.detail
    point = _feature("Point", [120.65, 30.88], time=bad)
    error = _error(_collection(_feature("Point", [120.6, 30.8], time=1714521600), point), "p.json")
    assert (error.extra["feature"], error.extra["field"]) == (2, "time")


@pytest.mark.parametrize("bad", [*BAD_TIMES[1:], "99999999999999", "-3000000000"])
def test_csv_refuses_times_that_are_not_times(bad: str) -> None:
    # A number is an epoch time (seconds, or milliseconds from 1e11): "1714521600" is read.
    ok = parse_track(b"lon,lat,time\n120.65,30.88,1714521600\n", filename="ok.csv").points
    assert str(ok.time[0]) == "2024-05-01T00:00:00.000"
    first = "1714521600" if bad.lstrip("-").isdigit() else "2024-05-01T00:00:00Z"
    data = f"lon,lat,time\n120.65,30.88,{first}\n120.66,30.89,{bad}\n".encode()
    error = _error(data, "t.csv")
    assert (error.extra["line"], error.extra["field"]) == (3, "time")
    assert bad in error.detail


def test_csv_time_format_refuses_implausible_years() -> None:
    options = CsvOptions(lon="x", lat="y", time="when", time_format="%d.%m.%Y %Hh%M")
    data = b"x;y;when\n120.65;30.88;01.05.2024 08h30\n120.66;30.89;01.05.1066 08h30\n"
    error = _error(data, "c.csv", csv_options=options)
    assert (error.extra["line"], error.extra["field"]) == (3, "when")
    assert "outside the years 1900 to 2199" in error.detail


def test_zone_offsets_are_read_explicitly_without_numpy_warnings() -> None:
    texts = [
        "2024-05-01 08:30:00 UTC+8",
        "2024-05-01T08:30:00GMT+08:00",
        "2024-05-01 00:30 UTC",
        "20240501T083000+0800",
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert {str(t) for t in parse_times(texts)} == {"2024-05-01T00:30:00.000"}
        for bad in ("2024-05-01T08:30:00+08:00Z", "2024-05-01T08:30:00+08:00:00", "x+08:00"):
            with pytest.raises(TimeValueError):
                parse_times([bad])
        csv = b"lon,lat,time\n120.65,30.88,2024-05-01 08:30:00 GMT+08:00\n"
        assert str(parse_track(csv, filename="z.csv").points.time[0]) == "2024-05-01T00:30:00.000"


# --- performance --------------------------------------------------------------------------


def _big_gpx(n: int) -> bytes:
    """A GPX 1.1 with n track points in two segments, Garmin extensions on every point."""
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>\n<gpx version="1.1" creator="big" '
        'xmlns="http://www.topografix.com/GPX/1/1" '
        'xmlns:gpxtpx="http://www.garmin.com/xmlschemas/TrackPointExtension/v1">\n<trk><trkseg>\n'
    ]
    start = np.datetime64("2024-05-01T00:00:00", "s")
    times = np.datetime_as_string(start + np.arange(n).astype("timedelta64[s]"))
    for i in range(n):
        if i == n // 2:
            parts.append("</trkseg><trkseg>\n")
        parts.append(
            f'<trkpt lat="{30.85 + i * 1e-6:.7f}" lon="{120.64 + i * 1e-6:.7f}">'
            f"<ele>{i % 50}.5</ele><time>{times[i]}Z</time><hdop>1.2</hdop><extensions>"
            "<gpxtpx:TrackPointExtension><gpxtpx:hr>120"
            "</gpxtpx:hr></gpxtpx:TrackPointExtension></extensions></trkpt>\n"
        )
    parts.append("</trkseg></trk></gpx>\n")
    return "".join(parts).encode()


def test_100k_point_gpx() -> None:
    n = 100_000
    data = _big_gpx(n)
    start = time.perf_counter()
    track = parse_track(data, filename="big.gpx")
    elapsed = time.perf_counter() - start
    print(f"\n100k-point GPX ({len(data) / 1e6:.1f} MB) parsed in {elapsed:.3f} s")
    points = track.points
    assert len(points) == n
    index = np.arange(n)
    np.testing.assert_allclose(points.lat, 30.85 + index * 1e-6, rtol=0, atol=1e-9)
    np.testing.assert_allclose(points.lon, 120.64 + index * 1e-6, rtol=0, atol=1e-9)
    expected = np.datetime64("2024-05-01T00:00:00", "ms") + index.astype("timedelta64[s]")
    np.testing.assert_array_equal(points.time, expected)
    np.testing.assert_array_equal(points.ele, index % 50 + 0.5)
    assert np.bincount(points.segment).tolist() == [n // 2, n // 2]
    assert (points.hdop == 1.2).all() and np.isnan(points.accuracy_m).all()
