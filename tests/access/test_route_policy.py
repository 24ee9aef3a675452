"""Every route, called by every role from both sides, an anonymous caller and a revoked
device, is allowed or denied exactly as this written table says.

A route missing from the table fails `test_every_route_has_a_written_policy`, and a route
missing from the app's policy is refused at run time (fail closed). Routes that name a row
(a patrol, an incident, a photo, a team, a device, a member, a role) are called with real
rows of each side, made by their owners through the API: the callers the scope rules admit
succeed, every other caller the policy lets in is told 404 or 403.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import shapely
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

from geo_patrol.accounts.members import open_web_session
from geo_patrol.api.app import create_app
from geo_patrol.api.deps import SESSION_COOKIE
from geo_patrol.core.settings import Settings
from geo_patrol.meetings.kept_packs import keep_pack
from tests.support import oracle
from tests.support.clients import app_on
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
    "GET /tiles/{layer}.json": MEMBERS,
    "GET /tiles/{layer}/style.json": PUBLIC,
    "GET /api/v1/meeting-pack": MEMBERS,
    "POST /login": PUBLIC,
    "POST /logout": MEMBERS,
    "POST /api/v1/auth/login": PUBLIC,
    "POST /api/v1/auth/tokens": PUBLIC,
    "GET /api/v1/auth/tokens": MEMBERS,
    "DELETE /api/v1/auth/tokens/{token_id}": MEMBERS,
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
    "GET /api/v1/patrols.{fmt}": SIGNED_IN,
    "GET /api/v1/patrols/{patrol_id}": SIGNED_IN,
    "GET /api/v1/patrols/{patrol_id}/export.{fmt}": SIGNED_IN,
    "GET /api/v1/patrols/{patrol_id}/original": SIGNED_IN,
    "GET /api/v1/effort": MEMBERS,
    "GET /api/v1/coverage/uncovered": MEMBERS,
    "POST /api/v1/incidents": SIGNED_IN,
    "POST /api/v1/incidents/photo": SIGNED_IN,
    "GET /api/v1/incidents": SIGNED_IN,
    "GET /api/v1/incidents.{fmt}": SIGNED_IN,
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
    "GET /api/v1/me/duty": SIGNED_IN,
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
    # River chiefs: people read (their scope's chiefs); writers write where scope allows.
    "GET /api/v1/chiefs": MEMBERS,
    "POST /api/v1/chiefs": WRITERS,
    "GET /api/v1/chiefs/{appointment_id}": MEMBERS,
    "POST /api/v1/chiefs/{appointment_id}/end": WRITERS,
    "POST /api/v1/chiefs/{appointment_id}/replace": WRITERS,
    "POST /api/v1/chiefs/joint": WRITERS,
    "POST /api/v1/chiefs/roster": WRITERS,
    "GET /api/v1/duty/rules": MEMBERS,
    "PUT /api/v1/duty/rules": WRITERS,
    # River chiefs' duty: people only (a phone reads /api/v1/me/duty); rows by scope inside.
    "GET /duty": MEMBERS,
    "GET /api/v1/duty": MEMBERS,
    "GET /api/v1/duty.{fmt}": MEMBERS,
    "GET /api/v1/duty/joint": MEMBERS,
    "GET /api/v1/duty/summary": MEMBERS,
    "GET /api/v1/duty/reminders": MEMBERS,
    "GET /api/v1/patrols/tracks.{fmt}": SIGNED_IN,
    "GET /api/v1/effort.{fmt}": MEMBERS,
    "GET /api/v1/coverage/uncovered.{fmt}": MEMBERS,
    # Incident import: writers (rows outside the caller's jurisdictions refused inside).
    "POST /api/v1/incidents/import": WRITERS,
    # OGC API - Features: people only; rows by scope inside (tests/ogc reads them per side).
    "GET /ogc": MEMBERS,
    "GET /ogc/conformance": MEMBERS,
    "GET /ogc/api": MEMBERS,
    "GET /ogc/collections": MEMBERS,
    "GET /ogc/collections/{collection_id}": MEMBERS,
    "GET /ogc/collections/{collection_id}/items": MEMBERS,
    "GET /ogc/collections/{collection_id}/items/{feature_id}": MEMBERS,
    # Water import: writers by role (only administrators and supervisors inside).
    "POST /api/v1/water/sections/import": WRITERS,
    "POST /api/v1/water/readings/import": WRITERS,
    # Joint meetings and decisions: people read (zones by scope inside); writers write.
    "GET /api/v1/meetings": MEMBERS,
    "POST /api/v1/meetings": WRITERS,
    "GET /api/v1/meetings/{meeting_id}": MEMBERS,
    "PATCH /api/v1/meetings/{meeting_id}": WRITERS,
    "PUT /api/v1/meetings/{meeting_id}/attendees": WRITERS,
    "PUT /api/v1/meetings/{meeting_id}/agenda": WRITERS,
    "POST /api/v1/meetings/{meeting_id}/decisions": WRITERS,
    "GET /api/v1/decisions": MEMBERS,
    "GET /api/v1/decisions/{decision_id}": MEMBERS,
    "POST /api/v1/decisions/{decision_id}/updates": WRITERS,
    # The meetings' pages: the same rights as the JSON API's (page forms post with CSRF).
    "GET /meetings": MEMBERS,
    "GET /meetings/new": WRITERS,
    "POST /meetings": WRITERS,
    "GET /meetings/{meeting_id}": MEMBERS,
    "POST /meetings/{meeting_id}/attendees": WRITERS,
    "POST /meetings/{meeting_id}/minutes": WRITERS,
    "POST /meetings/{meeting_id}/decisions": WRITERS,
    "POST /meetings/{meeting_id}/held": WRITERS,
    "POST /meetings/{meeting_id}/packs": WRITERS,
    "GET /decisions": MEMBERS,
    "GET /decisions/{decision_id}": MEMBERS,
    "POST /decisions/{decision_id}/updates": WRITERS,
    "GET /api/v1/decisions.{fmt}": MEMBERS,
    # The proposed agenda and a meeting's kept packs (zone rights inside).
    "GET /api/v1/agenda/proposed": MEMBERS,
    "POST /api/v1/meetings/{meeting_id}/packs": WRITERS,
    "GET /api/v1/meetings/{meeting_id}/packs": MEMBERS,
    "GET /api/v1/meetings/{meeting_id}/packs/{pack_id}": MEMBERS,
    # A water-quality case's reading and leads: seen as the incident is.
    "GET /api/v1/incidents/{incident_id}/leads": SIGNED_IN,
    "PUT /api/v1/rivers/{river_code}/flow": ADMIN,
    "GET /api/v1/water/sections": MEMBERS,
    "GET /api/v1/water/sections/{section_id}": MEMBERS,
    "GET /api/v1/water/sections/{section_id}/readings": MEMBERS,
    "GET /api/v1/water/readings.{fmt}": MEMBERS,
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


PHOTO = Path(__file__).resolve().parents[1] / "fixtures" / "photos" / "no_exif.jpg"


@dataclass(frozen=True)
class Side:
    """One side of the border in the demo: its places and the people of its own."""

    county: str
    town: str
    county_sup: str
    town_sup: str
    lead: str
    patrol: str
    reporter: str  # who reports the side's case (a phone on side A, a person on side B)
    team: str
    member_phone: str  # a member without a login, of the side's own team only


SIDES = {
    "A": Side(
        county="320509",
        town="320509100",
        county_sup="wujiang.sup",
        town_sup="shengze.sup",
        lead="sz.lead",
        patrol="sz.patrol",
        reporter=DEVICE,
        team="盛泽巡河队",
        member_phone="13800000006",
    ),
    "B": Side(
        county="330411",
        town="330411100",
        county_sup="xiuzhou.sup",
        town_sup="wjj.sup",
        lead="wjj.lead",
        patrol="wjj.patrol",
        reporter="wjj.patrol",
        team="王江泾巡河队",
        member_phone="13800000008",
    ),
}


# Who sees the demo zone's meetings (geo_patrol.meetings.visibility).
ZONE_READERS = frozenset(
    {"admin", "wujiang.sup", "xiuzhou.sup", "shengze.sup", "wjj.sup", "zone.coord", "meeting.room"}
)


def readers(side: Side, kind: str) -> frozenset[str]:
    """Who may see (or act on) a side's object of `kind`, from the scope rules of
    geo_patrol.access.scope and the set-up below; written out, not asked of the code."""
    people = {
        # the side's supervisors by subtree; its own team's lead and members by team;
        # the side's patrol member's phone acts for that team too (side A only: B's is revoked)
        "patrol": {"admin", side.county_sup, side.town_sup, side.lead, side.patrol}
        | ({DEVICE} if side.patrol == "sz.patrol" else set()),
        # the responsible side's supervisors, and the reporter (person and phone alike);
        # no team or zone reads a case that is neither joint nor theirs
        "incident": {"admin", side.county_sup, side.town_sup, side.patrol}
        | ({DEVICE} if side.reporter == DEVICE else set()),
        # may act on the case: administrators and the responsible side's supervisors
        "act": {"admin", side.county_sup, side.town_sup},
        # may send the case down from the county tier: who holds that tier or above
        "county_tier": {"admin", side.county_sup},
        # a member: supervisors of their home, leads and members of their team
        "member": {"admin", side.county_sup, side.town_sup, side.lead, side.patrol},
        # a device: its owner (no login here), the lead of every team it acts for, admins
        "device": {"admin", side.lead},
        "admin": {"admin"},
        # a chief of the side's town (not in a joint pair): the side's supervisors; the
        # chief has no login
        "chief": {"admin", side.county_sup, side.town_sup},
        # the zone's meetings: both sides' supervisors, the zone's coordinator and observer
        "meeting": ZONE_READERS,
        # prepare and record them: the same, but the observer
        "meeting_edit": ZONE_READERS - {"meeting.room"},
        # a decision owned by the side (its patrol member named): the zone's readers and
        # the owner, who may post its updates with the side's supervisors
        "decision": ZONE_READERS | {side.patrol},
        "decision_update": {"admin", side.county_sup, side.town_sup, side.patrol},
        # a water section run by the side's town: the side's supervisors, and the zone's
        # coordinator and observer (the town is a member of the demo zone)
        "section": {"admin", side.county_sup, side.town_sup, "zone.coord", "meeting.room"},
    }
    return frozenset(people[kind])


@dataclass(frozen=True)
class Objects:
    """Real rows of one side, made through the API as their owners would."""

    patrol: int
    incident: int
    duplicate: int
    photo: int
    team: int
    member: int
    role: int
    device: int
    appointment: int
    meeting: int
    decision: int
    pack: int
    section: int


def gpx_inside(side: Side) -> bytes:
    """A 300 m walk 2 km inside the side's town, away from every border."""
    lon, lat = oracle.point_off_border_river(2000, side.county)
    town = oracle.polygons()[side.town][1]
    lons, lats = oracle.walk(lon, lat, 90, 300)
    assert town.contains(shapely.LineString(np.column_stack([lons, lats])))
    return oracle.gpx(lons, lats, oracle.times(len(lons)))


