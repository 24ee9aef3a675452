"""Parameters shared by several routes, and the checks every request's parameters pass.

Text must be storable by PostgreSQL (no NUL): `refuse_unstorable` checks the path, query
and form fields of every route once, before its handler runs; JSON bodies use the `Text` type
of their models, and ids of every kind the `Id`/`BigId` types bounded to their column
(geo_patrol.core.values).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from fastapi import Request
from starlette.datastructures import UploadFile

from geo_patrol.core.catalog import msg
from geo_patrol.core.errors import InvalidInput
from geo_patrol.core.values import INT4_MAX, unstorable


def parse_bbox(value: str | None) -> list[float] | None:
    """minlon,minlat,maxlon,maxlat as four floats (None when absent)."""
    if value is None:
        return None
    try:
        numbers = [float(v) for v in value.split(",")]
    except ValueError as error:
        raise InvalidInput(msg("problem.api.bbox_format"), field="bbox") from error
    if len(numbers) != 4 or not all(map(math.isfinite, numbers)):
        raise InvalidInput(msg("problem.api.bbox_format"), field="bbox")
    return numbers


def parse_ids(value: str | None, *, field: str) -> tuple[int, ...]:
    """Comma-separated ids (`3,7,9`), each within `Id`."""
    try:
        ids = tuple(int(v) for v in (value or "").split(",") if v.strip())
    except ValueError as error:
        raise InvalidInput(msg("problem.api.ids_format", field=field), field=field) from error
    if any(not 1 <= i <= INT4_MAX for i in ids):
        raise InvalidInput(
            msg("problem.api.id_out_of_range", field=field, int4_max=INT4_MAX), field=field
        )
    return ids


def check_storable(fields: Iterable[tuple[str, object]]) -> None:
    """Refuse the first text field (or file name) PostgreSQL cannot store, naming it."""
    for name, value in fields:
        text = value.filename or "" if isinstance(value, UploadFile) else value
        if isinstance(text, str) and (problem := unstorable(text) or unstorable(name)):
            shown = ascii(name) if unstorable(name) else name
            raise InvalidInput(
                msg("problem.api.text_not_storable", field=shown, problem=problem), field=shown
            )


def refuse_unstorable(request: Request) -> None:
    """Every route's path parameters, query parameters and form fields are storable text (the
    form is checked when the route reads one, file names included: FastAPI parsed it)."""
    check_storable(request.path_params.items())
    check_storable(request.query_params.multi_items())
    form = request._form  # set by FastAPI for routes with form fields, else None
    if form is not None:
        check_storable(form.multi_items())
