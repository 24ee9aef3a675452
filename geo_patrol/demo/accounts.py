"""Demo accounts for each role on both sides of the border (demo data only: known passwords).

Never load the demo into a production database: every demo account shares one password
(GEO_PATROL_DEMO_PASSWORD, default below) and the demo devices have fixed tokens.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_patrol.access.secrets import hash_password, token_hash

DEFAULT_PASSWORD = "geo-patrol-demo"
ZONE = "ZONE-SZ-WJJ"


@dataclass(frozen=True)
class DemoAccount:
    """A member with a login and one or more role grants ("role:scope")."""

    login: str
    name: str
    phone: str
    home: str
    grants: tuple[str, ...]
    device: str | None = None


ACCOUNTS = (
    DemoAccount("admin", "系统管理员", "13800000099", "320509", ("admin:",)),
    DemoAccount("wujiang.sup", "王建华", "13800000011", "320509", ("supervisor:320509",)),
    DemoAccount("xiuzhou.sup", "陈卫国", "13800000012", "330411", ("supervisor:330411",)),
    DemoAccount("shengze.sup", "周明", "13800000013", "320509100", ("supervisor:320509100",)),
    DemoAccount("wjj.sup", "李芳", "13800000014", "330411100", ("supervisor:330411100",)),
    DemoAccount("zone.coord", "马晓东", "13800000015", "320509", (f"zone_coordinator:{ZONE}",)),
    DemoAccount("meeting.room", "联席会议室", "13800000016", "320509", (f"observer:{ZONE}",)),
    DemoAccount(
        "joint.lead", "张建国", "13800000001", "320509100201", ("team_lead:联合巡河队一队",)
    ),
    DemoAccount("sz.lead", "徐志强", "13800000005", "320509100", ("team_lead:盛泽巡河队",)),
    DemoAccount("wjj.lead", "朱卫东", "13800000007", "330411100", ("team_lead:王江泾巡河队",)),
    DemoAccount(
        "sz.patrol",
        "吴永明",
        "13800000003",
        "320509100202",
        ("patrol_member:联合巡河队一队", "patrol_member:盛泽巡河队"),
        "gpd_demo-sz-patrol-phone",
    ),
    DemoAccount(
        "wjj.patrol",
        "陆晓燕",
        "13800000004",
        "330411100202",
        ("patrol_member:联合巡河队一队", "patrol_member:王江泾巡河队"),
        "gpd_demo-wjj-patrol-phone",
    ),
    # 盛泽镇's town river chief (demo/data/chiefs.csv), who records patrols with both teams.
    DemoAccount(
        "sz.chief",
        "沈建平",
        "13900000003",
        "320509100",
        ("patrol_member:联合巡河队一队", "patrol_member:盛泽巡河队"),
    ),
)

UPSERT_MEMBER = """
INSERT INTO members (name, phone, home_jurisdiction_code, login, password_hash)
VALUES (:name, :phone, :home, :login, :hash)
ON CONFLICT (phone) DO UPDATE SET login = excluded.login, password_hash = excluded.password_hash
WHERE members.login IS NULL
RETURNING id
"""

GRANT = """
WITH wanted AS (
    SELECT CAST(:member_id AS int) AS member_id, CAST(:role AS text) AS role,
           CAST(:code AS text) AS code,
           (SELECT id FROM cooperation_zones WHERE code = CAST(:zone AS text)) AS zone_id,
           (SELECT id FROM teams WHERE name = CAST(:team AS text)) AS team_id
)
INSERT INTO member_roles (member_id, role, jurisdiction_code, zone_id, team_id)
SELECT member_id, role, code, zone_id, team_id FROM wanted w
WHERE NOT EXISTS (
    SELECT 1 FROM member_roles r WHERE r.member_id = w.member_id AND r.role = w.role
      AND r.jurisdiction_code IS NOT DISTINCT FROM w.code
      AND r.zone_id IS NOT DISTINCT FROM w.zone_id AND r.team_id IS NOT DISTINCT FROM w.team_id)
"""

# A demo phone acts for every patrol team of its member, as if an administrator issued it.
DEVICE = """
WITH added AS (
    INSERT INTO devices (member_id, label, token_hash, token_hint)
    VALUES (:member_id, :label, :hash, :hint) ON CONFLICT (token_hash) DO NOTHING
    RETURNING id
)
INSERT INTO device_teams (device_id, team_id)
SELECT DISTINCT a.id, r.team_id FROM added a
JOIN member_roles r ON r.member_id = :member_id
WHERE r.role IN ('patrol_member', 'team_lead') AND r.team_id IS NOT NULL
"""


def _grant_params(grant: str) -> dict[str, str | None]:
    """Role and scope columns from "role:scope"."""
    role, _, scope = grant.partition(":")
    return {
        "role": role,
        "code": scope if role == "supervisor" else None,
        "zone": scope if role in ("zone_coordinator", "observer") else None,
        "team": scope if role in ("team_lead", "patrol_member") else None,
    }


def demo_password() -> str:
    """The demo accounts' shared password (GEO_PATROL_DEMO_PASSWORD, else the default)."""
    return os.environ.get("GEO_PATROL_DEMO_PASSWORD", DEFAULT_PASSWORD)


def load_demo_accounts(session: Session) -> str:
    """Create the demo accounts, roles and devices (idempotent); return a summary line.

    The summary holds no secret: the credentials are shown by `describe`, on a terminal only
    (see geo_patrol.cli.app), never in a log.
    """
    password = demo_password()
    hashed: str | None = None
    for account in ACCOUNTS:
        member_id = session.execute(
            text("SELECT id FROM members WHERE phone = :phone AND login IS NOT NULL"),
            {"phone": account.phone},
        ).scalar()
        if member_id is None:
            hashed = hashed or hash_password(password)
            params = {
                "name": account.name,
                "phone": account.phone,
                "home": account.home,
                "login": account.login,
                "hash": hashed,
            }
            member_id = session.execute(text(UPSERT_MEMBER), params).scalar_one()
        for grant in account.grants:
            session.execute(text(GRANT), {"member_id": member_id, **_grant_params(grant)})
        if account.device:
            session.execute(
                text(DEVICE),
                {
                    "member_id": member_id,
                    "label": "demo phone",
                    "hash": token_hash(account.device),
                    "hint": account.device[-4:],
                },
            )
    phones = sum(1 for account in ACCOUNTS if account.device)
    return f"demo accounts: {len(ACCOUNTS)} logins sharing one demo password, {phones} phones"


def describe(password: str) -> str:
    """The demo credentials as a small table for the terminal."""
    lines = [f"demo accounts (password for all: {password}; demo only):"]
    for account in ACCOUNTS:
        roles = ", ".join(account.grants).replace("admin:", "admin")
        device = f"  device token: {account.device}" if account.device else ""
        lines.append(f"  {account.login:<13} {account.name:<6} {roles}{device}")
    return "\n".join(lines)