def make_objects(
    client: TestClient, session: Session, headers: dict[str, dict[str, str]], side: Side
) -> Objects:
    """A patrol, a case (escalated to the county tier), its duplicate with a photo, a member
    of the side's own team with a role, and that member's phone."""
    admin = headers["admin"]
    team = session.execute(text("SELECT id FROM teams WHERE name = :n"), {"n": side.team})
    team_id = int(team.scalar_one())
    patrol = client.post(
        "/api/v1/patrols",
        headers=headers[side.patrol],
        data={"team_id": str(team_id)},
        files={"file": ("walk.gpx", gpx_inside(side), "application/gpx+xml")},
    )
    assert patrol.status_code == 201, patrol.text
    lon, lat = oracle.point_off_border_river(2000, side.county)
    body = {"category": "illegal_discharge", "severity": "medium", "lon": lon, "lat": lat}
    case, copy = (
        client.post("/api/v1/incidents", json=body, headers=headers[side.reporter])
        for _ in range(2)
    )
    assert (case.status_code, copy.status_code) == (201, 201), (case.text, copy.text)
    incident, duplicate = case.json()["id"], copy.json()["id"]
    session.execute(
        text("UPDATE incidents SET duplicate_of = :o WHERE id = :d"),
        {"o": incident, "d": duplicate},
    )
    up = client.post(f"/api/v1/incidents/{incident}/escalate", json={}, headers=admin)
    assert up.json()["tier"] == "county", up.text
    photo = client.post(
        f"/api/v1/incidents/{incident}/photos",
        files={"file": ("p.jpg", PHOTO.read_bytes(), "image/jpeg")},
        headers=admin,
    )
    assert photo.status_code == 201, photo.text
    member = session.execute(
        text("SELECT id FROM members WHERE phone = :p"), {"p": side.member_phone}
    ).scalar_one()
    role = client.post(
        f"/api/v1/members/{member}/roles",
        json={"role": "patrol_member", "team_id": team_id},
        headers=admin,
    )
    device = client.post(
        "/api/v1/devices",
        json={"member_id": member, "label": "phone", "team_ids": [team_id]},
        headers=admin,
    )
    chief = client.post(
        "/api/v1/chiefs",
        json={
            "member_id": member,
            "level": "town",
            "side": side.town,
            "river": "R-320509-330411-01",
            "valid_from": "2026-01-01",
        },
        headers=admin,
    )
    assert (role.status_code, device.status_code) == (201, 201), (role.text, device.text)
    assert chief.status_code == 201, chief.text
    meeting, decision = make_meeting(client, admin, side, member_id(session, side.patrol))
    # A kept pack of the meeting (stored directly: rendering one per test costs seconds).
    pack, _ = keep_pack(
        session, meeting_id=meeting, content=side.town.encode(), language="zh", kept_by=None
    )
    section = session.execute(
        text(
            "INSERT INTO water_sections (code, name, kind, target_class, side_code, river_id,"
            " geom, given_geom, snap_distance_m) SELECT :code, :name, 'county', 3, :side, id,"
            " ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), ST_SetSRID(ST_MakePoint(:lon, :lat),"
            " 4326), 0 FROM rivers WHERE code = 'R-320509-330411-01' RETURNING id"
        ),
        {"code": f"WS-{side.town}", "name": side.town, "side": side.town, "lon": lon, "lat": lat},
    ).scalar_one()
    return Objects(
        patrol=patrol.json()["id"],
        incident=incident,
        duplicate=duplicate,
        photo=photo.json()["id"],
        team=team_id,
        member=int(member),
        role=role.json()["id"],
        device=device.json()["id"],
        appointment=chief.json()["id"],
        meeting=meeting,
        decision=decision,
        pack=pack.id,
        section=section,
    )


