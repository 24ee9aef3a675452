"""Demo principals for the access tests: bearer headers for each role on both sides."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_patrol.accounts.members import issue_api_token

PEOPLE = (
    "admin",
    "wujiang.sup",
    "xiuzhou.sup",
    "shengze.sup",
    "wjj.sup",
    "zone.coord",
    "meeting.room",
    "joint.lead",
    "sz.lead",
    "wjj.lead",
    "sz.patrol",
    "wjj.patrol",
)
DEVICE = "sz.phone"
REVOKED = "revoked.phone"
ANONYMOUS = "anonymous"
ALL = (*PEOPLE, DEVICE, REVOKED, ANONYMOUS)
SZ_PHONE_TOKEN = "gpd_demo-sz-patrol-phone"
REVOKED_TOKEN = "gpd_demo-wjj-patrol-phone"


def member_id(session: Session, login: str) -> int:
    """Id of a demo login."""
    return int(
        session.execute(text("SELECT id FROM members WHERE login = :l"), {"l": login}).scalar_one()
    )


def headers_for(session: Session) -> dict[str, dict[str, str]]:
    """Authorization headers per principal name (anonymous: none)."""
    headers = {
        login: {
            "Authorization": "Bearer "
            + issue_api_token(
                session,
                member_id=member_id(session, login),
                label="test",
                days=1,
                address="127.0.0.1",
            )
        }
        for login in PEOPLE
    }
    session.execute(
        text("UPDATE devices SET revoked_at = now() WHERE label = 'demo phone' AND member_id = :m"),
        {"m": member_id(session, "wjj.patrol")},
    )
    headers[DEVICE] = {"Authorization": f"Bearer {SZ_PHONE_TOKEN}"}
    headers[REVOKED] = {"Authorization": f"Bearer {REVOKED_TOKEN}"}
    headers[ANONYMOUS] = {}
    return headers


def team_id(session: Session, name: str) -> int:
    """Id of a demo team."""
    return int(
        session.execute(text("SELECT id FROM teams WHERE name = :n"), {"n": name}).scalar_one()
    )
