"""geo_patrol.core.coords, cross-checked against the independent `prcoords` package."""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np
import prcoords
import pyproj
import pytest
import shapely
from numpy.typing import NDArray
from shapely.geometry import LineString, MultiLineString, Polygon

from geo_patrol.core.coords import (
    CrsSpec,
    Datum,
    bd09_to_gcj02,
    bd09_to_wgs84,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    geodesic_length_m,
    parse_crs,
    to_wgs84,
    transform_geometry,
    utm_crs_for,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)

Arr = NDArray[np.float64]
GEOD = pyproj.Geod(ellps="WGS84")
SHENGZE = (120.65, 30.90)
OUTSIDE_CHINA = [(2.35, 48.85), (139.69, 35.69), (-74.0, 40.7), (10.0, 10.0), (120.0, -30.0)]


def _grid_delta() -> tuple[Arr, Arr]:
    """0.05-degree grid over the Yangtze delta."""
    lon, lat = np.meshgrid(np.arange(119.5, 122.0001, 0.05), np.arange(30.0, 32.0001, 0.05))
    return lon.ravel(), lat.ravel()


def _random_china() -> tuple[Arr, Arr]:
    """Random points across (and inside the bounding box of) China."""
    rng = np.random.default_rng(20240601)
    return rng.uniform(73.5, 135.0, 2000), rng.uniform(18.0, 53.5, 2000)


POINT_SETS = {"yangtze_delta": _grid_delta, "random_china": _random_china}


@pytest.fixture(params=sorted(POINT_SETS))
def points(request: pytest.FixtureRequest) -> tuple[Arr, Arr]:
    """Each named point set in turn."""
    return POINT_SETS[request.param]()


