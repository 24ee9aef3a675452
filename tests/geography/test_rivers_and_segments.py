"""River import and segments, checked against pyproj/shapely on the same fixture lines."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyproj
import shapely
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_patrol.geography.imports.features import (
    FeatureImportOptions,
    import_rivers,
    import_villages,
)
from geo_patrol.geography.imports.jurisdictions import (
    JurisdictionImportOptions,
    import_jurisdictions,
)
from tests.fixtures.vector.make_fixtures import BOUNDARIES, CODES, RIVERS

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "vector"
GEOD = pyproj.Geod(ellps="WGS84")
# UTM zone 51N: a metric CRS for the independent distance check near 120.6E.
UTM = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:32651", always_xy=True)


def to_utm(geom: shapely.Geometry) -> shapely.Geometry:
    """The geometry in UTM 51N metres."""
    return shapely.transform(geom, lambda xy: np.column_stack(UTM.transform(xy[:, 0], xy[:, 1])))


SEGMENT_M = 500.0
SIDE_M = 50.0


def load(session: Session) -> None:
    """The fixture polygons as towns, and the fixture rivers cut into 500 m segments."""
    towns = JurisdictionImportOptions(level="town")
    import_jurisdictions(session, path=FIXTURES / "boundaries.geojson", options=towns)
    options = FeatureImportOptions(segment_length_m=SEGMENT_M, side_distance_m=SIDE_M)
    import_rivers(session, path=FIXTURES / "rivers.geojson", options=options)


def segments(session: Session) -> list[tuple[str, int, shapely.Geometry, float, bool, list[str]]]:
    """(river code, seq, geometry, length_m, is_border, sides) of every segment."""
    rows = session.execute(
        text(
            "SELECT r.code, s.seq, ST_AsBinary(s.geom) AS wkb, s.length_m, s.is_border, "
            "coalesce(array_agg(x.jurisdiction_code ORDER BY x.jurisdiction_code) "
            "FILTER (WHERE x.jurisdiction_code IS NOT NULL), '{}') AS sides "
            "FROM river_segments s JOIN rivers r ON r.id = s.river_id "
            "LEFT JOIN river_segment_sides x ON x.segment_id = s.id "
            "GROUP BY r.code, s.id ORDER BY r.code, s.seq"
        )
    ).all()
    return [
        (
            row.code,
            row.seq,
            shapely.from_wkb(bytes(row.wkb)),
            row.length_m,
            row.is_border,
            row.sides,
        )
        for row in rows
    ]


def test_segments_add_up_to_the_geodesic_length(session: Session) -> None:
    load(session)
    found = segments(session)
    codes = json.loads((FIXTURES / "rivers.geojson").read_text())["features"]
    for feature, line in zip(codes, RIVERS, strict=True):
        code = str(feature["properties"]["code"])
        mine = [seg for seg in found if seg[0] == code]
        reference = GEOD.geometry_length(shapely.force_2d(line))
        assert abs(sum(seg[3] for seg in mine) - reference) / reference < 0.005
        assert all(seg[3] <= SEGMENT_M * 1.001 for seg in mine)
        assert len(mine) >= reference // SEGMENT_M


def test_sides_match_an_independent_metric_distance(session: Session) -> None:
    load(session)
    towns = {str(code): to_utm(polygon) for code, polygon in zip(CODES, BOUNDARIES, strict=True)}
    border_seen = False
    for _, _, geom, _, is_border, sides in segments(session):
        metric = to_utm(geom)
        # Skip the rare segment whose distance sits within 1 m of the threshold.
        distances = {code: metric.distance(town) for code, town in towns.items()}
        if any(abs(d - SIDE_M) < 1.0 for d in distances.values()):
            continue
        expected = sorted(code for code, d in distances.items() if d <= SIDE_M)
        assert sides == expected
        assert is_border == (len(expected) > 1)
        border_seen |= is_border
    assert border_seen, "the fixture river along the shared edge must give a border segment"


def snapshot(session: Session, *tables: str) -> dict[str, list[tuple[str, str]]]:
    """Every row of the tables as (ctid, whole row as text): an UPDATE moves a row to a new
    ctid, a DELETE or INSERT changes the list, so equal snapshots mean nothing was written."""
    return {
        table: [
            (str(ctid), str(row))
            for ctid, row in session.execute(
                text(f"SELECT ctid::text, t::text FROM {table} t ORDER BY ctid")
            )
        ]
        for table in tables
    }


RIVER_TABLES = ("rivers", "river_segments", "river_segment_sides")


def test_reimport_keeps_segments_and_rows(session: Session) -> None:
    load(session)
    before = snapshot(session, *RIVER_TABLES)
    assert all(before.values())  # the snapshot compares rows of every table
    options = FeatureImportOptions(segment_length_m=SEGMENT_M, side_distance_m=SIDE_M)
    report = import_rivers(session, path=FIXTURES / "rivers.geojson", options=options)
    assert snapshot(session, *RIVER_TABLES) == before
    assert (report.added, report.updated, report.unchanged) == (0, 0, 2)  # and it says so


def test_villages_import_and_reimport(session: Session) -> None:
    first = import_villages(
        session, path=FIXTURES / "villages.gpkg", options=FeatureImportOptions()
    )
    assert first.added == 2
    before = snapshot(session, "villages")
    assert len(before["villages"]) == 2
    again = import_villages(
        session, path=FIXTURES / "villages.gpkg", options=FeatureImportOptions()
    )
    assert snapshot(session, "villages") == before
    assert (again.added, again.updated, again.unchanged) == (0, 0, 2)


def test_hierarchy_by_containment(session: Session, tmp_path: Path) -> None:
    county = JurisdictionImportOptions(level="county")
    import_jurisdictions(session, path=FIXTURES / "boundaries.geojson", options=county)
    # Towns with codes that do not nest, so only containment can find their county.
    towns = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"code": f"T{i}", "name": f"town {i}"},
                "geometry": shapely.geometry.mapping(shapely.box(x, 30.89, x + 0.01, 30.91)),
            }
            for i, x in enumerate((120.62, 120.67))
        ],
    }
    path = tmp_path / "towns.geojson"
    path.write_text(json.dumps(towns))
    options = JurisdictionImportOptions(level="town", hierarchy="containment")
    report = import_jurisdictions(session, path=path, options=options)
    assert report.warnings == []
    parents: dict[str, str] = dict(
        session.execute(
            text("SELECT code, parent_code FROM jurisdictions WHERE level = 'town'")
        ).all()
    )
    assert parents == {"T0": "320509", "T1": "330421"}
