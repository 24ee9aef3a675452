"""Incidents: report, read, act on, and the overdue list."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, Request, Response, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from geo_patrol.access.principal import Principal
from geo_patrol.api.deps import (
    CurrentPrincipal,
    ReadSessionDep,
    ScopeDep,
    SessionDep,
    SettingsDep,
    client_address,
)
from geo_patrol.api.list_filters import IncidentFiltersDep
from geo_patrol.api.openapi import file_answer
from geo_patrol.api.paging import PAGED, PagingDep, link_page, paged_collection
from geo_patrol.api.schemas import (
    CategoryPublic,
    IncidentAction,
    IncidentCount,
    IncidentCreate,
    IncidentCreated,
    IncidentFeature,
    Incidents,
    IncidentStatusChanged,
    IncidentTierChanged,
    PhotoAdded,
    PhotoReportCreated,
    TierChange,
)
from geo_patrol.core.catalog import msg
from geo_patrol.core.errors import InvalidInput, NotFound
from geo_patrol.core.settings import Settings
from geo_patrol.core.values import BigId, Moment
from geo_patrol.core.vocabulary import Datum, IncidentOrder, Severity
from geo_patrol.incidents import queries as incident_queries
from geo_patrol.incidents import workflow
from geo_patrol.incidents.photo_files import store_photo
from geo_patrol.incidents.photos import add_photo, photo_for_download
from geo_patrol.incidents.reports import IncidentReport, create_incident, unlink_duplicate

router = APIRouter(prefix="/api/v1", tags=["incidents"])


@router.post(
    "/incidents",
    summary="Report an incident (routed at once)",
    response_model=IncidentCreated,
    responses={201: {"model": IncidentCreated, "description": "Created"}},
)
def post_incident(
    body: IncidentCreate,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: CurrentPrincipal,
) -> JSONResponse:
    """Create, route, tier and link; a retry with the same client_id returns the first."""
    report = IncidentReport(source="api", **body.model_dump())
    incident_id, created = create_incident(
        session,
        report=report,
        principal=principal,
        settings=settings,
        address=client_address(request),
    )
    return JSONResponse(
        {"id": incident_id, "created": created},
        status_code=201 if created else 200,
        headers={"Location": f"/api/v1/incidents/{incident_id}"},
    )


@router.post(
    "/incidents/photo",
    summary="Report with a photo; its EXIF location if none given",
    response_model=PhotoReportCreated,
    responses={201: {"model": PhotoReportCreated, "description": "Created"}},
)
async def post_photo_report(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: CurrentPrincipal,
    file: Annotated[UploadFile, File(description="JPEG, PNG or HEIC from the phone.")],
    category: Annotated[str, Form()],
    severity: Annotated[Severity, Form()] = Severity.MEDIUM,
    lon: Annotated[float | None, Form(ge=-180, le=180)] = None,
    lat: Annotated[float | None, Form(ge=-90, le=90)] = None,
    datum: Annotated[Datum, Form()] = Datum.WGS84,
    description: Annotated[str | None, Form(max_length=4000)] = None,
    client_id: Annotated[str | None, Form(max_length=128)] = None,
    reported_at: Annotated[
        Moment | None,
        Form(
            description="When it was seen (a report queued offline); "
            "default: the photo's EXIF time, else now."
        ),
    ] = None,
    patrol_id: Annotated[BigId | None, Form(description="An observation during a patrol.")] = None,
) -> JSONResponse:
    """One request from the phone: the photo and the report; retries return the first."""
    data = await file.read()
    fields = {
        "category": category,
        "severity": severity,
        "lon": lon,
        "lat": lat,
        "datum": datum,
        "description": description,
        "client_id": client_id,
        "reported_at": reported_at,
        "patrol_id": patrol_id,
    }
    body = await run_in_threadpool(
        _photo_report,
        session,
        settings=settings,
        principal=principal,
        data=data,
        address=client_address(request),
        fields=fields,
    )
    return JSONResponse(
        body,
        status_code=201 if body["created"] else 200,
        headers={"Location": f"/api/v1/incidents/{body['id']}"},
    )


def _photo_report(
    session: Session,
    *,
    settings: Settings,
    principal: Principal,
    data: bytes,
    address: str | None,
    fields: dict[str, Any],
) -> dict[str, Any]:
    """Store the photo, take its EXIF location when none was given, report, attach."""
    stored = store_photo(
        data, folder=settings.data_dir / "photos", max_bytes=settings.max_photo_bytes
    )
    if fields["lon"] is None or fields["lat"] is None:
        if stored.exif_lon is None or stored.exif_lat is None:
            raise InvalidInput(msg("problem.api.photo_without_location"), field="lon")
        # EXIF GPS from a phone's camera is WGS84.
        fields.update(lon=stored.exif_lon, lat=stored.exif_lat, datum=Datum.WGS84)
    if fields["reported_at"] is None:
        fields["reported_at"] = stored.taken_at
    report = IncidentReport(**fields)
    incident_id, created = create_incident(
        session, report=report, principal=principal, settings=settings, address=address
    )
    if created:
        add_photo(session, incident_id=incident_id, data=data, settings=settings)
    return {"id": incident_id, "created": created, "lon": fields["lon"], "lat": fields["lat"]}


def _feature(row: dict[str, Any]) -> dict[str, Any]:
    """A GeoJSON Feature of an incident row."""
    geometry = row.pop("geometry")
    return {"type": "Feature", "id": row["id"], "geometry": geometry, "properties": row}


Order = Annotated[IncidentOrder, Query(description="Newest first, or soonest deadline.")]


@router.get(
    "/incidents",
    summary="Incidents in my scope, as GeoJSON",
    response_model=Incidents,
    responses=PAGED,
)
def get_incidents(
    request: Request,
    response: Response,
    session: ReadSessionDep,
    scope: ScopeDep,
    principal: CurrentPrincipal,
    paging: PagingDep,
    filters: IncidentFiltersDep,
    order: Order = IncidentOrder.REPORTED,
) -> dict[str, Any]:
    """Filtered, newest first (or by deadline); a page at a time (Link rel=next, and the
    same link in `links`)."""
    page = incident_queries.incident_page(
        session,
        scope=scope,
        principal=principal,
        limit=paging.limit,
        cursor=paging.cursor,
        by_deadline=order is IncidentOrder.DEADLINE,
        **filters,
    )
    link_page(request, response, page)
    return paged_collection(request, page, [_feature(row) for row in page.items])


@router.get(
    "/incidents/stats",
    summary="Counts by status, tier and lead jurisdiction",
    response_model=list[IncidentCount],
    responses=PAGED,
)
def get_incident_stats(
    request: Request,
    response: Response,
    session: ReadSessionDep,
    scope: ScopeDep,
    paging: PagingDep,
    since: Moment | None = None,
    until: Moment | None = None,
) -> list[dict[str, Any]]:
    """For a period (default: the last 30 days), by lead, status and tier; a page at a time
    (Link rel=next)."""
    until = until or datetime.now(UTC)
    since = since or until - timedelta(days=30)
    page = incident_queries.incident_stats(
        session, scope=scope, since=since, until=until, limit=paging.limit, cursor=paging.cursor
    )
    link_page(request, response, page)
    return page.items


@router.get(
    "/incidents/{incident_id}",
    summary="One incident with its history",
    response_model=IncidentFeature,
)
def get_incident(
    incident_id: BigId, session: ReadSessionDep, scope: ScopeDep, principal: CurrentPrincipal
) -> dict[str, Any]:
    """Sides, history, photos, duplicates, verification evidence."""
    row = incident_queries.get_incident(
        session, scope=scope, principal=principal, incident_id=incident_id
    )
    return _feature(row)


@router.post(
    "/incidents/{incident_id}/actions",
    summary="Take a step in the workflow",
    response_model=IncidentStatusChanged,
)
def post_action(
    incident_id: BigId,
    body: IncidentAction,
    request: Request,
    session: SessionDep,
    scope: ScopeDep,
    principal: CurrentPrincipal,
) -> dict[str, Any]:
    """assign, accept, start, resolve, verify, close, reopen or reject (with a reason)."""
    status = workflow.transition(
        session,
        incident_id=incident_id,
        action=body.action,
        principal=principal,
        scope=scope,
        note=body.note,
        address=client_address(request),
    )
    return {"id": incident_id, "status": status}


@router.post(
    "/incidents/{incident_id}/escalate",
    summary="Send the case one tier up",
    response_model=IncidentTierChanged,
)
def post_escalate(
    incident_id: BigId,
    body: TierChange,
    request: Request,
    session: SessionDep,
    scope: ScopeDep,
    principal: CurrentPrincipal,
) -> dict[str, Any]:
    """On a supervisor's request."""
    tier = workflow.change_tier(
        session,
        incident_id=incident_id,
        up=True,
        principal=principal,
        scope=scope,
        note=body.note,
        address=client_address(request),
    )
    return {"id": incident_id, "tier": tier}


