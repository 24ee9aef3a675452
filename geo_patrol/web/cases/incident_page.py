"""The incident page for supervisors (`/incidents/{id}`, where the map's popups lead): the
case, who holds it, its deadline, photos, history and patrols that passed it, with a small
map of the place drawn as SVG on the server (no script, no tiles: it prints and works on
an intranet).

A water-quality case also shows the reading that opened it and its leads upstream
(water.case_leads), each linking to what it names.

The record comes from `incident_queries.get_incident` (the caller's scope); the map around
it is shared geography: the responsible jurisdictions, their neighbours of the same level
and the rivers within MAP_RADIUS_M. The page is templates/cases/incident_page.html, its map
templates/cases/map.svg.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from geo_patrol.geography.queries import Extent, shapes_in_box
from geo_patrol.water.case_leads import CaseLeads
from geo_patrol.water.standard import CLASS_NAMES
from geo_patrol.web.render import render as render_template

MAP_RADIUS_M = 1500.0
MAP_SIZE_PX = 480
METRES_PER_DEGREE = 111_320.0
SCALE_BAR_M = 500


def map_shapes(session: Session, *, lon: float, lat: float, codes: list[str]) -> dict[str, Any]:
    """The SVG paths around a point and the view box that holds them."""
    k = math.cos(math.radians(lat))
    half_lat = MAP_RADIUS_M / METRES_PER_DEGREE
    half_lon = half_lat / k
    box = Extent(lon - half_lon, lat - half_lat, lon + half_lon, lat + half_lat)
    shapes = shapes_in_box(session, box=box, x_scale=k, codes=codes)
    return {
        "view_box": (box.west * k, -box.north, 2 * half_lon * k, 2 * half_lat),
        "point": (lon * k, -lat),
        "shapes": [shape._asdict() for shape in shapes if shape.path],
    }


def render(
    incident: dict[str, Any],
    drawing: dict[str, Any],
    *,
    lang: str,
    steps: Sequence[str] = (),
    csrf: str | None = None,
    error: str | None = None,
    water: CaseLeads | None = None,
) -> str:
    """The whole page (with the step form when `steps` and a session's `csrf` are given, and
    the reading and leads of a water-quality case when `water` is)."""
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
        water=water,
        class_names=CLASS_NAMES,
    )
