"""Response models of the OGC API - Features documents (geo_patrol.ogc.documents builds
them; the features themselves are GeoJSON, declared by content type).

Introduced in: geo-patrol 0.4.0
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

GEOJSON_ANSWER: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "GeoJSON (a FeatureCollection with links and counts, or one Feature).",
        "content": {"application/geo+json": {"schema": {"type": "object"}}},
    }
}
OPENAPI_30_ANSWER: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The OpenAPI 3.0 document of the OGC API part.",
        "content": {"application/vnd.oai.openapi+json;version=3.0": {"schema": {"type": "object"}}},
    }
}


class OgcLink(BaseModel):
    """A link of an OGC API document."""

    model_config = ConfigDict(extra="forbid")

    href: str
    rel: str
    type: str
    title: str | None = None


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
