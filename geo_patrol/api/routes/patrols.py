"""Patrols: upload a track file, list, read one in full, effort, and the uncovered river."""

from __future__ import annotations

import json
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import (
    APIRouter,
    FastAPI,
    File,
    Form,
    Header,
    Path,
    Query,
    Request,
    Response,
    UploadFile,
)
from fastapi.concurrency import run_in_threadpool
from fastapi.encoders import jsonable_encoder
from fastapi.responses import FileResponse, JSONResponse, StreamingResponse
from sqlalchemy.orm import Session

from geo_patrol.access.scope import Scope
from geo_patrol.api.deps import (
    CurrentPrincipal,
    ReadSessionDep,
    ScopeDep,
    SessionDep,
    SettingsDep,
    client_address,
    session_factory,
)
from geo_patrol.api.list_filters import (
    EffortFiltersDep,
    PatrolFiltersDep,
    UncoveredFiltersDep,
)
from geo_patrol.api.openapi import file_answer
from geo_patrol.api.paging import PAGED, PagingDep, link_page, paged_collection
from geo_patrol.api.params import parse_ids
from geo_patrol.api.routes.exports import send_file
from geo_patrol.api.schemas import (
    EffortRow,
    PatrolCreated,
    PatrolFeature,
    PatrolPublic,
    Uncovered,
)
from geo_patrol.core.catalog import msg
from geo_patrol.core.errors import InvalidInput, NotFound
from geo_patrol.core.settings import Settings
from geo_patrol.core.values import BigId, Id
from geo_patrol.core.vocabulary import (
    Datum,
    ExportFormat,
    PatrolMode,
)
from geo_patrol.exports.sources import ExportDatum
from geo_patrol.exports.tracks import TrackFormat, write_patrol
from geo_patrol.patrols import exports
from geo_patrol.patrols import queries as patrol_queries
from geo_patrol.patrols.coverage import uncovered_stretches
from geo_patrol.patrols.track.formats.csv_file import CsvOptions
from geo_patrol.patrols.track.worker import ParseSlots
from geo_patrol.patrols.upload import UploadRequest, upload_patrol

router = APIRouter(prefix="/api/v1", tags=["patrols"])


def parse_slots(app: FastAPI, settings: Settings) -> ParseSlots:
    """The app's upload slots (made on first use from its settings)."""
    slots: ParseSlots | None = getattr(app.state, "parse_slots", None)
    if slots is None:
        slots = app.state.parse_slots = ParseSlots.of(settings)
    return slots


@router.post(
    "/patrols",
    summary="Upload a track file (GPX, KML, KMZ, GeoJSON, CSV)",
    response_model=PatrolCreated,
    responses={201: {"model": PatrolCreated, "description": "Created"}},
)
async def post_patrol(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: CurrentPrincipal,
    file: Annotated[UploadFile, File(description="The track file as exported by the app.")],
    team_id: Annotated[Id, Form()],
    datum: Annotated[Datum, Form()] = Datum.WGS84,
    mode: Annotated[PatrolMode, Form()] = PatrolMode.FOOT,
    members: Annotated[str | None, Form(description="Member ids on the outing: 3,7,9")] = None,
    upload_id: Annotated[str | None, Form(max_length=128)] = None,
    title: Annotated[str | None, Form(max_length=200)] = None,
    csv_lon: Annotated[str, Form()] = "lon",
    csv_lat: Annotated[str, Form()] = "lat",
    csv_time: Annotated[str, Form()] = "time",
    idempotency_key: Annotated[str | None, Header(max_length=128)] = None,
) -> JSONResponse:
    """Store the patrol once: a retry (same upload id or same file) returns the first one.
    Read in a worker process, a few at a time (patrols.track.worker): the body stays spooled on
    disk until a slot is free, and a 503 with Retry-After answers a long wait. The sign-in's
    transaction ends first: a waiting upload holds no database connection."""
    await run_in_threadpool(session.commit)
    async with parse_slots(request.app, settings).slot():
        upload = UploadRequest(
            team_id=team_id,
            filename=file.filename or "upload",
            data=await file.read(),
            datum=datum,
            mode=mode,
            member_ids=parse_ids(members, field="members"),
            client_upload_id=upload_id or idempotency_key,
            title=title,
            csv=CsvOptions(lon=csv_lon, lat=csv_lat, time=csv_time),
        )
        result = await run_in_threadpool(
            upload_patrol,
            session,
            request=upload,
            principal=principal,
            settings=settings,
            address=client_address(request),
            isolated=True,
        )
    body = {"id": result.patrol_id, "created": result.created}
    return JSONResponse(
        body,
        status_code=201 if result.created else 200,
        headers={"Location": f"/api/v1/patrols/{result.patrol_id}"},
    )


