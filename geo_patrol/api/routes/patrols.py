"""Patrols: upload a track file, list, read one in full, effort, and the uncovered river."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
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

from geo_patrol.api.deps import (
    CurrentPrincipal,
    ScopeDep,
    SessionDep,
    SettingsDep,
    client_address,
    session_factory,
)
from geo_patrol.api.params import parse_bbox, parse_ids
from geo_patrol.api.schemas import (
    CSV_ANSWER,
    EffortRow,
    PatrolCreated,
    PatrolFeature,
    PatrolPublic,
    Uncovered,
)
from geo_patrol.core.catalog import msg
from geo_patrol.core.errors import NotFound
from geo_patrol.core.settings import Settings
from geo_patrol.core.values import BigId, Id, Moment
from geo_patrol.core.vocabulary import (
    Datum,
    EffortGroup,
    EffortPeriod,
    ExportFormat,
    Level,
    PatrolMode,
)
from geo_patrol.geography.queries import collection
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


@router.get("/patrols", summary="Patrols in my scope", response_model=list[PatrolPublic])
def get_patrols(
    session: SessionDep,
    scope: ScopeDep,
    team_id: Id | None = None,
    member_id: Id | None = None,
    jurisdiction: Annotated[str | None, Query(description="Code it passed through.")] = None,
    zone_id: Id | None = None,
    river: str | None = None,
    since: Moment | None = None,
    until: Moment | None = None,
    flag: Annotated[str | None, Query(description="A quality flag, e.g. too_short.")] = None,
    bbox: Annotated[str | None, Query(description="minlon,minlat,maxlon,maxlat")] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> list[dict[str, Any]]:
    """Newest first, filtered."""
    return patrol_queries.list_patrols(
        session,
        scope=scope,
        team_id=team_id,
        member_id=member_id,
        jurisdiction=jurisdiction,
        zone_id=zone_id,
        river=river,
        since=since,
        until=until,
        flag=flag,
        bbox=parse_bbox(bbox),
        limit=limit,
    )


@router.get(
    "/patrols/{patrol_id}",
    summary="One patrol: track, attribution, crossings, coverage",
    response_class=JSONResponse,
    response_model=PatrolFeature,  # documents the answer; the handler sends the text itself
)
def get_patrol(patrol_id: BigId, session: SessionDep, scope: ScopeDep) -> Response:
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
)
def get_effort(
    session: SessionDep,
    scope: ScopeDep,
    by: EffortGroup = EffortGroup.JURISDICTION,
    period: EffortPeriod = EffortPeriod.WEEK,
    level: Level = Level.TOWN,
    since: Moment | None = None,
    until: Moment | None = None,
) -> list[dict[str, Any]]:
    """Patrols, metres and seconds per group and period (default: the last 30 days)."""
    until = until or datetime.now(UTC)
    since = since or until - timedelta(days=30)
    return patrol_queries.effort(
        session, scope=scope, by=by, period=period, since=since, until=until, level=level
    )


@router.get(
    "/coverage/uncovered",
    summary="River stretches nobody patrolled in a period",
    response_model=Uncovered,
)
def get_uncovered(
    session: SessionDep,
    scope: ScopeDep,
    days: Annotated[int, Query(ge=1, le=366)] = 7,
    border: Annotated[bool | None, Query(description="Only border segments.")] = None,
    river: Annotated[str | None, Query(description="River code.")] = None,
) -> dict[str, Any]:
    """GeoJSON of the uncovered parts of each segment over the last `days` days."""
    until = datetime.now(UTC)
    rows = uncovered_stretches(
        session,
        since=until - timedelta(days=days),
        until=until,
        visible=patrol_queries.patrol_filter(scope),
        border=border,
        river=river,
    )
    features = [
        {
            "type": "Feature",
            "geometry": row.geometry,
            "properties": {k: v for k, v in row._mapping.items() if k != "geometry"},
        }
        for row in rows
    ]
    return collection(features)


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
    session: SessionDep,
    scope: ScopeDep,
) -> Response:
    """The cleaned track in the chosen format, as a download (GPX and KML stream out)."""
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


@router.get("/patrols/{patrol_id}/original", summary="The uploaded file exactly as sent")
def original_file(
    patrol_id: BigId, session: SessionDep, scope: ScopeDep, settings: SettingsDep
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


@router.get(
    "/patrols.csv",
    summary="The patrol list as CSV",
    response_class=Response,
    responses=CSV_ANSWER,
)
def patrols_csv(
    session: SessionDep,
    scope: ScopeDep,
    since: Moment | None = None,
    until: Moment | None = None,
    team_id: Id | None = None,
) -> Response:
    """Same filters as the list (a subset), as a spreadsheet."""
    rows = patrol_queries.list_patrols(
        session, scope=scope, since=since, until=until, team_id=team_id, limit=100_000
    )
    disposition = {"Content-Disposition": 'attachment; filename="patrols.csv"'}
    return Response(exports.to_csv(rows), media_type="text/csv; charset=utf-8", headers=disposition)