def _prc(fn: Callable[..., tuple[float, float]], lon: Arr, lat: Arr) -> tuple[Arr, Arr]:
    """Apply a scalar prcoords function (lat, lon order!) to arrays, returning (lon, lat)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # prcoords warns for points outside China
        out = np.array([fn((la, lo)) for lo, la in zip(lon, lat, strict=True)], dtype=np.float64)
    return out[:, 1], out[:, 0]


def _dist_m(lon1: Arr, lat1: Arr, lon2: Arr, lat2: Arr) -> Arr:
    """Geodesic distances in metres."""
    return np.asarray(GEOD.inv(lon1, lat1, lon2, lat2)[2], dtype=np.float64)


def _max_deg_diff(a: tuple[Arr, Arr], b: tuple[Arr, Arr]) -> float:
    """Largest absolute lon/lat difference in degrees."""
    return float(max(np.max(np.abs(a[0] - b[0])), np.max(np.abs(a[1] - b[1]))))


# --- forward formulas --------------------------------------------------------------------


def test_wgs84_to_gcj02_matches_prcoords(points: tuple[Arr, Arr]) -> None:
    ours = wgs84_to_gcj02(*points)
    assert _max_deg_diff(ours, _prc(prcoords.wgs_gcj, *points)) < 1e-6


def test_gcj02_to_bd09_matches_prcoords(points: tuple[Arr, Arr]) -> None:
    gcj = wgs84_to_gcj02(*points)
    assert _max_deg_diff(gcj02_to_bd09(*gcj), _prc(prcoords.gcj_bd, *gcj)) < 1e-6


def test_wgs84_to_bd09_is_composition(points: tuple[Arr, Arr]) -> None:
    assert _max_deg_diff(wgs84_to_bd09(*points), gcj02_to_bd09(*wgs84_to_gcj02(*points))) == 0


# --- inverses -----------------------------------------------------------------------------


def test_gcj02_to_wgs84_round_trips_below_1mm(points: tuple[Arr, Arr]) -> None:
    fwd = wgs84_to_gcj02(*gcj02_to_wgs84(*points))
    assert _dist_m(*fwd, *points).max() < 1e-3


def test_gcj02_to_wgs84_agrees_with_prcoords_bored(points: tuple[Arr, Arr]) -> None:
    # prcoords stops iterating once a correction is < 1e-5 deg (~1 m), which leaves a few mm
    # (up to ~5.0 mm measured on a dense grid over western China; ~2.4 mm in the delta).
    ours = gcj02_to_wgs84(*points)
    theirs = _prc(prcoords.gcj_wgs_bored, *points)
    assert _dist_m(*ours, *theirs).max() < 5e-3


def test_one_step_inverse_is_off_by_metres(points: tuple[Arr, Arr]) -> None:
    lon, lat = points
    fwd_lon, fwd_lat = wgs84_to_gcj02(lon, lat)
    one_step = (2 * lon - fwd_lon, 2 * lat - fwd_lat)
    # prcoords' non-iterative gcj_wgs is exactly this one-step inverse.
    assert _max_deg_diff(one_step, _prc(prcoords.gcj_wgs, lon, lat)) < 1e-12
    err = _dist_m(*one_step, *gcj02_to_wgs84(lon, lat))
    assert err.max() > 1.0
    # ... and the iteration really fixes it: one-step fails the 1 mm round trip.
    assert _dist_m(*wgs84_to_gcj02(*one_step), lon, lat).max() > 1.0


def test_bd09_to_gcj02_round_trip_and_prcoords(points: tuple[Arr, Arr]) -> None:
    gcj = bd09_to_gcj02(*points)
    assert _dist_m(*gcj02_to_bd09(*gcj), *points).max() < 1e-3
    assert _dist_m(*gcj, *_prc(prcoords.bd_gcj_bored, *points)).max() < 5e-3
    # The usual closed-form inverse alone is only decimetre-level.
    assert _dist_m(*gcj, *_prc(prcoords.bd_gcj, *points)).max() > 0.01


def test_bd09_to_wgs84_round_trip_and_prcoords(points: tuple[Arr, Arr]) -> None:
    wgs = bd09_to_wgs84(*points)
    assert _dist_m(*wgs84_to_bd09(*wgs), *points).max() < 1e-3
    # prcoords' composite bd_wgs_bored stops early (1e-5 deg) and is only cm-level (~2 cm).
    assert _dist_m(*wgs, *_prc(prcoords.bd_wgs_bored, *points)).max() < 0.05


# --- plausibility and conventions ---------------------------------------------------------


def test_shengze_offset_is_hundreds_of_metres() -> None:
    gcj_lon, gcj_lat = wgs84_to_gcj02(*SHENGZE)
    offset = GEOD.inv(SHENGZE[0], SHENGZE[1], float(gcj_lon), float(gcj_lat))[2]
    assert 300 < offset < 800
    bd_lon, bd_lat = wgs84_to_bd09(*SHENGZE)
    bd_offset = GEOD.inv(SHENGZE[0], SHENGZE[1], float(bd_lon), float(bd_lat))[2]
    assert bd_offset > offset  # BD-09 adds Baidu's ~1 km shift on top


@pytest.mark.parametrize(("lon", "lat"), OUTSIDE_CHINA)
def test_no_gcj_offset_outside_china(lon: float, lat: float) -> None:
    for fn in (wgs84_to_gcj02, gcj02_to_wgs84):
        out_lon, out_lat = fn(lon, lat)
        assert (float(out_lon), float(out_lat)) == (lon, lat)
    assert tuple(map(float, to_wgs84(lon, lat, datum="gcj02"))) == (lon, lat)
    # prcoords' forward agrees (it warns and returns the input unchanged).
    one = (np.array([lon]), np.array([lat]))
    assert _max_deg_diff(wgs84_to_gcj02(*one), _prc(prcoords.wgs_gcj, *one)) == 0
    # BD-09's own shift is applied everywhere, as in the reference implementations.
    assert _max_deg_diff(wgs84_to_bd09(lon, lat), gcj02_to_bd09(lon, lat)) == 0


@pytest.mark.parametrize("datum", [Datum.WGS84, Datum.CGCS2000, "wgs84", "CGCS2000", "cgcs-2000"])
def test_to_wgs84_passthrough(datum: Datum | str) -> None:
    lon, lat = to_wgs84([120.65, 121.0], [30.9, 31.0], datum=datum)
    assert lon.dtype == np.float64
    np.testing.assert_array_equal(lon, [120.65, 121.0])
    np.testing.assert_array_equal(lat, [30.9, 31.0])


@pytest.mark.parametrize(
    ("datum", "expected"),
    [("gcj02", gcj02_to_wgs84), ("GCJ-02", gcj02_to_wgs84), (Datum.BD09, bd09_to_wgs84)],
)
def test_to_wgs84_converts_chinese_datums(
    datum: Datum | str, expected: Callable[[Arr, Arr], tuple[Arr, Arr]]
) -> None:
    lon, lat = _grid_delta()
    assert _max_deg_diff(to_wgs84(lon, lat, datum=datum), expected(lon, lat)) == 0


@pytest.mark.parametrize("bad", ["wgs", "EPSG:4326", "", "baidu"])
def test_to_wgs84_unknown_datum_raises(bad: str) -> None:
    with pytest.raises(ValueError, match="unknown datum") as exc:
        to_wgs84(120.0, 31.0, datum=bad)
    for name in ("wgs84", "cgcs2000", "gcj02", "bd09"):
        assert name in str(exc.value)


def test_scalar_and_sequence_inputs() -> None:
    lon = gcj02_to_wgs84(*SHENGZE)[0]
    assert isinstance(lon, np.ndarray)
    assert lon.shape == ()
    assert lon.dtype == np.float64
    lons, lats = gcj02_to_bd09([120.0, 121.0], 31.0)  # broadcasts
    assert lons.shape == lats.shape == (2,)
    empty = wgs84_to_gcj02([], [])
    assert empty[0].shape == (0,)
    assert bd09_to_wgs84([], [])[1].shape == (0,)


# --- parse_crs / CrsSpec ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "datum", "epsg"),
    [
        ("EPSG:4326", None, 4326),
        ("4326", None, 4326),
        ("epsg:4547", None, 4547),
        (" EPSG:4549 ", None, 4549),
        ("urn:ogc:def:crs:EPSG::4490", None, 4490),
        ("gcj02", Datum.GCJ02, None),
        ("GCJ-02", Datum.GCJ02, None),
        ("bd09", Datum.BD09, None),
        ("BD-09", Datum.BD09, None),
        ("wgs84", None, 4326),
        ("cgcs2000", None, 4490),
    ],
)
def test_parse_crs_accepts(value: str, datum: Datum | None, epsg: int | None) -> None:
    assert parse_crs(value) == CrsSpec(datum=datum, epsg=epsg)


@pytest.mark.parametrize(
    ("bad", "match"),
    [
        ("", "unrecognised CRS"),
        ("EPSG:", "unrecognised CRS"),
        ("mercator", "unrecognised CRS"),
        ("EPSG:999999", "unknown EPSG code"),
        ("EPSG:4978", "not a 2D geographic or projected CRS"),  # geocentric
        ("EPSG:5773", "not a 2D geographic or projected CRS"),  # vertical
    ],
)
def test_parse_crs_rejects_with_helpful_message(bad: str, match: str) -> None:
    with pytest.raises(ValueError, match=match) as exc:
        parse_crs(bad)
    assert "EPSG:4326" in str(exc.value)
    assert "gcj02" in str(exc.value)


def test_crs_spec_requires_exactly_one_source() -> None:
    with pytest.raises(ValueError):
        CrsSpec()
    with pytest.raises(ValueError):
        CrsSpec(datum=Datum.GCJ02, epsg=4326)
    with pytest.raises(ValueError):
        CrsSpec(datum=Datum.WGS84)


@pytest.mark.parametrize("code", [4547, 4549])
def test_parse_crs_gauss_kruger_matches_pyproj(code: int) -> None:
    # NB: EPSG:4547 is CGCS2000 / 3-degree GK CM 114E; CM 120E (the delta) is EPSG:4549.
    to_gk = pyproj.Transformer.from_crs("EPSG:4326", code, always_xy=True)
    east, north = to_gk.transform([SHENGZE[0], 121.5], [SHENGZE[1], 31.2])
    spec = parse_crs(f"EPSG:{code}")
    lon, lat = spec.to_wgs84(east, north)
    ref = pyproj.Transformer.from_crs(code, "EPSG:4326", always_xy=True).transform(east, north)
    np.testing.assert_allclose(lon, ref[0], rtol=0, atol=1e-12)
    np.testing.assert_allclose(lat, ref[1], rtol=0, atol=1e-12)
    np.testing.assert_allclose(lon, [SHENGZE[0], 121.5], rtol=0, atol=1e-8)
    np.testing.assert_allclose(lat, [SHENGZE[1], 31.2], rtol=0, atol=1e-8)
    assert spec.crs is not None
    assert "Gauss-Kruger" in spec.crs.name


def test_crs_spec_passthrough_and_datums() -> None:
    lon, lat = _grid_delta()
    for value in ("EPSG:4326", "EPSG:4490"):
        spec = parse_crs(value)
        assert spec.is_passthrough
        np.testing.assert_array_equal(spec.to_wgs84(lon, lat)[0], lon)
        np.testing.assert_array_equal(spec.to_wgs84(lon, lat)[1], lat)
    gcj = parse_crs("gcj02")
    assert gcj.crs is None
    assert not gcj.is_passthrough
    assert _max_deg_diff(gcj.to_wgs84(lon, lat), gcj02_to_wgs84(lon, lat)) == 0


# --- geometries ---------------------------------------------------------------------------


def _expected_coords(geom: shapely.Geometry, fn: Callable[[Arr, Arr], tuple[Arr, Arr]]) -> Arr:
    """Coordinates of geom mapped through fn, in shapely's coordinate order."""
    xy = shapely.get_coordinates(geom)
    return np.column_stack(fn(xy[:, 0], xy[:, 1]))


