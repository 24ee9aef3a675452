"""Rivers, their segments and the cooperation zones."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from geo_patrol.api.deps import SessionDep
from geo_patrol.api.schemas import Rivers, Segments, ZonePublic
from geo_patrol.geography.queries import list_rivers, list_segments, list_zones

router = APIRouter(prefix="/api/v1", tags=["rivers"])


@router.get("/rivers", summary="Rivers as GeoJSON", response_model=Rivers)
def get_rivers(session: SessionDep) -> dict[str, Any]:
    """All rivers with their length in metres."""
    return list_rivers(session)


@router.get(
    "/segments", summary="River segments with the towns sharing them", response_model=Segments
)
def get_segments(
    session: SessionDep,
    river: Annotated[str | None, Query(description="River code.")] = None,
    border: Annotated[bool | None, Query(description="Only border segments (true).")] = None,
) -> dict[str, Any]:
    """Segments, filtered by river and border status."""
    return list_segments(session, river=river, border=border)


@router.get("/zones", summary="Cooperation zones", tags=["zones"], response_model=list[ZonePublic])
def get_zones(session: SessionDep) -> list[dict[str, Any]]:
    """Zones with member codes, border-zone width and agreements."""
    return list_zones(session)
