"""Every route, called by every role from both sides, an anonymous caller and a revoked
device, is allowed or denied exactly as this written table says.

A route missing from the table fails `test_every_route_has_a_written_policy`, and a route
missing from the app's policy is refused at run time (fail closed).
"""

from __future__ import annotations

import re

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_patrol.api.app import create_app
from geo_patrol.core.settings import Settings
from tests.support.principals import ALL, ANONYMOUS, DEVICE, PEOPLE, REVOKED, headers_for, member_id

SIGNED_IN = frozenset({*PEOPLE, DEVICE})
MEMBERS = frozenset(PEOPLE)
ADMIN = frozenset({"admin"})
LEADS = frozenset({"admin", "joint.lead", "sz.lead", "wjj.lead"})
WRITERS = MEMBERS - {"meeting.room"}  # observers only read
PUBLIC = frozenset(set(ALL) - {REVOKED})  # a revoked token is refused even where none is needed

EXPECTED: dict[str, frozenset[str]] = {
    "GET /healthz": PUBLIC,
    "GET /metrics": ADMIN,
    "GET /login": PUBLIC,
    "GET /map": MEMBERS,
    "GET /incidents": MEMBERS,
    "GET /incidents/{incident_id}": MEMBERS,
    "POST /incidents/{incident_id}/steps": WRITERS,
    "GET /tiles/{layer}/{z}/{x}/{y}.pbf": MEMBERS,
    "GET /api/v1/meeting-pack": MEMBERS,
    "POST /login": PUBLIC,
    "POST /logout": MEMBERS,
    "POST /api/v1/auth/login": PUBLIC,
    "POST /api/v1/auth/tokens": PUBLIC,
    "POST /api/v1/auth/logout": MEMBERS,
    "GET /api/v1/me": SIGNED_IN,
    "POST /api/v1/me/password": MEMBERS,
    "GET /api/v1/jurisdictions": SIGNED_IN,
    "GET /api/v1/jurisdictions/at": SIGNED_IN,
    "GET /api/v1/jurisdictions/{code}": SIGNED_IN,
    "GET /api/v1/jurisdictions/{code}/versions": SIGNED_IN,
    "GET /api/v1/rivers": SIGNED_IN,
    "GET /api/v1/segments": SIGNED_IN,
    "GET /api/v1/zones": SIGNED_IN,
    "GET /api/v1/members": MEMBERS,
    "POST /api/v1/members": ADMIN,
    "GET /api/v1/members/{member_id}": MEMBERS,
    "PATCH /api/v1/members/{member_id}": ADMIN,
    "POST /api/v1/members/{member_id}/password": ADMIN,
    "POST /api/v1/members/{member_id}/roles": ADMIN,
    "DELETE /api/v1/members/{member_id}/roles/{role_id}": ADMIN,
    "GET /api/v1/teams": SIGNED_IN,
    "POST /api/v1/teams": ADMIN,
    "POST /api/v1/teams/{team_id}/members": ADMIN,
    "GET /api/v1/devices": MEMBERS,
    "POST /api/v1/devices": LEADS,
    "DELETE /api/v1/devices/{device_id}": MEMBERS,
    "GET /api/v1/audit": ADMIN,
    "POST /api/v1/patrols": SIGNED_IN,
    "GET /api/v1/patrols": SIGNED_IN,
    "GET /api/v1/patrols.csv": SIGNED_IN,
    "GET /api/v1/patrols/{patrol_id}": SIGNED_IN,
    "GET /api/v1/patrols/{patrol_id}/export.{fmt}": SIGNED_IN,
    "GET /api/v1/patrols/{patrol_id}/original": SIGNED_IN,
    "GET /api/v1/effort": MEMBERS,
    "GET /api/v1/coverage/uncovered": MEMBERS,
    "POST /api/v1/incidents": SIGNED_IN,
    "POST /api/v1/incidents/photo": SIGNED_IN,
    "GET /api/v1/incidents": SIGNED_IN,
    "GET /api/v1/incidents.csv": SIGNED_IN,
    "GET /api/v1/incidents/stats": MEMBERS,
    "GET /api/v1/incidents/{incident_id}": SIGNED_IN,
    "POST /api/v1/incidents/{incident_id}/actions": WRITERS,
    "POST /api/v1/incidents/{incident_id}/escalate": WRITERS,
    "POST /api/v1/incidents/{incident_id}/deescalate": WRITERS,
    "DELETE /api/v1/incidents/{incident_id}/duplicate_of": WRITERS,
    "POST /api/v1/incidents/{incident_id}/photos": SIGNED_IN,
    "GET /api/v1/incidents/{incident_id}/photos/{photo_id}": SIGNED_IN,
    "GET /api/v1/incident-categories": SIGNED_IN,
    # The phone web app: a public shell; set-up pages for people (owner, lead, admin).
    "GET /m/": PUBLIC,
    "GET /m/manifest.webmanifest": PUBLIC,
    "GET /m/sw.js": PUBLIC,
    "GET /api/v1/mobile/teams": SIGNED_IN,
    "GET /m/devices": MEMBERS,
    "GET /m/devices/{device_id}/setup": MEMBERS,
    "POST /m/devices/{device_id}/setup": MEMBERS,
    # The phone apps authenticate with the device identifier inside the request.
    "GET /osmand": PUBLIC,
    "POST /osmand": PUBLIC,
    "PUT /osmand": PUBLIC,
    # Open311: discovery and services are open; requests need an api_key or bearer (401 without).
    "GET /open311/v2/discovery.json": PUBLIC,
    "GET /open311/v2/discovery.xml": PUBLIC,
    "GET /open311/v2/services.json": PUBLIC,
    "GET /open311/v2/services.xml": PUBLIC,
    "GET /open311/v2/services/{service_code}.json": PUBLIC,
    "GET /open311/v2/services/{service_code}.xml": PUBLIC,
    "GET /open311/v2/requests.json": SIGNED_IN,
    "GET /open311/v2/requests.xml": SIGNED_IN,
    "POST /open311/v2/requests.json": SIGNED_IN,
    "POST /open311/v2/requests.xml": SIGNED_IN,
    "GET /open311/v2/requests/{service_request_id}.json": SIGNED_IN,
    "GET /open311/v2/requests/{service_request_id}.xml": SIGNED_IN,
}


