"""The supervisor map page, its vector tiles and the meeting pack."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response

from geo_patrol.api.deps import CurrentPrincipal, ReadSessionDep, ScopeDep, SettingsDep
from geo_patrol.api.middleware import CONTENT_SECURITY_POLICY
from geo_patrol.api.openapi import file_answer
from geo_patrol.core.local_time import LOCAL
from geo_patrol.core.values import Day
from geo_patrol.core.vocabulary import Language
from geo_patrol.geography.queries import zone_id_of
from geo_patrol.patrols.queries import patrol_filter
from geo_patrol.patrols.tiles import track_tile
from geo_patrol.web.map.basemaps import tile_origins, tile_sources
from geo_patrol.web.map.filters import MapFilters
from geo_patrol.web.map.layers import map_data, patrol_filters
from geo_patrol.web.map.page import render_page
from geo_patrol.web.pack.page import meeting_pack, pack_filename

router = APIRouter(tags=["maps"])

MVT = "application/vnd.mapbox-vector-tile"
MAX_ZOOM = 22

Lang = Annotated[Language | None, Query()]
Code = Annotated[str | None, Query(max_length=64)]
# The form sends "" for "all": an empty team is no filter, not an invalid number.
TeamId = Annotated[str | None, Query(pattern=r"^\d{0,9}$")]


def map_filters(
    settings: SettingsDep,
    date_from: Day | None = None,
    date_to: Day | None = None,
    zone: Code = None,
    jurisdiction: Code = None,
    team: TeamId = None,
    category: Code = None,
    status: Code = None,
    joint: bool = False,
    lang: Lang = None,
) -> MapFilters:
    """The map's filters from the query string (the page's form and its tile URLs)."""
    return MapFilters.default(
        date_from=date_from,
        date_to=date_to,
        zone=zone,
        jurisdiction=jurisdiction,
        team=int(team) if team else None,
        category=category,
        status=status,
        joint=joint,
        lang=lang or settings.map_language,
    )


Filters = Annotated[MapFilters, Depends(map_filters)]


def _csp(origins: list[str]) -> str:
    """The map page's Content-Security-Policy: our own, plus the base map's tile servers."""
    return CONTENT_SECURITY_POLICY.replace(
        "img-src 'self' data: blob:", " ".join(["img-src 'self' data: blob:", *origins])
    )


@router.get("/map", response_class=HTMLResponse, summary="The supervisor map (HTML)")
async def supervisor_map(
    session: ReadSessionDep,
    settings: SettingsDep,
    scope: ScopeDep,
    principal: CurrentPrincipal,
    filters: Filters,
) -> HTMLResponse:
    """The map of what the signed-in member may see, filtered by the query string."""
    sources = tile_sources(
        settings.basemap, key=settings.tianditu_key, attribution=settings.basemap_attribution
    )
    data = await run_in_threadpool(
        map_data, session, scope=scope, principal=principal, filters=filters
    )
    query = filters.query(with_lang=False)
    tiles_url = "/tiles/tracks/{z}/{x}/{y}.pbf" + (f"?{query}" if query else "")
    page = await run_in_threadpool(render_page, data, sources=sources, tiles_url=tiles_url)
    return HTMLResponse(page, headers={"Content-Security-Policy": _csp(tile_origins(sources))})


@router.get(
    "/tiles/{layer}/{z}/{x}/{y}.pbf",
    summary="Vector tile (Mapbox Vector Tile) of a map layer: tracks",
    response_class=Response,
    responses=file_answer(MVT, description="The tile (empty where nothing crosses it)"),
)
async def tile(
    session: ReadSessionDep,
    scope: ScopeDep,
    filters: Filters,
    layer: Annotated[str, Path(pattern="^tracks$")],
    z: Annotated[int, Path(ge=0, le=MAX_ZOOM)],
    x: Annotated[int, Path(ge=0, lt=2**MAX_ZOOM)],
    y: Annotated[int, Path(ge=0, lt=2**MAX_ZOOM)],
) -> Response:
    """The visible patrol tracks crossing one tile, filtered like the map page."""
    zone_id = zone_id_of(session, filters.zone)
    body = await run_in_threadpool(
        track_tile,
        session,
        z=z,
        x=x,
        y=y,
        visible=patrol_filter(scope),
        **patrol_filters(filters, zone_id),
    )
    # Private: the tile depends on who asks; a minute in the browser's cache is enough.
    return Response(body, media_type=MVT, headers={"Cache-Control": "private, max-age=60"})


@router.get(
    "/api/v1/meeting-pack",
    response_class=HTMLResponse,
    summary="Joint-meeting pack of a zone for a period: one self-contained HTML file",
)
async def get_meeting_pack(
    session: ReadSessionDep,
    settings: SettingsDep,
    scope: ScopeDep,
    principal: CurrentPrincipal,
    zone: Annotated[str, Query(max_length=64, description="Cooperation zone code")],
    date_from: Annotated[Day | None, Query(alias="from")] = None,
    date_to: Annotated[Day | None, Query(alias="to")] = None,
    lang: Lang = None,
) -> Response:
    """The pack as a download (maps/ is where the command line writes it)."""
    filters = MapFilters.default(
        date_from=date_from, date_to=date_to, zone=zone, lang=lang or settings.map_language
    )
    page = await run_in_threadpool(
        meeting_pack,
        session,
        scope=scope,
        principal=principal,
        filters=filters,
        generated_at=datetime.now(LOCAL),
        vendor_dir=settings.vendor_dir,
    )
    name = pack_filename(filters)
    return HTMLResponse(page, headers={"Content-Disposition": f'attachment; filename="{name}"'})
