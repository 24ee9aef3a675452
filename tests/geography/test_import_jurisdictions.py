"""Boundary imports on the real database: formats, CRS, repair, idempotence, versions."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import prcoords
import pyproj
import pytest
import shapely
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_patrol.core.errors import ImportFileError
from geo_patrol.geography.imports.jurisdictions import (
    JurisdictionImportOptions,
    import_jurisdictions,
)
from geo_patrol.geography.lookup import jurisdictions_at
from tests.fixtures.vector.make_fixtures import BOUNDARIES, CODES

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "vector"
COUNTY = JurisdictionImportOptions(level="county", hierarchy="code")
GEOD = pyproj.Geod(ellps="WGS84")


def stored(session: Session) -> dict[str, shapely.Geometry]:
    """Geometries in force by code."""
    rows = session.execute(
        text("SELECT code, ST_AsBinary(geom) AS wkb FROM jurisdictions WHERE valid_to IS NULL")
    )
    return {row.code: shapely.from_wkb(bytes(row.wkb)) for row in rows}


def snapshot(session: Session) -> list[tuple[object, ...]]:
    """Every row with its physical place: any UPDATE (even in this transaction) moves it."""
    return [
        tuple(row)
        for row in session.execute(
            text("SELECT id, ctid::text, valid_from, valid_to FROM jurisdictions ORDER BY id")
        )
    ]


@pytest.mark.parametrize(
    ("name", "options"),
    [
        ("boundaries.geojson", COUNTY),
        ("boundaries.gpkg", COUNTY),
        ("boundaries.kml", JurisdictionImportOptions(level="county", code_field="code")),
        ("boundaries.kmz", JurisdictionImportOptions(level="county", code_field="code")),
        (
            "boundaries_shp.zip",
            JurisdictionImportOptions(level="county", code_field="CODE", name_field="NAME"),
        ),
        ("boundaries_4549.gpkg", COUNTY),
    ],
)
def test_each_format_round_trips(
    session: Session, name: str, options: JurisdictionImportOptions
) -> None:
    report = import_jurisdictions(session, path=FIXTURES / name, options=options)
    assert (report.features, report.added) == (2, 2)
    got = stored(session)
    for code, source in zip(CODES, BOUNDARIES, strict=True):
        # Projected input comes back through pyproj: equal to well under a millimetre.
        expected = shapely.normalize(shapely.MultiPolygon([source]))
        assert shapely.normalize(got[str(code)]).equals_exact(expected, tolerance=1e-8)


def test_reimport_changes_no_row(session: Session) -> None:
    import_jurisdictions(session, path=FIXTURES / "boundaries.geojson", options=COUNTY)
    before = snapshot(session)
    report = import_jurisdictions(session, path=FIXTURES / "boundaries.geojson", options=COUNTY)
    assert (report.added, report.new_versions, report.updated, report.unchanged) == (0, 0, 0, 2)
    assert snapshot(session) == before


def test_changed_boundary_becomes_new_version_and_old_one_still_routes(
    session: Session, tmp_path: Path
) -> None:
    import_jurisdictions(session, path=FIXTURES / "boundaries.geojson", options=COUNTY)
    data = json.loads((FIXTURES / "boundaries.geojson").read_text())
    # Move the shared corner of the first county 0.01 degrees east into its neighbour.
    ring = data["features"][0]["geometry"]["coordinates"][0]
    ring[2] = [120.665, 30.90]
    data["features"][1]["geometry"]["coordinates"][0][4] = [120.665, 30.90]
    changed = tmp_path / "changed.geojson"
    changed.write_text(json.dumps(data))
    moment = datetime(2026, 6, 1, tzinfo=UTC)
    report = import_jurisdictions(session, path=changed, options=COUNTY, changed_at=moment)
    assert (report.new_versions, report.unchanged) == (2, 0)
    versions = session.execute(
        text("SELECT valid_from, valid_to FROM jurisdictions WHERE code = '320509' ORDER BY id")
    ).all()
    assert versions[0].valid_to == moment and versions[1].valid_from == moment
    point = {"lon": 120.66, "lat": 30.90}  # east of the old corner, west of the new one
    before = jurisdictions_at(session, **point, at=moment - timedelta(days=1))
    after = jurisdictions_at(session, **point, at=moment + timedelta(days=1))
    assert before.chain[0].code == "330421"
    assert after.chain[0].code == "320509"


def test_invalid_polygon_is_repaired_and_counted(session: Session) -> None:
    report = import_jurisdictions(session, path=FIXTURES / "bowtie.geojson", options=COUNTY)
    assert report.repaired == [2]  # the bow-tie is the second feature
    valid = session.execute(text("SELECT bool_and(ST_IsValid(geom)) FROM jurisdictions"))
    assert valid.scalar_one() is True


def test_gcj02_file_lands_on_wgs84_independent_conversion(session: Session) -> None:
    options = JurisdictionImportOptions(level="county", crs="gcj02")
    import_jurisdictions(session, path=FIXTURES / "boundaries_gcj02.geojson", options=options)
    gcj = json.loads((FIXTURES / "boundaries_gcj02.geojson").read_text())
    got = stored(session)
    for feature in gcj["features"]:
        stored_ring = shapely.get_exterior_ring(got[feature["properties"]["code"]].geoms[0])
        for (lon, lat), (slon, slat) in zip(
            feature["geometry"]["coordinates"][0], stored_ring.coords, strict=True
        ):
            # prcoords works in (lat, lon); its iterative inverse is good to a few mm.
            expected = prcoords.gcj_wgs_bored(prcoords.Coords(lat, lon))
            _, _, distance = GEOD.inv(slon, slat, expected.lon, expected.lat)
            assert distance < 0.01


def test_bad_file_stores_nothing(session: Session) -> None:
    import_jurisdictions(session, path=FIXTURES / "boundaries.geojson", options=COUNTY)
    before = snapshot(session)
    for name in ("broken.geojson", "missing_code.geojson"):
        with pytest.raises(ImportFileError), session.begin_nested():
            import_jurisdictions(session, path=FIXTURES / name, options=COUNTY)
    assert snapshot(session) == before


def test_unknown_level_names_the_feature(session: Session) -> None:
    with pytest.raises(ImportFileError, match="feature 1") as caught:
        import_jurisdictions(
            session,
            path=FIXTURES / "boundaries.geojson",
            options=JurisdictionImportOptions(level=None, level_field="code"),
        )
    assert caught.value.extra["field"] == "level"


def test_parts_follow_the_boundaries(session: Session) -> None:
    import_jurisdictions(session, path=FIXTURES / "boundaries.geojson", options=COUNTY)
    # Union of the parts covers exactly the boundary (area difference ~ 0).
    diff = session.execute(
        text(
            "SELECT j.code, abs(ST_Area(ST_Union(p.geom)) - ST_Area(j.geom)) AS d, count(*) AS n "
            "FROM jurisdictions j JOIN jurisdiction_parts p ON p.jurisdiction_id = j.id "
            "GROUP BY j.code, j.geom"
        )
    ).all()
    assert len(diff) == 2 and all(row.d < 1e-12 for row in diff)
    session.execute(
        text(
            "UPDATE jurisdictions SET geom = ST_Multi(ST_Buffer(geom, -0.001)), "
            "geom_hash = 'x' WHERE code = '320509'"
        )
    )
    moved = session.execute(
        text(
            "SELECT abs(ST_Area(ST_Union(p.geom)) - ST_Area(j.geom)) FROM jurisdictions j "
            "JOIN jurisdiction_parts p ON p.jurisdiction_id = j.id WHERE j.code = '320509' "
            "GROUP BY j.geom"
        )
    ).scalar_one()
    assert moved < 1e-12


def test_a_bare_geometry_is_refused_saying_what_it_is_and_what_to_give(session: Session) -> None:
    with pytest.raises(ImportFileError) as refused:
        import_jurisdictions(session, path=FIXTURES / "wujiang_bare.geojson", options=COUNTY)
    assert str(refused.value) == (
        "wujiang_bare.geojson: the file is a bare GeoJSON geometry (MultiPolygon), not a "
        "Feature or FeatureCollection: it holds no code or name; give --code and --name"
    )
    assert refused.value.extra["field"] == "code"


def test_a_bare_geometry_imports_with_the_code_and_name_given(session: Session) -> None:
    options = JurisdictionImportOptions(level="county", code="320509", name="吴江区")
    report = import_jurisdictions(session, path=FIXTURES / "wujiang_bare.geojson", options=options)
    assert (report.features, report.added) == (1, 1)
    row = session.execute(
        text("SELECT code, name, level FROM jurisdictions WHERE valid_to IS NULL")
    ).one()
    assert tuple(row) == ("320509", "吴江区", "county")
    expected = shapely.normalize(shapely.MultiPolygon([BOUNDARIES[0]]))
    assert shapely.normalize(stored(session)["320509"]).equals_exact(expected, tolerance=1e-9)


def test_a_single_feature_takes_its_name_and_the_code_given(session: Session) -> None:
    path = FIXTURES / "wujiang_feature.geojson"
    with pytest.raises(ImportFileError) as refused:
        import_jurisdictions(session, path=path, options=COUNTY)
    assert str(refused.value) == (
        "wujiang_feature.geojson: required field 'code' not found; "
        "the file has columns: name; or give --code"
    )
    options = JurisdictionImportOptions(level="county", code="320509")
    report = import_jurisdictions(session, path=path, options=options)
    assert (report.features, report.added) == (1, 1)
    row = session.execute(text("SELECT code, name FROM jurisdictions")).one()
    assert tuple(row) == ("320509", "吴江区")  # the name from the file, the code given
    expected = shapely.normalize(shapely.MultiPolygon([BOUNDARIES[0]]))
    assert shapely.normalize(stored(session)["320509"]).equals_exact(expected, tolerance=1e-9)


def test_a_code_given_for_a_file_of_several_features_is_refused(session: Session) -> None:
    options = JurisdictionImportOptions(level="county", code="320509", name="吴江区")
    with pytest.raises(ImportFileError, match="this file has 2 features") as refused:
        import_jurisdictions(session, path=FIXTURES / "boundaries.geojson", options=options)
    assert refused.value.extra["field"] == "code"
