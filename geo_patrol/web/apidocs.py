"""The API documentation pages, /docs (Swagger UI) and /redoc (ReDoc), from our own files.

FastAPI's own pages load Swagger UI and ReDoc from a CDN (and ReDoc its fonts from Google),
so on an intranet they stay blank. These pages load only files of ours: the npm packages
through the asset table (`web.assets`, /static/vendor/) and Swagger UI's start-up script
from /static/docs/ (no inline script, so the pages keep a script-src without
'unsafe-inline'). ReDoc starts itself from its `<redoc spec-url>` element; its search is
off (it would run in a worker made from a blob of code, which that policy refuses) and
redoc-offline.js keeps its logo from loading from redoc.ly.

Introduced in: geo-patrol 0.4.0.
"""

from __future__ import annotations

from pathlib import Path

from geo_patrol.web.assets import vendor_url
from geo_patrol.web.render import render

STATIC_DIR = Path(__file__).resolve().parents[1] / "static" / "docs"
STATIC_URL = "/static/docs"


def swagger_page(*, title: str, openapi_url: str) -> str:
    """The Swagger UI page for the OpenAPI document at `openapi_url`."""
    return render(
        "apidocs/swagger.html",
        lang="en",
        title=title,
        openapi_url=openapi_url,
        css=vendor_url("swagger_ui_css"),
        js=vendor_url("swagger_ui_js"),
        favicon=vendor_url("swagger_ui_favicon"),
        init=f"{STATIC_URL}/swagger-init.js",
    )


def redoc_page(*, title: str, openapi_url: str) -> str:
    """The ReDoc page for the OpenAPI document at `openapi_url` (no web fonts: the system's)."""
    return render(
        "apidocs/redoc.html",
        lang="en",
        title=title,
        openapi_url=openapi_url,
        js=vendor_url("redoc_js"),
        shim=f"{STATIC_URL}/redoc-offline.js",
        favicon=vendor_url("swagger_ui_favicon"),
    )