@router.get(
    "/patrols", summary="Patrols in my scope", response_model=list[PatrolPublic], responses=PAGED
)
def get_patrols(
    request: Request,
    response: Response,
    session: ReadSessionDep,
    scope: ScopeDep,
    paging: PagingDep,
    filters: PatrolFiltersDep,
) -> list[dict[str, Any]]:
    """Newest first (untimed tracks last), filtered; a page at a time (Link rel=next)."""
    page = patrol_queries.patrol_page(
        session, scope=scope, limit=paging.limit, cursor=paging.cursor, **filters
    )
    link_page(request, response, page)
    return page.items


@router.get(
    "/patrols/{patrol_id}",
    summary="One patrol: track, attribution, crossings, coverage",
    response_class=JSONResponse,
    response_model=PatrolFeature,  # documents the answer; the handler sends the text itself
)
def get_patrol(patrol_id: BigId, session: ReadSessionDep, scope: ScopeDep) -> Response:
    """A GeoJSON Feature of the cleaned track with everything computed about it."""
    patrol = patrol_queries.get_patrol(session, scope=scope, patrol_id=patrol_id)
    return Response(_feature(patrol_id, patrol), media_type="application/json")


def _feature(patrol_id: int, patrol: dict[str, Any]) -> str:
    """The patrol as a GeoJSON Feature. The track's GeoJSON text from PostGIS goes in as it
    is: a million-vertex track parsed into Python lists and encoded again took seconds."""
    geometry: str | None = patrol.pop("geometry")
    feature = {"type": "Feature", "id": patrol_id, "properties": jsonable_encoder(patrol)}
    head = json.dumps(feature, ensure_ascii=False, allow_nan=False)
    return f'{head[:-1]}, "geometry": {geometry or "null"}}}'


@router.get(
    "/effort",
    summary="Patrol effort by jurisdiction, team, member or river",
    response_model=list[EffortRow],
    responses=PAGED,
)
def get_effort(
    request: Request,
    response: Response,
    session: ReadSessionDep,
    scope: ScopeDep,
    paging: PagingDep,
    filters: EffortFiltersDep,
) -> list[dict[str, Any]]:
    """Patrols, metres and seconds per group and period (default: the last 30 days), by
    period and group; a page at a time (Link rel=next)."""
    page = patrol_queries.effort(
        session, scope=scope, limit=paging.limit, cursor=paging.cursor, **filters
    )
    link_page(request, response, page)
    return page.items


@router.get(
    "/coverage/uncovered",
    summary="River stretches nobody patrolled in a period",
    response_model=Uncovered,
    responses=PAGED,
)
def get_uncovered(
    request: Request,
    response: Response,
    session: ReadSessionDep,
    scope: ScopeDep,
    paging: PagingDep,
    filters: UncoveredFiltersDep,
) -> dict[str, Any]:
    """GeoJSON of the uncovered parts of each segment over the last `days` days, by river,
    segment and place along it; a page at a time (Link rel=next)."""
    page = uncovered_stretches(
        session,
        visible=patrol_queries.patrol_filter(scope),
        limit=paging.limit,
        cursor=paging.cursor,
        **filters,
    )
    features = [
        {
            "type": "Feature",
            "geometry": row.pop("geometry"),
            "properties": row,
        }
        for row in page.items
    ]
    link_page(request, response, page)
    return paged_collection(request, page, features)


