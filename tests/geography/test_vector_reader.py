"""geography.imports.vector: every format, CRS handling, repair, field mapping and errors."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pyogrio.raw
import pyproj
import pytest
import shapely

from geo_patrol.core.errors import ImportFileError
from geo_patrol.geography.imports.vector import VectorFile, read_vector

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "vector"
FIELDS = {"code": "code", "name": "name"}
REQUIRED = ("code", "name")
TOLERANCE_DEG = 1e-7


def _load_source() -> ModuleType:
    """The fixture script, whose geometries are the ground truth."""
    spec = importlib.util.spec_from_file_location("vector_fixtures", FIXTURES / "make_fixtures.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SOURCE = _load_source()


def _same(actual: shapely.Geometry, expected: shapely.Geometry, tol: float = TOLERANCE_DEG) -> bool:
    """Equal within tol after normalising (ring start and orientation are not compared)."""
    return bool(shapely.equals_exact(shapely.normalize(actual), shapely.normalize(expected), tol))


def _boundaries(name: str, **kwargs: Any) -> VectorFile:
    """Read a boundary fixture as polygons with code/name required."""
    kwargs.setdefault("fields", FIELDS)
    return read_vector(FIXTURES / name, kind="polygon", required=REQUIRED, **kwargs)


def _error(path: Path, **kwargs: Any) -> ImportFileError:
    """The ImportFileError read_vector raises for path."""
    kwargs.setdefault("kind", "polygon")
    with pytest.raises(ImportFileError) as info:
        read_vector(path, **kwargs)
    return info.value


def _write_geojson(path: Path, features: list[dict[str, Any]]) -> Path:
    """Write a hand-made GeoJSON FeatureCollection."""
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), "utf-8")
    return path


def _feature(geometry: dict[str, Any] | None, **properties: Any) -> dict[str, Any]:
    """One GeoJSON feature."""
    return {"type": "Feature", "properties": properties, "geometry": geometry}


@pytest.mark.parametrize(
    ("name", "fmt", "fields"),
    [
        ("boundaries.geojson", "GeoJSON", FIELDS),
        ("boundaries.gpkg", "GPKG", FIELDS),
        ("boundaries_shp.zip", "ESRI Shapefile", {"code": "CODE", "name": "NAME"}),
        ("boundaries_shp.zip", "ESRI Shapefile", FIELDS),  # matched ignoring case
        ("boundaries.kml", "KML", FIELDS),
        ("boundaries.kmz", "KML", FIELDS),
    ],
)
def test_every_format_reads_the_same_boundaries(
    name: str, fmt: str, fields: dict[str, str]
) -> None:
    result = _boundaries(name, fields=fields)
    assert result.format == fmt
    assert result.source_crs == "EPSG:4326"
    assert result.repaired == ()
    assert result.warnings == ()
    assert [f.number for f in result.features] == [1, 2]
    assert [f.properties["code"] for f in result.features] == ["320509", "330421"]
    assert [f.properties["name"] for f in result.features] == list(SOURCE.NAMES)
    for feature, expected in zip(result.features, SOURCE.BOUNDARIES, strict=True):
        assert feature.geometry.geom_type == "MultiPolygon"
        assert feature.geometry.is_valid
        assert _same(feature.geometry, shapely.MultiPolygon([expected]))


def test_shapefile_integer_codes_become_strings() -> None:
    meta, _, _, data = pyogrio.raw.read(
        f"/vsizip/{FIXTURES / 'boundaries_shp.zip'}/boundaries/boundaries.shp"
    )
    assert list(meta["fields"]) == ["CODE", "NAME"]
    assert np.issubdtype(data[0].dtype, np.integer)  # the fixture really has integer codes
    result = _boundaries("boundaries_shp.zip", fields={"code": "CODE", "name": "NAME"})
    assert result.layer == "boundaries"
    assert [f.properties["code"] for f in result.features] == ["320509", "330421"]
    assert "CODE" not in result.features[0].properties


def test_gpkg_float_codes_and_first_spatial_layer() -> None:
    result = _boundaries("boundaries.gpkg")
    assert result.layer == "boundaries"  # "notes" has no geometry
    assert result.features[0].properties["code"] == "320509"


def test_points_and_twelve_digit_codes() -> None:
    result = read_vector(FIXTURES / "villages.gpkg", kind="point", required=REQUIRED)
    assert [f.properties["code"] for f in result.features] == ["320509102001", "330421103002"]
    for feature, expected in zip(result.features, SOURCE.VILLAGES, strict=True):
        assert feature.geometry.geom_type == "Point"
        assert _same(feature.geometry, expected)


def test_lines_keep_their_type_and_lose_z() -> None:
    result = read_vector(FIXTURES / "rivers.geojson", kind="line", required=["name"])
    types = [f.geometry.geom_type for f in result.features]
    assert types == ["LineString", "MultiLineString"]
    assert not any(shapely.has_z(f.geometry) for f in result.features)
    for feature, expected in zip(result.features, SOURCE.RIVERS, strict=True):
        assert _same(feature.geometry, shapely.force_2d(expected))


def test_names_are_stripped_and_other_columns_kept() -> None:
    result = read_vector(FIXTURES / "missing_code.geojson", kind="polygon", fields={"name": "name"})
    assert result.features[0].properties == {"name": "吴江区", "remark": "界河"}
    stripped = _boundaries("boundaries.geojson")  # the file has "  吴江区 "
    assert stripped.features[0].properties["name"] == "吴江区"


def test_bowtie_is_repaired_and_counted() -> None:
    result = _boundaries("bowtie.geojson")
    assert result.repaired == (2,)
    repaired = result.features[1].geometry
    assert repaired.is_valid
    assert repaired.geom_type == "MultiPolygon"
    triangles = shapely.MultiPolygon(
        [
            shapely.Polygon([(120.60, 30.88), (120.625, 30.90), (120.60, 30.92)]),
            shapely.Polygon([(120.65, 30.88), (120.65, 30.92), (120.625, 30.90)]),
        ]
    )
    assert _same(repaired, triangles)
    assert _same(result.features[0].geometry, shapely.MultiPolygon([SOURCE.WUJIANG]))


def test_projected_cgcs2000_gpkg_is_converted_like_pyproj() -> None:
    epsg = SOURCE.PROJECTED_EPSG
    result = _boundaries(f"boundaries_{epsg}.gpkg")
    assert result.source_crs == f"EPSG:{epsg}"
    _, _, wkb, _ = pyogrio.raw.read(FIXTURES / f"boundaries_{epsg}.gpkg")
    projected = shapely.from_wkb(wkb)
    transformer = pyproj.Transformer.from_crs(f"EPSG:{epsg}", "EPSG:4326", always_xy=True)
    for feature, raw, source in zip(result.features, projected, SOURCE.BOUNDARIES, strict=True):
        expected = shapely.transform(
            raw, lambda c: np.column_stack(transformer.transform(c[:, 0], c[:, 1]))
        )
        assert _same(feature.geometry, shapely.MultiPolygon([expected]), 1e-9)
        assert _same(feature.geometry, shapely.MultiPolygon([source]))


def test_gcj02_file_is_recovered_to_wgs84_within_a_centimetre() -> None:
    geod = pyproj.Geod(ellps="WGS84")
    result = _boundaries("boundaries_gcj02.geojson", crs="gcj02")
    assert result.source_crs == "gcj02"
    for feature, source in zip(result.features, SOURCE.BOUNDARIES, strict=True):
        got = shapely.get_coordinates(shapely.normalize(feature.geometry))
        want = shapely.get_coordinates(shapely.normalize(shapely.MultiPolygon([source])))
        assert got.shape == want.shape
        _, _, dist = geod.inv(got[:, 0], got[:, 1], want[:, 0], want[:, 1])
        assert np.max(dist) < 0.01
    # Undeclared, the same file is silently taken as WGS84 and is hundreds of metres off.
    undeclared = _boundaries("boundaries_gcj02.geojson")
    first = shapely.get_coordinates(undeclared.features[0].geometry)[0]
    nearest = shapely.distance(shapely.Point(first), SOURCE.WUJIANG.exterior)
    assert nearest > 0.001


def test_projected_file_without_crs_needs_the_option(tmp_path: Path) -> None:
    projected = [SOURCE.to_projected(g) for g in SOURCE.BOUNDARIES]
    path = tmp_path / "no_prj.shp"
    wkb = np.array([shapely.to_wkb(g) for g in projected], dtype=object)
    codes = np.array(SOURCE.CODES, dtype=np.int64)
    with pytest.warns(UserWarning, match="'crs' was not provided"):
        pyogrio.raw.write(path, wkb, [codes], ["adcode"], geometry_type="Polygon")
    assert not path.with_suffix(".prj").exists()
    error = _error(path, fields={"code": "adcode"})
    assert error.extra["field"] == "crs"
    assert "declares no CRS" in error.detail and "--crs" in error.detail
    result = read_vector(path, kind="polygon", fields={"code": "adcode"}, crs="EPSG:4549")
    assert _same(result.features[1].geometry, shapely.MultiPolygon([SOURCE.JIASHAN]))


def test_wrong_crs_option_gives_out_of_range_error() -> None:
    error = _error(FIXTURES / "boundaries_4549.gpkg", fields=FIELDS, crs="EPSG:4326")
    assert error.extra["feature"] == 1
    assert "吴江区" in error.detail and "--crs" in error.detail


def test_truncated_file_reports_gdal_message() -> None:
    error = _error(FIXTURES / "broken.geojson")
    assert "cannot be read" in error.detail
    assert "GeoJSON" in error.detail
    assert error.extra["file"] == "broken.geojson"


def test_missing_required_field_lists_the_columns() -> None:
    error = _error(FIXTURES / "missing_code.geojson", fields=FIELDS, required=REQUIRED)
    assert error.extra["field"] == "code"
    assert "'code'" in error.detail
    assert "name, remark" in error.detail


def test_wrong_geometry_kind_names_the_feature() -> None:
    error = _error(FIXTURES / "rivers.geojson", kind="polygon")
    assert error.extra["feature"] == 1
    assert "feature 1 ('太浦河')" in error.detail
    assert "LineString" in error.detail
    error = _error(FIXTURES / "villages.gpkg", kind="line")
    assert "feature 1 ('南麻村')" in error.detail


def test_unknown_extension_lists_accepted_ones(tmp_path: Path) -> None:
    path = tmp_path / "boundaries.csv"
    path.write_text("code,name\n320509,吴江区\n", "utf-8")
    error = _error(path)
    assert ".csv" in error.detail
    for accepted in (".geojson", ".gpkg", ".shp", ".zip", ".kml", ".kmz"):
        assert accepted in error.detail


def test_null_geometry_and_empty_required_value(tmp_path: Path) -> None:
    square = shapely.geometry.mapping(SOURCE.JIASHAN)
    path = _write_geojson(
        tmp_path / "null.geojson",
        [_feature(square, code="330421", name="嘉善县"), _feature(None, code="1", name="空")],
    )
    error = _error(path, fields=FIELDS)
    assert error.extra["feature"] == 2
    assert "feature 2 ('空')" in error.detail and "no geometry" in error.detail
    path = _write_geojson(
        tmp_path / "blank.geojson",
        [_feature(square, code="330421", name="嘉善县"), _feature(square, code=" ", name="空")],
    )
    error = _error(path, fields=FIELDS, required=REQUIRED)
    assert (error.extra["feature"], error.extra["field"]) == (2, "code")


def test_missing_layer_and_bad_archive(tmp_path: Path) -> None:
    error = _error(FIXTURES / "boundaries.gpkg", layer="rivers")
    assert error.extra["field"] == "layer"
    assert "boundaries, notes" in error.detail
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"PK\x03\x04 not really a zip")
    assert "zip" in _error(bad).detail


def test_non_integer_float_code_is_refused(tmp_path: Path) -> None:
    square = shapely.geometry.mapping(SOURCE.JIASHAN)
    path = _write_geojson(tmp_path / "f.geojson", [_feature(square, code=3304.5, name="x")])
    error = _error(path, fields=FIELDS)
    assert (error.extra["feature"], error.extra["field"]) == (1, "code")


def _write_shapefile(path: Path, names: list[str], encoding: str) -> Path:
    """A lon/lat shapefile with a NAME column in `encoding` and no .prj/.cpg."""
    wkb = np.array([shapely.to_wkb(SOURCE.JIASHAN)] * len(names), dtype=object)
    with pytest.warns(UserWarning, match="'crs' was not provided"):
        pyogrio.raw.write(
            path,
            wkb,
            [np.array(names, dtype=object)],
            ["NAME"],
            encoding=encoding,
            geometry_type="Polygon",
        )
    path.with_suffix(".cpg").unlink(missing_ok=True)
    return path


def test_gbk_shapefile_without_code_page_is_decoded(tmp_path: Path) -> None:
    path = _write_shapefile(tmp_path / "gbk.shp", ["嘉善县", "西塘镇"], "GBK")
    assert pyogrio.read_info(path)["encoding"] == "ISO-8859-1"  # GDAL alone would garble it
    result = read_vector(path, kind="polygon", required=["name"])
    assert [f.properties["name"] for f in result.features] == ["嘉善县", "西塘镇"]
    assert any("GB18030" in note for note in result.warnings)
    assert any("no CRS" in note for note in result.warnings)  # no .prj: lon/lat assumed
    explicit = read_vector(path, kind="polygon", required=["name"], encoding="GBK")
    assert explicit.features[0].properties["name"] == "嘉善县"
    assert not any("GB18030" in note for note in explicit.warnings)


def test_ascii_shapefile_without_code_page_is_left_alone(tmp_path: Path) -> None:
    path = _write_shapefile(tmp_path / "ascii.shp", ["Jiashan"], "UTF-8")
    result = read_vector(path, kind="polygon", required=["name"])
    assert result.features[0].properties["name"] == "Jiashan"
    assert not any("code page" in note for note in result.warnings)
