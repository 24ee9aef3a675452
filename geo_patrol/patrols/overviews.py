"""Simplified copies of each patrol's track for the map's low zooms (`patrol_overviews`).

A county's year is some 36,500 tracks of a few thousand fixes: a tile at zoom 8 to 11 that
cut and simplified every one of them from the full track read gigabytes for a few pixels
each. So when a patrol's track is written (`summarize_kept`: an upload, a live patrol
closed) its overviews are written beside it, one per level of OVERVIEW_ZOOMS: the track
simplified (Douglas-Peucker, never collapsed away) at a quarter of a screen pixel at that
level's deepest zoom, measured at OVERVIEW_LATITUDE. A tile at zoom z reads the overview of
the smallest level >= z (`overview_level`), and simplifies it again at its own quarter
pixel: the overview's tolerance is at most the tile's (degrees of latitude hold fewer
pixels further north), so what is drawn stays within half a pixel of the full track.
Above the deepest level tiles read the track itself.

Introduced in: geo-patrol 0.6.0 (migration 0021)
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from sqlalchemy import text
from sqlalchemy.orm import Session

# The deepest zoom each overview serves (a tile at z reads the first level >= z).
OVERVIEW_ZOOMS = (9, 11, 13)
# The tolerances hold up to this latitude (China reaches 53.6 N): further north a degree
# of latitude spans more pixels, so a tile's own tolerance in degrees is smaller.
OVERVIEW_LATITUDE = 55.0
WORLD_M = 40075016.685578488  # Web Mercator metres across the world
TILE_PX = 256
METRES_PER_DEGREE = 111_320.0


def quarter_pixel_degrees(z: int, latitude: float) -> float:
    """A quarter of a screen pixel at zoom z on the ground at `latitude`, in degrees of
    latitude (the tiles' simplification tolerance)."""
    pixel_m = float(WORLD_M / 2**z / TILE_PX)
    return pixel_m / 4 * math.cos(math.radians(latitude)) / METRES_PER_DEGREE


def overview_tolerance(max_zoom: int) -> float:
    """The simplification tolerance (degrees) of the overview serving zooms up to max_zoom."""
    return quarter_pixel_degrees(max_zoom, OVERVIEW_LATITUDE)


def overview_level(z: int) -> int | None:
    """The overview a tile at zoom z reads (its max_zoom), or None: the full track."""
    return next((level for level in OVERVIEW_ZOOMS if z <= level), None)


FORGET = "DELETE FROM patrol_overviews WHERE patrol_id = ANY(CAST(:ids AS bigint[]))"

STORE = """
INSERT INTO patrol_overviews (patrol_id, max_zoom, geom)
SELECT p.id, l.max_zoom, ST_Simplify(p.track, l.tolerance, true)
FROM patrols p,
     unnest(CAST(:zooms AS smallint[]), CAST(:tolerances AS float8[])) AS l(max_zoom, tolerance)
WHERE p.id = ANY(CAST(:ids AS bigint[])) AND p.track IS NOT NULL
"""


def store_overviews(session: Session, *, patrol_ids: Sequence[int]) -> None:
    """(Re)write the overviews of these patrols from their tracks (none for no track)."""
    ids = list(patrol_ids)
    session.execute(text(FORGET), {"ids": ids})
    values = {
        "ids": ids,
        "zooms": list(OVERVIEW_ZOOMS),
        "tolerances": [overview_tolerance(z) for z in OVERVIEW_ZOOMS],
    }
    session.execute(text(STORE), values)
