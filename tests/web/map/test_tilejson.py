"""TileJSON 3.0 and the MapLibre style of the track tiles, read as a GIS client reads them.

The TileJSON is held to the TileJSON 3.0.0 specification's fields (a schema written here from
the spec), its bounds to shapely's box of the walks the caller may see, and the tiles it
points at are fetched at its declared zooms over its bounds and decoded by two decoders that
are not ours: mapbox-vector-tile (layer names, attributes and value types against
`vector_layers`) and GDAL's MVT driver through pyogrio (georeferenced in EPSG:3857: every
feature inside its tile and its buffer, on the walk pyproj projects).
"""

from __future__ import annotations

import base64
import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jsonschema_rs
import mapbox_vector_tile
import numpy as np
import pyogrio.raw
import pyproj
import pytest
import shapely
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_patrol.accounts.members import issue_api_token
from geo_patrol.core.vocabulary import TokenScope
from geo_patrol.geography.queries import Extent
from geo_patrol.web.map.tilejson import center_zoom
from tests.support import oracle
from tests.support.principals import headers_for, member_id

BASE = "http://testserver"
# March 2021: only this test's walks are in it (the demo's patrols are recent).
PERIOD = {"date_from": "2021-03-01", "date_to": "2021-03-31"}
START = datetime(2021, 3, 10, 1, 0, tzinfo=UTC)
WEB_MERCATOR = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True)
HALF_WORLD_M = WEB_MERCATOR.transform(180.0, 0.0)[0]  # x of the antimeridian
EXTENT, BUFFER = 4096, 64  # the MVT grid and margin every vector tile server documents
# Within this of the truth: PostGIS keeps a box in single precision (7 decimal digits).
DEGREE_SLACK = 1e-4
PYTHON_TYPES = {"Number": (int, float), "String": (str,), "Boolean": (bool,)}

# TileJSON 3.0.0 (github.com/mapbox/tilejson-spec/tree/master/3.0.0), sections 3.1-3.19:
# required tilejson, tiles and (for vector tiles) vector_layers; the types and ranges of the
# optional fields.
ZOOM = {"type": "integer", "minimum": 0, "maximum": 30}
TILEJSON_3 = {
    "type": "object",
    "required": ["tilejson", "tiles", "vector_layers"],
    "properties": {
        "tilejson": {"type": "string", "pattern": r"^3\.\d+\.\d+\w?[\w\d]*$"},
        "tiles": {"type": "array", "minItems": 1, "items": {"type": "string"}},
        "vector_layers": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["id", "fields"],
                "properties": {
                    "id": {"type": "string"},
                    "fields": {"type": "object", "additionalProperties": {"type": "string"}},
                    "description": {"type": "string"},
                    "minzoom": ZOOM,
                    "maxzoom": ZOOM,
                },
            },
        },
        "attribution": {"type": "string"},
        "bounds": {
            "type": "array",
            "prefixItems": [
                {"type": "number", "minimum": -180, "maximum": 180},
                {"type": "number", "minimum": -90, "maximum": 90},
                {"type": "number", "minimum": -180, "maximum": 180},
                {"type": "number", "minimum": -90, "maximum": 90},
            ],
            "minItems": 4,
            "maxItems": 4,
        },
        "center": {
            "type": "array",
            "prefixItems": [
                {"type": "number", "minimum": -180, "maximum": 180},
                {"type": "number", "minimum": -90, "maximum": 90},
                ZOOM,
            ],
            "minItems": 3,
            "maxItems": 3,
        },
        "data": {"type": "array", "items": {"type": "string"}},
        "description": {"type": "string"},
        "fillzoom": ZOOM,
        "grids": {"type": "array", "items": {"type": "string"}},
        "legend": {"type": "string"},
        "maxzoom": ZOOM,
        "minzoom": ZOOM,
        "name": {"type": "string"},
        "scheme": {"enum": ["xyz", "tms"]},
        "template": {"type": "string"},
        "version": {"type": "string", "pattern": r"^\d+\.\d+\.\d+\w?[\w\d]*$"},
    },
}


@dataclass
class Walks:
    """Two walks of March 2021: Shengze's team on foot 2.5 km inside Wujiang, Wangjiangjing's
    by boat 2.5 km inside Xiuzhou; patrol id -> line."""

    lines: dict[int, shapely.LineString]
    wujiang: int
    xiuzhou: int
    headers: dict[str, dict[str, str]]


