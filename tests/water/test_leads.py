"""The leads of a case, end to end (patrols uploaded through the API, reports through
create_incident, a reading stored, the rule run) against shapely on the demo file's line in a
local frame: which leads are listed, and how far upstream each is, to within a metre or so."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
import shapely
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_patrol.core.settings import Settings
from geo_patrol.incidents.reports import IncidentReport, create_incident
from geo_patrol.water.rule import open_cases
from tests.support import oracle
from tests.support.uploads import upload_as_admin
from tests.water.along_flow import Along, river_line
from tests.water.sections import add_reading, add_section

BORDER_RIVER = "R-320509-330411-01"
TAIPU = "R-320509-01"
SETTINGS = Settings()
POSITION_M = 5500.0  # the section, metres along the flow from the river's top
SAMPLED = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
TOLERANCE_M = 1.5


def walk_along(along: Along, start_m: float, end_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Fixes every 1.5 m on the river's line from `start_m` to `end_m` along the flow."""
    points = [along.line.interpolate(m) for m in np.arange(start_m, end_m, 1.5)]
    xy = np.array([(p.x, p.y) for p in points])
    lons, lats = along.frame.transform(xy[:, 0], xy[:, 1], direction="INVERSE")
    return np.asarray(lons), np.asarray(lats)


def patrol(
    client: TestClient, session: Session, lons: np.ndarray, lats: np.ndarray, start: datetime
) -> int:
    """A walk uploaded by the admin, starting at `start`."""
    return upload_as_admin(client, session, oracle.gpx(lons, lats, oracle.times(len(lons), start)))


def report(session: Session, lon: float, lat: float, at: datetime) -> int:
    """A pollution report at (lon, lat) made at `at`."""
    incident, _ = create_incident(
        session,
        report=IncidentReport(
            category="illegal_discharge", severity="medium", lon=lon, lat=lat, reported_at=at
        ),
        principal=None,
        settings=SETTINGS,
    )
    return incident


def test_leads_upstream_in_the_window_on_the_same_river(
    demo_client: TestClient, demo_session: Session
) -> None:
    line, flow = river_line(BORDER_RIVER)
    first = Along(line, flow, *line.interpolate(0.5, normalized=True).coords[0])
    section_lon, section_lat = first.point_at(POSITION_M)
    along = Along(line, flow, section_lon, section_lat)  # the oracle, centred on the section
    position = along.position(section_lon, section_lat)
    before = SAMPLED - timedelta(hours=5)
    # Patrols: upstream in the window (a lead); the same walk three days before; downstream.
    walked = walk_along(along, 3000.0, 3600.0)
    upstream = patrol(demo_client, demo_session, *walked, before)
    patrol(demo_client, demo_session, *walked, SAMPLED - timedelta(days=3))
    patrol(demo_client, demo_session, *walk_along(along, 5700.0, 5900.0), before)
    # ... and one on another river, in the window.
    taipu, taipu_flow = river_line(TAIPU)
    other = Along(taipu, taipu_flow, *taipu.interpolate(0.5, normalized=True).coords[0])
    patrol(demo_client, demo_session, *walk_along(other, 3000.0, 3300.0), before)
    # Reports: 40 m off the river upstream in the window (a lead); the same 60 h before;
    # downstream; 150 m off the river; on another river.
    near = along.offset(2000.0, 40.0)
    lead = report(demo_session, *near, SAMPLED - timedelta(hours=10))
    report(demo_session, *near, SAMPLED - timedelta(hours=60))
    report(demo_session, *along.offset(5800.0, 20.0), SAMPLED - timedelta(hours=2))
    report(demo_session, *along.offset(2500.0, 150.0), SAMPLED - timedelta(hours=2))
    report(demo_session, *other.offset(3100.0, 10.0), SAMPLED - timedelta(hours=2))

    section = add_section(
        demo_session, code="S-LEADS", river_code=BORDER_RIVER, lon=section_lon, lat=section_lat
    )
    add_reading(
        demo_session, section_id=section, at=SAMPLED - timedelta(days=30), measured={"NH3-N": 0.4}
    )
    reading = add_reading(demo_session, section_id=section, at=SAMPLED, measured={"NH3-N": 1.8})
    [case] = open_cases(demo_session, reading_ids=[reading], settings=SETTINGS)

    leads = demo_session.execute(
        text(
            "SELECT kind, patrol_id, lead_incident_id, segment_id, from_fraction, to_fraction,"
            " upstream_m FROM water_leads WHERE incident_id = :i ORDER BY upstream_m"
        ),
        {"i": case},
    ).all()
    assert [r.patrol_id for r in leads if r.kind == "patrol"] == [upstream]
    assert [r.lead_incident_id for r in leads if r.kind == "incident"] == [lead]

    # Independently: the stretch, what the walk covered of it (within 50 m of the track).
    stretch = along.stretch(position, SETTINGS.water_upstream_m)
    track = along.metres(shapely.LineString(np.column_stack(walked)))
    covered = stretch.intersection(track.buffer(SETTINGS.coverage_distance_m, quad_segs=64))
    nearest_covered = max(
        along.line.project(shapely.Point(c)) for c in shapely.get_coordinates(covered)
    )
    [patrol_lead] = [r for r in leads if r.kind == "patrol"]
    assert patrol_lead.upstream_m == pytest.approx(position - nearest_covered, abs=TOLERANCE_M)
    [incident_lead] = [r for r in leads if r.kind == "incident"]
    projected = along.line.project(shapely.Point(along.frame.transform(*near)))
    assert incident_lead.upstream_m == pytest.approx(position - projected, abs=TOLERANCE_M)
    # The uncovered pieces: the rest of the stretch, the nearest at the section itself.
    gaps = [r for r in leads if r.kind == "uncovered"]
    expected = stretch.difference(track.buffer(SETTINGS.coverage_distance_m, quad_segs=64))
    pieces = [
        demo_session.execute(
            text(
                "SELECT ST_AsBinary(ST_LineSubstring(geom, :a, :b)) FROM river_segments"
                " WHERE id = :id"
            ),
            {"id": g.segment_id, "a": g.from_fraction, "b": g.to_fraction},
        ).scalar_one()
        for g in gaps
    ]
    gap_length = sum(along.metres(shapely.from_wkb(bytes(p))).length for p in pieces)
    assert gap_length == pytest.approx(expected.length, abs=2 * TOLERANCE_M)
    assert min(g.upstream_m for g in gaps) == pytest.approx(0.0, abs=TOLERANCE_M)
    # ... and the one above the walk starts where its coverage stops.
    coords = shapely.get_coordinates(covered)
    farthest_covered = min(along.line.project(shapely.Point(c)) for c in coords)
    assert any(
        g.upstream_m == pytest.approx(position - farthest_covered, abs=TOLERANCE_M) for g in gaps
    )
    top_gap = max(g.upstream_m for g in gaps)
    assert top_gap < SETTINGS.water_upstream_m + TOLERANCE_M