POLYGON = Polygon(
    [(120.60, 30.85), (120.70, 30.85), (120.70, 30.95), (120.60, 30.95)],
    holes=[[(120.63, 30.88), (120.66, 30.88), (120.66, 30.91), (120.63, 30.91)]],
)
MULTILINE = MultiLineString(
    [[(120.60, 30.90), (120.65, 30.92), (120.70, 30.91)], [(121.0, 31.0), (121.1, 31.05)]]
)


@pytest.mark.parametrize("geom", [POLYGON, MULTILINE], ids=["polygon", "multilinestring"])
@pytest.mark.parametrize("value", ["gcj02", "bd09"])
def test_transform_geometry_keeps_structure(geom: shapely.Geometry, value: str) -> None:
    spec = parse_crs(value)
    out = transform_geometry(geom, spec)
    assert out.geom_type == geom.geom_type
    assert shapely.get_num_geometries(out) == shapely.get_num_geometries(geom)
    assert shapely.get_num_coordinates(out) == shapely.get_num_coordinates(geom)
    if isinstance(geom, Polygon):
        assert len(out.interiors) == len(geom.interiors) == 1
        assert out.is_valid
    else:
        assert [len(p.coords) for p in out.geoms] == [len(p.coords) for p in geom.geoms]
    expected = _expected_coords(geom, spec.to_wgs84)
    np.testing.assert_array_equal(shapely.get_coordinates(out), expected)
    # Round trip back to GCJ-02 lands on the input.
    back = wgs84_to_gcj02 if value == "gcj02" else wgs84_to_bd09
    np.testing.assert_allclose(
        _expected_coords(out, back), shapely.get_coordinates(geom), rtol=0, atol=1e-9
    )


