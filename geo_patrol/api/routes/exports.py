"""Every list as a file: /api/v1/{list}.{fmt} (CSV, XLSX, GeoPackage, zipped Shapefile) with
the JSON list's filters and scope, every row; the patrols of a period as one GPX, KML or
GeoPackage. The file is written to a temporary directory (bounded memory) and streamed."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi import Path as PathParam
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

from geo_patrol.access.principal import Principal
from geo_patrol.access.scope import Scope
from geo_patrol.api.deps import CurrentPrincipal, ReadSessionDep, ScopeDep
from geo_patrol.api.list_filters import (
    DecisionFiltersDep,
    EffortFiltersDep,
    IncidentFiltersDep,
    PatrolFiltersDep,
    UncoveredFiltersDep,
)
from geo_patrol.api.routes.duty import QueryDep as DutyQueryDep
from geo_patrol.api.routes.meetings import decision_query, today
from geo_patrol.core.vocabulary import (
    Language,
)
from geo_patrol.duty import listing
from geo_patrol.exports import sources
from geo_patrol.exports.columns import Table
from geo_patrol.exports.sources import ExportDatum
from geo_patrol.exports.tracks import MEDIA_TYPES as TRACK_TYPES
from geo_patrol.exports.tracks import TrackFormat, write_tracks
from geo_patrol.exports.writers import MEDIA_TYPES, ListFormat, ShpEncoding, write

router = APIRouter(prefix="/api/v1", tags=["exports"])


def _answer(types: dict[Any, str]) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI description of a file download in these media types."""
    content = {
        media: {"schema": {"type": "string", "format": "binary"}} for media in types.values()
    }
    return {200: {"description": "The file, as a download.", "content": content}}


FILE_ANSWER = _answer(MEDIA_TYPES)
TRACKS_ANSWER = _answer(TRACK_TYPES)


def options(
    lang: Annotated[
        Language, Query(description="Headers and words: zh (default) or en (column keys).")
    ] = Language.ZH,
    datum: Annotated[
        ExportDatum, Query(description="Coordinates: wgs84, or gcj02 (Amap), bd09 (Baidu).")
    ] = ExportDatum.WGS84,
    encoding: Annotated[
        ShpEncoding, Query(description="Shapefile text: utf-8, or gbk for older ArcGIS.")
    ] = ShpEncoding.UTF8,
) -> sources.Options:
    """The options every list export takes."""
    return sources.Options(lang=lang, datum=datum, encoding=encoding)


OptionsDep = Annotated[sources.Options, Depends(options)]
ListFormatParam = Annotated[ListFormat, PathParam(description="csv, xlsx, gpkg or shp (zip).")]


def send_file(
    make: Callable[[Path], Path], media_type: str, download: str | None = None
) -> FileResponse:
    """Write the file into a temporary directory, stream it, then remove the directory."""
    folder = Path(tempfile.mkdtemp(prefix="geo-patrol-export-"))
    try:
        path = make(folder)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return FileResponse(
        path,
        media_type=media_type,
        filename=download or path.name,
        background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True),
    )


def _send_table(table: Table, fmt: ListFormat, options: sources.Options) -> FileResponse:
    """A list written in `fmt` as a download named after the list."""
    return send_file(
        lambda folder: write(table, folder, fmt, options.encoding),
        MEDIA_TYPES[fmt],
        f"{table.name}.{fmt}" if fmt is not ListFormat.SHP else f"{table.name}.shp.zip",
    )


def _request(scope: Scope, principal: Principal, options: sources.Options) -> sources.Request:
    """Who asks, with the asked language and datum."""
    return sources.Request(
        scope=scope, principal=principal, lang=options.lang, datum=options.datum.datum
    )


@router.get(
    "/patrols.{fmt}",
    summary="The patrol list as a file (every row, the list's filters)",
    response_class=FileResponse,
    responses=FILE_ANSWER,
)
def export_patrols(
    fmt: ListFormatParam,
    session: ReadSessionDep,
    scope: ScopeDep,
    principal: CurrentPrincipal,
    filters: PatrolFiltersDep,
    options: OptionsDep,
) -> FileResponse:
    """Patrols with their tracks (GeoPackage, Shapefile) or as rows (XLSX, CSV)."""
    request = _request(scope, principal, options)
    # CSV and XLSX have no geometry: the tracks (about 100 kB each) are not read for them.
    request = replace(request, geometry=fmt in (ListFormat.GPKG, ListFormat.SHP))
    table = sources.patrols(session, request, filters)
    return _send_table(table, fmt, options)


