"""Teams and devices, read through the caller's scope."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, text, update
from sqlalchemy.dialects.postgresql import insert as upsert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from geo_patrol.access import audit
from geo_patrol.access.principal import Principal
from geo_patrol.access.scope import Scope, visible
from geo_patrol.core.catalog import msg
from geo_patrol.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from geo_patrol.core.paging import Page
from geo_patrol.core.vocabulary import TeamRole, values
from geo_patrol.db.clauses import Clause, all_of, equals, statement
from geo_patrol.db.keyset import Keyset, read_limit
from geo_patrol.db.tables import Device, Team, TeamMember

TEAMS = """
SELECT t.id, t.name, t.zone_id, coalesce(mm.member_ids, '{{}}') AS member_ids,
       coalesce(mm.homes, '{{}}') AS home_jurisdiction_codes
FROM teams t
LEFT JOIN LATERAL (
    SELECT array_agg(tm.member_id ORDER BY tm.member_id) AS member_ids,
           array_agg(DISTINCT m.home_jurisdiction_code) AS homes
    FROM team_members tm JOIN members m ON m.id = tm.member_id WHERE tm.team_id = t.id
) mm ON TRUE
WHERE {visible} AND {where}
ORDER BY t.id
LIMIT :limit
"""
TEAM_ORDER = Keyset(("t.id",), ("id",), ("int",))

# A device is managed (listed, set up again, revoked) by its owner, by admins, and by a lead
# of every team it acts for: a lead of one of its teams only could otherwise hand the new
# token's rights over the other teams to anyone.
DEVICES = """
SELECT d.id, d.member_id, m.name AS member_name, d.label, d.token_hint, d.created_at,
       d.last_seen_at, d.revoked_at, dt.team_ids
FROM devices d JOIN members m ON m.id = d.member_id
CROSS JOIN LATERAL (
    SELECT coalesce(array_agg(x.team_id ORDER BY x.team_id), '{{}}') AS team_ids
    FROM device_teams x WHERE x.device_id = d.id
) dt
WHERE (CAST(:everything AS boolean) OR d.member_id = :me
       OR (cardinality(dt.team_ids) > 0 AND dt.team_ids <@ CAST(:led AS int[])))
  AND {where}
ORDER BY d.id
LIMIT :limit
"""
DEVICE_ORDER = Keyset(("d.id",), ("id",), ("int",))

# The teams a member patrols with: their team memberships and their patrol roles' teams.
MEMBER_TEAMS = """
SELECT team_id FROM team_members WHERE member_id = :member_id
UNION
SELECT team_id FROM member_roles WHERE member_id = :member_id AND team_id IS NOT NULL
  AND role IN ('patrol_member', 'team_lead')