def make_meeting(
    client: TestClient, admin: dict[str, str], side: Side, patrol_id: int
) -> tuple[int, int]:
    """A meeting of the demo zone, and a decision of it owned by the side (its patrol
    member named)."""
    meeting = client.post(
        "/api/v1/meetings",
        json={
            "zone": "ZONE-SZ-WJJ",
            "title": f"meeting of side {side.town}",
            "held_at": "2026-11-20T02:00:00Z",
            "period_from": "2026-10-01",
            "period_to": "2026-10-31",
        },
        headers=admin,
    )
    assert meeting.status_code == 201, meeting.text
    decision = client.post(
        f"/api/v1/meetings/{meeting.json()['id']}/decisions",
        json={
            "body": f"clear the border stretch ({side.town})",
            "deadline": "2026-12-31",
            "owners": [{"side_code": side.town, "member_id": patrol_id}],
        },
        headers=admin,
    )
    assert decision.status_code == 201, decision.text
    return meeting.json()["id"], decision.json()["id"]


@pytest.fixture(scope="module")
def objects(
    database_url: str, demo_connection: Connection
) -> Iterator[tuple[dict[str, dict[str, str]], dict[str, Objects]]]:
    """Bearer headers per principal, and real objects of each side: made once for the module,
    in a savepoint of the module's demo connection kept to its end. Every call of a test
    runs in a savepoint of its own that is rolled back, so no test changes them for the next
    (making them per test was most of this module's minutes)."""
    kept = demo_connection.begin_nested()
    with Session(bind=demo_connection, join_transaction_mode="create_savepoint") as session:
        with TestClient(app_on(session, Settings(database_url=database_url))) as client:
            headers = headers_for(session)
            made = {name: make_objects(client, session, headers, s) for name, s in SIDES.items()}
        session.commit()  # into `kept`: closing the session must not undo them
    yield headers, made
    kept.rollback()


