"""Members, roles, logins, sessions, personal tokens and device tokens."""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, insert, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from geo_patrol.access import audit, throttle
from geo_patrol.access.principal import Principal
from geo_patrol.access.scope import Scope, visible
from geo_patrol.access.secrets import (
    DEVICE_PREFIX,
    MEMBER_PREFIX,
    MIN_PASSWORD_LENGTH,
    SESSION_PREFIX,
    hash_password,
    new_token,
    token_hash,
    verify_password,
)
from geo_patrol.access.throttle import Attempt
from geo_patrol.core.catalog import msg
from geo_patrol.core.errors import (
    Conflict,
    GeoPatrolError,
    InvalidInput,
    NotAuthenticated,
    NotFound,
    TooManyAttempts,
)
from geo_patrol.core.paging import Page
from geo_patrol.core.settings import Settings
from geo_patrol.core.vocabulary import TokenScope
from geo_patrol.db.clauses import Clause, all_of, equals, statement
from geo_patrol.db.keyset import Keyset, page_in_memory, read_limit
from geo_patrol.db.tables import ROLES, ApiToken, Device, Member, MemberRole, WebSession

# A member's rows: their home jurisdiction, the teams they are in, and those teams' zones.
MEMBER_ROWS = """
SELECT m.id, m.name, m.phone, m.login, m.home_jurisdiction_code, m.is_active, m.email,
       coalesce(t.team_ids, '{{}}') AS team_ids,
       coalesce((SELECT json_agg(json_build_object('id', r.id, 'role', r.role,
                   'jurisdiction_code', r.jurisdiction_code, 'zone_id', r.zone_id,
                   'team_id', r.team_id) ORDER BY r.id)
                 FROM member_roles r WHERE r.member_id = m.id), '[]') AS roles
FROM members m
LEFT JOIN LATERAL (
    SELECT array_agg(tm.team_id ORDER BY tm.team_id) AS team_ids,
           array_agg(DISTINCT tz.zone_id) FILTER (WHERE tz.zone_id IS NOT NULL) AS zone_ids
    FROM team_members tm JOIN teams tz ON tz.id = tm.team_id WHERE tm.member_id = m.id
) t ON TRUE
WHERE {visible} AND {where}
ORDER BY m.id
LIMIT :limit
"""
MEMBER_ORDER = Keyset(("m.id",), ("id",), ("int",))


@dataclass(frozen=True)
class LoginResult:
    """A successful login: who, and the secret to hand back once."""

    member_id: int
    secret: str
    csrf_token: str | None = None


def _member_filter(scope: Scope) -> Clause:
    """Scope filter for member rows."""
    return visible(
        scope, codes="ARRAY[m.home_jurisdiction_code]", teams="t.team_ids", zones="t.zone_ids"
    )


def member_page(
    session: Session,
    *,
    scope: Scope,
    limit: int | None,
    cursor: str | None = None,
    member_id: int | None = None,
) -> Page[dict[str, Any]]:
    """A page of the members visible in `scope` by id (one when `member_id` is given;
    every one when `limit` is None)."""
    where = all_of(equals("m.id", "member_id", member_id), MEMBER_ORDER.after(cursor))
    sql = statement(MEMBER_ROWS, visible=_member_filter(scope), where=where)
    rows = session.execute(sql, {"limit": read_limit(limit)})
    return MEMBER_ORDER.page([dict(row._mapping) for row in rows], limit)


def list_members(
    session: Session, *, scope: Scope, member_id: int | None = None
) -> list[dict[str, Any]]:
    """Members visible in `scope` (one when `member_id` is given)."""
    return member_page(session, scope=scope, limit=None, member_id=member_id).items


def get_member(session: Session, *, scope: Scope, member_id: int) -> dict[str, Any]:
    """One member, or NotFound when absent or outside the scope (the caller cannot tell)."""
    found = list_members(session, scope=scope, member_id=member_id)
    if not found:
        raise NotFound(msg("problem.accounts.no_member", member_id=member_id), field="member_id")
    return found[0]


# An address a mail server will take: one @, no spaces, a domain (the digest's e-mail).
EMAIL = re.compile(r"[^@\s]+@[^@\s]+")