@router.get(
    "/incidents.{fmt}",
    summary="The incident list as a file (every row, the list's filters)",
    response_class=FileResponse,
    responses=FILE_ANSWER,
)
def export_incidents(
    fmt: ListFormatParam,
    session: ReadSessionDep,
    scope: ScopeDep,
    principal: CurrentPrincipal,
    filters: IncidentFiltersDep,
    options: OptionsDep,
) -> FileResponse:
    """Incidents as points, newest first; status, tier and category as words."""
    table = sources.incidents(session, _request(scope, principal, options), filters)
    return _send_table(table, fmt, options)


@router.get(
    "/effort.{fmt}",
    summary="The effort table as a file (no geometry: no Shapefile)",
    response_class=FileResponse,
    responses=FILE_ANSWER,
)
def export_effort(
    fmt: ListFormatParam,
    session: ReadSessionDep,
    scope: ScopeDep,
    principal: CurrentPrincipal,
    options: OptionsDep,
    filters: EffortFiltersDep,
) -> FileResponse:
    """Patrols, metres and seconds per group and period (default: the last 30 days)."""
    table = sources.effort(session, _request(scope, principal, options), filters)
    return _send_table(table, fmt, options)


@router.get(
    "/coverage/uncovered.{fmt}",
    summary="River stretches nobody patrolled in a period, as a file",
    response_class=FileResponse,
    responses=FILE_ANSWER,
)
def export_uncovered(
    fmt: ListFormatParam,
    session: ReadSessionDep,
    scope: ScopeDep,
    principal: CurrentPrincipal,
    options: OptionsDep,
    filters: UncoveredFiltersDep,
) -> FileResponse:
    """The uncovered parts of each segment over the last `days` days, as lines."""
    table = sources.uncovered(session, _request(scope, principal, options), filters)
    return _send_table(table, fmt, options)


@router.get(
    "/duty.{fmt}",
    summary="The chiefs' duty as a file: one row per chief per period, with the stretch",
    response_class=FileResponse,
    responses=FILE_ANSWER,
)
def export_duty(
    fmt: ListFormatParam,
    session: ReadSessionDep,
    scope: ScopeDep,
    principal: CurrentPrincipal,
    query: DutyQueryDep,
    options: OptionsDep,
    periods: Annotated[int, Query(ge=1, le=24, description="This many periods back.")] = 1,
) -> FileResponse:
    """The duty list's rows (filters as GET /api/v1/duty), the chief's stretch as lines."""
    duties = listing.list_duties(
        session, scope=scope, member_id=principal.member_id, query=query, count=periods
    )
    table = sources.duty(session, _request(scope, principal, options), duties)
    return _send_table(table, fmt, options)


@router.get(
    "/patrols/tracks.{fmt}",
    summary="The patrols of a period as one GPX, KML or GeoPackage (a track per patrol)",
    response_class=FileResponse,
    responses=TRACKS_ANSWER,
)
def export_tracks(
    fmt: Annotated[TrackFormat, PathParam(description="gpx, kml or gpkg.")],
    session: ReadSessionDep,
    scope: ScopeDep,
    principal: CurrentPrincipal,
    filters: PatrolFiltersDep,
    datum: Annotated[
        ExportDatum, Query(description="Coordinates: wgs84, or gcj02 (Amap), bd09 (Baidu).")
    ] = ExportDatum.WGS84,
) -> FileResponse:
    """Every patrol of the list's filters (period: since/until), its cleaned fixes."""
    request = _request(scope, principal, sources.Options(datum=datum))
    return send_file(
        lambda folder: write_tracks(
            session, request=request, filters=filters, fmt=fmt, folder=folder
        ),
        TRACK_TYPES[fmt],
    )


@router.get(
    "/decisions.{fmt}",
    summary="The decisions of joint meetings as a file (no geometry: no Shapefile)",
    response_class=FileResponse,
    responses=FILE_ANSWER,
)
def export_decisions(
    fmt: ListFormatParam,
    session: ReadSessionDep,
    scope: ScopeDep,
    principal: CurrentPrincipal,
    options: OptionsDep,
    filters: DecisionFiltersDep,
) -> FileResponse:
    """The decision list's rows (filters as GET /api/v1/decisions), by deadline."""
    table = sources.decisions(
        session,
        _request(scope, principal, options),
        decision_query(filters, principal.member_id),
        today=today(),
    )
    return _send_table(table, fmt, options)
