"""A zone's joint meetings (联席会议): prepare, record, read and list them.

A meeting is prepared from the proposed agenda (its items adopted as they were proposed,
each linked to its object), then held: the attendees of each side, the minutes, the
decisions (meetings.decisions). Who sees and who writes is meetings.visibility's. Creating
a meeting is safe to retry: the same zone, time and title is the same meeting.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_patrol.access import audit
from geo_patrol.access.principal import Principal
from geo_patrol.access.scope import Scope
from geo_patrol.core.catalog import msg
from geo_patrol.core.errors import Forbidden, InvalidInput, NotFound
from geo_patrol.core.paging import Page
from geo_patrol.core.vocabulary import AgendaKind, MeetingStatus
from geo_patrol.db.clauses import Clause, all_of, equals, statement
from geo_patrol.db.keyset import Keyset, read_limit
from geo_patrol.meetings.visibility import (
    Zone,
    may_edit_zone,
    may_see_zone,
    visible_zone_ids,
    zone_by_id,
    zone_of,
)


@dataclass(frozen=True)
class AttendeeIn:
    """Someone at a meeting as given: a member, or a name (a guest), for a side or not."""

    side_code: str | None = None
    member_id: int | None = None
    name: str | None = None
    post: str | None = None


@dataclass(frozen=True)
class Attendee:
    """Someone at a meeting; `name` is the member's when a member attended."""

    side_code: str | None
    member_id: int | None
    name: str | None
    post: str | None


@dataclass(frozen=True)
class AgendaItemIn:
    """An agenda item as adopted: its kind, its object's id, its title and details."""

    kind: str
    title: str
    target_id: int | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AgendaItem:
    """An item of a meeting's agenda, in order (1, 2, ...)."""

    position: int
    kind: str
    target_id: int | None
    title: str
    detail: dict[str, Any]


@dataclass(frozen=True)
class Meeting:
    """A meeting as read back, with its attendees and agenda."""

    id: int
    zone_id: int
    zone_code: str
    title: str
    held_at: datetime
    place: str | None
    period_from: date
    period_to: date
    status: str
    minutes: str | None
    attendees: list[Attendee] = field(default_factory=list)
    agenda: list[AgendaItem] = field(default_factory=list)


# The same zone, time and title is the same meeting: a retried create finds it.
SAME_MEETING = """
SELECT id FROM meetings WHERE zone_id = :zone_id AND held_at = :held_at AND title = :title
ORDER BY id LIMIT 1
"""
# Creates of one zone's meetings wait for each other, so a double submit finds the first.
LOCK_ZONE = "SELECT pg_advisory_xact_lock(hashtext('meetings'), :zone_id)"
INSERT_MEETING = """
INSERT INTO meetings (zone_id, title, held_at, place, period_from, period_to, created_by)
VALUES (:zone_id, :title, :held_at, :place, :period_from, :period_to, :created_by)
RETURNING id
"""
INSERT_ATTENDEES = """
INSERT INTO meeting_attendees (meeting_id, side_code, member_id, name, post)
SELECT :meeting_id, a.side_code, a.member_id, a.name, a.post
FROM jsonb_to_recordset(CAST(:rows AS jsonb))
     AS a(i int, side_code text, member_id int, name text, post text)
ORDER BY a.i
"""
INSERT_AGENDA = """
INSERT INTO meeting_agenda_items (meeting_id, position, kind, target_id, title, detail)
SELECT :meeting_id, a.i, a.kind, a.target_id, a.title, coalesce(a.detail, '{}')
FROM jsonb_to_recordset(CAST(:rows AS jsonb))
     AS a(i int, kind text, target_id bigint, title text, detail jsonb)
"""
# The first attendee's side outside the zone, or member that does not exist (0-based).
BAD_ATTENDEE = """
SELECT a.i, CASE WHEN a.side_code IS NOT NULL AND NOT a.side_code = ANY(:sides)
                 THEN 'side_code' ELSE 'member_id' END AS field
FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS a(i int, side_code text, member_id int)
WHERE (a.side_code IS NOT NULL AND NOT a.side_code = ANY(:sides))
   OR (a.member_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM members m WHERE m.id = a.member_id))
ORDER BY a.i LIMIT 1
"""
MEETINGS = """
SELECT mt.id, mt.zone_id, z.code AS zone_code, mt.title, mt.held_at, mt.place,
       mt.period_from, mt.period_to, mt.status, mt.minutes
FROM meetings mt JOIN cooperation_zones z ON z.id = mt.zone_id
WHERE {where}
ORDER BY mt.held_at DESC, mt.id DESC
LIMIT :limit
"""
ATTENDEES = """
SELECT a.meeting_id, a.side_code, a.member_id, coalesce(m.name, a.name) AS name, a.post
FROM meeting_attendees a LEFT JOIN members m ON m.id = a.member_id
WHERE a.meeting_id = ANY(:ids)
ORDER BY a.meeting_id, a.id
"""
AGENDA = """
SELECT meeting_id, position, kind, target_id, title, detail FROM meeting_agenda_items
WHERE meeting_id = ANY(:ids)
ORDER BY meeting_id, position
"""
# Newest first (ix_meetings_zone_held serves a zone's list).
MEETING_ORDER = Keyset(("mt.held_at", "mt.id"), ("held_at", "id"), ("time", "int"), descending=True)
# Only these columns are written by update_meeting (names from our own code, never input).
EDITABLE = ("title", "held_at", "place", "period_from", "period_to", "status", "minutes")
MEETING_ZONE = "SELECT zone_id FROM meetings WHERE id = :meeting_id FOR NO KEY UPDATE"
MEETING_ZONE_READ = "SELECT zone_id FROM meetings WHERE id = :meeting_id"


