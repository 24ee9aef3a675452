"""Jurisdictions: boundaries in force, their versions, and point lookup."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from geo_patrol.api.deps import ReadSessionDep
from geo_patrol.api.paging import PAGED, PagingDep, link_page, paged_collection
from geo_patrol.api.schemas import (
    JurisdictionFeature,
    JurisdictionRefPublic,
    Jurisdictions,
    JurisdictionsAtPublic,
)
from geo_patrol.core.catalog import msg
from geo_patrol.core.errors import NotFound
from geo_patrol.core.values import Moment
from geo_patrol.core.vocabulary import Level
from geo_patrol.geography.lookup import JurisdictionRef, jurisdictions_at
from geo_patrol.geography.queries import jurisdiction_page, list_jurisdictions, version_page

router = APIRouter(prefix="/api/v1/jurisdictions", tags=["jurisdictions"])

LevelQuery = Annotated[Level | None, Query()]
AtQuery = Annotated[
    Moment | None, Query(description="Boundaries in force at this time (default now).")
]


@router.get("", summary="Jurisdictions as GeoJSON", response_model=Jurisdictions, responses=PAGED)
def get_jurisdictions(
    request: Request,
    response: Response,
    session: ReadSessionDep,
    paging: PagingDep,
    level: LevelQuery = None,
    parent: Annotated[str | None, Query(description="Code of the parent.")] = None,
    at: AtQuery = None,
) -> dict[str, Any]:
    """Jurisdictions in force by code, filtered by level and parent code; a page at a time
    (Link rel=next)."""
    page = jurisdiction_page(
        session,
        at=at or datetime.now(UTC),
        level=level,
        parent=parent,
        limit=paging.limit,
        cursor=paging.cursor,
    )
    link_page(request, response, page)
    return paged_collection(request, page, page.items)


@router.get(
    "/at",
    summary="Point lookup: the chain from the lowest level to the province",
    response_model=JurisdictionsAtPublic,
)
def get_jurisdictions_at(
    session: ReadSessionDep,
    lon: Annotated[float, Query(ge=-180, le=180)],
    lat: Annotated[float, Query(ge=-90, le=90)],
    at: AtQuery = None,
) -> JurisdictionsAtPublic:
    """The jurisdictions covering a WGS84 point, lowest level first."""
    when = at or datetime.now(UTC)
    found = jurisdictions_at(session, lon=lon, lat=lat, at=when)
    return JurisdictionsAtPublic(
        lon=lon,
        lat=lat,
        at=when.isoformat(),
        chain=[_ref(ref) for ref in found.chain],
        on_boundary_with=[_ref(ref) for ref in found.on_boundary_with],
        outside_all=not found.chain,
    )


def _ref(ref: JurisdictionRef) -> JurisdictionRefPublic:
    """A jurisdiction of a lookup, as answered."""
    return JurisdictionRefPublic.model_validate(ref, from_attributes=True)


@router.get(
    "/{code}",
    summary="One jurisdiction in force, as a GeoJSON Feature",
    response_model=JurisdictionFeature,
)
def get_jurisdiction(session: ReadSessionDep, code: str, at: AtQuery = None) -> dict[str, Any]:
    """The version of `code` in force at `at`."""
    found = list_jurisdictions(session, at=at or datetime.now(UTC), code=code, limit=1)
    if not found["features"]:
        raise NotFound(msg("problem.api.no_jurisdiction_then", code=code), field="code")
    feature: dict[str, Any] = found["features"][0]
    return feature


@router.get(
    "/{code}/versions",
    summary="Every boundary version of a jurisdiction",
    response_model=Jurisdictions,
    responses=PAGED,
)
def get_jurisdiction_versions(
    request: Request, response: Response, session: ReadSessionDep, code: str, paging: PagingDep
) -> dict[str, Any]:
    """All versions of `code`, oldest first; a page at a time (Link rel=next)."""
    page = version_page(session, code=code, limit=paging.limit, cursor=paging.cursor)
    link_page(request, response, page)
    return paged_collection(request, page, page.items)
