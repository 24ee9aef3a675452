"""The OpenAPI describes what the JSON endpoints answer (the fuzzer in test_fuzz_openapi.py
then holds every answer to it): a named model for each, no free-form object."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import jsonschema_rs
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from tests.support import oracle
from tests.support.principals import headers_for

JSON = "application/json"
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
    ("get", "/api/v1/chiefs", "200"),
    ("post", "/api/v1/chiefs", "201"),
    ("get", "/api/v1/chiefs/{appointment_id}", "200"),
    ("post", "/api/v1/chiefs/{appointment_id}/end", "200"),
    ("post", "/api/v1/chiefs/{appointment_id}/replace", "201"),
    ("post", "/api/v1/chiefs/joint", "201"),
    ("post", "/api/v1/chiefs/roster", "200"),
    ("get", "/api/v1/duty/rules", "200"),
    ("put", "/api/v1/duty/rules", "200"),
    ("get", "/api/v1/me/duty", "200"),
    ("get", "/api/v1/duty", "200"),
    ("get", "/api/v1/duty/joint", "200"),
    ("get", "/api/v1/duty/summary", "200"),
    ("get", "/api/v1/duty/reminders", "200"),
    ("get", "/api/v1/meetings", "200"),
    ("post", "/api/v1/meetings", "201"),
    ("get", "/api/v1/meetings/{meeting_id}", "200"),
    ("patch", "/api/v1/meetings/{meeting_id}", "200"),
    ("put", "/api/v1/meetings/{meeting_id}/attendees", "200"),
    ("put", "/api/v1/meetings/{meeting_id}/agenda", "200"),
    ("post", "/api/v1/meetings/{meeting_id}/decisions", "201"),
    ("get", "/api/v1/decisions", "200"),
    ("get", "/api/v1/decisions/{decision_id}", "200"),
    ("post", "/api/v1/decisions/{decision_id}/updates", "201"),
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


def _answer_schema(
    openapi: dict[str, Any], method: str, path: str, status: int, media_type: str
) -> Any:
    """A validator for one documented answer in one media type (refs resolved in the
    document)."""
    content = openapi["paths"][path][method]["responses"][str(status)]["content"]
    schema = content[media_type]["schema"]
    return jsonschema_rs.Draft202012Validator({**schema, "components": openapi["components"]})


def test_real_answers_with_every_part_filled_match_the_openapi(
    demo_client: TestClient, demo_session: Session, openapi: dict[str, Any]
) -> None:
    """The fuzzer's database has no patrols and its ids are mostly unknown: here a patrol
    across the border (jurisdictions, crossings) and a report beside it are read
    back through every endpoint that shows them, and each answer is held to its schema."""
    people = headers_for(demo_session)
    lons, lats = oracle.border_crossing_line()
    team = demo_session.execute(text("SELECT id FROM teams WHERE zone_id IS NOT NULL")).scalar()
    upload = demo_client.post(
        "/api/v1/patrols",
        headers=people["sz.patrol"],
        data={"team_id": str(team), "mode": "boat", "datum": "wgs84"},
        files={"file": ("t.gpx", oracle.gpx(lons, lats, oracle.times(len(lons))))},
    )
    assert upload.status_code == 201, upload.text
    patrol = upload.json()["id"]
    category = demo_client.get("/api/v1/incident-categories", headers=people["admin"]).json()
    report = {"category": category[0]["code"], "lon": lons[0], "lat": lats[0], "severity": "high"}
    reported = demo_client.post("/api/v1/incidents", json=report, headers=people["sz.patrol"])
    assert reported.status_code == 201, reported.text
    incident = reported.json()["id"]
    reads = [
        ("post", "/api/v1/patrols", upload, 201),
        ("post", "/api/v1/incidents", reported, 201),
        ("get", "/api/v1/patrols/{patrol_id}", f"/api/v1/patrols/{patrol}", 200),
        (
            "get",
            "/api/v1/patrols/{patrol_id}/export.{fmt}",
            f"/api/v1/patrols/{patrol}/export.geojson",
            200,
        ),
        ("get", "/api/v1/patrols", "/api/v1/patrols", 200),
        ("get", "/api/v1/effort", "/api/v1/effort?by=member", 200),
        ("get", "/api/v1/incidents", "/api/v1/incidents", 200),
        ("get", "/api/v1/incidents/{incident_id}", f"/api/v1/incidents/{incident}", 200),
        ("get", "/api/v1/incidents/stats", "/api/v1/incidents/stats", 200),
        ("get", "/api/v1/me", "/api/v1/me", 200),
    ]
    for method, path, read, status in reads:
        answer = (
            read if not isinstance(read, str) else demo_client.get(read, headers=people["admin"])
        )
        assert answer.status_code == status, (path, answer.text[:300])
        media_type = answer.headers["content-type"].split(";")[0]
        validator = _answer_schema(openapi, method, path, status, media_type)
        errors = [str(e) for e in validator.iter_errors(answer.json())]
        assert errors == [], (path, errors[:3])
    feature = demo_client.get(f"/api/v1/patrols/{patrol}", headers=people["admin"]).json()
    assert feature["properties"]["crossings"] and feature["properties"]["jurisdictions"]
    assert feature["properties"]["mode"] == "boat"
    # The schema does look inside: a word outside a vocabulary, deep in a list, is caught.
    feature["properties"]["crossings"][0]["level"] = "district"
    validator = _answer_schema(openapi, "get", "/api/v1/patrols/{patrol_id}", 200, JSON)
    assert len(list(validator.iter_errors(feature))) == 1


def test_real_chief_answers_match_the_openapi(
    demo_client: TestClient, demo_session: Session, openapi: dict[str, Any]
) -> None:
    """A roster uploaded, a chief read, listed and ended, the rules read: each answer held to
    its schema."""
    admin = headers_for(demo_session)["admin"]
    roster = (
        "name,phone,level,river,stretch,side,from,to,joint\n"
        "Shen,13700000001,village,R-320509-330411-01,1-2,320509100202,2026-01-01,,pair\n"
        "Qian,13700000002,village,R-320509-330411-01,,330411100202,2026-01-01,,pair\n"
    )
    uploaded = demo_client.post(
        "/api/v1/chiefs/roster", files={"file": ("r.csv", roster.encode())}, headers=admin
    )
    chief = uploaded.json()["outcomes"][0]["appointment_id"]
    ended = demo_client.post(
        f"/api/v1/chiefs/{chief}/end", json={"last_day": "2026-12-31"}, headers=admin
    )
    reads = [
        ("post", "/api/v1/chiefs/roster", uploaded, 200),
        ("post", "/api/v1/chiefs/{appointment_id}/end", ended, 200),
        ("get", "/api/v1/chiefs", demo_client.get("/api/v1/chiefs", headers=admin), 200),
        (
            "get",
            "/api/v1/chiefs/{appointment_id}",
            demo_client.get(f"/api/v1/chiefs/{chief}", headers=admin),
            200,
        ),
        ("get", "/api/v1/duty/rules", demo_client.get("/api/v1/duty/rules", headers=admin), 200),
    ]
    for method, path, answer, status in reads:
        assert answer.status_code == status, (path, answer.text[:300])
        validator = _answer_schema(openapi, method, path, status, JSON)
        errors = [str(e) for e in validator.iter_errors(answer.json())]
        assert errors == [], (path, errors[:3])
    assert uploaded.json()["joints_created"] == 1
