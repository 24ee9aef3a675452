"""Render every error as application/problem+json (RFC 9457), in one place."""

from __future__ import annotations

import logging
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException

from geo_patrol.errors import DatabaseUnavailable, GeoPatrolError, NotAuthenticated

log = logging.getLogger(__name__)
PROBLEM = "application/problem+json"


def _problem(
    body: dict[str, object], status: int, headers: dict[str, str] | None = None
) -> JSONResponse:
    """A problem+json response (401s say how to authenticate)."""
    if status == 401:
        headers = {**(headers or {}), "WWW-Authenticate": 'Bearer realm="geo-patrol"'}
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def problem_response(request: Request, error: GeoPatrolError) -> JSONResponse:
    """The response for one of our errors (for handlers that return rather than raise)."""
    retry = getattr(error, "retry_after", None)  # ServiceBusy: when to try again
    headers = {"Retry-After": str(retry)} if retry is not None else None
    return _problem(error.problem(instance=request.url.path), error.status, headers)


# Pages a browser opens directly: without a sign-in it is sent to the sign-in form and back.
SIGN_IN_PAGES = ("/map", "/incidents", "/m/devices")


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


async def validation_error(request: Request, exc: Exception) -> JSONResponse:
    """FastAPI's request validation, reworded to name each field."""
    assert isinstance(exc, RequestValidationError)
    errors = [
        {
            "field": ".".join(str(p) for p in err["loc"][1:]) or str(err["loc"][0]),
            "message": err["msg"],
        }
        for err in exc.errors()
    ]
    detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
    body = {"type": "about:blank", "title": "Invalid input", "status": 422, "detail": detail,
            "instance": request.url.path, "errors": errors}  # fmt: skip
    return _problem(body, 422)


async def http_error(request: Request, exc: Exception) -> JSONResponse:
    """Starlette's HTTP errors (404 for unknown routes, 405...)."""
    assert isinstance(exc, HTTPException)
    body = {"type": "about:blank", "title": str(exc.detail), "status": exc.status_code,
            "detail": str(exc.detail), "instance": request.url.path}  # fmt: skip
    return _problem(body, exc.status_code)


async def database_down(request: Request, exc: Exception) -> JSONResponse:
    """A lost database connection is a 503, logged for the operator."""
    log.error("database unavailable on %s %s: %s", request.method, request.url.path, exc)
    error = DatabaseUnavailable("the database cannot be reached; try again shortly")
    return _problem(error.problem(instance=request.url.path), error.status)


def install(app: FastAPI) -> None:
    """Register the handlers on an app."""
    app.add_exception_handler(GeoPatrolError, domain_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(OperationalError, database_down)