def check_email(email: str | None) -> None:
    """Refuse what cannot be an e-mail address (None: no address)."""
    if email is not None and not EMAIL.fullmatch(email):
        raise InvalidInput(msg("problem.accounts.not_an_email"), field="email")


def member_id_by_login(session: Session, login: str) -> int:
    """The id of the member with a login, or NotFound naming the field."""
    found = session.execute(
        text("SELECT id FROM members WHERE login = :login"), {"login": login}
    ).scalar()
    if found is None:
        raise NotFound(msg("problem.accounts.no_member_with_login", login=login), field="login")
    return int(found)


def check_password_rules(password: str) -> None:
    """Refuse passwords too short to resist guessing."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            msg("problem.accounts.password_too_short", min_length=MIN_PASSWORD_LENGTH),
            field="password",
        )


def create_member(
    session: Session, *, data: dict[str, Any], by: Principal, address: str | None
) -> int:
    """Add a member (optionally with a login and password)."""
    password = data.pop("password", None)
    if password is not None:
        check_password_rules(password)
    check_email(data.get("email"))
    try:
        with session.begin_nested():
            added = insert(Member).values(
                name=data["name"],
                phone=data.get("phone"),
                home_jurisdiction_code=data["home_jurisdiction_code"],
                login=data.get("login"),
                password_hash=hash_password(password) if password else None,
                email=data.get("email"),
            )
            member_id = session.execute(added.returning(Member.id)).scalar_one()
    except IntegrityError as error:
        raise Conflict(msg("problem.accounts.login_or_phone_taken"), field="login") from error
    audit.record(
        session,
        action="member.create",
        principal=by,
        target=f"member:{member_id}",
        address=address,
        detail={"login": data.get("login")},
    )
    return int(member_id)


def update_member(
    session: Session, *, member_id: int, data: dict[str, Any], by: Principal, address: str | None
) -> None:
    """Change a member's name, phone, home jurisdiction, login, active flag or e-mail."""
    allowed = {"name", "phone", "home_jurisdiction_code", "login", "is_active", "email"}
    changes = {key: value for key, value in data.items() if key in allowed}
    if not changes:
        return
    check_email(changes.get("email"))
    change = update(Member).where(Member.id == member_id).values(changes).returning(Member.id)
    try:
        with session.begin_nested():
            updated = session.execute(change).first()
    except IntegrityError as error:
        raise Conflict(msg("problem.accounts.login_or_phone_taken"), field="login") from error
    if updated is None:
        raise NotFound(msg("problem.accounts.no_member", member_id=member_id), field="member_id")
    if changes.get("is_active") is False:
        end_sessions(session, member_id=member_id)
    audit.record(
        session,
        action="member.update",
        principal=by,
        target=f"member:{member_id}",
        address=address,
        detail={"fields": sorted(changes)},
    )


def set_password(
    session: Session, *, member_id: int, password: str, by: Principal, address: str | None
) -> None:
    """Set a member's password and end their other web sessions."""
    check_password_rules(password)
    change = update(Member).where(Member.id == member_id)
    found = session.execute(
        change.values(password_hash=hash_password(password)).returning(Member.id)
    ).first()
    if found is None:
        raise NotFound(msg("problem.accounts.no_member", member_id=member_id), field="member_id")
    end_sessions(session, member_id=member_id, keep=by.session_id)
    audit.record(
        session,
        action="member.password",
        principal=by,
        target=f"member:{member_id}",
        address=address,
    )


def end_sessions(session: Session, *, member_id: int, keep: int | None = None) -> None:
    """Revoke a member's web sessions (all but `keep`)."""
    session.execute(
        update(WebSession)
        .where(
            WebSession.member_id == member_id,
            WebSession.revoked_at.is_(None),
            WebSession.id.is_distinct_from(keep),
        )
        .values(revoked_at=func.now())
    )


