"""Access behaviour on the demo data: scopes on both sides, devices, sessions, throttling, audit."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_patrol.demo.accounts import DEFAULT_PASSWORD
from geo_patrol.demo.load import DEMO_DATA
from tests.support.principals import PEOPLE, SZ_PHONE_TOKEN, member_id

ORGANISATION = json.loads(Path(DEMO_DATA / "organisation.json").read_text(encoding="utf-8"))


def names(response_json: list[dict[str, object]]) -> set[str]:
    """The `name` of each item."""
    return {str(item["name"]) for item in response_json}


def test_supervisors_see_only_their_side(
    demo_client: TestClient, demo_session: Session, headers: dict[str, dict[str, str]]
) -> None:
    xiuzhou = demo_client.get("/api/v1/members", headers=headers["xiuzhou.sup"]).json()
    assert xiuzhou and all(m["home_jurisdiction_code"].startswith("330411") for m in xiuzhou)
    wujiang = demo_client.get("/api/v1/members", headers=headers["wujiang.sup"]).json()
    assert all(m["home_jurisdiction_code"].startswith("320509") for m in wujiang)
    expected_wujiang = {
        m["name"] for m in ORGANISATION["members"] if m["home"].startswith("320509")
    }
    assert expected_wujiang <= names(wujiang)


def test_out_of_scope_member_looks_like_a_missing_one(
    demo_client: TestClient, demo_session: Session, headers: dict[str, dict[str, str]]
) -> None:
    patrol = member_id(demo_session, "sz.patrol")
    hidden = demo_client.get(f"/api/v1/members/{patrol}", headers=headers["xiuzhou.sup"])
    missing = demo_client.get("/api/v1/members/999999", headers=headers["xiuzhou.sup"])
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json().keys() == missing.json().keys()
    own = demo_client.get(f"/api/v1/members/{patrol}", headers=headers["wujiang.sup"])
    assert own.status_code == 200 and own.json()["name"] == "吴永明"


def test_zone_coordinator_sees_the_joint_team_not_one_sides_own(
    demo_client: TestClient, headers: dict[str, dict[str, str]]
) -> None:
    members = names(demo_client.get("/api/v1/members", headers=headers["zone.coord"]).json())
    joint = {m["name"] for m in ORGANISATION["members"] if "联合巡河队一队" in m["teams"]}
    local_only = {m["name"] for m in ORGANISATION["members"] if "联合巡河队一队" not in m["teams"]}
    assert joint <= members and not (local_only & members)
    teams = names(demo_client.get("/api/v1/teams", headers=headers["zone.coord"]).json())
    assert teams == {"联合巡河队一队"}


def test_teams_by_side_match_the_organisation_file(
    demo_client: TestClient, headers: dict[str, dict[str, str]]
) -> None:
    homes: dict[str, set[str]] = {}
    for member in ORGANISATION["members"]:
        for team in member["teams"]:
            homes.setdefault(team, set()).add(member["home"])
    expected = {team for team, codes in homes.items() if any(c.startswith("330411") for c in codes)}
    got = names(demo_client.get("/api/v1/teams", headers=headers["xiuzhou.sup"]).json())
    assert got == expected and "盛泽巡河队" not in got


# The people of the demo, by side and team (organisation.json and demo/accounts.py): the
# joint team, each town's own team, and the accounts that are in no team.
JOINT = {"张建国", "沈丽华", "吴永明", "陆晓燕", "沈建平", "金秀兰"}
SHENGZE_TEAM = {"吴永明", "徐志强", "钱美芳", "沈建平", "周福根"}
WJJ_TEAM = {"陆晓燕", "朱卫东", "顾秀英", "金秀兰", "杨丽萍"}
WUJIANG_OFFICE = {"系统管理员", "王建华", "马晓东", "联席会议室"}  # at home in 320509 itself
# River chiefs in no team (demo/data/chiefs.csv): county chiefs at home in the county, a
# town chief in 盛泽镇.
WUJIANG_CHIEFS, XIUZHOU_CHIEFS, SHENGZE_CHIEF = (
    {"钱建明", "蒋文华"},
    {"褚国平", "姚志刚"},
    {"陈海林"},
)

# Who each caller sees in the member list: supervisors everyone at home in their subtree,
# zone coordinators and observers the members of their zone's teams, leads and patrol
# members the members of their own teams, an administrator everyone.
MEMBERS_SEEN = {
    "admin": JOINT
    | SHENGZE_TEAM
    | WJJ_TEAM
    | WUJIANG_OFFICE
    | {"陈卫国", "周明", "李芳"}
    | WUJIANG_CHIEFS
    | XIUZHOU_CHIEFS
    | SHENGZE_CHIEF,
    "wujiang.sup": {"张建国", "吴永明", "徐志强", "钱美芳", "周明", "沈建平", "周福根"}
    | WUJIANG_OFFICE
    | WUJIANG_CHIEFS
    | SHENGZE_CHIEF,
    "xiuzhou.sup": {"沈丽华", "陆晓燕", "朱卫东", "顾秀英", "陈卫国", "李芳", "金秀兰", "杨丽萍"}
    | XIUZHOU_CHIEFS,
    "shengze.sup": {"张建国", "吴永明", "徐志强", "钱美芳", "周明", "沈建平", "周福根"}
    | SHENGZE_CHIEF,
    "wjj.sup": {"沈丽华", "陆晓燕", "朱卫东", "顾秀英", "李芳", "金秀兰", "杨丽萍"},
    "zone.coord": JOINT,
    "meeting.room": JOINT,
    "joint.lead": JOINT,
    "sz.lead": SHENGZE_TEAM,
    "wjj.lead": WJJ_TEAM,
    "sz.patrol": JOINT | SHENGZE_TEAM,
    "wjj.patrol": JOINT | WJJ_TEAM,
}


def test_member_list_holds_exactly_whom_each_caller_may_see(
    demo_client: TestClient, headers: dict[str, dict[str, str]]
) -> None:
    assert set(MEMBERS_SEEN) == set(PEOPLE)
    assert len(MEMBERS_SEEN["admin"]) == 24
    seen = {
        caller: demo_client.get("/api/v1/members", headers=headers[caller]).json()
        for caller in PEOPLE
    }
    assert {caller: names(rows) for caller, rows in seen.items()} == MEMBERS_SEEN
    assert all(len(rows) == len(names(rows)) for rows in seen.values())  # no row twice


def test_patrol_member_sees_own_teams_only(
    demo_client: TestClient, headers: dict[str, dict[str, str]]
) -> None:
    members = names(demo_client.get("/api/v1/members", headers=headers["sz.patrol"]).json())
    assert members == JOINT | SHENGZE_TEAM  # 钱美芳 of 盛泽巡河队 in, 顾秀英 of 王江泾 out


def test_revoked_device_is_refused_at_once(
    demo_client: TestClient, demo_session: Session, headers: dict[str, dict[str, str]]
) -> None:
    phone = {"Authorization": f"Bearer {SZ_PHONE_TOKEN}"}
    me = demo_client.get("/api/v1/me", headers=phone).json()
    assert me["via"] == "device" and {r["role"] for r in me["roles"]} == {"patrol_member"}
    # The demo phone acts for both of its member's teams: its owner (or an admin, or a lead
    # of both teams) manages it, not the lead of one of them.
    devices = demo_client.get("/api/v1/devices", headers=headers["sz.patrol"]).json()
    device = next(d for d in devices if d["member_name"] == "吴永明")
    assert "token" not in device and device["token_hint"] == SZ_PHONE_TOKEN[-4:]
    revoked = demo_client.delete(f"/api/v1/devices/{device['id']}", headers=headers["sz.patrol"])
    assert revoked.status_code == 204
    refused = demo_client.get("/api/v1/me", headers=phone)
    assert refused.status_code == 401
    assert refused.headers["content-type"] == "application/problem+json"
    entry = demo_session.execute(
        text("SELECT actor, target FROM audit_log WHERE action = 'device.revoke' ORDER BY id DESC")
    ).first()
    assert entry is not None and entry.target == f"device:{device['id']}"


def test_lead_issues_devices_for_own_team_only(
    demo_client: TestClient, demo_session: Session, headers: dict[str, dict[str, str]]
) -> None:
    mine = member_id(demo_session, "sz.patrol")
    issued = demo_client.post(
        "/api/v1/devices", json={"member_id": mine, "label": "spare"}, headers=headers["sz.lead"]
    )
    assert issued.status_code == 201
    token = issued.json()["token"]
    assert token.startswith("gpd_")
    assert (
        demo_client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).json()[
            "member_id"
        ]
        == mine
    )
    stored = demo_session.execute(text("SELECT token_hash FROM devices")).scalars().all()
    assert token not in stored
    other = member_id(demo_session, "wjj.patrol")
    refused = demo_client.post(
        "/api/v1/devices", json={"member_id": other, "label": "x"}, headers=headers["sz.lead"]
    )
    assert refused.status_code == 403


def test_device_never_gets_supervisor_powers(
    demo_client: TestClient, demo_session: Session
) -> None:
    patrol = member_id(demo_session, "sz.patrol")
    demo_session.execute(
        text("INSERT INTO member_roles (member_id, role) VALUES (:m, 'admin')"), {"m": patrol}
    )
    phone = {"Authorization": f"Bearer {SZ_PHONE_TOKEN}"}
    assert demo_client.get("/api/v1/audit", headers=phone).status_code == 403
    me = demo_client.get("/api/v1/me", headers=phone).json()
    assert "admin" not in {r["role"] for r in me["roles"]}


def test_web_session_cookie_and_csrf(
    demo_client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    login = demo_client.post(
        "/api/v1/auth/login", json={"login": "shengze.sup", "password": DEFAULT_PASSWORD}
    )
    assert login.status_code == 200
    cookie = login.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    csrf = login.json()["csrf_token"]
    assert demo_client.get("/api/v1/me").json()["login"] == "shengze.sup"
    change = {"password": "a-new-long-password", "current_password": DEFAULT_PASSWORD}
    assert demo_client.post("/api/v1/me/password", json=change).status_code == 403
    ok = demo_client.post("/api/v1/me/password", json=change, headers={"X-CSRF-Token": csrf})
    assert ok.status_code == 204
    out = demo_client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf})
    assert out.status_code == 204
    assert demo_client.get("/api/v1/me").status_code == 401
    # The audited writes were logged, without the session's secrets.
    session_cookie = login.cookies["gp_session"]
    audited = [r.getMessage() for r in caplog.records if r.name == "geo_patrol.audit"]
    assert any("by shengze.sup" in line for line in audited), audited
    assert csrf not in caplog.text and session_cookie not in caplog.text


def test_login_page_form_with_double_submit_token(demo_client: TestClient) -> None:
    page = demo_client.get("/login")
    assert page.status_code == 200 and "登录" in page.text
    assert "content-security-policy" in page.headers
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    form = {"login": "wjj.sup", "password": DEFAULT_PASSWORD, "csrf_token": token, "next": "/"}
    forged = demo_client.post(
        "/login", data={**form, "csrf_token": "forged"}, follow_redirects=False
    )
    assert forged.status_code == 403
    signed_in = demo_client.post("/login", data=form, follow_redirects=False)
    assert signed_in.status_code == 303 and "gp_session=" in signed_in.headers["set-cookie"]
    assert demo_client.get("/api/v1/me").json()["login"] == "wjj.sup"


def test_failed_logins_are_throttled_and_audited(
    demo_client: TestClient, demo_session: Session
) -> None:
    wrong = {"login": "sz.patrol", "password": "not-the-password"}
    statuses = [demo_client.post("/api/v1/auth/login", json=wrong).status_code for _ in range(5)]
    assert statuses == [401] * 5
    right = {"login": "sz.patrol", "password": DEFAULT_PASSWORD}
    blocked = demo_client.post("/api/v1/auth/login", json=right)
    assert blocked.status_code == 429
    failures = demo_session.execute(
        text(
            "SELECT count(*) FROM audit_log WHERE action = 'login' AND outcome = 'failed' "
            "AND actor = 'sz.patrol' AND address IS NOT NULL"
        )
    ).scalar_one()
    assert failures == 5


def test_passwords_are_argon2id_and_secrets_never_logged(
    demo_client: TestClient,
    demo_session: Session,
    headers: dict[str, dict[str, str]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    hashes = demo_session.execute(
        text("SELECT password_hash FROM members WHERE login IS NOT NULL")
    ).scalars()
    assert all(h.startswith("$argon2id$") for h in hashes)
    with caplog.at_level(logging.DEBUG):
        issued = demo_client.post(
            "/api/v1/auth/tokens", json={"login": "admin", "password": DEFAULT_PASSWORD}
        )
    assert issued.status_code == 200, issued.text
    token = issued.json()["token"]
    assert token.startswith("gpt_")
    # The logs of the request were captured (the audit line of the sign-in is among them)
    # and hold neither the password nor the token.
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "audit login ok by admin" in logged, logged
    admin = member_id(demo_session, "admin")
    assert f"audit token.issue ok by member {admin} on api_token:" in logged, logged
    assert DEFAULT_PASSWORD not in logged and token not in logged and "gpt_" not in logged
    audit = demo_client.get("/api/v1/audit", headers=headers["admin"]).json()
    assert {"token.issue", "login"} <= {entry["action"] for entry in audit}
    dumped = json.dumps(audit, default=str)
    assert "gpt_" not in dumped and "gpd_" not in dumped and DEFAULT_PASSWORD not in dumped


def test_every_successful_write_is_audited(
    demo_client: TestClient, demo_session: Session, headers: dict[str, dict[str, str]]
) -> None:
    admin = headers["admin"]
    before = demo_session.execute(text("SELECT count(*) FROM audit_log")).scalar_one()
    created = demo_client.post(
        "/api/v1/members",
        json={
            "name": "新队员",
            "home_jurisdiction_code": "330411100",
            "login": "new.one",
            "password": "long-enough-password",
        },
        headers=admin,
    )
    new_id = created.json()["id"]
    team = demo_session.execute(text("SELECT id FROM teams WHERE name = '王江泾巡河队'")).scalar()
    member = f"/api/v1/members/{new_id}"
    writes = [
        demo_client.patch(member, json={"phone": "13800000777"}, headers=admin),
        demo_client.post(
            f"/api/v1/teams/{team}/members", json={"member_id": new_id}, headers=admin
        ),
        demo_client.post(
            f"/api/v1/members/{new_id}/roles",
            json={"role": "patrol_member", "team_id": team},
            headers=admin,
        ),
        demo_client.post(
            f"/api/v1/members/{new_id}/password",
            json={"password": "another-long-one"},
            headers=admin,
        ),
    ]
    assert created.status_code == 201 and all(w.status_code in (201, 204) for w in writes)
    after = demo_session.execute(text("SELECT count(*) FROM audit_log")).scalar_one()
    assert after - before == 5


def test_role_without_its_scope_is_refused_with_the_field(
    demo_client: TestClient, demo_session: Session, headers: dict[str, dict[str, str]]
) -> None:
    patrol = member_id(demo_session, "sz.patrol")
    response = demo_client.post(
        f"/api/v1/members/{patrol}/roles", json={"role": "supervisor"}, headers=headers["admin"]
    )
    assert response.status_code == 422 and response.json()["field"] == "role"


def test_oversized_body_is_refused(demo_client: TestClient) -> None:
    big = {"login": "x" * 2_000_000, "password": "y"}
    response = demo_client.post("/api/v1/auth/login", json=big)
    assert response.status_code == 413
    assert "GEO_PATROL_MAX_BODY_BYTES" in response.json()["detail"]