def _meetings(session: Session, *, where: Clause, limit: int | None) -> list[Meeting]:
    """Meetings matching `where` (newest first), each with its attendees and agenda."""
    rows = session.execute(statement(MEETINGS, where=where), {"limit": limit}).all()
    ids = [row.id for row in rows]
    attendees: dict[int, list[Attendee]] = {i: [] for i in ids}
    agenda: dict[int, list[AgendaItem]] = {i: [] for i in ids}
    if ids:
        for a in session.execute(text(ATTENDEES), {"ids": ids}):
            attendees[a.meeting_id].append(Attendee(a.side_code, a.member_id, a.name, a.post))
        for g in session.execute(text(AGENDA), {"ids": ids}):
            agenda[g.meeting_id].append(
                AgendaItem(g.position, g.kind, g.target_id, g.title, dict(g.detail or {}))
            )
    return [
        Meeting(
            id=row.id,
            zone_id=row.zone_id,
            zone_code=row.zone_code,
            title=row.title,
            held_at=row.held_at,
            place=row.place,
            period_from=row.period_from,
            period_to=row.period_to,
            status=row.status,
            minutes=row.minutes,
            attendees=attendees[row.id],
            agenda=agenda[row.id],
        )
        for row in rows
    ]


def meeting_zone(
    session: Session, *, principal: Principal | None, scope: Scope, meeting_id: int
) -> Zone:
    """The zone of a meeting the caller sees (NotFound otherwise); with a principal, one
    who may also edit it (Forbidden otherwise), the meeting's row locked for the edit."""
    sql = MEETING_ZONE_READ if principal is None else MEETING_ZONE
    zone_id = session.execute(text(sql), {"meeting_id": meeting_id}).scalar()
    zone = None if zone_id is None else zone_by_id(session, zone_id=zone_id)
    if zone is None or not may_see_zone(scope, zone):
        raise NotFound(msg("problem.meetings.no_meeting", meeting_id=meeting_id))
    if principal is not None and not may_edit_zone(principal, scope, zone):
        raise Forbidden(msg("problem.meetings.may_not_edit", zone=zone.code))
    return zone


def _check_text(value: str | None, *, name: str) -> str:
    """A required text, stripped; 422 naming `name` when empty."""
    if value is None or not value.strip():
        raise InvalidInput(msg("problem.meetings.empty", field=name), field=name)
    return value.strip()


def _check_period(period_from: date, period_to: date) -> None:
    """The period's last day is not before its first."""
    if period_to < period_from:
        raise InvalidInput(msg("problem.meetings.period_order"), field="period_to")


