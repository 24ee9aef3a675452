"""Response models of the OGC API - Features documents (geo_patrol.ogc.documents builds
them; the features themselves are GeoJSON, declared by content type).

Introduced in: geo-patrol 0.4.0
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class OgcLink(BaseModel):
    """A link of an OGC API document."""

    model_config = ConfigDict(extra="forbid")

    href: str
    rel: str
    type: str
    title: str | None = None


class OgcFeature(BaseModel):
    """A GeoJSON Feature of a collection (its properties are the collection's own)."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(description="Feature")
    id: str | int
    geometry: dict[str, Any] | None
    properties: dict[str, Any]


class OgcFeatureCollection(BaseModel):
    """A page of a collection's features, with its links and counts."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(description="FeatureCollection")
    features: list[OgcFeature]
    links: list[OgcLink]


class OpenApi30Document(BaseModel):
    """The OpenAPI 3.0 document of the /ogc part (the whole API's is /openapi.json)."""

    model_config = ConfigDict(extra="allow")

    openapi: str
    info: dict[str, Any]
    paths: dict[str, Any]


GEOJSON_ANSWER: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "GeoJSON: a FeatureCollection with links and counts.",
        "model": OgcFeatureCollection,
        "content": {
            "application/geo+json": {
                "schema": {"$ref": "#/components/schemas/OgcFeatureCollection"}
            }
        },
    }
}
FEATURE_ANSWER: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "GeoJSON: one Feature.",
        "model": OgcFeature,
        "content": {
            "application/geo+json": {"schema": {"$ref": "#/components/schemas/OgcFeature"}}
        },
    }
}
OPENAPI_30_ANSWER: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The OpenAPI 3.0 document of the OGC API part.",
        "model": OpenApi30Document,
        "content": {
            "application/vnd.oai.openapi+json;version=3.0": {
                "schema": {"$ref": "#/components/schemas/OpenApi30Document"}
            }
        },
    }
}


class OgcLanding(BaseModel):
    """The landing page of the OGC API."""

    model_config = ConfigDict(extra="forbid")

    title: str
    description: str
    links: list[OgcLink]


class OgcConformance(BaseModel):
    """The conformance classes the service implements."""

    model_config = ConfigDict(extra="forbid")

    conformsTo: list[str]


class OgcSpatialExtent(BaseModel):
    """A collection's box, in CRS84."""

    model_config = ConfigDict(extra="forbid")

    bbox: list[list[float]]
    crs: str


class OgcExtent(BaseModel):
    """A collection's extent."""

    model_config = ConfigDict(extra="forbid")

    spatial: OgcSpatialExtent


class OgcCollection(BaseModel):
    """One collection: its words, links, extent and coordinate systems."""

    model_config = ConfigDict(extra="forbid")

    id: str
    title: str
    description: str
    itemType: str
    links: list[OgcLink]
    extent: OgcExtent | None = None
    crs: list[str]
    storageCrs: str


class OgcCollections(BaseModel):
    """Every collection."""

    model_config = ConfigDict(extra="forbid")

    links: list[OgcLink]
    collections: list[OgcCollection] = Field(default_factory=list)
