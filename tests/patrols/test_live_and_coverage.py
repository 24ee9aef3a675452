"""Live positions replayed out of order, and river coverage, against independent computations."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import numpy as np
import shapely
import shapely.ops
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_patrol.core.settings import Settings
from geo_patrol.demo.load import DEMO_DATA
from geo_patrol.patrols.live.store import refresh_stale_patrols
from tests.support import oracle
from tests.support.principals import SZ_PHONE_TOKEN

BORDER_RIVER = "R-320509-330411-01"


def iso(when: datetime) -> str:
    """ISO 8601 UTC as Traccar Client sends it."""
    return when.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def traccar_json(lon: float, lat: float, when: datetime) -> dict[str, object]:
    """One location as Traccar Client 9 posts it."""
    return {
        "timestamp": iso(when),
        "coords": {
            "latitude": lat,
            "longitude": lon,
            "accuracy": 5.0,
            "speed": 1.2,
            "heading": 90,
            "altitude": 3,
        },
        "battery": {"level": 0.8, "is_charging": False},
        "is_moving": True,
    }


def test_replayed_buffer_ends_as_one_ordered_patrol(
    demo_client: TestClient, demo_session: Session, database_url: str
) -> None:
    town = shapely.point_on_surface(oracle.polygons()["320509100"][1])
    lons, lats = oracle.walk(town.x, town.y, 30, 600, step_m=10)
    when = oracle.times(len(lons), start=datetime.now(UTC) - timedelta(hours=1), step_s=5)
    n = len(lons)
    for i in range(20):  # online: OsmAnd query form, in order
        query = {
            "id": SZ_PHONE_TOKEN,
            "lat": f"{lats[i]:.7f}",
            "lon": f"{lons[i]:.7f}",
            "timestamp": str(int(when[i].timestamp())),
            "speed": "2.3",
            "accuracy": "5",
        }
        assert demo_client.get("/osmand", params=query).status_code == 200
    late = [traccar_json(lons[i], lats[i], when[i]) for i in range(40, n)]
    body = {"device_id": SZ_PHONE_TOKEN, "location": late}
    assert demo_client.post("/osmand", json=body).status_code == 200
    buffered = [traccar_json(lons[i], lats[i], when[i]) for i in reversed(range(20, 40))]
    buffered += [traccar_json(lons[i], lats[i], when[i]) for i in range(10, 16)]  # replayed twice
    body = {"device_id": SZ_PHONE_TOKEN, "location": buffered}
    assert demo_client.post("/osmand", json=body).status_code == 200
    refresh_stale_patrols(demo_session, settings=Settings(database_url=database_url))
    patrols = demo_session.execute(
        text("SELECT id, points_raw, points_kept, length_m FROM patrols")
    ).all()
    assert len(patrols) == 1 and patrols[0].points_raw == n
    times = (
        demo_session.execute(
            text(
                "SELECT time FROM patrol_points WHERE patrol_id = :p AND ord IS NOT NULL "
                "ORDER BY ord"
            ),
            {"p": patrols[0].id},
        )
        .scalars()
        .all()
    )
    assert times == sorted(times) and len(times) == n
    reference = oracle.GEOD.geometry_length(shapely.LineString(np.column_stack([lons, lats])))
    assert abs(patrols[0].length_m - reference) / reference < 0.005


def test_unknown_device_gets_plain_400(demo_client: TestClient) -> None:
    response = demo_client.post("/osmand", params={"id": "gpd_nobody", "lat": 30.9, "lon": 120.6})
    assert response.status_code == 400 and response.content == b""
    missing = demo_client.get("/osmand", params={"lat": 30.9, "lon": 120.6})
    assert missing.status_code == 400


def test_uncovered_stretches_are_the_part_nobody_walked(
    demo_client: TestClient, demo_session: Session, headers: dict[str, dict[str, str]]
) -> None:
    rivers = json.loads((DEMO_DATA / "rivers.geojson").read_text(encoding="utf-8"))
    river = next(
        shapely.geometry.shape(f["geometry"])
        for f in rivers["features"]
        if f["properties"]["code"] == BORDER_RIVER
    )
    half = shapely.ops.substring(river, 0, 0.5, normalized=True)
    steps = np.linspace(0, 1, 800)
    walked = [half.interpolate(f, normalized=True) for f in steps]
    lons, lats = np.array([p.x for p in walked]), np.array([p.y for p in walked])
    joint = int(
        demo_session.execute(text("SELECT id FROM teams WHERE zone_id IS NOT NULL")).scalar_one()
    )
    data = oracle.gpx(lons, lats, oracle.times(len(lons), step_s=2.5))
    response = demo_client.post(
        "/api/v1/patrols",
        headers=headers["sz.patrol"],
        data={"team_id": str(joint)},
        files={"file": ("walk.gpx", data)},
    )
    assert response.status_code == 201, response.text
    gaps = demo_client.get(
        "/api/v1/coverage/uncovered",
        params={"river": BORDER_RIVER, "days": 7},
        headers=headers["zone.coord"],
    ).json()
    uncovered = sum(f["properties"]["length_m"] for f in gaps["features"])
    # Independent: the river minus a 50 m buffer of the walked line, in UTM 51N metres.
    to_utm = oracle.UTM51.transform
    river_m = shapely.transform(river, lambda xy: np.column_stack(to_utm(xy[:, 0], xy[:, 1])))
    track_m = shapely.transform(
        shapely.LineString(np.column_stack([lons, lats])),
        lambda xy: np.column_stack(to_utm(xy[:, 0], xy[:, 1])),
    )
    expected = shapely.difference(river_m, track_m.buffer(50)).length
    assert expected > 1000
    assert abs(uncovered - expected) / expected < 0.01, (uncovered, expected)
    assert all(f["geometry"]["type"] == "LineString" for f in gaps["features"])
    # Pages of one gap, followed by their links, are the same gaps (a page's cursor holds
    # a gap's exact start along its segment).
    walked, url = [], "/api/v1/coverage/uncovered?days=7&limit=1&river=" + BORDER_RIVER
    while url:
        page = demo_client.get(url, headers=headers["zone.coord"]).json()
        walked += page["features"]
        url = page["links"][0]["href"] if page["links"] else ""
    assert walked == gaps["features"]