def path_values(made: Objects) -> dict[str, str]:
    """Concrete values for the path parameters: real objects (of side A)."""
    return {
        "code": "320509",
        "member_id": str(made.member),
        "role_id": str(made.role),
        "team_id": str(made.team),
        "device_id": str(made.device),
        "appointment_id": str(made.appointment),
        "meeting_id": str(made.meeting),
        "decision_id": str(made.decision),
        "pack_id": str(made.pack),
        "section_id": str(made.section),
        "token_id": "1",  # whose it is does not matter to the policy: another's is a 404
        "patrol_id": str(made.patrol),
        "incident_id": str(made.incident),
        "photo_id": str(made.photo),
        "fmt": "gpx",
        "service_code": "illegal_discharge",
        "service_request_id": str(made.incident),
        "collection_id": "patrols",
        "feature_id": str(made.patrol),
        "layer": "tracks",
        "z": "12",
        "x": "3419",
        "y": "1681",
        "river_code": "R-320509-330411-01",
    }


@pytest.mark.parametrize("route", sorted(EXPECTED))
def test_route_allows_exactly_the_written_principals(
    route: str,
    demo_client: TestClient,
    demo_session: Session,
    objects: tuple[dict[str, dict[str, str]], dict[str, Objects]],
) -> None:
    method, template = route.split(" ", 1)
    headers, made = objects
    values = path_values(made["A"])
    path = re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], template)
    params = {"lon": "120.6", "lat": "30.93"} if path.endswith("/at") else None
    outcomes = {}
    for name in ALL:
        body: dict[str, str] | None = {} if method in ("POST", "PATCH") else None
        with demo_session.begin_nested() as attempt:
            response = demo_client.request(
                method, path, params=params, headers=headers[name], json=body
            )
            attempt.rollback()
        outcomes[name] = (response.status_code, policy_refusal(response))
    allowed = {name for name, (_, refused) in outcomes.items() if not refused}
    assert allowed == set(EXPECTED[route]), outcomes
    assert all(outcomes[name][0] < 500 for name in allowed), outcomes
    for name in set(ALL) - allowed:
        assert outcomes[name][0] == (401 if name in (ANONYMOUS, REVOKED) else 403), outcomes


