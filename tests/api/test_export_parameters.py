"""A list's file export takes exactly the filters of its JSON list, typed the same: the two
declared their own parameters once and drifted (the exports took any text as a quality flag)."""

from __future__ import annotations

from typing import Any

import pytest

from geo_patrol.api.app import create_app
from geo_patrol.core.settings import Settings

# The JSON list, and its export; what only one of them takes (paging, file options, the
# JSON list's sort order) is left out of the comparison.
PAIRS = [
    ("/api/v1/patrols", "/api/v1/patrols.{fmt}"),
    ("/api/v1/incidents", "/api/v1/incidents.{fmt}"),
    ("/api/v1/effort", "/api/v1/effort.{fmt}"),
    ("/api/v1/coverage/uncovered", "/api/v1/coverage/uncovered.{fmt}"),
    ("/api/v1/decisions", "/api/v1/decisions.{fmt}"),
]
ONLY_JSON = {"limit", "cursor", "order"}
ONLY_FILE = {"fmt", "lang", "datum", "encoding"}


@pytest.fixture(scope="module")
def openapi() -> dict[str, Any]:
    """The app's OpenAPI document."""
    return create_app(Settings(database_url="postgresql+psycopg://unused@/unused")).openapi()


def parameters(openapi: dict[str, Any], path: str, drop: set[str]) -> dict[str, Any]:
    """The GET operation's parameters by name, each with its schema."""
    listed = openapi["paths"][path]["get"].get("parameters", [])
    return {p["name"]: p["schema"] for p in listed if p["name"] not in drop}


@pytest.mark.parametrize(("json_list", "export"), PAIRS)
def test_an_export_takes_its_lists_filters_typed_the_same(
    openapi: dict[str, Any], json_list: str, export: str
) -> None:
    filters = parameters(openapi, json_list, ONLY_JSON)
    assert filters, json_list  # the comparison compares something
    assert parameters(openapi, export, ONLY_FILE) == filters
