"""Who sees a zone's meetings and decisions, and who writes them.

A joint meeting belongs to a cooperation zone, and so do its decisions. They are seen by
the administrator, the zone's coordinators and observers (their grants name the zone), and
the supervisors and observers whose jurisdictions hold any member side of the zone: both
sides sit at the table. A meeting is prepared and recorded (agenda, attendees, minutes,
decisions, the pack it showed) by the administrator, the zone's coordinator, or a
supervisor who writes for one of its sides; an observer (the meeting room's screen) never.
A decision's progress is posted by its owners (see meetings.decisions).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_patrol.access.principal import Principal
from geo_patrol.access.scope import Scope
from geo_patrol.core.catalog import msg
from geo_patrol.core.errors import NotFound
from geo_patrol.core.vocabulary import Role
from geo_patrol.db.clauses import TRUE, Clause

ZONE = """
SELECT z.id, z.code, z.name,
       coalesce(array_agg(m.jurisdiction_code ORDER BY m.jurisdiction_code)
                FILTER (WHERE m.jurisdiction_code IS NOT NULL), '{}') AS member_codes
FROM cooperation_zones z LEFT JOIN cooperation_zone_members m ON m.zone_id = z.id
WHERE z.code = :code OR z.id = :zone_id
GROUP BY z.id
"""
# Zones with a member side among the caller's jurisdictions.
ZONES_OF_CODES = """
SELECT DISTINCT zone_id FROM cooperation_zone_members WHERE jurisdiction_code = ANY(:codes)
"""
_COLUMN = re.compile(r"^[a-z_][a-z0-9_.]*$")


@dataclass(frozen=True)
class Zone:
    """A cooperation zone with the codes of its member sides."""

    id: int
    code: str
    name: str
    member_codes: tuple[str, ...]


def _zone(session: Session, *, code: str | None, zone_id: int | None) -> Zone | None:
    """A zone by code or id, None when there is none."""
    row = session.execute(text(ZONE), {"code": code, "zone_id": zone_id}).first()
    if row is None:
        return None
    return Zone(id=row.id, code=row.code, name=row.name, member_codes=tuple(row.member_codes))


def zone_of(session: Session, *, code: str) -> Zone:
    """The zone with this code; NotFound naming `zone` when there is none."""
    zone = _zone(session, code=code, zone_id=None)
    if zone is None:
        raise NotFound(msg("problem.meetings.no_zone", zone=code), field="zone")
    return zone


def zone_by_id(session: Session, *, zone_id: int) -> Zone:
    """The zone with this id (a meeting's: it exists, the foreign key says so)."""
    zone = _zone(session, code=None, zone_id=zone_id)
    if zone is None:
        raise NotFound(msg("problem.meetings.no_zone", zone=zone_id), field="zone")
    return zone


def may_see_zone(scope: Scope, zone: Zone) -> bool:
    """True when the caller sees the zone's meetings and decisions."""
    return (
        scope.everything or zone.id in scope.zones or not scope.codes.isdisjoint(zone.member_codes)
    )


def may_edit_zone(principal: Principal, scope: Scope, zone: Zone) -> bool:
    """True when the caller prepares and records the zone's meetings."""
    if principal.is_admin or scope.everything:
        return True
    coordinator = any(
        g.role == Role.ZONE_COORDINATOR and g.zone_id == zone.id for g in principal.grants
    )
    return coordinator or not scope.writable_codes.isdisjoint(zone.member_codes)


def seen_zone_ids(session: Session, *, scope: Scope) -> list[int] | None:
    """The ids of the zones the caller sees (None: every zone)."""
    if scope.everything:
        return None
    by_codes: set[int] = set()
    if scope.codes:
        by_codes = set(
            session.execute(text(ZONES_OF_CODES), {"codes": sorted(scope.codes)}).scalars()
        )
    return sorted(by_codes | scope.zones)


def visible_zone_ids(session: Session, *, scope: Scope, column: str = "zone_id") -> Clause:
    """The condition that a row's zone (`column`, written by our own query code) is one the
    caller sees; TRUE for the administrator."""
    if not _COLUMN.match(column):
        raise ValueError(f"not an allowed column: {column!r}")
    ids = seen_zone_ids(session, scope=scope)
    if ids is None:
        return TRUE
    return Clause(f"{column} = ANY(CAST(:seen_zone_ids AS int[]))", {"seen_zone_ids": ids})