ORDER BY team_id
"""


def team_id_of(session: Session, name: str | None) -> int | None:
    """The id of the team with a name (None for no name or an unknown one)."""
    if not name:
        return None
    found: int | None = session.execute(
        text("SELECT id FROM teams WHERE name = :name"), {"name": name}
    ).scalar()
    return found


def team_page(
    session: Session, *, scope: Scope, limit: int | None, cursor: str | None = None
) -> Page[dict[str, Any]]:
    """A page of the teams visible in scope by id (every one when `limit` is None): own
    teams, teams of one's zones, teams with members at home in one's jurisdictions."""
    seen = visible(scope, codes="mm.homes", teams="ARRAY[t.id]", zones="ARRAY[t.zone_id]")
    sql = statement(TEAMS, visible=seen, where=all_of(TEAM_ORDER.after(cursor)))
    rows = session.execute(sql, {"limit": read_limit(limit)})
    return TEAM_ORDER.page([dict(r._mapping) for r in rows], limit)


def list_teams(session: Session, *, scope: Scope) -> list[dict[str, Any]]:
    """Every team visible in scope (team_page)."""
    return team_page(session, scope=scope, limit=None).items


def create_team(
    session: Session, *, name: str, zone_id: int | None, by: Principal, address: str | None
) -> int:
    """A new team, optionally in a cooperation zone."""
    try:
        with session.begin_nested():
            added = insert(Team).values(name=name, zone_id=zone_id).returning(Team.id)
            team_id = session.execute(added).scalar_one()
    except IntegrityError as error:
        raise Conflict(
            msg("problem.accounts.team_name_taken_or_no_zone", name=name, zone_id=zone_id),
            field="name",
        ) from error
    audit.record(
        session,
        action="team.create",
        principal=by,
        target=f"team:{team_id}",
        address=address,
        detail={"name": name, "zone_id": zone_id},
    )
    return int(team_id)


def add_team_member(
    session: Session, *, team_id: int, member_id: int, role: str, by: Principal, address: str | None
) -> None:
    """Put a member in a team (idempotent)."""
    if role not in values(TeamRole):
        raise InvalidInput(msg("problem.accounts.team_role"), field="role")
    try:
        with session.begin_nested():
            added = upsert(TeamMember).values(team_id=team_id, member_id=member_id, role=role)
            session.execute(
                added.on_conflict_do_update(
                    index_elements=[TeamMember.team_id, TeamMember.member_id],
                    set_={"role": added.excluded.role},
                )
            )
    except IntegrityError as error:
        raise NotFound(
            msg("problem.accounts.no_team_or_member", team_id=team_id, member_id=member_id),
            field="team_id",
        ) from error
    audit.record(
        session,
        action="team.member",
        principal=by,
        target=f"team:{team_id}",
        address=address,
        detail={"member_id": member_id, "role": role},
    )


def device_page(
    session: Session,
    *,
    scope: Scope,
    principal: Principal,
    limit: int | None,
    cursor: str | None = None,
    device_id: int | None = None,
) -> Page[dict[str, Any]]:
    """A page of the devices the caller may see, by id (never their tokens)."""
    params = {
        "everything": scope.everything,
        "me": principal.member_id,
        "led": sorted(scope.led_teams),
        "limit": read_limit(limit),
    }
    where = all_of(equals("d.id", "device_id", device_id), DEVICE_ORDER.after(cursor))
    rows = session.execute(statement(DEVICES, where=where), params)
    return DEVICE_ORDER.page([dict(row._mapping) for row in rows], limit)


def list_devices(
    session: Session, *, scope: Scope, principal: Principal, device_id: int | None = None
) -> list[dict[str, Any]]:
    """Every device the caller may see (device_page)."""
    return device_page(
        session, scope=scope, principal=principal, limit=None, device_id=device_id
    ).items


def grantable_teams(session: Session, *, scope: Scope, member_id: int) -> list[int]:
    """The member's teams a device may be issued for by this caller: all for admins, the
    teams they lead for a lead (a device's rights never exceed what its issuer may grant)."""
    teams = session.execute(text(MEMBER_TEAMS), {"member_id": member_id}).scalars()
    return [int(t) for t in teams if scope.everything or t in scope.led_teams]


def revoke_device(
    session: Session, *, device_id: int, scope: Scope, principal: Principal, address: str | None
) -> None:
    """Cut a device off at once (its owner, a lead of its owner's team, or an admin)."""
    found = list_devices(session, scope=scope, principal=principal, device_id=device_id)
    if not found:
        raise NotFound(msg("problem.accounts.no_device", device_id=device_id), field="device_id")
    session.execute(
        update(Device)
        .where(Device.id == device_id)
        .values(revoked_at=func.coalesce(Device.revoked_at, func.now()))
    )
    audit.record(
        session,
        action="device.revoke",
        principal=principal,
        target=f"device:{device_id}",
        address=address,
    )


def device_teams_for(
    session: Session, *, scope: Scope, member_id: int, requested: list[int] | None
) -> list[int]:
    """The teams a new device of the member acts for: those asked for, or else every team
    the caller may grant; refused when that is none, or when one asked for is not grantable."""
    allowed = grantable_teams(session, scope=scope, member_id=member_id)
    if not allowed and not scope.everything:
        raise Forbidden(msg("problem.accounts.only_admin_or_team_lead"))
    if requested is None:
        return allowed
    beyond = sorted(set(requested) - set(allowed))
    if beyond:
        raise Forbidden(msg("problem.accounts.teams_not_led", teams=beyond), field="team_ids")
    return sorted(set(requested))


AUDIT = """
SELECT id, at, member_id, device_id, actor, action, outcome, target, address, detail
FROM audit_log
WHERE {where}
ORDER BY id DESC LIMIT :limit
"""
# Newest first: the id is given in order of insertion (the primary key serves it).
AUDIT_ORDER = Keyset(("id",), ("id",), ("int",), descending=True)


def audit_page(
    session: Session,
    *,
    action: str | None = None,
    member_id: int | None = None,
    since: datetime | None = None,
    limit: int | None,
    cursor: str | None = None,
) -> Page[dict[str, Any]]:
    """A page of audit entries, newest first, of one action, one member, since a moment
    (None: any)."""
    where = all_of(
        equals("action", "action", action),
        equals("member_id", "member_id", member_id),
        None if since is None else Clause("at >= :since", {"since": since}),
        AUDIT_ORDER.after(cursor),
    )
    rows = session.execute(statement(AUDIT, where=where), {"limit": read_limit(limit)})
    return AUDIT_ORDER.page([dict(row._mapping) for row in rows], limit)
