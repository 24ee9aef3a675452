"""Import monitoring sections and their readings (CSV, XLSX; sections also GeoJSON): each
row stored, unchanged or refused with its line and column; administrators and supervisors
(of the sections' sides) only."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile

from geo_patrol.api.deps import CurrentPrincipal, ScopeDep, SessionDep, SettingsDep
from geo_patrol.api.problems import problem_lang
from geo_patrol.api.schemas import ReadingImportPublic, SectionImportPublic
from geo_patrol.core.vocabulary import Datum
from geo_patrol.water import reading_file, section_file
from geo_patrol.water.readings import ReadingOptions, import_readings
from geo_patrol.water.sections import SectionOptions, import_sections

router = APIRouter(prefix="/api/v1", tags=["water"])
REFUSED: dict[int | str, dict[str, Any]] = {
    422: {"description": "A file that cannot be read (no header, a missing column...)."},
    413: {"description": "The file is too large."},
}


@router.post(
    "/water/sections/import",
    summary="Import monitoring sections from CSV, XLSX or GeoJSON",
    response_model=SectionImportPublic,
    responses=REFUSED,
)
def post_section_import(
    request: Request,
    session: SessionDep,
    scope: ScopeDep,
    settings: SettingsDep,
    principal: CurrentPrincipal,
    file: Annotated[UploadFile, File(description="CSV (UTF-8 or GB18030), XLSX or GeoJSON.")],
    dry_run: Annotated[bool, Form(description="Snap and report each row; store nothing.")] = (
        False
    ),
    datum: Annotated[Datum, Form(description="Datum of rows without a datum column.")] = (
        Datum.WGS84
    ),
) -> dict[str, Any]:
    """Each row snapped to its river and upserted by code (what changed is listed); refused
    rows list why by line and column; the same file again changes nothing."""
    data = file.file.read(section_file.LIMITS.max_bytes + 1)
    options = SectionOptions(datum=datum, dry_run=dry_run, filename=file.filename)
    report = import_sections(
        session, data=data, options=options, scope=scope, principal=principal, settings=settings
    )
    return report.answer(problem_lang(request.scope))


@router.post(
    "/water/readings/import",
    summary="Import readings of monitoring sections from CSV or XLSX",
    response_model=ReadingImportPublic,
    responses=REFUSED,
)
def post_reading_import(
    request: Request,
    session: SessionDep,
    scope: ScopeDep,
    settings: SettingsDep,
    principal: CurrentPrincipal,
    file: Annotated[UploadFile, File(description="CSV (UTF-8 or GB18030) or XLSX.")],
    dry_run: Annotated[bool, Form(description="Class and report each row; store nothing.")] = (
        False
    ),
    replace: Annotated[
        bool, Form(description="A row with other values at a stored time replaces it.")
    ] = False,
) -> dict[str, Any]:
    """Each row classed by GB 3838-2002 and stored once per section and time; a retry stores
    nothing; refused rows list why by line and column."""
    data = file.file.read(reading_file.LIMITS.max_bytes + 1)
    options = ReadingOptions(dry_run=dry_run, replace=replace, filename=file.filename)
    report = import_readings(
        session, data=data, options=options, scope=scope, principal=principal, settings=settings
    )
    return report.answer(problem_lang(request.scope))
