"""Who a phone works with: the caller's teams with their members' names, and the members a
lead may register phones for."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_patrol.access.principal import Principal
from geo_patrol.access.scope import Scope
from geo_patrol.core.paging import Page
from geo_patrol.db.clauses import all_of, statement
from geo_patrol.db.keyset import Keyset, read_limit
from geo_patrol.patrols.upload import patrol_team_ids

# Only names and ids: what the "members on the outing" list needs, nothing more (no phone
# numbers or home jurisdictions reach the phone).
TEAMS = """
SELECT t.id, t.name,
       coalesce(json_agg(json_build_object('id', m.id, 'name', m.name) ORDER BY m.id)
                FILTER (WHERE m.id IS NOT NULL), '[]') AS members
FROM teams t
LEFT JOIN team_members tm ON tm.team_id = t.id
LEFT JOIN members m ON m.id = tm.member_id AND m.is_active
WHERE (CAST(:everything AS boolean) OR t.id = ANY(CAST(:teams AS int[]))) AND {after}
GROUP BY t.id ORDER BY t.id
LIMIT :limit
"""
TEAM_ORDER = Keyset(("t.id",), ("id",), ("int",))

MANAGED_MEMBERS = """
SELECT DISTINCT m.id, m.name FROM members m
JOIN team_members tm ON tm.member_id = m.id
WHERE m.is_active AND (CAST(:everything AS boolean) OR tm.team_id = ANY(CAST(:led AS int[])))
ORDER BY m.name
"""


def patrol_teams(session: Session, *, principal: Principal) -> list[dict[str, Any]]:
    """The teams the caller may upload patrols for, with their members."""
    return patrol_team_page(session, principal=principal, limit=None).items


def patrol_team_page(
    session: Session, *, principal: Principal, limit: int | None, cursor: str | None = None
) -> Page[dict[str, Any]]:
    """A page of the teams the caller may upload patrols for (by id), with their members."""
    params = {
        "everything": principal.is_admin,
        "teams": sorted(patrol_team_ids(principal)),
        "limit": read_limit(limit),
    }
    sql = statement(TEAMS, after=all_of(TEAM_ORDER.after(cursor)))
    return TEAM_ORDER.page([dict(row._mapping) for row in session.execute(sql, params)], limit)


def managed_members(
    session: Session, *, scope: Scope, principal: Principal
) -> list[dict[str, Any]]:
    """Members the caller may register phones for (leads: their teams; admins: all)."""
    if not (principal.is_admin or scope.led_teams):
        return []
    params = {"everything": scope.everything, "led": sorted(scope.led_teams)}
    return [dict(row._mapping) for row in session.execute(text(MANAGED_MEMBERS), params)]
