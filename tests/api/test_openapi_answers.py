"""The OpenAPI describes what the JSON endpoints answer (the fuzzer in test_fuzz_openapi.py
then holds every answer to it): a named model for each, no free-form object."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

# (method, path, status) of every JSON answer of the API's own resources.
TYPED = [
    ("get", "/healthz", "200"),
    ("get", "/api/v1/me", "200"),
    ("post", "/api/v1/auth/login", "200"),
    ("post", "/api/v1/auth/tokens", "200"),
    ("get", "/api/v1/members", "200"),
    ("post", "/api/v1/members", "201"),
    ("get", "/api/v1/members/{member_id}", "200"),
    ("post", "/api/v1/members/{member_id}/roles", "201"),
    ("get", "/api/v1/teams", "200"),
    ("post", "/api/v1/teams", "201"),
    ("get", "/api/v1/devices", "200"),
    ("post", "/api/v1/devices", "201"),
    ("get", "/api/v1/audit", "200"),
    ("get", "/api/v1/jurisdictions", "200"),
    ("get", "/api/v1/jurisdictions/at", "200"),
    ("get", "/api/v1/jurisdictions/{code}", "200"),
    ("get", "/api/v1/jurisdictions/{code}/versions", "200"),
    ("get", "/api/v1/rivers", "200"),
    ("get", "/api/v1/segments", "200"),
    ("get", "/api/v1/zones", "200"),
    ("post", "/api/v1/patrols", "200"),
    ("post", "/api/v1/patrols", "201"),
    ("get", "/api/v1/patrols", "200"),
    ("get", "/api/v1/patrols/{patrol_id}", "200"),
    ("get", "/api/v1/effort", "200"),
    ("get", "/api/v1/coverage/uncovered", "200"),
    ("post", "/api/v1/incidents", "200"),
    ("post", "/api/v1/incidents", "201"),
    ("post", "/api/v1/incidents/photo", "201"),
    ("get", "/api/v1/incidents", "200"),
    ("get", "/api/v1/incidents/stats", "200"),
    ("get", "/api/v1/incidents/{incident_id}", "200"),
    ("post", "/api/v1/incidents/{incident_id}/actions", "200"),
    ("post", "/api/v1/incidents/{incident_id}/escalate", "200"),
    ("post", "/api/v1/incidents/{incident_id}/deescalate", "200"),
    ("post", "/api/v1/incidents/{incident_id}/photos", "201"),
    ("get", "/api/v1/incident-categories", "200"),
    ("get", "/api/v1/mobile/teams", "200"),
    ("post", "/m/devices/{device_id}/setup", "200"),
]


@pytest.fixture
def openapi(client: TestClient) -> dict[str, Any]:
    """The OpenAPI document as the service serves it."""
    document: dict[str, Any] = client.get("/openapi.json").json()
    return document


def _refs(node: object) -> Iterator[str]:
    """Every $ref in a part of the document."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def _model(openapi: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """The named model a JSON answer is (or is a list of)."""
    if schema.get("type") == "array":
        schema = schema["items"]
    name = schema["$ref"].removeprefix("#/components/schemas/")
    model: dict[str, Any] = openapi["components"]["schemas"][name]
    return model


@pytest.mark.parametrize(
    ("method", "path", "status"), [pytest.param(*case, id=" ".join(case)) for case in TYPED]
)
def test_each_json_answer_is_a_named_model_with_every_field_required(
    openapi: dict[str, Any], method: str, path: str, status: str
) -> None:
    """Required: a missing key would be an answer the model refused, never a silent null."""
    content = openapi["paths"][path][method]["responses"][status]["content"]
    model = _model(openapi, content["application/json"]["schema"])
    assert model["type"] == "object" and model["properties"]
    assert not model.get("additionalProperties", False)
    assert set(model["required"]) == set(model["properties"])


def test_every_reference_in_the_document_resolves(openapi: dict[str, Any]) -> None:
    refs = set(_refs(openapi["paths"])) | set(_refs(openapi["components"]))
    prefix = "#/components/schemas/"
    assert {
        ref for ref in refs if ref.removeprefix(prefix) not in openapi["components"]["schemas"]
    } == set()
    assert f"{prefix}Feature_PatrolProperties_" in refs  # the export's GeoJSON, written by hand


def test_the_export_declares_each_format_it_answers_in(openapi: dict[str, Any]) -> None:
    answer = openapi["paths"]["/api/v1/patrols/{patrol_id}/export.{fmt}"]["get"]["responses"]
    assert list(answer["200"]["content"]) == [
        "application/gpx+xml",
        "application/vnd.google-earth.kml+xml",
        "application/geo+json",
    ]


def test_geometries_are_declared_as_geojson(openapi: dict[str, Any]) -> None:
    properties = openapi["components"]["schemas"]["Feature_RiverProperties_"]["properties"]
    geometry = properties["geometry"]["anyOf"][0]
    assert geometry["properties"]["type"]["enum"] == [
        "Point",
        "LineString",
        "Polygon",
        "MultiPoint",
        "MultiLineString",
        "MultiPolygon",
        "GeometryCollection",
    ]