def _attendee_rows(
    session: Session, *, zone: Zone, attendees: Sequence[AttendeeIn]
) -> list[dict[str, Any]]:
    """The attendees as rows to insert, checked: a member or a name, a side of the zone,
    a member that exists (422 naming `attendees[i].<field>`)."""
    rows = []
    for i, a in enumerate(attendees):
        name = a.name.strip() if a.name else None
        if a.member_id is None and not name:
            raise InvalidInput(msg("problem.meetings.attendee_who"), field=f"attendees[{i}].name")
        rows.append(
            {
                "i": i,
                "side_code": a.side_code,
                "member_id": a.member_id,
                "name": name,
                "post": a.post,
            }
        )
    bad = session.execute(
        text(BAD_ATTENDEE), {"rows": json.dumps(rows), "sides": list(zone.member_codes)}
    ).first()
    if bad is not None:
        key = (
            "problem.meetings.not_a_side"
            if bad.field == "side_code"
            else "problem.meetings.no_member"
        )
        raise InvalidInput(msg(key, zone=zone.code), field=f"attendees[{bad.i}].{bad.field}")
    return rows


def _agenda_rows(agenda: Sequence[AgendaItemIn]) -> list[dict[str, Any]]:
    """The agenda items as rows to insert (positions 1, 2, ...), checked."""
    kinds = {str(kind) for kind in AgendaKind}
    rows = []
    for i, item in enumerate(agenda):
        if str(item.kind) not in kinds:
            raise InvalidInput(
                msg("problem.meetings.agenda_kind", kind=item.kind), field=f"agenda[{i}].kind"
            )
        title = _check_text(item.title, name=f"agenda[{i}].title")
        rows.append(
            {
                "i": i + 1,
                "kind": str(item.kind),
                "target_id": item.target_id,
                "title": title,
                "detail": dict(item.detail),
            }
        )
    return rows


def create_meeting(
    session: Session,
    *,
    principal: Principal,
    scope: Scope,
    zone_code: str,
    title: str,
    held_at: datetime,
    place: str | None,
    period_from: date,
    period_to: date,
    attendees: Sequence[AttendeeIn] = (),
    agenda: Sequence[AgendaItemIn] = (),
) -> int:
    """Create a meeting of a zone the caller prepares meetings for; its id (a retry with
    the same zone, time and title answers the meeting already made)."""
    zone = zone_of(session, code=zone_code)
    if not may_see_zone(scope, zone):
        raise NotFound(msg("problem.meetings.no_zone", zone=zone_code), field="zone")
    if not may_edit_zone(principal, scope, zone):
        raise Forbidden(msg("problem.meetings.may_not_edit", zone=zone.code), field="zone")
    title = _check_text(title, name="title")
    _check_period(period_from, period_to)
    attendee_rows = _attendee_rows(session, zone=zone, attendees=attendees)
    agenda_rows = _agenda_rows(agenda)
    session.execute(text(LOCK_ZONE), {"zone_id": zone.id})
    same = {"zone_id": zone.id, "held_at": held_at, "title": title}
    existing = session.execute(text(SAME_MEETING), same).scalar()
    if existing is not None:
        return int(existing)
    meeting_id = int(
        session.execute(
            text(INSERT_MEETING),
            {
                **same,
                "place": place,
                "period_from": period_from,
                "period_to": period_to,
                "created_by": principal.member_id or None,
            },
        ).scalar_one()
    )
    _insert_children(session, meeting_id=meeting_id, attendees=attendee_rows, agenda=agenda_rows)
    audit.record(
        session,
        action="meeting.create",
        principal=principal,
        target=f"meeting:{meeting_id}",
        detail={"zone": zone.code, "held_at": held_at},
    )
    return meeting_id


def _insert_children(
    session: Session,
    *,
    meeting_id: int,
    attendees: list[dict[str, Any]] | None = None,
    agenda: list[dict[str, Any]] | None = None,
) -> None:
    """Insert a meeting's attendees and agenda rows (each in one statement)."""
    if attendees:
        session.execute(
            text(INSERT_ATTENDEES), {"meeting_id": meeting_id, "rows": json.dumps(attendees)}
        )
    if agenda:
        session.execute(text(INSERT_AGENDA), {"meeting_id": meeting_id, "rows": json.dumps(agenda)})


def get_meeting(session: Session, *, scope: Scope, meeting_id: int) -> Meeting:
    """A meeting the caller sees, with its attendees and agenda; NotFound otherwise."""
    meeting_zone(session, principal=None, scope=scope, meeting_id=meeting_id)
    found = _meetings(
        session, where=Clause("mt.id = :meeting_id", {"meeting_id": meeting_id}), limit=1
    )
    return found[0]


