"""The caller: a member signed in by session or personal token, or a member's device."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_patrol.access.secrets import DEVICE_PREFIX, token_hash

# What a phone may do in its member's name: patrol work only, never supervision or admin,
# so a lost phone is a small loss and one revocation cuts it off.
DEVICE_ROLES = frozenset({"patrol_member", "team_lead"})


@dataclass(frozen=True)
class Grant:
    """One role over one scope (see MemberRole)."""

    role: str
    jurisdiction_code: str | None = None
    zone_id: int | None = None
    team_id: int | None = None


@dataclass(frozen=True)
class Principal:
    """Who is calling, how they proved it, and the roles they act with."""

    member_id: int
    name: str
    login: str | None
    via: Literal["session", "token", "device"]
    grants: tuple[Grant, ...]
    device_id: int | None = None
    session_id: int | None = None
    csrf_token: str | None = None

    @property
    def roles(self) -> frozenset[str]:
        """The role names held."""
        return frozenset(grant.role for grant in self.grants)

    @property
    def is_admin(self) -> bool:
        """True for administrators."""
        return "admin" in self.roles

    @property
    def can_write(self) -> bool:
        """True unless every role is read-only (observer)."""
        return bool(self.roles - {"observer"})

    @property
    def label(self) -> str:
        """How the audit log names the caller."""
        who = self.login or f"member {self.member_id}"
        return f"{who} (device {self.device_id})" if self.device_id else who


MEMBER = """
SELECT m.id, m.name, m.login FROM members m WHERE m.id = :member_id AND m.is_active
"""
GRANTS = """
SELECT role, jurisdiction_code, zone_id, team_id FROM member_roles
WHERE member_id = :member_id ORDER BY id
"""
DEVICE = """
SELECT id, member_id FROM devices WHERE token_hash = :hash AND revoked_at IS NULL
"""
API_TOKEN = """
SELECT id, member_id FROM api_tokens
WHERE token_hash = :hash AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())
"""
# Last-seen times are for people, not for locking: at most once a minute, and never waiting
# for a row another request of the same phone or token is already touching.
TOUCH = """
UPDATE {table} SET {column} = now()
WHERE id IN (SELECT id FROM {table} WHERE id = :id
             AND ({column} IS NULL OR {column} < now() - interval '1 minute')
             FOR UPDATE SKIP LOCKED)
"""
WEB_SESSION = """
SELECT id, member_id, csrf_token FROM web_sessions
WHERE token_hash = :hash AND revoked_at IS NULL AND expires_at > :now
"""


def load_member(
    session: Session, *, member_id: int, via: Literal["session", "token", "device"], **extra: object
) -> Principal | None:
    """The principal of an active member with their grants (device: patrol roles only)."""
    row = session.execute(text(MEMBER), {"member_id": member_id}).first()
    if row is None:
        return None
    grants = tuple(Grant(*g) for g in session.execute(text(GRANTS), {"member_id": member_id}))
    if via == "device":
        grants = tuple(grant for grant in grants if grant.role in DEVICE_ROLES)
    return Principal(
        member_id=row.id, name=row.name, login=row.login, via=via, grants=grants,
        **extra,  # type: ignore[arg-type]
    )  # fmt: skip


def from_bearer(session: Session, *, token: str) -> Principal | None:
    """The principal of a device token or a personal API token; None when unknown or revoked."""
    hashed = token_hash(token)
    if token.startswith(DEVICE_PREFIX):
        device = session.execute(text(DEVICE), {"hash": hashed}).first()
        if device is None:
            return None
        _touch(session, "devices", "last_seen_at", device.id)
        return load_member(session, member_id=device.member_id, via="device", device_id=device.id)
    row = session.execute(text(API_TOKEN), {"hash": hashed}).first()
    if row is None:
        return None
    _touch(session, "api_tokens", "last_used_at", row.id)
    return load_member(session, member_id=row.member_id, via="token")


def _touch(session: Session, table: str, column: str, row_id: int) -> None:
    """Record that a credential was used (whitelisted table and column names)."""
    assert (table, column) in {("devices", "last_seen_at"), ("api_tokens", "last_used_at")}
    session.execute(text(TOUCH.format(table=table, column=column)), {"id": row_id})


def from_device_identifier(session: Session, *, identifier: str) -> Principal | None:
    """The device principal for an OsmAnd/Traccar identifier (which is its token)."""
    return from_bearer(session, token=identifier) if identifier.startswith(DEVICE_PREFIX) else None


def from_session_cookie(session: Session, *, cookie: str) -> Principal | None:
    """The principal of a live web session."""
    row = session.execute(
        text(WEB_SESSION), {"hash": token_hash(cookie), "now": datetime.now(UTC)}
    ).first()
    if row is None:
        return None
    return load_member(
        session,
        member_id=row.member_id,
        via="session",
        session_id=row.id,
        csrf_token=row.csrf_token,
    )
