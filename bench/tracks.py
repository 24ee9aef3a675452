"""Synthetic walking tracks along and across the Shengze–Wangjiangjing (Wujiang–Xiuzhou) border.

A walker follows the town border line of the demo region back and forth, zig-zagging across
it (each pass with its own amplitude and wavelength) and, on some stretches, walking right on
it so that GPS noise makes the fixes hop from side to side. One fix a second at 1.1–1.5 m/s,
with GPS noise that is correlated in time as real receivers' is (a few metres, drifting over
about a minute) rather than white noise that would look like 4 m jumps every second.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path

import numpy as np
import pyproj
import shapely
from numpy.typing import NDArray

from geo_patrol.demo.load import DEMO_DATA

FloatArray = NDArray[np.float64]

SIDES = ("320509100", "330411100")  # Shengze (Wujiang) and Wangjiangjing (Xiuzhou)
UTM_EPSG = 32651
TO_UTM = pyproj.Transformer.from_crs("EPSG:4326", f"EPSG:{UTM_EPSG}", always_xy=True)
TO_WGS84 = pyproj.Transformer.from_crs(f"EPSG:{UTM_EPSG}", "EPSG:4326", always_xy=True)
STEP_M = 10.0  # spacing of the resampled border line
NOISE_SIGMA_M = 3.0  # GPS error per axis
NOISE_TAU_S = 60.0  # how long the error takes to decorrelate


@dataclass(frozen=True)
class Track:
    """One fix a second: WGS84 longitude, latitude and UTC times."""

    lon: FloatArray
    lat: FloatArray
    time: NDArray[np.datetime64]

    def __len__(self) -> int:
        return len(self.lon)


@cache
def town_border_utm() -> FloatArray:
    """The Shengze–Wangjiangjing border as an (n, 2) array in UTM 51N, every STEP_M metres."""
    features = json.loads((DEMO_DATA / "jurisdictions.geojson").read_text(encoding="utf-8"))
    shapes = {
        f["properties"]["code"]: shapely.geometry.shape(f["geometry"]) for f in features["features"]
    }
    a, b = (shapes[code] for code in SIDES)
    shared = shapely.line_merge(shapely.intersection(a.boundary, b.boundary))
    line = max(getattr(shared, "geoms", [shared]), key=lambda g: g.length)
    x, y = TO_UTM.transform(*np.asarray(line.coords).T)
    utm = shapely.LineString(np.column_stack([x, y]))
    distances = np.arange(0.0, utm.length, STEP_M)
    return np.asarray(shapely.get_coordinates(shapely.line_interpolate_point(utm, distances)))


def _smooth(values: FloatArray, window: int) -> FloatArray:
    """Moving average with the ends padded by their edge values."""
    padded = np.pad(values, (window // 2, window - 1 - window // 2), mode="edge")
    return np.convolve(padded, np.ones(window) / window, mode="valid")


def _normals(line: FloatArray) -> FloatArray:
    """Unit normals of a polyline, smoothed over ~150 m so that offsets stay tidy."""
    dx = _smooth(np.gradient(line[:, 0]), 15)
    dy = _smooth(np.gradient(line[:, 1]), 15)
    norm = np.hypot(dx, dy)
    return np.column_stack([-dy / norm, dx / norm])


def _one_pass(line: FloatArray, normals: FloatArray, rng: np.random.Generator) -> FloatArray:
    """A walk along the whole border: zig-zags across it, with stretches right on it."""
    s = np.arange(len(line)) * STEP_M
    amplitude = rng.uniform(60.0, 250.0)
    wavelength = rng.uniform(300.0, 1500.0)
    zigzag = amplitude * np.sin(2 * np.pi * s / wavelength + rng.uniform(0, 2 * np.pi))
    # On about a quarter of the way the walker keeps to the line itself (only GPS noise).
    on_line = np.clip(2.0 * np.sin(2 * np.pi * s / 4000.0 + rng.uniform(0, 2 * np.pi)) + 1.4, 0, 1)
    taper = np.clip(np.minimum(s, s[-1] - s) / 200.0, 0.0, 1.0)  # 0 at both ends of a pass
    path = line + (zigzag * on_line * taper)[:, None] * normals
    return np.asarray(path if rng.random() < 0.5 else path[::-1], dtype=np.float64)


def _path(needed_m: float, rng: np.random.Generator) -> FloatArray:
    """Passes back and forth along the border until the path is `needed_m` long."""
    line = town_border_utm()
    normals = _normals(line)
    passes: list[FloatArray] = []
    length, end = 0.0, line[0]
    while length < needed_m:
        path = _one_pass(line, normals, rng)
        if np.hypot(*(path[0] - end)) > np.hypot(*(path[-1] - end)):
            path = path[::-1]  # start where the previous pass ended
        passes.append(path)
        length += float(np.hypot(*np.diff(path, axis=0).T).sum())
        end = path[-1]
    return np.concatenate(passes)


def _correlated_noise(n: int, rng: np.random.Generator) -> FloatArray:
    """GPS error along one axis: white noise through an exponential kernel, std NOISE_SIGMA_M."""
    kernel = np.exp(-np.arange(int(5 * NOISE_TAU_S)) / NOISE_TAU_S)
    white = rng.standard_normal(n + len(kernel))
    noise = np.convolve(white, kernel, mode="valid")[:n]
    return np.asarray(noise * (NOISE_SIGMA_M / noise.std()), dtype=np.float64)


def synthetic_track(n: int, *, seed: int = 1, end: datetime | None = None) -> Track:
    """`n` fixes one second apart, ending an hour before `end` (default now)."""
    rng = np.random.default_rng(seed)
    pace = _smooth(rng.standard_normal(n), 60)
    speed = np.clip(1.3 + 0.1 * pace / pace.std(), 1.1, 1.5)
    walked = np.concatenate([[0.0], np.cumsum(speed[:-1])])
    path = _path(walked[-1] + 100.0, rng)
    along = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(path, axis=0).T))])
    x = np.interp(walked, along, path[:, 0]) + _correlated_noise(n, rng)
    y = np.interp(walked, along, path[:, 1]) + _correlated_noise(n, rng)
    lon, lat = TO_WGS84.transform(x, y)
    last = (end or datetime.now(UTC)).replace(microsecond=0, tzinfo=None) - timedelta(hours=1)
    start = np.datetime64(last, "s") - np.timedelta64(n - 1, "s")
    return Track(np.asarray(lon), np.asarray(lat), start + np.arange(n).astype("timedelta64[s]"))


def gpx_bytes(track: Track, name: str) -> bytes:
    """The track as a GPX 1.1 file the way OsmAnd writes it (elevation, time, hdop)."""
    times = np.datetime_as_string(track.time, unit="s")
    rows = "\n".join(
        f'<trkpt lat="{lat:.7f}" lon="{lon:.7f}"><ele>3.0</ele><time>{t}Z</time>'
        "<hdop>1.2</hdop></trkpt>"
        for lon, lat, t in zip(track.lon.tolist(), track.lat.tolist(), times.tolist(), strict=True)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<gpx version="1.1" creator="OsmAnd~ 4.7.3" xmlns="http://www.topografix.com/GPX/1/1">\n'
        f"<trk><name>{name}</name><trkseg>\n{rows}\n</trkseg></trk></gpx>\n"
    ).encode()


def write_gpx(n: int, folder: Path) -> Path:
    """Write the synthetic track of `n` points to `folder` and return its path."""
    path = folder / f"walk-{n}.gpx"
    path.write_bytes(gpx_bytes(synthetic_track(n, seed=n), name=f"bench walk {n}"))
    return path