def policy_refusal(response: Response) -> bool:
    """Whether the route's policy refused the call: no (valid) credential, or roles that the
    policy table does not admit (a 403 for a row out of scope says something else)."""
    if response.status_code == 401:
        return True
    media = response.headers.get("content-type", "")
    return (
        response.status_code == 403
        and media.startswith("application/problem+json")
        and response.json()["detail"] == "your roles do not allow this"
    )


@dataclass(frozen=True)
class Call:
    """A valid request on one object route: whose rows it reaches, its success code, what
    an out-of-scope caller gets (404: the row looks absent; 403: refused), and its body."""

    kind: str
    success: int
    hidden: int
    json: Callable[[Objects], object] | None = None
    data: dict[str, str] | None = None
    photo: bool = False
    duplicate: bool = False  # called on the side's duplicate report (at the town tier)
    browser: bool = False  # a page form: people post it from a web session with its CSRF token
    seen: str | None = None  # readers of this kind who may not act are refused (403)


OBJECT_CALLS: dict[str, Call] = {
    "GET /incidents/{incident_id}": Call("incident", 200, 404),
    "POST /incidents/{incident_id}/steps": Call(
        "act", 303, 404, data={"step": "assign"}, browser=True, seen="incident"
    ),
    "GET /api/v1/members/{member_id}": Call("member", 200, 404),
    "PATCH /api/v1/members/{member_id}": Call("admin", 204, 403, lambda o: {"name": "改名"}),
    "POST /api/v1/members/{member_id}/password": Call(
        "admin", 204, 403, lambda o: {"password": "a new long password"}
    ),
    "POST /api/v1/members/{member_id}/roles": Call(
        "admin", 201, 403, lambda o: {"role": "team_lead", "team_id": o.team}
    ),
    "DELETE /api/v1/members/{member_id}/roles/{role_id}": Call("admin", 204, 403),
    "POST /api/v1/teams/{team_id}/members": Call(
        "admin", 204, 403, lambda o: {"member_id": o.member, "role": "lead"}
    ),
    "DELETE /api/v1/devices/{device_id}": Call("device", 204, 404),
    "GET /m/devices/{device_id}/setup": Call("device", 200, 404),
    "POST /m/devices/{device_id}/setup": Call("device", 200, 404),
    "GET /api/v1/patrols/{patrol_id}": Call("patrol", 200, 404),
    "GET /api/v1/patrols/{patrol_id}/export.{fmt}": Call("patrol", 200, 404),
    "GET /api/v1/patrols/{patrol_id}/original": Call("patrol", 200, 404),
    "GET /api/v1/incidents/{incident_id}": Call("incident", 200, 404),
    "POST /api/v1/incidents/{incident_id}/actions": Call(
        "act", 200, 403, lambda o: {"action": "assign"}
    ),
    "POST /api/v1/incidents/{incident_id}/escalate": Call(
        "act", 200, 403, lambda o: {}, duplicate=True
    ),
    "POST /api/v1/incidents/{incident_id}/deescalate": Call(
        "county_tier", 200, 403, lambda o: {"note": "back to the town"}
    ),
    "DELETE /api/v1/incidents/{incident_id}/duplicate_of": Call("act", 204, 404, duplicate=True),
    "POST /api/v1/incidents/{incident_id}/photos": Call("incident", 201, 404, photo=True),
    "GET /api/v1/incidents/{incident_id}/photos/{photo_id}": Call("incident", 200, 404),
    "GET /open311/v2/requests/{service_request_id}.json": Call("incident", 200, 404),
    "GET /open311/v2/requests/{service_request_id}.xml": Call("incident", 200, 404),
    "GET /api/v1/chiefs/{appointment_id}": Call("chief", 200, 404),
    "POST /api/v1/chiefs/{appointment_id}/end": Call(
        "chief", 200, 404, lambda o: {"last_day": "2026-06-30"}
    ),
    "POST /api/v1/chiefs/{appointment_id}/replace": Call(
        "chief", 201, 404, lambda o: {"member_id": o.member, "valid_from": "2026-07-01"}
    ),
    "GET /api/v1/meetings/{meeting_id}": Call("meeting", 200, 404),
    "PATCH /api/v1/meetings/{meeting_id}": Call(
        "meeting_edit", 200, 404, lambda o: {"minutes": "纪要"}, seen="meeting"
    ),
    "PUT /api/v1/meetings/{meeting_id}/attendees": Call(
        "meeting_edit", 200, 404, lambda o: {"attendees": [{"name": "客人"}]}, seen="meeting"
    ),
    "PUT /api/v1/meetings/{meeting_id}/agenda": Call(
        "meeting_edit",
        200,
        404,
        lambda o: {"items": [{"kind": "other", "title": "议题"}]},
        seen="meeting",
    ),
    "POST /api/v1/meetings/{meeting_id}/decisions": Call(
        "meeting_edit",
        201,
        404,
        lambda o: {
            "body": "new",
            "deadline": "2026-12-31",
            "owners": [{"side_code": "320509100"}],
        },
        seen="meeting",
    ),
    # A meeting's kept packs: its zone's readers list and read them; its editors keep one.
    "POST /api/v1/meetings/{meeting_id}/packs": Call("meeting_edit", 201, 404, seen="meeting"),
    "GET /api/v1/meetings/{meeting_id}/packs": Call("meeting", 200, 404),
    "GET /api/v1/meetings/{meeting_id}/packs/{pack_id}": Call("meeting", 200, 404),
    "GET /api/v1/decisions/{decision_id}": Call("decision", 200, 404),
    "POST /api/v1/decisions/{decision_id}/updates": Call(
        "decision_update", 201, 404, lambda o: {"note": "进展"}, seen="decision"
    ),
    # The meetings' pages, their forms posted from a web session (303 back to the page).
    "GET /meetings/{meeting_id}": Call("meeting", 200, 404),
    "POST /meetings/{meeting_id}/attendees": Call(
        "meeting_edit",
        303,
        404,
        data={"attendee_side": "320509", "attendee_names": "客人"},
        browser=True,
        seen="meeting",
    ),
    "POST /meetings/{meeting_id}/minutes": Call(
        "meeting_edit", 303, 404, data={"minutes": "纪要"}, browser=True, seen="meeting"
    ),
    "POST /meetings/{meeting_id}/decisions": Call(
        "meeting_edit",
        303,
        404,
        data={"body": "议定", "deadline": "2027-01-31", "owner_side": "320509"},
        browser=True,
        seen="meeting",
    ),
    "POST /meetings/{meeting_id}/held": Call(
        "meeting_edit", 303, 404, data={}, browser=True, seen="meeting"
    ),
    "POST /meetings/{meeting_id}/packs": Call(
        "meeting_edit", 303, 404, data={}, browser=True, seen="meeting"
    ),
    "GET /decisions/{decision_id}": Call("decision", 200, 404),
    "POST /decisions/{decision_id}/updates": Call(
        "decision_update", 303, 404, data={"note": "进展"}, browser=True, seen="decision"
    ),
    # The side's patrol as a feature of the OGC collection `patrols` (path_values).
    "GET /ogc/collections/{collection_id}/items/{feature_id}": Call("patrol", 200, 404),
    "GET /api/v1/incidents/{incident_id}/leads": Call("incident", 200, 404),
    "GET /api/v1/water/sections/{section_id}": Call("section", 200, 404),
    "GET /api/v1/water/sections/{section_id}/readings": Call("section", 200, 404),
}


