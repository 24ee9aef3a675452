"""HTTP end to end through the app: health, GeoJSON lists, point lookup, problem+json errors."""

from __future__ import annotations

from pathlib import Path

import pytest
import shapely
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text as sql
from sqlalchemy.orm import Session

from geo_patrol.access.policy import ROUTE_POLICY, Rule
from geo_patrol.api.app import create_app
from geo_patrol.api.deps import SessionDep
from geo_patrol.core.settings import Settings
from geo_patrol.geography.imports.jurisdictions import (
    JurisdictionImportOptions,
    import_jurisdictions,
)
from tests.fixtures.vector.make_fixtures import BOUNDARIES, CODES

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "vector"


@pytest.fixture
def api(client: TestClient, admin_headers: dict[str, str]) -> TestClient:
    """The client, signed in as an administrator."""
    client.headers.update(admin_headers)
    return client


def load_counties(session: Session) -> None:
    """The two fixture counties, level county."""
    options = JurisdictionImportOptions(level="county")
    import_jurisdictions(session, path=FIXTURES / "boundaries.geojson", options=options)


def test_healthz_reports_postgis(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["postgis"].startswith("3.")


def test_openapi_documents_the_api(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert "/api/v1/jurisdictions/at" in paths
    assert client.get("/docs").status_code == 200


def test_jurisdictions_as_geojson(api: TestClient, session: Session) -> None:
    load_counties(session)
    body = api.get("/api/v1/jurisdictions", params={"level": "county"}).json()
    assert body["type"] == "FeatureCollection"
    by_code = {f["properties"]["code"]: f for f in body["features"]}
    assert set(by_code) == {str(code) for code in CODES}
    for code, source in zip(CODES, BOUNDARIES, strict=True):
        geometry = shapely.geometry.shape(by_code[str(code)]["geometry"])
        assert geometry.symmetric_difference(source).area < 1e-12


def test_point_lookup_inside_and_outside(api: TestClient, session: Session) -> None:
    load_counties(session)
    inside = api.get("/api/v1/jurisdictions/at", params={"lon": 120.63, "lat": 30.91}).json()
    assert [ref["code"] for ref in inside["chain"]] == ["320509"]
    outside = api.get("/api/v1/jurisdictions/at", params={"lon": 116.4, "lat": 39.9}).json()
    assert outside["chain"] == [] and outside["outside_all"] is True


def test_point_on_shared_border_names_both_sides(api: TestClient, session: Session) -> None:
    load_counties(session)
    body = api.get("/api/v1/jurisdictions/at", params={"lon": 120.655, "lat": 30.90}).json()
    sides = {body["chain"][0]["code"], *(ref["code"] for ref in body["on_boundary_with"])}
    assert sides == {"320509", "330421"}


def test_bad_query_is_problem_json_naming_the_field(api: TestClient) -> None:
    response = api.get("/api/v1/jurisdictions/at", params={"lon": 200, "lat": 30})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["errors"][0]["field"] == "lon" and "lon" in problem["detail"]


def test_unknown_code_is_problem_json_404(api: TestClient) -> None:
    response = api.get("/api/v1/jurisdictions/999999")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert "999999" in response.json()["detail"]
    assert api.get("/no/such/route").headers["content-type"] == "application/problem+json"


def test_commit_happens_before_the_answer(database_url: str) -> None:
    """A write whose commit fails must not answer 2xx (phones drop what was answered 200)."""
    app: FastAPI = create_app(Settings(database_url=database_url))

    @app.post("/api/v1/test-deferred-failure")
    def deferred(session: SessionDep) -> dict[str, str]:
        # A deferred constraint only fails at COMMIT, after the handler returned.
        session.execute(sql("CREATE TEMP TABLE t (v int UNIQUE DEFERRABLE INITIALLY DEFERRED)"))
        session.execute(sql("INSERT INTO t VALUES (1), (1)"))
        return {"stored": "yes"}

    ROUTE_POLICY["POST /api/v1/test-deferred-failure"] = Rule.PUBLIC
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            response = client.post("/api/v1/test-deferred-failure")
        # The refused commit is a conflict with what is stored, said as problem+json.
        assert response.status_code == 409
        assert response.headers["content-type"] == "application/problem+json"
    finally:
        del ROUTE_POLICY["POST /api/v1/test-deferred-failure"]
