"""Water quality at monitoring sections: the sections in my scope with their latest class and
trend (JSON with lon/lat, or GeoJSON), one section, its readings, and every reading as a
CSV or XLSX file."""

from __future__ import annotations

import dataclasses
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi import Path as PathParam
from fastapi.encoders import jsonable_encoder
from fastapi.responses import FileResponse, JSONResponse

from geo_patrol.api.deps import CurrentPrincipal, ReadSessionDep, ScopeDep
from geo_patrol.api.paging import GEOJSON, PAGED, PagingDep, link_page, paged_collection
from geo_patrol.api.routes.exports import FILE_ANSWER, send_file
from geo_patrol.api.schemas import WaterReadingPublic, WaterSectionPublic, WaterSections
from geo_patrol.core.values import Id, Moment
from geo_patrol.core.vocabulary import Language, SectionKind
from geo_patrol.exports import sources
from geo_patrol.exports.writers import MEDIA_TYPES, ListFormat, write
from geo_patrol.water import queries as water_queries
from geo_patrol.water.queries import Section, class_name

router = APIRouter(prefix="/api/v1", tags=["water"])


class SectionsFormat(StrEnum):
    """How the section list answers: JSON rows with lon/lat, or a GeoJSON FeatureCollection."""

    JSON = "json"
    GEOJSON = "geojson"


class ReadingsFormat(StrEnum):
    """The files the readings are exported as (a table: no geometry)."""

    CSV = "csv"
    XLSX = "xlsx"


class GeoJsonResponse(JSONResponse):
    """A JSON answer sent as application/geo+json."""

    media_type = GEOJSON


# The list's 200: JSON rows by default, a FeatureCollection (geo+json) when asked.
SECTIONS_ANSWER: dict[int | str, dict[str, Any]] = {
    200: {
        **PAGED[200],
        "model": WaterSections,
        "content": {
            "application/json": {
                "schema": {
                    "type": "array",
                    "items": {"$ref": "#/components/schemas/WaterSectionPublic"},
                }
            }
        },
    }
}


def section_answer(section: Section) -> dict[str, Any]:
    """A section as the API answers it (classes with their words)."""
    answer = dataclasses.asdict(section)
    answer["target_class_name"] = class_name(section.target_class)
    latest = answer["latest"]
    if section.latest is not None:
        latest["class_name"] = class_name(section.latest.water_class)
        latest["worse_than_target"] = section.latest.worse_than_target
        latest["over_target"] = list(section.latest.over_target)
    for point in answer["trend"]:
        point["class_name"] = class_name(point["water_class"])
    return answer


def _feature(section: Section) -> dict[str, Any]:
    """A section as a GeoJSON Feature of its point."""
    properties = section_answer(section)
    lon, lat = properties.pop("lon"), properties.pop("lat")
    point = {"type": "Point", "coordinates": [lon, lat]}
    return {"type": "Feature", "id": section.id, "geometry": point, "properties": properties}


@router.get(
    "/water/sections",
    summary="Monitoring sections in my scope, with the latest class and the trend",
    response_class=GeoJsonResponse,
    responses=SECTIONS_ANSWER,
)
def get_sections(
    request: Request,
    session: ReadSessionDep,
    scope: ScopeDep,
    paging: PagingDep,
    kind: SectionKind | None = None,
    river: Annotated[str | None, Query(max_length=64, description="A river's code.")] = None,
    worse: Annotated[
        bool | None,
        Query(description="true: the latest class is worse than the target; false: not."),
    ] = None,
    f: Annotated[
        SectionsFormat | None,
        Query(description="geojson: a FeatureCollection (as Accept: application/geo+json)."),
    ] = None,
) -> JSONResponse:
    """By code; a page at a time (Link rel=next). JSON rows with lon/lat, or GeoJSON with
    `f=geojson` or `Accept: application/geo+json`."""
    page = water_queries.section_page(
        session,
        scope=scope,
        kind=kind,
        river=river,
        worse=worse,
        limit=paging.limit,
        cursor=paging.cursor,
    )
    geojson = f is SectionsFormat.GEOJSON or (
        f is None and GEOJSON in request.headers.get("accept", "")
    )
    if geojson:
        body = paged_collection(request, page, [_feature(s) for s in page.items])
        response: JSONResponse = GeoJsonResponse(jsonable_encoder(body))
    else:
        response = JSONResponse(jsonable_encoder([section_answer(s) for s in page.items]))
    response.headers["Vary"] = "Accept"  # one URL, two representations
    link_page(request, response, page)
    return response


@router.get(
    "/water/sections/{section_id}",
    summary="One monitoring section, with the latest class and the trend",
    response_model=WaterSectionPublic,
)
def get_section(section_id: Id, session: ReadSessionDep, scope: ScopeDep) -> dict[str, Any]:
    """404 for a section out of my scope."""
    section = water_queries.get_section(session, scope=scope, section_id=section_id)
    return section_answer(section)


@router.get(
    "/water/sections/{section_id}/readings",
    summary="The readings of a section, newest first",
    response_model=list[WaterReadingPublic],
    responses=PAGED,
)
def get_readings(
    section_id: Id,
    request: Request,
    session: ReadSessionDep,
    scope: ScopeDep,
    paging: PagingDep,
) -> JSONResponse:
    """A page at a time (Link rel=next); 404 for a section out of my scope."""
    page = water_queries.reading_page(
        session, scope=scope, section_id=section_id, limit=paging.limit, cursor=paging.cursor
    )
    response = JSONResponse(jsonable_encoder(page.items))
    link_page(request, response, page)
    return response


@router.get(
    "/water/readings.{fmt}",
    summary="Every reading of the sections in my scope as a CSV or XLSX file",
    response_class=FileResponse,
    responses=FILE_ANSWER,
)
def export_readings(
    fmt: Annotated[ReadingsFormat, PathParam(description="csv or xlsx.")],
    session: ReadSessionDep,
    scope: ScopeDep,
    principal: CurrentPrincipal,
    section_id: Annotated[Id | None, Query(description="One section's readings.")] = None,
    since: Annotated[Moment | None, Query(description="Sampled at or after.")] = None,
    until: Annotated[Moment | None, Query(description="Sampled before.")] = None,
    lang: Annotated[
        Language, Query(description="Headers and words: zh (default) or en (column keys).")
    ] = Language.ZH,
) -> FileResponse:
    """By section code and time: a column per parameter, local times, the class and the
    target as words, the parameters over the target; Chinese headers unless `lang=en`."""
    request = sources.Request(scope=scope, principal=principal, lang=lang)
    filters = {"section_id": section_id, "since": since, "until": until}
    table = sources.water_readings(session, request, filters)
    list_format = ListFormat(fmt.value)
    return send_file(
        lambda folder: write(table, folder, list_format),
        MEDIA_TYPES[list_format],
        f"{table.name}.{fmt}",
    )