def test_transform_geometry_projected_and_3d() -> None:
    to_gk = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:4549", always_xy=True)
    line = shapely.transform(MULTILINE, lambda xy: np.column_stack(to_gk.transform(*xy.T)))
    out = transform_geometry(line, parse_crs("EPSG:4549"))
    np.testing.assert_allclose(
        shapely.get_coordinates(out), shapely.get_coordinates(MULTILINE), rtol=0, atol=1e-8
    )
    line_z = LineString([(120.6, 30.9, 2.5), (120.7, 30.95, 3.5)])
    out_z = transform_geometry(line_z, parse_crs("gcj02"))
    assert out_z.has_z
    np.testing.assert_array_equal(shapely.get_coordinates(out_z, include_z=True)[:, 2], [2.5, 3.5])


def test_transform_geometry_passthrough_and_empty() -> None:
    assert transform_geometry(POLYGON, parse_crs("cgcs2000")).equals(POLYGON)
    assert transform_geometry(Polygon(), parse_crs("gcj02")).is_empty


# --- metric helpers -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lon", "lat", "epsg"),
    [
        (120.65, 30.90, 32651),
        (119.99, 30.0, 32650),
        (-70.6, -33.4, 32719),
        (0.0, 0.0, 32631),
        (-180.0, 10.0, 32601),
        (180.0, -10.0, 32701),
    ],
)
def test_utm_crs_for(lon: float, lat: float, epsg: int) -> None:
    crs = utm_crs_for(lon, lat)
    assert crs.to_epsg() == epsg
    assert crs.is_projected


@pytest.mark.parametrize(("lon", "lat"), [(200.0, 0.0), (0.0, 91.0), (float("nan"), 30.0)])
def test_utm_crs_for_rejects_invalid(lon: float, lat: float) -> None:
    with pytest.raises(ValueError, match="invalid WGS84 lon/lat"):
        utm_crs_for(lon, lat)


def test_geodesic_length_of_equatorial_meridian_degree() -> None:
    assert geodesic_length_m(LineString([(0.0, 0.0), (0.0, 1.0)])) == pytest.approx(110574, abs=1)
    multi = MultiLineString([[(0.0, 0.0), (0.0, 1.0)], [(10.0, 0.0), (10.0, 1.0)]])
    assert geodesic_length_m(multi) == pytest.approx(2 * 110574, abs=2)
