"""Parameters shared by several routes, and the checks every request's parameters pass.

Text may not hold NUL, which PostgreSQL cannot store: `refuse_nul` checks the path, query and
form fields of every route once, before its handler runs; JSON bodies use the `Text` type of
their models, and ids of every kind the `Id`/`BigId` types bounded to their column
(geo_patrol.schemas).
"""

from __future__ import annotations

from collections.abc import Iterable

from fastapi import Request
from starlette.datastructures import UploadFile

from geo_patrol.errors import InvalidInput
from geo_patrol.schemas import INT4_MAX, has_nul


def parse_bbox(value: str | None) -> list[float] | None:
    """minlon,minlat,maxlon,maxlat as four floats (None when absent)."""
    if value is None:
        return None
    try:
        numbers = [float(v) for v in value.split(",")]
    except ValueError as error:
        raise InvalidInput("bbox must be minlon,minlat,maxlon,maxlat", field="bbox") from error
    if len(numbers) != 4:
        raise InvalidInput("bbox must be minlon,minlat,maxlon,maxlat", field="bbox")
    return numbers


def parse_ids(value: str | None, *, field: str) -> tuple[int, ...]:
    """Comma-separated ids (`3,7,9`), each within `Id`."""
    try:
        ids = tuple(int(v) for v in (value or "").split(",") if v.strip())
    except ValueError as error:
        raise InvalidInput(f"{field} must be comma-separated ids", field=field) from error
    if any(not 1 <= i <= INT4_MAX for i in ids):
        raise InvalidInput(f"{field}: each id is between 1 and {INT4_MAX}", field=field)
    return ids


def check_no_nul(fields: Iterable[tuple[str, object]]) -> None:
    """Refuse the first text field holding a NUL character (422 naming it)."""
    for name, value in fields:
        text = value.filename or "" if isinstance(value, UploadFile) else value
        if isinstance(text, str) and (has_nul(text) or has_nul(name)):
            raise InvalidInput(f"{name} must not contain NUL (\\u0000) characters", field=name)


def refuse_nul(request: Request) -> None:
    """Every route's path parameters, query parameters and form fields hold no NUL (the form
    is checked when the route reads one, file names included: FastAPI parsed it already)."""
    check_no_nul(request.path_params.items())
    check_no_nul(request.query_params.multi_items())
    form = request._form  # set by FastAPI for routes with form fields, else None
    if form is not None:
        check_no_nul(form.multi_items())
