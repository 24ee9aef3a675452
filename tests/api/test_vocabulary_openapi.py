"""The closed word lists reach the OpenAPI as `enum`s, and a word outside one is refused
with a problem naming the field and the words it may be."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from geo_patrol.core.vocabulary import (
    Datum,
    EffortGroup,
    EffortPeriod,
    ExportFormat,
    IncidentListView,
    IncidentOrder,
    IncidentStatus,
    Language,
    Level,
    PatrolMode,
    Role,
    Severity,
    TeamRole,
    Tier,
    WorkflowAction,
)
from tests.support.principals import headers_for

# Words as the API has always spelled them (written out here, not read from the code).
WIRE: dict[type[StrEnum], list[str]] = {
    Datum: ["wgs84", "cgcs2000", "gcj02", "bd09"],
    Level: ["province", "city", "county", "town", "village", "grid"],
    PatrolMode: ["foot", "boat", "car"],
    IncidentStatus: [
        "reported",
        "assigned",
        "accepted",
        "in_progress",
        "resolved",
        "verified",
        "closed",
        "reopened",
        "rejected",
    ],
    Tier: ["village", "town", "county"],
    Severity: ["low", "medium", "high", "critical"],
    Role: ["patrol_member", "team_lead", "supervisor", "zone_coordinator", "observer", "admin"],
    TeamRole: ["member", "lead"],
    ExportFormat: ["gpx", "kml", "geojson"],
    Language: ["zh", "en"],
    EffortGroup: ["jurisdiction", "team", "member", "river"],
    EffortPeriod: ["day", "week", "month"],
    IncidentOrder: ["reported", "deadline"],
    IncidentListView: ["open", "overdue", "all"],
    WorkflowAction: ["assign", "accept", "start", "resolve", "verify", "close", "reopen", "reject"],
}

# (method, path, where, name) -> its vocabulary; `where` is path/query or a body media type.
PARAMETERS: dict[tuple[str, str, str, str], type[StrEnum]] = {
    ("post", "/api/v1/patrols", "multipart/form-data", "datum"): Datum,
    ("post", "/api/v1/patrols", "multipart/form-data", "mode"): PatrolMode,
    ("post", "/api/v1/incidents/photo", "multipart/form-data", "datum"): Datum,
    ("post", "/api/v1/incidents/photo", "multipart/form-data", "severity"): Severity,
    ("post", "/api/v1/incidents", "application/json", "datum"): Datum,
    ("post", "/api/v1/incidents", "application/json", "severity"): Severity,
    ("post", "/api/v1/incidents/{incident_id}/actions", "application/json", "action"): (
        WorkflowAction
    ),
    ("post", "/api/v1/members/{member_id}/roles", "application/json", "role"): Role,
    ("post", "/api/v1/teams/{team_id}/members", "application/json", "role"): TeamRole,
    ("get", "/api/v1/jurisdictions", "query", "level"): Level,
    ("get", "/api/v1/effort", "query", "level"): Level,
    ("get", "/api/v1/effort", "query", "by"): EffortGroup,
    ("get", "/api/v1/effort", "query", "period"): EffortPeriod,
    ("get", "/api/v1/incidents", "query", "status"): IncidentStatus,
    ("get", "/api/v1/incidents", "query", "tier"): Tier,
    ("get", "/api/v1/incidents", "query", "order"): IncidentOrder,
    ("get", "/api/v1/incidents.{fmt}", "query", "status"): IncidentStatus,
    ("get", "/api/v1/patrols/{patrol_id}/export.{fmt}", "path", "fmt"): ExportFormat,
    ("get", "/incidents", "query", "view"): IncidentListView,
    ("get", "/incidents", "query", "lang"): Language,
    ("get", "/incidents/{incident_id}", "query", "lang"): Language,
    ("get", "/map", "query", "lang"): Language,
    ("get", "/m/devices", "query", "lang"): Language,
    ("get", "/login", "query", "lang"): Language,
}


@pytest.fixture
def openapi(client: TestClient) -> dict[str, Any]:
    """The OpenAPI document as the service serves it."""
    response = client.get("/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


def _resolve(openapi: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """A schema with its $ref followed."""
    ref: str | None = schema.get("$ref")
    return openapi["components"]["schemas"][ref.rsplit("/", 1)[1]] if ref else schema


def _enum(openapi: dict[str, Any], schema: dict[str, Any]) -> list[str] | None:
    """The words a (possibly nullable) schema allows, or None when it is not a closed list."""
    for one in schema.get("anyOf", [schema]):
        resolved = _resolve(openapi, one)
        if "enum" in resolved:
            return list(resolved["enum"])
    return None


def _schema_of(openapi: dict[str, Any], key: tuple[str, str, str, str]) -> dict[str, Any]:
    """The schema of one parameter or body field."""
    method, path, where, name = key
    operation = openapi["paths"][path][method]
    if where in ("path", "query"):
        (found,) = [p for p in operation["parameters"] if (p["in"], p["name"]) == (where, name)]
        return dict(found["schema"])
    body = _resolve(openapi, operation["requestBody"]["content"][where]["schema"])
    return dict(body["properties"][name])


def test_the_vocabularies_keep_their_wire_words() -> None:
    assert {vocabulary: [m.value for m in vocabulary] for vocabulary in WIRE} == WIRE


@pytest.mark.parametrize("key", list(PARAMETERS), ids=" ".join)
def test_the_openapi_lists_the_words_of_each_closed_parameter(
    openapi: dict[str, Any], key: tuple[str, str, str, str]
) -> None:
    assert _enum(openapi, _schema_of(openapi, key)) == WIRE[PARAMETERS[key]]


def test_no_parameter_is_a_closed_list_written_as_a_pattern(openapi: dict[str, Any]) -> None:
    """A word list spelled as a regex (`^(zh|en)$`) would hide the choices from clients."""
    patterns = []
    for path, methods in openapi["paths"].items():
        for method, operation in methods.items():
            schemas = [(p["name"], p["schema"]) for p in operation.get("parameters", [])]
            for content in operation.get("requestBody", {}).get("content", {}).values():
                schemas += _resolve(openapi, content["schema"]).get("properties", {}).items()
            patterns += [
                f"{method} {path} {name}"
                for name, schema in schemas
                for one in schema.get("anyOf", [schema])
                if "|" in one.get("pattern", "")
            ]
    assert patterns == []


@pytest.mark.parametrize(
    ("method", "url", "sent", "field", "words"),
    [
        ("GET", "/api/v1/effort?by=week", {}, "by", WIRE[EffortGroup]),
        ("GET", "/api/v1/jurisdictions?level=district", {}, "level", WIRE[Level]),
        ("GET", "/api/v1/incidents?status=open", {}, "status", WIRE[IncidentStatus]),
        ("GET", "/api/v1/patrols/1/export.shp", {}, "fmt", WIRE[ExportFormat]),
        ("GET", "/map?lang=fr", {}, "lang", WIRE[Language]),
        (
            "POST",
            "/api/v1/incidents",
            {"json": {"category": "other", "lon": 120.6, "lat": 30.9, "severity": "grave"}},
            "severity",
            WIRE[Severity],
        ),
        (
            "POST",
            "/api/v1/patrols",
            {"data": {"team_id": "1", "mode": "plane"}, "files": {"file": ("t.gpx", b"<gpx/>")}},
            "mode",
            WIRE[PatrolMode],
        ),
    ],
)
def test_a_word_outside_the_list_is_refused_naming_the_field_and_the_words(
    demo_client: TestClient,
    demo_session: Session,
    method: str,
    url: str,
    sent: dict[str, Any],
    field: str,
    words: list[str],
) -> None:
    admin = headers_for(demo_session)["admin"]
    response = demo_client.request(method, url, headers=admin, **sent)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert [e["field"] for e in problem["errors"]] == [field]
    assert problem["detail"].startswith(f"{field}: ")
    assert all(f"'{word}'" in problem["detail"] for word in words), problem["detail"]
