"""Map layers on real PostGIS against shapely/pyproj: river recency, track tiles, border zone,
the meeting pack's figures, and what each side's supervisor gets on the map."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

import mapbox_vector_tile
import numpy as np
import pyproj
import pytest
import shapely
import shapely.ops
from fastapi.testclient import TestClient
from sqlalchemy import event, text
from sqlalchemy.orm import Session

from geo_patrol.access.principal import command_line_principal
from geo_patrol.access.scope import Scope
from geo_patrol.demo.load import DEMO_DATA
from geo_patrol.geography.border_zone import zones_with_border_zone
from geo_patrol.geography.queries import map_jurisdictions
from geo_patrol.meetings.pack_figures import pack_data
from geo_patrol.patrols.coverage import river_recency
from geo_patrol.patrols.queries import patrol_filter
from geo_patrol.patrols.tiles import EXTENT, WORLD_M
from geo_patrol.web.map.filters import MapFilters
from tests.support import oracle
from tests.support.principals import headers_for

BORDER_RIVER = oracle.BORDER_RIVER
WEB_MERCATOR = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True)


def to_utm(geometry: shapely.Geometry) -> shapely.Geometry:
    """Lon/lat -> UTM 51N metres."""
    return shapely.transform(
        geometry, lambda xy: np.column_stack(oracle.UTM51.transform(xy[:, 0], xy[:, 1]))
    )


def border_river() -> shapely.LineString:
    """The demo border river as imported."""
    rivers = json.loads((DEMO_DATA / "rivers.geojson").read_text(encoding="utf-8"))
    geometry = next(
        shapely.geometry.shape(f["geometry"])
        for f in rivers["features"]
        if f["properties"]["code"] == BORDER_RIVER
    )
    return shapely.line_merge(geometry) if geometry.geom_type == "MultiLineString" else geometry


def upload(
    client: TestClient, headers: dict[str, str], team_id: int, lons: np.ndarray, lats: np.ndarray
) -> int:
    """Upload a walk as GPX; returns the patrol id."""
    data = oracle.gpx(lons, lats, oracle.times(len(lons), step_s=2.5))
    response = client.post(
        "/api/v1/patrols",
        headers=headers,
        data={"team_id": str(team_id)},
        files={"file": ("walk.gpx", data)},
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


@dataclass
class Walks:
    """The test's patrols: the joint team along half the border river, and Shengze's own
    team 2.5 km inside Wujiang."""

    river: shapely.LineString
    half: shapely.LineString
    joint: int
    inside: int
    inside_line: shapely.LineString
    headers: dict[str, dict[str, str]]


@pytest.fixture
def walks(demo_client: TestClient, demo_session: Session) -> Walks:
    """Half the border river walked by the joint team, and a walk 2 km inside Wujiang by
    Shengze's own team."""
    headers = headers_for(demo_session)
    team: dict[str, int] = dict(demo_session.execute(text("SELECT name, id FROM teams")).all())
    joint = demo_session.execute(text("SELECT id FROM teams WHERE zone_id IS NOT NULL"))
    river = border_river()
    half = shapely.ops.substring(river, 0, 0.5, normalized=True)
    points = [half.interpolate(f, normalized=True) for f in np.linspace(0, 1, 800)]
    lons, lats = np.array([p.x for p in points]), np.array([p.y for p in points])
    joint_id = upload(demo_client, headers["sz.patrol"], int(joint.scalar_one()), lons, lats)
    inside_lon, inside_lat = oracle.point_off_border_river(2500, "320509")
    wl, wt = oracle.walk(inside_lon, inside_lat, 0.0, 600)
    sz_team = next(v for k, v in team.items() if "盛泽" in k and "联合" not in k)
    inside_id = upload(demo_client, headers["sz.patrol"], int(sz_team), wl, wt)
    return Walks(
        river=river,
        half=shapely.LineString(np.column_stack([lons, lats])),
        joint=joint_id,
        inside=inside_id,
        inside_line=shapely.LineString(np.column_stack([wl, wt])),
        headers=headers,
    )


