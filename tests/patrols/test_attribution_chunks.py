"""Attribution by chunks: whole chunks and fixes matched one by one give the answers an
independent shapely/pyproj computation gives, for walks that meander across a border,
leave every jurisdiction, or carry no times."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import shapely
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_patrol.patrols.attribution import CHUNK_LEGS, attribute_patrol
from tests.support import oracle
from tests.support.oracle import assert_like_shapely, meander
from tests.support.uploads import upload_as_admin

COUNTIES = ["320509", "330411"]


def gpx_without_times(lons: np.ndarray, lats: np.ndarray) -> bytes:
    """A GPX 1.1 track whose points have no <time>."""
    points = "".join(
        f'<trkpt lat="{lat:.7f}" lon="{lon:.7f}"></trkpt>'
        for lon, lat in zip(lons, lats, strict=True)
    )
    return (
        '<?xml version="1.0"?><gpx version="1.1" creator="test" '
        'xmlns="http://www.topografix.com/GPX/1/1">'
        f"<trk><trkseg>{points}</trkseg></trk></gpx>"
    ).encode()


def county_rows(session: Session, patrol_id: int) -> dict[str, tuple[float, float | None]]:
    """code -> (metres, seconds) of the patrol's counties."""
    rows = session.execute(
        text(
            "SELECT code, length_m, duration_s FROM patrol_jurisdictions "
            "WHERE patrol_id = :p AND level = 'county'"
        ),
        {"p": patrol_id},
    )
    return {code: (metres, seconds) for code, metres, seconds in rows}


def test_meander_uses_both_paths_and_matches_shapely(
    demo_client: TestClient, demo_session: Session
) -> None:
    lons, lats = meander(6000, amplitude_m=150.0, wavelength_m=2500.0)
    when = oracle.times(len(lons), start=datetime(2026, 11, 20, 1, tzinfo=UTC), step_s=1.2)
    patrol_id = upload_as_admin(demo_client, demo_session, oracle.gpx(lons, lats, when))
    got = county_rows(demo_session, patrol_id)
    assert_like_shapely(got, lons, lats)
    total_s = (when[-1] - when[0]).total_seconds()
    assert abs(sum(seconds or 0 for _, seconds in got.values()) - total_s) < 1.0
    # Read back and attributed again in this transaction: both paths were taken.
    attribute_patrol(demo_session, patrol_id=patrol_id)
    chunks = demo_session.execute(text("SELECT count(*) FROM chunks")).scalar_one()
    whole = demo_session.execute(text("SELECT count(*) FROM chunk_leaves")).scalar_one()
    one_by_one = demo_session.execute(text("SELECT count(*) FROM fixes")).scalar_one()
    assert chunks == -(-(len(lons) - 1) // CHUNK_LEGS)
    assert 0 < whole < chunks
    assert 0 < one_by_one < len(lons)
    again = county_rows(demo_session, patrol_id)
    assert again.keys() == got.keys()
    for code, (metres, _) in got.items():
        assert abs(again[code][0] - metres) < 1e-6
    demo_session.rollback()


def test_walk_out_of_every_jurisdiction_counts_only_the_inside(
    demo_client: TestClient, demo_session: Session
) -> None:
    region = shapely.union_all([oracle.polygons()[code][1] for code in COUNTIES])
    east = max(shapely.get_coordinates(region.exterior), key=lambda xy: xy[0])
    lons, lats = oracle.walk(float(east[0]), float(east[1]), 90.0, 3000.0)
    when = oracle.times(len(lons), start=datetime(2026, 11, 20, 3, tzinfo=UTC), step_s=1.2)
    patrol_id = upload_as_admin(demo_client, demo_session, oracle.gpx(lons, lats, when))
    expected = {k: v for k, v in oracle.lengths_by_code(lons, lats, COUNTIES).items() if v > 1}
    assert expected and sum(expected.values()) < 0.75 * 3000  # really leaves the region
    got = county_rows(demo_session, patrol_id)
    assert set(got) == set(expected)
    for code, metres in expected.items():
        assert abs(got[code][0] - metres) / metres < 0.005, code


def test_track_without_times_gets_metres_and_no_seconds(
    demo_client: TestClient, demo_session: Session
) -> None:
    lons, lats = meander(800, amplitude_m=120.0, wavelength_m=900.0)
    patrol_id = upload_as_admin(demo_client, demo_session, gpx_without_times(lons, lats))
    got = county_rows(demo_session, patrol_id)
    assert_like_shapely(got, lons, lats)
    for code in COUNTIES:
        assert not got[code][1]  # no times: no seconds (NULL or 0), never made up


def test_patrol_a_year_ago_is_attributed_the_same(
    demo_client: TestClient, demo_session: Session
) -> None:
    lons, lats = meander(500, amplitude_m=100.0, wavelength_m=900.0)
    when = oracle.times(len(lons), start=datetime(2025, 10, 20, 1, tzinfo=UTC), step_s=1.2)
    patrol_id = upload_as_admin(demo_client, demo_session, oracle.gpx(lons, lats, when))
    assert_like_shapely(county_rows(demo_session, patrol_id), lons, lats)