def _upload(
    client: TestClient, headers: dict[str, str], team: int, mode: str, side: str
) -> tuple[int, shapely.LineString]:
    """A 600 m walk 2.5 km from the border river in county `side`; its id and line."""
    lon, lat = oracle.point_off_border_river(2500, side)
    lons, lats = oracle.walk(lon, lat, 30.0, 600)
    response = client.post(
        "/api/v1/patrols",
        headers=headers,
        data={"team_id": str(team), "mode": mode},
        files={"file": ("walk.gpx", oracle.gpx(lons, lats, oracle.times(len(lons), START)))},
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"]), shapely.LineString(np.column_stack([lons, lats]))


@pytest.fixture
def walks(demo_client: TestClient, demo_session: Session) -> Walks:
    """The two walks, uploaded by a patrol member of each side."""
    headers = headers_for(demo_session)
    team: dict[str, int] = dict(demo_session.execute(text("SELECT name, id FROM teams")).all())
    wujiang, a = _upload(demo_client, headers["sz.patrol"], team["盛泽巡河队"], "foot", "320509")
    xiuzhou, b = _upload(demo_client, headers["wjj.patrol"], team["王江泾巡河队"], "boat", "330411")
    return Walks({wujiang: a, xiuzhou: b}, wujiang, xiuzhou, headers)


def _get(client: TestClient, url: str, headers: dict[str, str]) -> Any:
    """GET an absolute URL of the service through the test client."""
    assert url.startswith(BASE + "/"), url
    return client.get(url.removeprefix(BASE), headers=headers)


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    """The XYZ tile holding a point (pyproj's Web Mercator)."""
    x, y = WEB_MERCATOR.transform(lon, lat)
    size = 2 * HALF_WORLD_M / 2**z
    return int((x + HALF_WORLD_M) // size), int((HALF_WORLD_M - y) // size)


def tile_box(z: int, x: int, y: int, margin: float = 0) -> shapely.Polygon:
    """A tile in EPSG:3857 metres, grown by `margin` of its width on each side."""
    size = 2 * HALF_WORLD_M / 2**z
    left, top = -HALF_WORLD_M + x * size, HALF_WORLD_M - y * size
    grow = margin * size
    return shapely.box(left - grow, top - size - grow, left + size + grow, top + grow)


def in_gdal(tile: bytes, z: int, x: int, y: int, folder: Path) -> dict[str, Any]:
    """GDAL's reading of a tile: layer name -> (field names, features' geometries in 3857,
    feature ids)."""
    path = folder / f"{z}-{x}-{y}.pbf"
    path.write_bytes(tile)
    out = {}
    for name, _kind in pyogrio.list_layers(path):
        meta, _, geometries, values = pyogrio.raw.read(
            path, layer=name, X=str(x), Y=str(y), Z=str(z), CLIP="NO"
        )
        assert meta["crs"] == "EPSG:3857"
        ids = dict(zip(meta["fields"], values, strict=True))["mvt_id"]
        out[name] = (set(meta["fields"]), shapely.from_wkb(geometries), [int(i) for i in ids])
    return out


def _check_tile(
    tile: bytes, z: int, x: int, y: int, document: dict[str, Any], folder: Path
) -> dict[int, dict[str, Any]]:
    """Hold a tile to the TileJSON's vector_layers with both decoders; patrol id ->
    attributes."""
    layers = {layer["id"]: layer["fields"] for layer in document["vector_layers"]}
    if not tile:  # nothing in it: an empty answer, as PostGIS's ST_AsMVT of no rows
        return {}
    decoded = mapbox_vector_tile.decode(tile)
    assert set(decoded) == set(layers)
    found = {}
    for name, layer in decoded.items():
        assert layer["extent"] == EXTENT
        for feature in layer["features"]:
            assert set(feature["properties"]) == set(layers[name])
            for field, kind in layers[name].items():
                assert isinstance(feature["properties"][field], PYTHON_TYPES[kind]), field
            found[int(feature["id"])] = feature["properties"]
    read = in_gdal(tile, z, x, y, folder)
    assert set(read) == set(layers)
    inside = tile_box(z, x, y, margin=BUFFER / EXTENT)
    for name, (fields, geometries, ids) in read.items():
        assert fields == set(layers[name]) | {"mvt_id"}
        assert all(inside.covers(g) for g in geometries), (z, x, y)
        assert sorted(ids) == sorted(found)
    return found


def test_tilejson_describes_the_tiles_each_caller_gets(
    demo_client: TestClient, walks: Walks, tmp_path: Path
) -> None:
    for who, expected in (("admin", set(walks.lines)), ("xiuzhou.sup", {walks.xiuzhou})):
        headers = walks.headers[who]
        answer = demo_client.get("/tiles/tracks.json", params=PERIOD, headers=headers)
        assert answer.status_code == 200, answer.text
        document = answer.json()
        assert not list(jsonschema_rs.Draft202012Validator(TILEJSON_3).iter_errors(document))
        assert document["tilejson"] == "3.0.0" and document["scheme"] == "xyz"
        (template,) = document["tiles"]
        url = urlsplit(template)
        assert f"{url.scheme}://{url.netloc}" == BASE
        assert url.path == "/tiles/tracks/{z}/{x}/{y}.pbf"
        assert {k: v for k, (v,) in parse_qs(url.query).items()} == PERIOD
        # The bounds: shapely's box of exactly the walks this caller may see.
        truth = shapely.union_all([walks.lines[i] for i in expected]).bounds
        assert np.allclose(document["bounds"], truth, atol=DEGREE_SLACK), (who, document)
        west, south, east, north = document["bounds"]
        lon, lat, zoom = document["center"]
        assert west <= lon <= east and south <= lat <= north
        assert document["minzoom"] <= zoom <= document["maxzoom"]
        assert document["minzoom"] == 0 and document["maxzoom"] >= 16
        # The tile under each visible walk at the declared zooms, decoded independently: the
        # walk is in it (except at minzoom, where a tile spans the world and a 600 m walk is
        # less than its grid's unit), the other side's walk never.
        for z in (document["minzoom"], 10, zoom, document["maxzoom"]):
            for patrol in expected:
                point = walks.lines[patrol].interpolate(0.5, normalized=True)
                x, y = tile_of(point.x, point.y, z)
                tile = _get(demo_client, template.format(z=z, x=x, y=y), headers)
                assert tile.status_code == 200
                found = _check_tile(tile.content, z, x, y, document, tmp_path)
                assert patrol in found or z == document["minzoom"] < 7, (who, z)
                assert not set(walks.lines) - expected & set(found)
        # Beyond the bounds there is nothing, at the deepest zoom.
        z = document["maxzoom"]
        x, y = tile_of(west - 0.01, north + 0.01, z)
        outside = template.format(z=z, x=x, y=y).removeprefix(BASE)
        assert demo_client.get(outside, headers=headers).content == b""


def test_tiles_carry_the_attributes_the_api_gives(demo_client: TestClient, walks: Walks) -> None:
    """The attributes decoded from a tile against the patrol's JSON (the API as reference)."""
    admin = walks.headers["admin"]
    document = demo_client.get("/tiles/tracks.json", params=PERIOD, headers=admin).json()
    point = walks.lines[walks.xiuzhou].interpolate(0.5, normalized=True)
    x, y = tile_of(point.x, point.y, 14)
    tile = _get(demo_client, document["tiles"][0].format(z=14, x=x, y=y), admin)
    properties = mapbox_vector_tile.decode(tile.content)["tracks"]["features"]
    (mine,) = [f["properties"] for f in properties if f["id"] == walks.xiuzhou]
    patrol = demo_client.get(f"/api/v1/patrols/{walks.xiuzhou}", headers=admin).json()
    assert mine["team_id"] == patrol["properties"]["team_id"]
    assert mine["team_name"] == patrol["properties"]["team_name"]
    assert mine["mode"] == patrol["properties"]["mode"] == "boat"
    assert mine["km"] == pytest.approx(patrol["properties"]["length_m"] / 1000, abs=0.005)
    assert mine["started"] == "2021-03-10 09:00"  # 01:00 UTC in China Standard Time


def test_without_tracks_the_bounds_are_the_callers_region(
    demo_client: TestClient, demo_session: Session
) -> None:
    headers = headers_for(demo_session)
    empty = {"date_from": "2020-01-01", "date_to": "2020-01-31"}
    answer = demo_client.get("/tiles/tracks.json", params=empty, headers=headers["wujiang.sup"])
    county = oracle.polygons()["320509"][1]
    assert np.allclose(answer.json()["bounds"], county.bounds, atol=DEGREE_SLACK)


def test_a_read_token_in_basic_auth_reads_the_tilejson_and_its_tiles(
    demo_client: TestClient, demo_session: Session
) -> None:
    """As QGIS sends it from a Basic auth config: the personal token as the password."""
    token = issue_api_token(
        demo_session,
        member_id=member_id(demo_session, "wujiang.sup"),
        label="qgis",
        days=1,
        address=None,
        scope=TokenScope.READ,
    )
    basic = {"Authorization": "Basic " + base64.b64encode(f":{token}".encode()).decode()}
    document = demo_client.get("/tiles/tracks.json", headers=basic)
    assert document.status_code == 200, document.text
    # No filter given, none written into the tiles' URL: the tiles' own default period (the
    # last 30 days) rolls on in a desktop that keeps the URL.
    (template,) = document.json()["tiles"]
    assert template == BASE + "/tiles/tracks/{z}/{x}/{y}.pbf"
    tile = _get(demo_client, template.format(z=0, x=0, y=0), basic)
    assert tile.status_code == 200
    assert demo_client.get("/tiles/tracks.json").status_code == 401
    # The style holds nothing from the database: public, since QGIS 3.22 fetches a style URL
    # without the layer's auth config.
    style = demo_client.get("/tiles/tracks/style.json", params={"team": "3"})
    assert style.status_code == 200
    (source,) = style.json()["sources"].values()
    assert source["url"] == BASE + "/tiles/tracks.json?team=3"


def test_the_style_draws_real_source_layers_from_the_tilejson(
    demo_client: TestClient, walks: Walks
) -> None:
    admin = walks.headers["admin"]
    params = {**PERIOD, "lang": "en"}
    answer = demo_client.get("/tiles/tracks/style.json", params=params, headers=admin)
    assert answer.status_code == 200, answer.text
    style = answer.json()
    assert style["version"] == 8 and style["name"] == "Patrol tracks"
    # Nothing loaded from elsewhere: no glyphs, no sprite, every URL the service's own.
    assert "glyphs" not in style and "sprite" not in style
    urls = re.findall(r"https?://[^\"' ]+", answer.text)
    assert urls and all(u.startswith(BASE + "/") for u in urls)
    sources = {}
    for name, source in style["sources"].items():
        assert source["type"] == "vector"
        url = urlsplit(source["url"])
        assert url.path == "/tiles/tracks.json"
        assert {k: v for k, (v,) in parse_qs(url.query).items()} == params
        sources[name] = _get(demo_client, source["url"], admin).json()
    drawn: dict[str, list[str]] = {}
    for layer in style["layers"]:
        assert layer["type"] == "line"
        tilejson = sources[layer["source"]]
        assert tilejson["name"] == "Patrol tracks"
        fields = {v["id"]: v["fields"] for v in tilejson["vector_layers"]}
        assert layer["source-layer"] in fields
        operator, field, value = layer["filter"]
        assert operator == "==" and field in fields[layer["source-layer"]]
        drawn.setdefault(value, []).append(layer["paint"]["line-color"])
    # Each mode once, in a colour of its own; both walks' modes among them.
    assert set(drawn) == {"foot", "boat", "car"}
    colours = [c for cs in drawn.values() for c in cs]
    assert len(colours) == len(set(colours)) == 3


def test_unknown_layers_are_refused(demo_client: TestClient, demo_session: Session) -> None:
    admin = headers_for(demo_session)["admin"]
    for url in ("/tiles/rivers.json", "/tiles/rivers/style.json"):
        answer = demo_client.get(url, headers=admin)
        assert answer.status_code == 422
        assert answer.headers["content-type"] == "application/problem+json"


def test_the_centre_zoom_fits_the_bounds_in_two_tiles() -> None:
    # A tile of zoom 10 spans 360/1024 degrees of longitude: a box a little narrower fits in
    # two tiles of zoom 11, a little wider only in two of zoom 10.
    tile = 360 / 1024
    assert center_zoom(Extent(120, 30, 120 + 0.9 * tile, 30), minzoom=0, maxzoom=18) == 11
    assert center_zoom(Extent(120, 30, 120 + 1.1 * tile, 30), minzoom=0, maxzoom=18) == 10
    # The same north-south: Web Mercator y of 0 and 0.9 tile of zoom 10 north of the equator.
    north = math.degrees(math.atan(math.sinh(2 * math.pi * 0.9 / 1024)))
    assert center_zoom(Extent(120, 0, 120, north), minzoom=0, maxzoom=18) == 11
    # A point fits anywhere: the deepest zoom; the world fits at zoom 1, or the minimum.
    assert center_zoom(Extent(120.6, 30.9, 120.6, 30.9), minzoom=0, maxzoom=18) == 18
    assert center_zoom(Extent(-180, -85.05, 180, 85.05), minzoom=0, maxzoom=18) == 1
    assert center_zoom(Extent(-180, -85.05, 180, 85.05), minzoom=3, maxzoom=18) == 3
