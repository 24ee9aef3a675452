"""Property-based tests of every track reader: only the project's own clear error escapes,
whatever the bytes, and memory stays within a budget.

Two kinds of input per format: arbitrary bytes, and near-valid files — a valid file of
generated fixes, then damaged (bytes inserted, cut out or replaced, a value swapped for
arbitrary text, a block repeated many times). Example counts are bounded so the module runs
in seconds; `HYPOTHESIS_PROFILE=fuzz` runs many more.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geo_patrol.core.errors import GeoPatrolError
from geo_patrol.patrols.track.read import parse_track
from geo_patrol.patrols.track.types import TrackFile

FORMATS = ("gpx", "kml", "kmz", "geojson", "csv")
settings.register_profile(
    "default-readers", max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("fuzz", max_examples=2000, deadline=None)
PROFILE = settings.get_profile(os.environ.get("HYPOTHESIS_PROFILE", "default-readers"))
# Peak memory a reader may add for an input of at most 1 MB: the bytes a few times over and
# the fixes as arrays; before the readers streamed, 1 MB of KML took ~10 MB per fix-dense MB.
BUDGET_MB = 40

fix = st.tuples(
    st.floats(-180, 180, allow_nan=False),
    st.floats(-90, 90, allow_nan=False),
    st.integers(0, 2_000_000_000),
)
fixes = st.lists(fix, min_size=1, max_size=30)


def _time(seconds: int) -> str:
    """ISO 8601 UTC text of epoch seconds."""
    return str(np.datetime64(seconds, "s")) + "Z"


def _zip(kml: bytes) -> bytes:
    """A KMZ holding `kml` as doc.kml."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("doc.kml", kml)
    return buffer.getvalue()


def valid_file(fmt: str, points: list[tuple[float, float, int]]) -> bytes:
    """A valid track file of the fixes in `fmt`."""
    if fmt == "gpx":
        rows = "".join(
            f'<trkpt lat="{y!r}" lon="{x!r}"><ele>1.5</ele><time>{_time(t)}</time></trkpt>\n'
            for x, y, t in points
        )
        head = '<?xml version="1.0"?>\n<gpx version="1.1"><trk><trkseg>\n'
        return f"{head}{rows}</trkseg></trk></gpx>".encode()
    if fmt in ("kml", "kmz"):
        whens = "".join(f"<when>{_time(t)}</when>\n" for _, _, t in points)
        coords = "".join(f"<gx:coord>{x!r} {y!r} 2</gx:coord>\n" for x, y, _ in points)
        line = " ".join(f"{x!r},{y!r}" for x, y, _ in points)
        kml = (
            '<?xml version="1.0"?>\n<kml xmlns="http://www.opengis.net/kml/2.2" '
            'xmlns:gx="http://www.google.com/kml/ext/2.2"><Document><name>d</name>\n'
            f"<Placemark><name>t</name><gx:Track>\n{whens}{coords}</gx:Track></Placemark>\n"
            f"<Placemark><LineString><coordinates>{line}</coordinates></LineString></Placemark>\n"
            f"<Placemark><name>w</name><Point><coordinates>{line.split()[0]}</coordinates></Point>"
            "</Placemark>\n</Document></kml>\n"
        ).encode()
        return _zip(kml) if fmt == "kmz" else kml
    if fmt == "geojson":
        geometry = {"type": "LineString", "coordinates": [[x, y] for x, y, _ in points]}
        doc = {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "properties": {"coordTimes": [_time(t) for _, _, t in points]},
                    "geometry": geometry,
                }
            ],
        }
        return json.dumps(doc, indent=1).encode()
    rows = "".join(f"{x!r},{y!r},{_time(t)}\n" for x, y, t in points)
    return ("lon,lat,time\n" + rows).encode()


