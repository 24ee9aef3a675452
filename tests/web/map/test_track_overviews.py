"""Track overviews (patrols/overviews.py): written by the upload and live paths, within their
tolerance of the track (shapely's Hausdorff distance in UTM 51N), and what the low-zoom
tiles draw (the same features and fields as the full track's tiles, within half a pixel
of the track in Web Mercator)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pyproj
import pytest
import shapely
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_patrol.core.settings import Settings
from geo_patrol.patrols.live.store import refresh_stale_patrols
from geo_patrol.patrols.tiles import EXTENT, TRACK_FIELDS, WORLD_M
from tests.support import oracle
from tests.support.principals import SZ_PHONE_TOKEN, headers_for
from tests.web.map.test_map_layers import decode, tile_of

WEB_MERCATOR = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True)
LEVELS = (9, 11, 13)  # the deepest zoom each overview serves, as the design says
START = (120.64, 30.93)  # inside Wujiang, in Shengze


def wiggly_walk(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """n fixes 1.5 m apart heading east, swinging 40 m either side every 300 m, with 3 m of
    noise drifting every 20 fixes (a receiver's error)."""
    lons, lats = oracle.walk(*START, 90.0, n * 1.5)
    lons, lats = lons[:n], lats[:n]
    rng = np.random.default_rng(seed)
    swing = 40 * np.sin(2 * np.pi * np.arange(n) * 1.5 / 300)
    drift = np.repeat(rng.normal(0, 3, (n // 20 + 1, 2)), 20, axis=0)[:n]
    return lons + drift[:, 0] / 95_500, lats + (swing + drift[:, 1]) / 110_900


def tolerance_m(max_zoom: int) -> float:
    """A quarter pixel at max_zoom on the ground at 55 N, in metres (a degree of latitude is
    at most 111.7 km: the bound on a simplification made in degrees)."""
    return float(WORLD_M / 2**max_zoom / 256 / 4 * math.cos(math.radians(55)) / 111_320 * 111_700)


def utm(geometry: shapely.Geometry) -> shapely.Geometry:
    """Lon/lat -> UTM 51N metres."""
    return shapely.transform(
        geometry, lambda xy: np.column_stack(oracle.UTM51.transform(xy[:, 0], xy[:, 1]))
    )


def lines(
    session: Session, patrol_id: int
) -> tuple[shapely.LineString, dict[int, shapely.Geometry]]:
    """The patrol's track and its overviews by level."""
    track = session.execute(
        text("SELECT ST_AsBinary(track) FROM patrols WHERE id = :p"), {"p": patrol_id}
    ).scalar_one()
    rows = session.execute(
        text("SELECT max_zoom, ST_AsBinary(geom) FROM patrol_overviews WHERE patrol_id = :p"),
        {"p": patrol_id},
    ).all()
    return shapely.from_wkb(bytes(track)), {z: shapely.from_wkb(bytes(g)) for z, g in rows}


def assert_overviews_of(session: Session, patrol_id: int) -> dict[int, shapely.Geometry]:
    """Every level is there, simplified, and within its tolerance of the track."""
    track, overviews = lines(session, patrol_id)
    assert sorted(overviews) == list(LEVELS)
    counts = [shapely.get_num_points(overviews[z]) for z in LEVELS]
    assert counts == sorted(counts) and counts[0] < shapely.get_num_points(track) / 5, counts
    for z in LEVELS:
        distance = shapely.hausdorff_distance(utm(overviews[z]), utm(track), densify=0.1)
        assert distance <= tolerance_m(z), (z, distance, tolerance_m(z))
    return overviews


def upload(client: TestClient, session: Session, lons: np.ndarray, lats: np.ndarray) -> int:
    """Upload a walk as GPX for Shengze's own team; the patrol id."""
    team = session.execute(
        text("SELECT id FROM teams WHERE name LIKE '%盛泽%' AND zone_id IS NULL")
    ).scalar_one()
    data = oracle.gpx(lons, lats, oracle.times(len(lons), step_s=1.0))
    response = client.post(
        "/api/v1/patrols",
        headers=headers_for(session)["sz.patrol"],
        data={"team_id": str(team)},
        files={"file": ("walk.gpx", data)},
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def test_an_upload_writes_its_overviews(demo_client: TestClient, demo_session: Session) -> None:
    lons, lats = wiggly_walk(3000, seed=1)
    patrol_id = upload(demo_client, demo_session, lons, lats)
    assert_overviews_of(demo_session, patrol_id)


def send(client: TestClient, lons: np.ndarray, lats: np.ndarray, when: list[datetime]) -> None:
    """Positions as Traccar Client posts a buffer of them, in one request."""
    locations = [
        {
            "timestamp": at.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "coords": {"latitude": lat, "longitude": lon, "accuracy": 5.0},
            "is_moving": True,
        }
        for lon, lat, at in zip(lons, lats, when, strict=True)
    ]
    body = {"device_id": SZ_PHONE_TOKEN, "location": locations}
    assert client.post("/osmand", json=body).status_code == 200


def test_live_positions_keep_the_overviews_up_to_date(
    demo_client: TestClient, demo_session: Session, database_url: str
) -> None:
    lons, lats = wiggly_walk(600, seed=2)  # 900 m
    when = oracle.times(len(lons), start=datetime.now(UTC) - timedelta(hours=1), step_s=1.0)
    settings = Settings(database_url=database_url)
    send(demo_client, lons[:300], lats[:300], when[:300])
    refresh_stale_patrols(demo_session, settings=settings)
    patrol_id = demo_session.execute(
        text("SELECT id FROM patrols WHERE source = 'live'")
    ).scalar_one()
    first = assert_overviews_of(demo_session, patrol_id)
    send(demo_client, lons[300:], lats[300:], when[300:])
    refresh_stale_patrols(demo_session, settings=settings)
    later = assert_overviews_of(demo_session, patrol_id)
    # Douglas-Peucker keeps the ends: the overview now ends where the walk does.
    for z in LEVELS:
        assert shapely.get_coordinates(first[z])[-1] == pytest.approx([lons[299], lats[299]])
        assert shapely.get_coordinates(later[z])[-1] == pytest.approx([lons[-1], lats[-1]])


def features(
    client: TestClient, headers: dict[str, str], z: int, x: int, y: int
) -> list[dict[str, Any]]:
    """The raw features of a track tile."""
    import mapbox_vector_tile

    body = client.get(f"/tiles/tracks/{z}/{x}/{y}.pbf", headers=headers).content
    found = mapbox_vector_tile.decode(body, default_options={"y_coord_down": True})
    return list(found.get("tracks", {"features": []})["features"])


def test_low_zoom_tiles_draw_the_overviews_with_the_same_fields(
    demo_client: TestClient, demo_session: Session
) -> None:
    lons, lats = wiggly_walk(3000, seed=3)
    patrol_id = upload(demo_client, demo_session, lons, lats)
    headers = headers_for(demo_session)["wujiang.sup"]
    truth = shapely.transform(
        shapely.LineString(np.column_stack([lons, lats])),
        lambda xy: np.column_stack(WEB_MERCATOR.transform(xy[:, 0], xy[:, 1])),
    )
    middle = len(lons) // 2
    seen = {}
    for z in (8, 10, 12, 15):  # overviews 9, 11, 13; the track itself at 15
        x, y = tile_of(lons[middle], lats[middle], z)
        mine = [f for f in features(demo_client, headers, z, x, y) if f["id"] == patrol_id]
        assert len(mine) == 1, z
        seen[z] = mine[0]["properties"]
        drawn = decode(
            demo_client.get(f"/tiles/tracks/{z}/{x}/{y}.pbf", headers=headers).content, z, x, y
        )[patrol_id]
        size = WORLD_M / 2**z
        left, top = -WORLD_M / 2 + x * size, WORLD_M / 2 - y * size
        box = shapely.box(left, top - size, left + size, top)
        # Half a pixel (overview and tile simplification), plus the tile grid's rounding.
        bound = size / 256 / 2 + 2 * size / EXTENT
        distance = shapely.hausdorff_distance(drawn.intersection(box), truth.intersection(box))
        assert distance < bound, (z, distance, bound)
    assert all(set(p) == set(TRACK_FIELDS) for p in seen.values())
    assert all(p == seen[15] for p in seen.values())
    # The low zooms draw the overviews: an overview moved 2 km north moves the line drawn
    # at its zooms (10, 11) only.
    demo_session.execute(
        text(
            "UPDATE patrol_overviews SET geom = ST_Translate(geom, 0, 0.018) "
            "WHERE patrol_id = :p AND max_zoom = 11"
        ),
        {"p": patrol_id},
    )
    for z in (8, 10, 12, 15):
        x, y = tile_of(lons[middle], lats[middle] + 0.018, z)
        tile = demo_client.get(f"/tiles/tracks/{z}/{x}/{y}.pbf", headers=headers).content
        moved = decode(tile, z, x, y).get(patrol_id)
        north = WEB_MERCATOR.transform(lons[middle], lats[middle] + 0.018)
        near = moved is not None and moved.distance(shapely.Point(north)) < 100
        assert near is (z == 10), z


def test_tiles_are_planned_for_their_box_and_the_service_never_jit_compiles(
    demo_session: Session, database_url: str
) -> None:
    """A tile is planned for its own box each time (a generic plan read a year of patrols for
    a month's tile, 2.6 s instead of 0.2 s), and the service's connections have no JIT (it
    compiled the map's queries for seconds once a year of patrols was stored)."""
    from geo_patrol.access.scope import Scope
    from geo_patrol.db.engine import Timeouts, make_engine
    from geo_patrol.patrols.queries import patrol_filter
    from geo_patrol.patrols.tiles import track_tile

    track_tile(demo_session, z=10, x=855, y=418, visible=patrol_filter(Scope(everything=True)))
    mode = demo_session.execute(text("SHOW plan_cache_mode")).scalar_one()
    assert mode == "force_custom_plan"
    engine = make_engine(database_url, Timeouts.of(Settings(database_url=database_url)))
    try:
        with engine.connect() as connection:
            assert connection.execute(text("SHOW jit")).scalar_one() == "off"
    finally:
        engine.dispose()