EXPORT_TYPES = {
    "gpx": "application/gpx+xml",
    "kml": "application/vnd.google-earth.kml+xml",
    "geojson": "application/geo+json",
}


@router.get(
    "/patrols/{patrol_id}/export.{fmt}",
    summary="Export a patrol as GPX, KML or GeoJSON",
    response_class=Response,
    responses={
        200: {
            "description": "The track as a download, in the format asked for.",
            "content": {
                EXPORT_TYPES["gpx"]: {"schema": {"type": "string"}},
                EXPORT_TYPES["kml"]: {"schema": {"type": "string"}},
                # The same Feature as GET /patrols/{patrol_id} (PostGIS's text, as it is).
                EXPORT_TYPES["geojson"]: {
                    "schema": {"$ref": "#/components/schemas/Feature_PatrolProperties_"}
                },
            },
        }
    },
)
def export_patrol(
    patrol_id: BigId,
    fmt: Annotated[ExportFormat, Path()],
    request: Request,
    session: ReadSessionDep,
    scope: ScopeDep,
    datum: Annotated[
        ExportDatum, Query(description="GPX and KML coordinates: wgs84, gcj02 (Amap), bd09.")
    ] = ExportDatum.WGS84,
) -> Response:
    """The cleaned track in the chosen format, as a download (GPX and KML stream out)."""
    if datum is not ExportDatum.WGS84:
        return _in_datum(session, scope=scope, patrol_id=patrol_id, fmt=fmt, datum=datum)
    headers = {"Content-Disposition": f'attachment; filename="patrol-{patrol_id}.{fmt}"'}
    if fmt == "geojson":
        body = _feature(
            patrol_id, patrol_queries.get_patrol(session, scope=scope, patrol_id=patrol_id)
        )
        return Response(body, media_type=EXPORT_TYPES[fmt], headers=headers)
    # GPX and KML read the fixes block by block: only the header is read here, not the track.
    patrol = patrol_queries.patrol_header(session, scope=scope, patrol_id=patrol_id)
    name = patrol["title"] or f"patrol {patrol_id}"
    timed = patrol["started_at"] is not None
    pieces = exports.track_text(
        session_factory(request.app), fmt=fmt, name=name, patrol_id=patrol_id, timed=timed
    )
    return StreamingResponse(pieces, media_type=EXPORT_TYPES[fmt], headers=headers)


def _in_datum(
    session: Session, *, scope: Scope, patrol_id: int, fmt: ExportFormat, datum: ExportDatum
) -> Response:
    """The track as GPX or KML in GCJ-02 or BD-09 (geo_patrol.exports.tracks)."""
    if fmt is ExportFormat.GEOJSON:
        raise InvalidInput(msg("problem.exports.geojson_is_wgs84"), field="datum")
    patrol = patrol_queries.patrol_header(session, scope=scope, patrol_id=patrol_id)
    track_format = TrackFormat(fmt.value)
    return send_file(
        lambda folder: write_patrol(
            session, patrol=patrol, fmt=track_format, datum=datum.datum, folder=folder
        ),
        EXPORT_TYPES[fmt],
    )


@router.get(
    "/patrols/{patrol_id}/original",
    summary="The uploaded file exactly as sent",
    response_class=Response,
    responses=file_answer("application/octet-stream", description="The file as uploaded"),
)
def original_file(
    patrol_id: BigId, session: ReadSessionDep, scope: ScopeDep, settings: SettingsDep
) -> Response:
    """The original upload (checksum-named on disk)."""
    patrol_queries.patrol_header(session, scope=scope, patrol_id=patrol_id)
    upload = patrol_queries.upload_of(session, patrol_id=patrol_id)
    stored = settings.uploads_dir / upload.sha256[:2] / upload.sha256
    if not stored.exists():
        raise NotFound(msg("problem.api.no_original_file", patrol_id=patrol_id), field="patrol_id")
    disposition = f'attachment; filename="{quote(upload.filename)}"'
    return FileResponse(
        stored, headers={"Content-Disposition": disposition, "X-Checksum-SHA256": upload.sha256}
    )
