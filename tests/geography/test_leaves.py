"""Leaf pieces follow the boundaries and their children; batch routing keeps history right."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import shapely
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_patrol.geography.imports.jurisdictions import (
    JurisdictionImportOptions,
    import_jurisdictions,
)
from geo_patrol.incidents.routing import lead_codes_batch
from tests.fixtures.vector.make_fixtures import WUJIANG

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "vector"
COUNTY = JurisdictionImportOptions(level="county", hierarchy="code")
TOWN = shapely.box(120.63, 30.90, 120.64, 30.91)  # inside Wujiang, clear of its lake


def leaf_area(session: Session, code: str) -> float:
    """Area (square degrees) of the leaf pieces of the version of `code` in force."""
    return float(
        session.execute(
            text(
                "SELECT coalesce(sum(ST_Area(l.geom)), 0) FROM jurisdiction_leaves l "
                "JOIN jurisdictions j ON j.id = l.jurisdiction_id "
                "WHERE j.code = :code AND j.valid_to IS NULL"
            ),
            {"code": code},
        ).scalar_one()
    )


def add_town(session: Session) -> None:
    """A town of Wujiang covering a small square of it."""
    session.execute(
        text(
            "INSERT INTO jurisdictions (code, name, level, parent_code, geom, geom_hash, "
            "valid_from) VALUES ('320509100', 'town', 'town', '320509', "
            "ST_Multi(ST_GeomFromText(:wkt, 4326)), 'h', '2000-01-01')"
        ),
        {"wkt": TOWN.wkt},
    )


def test_leaves_leave_out_the_children(session: Session) -> None:
    import_jurisdictions(session, path=FIXTURES / "boundaries.geojson", options=COUNTY)
    assert abs(leaf_area(session, "320509") - WUJIANG.area) < 1e-12
    add_town(session)
    assert abs(leaf_area(session, "320509") - (WUJIANG.area - TOWN.area)) < 1e-12
    assert abs(leaf_area(session, "320509100") - TOWN.area) < 1e-12
    inside_town = {"lons": [120.635, 120.605], "lats": [30.905, 30.885]}
    got = lead_codes_batch(session, **inside_town, at=datetime.now(UTC))
    assert got == {0: "320509100", 1: "320509"}
    # The town ends: its area goes back to the county's leaf.
    session.execute(text("UPDATE jurisdictions SET valid_to = now() WHERE code = '320509100'"))
    assert abs(leaf_area(session, "320509") - WUJIANG.area) < 1e-12
    assert leaf_area(session, "320509100") == 0
    session.execute(text("UPDATE jurisdictions SET valid_to = NULL WHERE code = '320509100'"))
    assert abs(leaf_area(session, "320509") - (WUJIANG.area - TOWN.area)) < 1e-12
    session.execute(text("DELETE FROM jurisdictions WHERE code = '320509100'"))
    assert abs(leaf_area(session, "320509") - WUJIANG.area) < 1e-12


def test_batch_routing_uses_the_boundary_in_force_at_the_time(
    session: Session, tmp_path: Path
) -> None:
    import_jurisdictions(session, path=FIXTURES / "boundaries.geojson", options=COUNTY)
    data = json.loads((FIXTURES / "boundaries.geojson").read_text())
    # Move the shared corner 0.01 degrees east (as in the import test).
    data["features"][0]["geometry"]["coordinates"][0][2] = [120.665, 30.90]
    data["features"][1]["geometry"]["coordinates"][0][4] = [120.665, 30.90]
    changed = tmp_path / "changed.geojson"
    changed.write_text(json.dumps(data))
    moment = datetime(2026, 6, 1, tzinfo=UTC)
    import_jurisdictions(session, path=changed, options=COUNTY, changed_at=moment)
    point = {"lons": [120.66], "lats": [30.90]}  # east of the old corner, west of the new one
    assert lead_codes_batch(session, **point, at=moment - timedelta(days=1)) == {0: "330421"}
    assert lead_codes_batch(session, **point, at=moment + timedelta(days=1)) == {0: "320509"}


def test_batch_routing_runs_without_jit_for_the_rest_of_its_transaction(session: Session) -> None:
    """JIT compiling the lookup of a million points cost more than it saved (bench/README.md)."""
    session.execute(text("SET LOCAL jit = on"))
    lead_codes_batch(session, lons=[120.605], lats=[30.885], at=datetime.now(UTC))
    assert session.execute(text("SELECT current_setting('jit')")).scalar_one() == "off"


def test_batch_routing_on_cell_edges_and_on_the_shared_border(session: Session) -> None:
    """Batch routing stages points in 0.005-degree cells and answers a cell that lies inside
    one piece without testing its points: points on cell edges, on the fixture's shared
    border (a tie between the two counties: the lower code) and just outside the region."""
    import_jurisdictions(session, path=FIXTURES / "boundaries.geojson", options=COUNTY)
    points = {
        (120.655, 30.90): "320509",  # the border's vertex, shared: both counties, tie
        (120.65, 30.88): "320509",  # the border's end, a corner of both
        (120.65, 30.92): "320509",
        (120.62, 30.90): "320509",  # on cell corners, inside one county
        (120.68, 30.905): "330421",
        (120.60, 30.90): "320509",  # on the region's outer edge (and a cell edge)
        (120.70, 30.90): "330421",
        (120.595, 30.90): None,  # one cell west of the edge: outside both
        (120.7025, 30.90): None,  # inside a cell the region's edge crosses, but outside
        (120.6501, 30.89): "320509",  # in a cell the border crosses (at 120.6525), west of it
        (120.6549, 30.89): "330421",  # the same cell, east of it
    }
    lons, lats = [p[0] for p in points], [p[1] for p in points]
    got = lead_codes_batch(session, lons=lons, lats=lats, at=datetime.now(UTC))
    assert {p: got.get(n) for n, p in enumerate(points)} == points
