"""Render every error as application/problem+json (RFC 9457), in one place.

Every problem carries a stable `code` (see core.errors) and its title and detail in the
reader's language: `lang=zh|en` in the query, else Accept-Language (zh, zh-CN, zh-Hans... or
en, en-*, by weight), else Chinese for a page a browser opens (Accept: text/html; the pages'
default language, GEO_PATROL_MAP_LANGUAGE) and English for an API client, as before this
existed: a client that sends no Accept-Language keeps the English it matches. The phone app
sends its own language.
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qs, quote

import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from geo_patrol.core import catalog
from geo_patrol.core.catalog import Lang, accepted_lang, msg
from geo_patrol.core.errors import (
    Conflict,
    DatabaseUnavailable,
    GeoPatrolError,
    InvalidInput,
    NotAuthenticated,
    UnexpectedError,
)
from geo_patrol.core.values import unstorable
from geo_patrol.db.engine import UNREACHABLE
from geo_patrol.db.outages import Outage

log = logging.getLogger(__name__)
PROBLEM = "application/problem+json"


def _problem(
    body: dict[str, object], status: int, headers: dict[str, str] | None = None
) -> JSONResponse:
    """A problem+json response (401s say how to authenticate)."""
    if status == 401:
        headers = {**(headers or {}), "WWW-Authenticate": 'Bearer realm="geo-patrol"'}
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def _header(scope: Scope, name: bytes) -> str | None:
    """One request header of an ASGI scope (the first), decoded."""
    for key, value in scope.get("headers") or ():
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


def problem_lang(scope: Scope) -> Lang:
    """The language of a problem answered to this request (see the module's docstring)."""
    asked = parse_qs(bytes(scope.get("query_string") or b"").decode("latin-1")).get("lang")
    if asked and asked[-1] in ("zh", "en"):
        return "zh" if asked[-1] == "zh" else "en"
    accepted = accepted_lang(_header(scope, b"accept-language"))
    if accepted:
        return accepted
    if "text/html" in (_header(scope, b"accept") or ""):
        settings = getattr(getattr(scope.get("app"), "state", None), "settings", None)
        return catalog.lang_of(getattr(settings, "map_language", "zh"))
    return "en"


def problem_response(request: Request, error: GeoPatrolError) -> JSONResponse:
    """The response for one of our errors (for handlers that return rather than raise)."""
    retry = getattr(error, "retry_after", None) or error.extra.get("retry_after")
    headers = {"Retry-After": str(retry)} if retry is not None else None
    body = error.problem(instance=request.url.path, lang=problem_lang(request.scope))
    return _problem(body, error.status, headers)


# Pages a browser opens directly: without a sign-in it is sent to the sign-in form and back.
SIGN_IN_PAGES = ("/map", "/incidents", "/m/devices", "/duty")


def _wants_page(request: Request) -> bool:
    """A browser asking for one of our pages (not an API client)."""
    return (
        request.method == "GET"
        and any(
            request.url.path == page or request.url.path.startswith(page + "/")
            for page in SIGN_IN_PAGES
        )
        and "text/html" in request.headers.get("accept", "")
    )


async def domain_error(request: Request, exc: Exception) -> Response:
    """Our own errors carry their status and detail."""
    assert isinstance(exc, GeoPatrolError)
    if isinstance(exc, NotAuthenticated) and _wants_page(request):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
    return problem_response(request, exc)


def _shown(location: Sequence[object]) -> str:
    """A field's place as text (a JSON key may hold half a surrogate pair: then escaped)."""
    field = ".".join(str(part) for part in location[1:]) or str(location[0])
    return ascii(field) if unstorable(field) else field


# pydantic's error types the catalog words (problem.validation.<type>); any other type is
# shown with pydantic's own English message (problem.validation.other).
VALIDATION_CONTEXT = ("min_length", "max_length", "ge", "gt", "le", "lt", "expected", "pattern")


def validation_message(error: Any, lang: Lang) -> tuple[str, str]:
    """The code and the words of one pydantic error, naming its field. English stays
    pydantic's message, as API clients have always read it; a ValueError of ours carries its
    Message (core.values: text PostgreSQL cannot store), whose code it takes."""
    field = _shown(error["loc"])
    context = error.get("ctx") or {}
    carried = context.get("error")
    reason = catalog.reason(carried) if isinstance(carried, ValueError) else None
    if reason is not None and reason.key != "problem.core.invalid_value":
        words = catalog.text("problem.validation.with_reason", lang, field=field, reason=reason)
        return reason.code, str(error["msg"]) if lang == "en" else words
    key = f"problem.validation.{error.get('type', 'other')}"
    if key not in catalog.catalog():
        key = "problem.validation.other"
    if lang == "en":
        return key.removeprefix("problem."), str(error["msg"])
    shown = {name: context.get(name, "") for name in VALIDATION_CONTEXT}
    if isinstance(shown["expected"], str):
        shown["expected"] = shown["expected"].replace(" or ", ", ")
    words = catalog.catalog()[key][lang].format(field=field, message=error["msg"], **shown)
    return key.removeprefix("problem."), words


async def validation_error(request: Request, exc: Exception) -> JSONResponse:
    """FastAPI's request validation, reworded to name each field, in the reader's language."""
    assert isinstance(exc, RequestValidationError)
    lang = problem_lang(request.scope)
    errors = []
    for err in exc.errors():
        code, message = validation_message(err, lang)
        errors.append({"field": _shown(err["loc"]), "message": message, "code": code})
    joiner = "；" if lang == "zh" else "; "
    detail = joiner.join(
        e["message"] if lang == "zh" else f"{e['field']}: {e['message']}" for e in errors
    )
    body = {
        "type": "about:blank",
        "title": catalog.text("error.invalid_input", lang),
        "status": 422,
        "code": errors[0]["code"] if len(errors) == 1 else "validation.several",
        "detail": detail,
        "instance": request.url.path,
        "errors": errors,
    }
    return _problem(body, 422)


# Starlette's own refusals (an unknown address, a method a route does not take).
HTTP_PROBLEMS = {404: "problem.http.no_route", 405: "problem.http.method_not_allowed"}


async def http_error(request: Request, exc: Exception) -> JSONResponse:
    """Starlette's HTTP errors (404 for unknown routes, 405...); English as Starlette words
    them, Chinese from the catalog."""
    assert isinstance(exc, HTTPException)
    lang = problem_lang(request.scope)
    key = HTTP_PROBLEMS.get(exc.status_code, "problem.http.other")
    english = str(exc.detail)
    title = "error.not_found" if exc.status_code == 404 else "error.bad_request"
    body = {
        "type": "about:blank",
        "title": english if lang == "en" else catalog.text(title, lang),
        "status": exc.status_code,
        "code": key.removeprefix("problem."),
        "detail": english if lang == "en" else catalog.text(key, lang, status=exc.status_code),
        "instance": request.url.path,
    }
    return _problem(body, exc.status_code)


async def database_down(request: Request, exc: Exception) -> JSONResponse:
    """A database that cannot be reached in time is a 503, logged as part of an outage."""
    outage: Outage = request.app.state.database_outage
    outage.failed(
        exc, "database unavailable on %s %s; answered 503", request.method, request.url.path
    )
    error = DatabaseUnavailable(msg("problem.db.unreachable"))
    return problem_response(request, error)


# PostgreSQL's "Key (member_id)=(0) is not present in table ..." names the column and value.
_KEY = re.compile(r"Key \((?P<column>[^)]*)\)=\((?P<value>.*?)\)")
# SQLSTATE of the constraint errors: a reference to nothing is the client's input (422), the
# rest contradict what is stored (409).
_REFERENCE_TO_NOTHING = "23503"
_INPUT_ERRORS = {"23502", "23514"}  # not null, check


def database_refusal(exc: DBAPIError) -> GeoPatrolError:
    """What a statement the database refused means for the client, naming the column when
    PostgreSQL says which: data it cannot hold or a reference to nothing (422), a conflict
    with stored data (409)."""
    orig = exc.orig
    diag = orig.diag if isinstance(orig, psycopg.Error) else None
    message = (diag and diag.message_primary) or str(orig).splitlines()[0]
    key = _KEY.search((diag and diag.message_detail) or "")
    column = key["column"] if key else diag and diag.column_name
    sqlstate = getattr(orig, "sqlstate", None)
    if isinstance(exc, DataError):  # (NUL in text is refused by the driver: no sqlstate)
        return InvalidInput(msg("problem.api.value_not_storable", message=message), field=column)
    if sqlstate == _REFERENCE_TO_NOTHING and key and "is not present" in message + str(orig):
        return InvalidInput(
            msg("problem.api.reference_missing", column=column, value=key["value"]), field=column
        )
    if sqlstate in _INPUT_ERRORS:
        return InvalidInput(
            msg("problem.api.value_missing_or_not_allowed", message=message), field=column
        )
    stored = f"{column} {key['value']}" if key else msg("problem.api.the_change")
    return Conflict(msg("problem.api.conflicts_with_stored", stored=stored), field=column)


async def database_refused(request: Request, exc: Exception) -> JSONResponse:
    """Data or integrity errors from the database: 422/409 problem+json, logged (each one is
    a check the request's boundary should have made)."""
    assert isinstance(exc, DBAPIError)
    error = database_refusal(exc)
    log.warning(
        "database refused %s %s (%d): %s",
        request.method,
        request.url.path,
        error.status,
        str(exc.orig).splitlines()[0] if exc.orig else exc,
    )
    return problem_response(request, error)


class UnexpectedErrors:
    """Answer an unexpected error with a 500 problem+json carrying an error id, logged with
    its traceback under the same id. The error ends here rather than in the server, which
    would drop the connection: the client's keep-alive connection serves its next request.
    Installed innermost, so the other middleware see an ordinary 500 answer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the app; on an error before its answer began, answer the 500 instead."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watched_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watched_send)
        except Exception:
            error_id = secrets.token_hex(8)
            log.exception(
                "unexpected error %s on %s %s", error_id, scope.get("method"), scope.get("path")
            )
            if started:
                raise  # half an answer is out: only closing the connection can say so
            error = UnexpectedError(
                msg("problem.api.unexpected", error_id=error_id),
                error_id=error_id,
            )
            body = error.problem(instance=scope.get("path"), lang=problem_lang(scope))
            await JSONResponse(body, error.status, media_type=PROBLEM)(scope, receive, send)


# What every refusal looks like (RFC 9457), as the OpenAPI documents it.
PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "code": {
            "type": "string",
            "description": "Stable identifier of the problem (dotted, snake_case), for clients "
            "to match; title and detail are in the language Accept-Language asks (zh or en).",
        },
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "field": {"type": "string", "description": "The parameter or field refused."},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {
                    "field": {"type": "string"},
                    "message": {"type": "string"},
                    "code": {"type": "string"},
                },
            },
        },
    },
}


def _document_problems(schema: dict[str, Any]) -> dict[str, Any]:
    """Say in the OpenAPI what a 422 really is: problem+json naming each field, not FastAPI's
    default body (Open311's routes answer 400 in their own format instead)."""
    for path, operations in schema.get("paths", {}).items():
        for operation in operations.values():
            responses = operation.get("responses", {})
            if "422" not in responses:
                continue
            if path.startswith("/open311/"):
                del responses["422"]
                continue
            responses["422"] = {
                "description": "Invalid input: problem+json naming each field",
                "content": {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}},
            }
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        components.pop(unused, None)
    components["Problem"] = PROBLEM_SCHEMA
    return schema


def install(app: FastAPI) -> None:
    """Register the handlers on an app, the catch-all for unexpected errors, and the 422s of
    the OpenAPI as the problems they are."""
    openapi = app.openapi

    def documented() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = _document_problems(openapi())
        return app.openapi_schema

    app.openapi = documented  # type: ignore[method-assign]
    app.add_exception_handler(GeoPatrolError, domain_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(HTTPException, http_error)
    # Shared with the live writer and the maintenance: one outage, whoever meets it.
    app.state.database_outage = Outage(logging.getLogger("geo_patrol.database"), "database")
    for kind in UNREACHABLE:
        app.add_exception_handler(kind, database_down)
    app.add_exception_handler(DataError, database_refused)
    app.add_exception_handler(IntegrityError, database_refused)
    app.add_middleware(UnexpectedErrors)
