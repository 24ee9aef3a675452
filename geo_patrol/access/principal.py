"""The caller: a member signed in by session or personal token, a member's device, or the
command line (`command_line_principal`: the CLI, the demo loader, tests and benchmarks)."""

from __future__ import annotations

import getpass
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_patrol.access.secrets import DEVICE_PREFIX, MEMBER_PREFIX, token_hash
from geo_patrol.core.vocabulary import TokenScope

# What a phone may do in its member's name: patrol work only, never supervision or admin,
# so a lost phone is a small loss and one revocation cuts it off.
DEVICE_ROLES = frozenset({"patrol_member", "team_lead"})
# How a caller proved who they are: a web session cookie, a personal API token, or a
# device token (a phone).
Via = Literal["session", "token", "device"]


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
    via: Via
    grants: tuple[Grant, ...]
    device_id: int | None = None
    session_id: int | None = None
    # A secret of the web session: never in a repr, so never in a log line.
    csrf_token: str | None = field(default=None, repr=False)
    # A personal token with the read scope (a GIS desktop's): GET and HEAD only.
    read_only: bool = False

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


def command_line_principal() -> Principal:
    """The person at the shell, as the audit log names them (member id 0: command line): an
    administrator, for the commands, the demo, tests and benchmarks that act as the system."""
    return Principal(
        member_id=0,
        name="command line",
        login=f"cli:{getpass.getuser()}",
        via="token",
        grants=(Grant("admin"),),
    )


# A member's grants as one JSON array of [role, jurisdiction_code, zone_id, team_id].
GRANTS = """
coalesce((SELECT json_agg(json_build_array(r.role, r.jurisdiction_code, r.zone_id, r.team_id)
                          ORDER BY r.id)
          FROM member_roles r WHERE r.member_id = m.id), '[]') AS grants
"""
# A device's grants: its member's patrol roles over the teams the device was issued for.
DEVICE_GRANTS = """
coalesce((SELECT json_agg(json_build_array(r.role, r.jurisdiction_code, r.zone_id, r.team_id)
                          ORDER BY r.id)
          FROM member_roles r JOIN device_teams dt ON dt.team_id = r.team_id
          WHERE r.member_id = m.id AND dt.device_id = c.id
            AND r.role IN ('patrol_member', 'team_lead')), '[]') AS grants
"""
MEMBER = f"""
SELECT m.id, m.name, m.login, {GRANTS} FROM members m WHERE m.id = :member_id AND m.is_active
"""

# One statement per request: the credential, its active member with every grant, and (at
# most once a minute, never waiting for a row another request of the same phone or token is
# already touching) the credential's last-seen time.
CREDENTIAL = """
WITH credential AS (
    SELECT c.id, c.member_id, {extra} FROM {table} c
    WHERE c.token_hash = :hash AND c.revoked_at IS NULL {valid}
){touch}
SELECT c.id AS credential_id, c.extra, m.id, m.name, m.login, {grants}
FROM credential c JOIN members m ON m.id = c.member_id AND m.is_active
"""
TOUCH = """,
touched AS (
    UPDATE {table} SET {seen} = now()
    WHERE id IN (SELECT t.id FROM {table} t JOIN credential c ON c.id = t.id
                 WHERE t.{seen} IS NULL OR t.{seen} < now() - interval '1 minute'
                 FOR UPDATE OF t SKIP LOCKED)
)"""


class Credential(StrEnum):
    """The three kinds of credential, each a table of its own."""

    SESSION = "session"
    TOKEN = "token"
    DEVICE = "device"


@dataclass(frozen=True)
class CredentialTable:
    """Where a kind of credential lives: table, last-seen column, extra column, condition."""

    table: str
    seen: str | None
    extra: str
    valid: str
    grants: str


CREDENTIAL_TABLES = {
    Credential.DEVICE: CredentialTable(
        "devices", "last_seen_at", "NULL::text AS extra", "", DEVICE_GRANTS
    ),
    Credential.TOKEN: CredentialTable(
        "api_tokens",
        "last_used_at",
        "c.scope AS extra",
        "AND (c.expires_at IS NULL OR c.expires_at > now())",
        GRANTS,
    ),
    Credential.SESSION: CredentialTable(
        "web_sessions", None, "c.csrf_token AS extra", "AND c.expires_at > now()", GRANTS
    ),
}


def _credential_sql(kind: CredentialTable) -> str:
    """The one statement reading (and touching) a credential of one kind."""
    touch = TOUCH.format(table=kind.table, seen=kind.seen) if kind.seen else ""
    return CREDENTIAL.format(
        table=kind.table, extra=kind.extra, valid=kind.valid, touch=touch, grants=kind.grants
    )


# The statement of each kind, made once.
CREDENTIAL_SQL = {kind: _credential_sql(table) for kind, table in CREDENTIAL_TABLES.items()}


def _principal(session: Session, *, via: Via, token: str) -> Principal | None:
    """The principal of a credential (one of the Credential kinds), in one statement."""
    sql = CREDENTIAL_SQL[Credential(via)]
    row = session.execute(text(sql), {"hash": token_hash(token)}).first()
    if row is None:
        return None
    ids = {
        "device": {"device_id": row.credential_id},
        "token": {"read_only": row.extra == TokenScope.READ},
        "session": {"session_id": row.credential_id, "csrf_token": row.extra},
    }
    return _from_row(row, via, **ids[via])


def _from_row(row: Any, via: Via, **extra: Any) -> Principal:
    """A principal from a row of a member with its grants (device: patrol roles only)."""
    grants = tuple(Grant(*g) for g in row.grants)
    if via == "device":
        grants = tuple(grant for grant in grants if grant.role in DEVICE_ROLES)
    return Principal(
        member_id=row.id, name=row.name, login=row.login, via=via, grants=grants, **extra
    )


def load_member(session: Session, *, member_id: int, via: Via) -> Principal | None:
    """The principal of an active member with their grants (device: patrol roles only; a
    real device's principal comes from its token, which also narrows it to its teams)."""
    row = session.execute(text(MEMBER), {"member_id": member_id}).first()
    return None if row is None else _from_row(row, via)


def from_bearer(session: Session, *, token: str) -> Principal | None:
    """The principal of a device token or a personal API token; None when unknown or revoked."""
    return _principal(
        session, via="device" if token.startswith(DEVICE_PREFIX) else "token", token=token
    )


def from_personal_token(session: Session, *, token: str) -> Principal | None:
    """The principal of a personal API token only (HTTP Basic's password: a device token or
    an account password is never accepted there); None when unknown, expired or revoked."""
    if not token.startswith(MEMBER_PREFIX):
        return None
    return _principal(session, via="token", token=token)


def from_session_cookie(session: Session, *, cookie: str) -> Principal | None:
    """The principal of a live web session."""
    return _principal(session, via="session", token=cookie)