def add_role(
    session: Session, *, member_id: int, grant: dict[str, Any], by: Principal, address: str | None
) -> int:
    """Give a member a role over a scope; the database checks the scope fits the role."""
    if grant.get("role") not in ROLES:
        raise InvalidInput(
            msg("problem.accounts.unknown_role", roles=", ".join(ROLES)), field="role"
        )
    try:
        with session.begin_nested():
            added = insert(MemberRole).values(
                member_id=member_id,
                role=grant["role"],
                jurisdiction_code=grant.get("jurisdiction_code"),
                zone_id=grant.get("zone_id"),
                team_id=grant.get("team_id"),
            )
            role_id = session.execute(added.returning(MemberRole.id)).scalar_one()
    except IntegrityError as error:
        raise InvalidInput(
            msg("problem.accounts.role_needs_scope"),
            field="role",
        ) from error
    audit.record(
        session,
        action="role.add",
        principal=by,
        target=f"member:{member_id}",
        address=address,
        detail=grant,
    )
    return int(role_id)


def remove_role(
    session: Session, *, member_id: int, role_id: int, by: Principal, address: str | None
) -> None:
    """Take a role away."""
    taken = delete(MemberRole).where(MemberRole.id == role_id, MemberRole.member_id == member_id)
    gone = session.execute(taken.returning(MemberRole.role)).scalar()
    if gone is None:
        raise NotFound(
            msg("problem.accounts.member_has_no_role", member_id=member_id, role_id=role_id),
            field="role_id",
        )
    audit.record(
        session,
        action="role.remove",
        principal=by,
        target=f"member:{member_id}",
        address=address,
        detail={"role": gone, "role_id": role_id},
    )


@dataclass(frozen=True)
class SignedIn:
    """A member who gave the right password, and the known-browser cookie to set (if new)."""

    member_id: int
    known_cookie: str | None = None


def authenticate(
    session: Session, *, attempt: Attempt, password: str, settings: Settings
) -> SignedIn | GeoPatrolError:
    """The member for a login and password, or the error to answer with.

    Past a few failures each further attempt waits longer (see access.throttle); a browser
    that signed in to this account before waits only for its own failures. The error is
    returned, not raised, so the caller's transaction commits and the failed attempt stays
    in the audit log, where the throttle counts it.
    """
    login, address = attempt.login, attempt.address
    known_id = throttle.known_browser(session, attempt=attempt, settings=settings)
    wait = throttle.wait_seconds(session, attempt=attempt, known_id=known_id, settings=settings)
    if wait > 0:
        audit.record(
            session,
            action="login",
            outcome="throttled",
            actor=login,
            address=address,
            target=throttle.known_target(known_id),
        )
        return TooManyAttempts(
            msg("problem.accounts.too_many_failed_sign_ins", wait=wait), retry_after=wait
        )
    row = session.execute(
        text("SELECT id, password_hash FROM members WHERE login = :login AND is_active"),
        {"login": login},
    ).first()
    if not verify_password(row.password_hash if row else None, password) or row is None:
        audit.record(
            session,
            action="login",
            outcome="failed",
            actor=login,
            address=address,
            target=throttle.known_target(known_id),
        )
        return NotAuthenticated(msg("problem.accounts.wrong_login_or_password"), field="login")
    audit.record(
        session,
        action="login",
        actor=login,
        address=address,
        target=throttle.known_target(known_id),
        detail={"member_id": row.id},
    )
    cookie = throttle.remember_browser(session, member_id=int(row.id), known_id=known_id)
    return SignedIn(member_id=int(row.id), known_cookie=cookie)


def check_current_password(session: Session, *, member_id: int, password: str) -> None:
    """Refuse a change of password without the right current one."""
    stored = session.execute(
        text("SELECT password_hash FROM members WHERE id = :id"), {"id": member_id}
    ).scalar()
    if not verify_password(stored, password):
        raise NotAuthenticated(
            msg("problem.accounts.wrong_current_password"), field="current_password"
        )


def open_web_session(
    session: Session, *, member_id: int, address: str | None, settings: Settings
) -> LoginResult:
    """A new web session; the cookie value and CSRF token are returned once."""
    cookie, csrf = new_token(SESSION_PREFIX), secrets.token_urlsafe(32)
    session.execute(
        insert(WebSession).values(
            member_id=member_id,
            token_hash=token_hash(cookie),
            csrf_token=csrf,
            expires_at=datetime.now(UTC) + timedelta(hours=settings.session_hours),
            address=address,
        )
    )
    return LoginResult(member_id=member_id, secret=cookie, csrf_token=csrf)


