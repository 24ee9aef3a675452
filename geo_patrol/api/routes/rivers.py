"""Rivers, their segments and the cooperation zones."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response

from geo_patrol.api.deps import CurrentPrincipal, ReadSessionDep, SessionDep, client_address
from geo_patrol.api.paging import PAGED, PagingDep, link_page, paged_collection
from geo_patrol.api.schemas import RiverFlowPublic, RiverFlowUpdate, Rivers, Segments, ZonePublic
from geo_patrol.core.vocabulary import RiverFlow
from geo_patrol.geography.flow import set_river_flow
from geo_patrol.geography.queries import river_page, segment_page, zone_page

router = APIRouter(prefix="/api/v1", tags=["rivers"])


@router.get("/rivers", summary="Rivers as GeoJSON", response_model=Rivers, responses=PAGED)
def get_rivers(
    request: Request, response: Response, session: ReadSessionDep, paging: PagingDep
) -> dict[str, Any]:
    """Rivers by code with their length in metres; a page at a time (Link rel=next)."""
    page = river_page(session, limit=paging.limit, cursor=paging.cursor)
    link_page(request, response, page)
    return paged_collection(request, page, page.items)


@router.get(
    "/segments",
    summary="River segments with the towns sharing them",
    response_model=Segments,
    responses=PAGED,
)
def get_segments(
    request: Request,
    response: Response,
    session: ReadSessionDep,
    paging: PagingDep,
    river: Annotated[str | None, Query(description="River code.")] = None,
    border: Annotated[bool | None, Query(description="Only border segments (true).")] = None,
) -> dict[str, Any]:
    """Segments by river and place along it, filtered by river and border status; a page at
    a time (Link rel=next)."""
    page = segment_page(
        session, river=river, border=border, limit=paging.limit, cursor=paging.cursor
    )
    link_page(request, response, page)
    return paged_collection(request, page, page.items)


@router.get(
    "/zones",
    summary="Cooperation zones",
    tags=["zones"],
    response_model=list[ZonePublic],
    responses=PAGED,
)
def get_zones(
    request: Request, response: Response, session: ReadSessionDep, paging: PagingDep
) -> list[dict[str, Any]]:
    """Zones by code with member codes, border-zone width and agreements; a page at a time
    (Link rel=next)."""
    page = zone_page(session, limit=paging.limit, cursor=paging.cursor)
    link_page(request, response, page)
    return page.items


@router.put(
    "/rivers/{river_code}/flow",
    summary="Say which way a river flows (its segments are ordered along it)",
    response_model=RiverFlowPublic,
)
def put_river_flow(
    river_code: Annotated[str, Path(max_length=64)],
    body: RiverFlowUpdate,
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> dict[str, Any]:
    """as_drawn, reversed (against the drawn line) or null (not known); administrators."""
    flow = RiverFlow(body.flow) if body.flow else None
    changed = set_river_flow(
        session, code=river_code, flow=flow, principal=principal, address=client_address(request)
    )
    return {"code": river_code, "flow": body.flow, "changed": changed}
