"""Coordinate datums and CRS handling; every pair is (lon, lat) or (x=easting, y=northing).

Chinese map apps and Chinese providers' data use the obfuscated GCJ-02 datum (AMap, Tencent,
Google China) or Baidu's BD-09 on top of it, both offset by hundreds of metres from WGS84.
PROJ/pyproj has no definition for either, so the published formulas are implemented here,
vectorised with numpy.

Conventions:

* Outside the rough China bounding box (lon 72.004..137.8347, lat 0.8293..55.8271, inclusive)
  GCJ-02 equals WGS84: no offset is applied in either direction.
* The BD-09 step (GCJ-02 <-> BD-09) is applied everywhere, as in the reference implementations.
  Only BD-09 lon/lat ("bd09ll") is supported, not Baidu's Mercator metres ("bd09mc").
* The inverses (GCJ-02 -> WGS84, BD-09 -> GCJ-02) are solved by fixed-point iteration to
  about 1e-10 degrees, i.e. the round trip is exact at the millimetre level. The offset itself
  is only as meaningful as the source data (providers add noise of their own).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyproj
import shapely
from numpy.typing import ArrayLike, NDArray

from geo_patrol.core.catalog import msg
from geo_patrol.core.vocabulary import Datum

__all__ = [
    "CrsSpec",
    "Datum",
    "bd09_to_gcj02",
    "bd09_to_wgs84",
    "gcj02_to_bd09",
    "gcj02_to_wgs84",
    "geodesic_length_m",
    "leg_metres",
    "parse_crs",
    "to_wgs84",
    "transform_geometry",
    "utm_crs_for",
    "wgs84_to_bd09",
    "wgs84_to_gcj02",
]

FloatArray = NDArray[np.float64]
LonLat = tuple[FloatArray, FloatArray]

# Krasovsky 1940 ellipsoid, as used by the GCJ-02 obfuscation.
_KRASOVSKY_A = 6378245.0
_KRASOVSKY_EE = 0.00669342162296594323
# Baidu's constant: pi * 3000 / 180.
_X_PI = np.pi * 3000.0 / 180.0
_BD_DLON = 0.0065
_BD_DLAT = 0.006
_CHINA_LON = (72.004, 137.8347)
_CHINA_LAT = (0.8293, 55.8271)
# Fixed-point iteration: stop when the largest correction is below this (degrees, ~0.01 mm).
_INVERSE_TOL_DEG = 1e-10
_INVERSE_MAX_ITER = 10

_WGS84_EPSG = 4326
# CGCS2000 (EPSG:4490) is treated as WGS84. Both are ITRF-aligned and their ellipsoids differ
# by < 0.1 mm at the surface; the real difference is the frame epoch (CGCS2000 is fixed at
# ITRF97 epoch 2000.0, WGS84 follows the current ITRF), i.e. plate motion of ~3 cm/year, a few
# decimetres to ~1 m today. That is well below consumer GNSS, map tiles and GCJ-02 noise, and
# EPSG itself only offers a null ("ballpark") transformation between the two.
_CGCS2000_EPSG = 4490
_PASSTHROUGH_EPSG = frozenset({_WGS84_EPSG, _CGCS2000_EPSG})
_GEOD = pyproj.Geod(ellps="WGS84")


_CHINESE_DATUMS = frozenset({Datum.GCJ02, Datum.BD09})
_ACCEPTED_DATUMS = ", ".join(repr(d.value) for d in Datum)


def _as_float(lon: ArrayLike, lat: ArrayLike) -> LonLat:
    """Coerce inputs to broadcast float64 arrays."""
    x, y = np.broadcast_arrays(np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64))
    return np.array(x, dtype=np.float64), np.array(y, dtype=np.float64)


def _in_china(lon: FloatArray, lat: FloatArray) -> NDArray[np.bool_]:
    """Rough bounding-box test used by every GCJ-02 implementation."""
    return (
        (lon >= _CHINA_LON[0])
        & (lon <= _CHINA_LON[1])
        & (lat >= _CHINA_LAT[0])
        & (lat <= _CHINA_LAT[1])
    )


def _transform_lat(x: FloatArray, y: FloatArray) -> FloatArray:
    """GCJ-02 northward distortion (metres-ish) at x = lon - 105, y = lat - 35."""
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    ret += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    return ret


def _transform_lon(x: FloatArray, y: FloatArray) -> FloatArray:
    """GCJ-02 eastward distortion (metres-ish) at x = lon - 105, y = lat - 35."""
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    ret += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    return ret


def _invert(
    forward: Callable[[FloatArray, FloatArray], LonLat],
    lon: FloatArray,
    lat: FloatArray,
    start: LonLat,
) -> LonLat:
    """Solve forward(x, y) == (lon, lat) by fixed-point iteration from start."""
    x, y = start
    for _ in range(_INVERSE_MAX_ITER):
        fx, fy = forward(x, y)
        dx, dy = fx - lon, fy - lat
        x, y = x - dx, y - dy
        # NaN inputs never "converge"; they just use up the iteration budget.
        if max(np.max(np.abs(dx), initial=0.0), np.max(np.abs(dy), initial=0.0)) < _INVERSE_TOL_DEG:
            break
    return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> LonLat:
    """WGS84 -> GCJ-02 (published forward formula); identity outside China."""
    lon_a, lat_a = _as_float(lon, lat)
    with np.errstate(all="ignore"):  # junk values outside China are masked below
        dlat = _transform_lat(lon_a - 105.0, lat_a - 35.0)
        dlon = _transform_lon(lon_a - 105.0, lat_a - 35.0)
        rad = np.radians(lat_a)
        magic = 1.0 - _KRASOVSKY_EE * np.sin(rad) ** 2
        sqrt_magic = np.sqrt(magic)
        dlat = dlat * 180.0 / (_KRASOVSKY_A * (1.0 - _KRASOVSKY_EE) / (magic * sqrt_magic) * np.pi)
        dlon = dlon * 180.0 / (_KRASOVSKY_A / sqrt_magic * np.cos(rad) * np.pi)
    inside = _in_china(lon_a, lat_a)
    return np.where(inside, lon_a + dlon, lon_a), np.where(inside, lat_a + dlat, lat_a)


def gcj02_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> LonLat:
    """GCJ-02 -> WGS84 by fixed-point iteration (mm-level round trip); identity outside China."""
    lon_a, lat_a = _as_float(lon, lat)
    # Starting at the GCJ point, the first iteration is the classic one-step inverse.
    return _invert(wgs84_to_gcj02, lon_a, lat_a, (lon_a, lat_a))


def _gcj02_to_bd09_rough_inverse(lon: FloatArray, lat: FloatArray) -> LonLat:
    """Classic closed-form BD-09 -> GCJ-02 (decimetre-level)."""
    x, y = lon - _BD_DLON, lat - _BD_DLAT
    z = np.hypot(x, y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta), z * np.sin(theta)


def gcj02_to_bd09(lon: ArrayLike, lat: ArrayLike) -> LonLat:
    """GCJ-02 -> BD-09 (Baidu's x_pi formula), applied everywhere."""
    x, y = _as_float(lon, lat)
    z = np.hypot(x, y) + 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _X_PI)
    bd_lon = np.asarray(z * np.cos(theta) + _BD_DLON, dtype=np.float64)
    return bd_lon, np.asarray(z * np.sin(theta) + _BD_DLAT, dtype=np.float64)


