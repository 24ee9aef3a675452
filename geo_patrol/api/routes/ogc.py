"""OGC API - Features at /ogc: what QGIS's and GDAL's OAPIF drivers read (geo_patrol.ogc).

Every parameter is read from the query string by geo_patrol.ogc.params, so an unknown or
wrong one is a 400 naming it, as the standard asks (FastAPI's own checks answer 422).

Introduced in: geo-patrol 0.4.0
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from geo_patrol import __version__
from geo_patrol.api.deps import CurrentPrincipal, ReadSessionDep, ScopeDep
from geo_patrol.api.ogc_schemas import (
    FEATURE_ANSWER,
    GEOJSON_ANSWER,
    OPENAPI_30_ANSWER,
    OgcCollection,
    OgcCollections,
    OgcConformance,
    OgcLanding,
)
from geo_patrol.geography.queries import extent_of
from geo_patrol.ogc import documents
from geo_patrol.ogc.collections import collection_named
from geo_patrol.ogc.items import read_feature, read_page
from geo_patrol.ogc.params import parse_items, parse_plain
from geo_patrol.ogc.readers import Caller

router = APIRouter(prefix="/ogc", tags=["ogc"])
PLAIN = frozenset({"f"})


def base_of(request: Request) -> str:
    """The OGC API's base URL as the client reached it."""
    return str(request.base_url).rstrip("/") + "/ogc"


def _geojson(body: dict[str, Any], crs: str) -> Response:
    """A GeoJSON answer saying its CRS (OGC API Part 2: Content-Crs).

    The bytes JSONResponse(jsonable_encoder(body)) would send, but json's C encoder walks
    the coordinates: jsonable_encoder visited each number in Python (0.26 s of CPU for ten
    two-hour tracks, now 0.05 s), and is called only for what json cannot write itself
    (times, decimals)."""
    content = json.dumps(
        body, default=jsonable_encoder, ensure_ascii=False, allow_nan=False, separators=(",", ":")
    )
    return Response(
        content.encode(), media_type=documents.GEOJSON, headers={"Content-Crs": f"<{crs}>"}
    )


@router.get("", summary="OGC API landing page", response_model=OgcLanding)
def get_landing(request: Request) -> dict[str, Any]:
    """Links to the API definition, the conformance classes and the collections."""
    parse_plain(request.query_params, allowed=PLAIN)
    return documents.landing(base_of(request))


@router.get("/conformance", summary="OGC API conformance classes", response_model=OgcConformance)
def get_conformance(request: Request) -> dict[str, Any]:
    """Part 1 core, GeoJSON, OpenAPI 3.0; Part 2 CRS."""
    parse_plain(request.query_params, allowed=PLAIN)
    return documents.conformance()


@router.get(
    "/api", summary="OGC API definition (OpenAPI 3.0)", response_class=Response,
    responses=OPENAPI_30_ANSWER,
)  # fmt: skip
def get_api(request: Request) -> Response:
    """The OpenAPI 3.0 document of the /ogc routes."""
    parse_plain(request.query_params, allowed=PLAIN)
    body = documents.openapi(base_of(request), __version__)
    return JSONResponse(body, media_type=documents.OPENAPI_30)


@router.get("/collections", summary="OGC API collections", response_model=OgcCollections)
def get_collections(request: Request, session: ReadSessionDep) -> dict[str, Any]:
    """Every collection with its links, extent and CRS."""
    parse_plain(request.query_params, allowed=PLAIN)
    extent = extent_of(session, at=datetime.now(UTC), codes=None)
    return documents.collections_document(base_of(request), extent)


@router.get(
    "/collections/{collection_id}", summary="One OGC API collection", response_model=OgcCollection
)
def get_collection(collection_id: str, request: Request, session: ReadSessionDep) -> dict[str, Any]:
    """The collection's description."""
    collection = collection_named(collection_id)
    parse_plain(request.query_params, allowed=PLAIN)
    extent = extent_of(session, at=datetime.now(UTC), codes=None)
    return documents.collection_document(base_of(request), collection, extent)


@router.get(
    "/collections/{collection_id}/items",
    summary="A page of a collection's features",
    response_class=Response,
    responses=GEOJSON_ANSWER,
)
def get_items(
    collection_id: str,
    request: Request,
    session: ReadSessionDep,
    scope: ScopeDep,
    principal: CurrentPrincipal,
) -> Response:
    """bbox, datetime, limit, crs, the collection's filters; next/prev links, counts."""
    collection = collection_named(collection_id)
    query = parse_items(request.query_params, filters=collection.filters)
    page = read_page(session, collection, caller=Caller(scope, principal), query=query)
    url = f"{base_of(request)}/collections/{collection.id}"
    body = documents.items_document(page, url=str(request.url), collection_url=url, crs=query.crs)
    return _geojson(body, query.crs)


@router.get(
    "/collections/{collection_id}/items/{feature_id}",
    summary="One feature of a collection",
    response_class=Response,
    responses=FEATURE_ANSWER,
)
def get_feature(
    collection_id: str,
    feature_id: str,
    request: Request,
    session: ReadSessionDep,
    scope: ScopeDep,
    principal: CurrentPrincipal,
) -> Response:
    """The feature, if the caller may see it (404 otherwise)."""
    collection = collection_named(collection_id)
    crs = parse_plain(request.query_params, allowed=PLAIN | {"crs"})
    caller = Caller(scope, principal)
    found = read_feature(session, collection, caller=caller, feature_id=feature_id)
    url = f"{base_of(request)}/collections/{collection.id}"
    body = documents.feature_document(found, url=str(request.url), collection_url=url, crs=crs)
    return _geojson(body, crs)