@router.post(
    "/incidents/{incident_id}/deescalate",
    summary="Send the case one tier down",
    response_model=IncidentTierChanged,
)
def post_deescalate(
    incident_id: BigId,
    body: TierChange,
    request: Request,
    session: SessionDep,
    scope: ScopeDep,
    principal: CurrentPrincipal,
) -> dict[str, Any]:
    """Only the tier holding the case (or above) may."""
    tier = workflow.change_tier(
        session,
        incident_id=incident_id,
        up=False,
        principal=principal,
        scope=scope,
        note=body.note,
        address=client_address(request),
    )
    return {"id": incident_id, "tier": tier}


@router.delete(
    "/incidents/{incident_id}/duplicate_of", summary="Unlink a duplicate", status_code=204
)
def delete_duplicate_link(
    incident_id: BigId, session: SessionDep, scope: ScopeDep, principal: CurrentPrincipal
) -> Response:
    """A supervisor decides the report is a case of its own."""
    state = workflow.incident_state(session, incident_id)
    if not workflow.may_act(principal, scope, state):
        raise NotFound(msg("problem.api.no_incident", incident_id=incident_id), field="incident_id")
    unlink_duplicate(session, incident_id=incident_id, principal=principal)
    return Response(status_code=204)


@router.post(
    "/incidents/{incident_id}/photos",
    summary="Add a photo (JPEG, PNG, HEIC)",
    status_code=201,
    response_model=PhotoAdded,
)
async def post_photo(
    incident_id: BigId,
    session: SessionDep,
    settings: SettingsDep,
    scope: ScopeDep,
    principal: CurrentPrincipal,
    file: Annotated[UploadFile, File()],
) -> dict[str, Any]:
    """Stored by checksum outside the database; its EXIF location is offered, not applied."""
    data = await file.read()

    def attach() -> dict[str, Any]:
        incident_queries.get_incident(
            session, scope=scope, principal=principal, incident_id=incident_id
        )
        return add_photo(session, incident_id=incident_id, data=data, settings=settings)

    return await run_in_threadpool(attach)


@router.get(
    "/incidents/{incident_id}/photos/{photo_id}",
    summary="A photo, metadata stripped",
    response_class=Response,
    responses=file_answer("image/jpeg", "image/png", description="The picture"),
)
def get_photo(
    incident_id: BigId,
    photo_id: BigId,
    session: ReadSessionDep,
    settings: SettingsDep,
    scope: ScopeDep,
    principal: CurrentPrincipal,
) -> Response:
    """The picture without EXIF (no location, device or owner data)."""
    incident_queries.get_incident(
        session, scope=scope, principal=principal, incident_id=incident_id
    )
    data, media_type = photo_for_download(
        session, incident_id=incident_id, photo_id=photo_id, settings=settings
    )
    return Response(data, media_type=media_type)


@router.get(
    "/incident-categories",
    summary="The categories, with tier rules and deadlines",
    response_model=list[CategoryPublic],
)
def get_categories(session: ReadSessionDep) -> list[dict[str, Any]]:
    """Configurable categories (three-tier rule per severity, deadline per tier)."""
    return incident_queries.categories(session)