def bd09_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> LonLat:
    """BD-09 -> GCJ-02: closed-form inverse refined by fixed-point iteration."""
    lon_a, lat_a = _as_float(lon, lat)
    start = _gcj02_to_bd09_rough_inverse(lon_a, lat_a)
    return _invert(gcj02_to_bd09, lon_a, lat_a, start)


def wgs84_to_bd09(lon: ArrayLike, lat: ArrayLike) -> LonLat:
    """WGS84 -> BD-09 (via GCJ-02)."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> LonLat:
    """BD-09 -> WGS84 (via GCJ-02, both steps iterated to mm level)."""
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


def _parse_datum(value: Datum | str) -> Datum:
    """Datum from an enum or a loose name such as 'GCJ-02' or 'BD09'; ValueError otherwise."""
    key = re.sub(r"[\s_-]", "", str(value)).lower()
    try:
        return Datum(key)
    except ValueError:
        problem = msg("problem.core.unknown_datum", value=value, accepted=_ACCEPTED_DATUMS)
        raise ValueError(problem) from None


def to_wgs84(lon: ArrayLike, lat: ArrayLike, *, datum: Datum | str) -> LonLat:
    """Convert lon/lat in the given datum to WGS84 (wgs84 and cgcs2000 pass through)."""
    parsed = _parse_datum(datum)
    if parsed is Datum.GCJ02:
        return gcj02_to_wgs84(lon, lat)
    if parsed is Datum.BD09:
        return bd09_to_wgs84(lon, lat)
    return _as_float(lon, lat)


@functools.lru_cache(maxsize=64)
def _crs_from_epsg(code: int) -> pyproj.CRS:
    """Cached pyproj CRS for an EPSG code."""
    return pyproj.CRS.from_epsg(code)


@functools.lru_cache(maxsize=64)
def _transformer_to_wgs84(code: int) -> pyproj.Transformer:
    """Cached (thread-safe since pyproj 3.1) transformer from EPSG:code to lon/lat WGS84."""
    return pyproj.Transformer.from_crs(_crs_from_epsg(code), "EPSG:4326", always_xy=True)


@dataclass(frozen=True)
class CrsSpec:
    """Source coordinates: a Chinese lon/lat datum (gcj02/bd09) or an EPSG CRS, exactly one."""

    datum: Datum | None = None
    epsg: int | None = None

    def __post_init__(self) -> None:
        """Check that exactly one of datum/epsg is set and the datum is a Chinese one."""
        if (self.datum is None) == (self.epsg is None):
            raise ValueError("CrsSpec needs exactly one of datum= or epsg=")
        if self.datum is not None and self.datum not in _CHINESE_DATUMS:
            raise ValueError("CrsSpec.datum must be gcj02 or bd09; use epsg= for the others")

    @property
    def crs(self) -> pyproj.CRS | None:
        """The pyproj CRS, or None for GCJ-02/BD-09 (which PROJ cannot express)."""
        return None if self.epsg is None else _crs_from_epsg(self.epsg)

    @property
    def is_passthrough(self) -> bool:
        """True if coordinates are already WGS84 lon/lat (EPSG:4326 or CGCS2000 EPSG:4490)."""
        return self.epsg in _PASSTHROUGH_EPSG

    def to_wgs84(self, x: ArrayLike, y: ArrayLike) -> LonLat:
        """Convert x/y (lon/lat, or easting/northing for projected CRSs) to WGS84 lon/lat."""
        if self.datum is not None:
            return to_wgs84(x, y, datum=self.datum)
        x_a, y_a = _as_float(x, y)
        if self.epsg is None or self.is_passthrough:
            return x_a, y_a
        lon, lat = _transformer_to_wgs84(self.epsg).transform(x_a, y_a)
        return np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)


_EPSG_RE = re.compile(r"^(?:epsg:{1,2}|urn:ogc:def:crs:epsg:[\d.]*:)?(\d{1,6})$")
_CRS_HELP = (
    "expected an EPSG code ('EPSG:4326', '4326', 'EPSG:4547') "
    f"or a datum name ({_ACCEPTED_DATUMS}, also 'GCJ-02', 'BD-09')"
)


def _epsg_spec(code: int, value: str) -> CrsSpec:
    """CrsSpec for an EPSG code after checking PROJ knows it and it is 2D lon/lat or x/y."""
    try:
        crs = _crs_from_epsg(code)
    except pyproj.exceptions.CRSError:
        raise ValueError(f"unknown EPSG code in CRS {value!r}; {_CRS_HELP}") from None
    if not (crs.is_geographic or crs.is_projected) or len(crs.axis_info) != 2:
        msg = f"CRS {value!r} ({crs.name}) is not a 2D geographic or projected CRS; {_CRS_HELP}"
        raise ValueError(msg)
    return CrsSpec(epsg=code)


def parse_crs(value: str) -> CrsSpec:
    """Parse a user-supplied CRS string ('EPSG:4547', '4326', 'gcj02', 'BD-09', ...)."""
    text = str(value).strip().lower()
    match = _EPSG_RE.match(text)
    if match:
        return _epsg_spec(int(match.group(1)), value)
    try:
        datum = _parse_datum(text)
    except ValueError:
        raise ValueError(f"unrecognised CRS {value!r}; {_CRS_HELP}") from None
    if datum is Datum.WGS84:
        return CrsSpec(epsg=_WGS84_EPSG)
    if datum is Datum.CGCS2000:
        return CrsSpec(epsg=_CGCS2000_EPSG)
    return CrsSpec(datum=datum)


def transform_geometry(geom: shapely.Geometry, spec: CrsSpec) -> shapely.Geometry:
    """Return geom converted from spec to WGS84 lon/lat, keeping structure and any Z values."""
    if spec.is_passthrough:
        return geom

    def _fn(coords: FloatArray) -> FloatArray:
        out = np.array(coords, dtype=np.float64)
        out[:, 0], out[:, 1] = spec.to_wgs84(coords[:, 0], coords[:, 1])
        return out

    return shapely.transform(geom, _fn, include_z=bool(shapely.has_z(geom)))


def utm_crs_for(lon: float, lat: float) -> pyproj.CRS:
    """WGS84 / UTM zone CRS (EPSG:326xx north, 327xx south) containing lon/lat."""
    if not (np.isfinite(lon) and np.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
        raise ValueError(f"invalid WGS84 lon/lat ({lon}, {lat})")
    zone = int((lon + 180.0) // 6.0) % 60 + 1  # lon = 180 wraps to zone 1
    return _crs_from_epsg((32600 if lat >= 0 else 32700) + zone)


def geodesic_length_m(geom: shapely.Geometry) -> float:
    """Geodesic length in metres on WGS84 of a lon/lat geometry (perimeter for polygons)."""
    return float(_GEOD.geometry_length(geom))


_WGS84_A, _WGS84_F = 6378137.0, 1 / 298.257223563
_WGS84_E2 = _WGS84_F * (2 - _WGS84_F)


def leg_metres(lon: NDArray[np.float64], lat: NDArray[np.float64]) -> NDArray[np.float64]:
    """Length of each leg between consecutive fixes on the WGS84 ellipsoid, by the local
    radii of curvature at the leg's mean latitude (for legs of a few hundred metres this
    differs from the geodesic by far less than a millimetre)."""
    phi = np.radians((lat[1:] + lat[:-1]) / 2)
    w = 1 - _WGS84_E2 * np.sin(phi) ** 2
    east = _WGS84_A / np.sqrt(w) * np.cos(phi) * np.radians(np.diff(lon))
    north = _WGS84_A * (1 - _WGS84_E2) / w**1.5 * np.radians(np.diff(lat))
    return np.hypot(east, north)
