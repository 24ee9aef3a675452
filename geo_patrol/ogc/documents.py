"""The JSON documents of OGC API - Features: landing page, conformance, collections, a page
of features with its links, and the OpenAPI 3.0 description of all of it.

Every link is absolute, built from the base URL the client used (GDAL follows them as
given). Coordinates leave in the CRS the client asked for: CRS84 (lon, lat) by default, or
CGCS2000 lat-first (see geo_patrol.ogc.params).

Introduced in: geo-patrol 0.4.0
"""

from __future__ import annotations

from typing import Any

from geo_patrol.core.paging import DEFAULT_LIMIT, MAX_LIMIT, with_cursor
from geo_patrol.geography.queries import Extent
from geo_patrol.ogc.collections import COLLECTIONS, Collection
from geo_patrol.ogc.items import FeaturePage
from geo_patrol.ogc.params import COMMON, CRS84, SUPPORTED_CRS, lat_first
from geo_patrol.ogc.readers import Feature

JSON = "application/json"
GEOJSON = "application/geo+json"
OPENAPI_30 = "application/vnd.oai.openapi+json;version=3.0"
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
]


def link(href: str, rel: str, media_type: str, title: str | None = None) -> dict[str, Any]:
    """A link object."""
    found = {"href": href, "rel": rel, "type": media_type}
    if title:
        found["title"] = title
    return found


def landing(base: str) -> dict[str, Any]:
    """The landing page: what this service is and where its parts are."""
    return {
        "title": "geo-patrol OGC API - Features",
        "description": "Boundaries, rivers, zones, patrols, incidents and river chiefs' "
        "duty, in the caller's scope.",
        "links": [
            link(base, "self", JSON, "This document"),
            link(f"{base}/api", "service-desc", OPENAPI_30, "The API definition (OpenAPI 3.0)"),
            link(f"{base}/conformance", "conformance", JSON, "Conformance classes"),
            link(f"{base}/collections", "data", JSON, "The collections"),
        ],
    }


def conformance() -> dict[str, Any]:
    """The conformance classes implemented."""
    return {"conformsTo": CONFORMANCE}


def collection_document(base: str, collection: Collection, extent: Extent | None) -> dict[str, Any]:
    """A collection's description with its links, extent and CRS. The extent is the
    region's (every boundary in force) for the geography; a scoped collection's depends on
    the caller and may hold reports outside the region, so it has none (clients read it)."""
    href = f"{base}/collections/{collection.id}"
    spatial = None
    if extent is not None and not collection.scoped:
        spatial = {"bbox": [list(extent)], "crs": CRS84}
    return {
        "id": collection.id,
        "title": collection.title,
        "description": collection.description,
        "itemType": "feature",
        "links": [
            link(href, "self", JSON, collection.title),
            link(f"{href}/items", "items", GEOJSON, f"{collection.title} (GeoJSON)"),
        ],
        "extent": {"spatial": spatial} if spatial else None,
        "crs": list(SUPPORTED_CRS),
        "storageCrs": CRS84,
    }


def collections_document(base: str, extent: Extent | None) -> dict[str, Any]:
    """Every collection."""
    return {
        "links": [link(f"{base}/collections", "self", JSON, "The collections")],
        "collections": [collection_document(base, c, extent) for c in COLLECTIONS.values()],
    }


def _swapped(coordinates: Any) -> Any:
    """Coordinates with each position's first two axes swapped (lon, lat -> lat, lon)."""
    if coordinates and isinstance(coordinates[0], int | float):
        return [coordinates[1], coordinates[0], *coordinates[2:]]
    return [_swapped(part) for part in coordinates]


def in_crs(geometry: dict[str, Any] | None, crs: str) -> dict[str, Any] | None:
    """A GeoJSON geometry (CRS84) in the axis order of `crs`."""
    if geometry is None or not lat_first(crs):
        return geometry
    if geometry.get("type") == "GeometryCollection":
        parts = [in_crs(g, crs) for g in geometry.get("geometries", [])]
        return {**geometry, "geometries": parts}
    return {**geometry, "coordinates": _swapped(geometry["coordinates"])}


def feature_document(found: Feature, *, url: str, collection_url: str, crs: str) -> Feature:
    """One feature with its links, in `crs`."""
    return {
        **found,
        "geometry": in_crs(found["geometry"], crs),
        "links": [link(url, "self", GEOJSON), link(collection_url, "collection", JSON)],
    }