def list_meetings(
    session: Session,
    *,
    scope: Scope,
    zone_code: str | None = None,
    limit: int | None,
    cursor: str | None = None,
) -> Page[Meeting]:
    """The meetings the caller sees, newest first, a page at a time."""
    zone_id = None
    if zone_code is not None:
        zone = zone_of(session, code=zone_code)
        zone_id = zone.id if may_see_zone(scope, zone) else -1
    where = all_of(
        visible_zone_ids(session, scope=scope, column="mt.zone_id"),
        equals("mt.zone_id", "zone_id", zone_id),
        MEETING_ORDER.after(cursor),
    )
    rows = _meetings(session, where=where, limit=read_limit(limit))
    return MEETING_ORDER.page(rows, limit)


def update_meeting(
    session: Session, *, principal: Principal, scope: Scope, meeting_id: int, **fields: Any
) -> None:
    """Change a meeting's title, time, place, period, status or minutes (only those given)."""
    zone = meeting_zone(session, principal=principal, scope=scope, meeting_id=meeting_id)
    unknown = set(fields) - set(EDITABLE)
    if unknown:
        name = sorted(unknown)[0]
        raise InvalidInput(msg("problem.meetings.not_editable", field=name), field=name)
    if "title" in fields:
        fields["title"] = _check_text(fields["title"], name="title")
    for name in ("held_at", "period_from", "period_to", "status"):
        if name in fields and fields[name] is None:
            raise InvalidInput(msg("problem.meetings.empty", field=name), field=name)
    if "status" in fields and fields["status"] not in {str(s) for s in MeetingStatus}:
        raise InvalidInput(msg("problem.meetings.status", status=fields["status"]), field="status")
    if not fields:
        return
    sets = ", ".join(f"{name} = :{name}" for name in EDITABLE if name in fields)
    period = session.execute(
        text(
            f"UPDATE meetings SET {sets}, updated_at = now() WHERE id = :meeting_id "
            "RETURNING period_from, period_to"
        ),
        {**fields, "meeting_id": meeting_id},
    ).one()
    _check_period(period.period_from, period.period_to)
    audit.record(
        session,
        action="meeting.update",
        principal=principal,
        target=f"meeting:{meeting_id}",
        detail={"zone": zone.code, "fields": sorted(fields)},
    )


def set_attendees(
    session: Session,
    *,
    principal: Principal,
    scope: Scope,
    meeting_id: int,
    attendees: Sequence[AttendeeIn],
) -> None:
    """Replace a meeting's attendees with those given."""
    zone = meeting_zone(session, principal=principal, scope=scope, meeting_id=meeting_id)
    rows = _attendee_rows(session, zone=zone, attendees=attendees)
    session.execute(
        text("DELETE FROM meeting_attendees WHERE meeting_id = :meeting_id"),
        {"meeting_id": meeting_id},
    )
    _insert_children(session, meeting_id=meeting_id, attendees=rows)
    audit.record(
        session,
        action="meeting.attendees",
        principal=principal,
        target=f"meeting:{meeting_id}",
        detail={"attendees": len(rows)},
    )


def set_agenda(
    session: Session,
    *,
    principal: Principal,
    scope: Scope,
    meeting_id: int,
    agenda: Sequence[AgendaItemIn],
) -> None:
    """Replace a meeting's agenda with the items given, in their order."""
    meeting_zone(session, principal=principal, scope=scope, meeting_id=meeting_id)
    rows = _agenda_rows(agenda)
    session.execute(
        text("DELETE FROM meeting_agenda_items WHERE meeting_id = :meeting_id"),
        {"meeting_id": meeting_id},
    )
    _insert_children(session, meeting_id=meeting_id, agenda=rows)
    audit.record(
        session,
        action="meeting.agenda",
        principal=principal,
        target=f"meeting:{meeting_id}",
        detail={"items": len(rows)},
    )


def last_meeting(session: Session, *, zone_id: int, before: datetime) -> Meeting | None:
    """The zone's latest meeting held before `before` (the caller has checked the scope)."""
    where = Clause(
        "mt.zone_id = :last_zone AND mt.held_at < :last_before",
        {"last_zone": zone_id, "last_before": before},
    )
    found = _meetings(session, where=where, limit=1)
    return found[0] if found else None
