"""The incident page for supervisors (`/incidents/{id}`, where the map's popups lead): the
case, who holds it, its deadline, photos, history and patrols that passed it, with a small
map of the place drawn as SVG on the server (no script, no tiles: it prints and works on
an intranet).

The record comes from `incident_queries.get_incident` (the caller's scope); the map around
it is shared geography: the responsible jurisdictions, their neighbours of the same level
and the rivers within MAP_RADIUS_M. The page is templates/cases/incident_page.html, its map
templates/cases/map.svg.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_patrol.web.render import render as render_template

MAP_RADIUS_M = 1500.0
MAP_SIZE_PX = 480
METRES_PER_DEGREE = 111_320.0
SCALE_BAR_M = 500

# Everything inside the map's box: the responsible jurisdictions, the others of their levels
# (the other side of the border, outlined), the rivers; in "map units": x = lon·cos(lat0),
# y = lat (so that a metre is as long east-west as north-south); ST_AsSVG flips y for SVG.
AROUND = """
WITH box AS (SELECT ST_MakeEnvelope(:x0, :y0, :x1, :y1, 4326) AS g),
shapes AS (
    SELECT CASE WHEN j.code = ANY(CAST(:codes AS text[])) THEN 'jurisdiction'
                ELSE 'neighbour' END AS kind,
           j.code, j.name, j.geom,
           CASE WHEN j.code = ANY(CAST(:codes AS text[])) THEN 1 ELSE 0 END AS layer
    FROM jurisdictions j
    WHERE j.valid_to IS NULL AND j.level IN (
        SELECT level FROM jurisdictions WHERE code = ANY(CAST(:codes AS text[])))
    UNION ALL
    SELECT 'river', r.code, r.name, s.geom, 2
    FROM river_segments s JOIN rivers r ON r.id = s.river_id
),
clipped AS (
    SELECT kind, code, name, layer, ST_Scale(ST_ClipByBox2D(geom, box.g), :k, 1) AS part
    FROM shapes, box WHERE shapes.geom && box.g
)
SELECT kind, code, name, ST_AsSVG(part, 0, 6) AS path,
       ST_X(ST_PointOnSurface(part)) AS label_x, -ST_Y(ST_PointOnSurface(part)) AS label_y
FROM clipped WHERE NOT ST_IsEmpty(part)
ORDER BY layer, code
"""


def map_shapes(session: Session, *, lon: float, lat: float, codes: list[str]) -> dict[str, Any]:
    """The SVG paths around a point and the view box that holds them."""
    k = math.cos(math.radians(lat))
    half_lat = MAP_RADIUS_M / METRES_PER_DEGREE
    half_lon = half_lat / k
    box = {"x0": lon - half_lon, "y0": lat - half_lat, "x1": lon + half_lon, "y1": lat + half_lat}
    rows = session.execute(text(AROUND), {**box, "k": k, "codes": codes}).all()
    return {
        "view_box": (box["x0"] * k, -box["y1"], 2 * half_lon * k, 2 * half_lat),
        "point": (lon * k, -lat),
        "shapes": [dict(row._mapping) for row in rows if row.path],
    }


def render(
    incident: dict[str, Any],
    drawing: dict[str, Any],
    *,
    lang: str,
    steps: Sequence[str] = (),
    csrf: str | None = None,
    error: str | None = None,
) -> str:
    """The whole page (with the step form when `steps` and a session's `csrf` are given)."""
    return render_template(
        "cases/incident_page.html",
        lang=lang,
        i=incident,
        drawing=drawing,
        size=MAP_SIZE_PX,
        bar=SCALE_BAR_M / METRES_PER_DEGREE,
        bar_m=SCALE_BAR_M,
        steps=list(steps),
        csrf=csrf,
        error=error,
    )
