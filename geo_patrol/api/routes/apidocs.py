"""The API documentation, /docs (Swagger UI) and /redoc (ReDoc), from local files only.

They replace FastAPI's own pages (which load from a CDN); both are PUBLIC, like the OpenAPI
document they show, and send the pages' Content-Security-Policy with scripts from files
only (geo_patrol.web.apidocs). Left out of the OpenAPI: they are not operations of the API.

Introduced in: geo-patrol 0.4.0.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from geo_patrol.api.middleware import SCRIPTS_FROM_FILES_ONLY
from geo_patrol.web.apidocs import redoc_page, swagger_page

router = APIRouter(tags=["docs"], include_in_schema=False)


def _page(html: str) -> HTMLResponse:
    """A documentation page under the stricter policy (no inline script)."""
    return HTMLResponse(html, headers={"Content-Security-Policy": SCRIPTS_FROM_FILES_ONLY})


@router.get("/docs")
def swagger_ui(request: Request) -> HTMLResponse:
    """Swagger UI: every operation, tried out from the browser."""
    title = f"{request.app.title} API"
    return _page(swagger_page(title=title, openapi_url=request.app.openapi_url))


@router.get("/redoc")
def redoc(request: Request) -> HTMLResponse:
    """ReDoc: the same document as one reference page."""
    title = f"{request.app.title} API"
    return _page(redoc_page(title=title, openapi_url=request.app.openapi_url))
