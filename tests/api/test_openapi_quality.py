"""The OpenAPI is one a client generator can use: a valid OpenAPI 3.1 document (held to the
specification's own JSON Schema), stable unique operation ids, a documented answer for every
operation (a named model for every JSON one) and the refusals each may answer."""

from __future__ import annotations

import re
from typing import Any

import jsonschema_rs
import pytest
from schemathesis.specs.openapi.definitions import OPENAPI_31

from geo_patrol.api.app import create_app
from geo_patrol.core.settings import Settings
from geo_patrol.core.vocabulary import QualityFlag, values
from geo_patrol.duty.rules import KNOWN_FLAGS

PROBLEM = "application/problem+json"
REFUSED = {"400", "401", "403", "404", "422", "429", "503"}
# Open311 answers in the spec's format, and an invalid field is a 400 there.
OPEN311_REFUSED = REFUSED - {"422"}
# The OsmAnd protocol's apps read a bare status; only the text check answers a problem.
OSMAND_EMPTY = {"400", "503"}


@pytest.fixture(scope="module")
def openapi() -> dict[str, Any]:
    """The document the app serves at /openapi.json."""
    app = create_app(Settings(database_url="postgresql+psycopg://unused@/unused"))
    return app.openapi()


def operations(openapi: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(method, path, operation) of every operation."""
    return [
        (method, path, operation)
        for path, methods in openapi["paths"].items()
        for method, operation in methods.items()
    ]


def is_json(media_type: str) -> bool:
    """application/json and the +json types (geo+json, manifest+json...)."""
    return media_type == "application/json" or media_type.endswith("+json")


def named(schema: dict[str, Any]) -> bool:
    """A $ref to a model, a list of them, or a choice of them."""
    if schema.get("type") == "array":
        schema = schema["items"]
    choices = schema.get("anyOf", [schema])
    return all("$ref" in choice for choice in choices)


def test_the_document_is_valid_openapi_3_1(openapi: dict[str, Any]) -> None:
    validator = jsonschema_rs.Draft202012Validator(OPENAPI_31)
    assert [str(error)[:300] for error in validator.iter_errors(openapi)] == []
    assert openapi["openapi"].startswith("3.1.")
    # The validator does look: a response without a description is not OpenAPI.
    broken = {**openapi, "paths": {"/x": {"get": {"responses": {"200": {}}}}}}
    assert list(validator.iter_errors(broken))


def test_operation_ids_are_unique_and_name_the_tag_and_the_handler(
    openapi: dict[str, Any],
) -> None:
    ids = [operation["operationId"] for _, _, operation in operations(openapi)]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"[a-z][a-z0-9_]*", i) for i in ids), ids
    # No path spelled in (FastAPI's default: get_incidents_api_v1_incidents_get).
    assert not [i for i in ids if "api_v1" in i or "open311_v2" in i]
    by_route = {f"{m.upper()} {p}": o["operationId"] for m, p, o in operations(openapi)}
    assert by_route["GET /api/v1/incidents"] == "incidents_get_incidents"
    assert by_route["POST /api/v1/incidents"] == "incidents_post_incident"
    assert by_route["GET /open311/v2/requests.xml"] == "open311_get_requests_xml"


def test_every_operation_documents_its_answer_and_every_json_one_is_a_model(
    openapi: dict[str, Any],
) -> None:
    """A success (or a redirect, for the sign-in forms) for every operation; every body it
    declares has a schema, and a JSON one is a named model, never a free-form object."""
    untyped, silent = [], []
    for method, path, operation in operations(openapi):
        answers = {k: v for k, v in operation["responses"].items() if k[0] in "23"}
        if not answers:
            silent.append(f"{method} {path}")
        for status, answer in answers.items():
            for media_type, content in answer.get("content", {}).items():
                schema = content.get("schema")
                if not schema or (is_json(media_type) and not named(schema)):
                    untyped.append(f"{method} {path} {status} {media_type}")
    assert silent == []
    assert untyped == []


def test_every_operation_declares_the_problems_it_may_answer(openapi: dict[str, Any]) -> None:
    missing = []
    for method, path, operation in operations(openapi):
        responses = operation["responses"]
        open311 = path.startswith("/open311/")
        if path == "/osmand":
            assert set(responses) >= OSMAND_EMPTY and "content" not in responses["400"]
        for status in {"422"} if path == "/osmand" else OPEN311_REFUSED if open311 else REFUSED:
            content = responses.get(status, {}).get("content", {})
            if open311 and path.endswith(".xml"):
                ok = list(content) == ["text/xml"]
            elif open311:
                items = content.get("application/json", {}).get("schema", {}).get("items", {})
                ok = items.get("$ref") == "#/components/schemas/Open311Error"
            else:
                ok = content.get(PROBLEM, {}).get("schema") == {
                    "$ref": "#/components/schemas/Problem"
                }
            if not ok:
                missing.append(f"{method} {path} {status}")
    assert missing == []
    assert "422" not in openapi["paths"]["/open311/v2/requests.json"]["get"]["responses"]


def test_quality_flags_are_a_closed_list(openapi: dict[str, Any]) -> None:
    # The words the duty rules accept (duty.rules, written out there) are the vocabulary's.
    assert set(values(QualityFlag)) == KNOWN_FLAGS
    (flag,) = [
        p for p in openapi["paths"]["/api/v1/patrols"]["get"]["parameters"] if p["name"] == "flag"
    ]
    ref = flag["schema"]["anyOf"][0]["$ref"].rsplit("/", 1)[1]
    assert openapi["components"]["schemas"][ref]["enum"] == list(values(QualityFlag))


def test_patrols_answer_their_quality_flags_as_the_enum(openapi: dict[str, Any]) -> None:
    schemas = openapi["components"]["schemas"]
    for model in ("PatrolPublic", "PatrolProperties"):
        items = schemas[model]["properties"]["quality_flags"]["items"]
        assert schemas[items["$ref"].rsplit("/", 1)[1]]["enum"] == list(values(QualityFlag))
