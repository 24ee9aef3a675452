"""Limits the readers keep whatever a file holds: waypoints, damaged archives, CSV times."""

from __future__ import annotations

import io
import json
import zipfile

import pytest

from geo_patrol.core.errors import FileTooLarge, ImportFileError
from geo_patrol.patrols.track.read import parse_track
from geo_patrol.patrols.track.types import MAX_WAYPOINTS

TRACK_GPX = b'<trk><trkseg><trkpt lat="30.9" lon="120.7"/></trkseg></trk>'


def _waypoint_files(count: int) -> dict[str, bytes]:
    """A GPX, a KML and a GeoJSON file of `count` named waypoints and one track point."""
    gpx = b'<gpx version="1.1">' + b'<wpt lat="30.9" lon="120.7"><name>w</name></wpt>' * count
    kml_marks = (
        b"<Placemark><name>w</name><Point><coordinates>120.7,30.9</coordinates></Point></Placemark>"
    )
    point = {
        "type": "Feature",
        "properties": {"name": "w"},
        "geometry": {"type": "Point", "coordinates": [120.7, 30.9]},
    }
    timed = {
        "type": "Feature",
        "properties": {"time": 1},
        "geometry": {"type": "Point", "coordinates": [120.7, 30.9]},
    }
    return {
        "w.gpx": gpx + TRACK_GPX + b"</gpx>",
        "w.kml": b'<kml xmlns="http://www.opengis.net/kml/2.2"><Document>'
        + kml_marks * count
        + b"<Placemark><LineString><coordinates>120.7,30.9</coordinates></LineString></Placemark>"
        + b"</Document></kml>",
        "w.geojson": json.dumps(
            {"type": "FeatureCollection", "features": [point] * count + [timed]}
        ).encode(),
    }


@pytest.mark.parametrize("name", ["w.gpx", "w.kml", "w.geojson"])
def test_waypoints_are_capped(name: str) -> None:
    assert len(parse_track(_waypoint_files(MAX_WAYPOINTS)[name], filename=name).waypoints) == (
        MAX_WAYPOINTS
    )
    with pytest.raises(ImportFileError) as info:
        parse_track(_waypoint_files(MAX_WAYPOINTS + 1)[name], filename=name)
    assert f"{MAX_WAYPOINTS:,} waypoints" in info.value.detail


def test_damaged_kmz_member_is_a_clear_error() -> None:
    # Found by the property-based tests: a local header cut off made zipfile seek to -1.
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("doc.kml", b"<kml/>" * 50)
    data = buffer.getvalue()[1:]  # "K\x03\x04...": the member's header is not where it says
    with pytest.raises(ImportFileError) as info:
        parse_track(data, filename="cut.kmz")
    assert "cut.kmz" in info.value.detail


def test_kmz_over_the_unpacked_cap_is_413() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("doc.kml", b"<kml>" + b" " * 10_000 + b"</kml>")
    with pytest.raises(FileTooLarge) as info:
        parse_track(buffer.getvalue(), filename="big.kmz", max_uncompressed_bytes=5_000)
    assert info.value.status == 413


def test_csv_time_column_of_epoch_numbers_then_date_texts_is_refused() -> None:
    # Read 8192 rows at a time: the first piece all epoch seconds, the next date texts. One
    # column is one kind (seconds or milliseconds are decided for the whole column).
    epoch = [f"120.{i:04d},30.9,{1714521600 + i}" for i in range(8192)]
    texts = [f"120.5,30.9,2024-05-01T03:00:{i:02d}Z" for i in range(10)]
    with pytest.raises(ImportFileError) as info:
        parse_track(("lon,lat,time\n" + "\n".join(epoch + texts)).encode(), filename="m.csv")
    assert info.value.extra["line"] == 2 and info.value.extra["field"] == "time"
