"""Import incidents other systems already hold (a 12345 hotline, a river-chief platform):
a CSV or XLSX export, each row routed as a single report would be."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, UploadFile

from geo_patrol.api.deps import CurrentPrincipal, ScopeDep, SessionDep, SettingsDep
from geo_patrol.api.schemas import IncidentImportPublic
from geo_patrol.core.vocabulary import Datum
from geo_patrol.incidents.bulk_import import ImportOptions, import_incidents
from geo_patrol.incidents.bulk_import_file import LIMITS

router = APIRouter(prefix="/api/v1", tags=["incidents"])


@router.post(
    "/incidents/import",
    summary="Import reports from a CSV or XLSX export",
    response_model=IncidentImportPublic,
    responses={
        422: {"description": "Refused rows: `errors` lists each {row, field, detail}."},
        413: {"description": "The file is too large."},
    },
)
def post_incident_import(
    session: SessionDep,
    scope: ScopeDep,
    settings: SettingsDep,
    principal: CurrentPrincipal,
    file: Annotated[UploadFile, File(description="CSV (UTF-8 or GB18030) or XLSX.")],
    dry_run: Annotated[bool, Form(description="Route and report each row; store nothing.")] = False,
    skip_errors: Annotated[
        bool, Form(description="Store the good rows and report the refused ones.")
    ] = False,
    datum: Annotated[Datum, Form(description="Datum of rows without a datum column.")] = (
        Datum.WGS84
    ),
    source: Annotated[
        str | None, Form(max_length=200, description="Platform of rows without a 来源 column.")
    ] = None,
    categories: Annotated[
        str | None,
        Form(
            max_length=100_000,
            description='Category table: lines "word,code" or a JSON object {"word": "code"}.',
        ),
    ] = None,
) -> dict[str, Any]:
    """All rows stored, or none (unless skip_errors); the same rows again change nothing."""
    data = file.file.read(LIMITS.max_bytes + 1)
    options = ImportOptions(
        source=source or None,
        datum=datum,
        categories=categories,
        dry_run=dry_run,
        skip_errors=skip_errors,
        filename=file.filename,
    )
    report = import_incidents(
        session, data=data, options=options, scope=scope, principal=principal, settings=settings
    )
    return asdict(report)
