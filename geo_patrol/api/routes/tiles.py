"""TileJSON 3.0 and MapLibre styles of the vector tile layers (the tiles: routes/maps.py).

Introduced in: geo-patrol 0.4.0
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response
from fastapi.concurrency import run_in_threadpool

from geo_patrol.accounts.phone_setup import public_base
from geo_patrol.api.deps import ReadSessionDep, ScopeDep, SettingsDep
from geo_patrol.api.routes.maps import Filters
from geo_patrol.api.schemas import MapStyle, TileJSON
from geo_patrol.web.map.tilejson import TILE_LAYERS, style, tilejson

router = APIRouter(tags=["maps"])

Layer = Annotated[str, Path(pattern="^tracks$", description="The tile layer: tracks")]
# Private like the tiles: the bounds depend on who asks.
PRIVATE = "private, max-age=60"


@router.get(
    "/tiles/{layer}.json",
    response_model=TileJSON,
    summary="TileJSON 3.0 of a vector tile layer (QGIS, MapLibre, GDAL); the map's filters",
)
async def get_tilejson(
    request: Request,
    response: Response,
    session: ReadSessionDep,
    settings: SettingsDep,
    scope: ScopeDep,
    filters: Filters,
    layer: Layer,
) -> dict[str, Any]:
    """The tiles' URL (with the same filters), zooms, the caller's bounds and the fields."""
    response.headers["Cache-Control"] = PRIVATE
    return await run_in_threadpool(
        tilejson,
        session,
        layer=TILE_LAYERS[layer],
        scope=scope,
        filters=filters,
        given=set(request.query_params),
        base=public_base(settings, str(request.base_url)),
    )


@router.get(
    "/tiles/{layer}/style.json",
    response_model=MapStyle,
    summary="MapLibre GL style (version 8) of a vector tile layer, its source the TileJSON",
)
async def get_style(
    request: Request, response: Response, settings: SettingsDep, filters: Filters, layer: Layer
) -> dict[str, Any]:
    """Line layers coloured by patrol mode, over the layer's TileJSON with the same filters."""
    response.headers["Cache-Control"] = PRIVATE
    return style(
        layer=TILE_LAYERS[layer],
        filters=filters,
        given=set(request.query_params),
        base=public_base(settings, str(request.base_url)),
    )