def schema_routes(app: FastAPI) -> set[str]:
    """'METHOD /path' of every route in the app's OpenAPI schema (pages included)."""
    return {
        f"{method.upper()} {path}"
        for path, operations in app.openapi()["paths"].items()
        for method in operations
    }


def test_every_route_has_a_written_policy() -> None:
    app = create_app(Settings(database_url="postgresql+psycopg://unused@/unused"))
    assert schema_routes(app) == set(EXPECTED)


def path_values(session: Session) -> dict[str, str]:
    """Concrete values for the path parameters, from the demo data."""
    patrol = member_id(session, "sz.patrol")
    role = session.execute(
        text("SELECT min(id) FROM member_roles WHERE member_id = :m"), {"m": patrol}
    )
    team = session.execute(text("SELECT min(id) FROM teams"))
    device = session.execute(
        text("SELECT min(id) FROM devices WHERE member_id = :m"), {"m": patrol}
    )
    return {
        "code": "320509",
        "member_id": str(patrol),
        "role_id": str(role.scalar_one()),
        "team_id": str(team.scalar_one()),
        "device_id": str(device.scalar_one()),
        "patrol_id": "1",
        "incident_id": "1",
        "photo_id": "1",
        "fmt": "gpx",
        "service_code": "illegal_discharge",
        "service_request_id": "1",
        "layer": "tracks",
        "z": "12",
        "x": "3419",
        "y": "1681",
    }


@pytest.mark.parametrize("route", sorted(EXPECTED))
def test_route_allows_exactly_the_written_principals(
    route: str, demo_client: TestClient, demo_session: Session
) -> None:
    method, template = route.split(" ", 1)
    values = path_values(demo_session)
    path = re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], template)
    params = {"lon": "120.6", "lat": "30.93"} if path.endswith("/at") else None
    headers = headers_for(demo_session)
    outcomes = {}
    for name in ALL:
        body: dict[str, str] | None = {} if method in ("POST", "PATCH") else None
        with demo_session.begin_nested() as attempt:
            response = demo_client.request(
                method, path, params=params, headers=headers[name], json=body
            )
            attempt.rollback()
        outcomes[name] = response.status_code
    allowed = {name for name, status in outcomes.items() if status not in (401, 403)}
    assert allowed == set(EXPECTED[route]), outcomes
    for name in set(ALL) - allowed:
        assert outcomes[name] == (401 if name in (ANONYMOUS, REVOKED) else 403), outcomes


def test_route_without_policy_is_refused(database_url: str) -> None:
    app = create_app(Settings(database_url=database_url))

    @app.get("/api/v1/forgotten")
    def forgotten() -> dict[str, str]:
        return {"secret": "data"}

    with TestClient(app) as client:
        response = client.get("/api/v1/forgotten")
    assert response.status_code == 500
    assert "no access policy" in response.json()["detail"]