def browser_headers(session: Session) -> dict[str, dict[str, str]]:
    """A web session per person: its cookie, and its CSRF token (which a page form echoes)."""
    result = {}
    for login in PEOPLE:
        opened = open_web_session(
            session, member_id=member_id(session, login), address=None, settings=Settings()
        )
        result[login] = {
            "Cookie": f"{SESSION_COOKIE}={opened.secret}",
            "X-CSRF-Token": opened.csrf_token or "",
        }
    return result


def test_every_object_route_is_called_with_real_objects() -> None:
    """Every route naming a row by id is in OBJECT_CALLS (jurisdiction codes, service codes
    and tiles are public geography, not rows in anyone's scope; a personal token is its
    owner's alone, which tests/access/test_gis_tokens.py shows; an OGC collection id names a
    collection, not a row, and its items are every member's own rows, which tests/ogc reads
    per side)."""
    named = {
        route
        for route in EXPECTED
        if re.search(r"\{\w+_id\}", route)
        and "/auth/tokens/" not in route
        and not route.endswith(("{collection_id}", "{collection_id}/items"))
    }
    assert named == set(OBJECT_CALLS)


@pytest.mark.parametrize("route", sorted(OBJECT_CALLS))
@pytest.mark.parametrize("side", sorted(SIDES))
def test_object_routes_answer_by_scope(
    route: str,
    side: str,
    demo_client: TestClient,
    demo_session: Session,
    objects: tuple[dict[str, dict[str, str]], dict[str, Objects]],
) -> None:
    """Every object route, as every principal, on a real object of each side: the written
    readers succeed, every other caller the route's policy admits gets 404 or 403."""
    method, template = route.split(" ", 1)
    headers, made = objects
    call, target = OBJECT_CALLS[route], made[side]
    values = path_values(target)
    if call.duplicate:
        values["incident_id"] = str(target.duplicate)
    path = re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], template)
    if call.browser:
        headers = {**headers, **browser_headers(demo_session)}
    outcomes = {}
    for name in ALL:
        files = {"file": ("p.jpg", PHOTO.read_bytes(), "image/jpeg")} if call.photo else None
        data = call.data
        if call.browser and name in PEOPLE:
            data = {**(data or {}), "csrf_token": headers[name]["X-CSRF-Token"]}
        with demo_session.begin_nested() as attempt:
            response = demo_client.request(
                method,
                path,
                headers=headers[name],
                json=call.json(target) if call.json else None,
                data=data,
                files=files,
                follow_redirects=False,
            )
            attempt.rollback()
        outcomes[name] = response.status_code
    expected = {}
    for name in ALL:
        if name in (ANONYMOUS, REVOKED):
            expected[name] = 401
        elif name not in EXPECTED[route]:
            expected[name] = 403
        elif name in readers(SIDES[side], call.kind):
            expected[name] = call.success
        elif call.seen and name in readers(SIDES[side], call.seen):
            expected[name] = 403
        else:
            expected[name] = call.hidden
    assert outcomes == expected


def test_route_without_policy_is_refused(database_url: str) -> None:
    app = create_app(Settings(database_url=database_url))

    @app.get("/api/v1/forgotten")
    def forgotten() -> dict[str, str]:
        return {"secret": "data"}

    with TestClient(app) as client:
        response = client.get("/api/v1/forgotten")
    assert response.status_code == 500
    assert "no access policy" in response.json()["detail"]
