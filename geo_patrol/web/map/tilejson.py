"""TileJSON 3.0 and a MapLibre style for the vector tile layers, so that GIS desktops find them.

QGIS's "Vector Tiles" connection, MapLibre and GDAL read a tile layer from a TileJSON
document: the URL template of its tiles, the zooms the server cuts, where the data is
(`bounds`, `center`) and which MVT layers with which attributes a tile holds
(`vector_layers`). The style (MapLibre GL style version 8) draws the layer's lines from a
vector source pointing at that TileJSON. Both keep the caller's filters, as the map's own tile
URLs do, and both are the caller's: the bounds are those of the tracks they may see.

Introduced in: geo-patrol 0.4.0
"""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from geo_patrol.access.scope import Scope
from geo_patrol.core import catalog
from geo_patrol.core.vocabulary import PatrolMode
from geo_patrol.geography.queries import Extent, extent_of, zone_id_of
from geo_patrol.patrols.queries import patrol_filter
from geo_patrol.patrols.tiles import NATIVE_MAX_ZOOM, TRACK_FIELDS, TRACK_LAYER, track_extent
from geo_patrol.web.map.filters import MapFilters
from geo_patrol.web.map.layers import patrol_filters
from geo_patrol.web.map.page import TRACK_COLOUR

__all__ = ["TILE_LAYERS", "TileLayer", "style", "tilejson"]

TILEJSON_VERSION = "3.0.0"
ATTRIBUTION = "geo-patrol"
SOURCE = "geo-patrol"
# Web Mercator stops short of the poles: tiles cover latitudes up to atan(sinh(pi)).
MERCATOR_LAT = math.degrees(math.atan(math.sinh(math.pi)))
WORLD = Extent(-180.0, -MERCATOR_LAT, 180.0, MERCATOR_LAT)
# Tracks by how they went; on foot in the map's own track colour.
MODE_COLOUR = {
    PatrolMode.FOOT: TRACK_COLOUR,
    PatrolMode.BOAT: "#00838f",
    PatrolMode.CAR: "#6d4c41",
}


@dataclass(frozen=True)
class TileLayer:
    """A tile layer served at /tiles/{name}/{z}/{x}/{y}.pbf: its one MVT layer and fields."""

    name: str
    title_key: str  # catalog key of its name
    fields: dict[str, str]
    minzoom: int
    maxzoom: int


TILE_LAYERS = {
    "tracks": TileLayer(
        name=TRACK_LAYER,
        title_key="map.tracks",
        fields=TRACK_FIELDS,
        minzoom=0,
        maxzoom=NATIVE_MAX_ZOOM,
    ),
}


def _bounds(session: Session, *, scope: Scope, filters: MapFilters) -> Extent:
    """Where the caller's filtered tracks are; else the caller's region; else the world."""
    zone_id = zone_id_of(session, filters.zone)
    box = track_extent(session, visible=patrol_filter(scope), **patrol_filters(filters, zone_id))
    if box is None:
        codes = None if scope.everything else sorted(scope.codes) or None
        box = extent_of(session, at=filters.until, codes=codes) or WORLD
    return Extent(
        max(box.west, WORLD.west),
        max(box.south, WORLD.south),
        min(box.east, WORLD.east),
        min(box.north, WORLD.north),
    )


def _mercator_y(lat: float) -> float:
    """Latitude to Web Mercator y on a world one unit tall (0 at the equator)."""
    return math.log(math.tan(math.pi / 4 + math.radians(lat) / 2)) / (2 * math.pi)


def center_zoom(box: Extent, *, minzoom: int, maxzoom: int) -> int:
    """The deepest zoom at which `box` fits in two tiles (512 pixels) each way."""
    span = max(
        (box.east - box.west) / 360,
        _mercator_y(box.north) - _mercator_y(box.south),
        1e-9,
    )
    return max(minzoom, min(maxzoom, math.floor(math.log2(2 / span))))


def tilejson(
    session: Session,
    *,
    layer: TileLayer,
    scope: Scope,
    filters: MapFilters,
    given: Collection[str],
    base: str,
) -> dict[str, Any]:
    """The TileJSON 3.0 document of `layer` for the caller, its tiles filtered by `filters`.

    The tiles' URL carries the filters the caller `given` (query parameter names), not the
    defaults filled in: a desktop that keeps the URL keeps a rolling "last 30 days"."""
    box = _bounds(session, scope=scope, filters=filters)
    query = filters.query(with_lang=False, only=given)
    tiles = f"{base}/tiles/{layer.name}/{{z}}/{{x}}/{{y}}.pbf" + (f"?{query}" if query else "")
    name = catalog.text(layer.title_key, catalog.lang_of(filters.lang))
    return {
        "tilejson": TILEJSON_VERSION,
        "name": name,
        "attribution": ATTRIBUTION,
        "scheme": "xyz",
        "tiles": [tiles],
        "minzoom": layer.minzoom,
        "maxzoom": layer.maxzoom,
        "bounds": list(box),
        "center": [
            (box.west + box.east) / 2,
            (box.south + box.north) / 2,
            center_zoom(box, minzoom=layer.minzoom, maxzoom=layer.maxzoom),
        ],
        "vector_layers": [
            {
                "id": layer.name,
                "description": name,
                "fields": dict(layer.fields),
                "minzoom": layer.minzoom,
                "maxzoom": layer.maxzoom,
            }
        ],
    }


def style(
    *, layer: TileLayer, filters: MapFilters, given: Collection[str], base: str
) -> dict[str, Any]:
    """A MapLibre GL style (version 8) drawing `layer` from its TileJSON (with the filters
    and language the caller `given`): one line layer per patrol mode, in the mode's colour,
    wider as the map zooms in. No glyphs or sprites: lines need neither, and the style loads
    nothing from elsewhere."""
    query = filters.query(only=given)
    url = f"{base}/tiles/{layer.name}.json" + (f"?{query}" if query else "")
    return {
        "version": 8,
        "name": catalog.text(layer.title_key, catalog.lang_of(filters.lang)),
        "sources": {SOURCE: {"type": "vector", "url": url}},
        "layers": [
            {
                "id": f"{layer.name}-{mode.value}",
                "type": "line",
                "source": SOURCE,
                "source-layer": layer.name,
                "filter": ["==", "mode", mode.value],
                "layout": {"line-cap": "round", "line-join": "round"},
                "paint": {
                    "line-color": colour,
                    "line-opacity": 0.75,
                    "line-width": ["interpolate", ["linear"], ["zoom"], 8, 1, 18, 4],
                },
            }
            for mode, colour in MODE_COLOUR.items()
        ],
    }
