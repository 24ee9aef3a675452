"""Members x targets: which phones a lead may issue, set up again, revoke and list.

The rule: a lead manages phones only of members of the teams they lead, and only for those
teams; a device's rights never exceed what the person who made it may grant. Every demo
lead is tried against every member of every team (their own included), on the real API.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_patrol.core.settings import Settings
from geo_patrol.patrols.live.osmand import LivePosition
from geo_patrol.patrols.live.store import store_batch
from tests.support import oracle
from tests.support.principals import member_id

LEADS = {"joint.lead": "联合巡河队一队", "sz.lead": "盛泽巡河队", "wjj.lead": "王江泾巡河队"}


def team_ids(session: Session) -> dict[str, int]:
    """Demo team ids by name."""
    return {row.name: row.id for row in session.execute(text("SELECT id, name FROM teams"))}


def memberships(session: Session) -> dict[int, set[int]]:
    """Every member in a team, with their teams (memberships and patrol roles), by the
    tables themselves: the oracle the API is checked against."""
    rows = session.execute(
        text(
            "SELECT member_id, team_id FROM team_members UNION SELECT member_id, team_id "
            "FROM member_roles WHERE role IN ('patrol_member', 'team_lead') AND team_id IS NOT NULL"
        )
    )
    found: dict[int, set[int]] = {}
    for row in rows:
        found.setdefault(row.member_id, set()).add(row.team_id)
    return found


def bearer(token: str) -> dict[str, str]:
    """An Authorization header."""
    return {"Authorization": f"Bearer {token}"}


def admin_devices(
    client: TestClient, admin: dict[str, str], teams_of: dict[int, set[int]]
) -> dict[int, frozenset[int]]:
    """Targets: for each member, a phone per team and one for all their teams (by admin)."""
    made: dict[int, frozenset[int]] = {}
    for member, teams in sorted(teams_of.items()):
        wanted = {frozenset({t}) for t in teams} | {frozenset(teams)}
        for chosen in sorted(wanted, key=sorted):
            body = {"member_id": member, "label": "target", "team_ids": sorted(chosen)}
            answer = client.post("/api/v1/devices", json=body, headers=admin)
            assert answer.status_code == 201, answer.text
            assert set(answer.json()["team_ids"]) == chosen
            made[answer.json()["id"]] = chosen
    return made


@pytest.mark.parametrize("lead", sorted(LEADS))
def test_every_lead_against_every_member_and_phone(
    lead: str,
    demo_client: TestClient,
    demo_session: Session,
    headers: dict[str, dict[str, str]],
) -> None:
    led = {team_ids(demo_session)[LEADS[lead]]}
    me = member_id(demo_session, lead)
    teams_of = memberships(demo_session)
    assert len(teams_of) >= 8 and any(len(t) > 1 for t in teams_of.values())
    targets = admin_devices(demo_client, headers["admin"], teams_of)
    owners = {
        row.id: row.member_id
        for row in demo_session.execute(text("SELECT id, member_id FROM devices"))
    }
    manageable = {d for d, teams in targets.items() if teams <= led or owners[d] == me}

    # list: exactly the phones whose every team the lead leads (and their own)
    listed = {d["id"] for d in demo_client.get("/api/v1/devices", headers=headers[lead]).json()}
    assert listed & set(targets) == manageable
    page = demo_client.get("/m/devices", headers=headers[lead]).text  # the lead's phone page
    on_page = {int(n) for n in re.findall(r'href="/m/devices/(\d+)/setup', page)}
    assert on_page & set(targets) == manageable

    # re-issue on the set-up page, then revoke: allowed exactly for those phones
    for device in sorted(targets):
        allowed = device in manageable
        page = demo_client.get(f"/m/devices/{device}/setup", headers=headers[lead])
        made = demo_client.post(f"/m/devices/{device}/setup", headers=headers[lead])
        assert (page.status_code, made.status_code) == ((200, 200) if allowed else (404, 404)), (
            device,
            targets[device],
            made.text,
        )
        gone = demo_client.delete(f"/api/v1/devices/{device}", headers=headers[lead])
        assert gone.status_code == (204 if allowed else 404), (device, targets[device])
    still = demo_session.execute(
        text("SELECT id FROM devices WHERE revoked_at IS NULL AND id = ANY(:ids)"),
        {"ids": sorted(targets)},
    ).scalars()
    assert set(still) == set(targets) - manageable

    # issue: for every member; only for the led teams the member is in, never beyond
    for member, teams in sorted(teams_of.items()):
        grantable = teams & led
        body = {"member_id": member, "label": "new"}
        issued = demo_client.post("/api/v1/devices", json=body, headers=headers[lead])
        if not grantable:
            assert issued.status_code == 403, (member, issued.text)
            continue
        assert issued.status_code == 201, issued.text
        assert set(issued.json()["team_ids"]) == grantable
        stored = demo_session.execute(
            text("SELECT team_id FROM device_teams WHERE device_id = :d"),
            {"d": issued.json()["id"]},
        ).scalars()
        assert set(stored) == grantable
        rights = demo_client.get("/api/v1/me", headers=bearer(issued.json()["token"])).json()
        assert {g["team_id"] for g in rights["roles"]} <= grantable
        assert set(rights["scope"]["teams"]) <= grantable
        beyond = {**body, "team_ids": sorted(teams)}
        asked = demo_client.post("/api/v1/devices", json=beyond, headers=headers[lead])
        assert asked.status_code == (201 if teams <= led else 403), (member, asked.text)


def gpx_near_the_border() -> bytes:
    """A short walk on the Wangjiangjing side."""
    lons = np.linspace(120.6100, 120.6110, 12)
    lats = np.linspace(30.9200, 30.9205, 12)
    return oracle.gpx(lons, lats, oracle.times(len(lons)))


def test_joint_lead_cannot_take_over_a_wangjiangjing_members_phone(
    demo_client: TestClient, demo_session: Session, headers: dict[str, dict[str, str]]
) -> None:
    """The issue's scenario: the joint team's lead (Shengze side) and a Wangjiangjing
    patrol member of the joint team."""
    teams = team_ids(demo_session)
    wjj, joint = teams["王江泾巡河队"], teams["联合巡河队一队"]
    member = member_id(demo_session, "wjj.patrol")
    own = demo_client.post(
        "/api/v1/patrols",
        headers=headers["wjj.patrol"],
        data={"team_id": str(wjj)},
        files={"file": ("walk.gpx", gpx_near_the_border(), "application/gpx+xml")},
    )
    assert own.status_code == 201, own.text
    phone = demo_client.post(
        "/api/v1/devices",
        json={"member_id": member, "label": "phone"},
        headers=headers["wjj.lead"],
    ).json()
    lead = headers["joint.lead"]
    # Re-issue, revoke, list: the Wangjiangjing team's phone is not the joint lead's.
    assert demo_client.post(f"/m/devices/{phone['id']}/setup", headers=lead).status_code == 404
    assert demo_client.delete(f"/api/v1/devices/{phone['id']}", headers=lead).status_code == 404
    listed = demo_client.get("/api/v1/devices", headers=lead).json()
    assert phone["id"] not in {d["id"] for d in listed}
    assert demo_client.get("/api/v1/me", headers=bearer(phone["token"])).status_code == 200
    # Issue: allowed, but for the joint team only.
    issued = demo_client.post(
        "/api/v1/devices", json={"member_id": member, "label": "joint phone"}, headers=lead
    )
    assert issued.status_code == 201 and issued.json()["team_ids"] == [joint]
    refused = demo_client.post(
        "/api/v1/devices",
        json={"member_id": member, "label": "x", "team_ids": [joint, wjj]},
        headers=lead,
    )
    assert refused.status_code == 403 and refused.json()["field"] == "team_ids"
    empty = demo_client.post(
        "/api/v1/devices", json={"member_id": member, "label": "x", "team_ids": []}, headers=lead
    )
    assert empty.status_code == 422 and empty.json()["errors"][0]["field"] == "team_ids"
    token = bearer(issued.json()["token"])
    # The new token reads nothing of Wangjiangjing's own team, and cannot upload for it.
    patrol = own.json()["id"]
    assert demo_client.get(f"/api/v1/patrols/{patrol}", headers=token).status_code == 404
    listed_patrols = demo_client.get(f"/api/v1/patrols?team_id={wjj}", headers=token).json()
    assert patrol not in {p["id"] for p in listed_patrols}
    upload = demo_client.post(
        "/api/v1/patrols",
        headers=token,
        data={"team_id": str(wjj)},
        files={"file": ("walk.gpx", gpx_near_the_border(), "application/gpx+xml")},
    )
    assert upload.status_code == 403, upload.text
    me = demo_client.get("/api/v1/me", headers=token).json()
    assert me["scope"]["teams"] == [joint]


def test_live_positions_of_a_phone_go_to_one_of_its_own_teams(
    demo_client: TestClient, demo_session: Session, headers: dict[str, dict[str, str]]
) -> None:
    """A phone the Shengze lead issued for a member of both the joint team and 盛泽巡河队
    opens its live patrols for 盛泽巡河队 (the member's joint team is not the phone's)."""
    teams = team_ids(demo_session)
    member = member_id(demo_session, "sz.patrol")
    issued = demo_client.post(
        "/api/v1/devices", json={"member_id": member, "label": "sz"}, headers=headers["sz.lead"]
    ).json()
    assert issued["team_ids"] == [teams["盛泽巡河队"]]
    at = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
    fix = LivePosition(
        device_id=issued["token"], time=at, lon=120.65, lat=30.9, altitude=3.0, accuracy_m=5.0
    )
    outcome = store_batch(demo_session, requests=[[fix]], settings=Settings())
    assert not outcome.refused
    team = demo_session.execute(
        text("SELECT team_id FROM patrols WHERE device_id = :d"), {"d": issued["id"]}
    ).scalar_one()
    assert team == teams["盛泽巡河队"]