def items_document(page: FeaturePage, *, url: str, collection_url: str, crs: str) -> Feature:
    """A page of features as a FeatureCollection with self, next, prev and collection links
    and the counts."""
    links = [link(url, "self", GEOJSON, "This page")]
    if page.next_cursor is not None:
        links.append(link(with_cursor(url, page.next_cursor), "next", GEOJSON, "Next page"))
    if page.prev_cursor is not None:
        links.append(link(with_cursor(url, page.prev_cursor), "prev", GEOJSON, "Previous page"))
    links.append(link(collection_url, "collection", JSON, "The collection"))
    return {
        "type": "FeatureCollection",
        "features": [{**f, "geometry": in_crs(f["geometry"], crs)} for f in page.features],
        "links": links,
        "numberMatched": page.matched,
        "numberReturned": len(page.features),
    }


def _parameter(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    """An OpenAPI 3.0 query parameter."""
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": schema}  # fmt: skip


COMMON_PARAMETERS = {
    "f": _parameter("f", "The format: json (GeoJSON).", {"type": "string", "enum": ["json"]}),
    "limit": _parameter(
        "limit",
        "Features per page (follow the next link).",
        {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
    ),
    "cursor": _parameter("cursor", "A page position from a next or prev link.", {"type": "string"}),
    "bbox": _parameter(
        "bbox",
        "minlon,minlat,maxlon,maxlat (in bbox-crs axis order).",
        {"type": "array", "items": {"type": "number"}, "minItems": 4, "maxItems": 6},
    ),
    "bbox-crs": _parameter(
        "bbox-crs", "The CRS of bbox.", {"type": "string", "enum": list(SUPPORTED_CRS)}
    ),
    "datetime": _parameter(
        "datetime", "An instant or an interval (.. for an open end).", {"type": "string"}
    ),
    "crs": _parameter(
        "crs", "The CRS of the answer.", {"type": "string", "enum": list(SUPPORTED_CRS)}
    ),
}

PROBLEM = {
    "description": "A problem (RFC 9457), naming the parameter in `field`.",
    "content": {"application/problem+json": {"schema": {"type": "object"}}},
}


def _items_operation(collection: Collection) -> dict[str, Any]:
    """The OpenAPI operation of a collection's items."""
    filters = [
        _parameter(name, f"Only features whose {name} matches.", {"type": "string"})
        for name in collection.filters
    ]
    return {
        "get": {
            "operationId": f"get_{collection.id}_items",
            "summary": f"{collection.title}: features",
            "description": collection.description,
            "parameters": [COMMON_PARAMETERS[name] for name in sorted(COMMON)] + filters,
            "responses": {
                "200": {
                    "description": "A page of features.",
                    "content": {GEOJSON: {"schema": {"type": "object"}}},
                },
                "400": PROBLEM,
            },
        }
    }


def _document_operation(operation_id: str, summary: str) -> dict[str, Any]:
    """The OpenAPI operation of one JSON document."""
    return {
        "get": {
            "operationId": operation_id,
            "summary": summary,
            "responses": {
                "200": {"description": summary, "content": {JSON: {"schema": {"type": "object"}}}}
            },
        }
    }


def _feature_operation(collection: Collection) -> dict[str, Any]:
    """The OpenAPI operation of one feature."""
    return {
        "get": {
            "operationId": f"get_{collection.id}_feature",
            "summary": f"{collection.title}: one feature",
            "parameters": [
                {"name": "featureId", "in": "path", "required": True, "schema": {"type": "string"}},
                COMMON_PARAMETERS["crs"],
            ],
            "responses": {
                "200": {
                    "description": "The feature.",
                    "content": {GEOJSON: {"schema": {"type": "object"}}},
                },
                "404": PROBLEM,
            },
        }
    }


def openapi(base: str, version: str) -> dict[str, Any]:
    """The OpenAPI 3.0 description of this OGC API (FastAPI's own document is 3.1, which
    OGC API - Features Part 1 does not name)."""
    paths: dict[str, Any] = {
        "/": _document_operation("get_landing", "The landing page"),
        "/conformance": _document_operation("get_conformance", "Conformance classes"),
        "/api": _document_operation("get_api", "This document"),
        "/collections": _document_operation("get_collections", "The collections"),
    }
    for collection in COLLECTIONS.values():
        prefix = f"/collections/{collection.id}"
        paths[prefix] = _document_operation(f"get_{collection.id}", collection.title)
        paths[f"{prefix}/items"] = _items_operation(collection)
        paths[f"{prefix}/items/{{featureId}}"] = _feature_operation(collection)
    return {
        "openapi": "3.0.3",
        "info": {"title": "geo-patrol OGC API - Features", "version": version},
        "servers": [{"url": base}],
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "basic": {"type": "http", "scheme": "basic"},
            }
        },
        "security": [{"bearer": []}, {"basic": []}],
        "paths": paths,
    }