@st.composite
def damaged(draw: st.DrawFn, fmt: str) -> bytes:
    """A valid file of `fmt`, then damaged one way or another."""
    data = valid_file(fmt, draw(fixes))
    if fmt == "kmz" and draw(st.booleans()):  # damage the KML inside, not the zip
        inner = zipfile.ZipFile(io.BytesIO(data)).read("doc.kml")
        return _zip(draw(_damage(inner)))
    return draw(_damage(data))


@st.composite
def _damage(draw: st.DrawFn, data: bytes) -> bytes:
    """`data` with one kind of damage."""
    at = draw(st.integers(0, len(data)))
    end = draw(st.integers(at, min(len(data), at + 64)))
    noise = draw(
        st.binary(max_size=32)
        | st.sampled_from(
            [
                b"<",
                b"&",
                b"]]>",
                b"<!DOCTYPE x>",
                b"\x00",
                b"\xff\xfe",
                b",",
                b"\n",
                b"NaN",
                b"1e999",
                b"-0",
                b'"',
                b"{",
                b"[",
                b"<![CDATA[",
                b"<!--",
                b"\xe4\xb8",
                b"\r",
            ]
        )
    )
    kind = draw(st.sampled_from(["insert", "cut", "replace", "repeat", "truncate"]))
    if kind == "insert":
        return data[:at] + noise + data[at:]
    if kind == "cut":
        return data[:at] + data[end:]
    if kind == "replace":
        return data[:at] + noise + data[end:]
    if kind == "repeat":  # a block many times over: a cheap way to a big input
        times = draw(st.integers(2, max(2, 600_000 // max(1, end - at + 1))))
        return data[:at] + data[at:end] * times + data[end:]
    return data[:at]


def _status(field: str) -> int:
    """A field of /proc/self/status in kB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(field)


def _read(data: bytes, fmt: str) -> TrackFile | GeoPatrolError:
    """parse_track's answer: a TrackFile or our own error; anything else fails the test.
    Peak memory (VmHWM, reset first) must stay within the budget."""
    Path("/proc/self/clear_refs").write_text("5")
    baseline = _status("VmRSS")
    try:
        answer: TrackFile | GeoPatrolError = parse_track(
            data, filename=f"fuzz.{fmt}", max_uncompressed_bytes=2_000_000
        )
    except GeoPatrolError as error:
        assert error.detail and error.status in (413, 422), error
        answer = error
    grown = (_status("VmHWM") - baseline) / 1024
    assert grown < BUDGET_MB, f"{fmt}: {len(data)} bytes took {grown:.0f} MB"
    return answer


def _check_track(track: TrackFile | GeoPatrolError) -> None:
    """A track that was read has coordinates in range, one length for every array."""
    if isinstance(track, TrackFile):
        points = track.points
        assert len(points) > 0
        assert (np.abs(points.lon) <= 180.0 + 1e-6).all()
        assert (np.abs(points.lat) <= 90.0 + 1e-6).all()


@pytest.mark.parametrize("fmt", FORMATS)
@settings(PROFILE)
@given(data=st.binary(max_size=4096))
def test_arbitrary_bytes_give_a_track_or_our_error(fmt: str, data: bytes) -> None:
    _check_track(_read(data, fmt))


@pytest.mark.parametrize("fmt", FORMATS)
@settings(PROFILE)
@given(data=st.data())
def test_damaged_files_give_a_track_or_our_error(fmt: str, data: st.DataObject) -> None:
    _check_track(_read(data.draw(damaged(fmt)), fmt))


@pytest.mark.parametrize("fmt", FORMATS)
@settings(PROFILE)
@given(points=fixes)
def test_valid_files_read_their_fixes(fmt: str, points: list[tuple[float, float, int]]) -> None:
    track = _read(valid_file(fmt, points), fmt)
    assert isinstance(track, TrackFile), track
    lon = [x for x, _, _ in points]
    count = len(points) * (2 if fmt in ("kml", "kmz") else 1)  # gx:Track and LineString
    assert len(track.points) == count
    np.testing.assert_allclose(track.points.lon[: len(points)], lon, rtol=0, atol=1e-9)
