"""The HTTP side of keyset paging (geo_patrol.core.paging): the `limit` and `cursor`
parameters every list takes, and the `Link` header (RFC 8288) that says a page was cut.

A handler takes `paging: PagingDep`, passes `paging.limit` and `paging.cursor` to its domain
query (which returns a `Page`), and calls `link_page(request, response, page)`; the header
`Link: <...&cursor=...>; rel="next"` is there exactly when more rows follow, so no list
stops silently. JSON bodies may also carry `next` (the same URL) for clients that do not
read headers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Query, Request, Response

from geo_patrol.core.paging import DEFAULT_LIMIT, MAX_LIMIT, Page, link_header, with_cursor

NEXT_COUNT_HEADER = "X-Page-Count"
GEOJSON = "application/geo+json"


@dataclass(frozen=True)
class Paging:
    """A list request's page: how many rows and after which cursor (None: the first)."""

    limit: int
    cursor: str | None


def get_paging(
    limit: Annotated[
        int, Query(ge=1, le=MAX_LIMIT, description="Rows per page (follow Link rel=next).")
    ] = DEFAULT_LIMIT,
    cursor: Annotated[
        str | None,
        Query(max_length=2000, description="The cursor of the next page, from Link rel=next."),
    ] = None,
) -> Paging:
    """The paging parameters of a list request."""
    return Paging(limit=limit, cursor=cursor or None)


PagingDep = Annotated[Paging, Depends(get_paging)]


def next_url(request: Request, page: Page[Any]) -> str | None:
    """The absolute URL of the next page (None on the last page)."""
    return None if page.next_cursor is None else with_cursor(str(request.url), page.next_cursor)


def link_page(request: Request, response: Response, page: Page[Any]) -> None:
    """Set the page's `Link` header (rel="next" when more rows follow, rel="first" after the
    first page) and `X-Page-Count` (rows on this page)."""
    value = link_header(
        str(request.url),
        next_cursor=page.next_cursor,
        first=request.query_params.get("cursor") is not None,
    )
    if value is not None:
        response.headers["Link"] = value
    response.headers[NEXT_COUNT_HEADER] = str(len(page.items))


# The OpenAPI `responses` of a list: its 200 answer carries the paging headers.
PAGED: dict[int | str, dict[str, Any]] = {
    200: {
        "description": 'One page of the list; `Link` rel="next" when more rows follow.',
        "headers": {
            "Link": {
                "description": 'RFC 8288 links: rel="next" (the next page: more rows follow) '
                'and rel="first" (on pages after the first); absent on a single page.',
                "schema": {"type": "string"},
            },
            NEXT_COUNT_HEADER: {
                "description": "Rows on this page.",
                "schema": {"type": "integer"},
            },
        },
    }
}


def body_links(request: Request, page: Page[Any]) -> list[dict[str, str]]:
    """The `links` of a GeoJSON page's body: rel="next" when more rows follow."""
    url = next_url(request, page)
    return [] if url is None else [{"href": url, "rel": "next", "type": GEOJSON}]


def paged_collection(
    request: Request, page: Page[Any], features: list[dict[str, Any]]
) -> dict[str, Any]:
    """A GeoJSON FeatureCollection of one page's features, with its `links`."""
    return {"type": "FeatureCollection", "features": features, "links": body_links(request, page)}
