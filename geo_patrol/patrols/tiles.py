"""Patrol tracks as Mapbox vector tiles, cut and simplified by PostGIS for each tile.

A month of a county's patrols is millions of fixes: the map never receives them as GeoJSON.
Each tile holds the tracks that cross it, clipped to the tile (plus a small buffer so lines
join across tile edges), simplified to a quarter of a screen pixel at that zoom (in degrees,
before projecting, so only the kept vertices are transformed), in the tile's own 4096-unit
grid. The scope filter and the list filters are the patrol list's own. Up to zoom 13 the
lines are the tracks' overviews (`patrols/overviews.py`: simplified when the track was
written), which a year of tracks needs at the low zooms.
"""

from __future__ import annotations

import math
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_patrol.core.catalog import msg
from geo_patrol.core.errors import InvalidInput
from geo_patrol.core.local_time import ZONE_NAME
from geo_patrol.db.clauses import Clause, statement
from geo_patrol.geography.queries import Extent
from geo_patrol.patrols.overviews import overview_level
from geo_patrol.patrols.queries import PatrolFilters, patrol_where

EXTENT = 4096  # units across a tile
TILE_PX = 256  # screen pixels across a tile (Leaflet's default)
BUFFER = 64  # units of margin around a tile
MAX_ZOOM = 22
# The deepest zoom worth cutting: a quarter pixel is 15 cm there, finer than any GPS fix, so
# clients (the map's maxNativeZoom, TileJSON's maxzoom) stretch these tiles further in.
NATIVE_MAX_ZOOM = 18
# Web Mercator: metres across the world; one tile at zoom z spans WORLD_M / 2**z metres.
WORLD_M = 40075016.685578488

TRACKS = """
WITH tile AS (
    SELECT ST_TileEnvelope(:z, :x, :y) AS env,
           ST_Transform(ST_TileEnvelope(:z, :x, :y, margin => :margin), 4326)
               AS env_4326
),
visible_tracks AS (
    SELECT p.id, p.team_id, t.name AS team_name, p.mode, p.started_at, p.length_m,
           {line} AS track
    FROM {lines} JOIN teams t ON t.id = p.team_id
    -- The box written out (not tile.env_4326): planned as a constant, its rows are estimated.
    WHERE {line} && ST_Transform(ST_TileEnvelope(:z, :x, :y, margin => :margin), 4326)
      AND {visible} AND {where}
),
shapes AS (
    SELECT v.id, v.team_id, v.team_name, v.mode,
           to_char(v.started_at AT TIME ZONE :zone, 'YYYY-MM-DD HH24:MI') AS started,
           round(v.length_m::numeric / 1000, 2)::float8 AS km,
           ST_AsMVTGeom(
               ST_Transform(ST_Simplify(ST_ClipByBox2D(v.track, tile.env_4326), :tolerance_deg),
                            3857),
               tile.env, :extent, :buffer, true) AS geom
    FROM visible_tracks v, tile
)
SELECT ST_AsMVT(shapes, 'tracks', :extent, 'geom', 'id') FROM shapes WHERE geom IS NOT NULL
"""

# Where the lines come from: the tracks, or up to zoom 13 their overviews (the overview's
# box is within the track's, found by its own index; patrols/overviews.py).
TRACK_LINES = "patrols p"
OVERVIEW_LINES = "patrol_overviews o JOIN patrols p ON p.id = o.patrol_id AND o.max_zoom = :level"

# What a track tile holds, as TileJSON's vector_layers says it: the one MVT layer and its
# attributes (the columns of `shapes` above besides geom; the patrol id is the feature id),
# each with its MVT value type in tippecanoe's words.
TRACK_LAYER = "tracks"
TRACK_FIELDS = {
    "team_id": "Number",
    "team_name": "String",
    "mode": "String",
    "started": "String",
    "km": "Number",
}

# The box around the visible, filtered tracks (the same WHERE as TRACKS).
TRACK_EXTENT = """
SELECT ST_XMin(e) AS west, ST_YMin(e) AS south, ST_XMax(e) AS east, ST_YMax(e) AS north FROM (
    SELECT ST_Extent(p.track) AS e FROM patrols p JOIN teams t ON t.id = p.team_id
    WHERE p.track IS NOT NULL AND {visible} AND {where}
) x WHERE e IS NOT NULL
"""


def check_tile(z: int, x: int, y: int) -> None:
    """Refuse tile coordinates outside the Web Mercator pyramid."""
    if not 0 <= z <= MAX_ZOOM:
        raise InvalidInput(
            msg("problem.patrols.zoom_out_of_range", z=z, max_zoom=MAX_ZOOM), field="z"
        )
    for name, value in (("x", x), ("y", y)):
        if not 0 <= value < 2**z:
            raise InvalidInput(
                msg("problem.patrols.no_such_tile", name=name, value=value, z=z), field=name
            )


def track_tile(
    session: Session,
    *,
    z: int,
    x: int,
    y: int,
    visible: Clause,
    **filters: Any,
) -> bytes:
    """One vector tile (layer `tracks`) of the visible, filtered patrol tracks
    (`filters`: fields of PatrolFilters)."""
    check_tile(z, x, y)
    where = patrol_where(PatrolFilters(**filters))
    # A quarter pixel in Web Mercator metres, in degrees of latitude at the tile's middle
    # (Mercator metres shrink by cos(latitude) on the ground; a degree is ~111 km).
    pixel_m = WORLD_M / 2**z / TILE_PX
    middle_lat = math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * (y + 0.5) / 2**z))))
    tolerance_deg = pixel_m / 4 * math.cos(math.radians(middle_lat)) / 111_320
    values = {
        "z": z,
        "x": x,
        "y": y,
        "tolerance_deg": tolerance_deg,
        "extent": EXTENT,
        "buffer": BUFFER,
        "margin": BUFFER / EXTENT,
        "zone": ZONE_NAME,
    }
    level = overview_level(z)
    if level is None:
        line, lines = "p.track", TRACK_LINES
    else:  # the track simplified beforehand for this zoom (patrols/overviews.py)
        line, lines = "o.geom", OVERVIEW_LINES
        values["level"] = level
    sql = statement(TRACKS, visible=visible, where=where, line=line, lines=lines)
    # Planned for this tile's box every time: the driver prepares a statement run five times,
    # and the server's generic plan for it (any box, any level) read a year of patrols for a
    # month's (2.6 s instead of 0.2 s at zoom 8).
    session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
    tile = session.execute(sql, values).scalar()
    return bytes(tile) if tile else b""


def track_extent(session: Session, *, visible: Clause, **filters: Any) -> Extent | None:
    """The box (degrees) around the visible, filtered patrol tracks; None when there are
    none (`filters`: fields of PatrolFilters)."""
    where = patrol_where(PatrolFilters(**filters))
    row = session.execute(statement(TRACK_EXTENT, visible=visible, where=where)).first()
    if row is None or row.west is None:
        return None
    return Extent(row.west, row.south, row.east, row.north)