def close_web_session(session: Session, *, principal: Principal, address: str | None) -> None:
    """Sign out this browser."""
    session.execute(
        update(WebSession)
        .where(WebSession.id == principal.session_id)
        .values(revoked_at=func.now())
    )
    audit.record(session, action="logout", principal=principal, address=address)


def issue_api_token(
    session: Session,
    *,
    member_id: int,
    label: str,
    days: int | None,
    address: str | None,
    scope: TokenScope = TokenScope.FULL,
) -> str:
    """A personal API token (shown once); a read token may only read (GIS desktops)."""
    token = new_token(MEMBER_PREFIX)
    expires = datetime.now(UTC) + timedelta(days=days) if days else None
    added = insert(ApiToken).values(
        member_id=member_id,
        label=label,
        token_hash=token_hash(token),
        expires_at=expires,
        scope=scope.value,
    )
    token_id = session.execute(added.returning(ApiToken.id)).scalar_one()
    audit.record(
        session,
        action="token.issue",
        actor=f"member {member_id}",
        target=f"api_token:{token_id}",
        address=address,
        detail={"label": label, "member_id": member_id, "scope": scope.value},
    )
    return token


@dataclass(frozen=True)
class ApiTokenInfo:
    """A personal token as its owner sees it later: never the secret."""

    id: int
    label: str
    scope: TokenScope
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


def list_api_tokens(session: Session, *, member_id: int) -> list[ApiTokenInfo]:
    """The member's personal tokens, newest first (revoked ones too: the owner sees when)."""
    rows = session.execute(
        select(ApiToken).where(ApiToken.member_id == member_id).order_by(ApiToken.id.desc())
    ).scalars()
    return [
        ApiTokenInfo(
            id=row.id,
            label=row.label,
            scope=TokenScope(row.scope),
            created_at=row.created_at,
            expires_at=row.expires_at,
            last_used_at=row.last_used_at,
            revoked_at=row.revoked_at,
        )
        for row in rows
    ]


def api_token_page(
    session: Session, *, member_id: int, limit: int | None, cursor: str | None = None
) -> Page[ApiTokenInfo]:
    """A page of the member's personal tokens, newest first. One member's tokens are a
    few (small and bounded): read whole and paged here (the key is the id, negated for
    newest first)."""
    tokens = list_api_tokens(session, member_id=member_id)
    return page_in_memory(
        tokens, key=lambda t: (-t.id,), kinds=("int",), limit=limit, cursor=cursor
    )


def revoke_api_token(
    session: Session, *, principal: Principal, token_id: int, address: str | None
) -> None:
    """Revoke one of the caller's own personal tokens (NotFound for another's: its existence
    is not told); revoking twice is the same as once."""
    revoked = session.execute(
        update(ApiToken)
        .where(ApiToken.id == token_id, ApiToken.member_id == principal.member_id)
        .values(revoked_at=func.coalesce(ApiToken.revoked_at, func.now()))
        .returning(ApiToken.id)
    ).first()
    if revoked is None:
        raise NotFound(msg("problem.accounts.no_token", token_id=token_id), field="token_id")
    audit.record(
        session,
        action="token.revoke",
        principal=principal,
        target=f"api_token:{token_id}",
        address=address,
    )


def issue_device_token(
    session: Session,
    *,
    member_id: int,
    label: str,
    team_ids: Sequence[int],
    by: Principal | None,
    address: str | None,
) -> tuple[int, str]:
    """A device for a member, acting for `team_ids` only, and its token (shown once).

    The caller has checked the teams are ones the issuer may grant; returns (id, token).
    """
    token = new_token(DEVICE_PREFIX)
    added = insert(Device).values(
        member_id=member_id, label=label, token_hash=token_hash(token), token_hint=token[-4:]
    )
    device_id = session.execute(added.returning(Device.id)).scalar_one()
    session.execute(
        text(
            "INSERT INTO device_teams (device_id, team_id) "
            "SELECT :device_id, unnest(CAST(:teams AS int[]))"
        ),
        {"device_id": device_id, "teams": sorted(set(team_ids))},
    )
    audit.record(
        session,
        action="device.issue",
        principal=by,
        target=f"device:{device_id}",
        address=address,
        detail={"member_id": member_id, "label": label, "team_ids": sorted(set(team_ids))},
    )
    return int(device_id), token