def test_river_recency_matches_a_buffer_of_the_walk(demo_session: Session, walks: Walks) -> None:
    rows = river_recency(
        demo_session,
        until=MapFilters.default().until,
        visible=patrol_filter(Scope(everything=True)),
    )
    mine = [r for r in rows if r.river_code == BORDER_RIVER]
    by_class = {k: sum(r.length_m for r in mine if r.recency == k) for k in ("1d", "never")}
    river_m, walk_m = to_utm(walks.river), to_utm(walks.half)
    covered = shapely.intersection(river_m, walk_m.buffer(50)).length
    uncovered = shapely.difference(river_m, walk_m.buffer(50)).length
    assert covered > 1000 and uncovered > 1000
    assert abs(by_class["1d"] - covered) / covered < 0.01, (by_class, covered)
    assert abs(by_class["never"] - uncovered) / uncovered < 0.01, (by_class, uncovered)
    assert all(r.recency in ("1d", "never") for r in mine)


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    """The XYZ tile holding a point."""
    x, y = WEB_MERCATOR.transform(lon, lat)
    size = WORLD_M / 2**z
    return int((x + WORLD_M / 2) // size), int((WORLD_M / 2 - y) // size)


def decode(tile: bytes, z: int, x: int, y: int) -> dict[int, shapely.Geometry]:
    """Patrol id -> its lines in Web Mercator metres, from a vector tile."""
    layers = mapbox_vector_tile.decode(tile, default_options={"y_coord_down": True})
    size = WORLD_M / 2**z
    left, top = -WORLD_M / 2 + x * size, WORLD_M / 2 - y * size
    out = {}
    for feature in layers.get("tracks", {"features": []})["features"]:
        geometry = shapely.geometry.shape(feature["geometry"])
        out[int(feature["id"])] = shapely.transform(
            geometry,
            lambda xy: np.column_stack(
                [left + xy[:, 0] * size / EXTENT, top - xy[:, 1] * size / EXTENT]
            ),
        )
    return out


def test_track_tiles_hold_the_tracks_in_scope(demo_client: TestClient, walks: Walks) -> None:
    headers = walks.headers
    inside = walks.inside_line
    z = 15
    centre = inside.interpolate(0.5, normalized=True)
    x, y = tile_of(centre.x, centre.y, z)
    seen = {}
    for who in ("wujiang.sup", "xiuzhou.sup", "sz.lead"):
        response = demo_client.get(f"/tiles/tracks/{z}/{x}/{y}.pbf", headers=headers[who])
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/vnd.mapbox-vector-tile"
        seen[who] = decode(response.content, z, x, y)
    assert walks.inside in seen["wujiang.sup"] and walks.inside in seen["sz.lead"]
    assert walks.inside not in seen["xiuzhou.sup"]
    # Independent: the walk in Web Mercator, clipped to the tile; the tile's lines lie on it
    # within a tile unit, and cover it.
    drawn = seen["wujiang.sup"][walks.inside]
    truth = shapely.transform(
        inside, lambda xy: np.column_stack(WEB_MERCATOR.transform(xy[:, 0], xy[:, 1]))
    )
    size = WORLD_M / 2**z
    left, top = -WORLD_M / 2 + x * size, WORLD_M / 2 - y * size
    box = shapely.box(left, top - size, left + size, top)
    unit = size / EXTENT
    assert shapely.hausdorff_distance(drawn.intersection(box), truth.intersection(box)) < 2 * unit


def test_tiles_follow_the_filters_and_refuse_bad_coordinates(
    demo_client: TestClient, walks: Walks
) -> None:
    headers = walks.headers
    inside = walks.inside_line
    centre = inside.interpolate(0.5, normalized=True)
    x, y = tile_of(centre.x, centre.y, 14)
    url = f"/tiles/tracks/14/{x}/{y}.pbf"
    admin = headers["admin"]
    assert walks.inside in decode(demo_client.get(url, headers=admin).content, 14, x, y)
    old = {"date_from": "2020-01-01", "date_to": "2020-01-31"}
    assert demo_client.get(url, headers=admin, params=old).content == b""
    bad = demo_client.get("/tiles/tracks/3/9/1.pbf", headers=admin)
    assert bad.status_code == 422 and bad.headers["content-type"] == "application/problem+json"
    assert demo_client.get("/tiles/rivers/3/1/1.pbf", headers=admin).status_code == 422


def test_border_zone_is_where_the_other_side_is_within_the_width(demo_session: Session) -> None:
    (zone,) = zones_with_border_zone(demo_session, at=MapFilters.default().until)
    width = zone["border_zone_width_m"]
    drawn = to_utm(shapely.geometry.shape(zone["border_zone"]))
    towns = [to_utm(oracle.polygons()[code][1]) for code in ("320509100", "330411100")]
    counties = [to_utm(oracle.polygons()[code][1]) for code in ("320509", "330411")]
    rng = np.random.default_rng(7)
    box = drawn.envelope.buffer(500)
    minx, miny, maxx, maxy = box.bounds
    checked = 0
    for px, py in rng.uniform([minx, miny], [maxx, maxy], size=(4000, 2)):
        point = shapely.Point(px, py)
        expected = any(
            a.covers(point) and b.distance(point) <= width
            for pair in (towns, counties)
            for a, b in (pair, pair[::-1])
        )
        # 5 m of simplification on the drawn shape: no verdict right at its edge.
        if abs(drawn.boundary.distance(point)) < 8:
            continue
        assert drawn.covers(point) == expected, (px, py)
        checked += 1
    assert checked > 3000


@contextmanager
def recorded(session: Session) -> Iterator[list[str]]:
    """The SQL statements the session's connection sends inside the block."""
    statements: list[str] = []

    def seen(conn: object, cursor: object, statement: str, *args: object) -> None:
        statements.append(statement)

    connection = session.connection()
    event.listen(connection, "before_cursor_execute", seen)
    try:
        yield statements
    finally:
        event.remove(connection, "before_cursor_execute", seen)


def test_border_zone_is_kept_until_what_it_is_made_of_changes(demo_session: Session) -> None:
    """The second drawing runs only the fingerprint; a mutated answer stays the caller's; a
    wider zone is drawn again, wider, at once (its points against the towns themselves)."""
    at = MapFilters.default().until
    with recorded(demo_session) as statements:
        (first,) = zones_with_border_zone(demo_session, at=at)
        first["border_zone"] = None
        statements.clear()
        (again,) = zones_with_border_zone(demo_session, at=at)
        assert again["border_zone"] is not None
        assert not any("ST_Buffer" in statement for statement in statements)
        demo_session.execute(
            text("UPDATE cooperation_zones SET border_zone_width_m = border_zone_width_m + 400")
        )
        statements.clear()
        (wider,) = zones_with_border_zone(demo_session, at=at)
        assert any("ST_Buffer" in statement for statement in statements)
    assert wider["border_zone_width_m"] == again["border_zone_width_m"] + 400
    narrow = to_utm(shapely.geometry.shape(again["border_zone"]))
    wide = to_utm(shapely.geometry.shape(wider["border_zone"]))
    towns = [to_utm(oracle.polygons()[code][1]) for code in ("320509100", "330411100")]
    # A point of Shengze 400 m from Wangjiangjing: outside the old band, inside the new one.
    probe = towns[0].intersection(towns[1].buffer(410).difference(towns[1].buffer(390)))
    point = probe.representative_point()
    assert not narrow.covers(point) and wide.covers(point)


def test_the_maps_boundaries_are_kept_until_a_version_changes(demo_session: Session) -> None:
    """The second drawing simplifies nothing; a corrected boundary is drawn at once (its
    new shape against shapely's)."""
    at = MapFilters.default().until
    with recorded(demo_session) as statements:
        map_jurisdictions(demo_session, at=at)
        statements.clear()
        before = {j["code"]: j for j in map_jurisdictions(demo_session, at=at)}
        assert not any("ST_SimplifyPreserveTopology" in s for s in statements)
        demo_session.execute(
            text(
                "UPDATE jurisdictions SET geom = ST_Multi(ST_Buffer(ST_Centroid(geom), 0.01, 4)),"
                " geom_hash = 'moved' WHERE code = '320509100' AND valid_to IS NULL"
            )
        )
        statements.clear()
        after = {j["code"]: j for j in map_jurisdictions(demo_session, at=at)}
        assert any("ST_SimplifyPreserveTopology" in s for s in statements)
    town = shapely.geometry.shape(after["320509100"]["geometry"])
    old = shapely.geometry.shape(before["320509100"]["geometry"])
    assert town.area == pytest.approx(shapely.Point(0, 0).buffer(0.01, 4).area, rel=1e-3)
    assert not town.equals(old)
    assert after["330411100"] == before["330411100"]


def test_meeting_pack_figures_match_shapely(demo_session: Session, walks: Walks) -> None:
    principal = command_line_principal()
    filters = MapFilters.default(zone="ZONE-SZ-WJJ")
    pack = pack_data(
        demo_session, scope=Scope(everything=True), principal=principal, filters=filters
    )
    half = walks.half
    coords = np.asarray(half.coords)
    expected = oracle.lengths_by_code(coords[:, 0], coords[:, 1], ["320509", "330411"])
    effort = {e["code"]: e for e in pack.effort}
    # The joint walk only: the 2.5 km-inside walk is Wujiang's too; add it independently.
    inside = walks.inside_line
    inner = np.asarray(inside.coords)
    expected["320509"] += oracle.lengths_by_code(inner[:, 0], inner[:, 1], ["320509"])["320509"]
    assert demo_session.execute(text("SELECT count(*) FROM patrols")).scalar_one() == 2
    for code, metres in expected.items():
        got = effort[code]["km"] * 1000
        assert abs(got - metres) / metres < 0.005, (code, got, metres)
    # Wujiang and Shengze: the joint team's walk and Shengze's own (which lies in Shengze);
    # Xiuzhou and Wangjiangjing: the joint walk only.
    assert oracle.polygons()["320509100"][1].contains(inside)
    counts = {code: (e["patrols"], e["joint_patrols"]) for code, e in effort.items()}
    assert counts == {
        "320509": (2, 1),
        "320509100": (2, 1),
        "330411": (1, 1),
        "330411100": (1, 1),
    }
    river = next(c for c in pack.coverage if c.code == BORDER_RIVER)
    river_m, walk_m = to_utm(walks.river), to_utm(walks.half)
    gaps = shapely.difference(river_m, walk_m.buffer(50))
    longest = max(g.length for g in getattr(gaps, "geoms", [gaps]))
    assert abs(river.longest_gap_m - longest) / longest < 0.01, (river.longest_gap_m, longest)
    assert abs(river.length_m - river_m.length) / river_m.length < 0.01


def test_each_side_sees_its_own_incidents_on_the_map(
    demo_client: TestClient, demo_session: Session
) -> None:
    headers = headers_for(demo_session)
    lon, lat = oracle.point_off_border_river(2500, "320509")
    created = demo_client.post(
        "/api/v1/incidents",
        headers=headers["wujiang.sup"],
        json={"category": "floating_waste", "lon": lon, "lat": lat, "severity": "low"},
    )
    assert created.status_code == 201, created.text
    marker = f'"/incidents/{created.json()["id"]}?lang=zh"'
    html = {
        who: demo_client.get("/map", headers=headers[who]).text
        for who in ("wujiang.sup", "xiuzhou.sup")
    }
    assert marker in html["wujiang.sup"]
    assert marker not in html["xiuzhou.sup"]
    for page in html.values():
        assert "cdn." not in page and "unpkg.com" not in page and "cdnjs" not in page


def test_meeting_pack_download_is_self_contained(
    demo_client: TestClient, demo_session: Session
) -> None:
    headers = headers_for(demo_session)
    today = MapFilters.default().date_to
    response = demo_client.get(
        "/api/v1/meeting-pack",
        headers=headers["zone.coord"],
        params={
            "zone": "ZONE-SZ-WJJ",
            "from": str(today - timedelta(days=6)),
            "to": str(today),
            "lang": "en",
        },
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-disposition"].startswith("attachment;")
    page = response.text
    assert "<script src=" not in page and 'rel="stylesheet" href=' not in page
    assert "/static/vendor" not in page and "Joint enforcement meeting pack" in page
    assert "@page {size: A4 landscape" in page
    unknown = demo_client.get(
        "/api/v1/meeting-pack", headers=headers["zone.coord"], params={"zone": "NOPE"}
    )
    assert unknown.status_code == 404 and "zone" in unknown.json()["detail"]
