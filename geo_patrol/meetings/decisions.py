"""A meeting's decisions (议定事项): record them, follow them up, list them.

A decision says what is to be done, by when (a local day), by whom: its owners are sides
of the zone, each with the member who answers for it there when one is named. It links to
the objects it is about (incidents, segments, sections, chiefs). Its progress is an
append-only history, like an incident's events: each update (a note, a new status, a new
deadline) is a row of decision_updates, which refuses UPDATE and DELETE; the decision's own
status, deadline and done_at follow the last update, written in the same statement. The
first update is the decision's creation, naming who recorded it. Overdue is never stored:
a decision not done whose deadline is before today's local day shows as overdue
(`shown_status`).

A decision's update is posted by one of its owners (the member named), a supervisor who
writes for one of its owning sides, or the administrator. Owners see their decisions even
where the zone is outside their scope (a patrol member named as owner).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_patrol.access import audit
from geo_patrol.access.principal import Principal
from geo_patrol.access.scope import Scope
from geo_patrol.core.catalog import msg
from geo_patrol.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from geo_patrol.core.local_time import LOCAL
from geo_patrol.core.paging import Page
from geo_patrol.core.vocabulary import DecisionLinkKind, DecisionStatus
from geo_patrol.db.clauses import FALSE, TRUE, Clause, all_of, any_of, equals, statement
from geo_patrol.db.keyset import Keyset, read_limit
from geo_patrol.meetings.records import meeting_zone
from geo_patrol.meetings.visibility import seen_zone_ids, zone_of

STORED = (DecisionStatus.OPEN, DecisionStatus.IN_PROGRESS, DecisionStatus.DONE)
# A double-submitted form inserts once: positions are computed inside the insert, the
# unique (meeting_id, position) refuses the second of two racing inserts, which then finds
# the first (same body and deadline) or takes the next position; this many tries at most.
INSERT_TRIES = 5


@dataclass(frozen=True)
class OwnerIn:
    """An owner as given: a side of the zone, and the member answering for it (optional)."""

    side_code: str
    member_id: int | None = None


@dataclass(frozen=True)
class LinkIn:
    """A link as given: the kind of object and its id."""

    kind: str
    target_id: int


@dataclass(frozen=True)
class Owner:
    """A side responsible for a decision, and the member answering for it there."""

    side_code: str
    member_id: int | None
    member_name: str | None


@dataclass(frozen=True)
class Link:
    """An object a decision is about, with a label to show."""

    kind: str
    target_id: int
    label: str | None


@dataclass(frozen=True)
class Update:
    """One step of a decision's history; `kind` is created, status, deadline or note."""

    id: int
    at: datetime
    kind: str
    member_id: int | None
    actor: str | None
    from_status: str | None
    to_status: str | None
    to_deadline: date | None
    note: str | None


@dataclass(frozen=True)
class Decision:
    """A decision as read back; `status` is as shown (overdue derived), `stored_status` as
    stored."""

    id: int
    meeting_id: int
    position: int
    body: str
    deadline: date
    stored_status: str
    status: DecisionStatus
    done_at: datetime | None
    owners: list[Owner] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    updates: list[Update] = field(default_factory=list)
    zone_id: int = 0
    zone_code: str = ""
    meeting_title: str = ""
    meeting_held_at: datetime | None = None


def shown_status(stored: str, deadline: date, today: date) -> DecisionStatus:
    """The status people see: overdue when not done and today (local) is after the deadline."""
    if stored != DecisionStatus.DONE and today > deadline:
        return DecisionStatus.OVERDUE
    return DecisionStatus(stored)


# The first owner (0-based) whose side is not one of the zone's, or whose member is unknown.
BAD_OWNER = """
SELECT o.i, CASE WHEN NOT o.side_code = ANY(:sides) THEN 'side_code' ELSE 'member_id' END AS field
FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS o(i int, side_code text, member_id int)
WHERE NOT o.side_code = ANY(:sides)
   OR (o.member_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM members m WHERE m.id = o.member_id))
ORDER BY o.i LIMIT 1
"""
# The first link (0-based) whose object does not exist.
BAD_LINK = """
SELECT l.i FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS l(i int, kind text, target_id bigint)
WHERE NOT CASE l.kind
    WHEN 'incident' THEN EXISTS (SELECT 1 FROM incidents x WHERE x.id = l.target_id)
    WHEN 'segment' THEN EXISTS (SELECT 1 FROM river_segments x WHERE x.id = l.target_id)
    WHEN 'section' THEN EXISTS (SELECT 1 FROM water_sections x WHERE x.id = l.target_id)
    WHEN 'chief' THEN EXISTS (SELECT 1 FROM chief_appointments x WHERE x.id = l.target_id)
    ELSE false END
ORDER BY l.i LIMIT 1
"""
SAME_DECISION = """
SELECT id FROM meeting_decisions
WHERE meeting_id = :meeting_id AND body = :body AND deadline = :deadline
ORDER BY id LIMIT 1
"""
INSERT_DECISION = """
INSERT INTO meeting_decisions (meeting_id, position, body, deadline, created_by)
SELECT :meeting_id, coalesce(max(position), 0) + 1, :body, :deadline, :created_by
FROM meeting_decisions WHERE meeting_id = :meeting_id
ON CONFLICT (meeting_id, position) DO NOTHING
RETURNING id
"""
INSERT_OWNERS = """
INSERT INTO decision_owners (decision_id, side_code, member_id)
SELECT :decision_id, o.side_code, o.member_id
FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS o(i int, side_code text, member_id int)
ORDER BY o.i
ON CONFLICT DO NOTHING
"""
INSERT_LINKS = """
INSERT INTO decision_links (decision_id, kind, target_id)
SELECT :decision_id, l.kind, l.target_id
FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS l(i int, kind text, target_id bigint)
ON CONFLICT DO NOTHING
"""
CREATED = """
INSERT INTO decision_updates (decision_id, member_id, actor, to_status, to_deadline)
VALUES (:decision_id, :member_id, :actor, 'open', :deadline)
"""
# Append the update and make the decision follow it, in one statement (the row locked).
APPEND = """
WITH d AS (
    SELECT id, status FROM meeting_decisions WHERE id = :decision_id FOR UPDATE
), appended AS (
    INSERT INTO decision_updates (decision_id, member_id, actor, from_status, to_status,
                                  to_deadline, note)
    SELECT d.id, :member_id, :actor, d.status, :to_status, :to_deadline, :note FROM d
    RETURNING decision_id
)
UPDATE meeting_decisions m
SET status = coalesce(:to_status, m.status),
    deadline = coalesce(:to_deadline, m.deadline),
    done_at = CASE WHEN coalesce(:to_status, m.status) = 'done'
                   THEN coalesce(m.done_at, now()) END
FROM appended WHERE m.id = appended.decision_id
"""
DECISION_OWNERS = """
SELECT d.id, mt.zone_id,
       coalesce(array_agg(o.side_code) FILTER (WHERE o.side_code IS NOT NULL), '{}') AS sides,
       coalesce(array_agg(o.member_id) FILTER (WHERE o.member_id IS NOT NULL), '{}') AS members
FROM meeting_decisions d JOIN meetings mt ON mt.id = d.meeting_id
LEFT JOIN decision_owners o ON o.decision_id = d.id
WHERE d.id = :decision_id
GROUP BY d.id, mt.zone_id
"""
DECISIONS = """
SELECT d.id, d.meeting_id, d.position, d.body, d.deadline, d.status, d.done_at,
       mt.zone_id, z.code AS zone_code, mt.title AS meeting_title, mt.held_at AS meeting_held_at,
       coalesce(ow.owners, '[]') AS owners, coalesce(ln.links, '[]') AS links
FROM meeting_decisions d
JOIN meetings mt ON mt.id = d.meeting_id
JOIN cooperation_zones z ON z.id = mt.zone_id
LEFT JOIN LATERAL (
    SELECT json_agg(json_build_object('side_code', o.side_code, 'member_id', o.member_id,
                                      'member_name', m.name) ORDER BY o.id) AS owners
    FROM decision_owners o LEFT JOIN members m ON m.id = o.member_id
    WHERE o.decision_id = d.id
) ow ON true
LEFT JOIN LATERAL (
    SELECT json_agg(json_build_object('kind', l.kind, 'target_id', l.target_id, 'label',
        CASE l.kind
            WHEN 'incident' THEN (SELECT '#' || x.id || ' ' || x.category
                                  FROM incidents x WHERE x.id = l.target_id)
            WHEN 'segment' THEN (SELECT r.name || ' #' || s.seq FROM river_segments s
                                 JOIN rivers r ON r.id = s.river_id WHERE s.id = l.target_id)
            WHEN 'section' THEN (SELECT x.name FROM water_sections x WHERE x.id = l.target_id)
            WHEN 'chief' THEN (SELECT m.name || ' ' || r.name FROM chief_appointments a
                               JOIN members m ON m.id = a.member_id
                               JOIN rivers r ON r.id = a.river_id WHERE a.id = l.target_id)
        END) ORDER BY l.kind, l.target_id) AS links
    FROM decision_links l WHERE l.decision_id = d.id
) ln ON true
WHERE {where}
ORDER BY {order}
LIMIT :limit
"""
UPDATES = """
SELECT u.id, u.decision_id, u.at, u.member_id, u.actor, u.from_status, u.to_status,
       u.to_deadline, u.note,
       CASE WHEN row_number() OVER (PARTITION BY u.decision_id ORDER BY u.id) = 1 THEN 'created'
            WHEN u.to_status IS NOT NULL AND u.to_status IS DISTINCT FROM u.from_status
            THEN 'status'
            WHEN u.to_deadline IS NOT NULL THEN 'deadline'
            ELSE 'note' END AS kind
FROM decision_updates u WHERE u.decision_id = ANY(:ids)
ORDER BY u.decision_id, u.id
"""
# By deadline, then id: what falls due first comes first.
DECISION_ORDER = Keyset(("d.deadline", "d.id"), ("deadline", "id"), ("day", "int"))
BY_MEETING = "d.meeting_id, d.position"
# Overdue reminders: at most this many (the oldest deadlines first).
OVERDUE_LIMIT = 200


def _decisions(
    session: Session,
    *,
    where: Clause,
    today: date,
    order: str = BY_MEETING,
    limit: int | None = None,
    history: bool = False,
) -> list[Decision]:
    """Decisions matching `where` with owners and links (and history when asked)."""
    rows = session.execute(statement(DECISIONS, where=where, order=order), {"limit": limit}).all()
    updates: dict[int, list[Update]] = {row.id: [] for row in rows}
    if history and rows:
        for u in session.execute(text(UPDATES), {"ids": list(updates)}):
            updates[u.decision_id].append(
                Update(
                    u.id,
                    u.at,
                    u.kind,
                    u.member_id,
                    u.actor,
                    u.from_status,
                    u.to_status,
                    u.to_deadline,
                    u.note,
                )
            )
    return [
        Decision(
            id=row.id,
            meeting_id=row.meeting_id,
            position=row.position,
            body=row.body,
            deadline=row.deadline,
            stored_status=row.status,
            status=shown_status(row.status, row.deadline, today),
            done_at=row.done_at,
            owners=[Owner(**o) for o in row.owners],
            links=[Link(**link) for link in row.links],
            updates=updates[row.id],
            zone_id=row.zone_id,
            zone_code=row.zone_code,
            meeting_title=row.meeting_title,
            meeting_held_at=row.meeting_held_at,
        )
        for row in rows
    ]


def _owner_rows(session: Session, *, sides: Sequence[str], owners: Sequence[OwnerIn]) -> str:
    """The owners as JSON rows, checked (422 naming `owners[i].<field>`)."""
    if not owners:
        raise InvalidInput(msg("problem.decisions.no_owner"), field="owners")
    rows = [
        {"i": i, "side_code": o.side_code, "member_id": o.member_id} for i, o in enumerate(owners)
    ]
    data = json.dumps(rows)
    bad = session.execute(text(BAD_OWNER), {"rows": data, "sides": list(sides)}).first()
    if bad is not None:
        key = (
            "problem.decisions.not_a_side"
            if bad.field == "side_code"
            else "problem.decisions.no_member"
        )
        raise InvalidInput(
            msg(key, value=str(rows[bad.i][bad.field])), field=f"owners[{bad.i}].{bad.field}"
        )
    return data


def _link_rows(session: Session, *, links: Sequence[LinkIn]) -> str:
    """The links as JSON rows, checked (422 naming `links[i]`)."""
    kinds = {str(kind) for kind in DecisionLinkKind}
    for i, link in enumerate(links):
        if str(link.kind) not in kinds:
            raise InvalidInput(
                msg("problem.decisions.link_kind", kind=link.kind), field=f"links[{i}].kind"
            )
    rows = [{"i": i, "kind": str(x.kind), "target_id": x.target_id} for i, x in enumerate(links)]
    data = json.dumps(rows)
    bad = session.execute(text(BAD_LINK), {"rows": data}).scalar()
    if bad is not None:
        link = links[bad]
        raise InvalidInput(
            msg("problem.decisions.no_link_target", kind=link.kind, target_id=link.target_id),
            field=f"links[{bad}].target_id",
        )
    return data


def _insert_decision(
    session: Session, *, meeting_id: int, body: str, deadline: date, created_by: int | None
) -> tuple[int, bool]:
    """Insert a decision at the meeting's next position; (id, True), or (the id of the same
    decision already there, False) when this is a retry."""
    same = {"meeting_id": meeting_id, "body": body, "deadline": deadline}
    for _ in range(INSERT_TRIES):
        existing = session.execute(text(SAME_DECISION), same).scalar()
        if existing is not None:
            return int(existing), False
        inserted = session.execute(
            text(INSERT_DECISION), {**same, "created_by": created_by}
        ).scalar()
        if inserted is not None:
            return int(inserted), True
    raise Conflict(msg("problem.decisions.busy"))


def add_decision(
    session: Session,
    *,
    principal: Principal,
    scope: Scope,
    meeting_id: int,
    body: str,
    deadline: date,
    owners: Sequence[OwnerIn],
    links: Sequence[LinkIn] = (),
) -> int:
    """Record a decision of a meeting the caller records; its id (a double submit of the
    same text and deadline answers the decision already recorded)."""
    zone = meeting_zone(session, principal=principal, scope=scope, meeting_id=meeting_id)
    if body is None or not body.strip():
        raise InvalidInput(msg("problem.decisions.empty_body"), field="body")
    body = body.strip()
    owner_rows = _owner_rows(session, sides=zone.member_codes, owners=owners)
    link_rows = _link_rows(session, links=links)
    decision_id, new = _insert_decision(
        session,
        meeting_id=meeting_id,
        body=body,
        deadline=deadline,
        created_by=principal.member_id or None,
    )
    if not new:
        return decision_id
    session.execute(text(INSERT_OWNERS), {"decision_id": decision_id, "rows": owner_rows})
    session.execute(text(INSERT_LINKS), {"decision_id": decision_id, "rows": link_rows})
    session.execute(
        text(CREATED),
        {
            "decision_id": decision_id,
            "member_id": principal.member_id or None,
            "actor": principal.label,
            "deadline": deadline,
        },
    )
    audit.record(
        session,
        action="decision.add",
        principal=principal,
        target=f"decision:{decision_id}",
        detail={"meeting_id": meeting_id, "zone": zone.code, "deadline": deadline},
    )
    return decision_id


def may_update(
    principal: Principal, scope: Scope, *, sides: Sequence[str], members: Sequence[int]
) -> bool:
    """True when the caller posts updates of a decision with these owners."""
    return (
        principal.is_admin
        or scope.everything
        or principal.member_id in members
        or not scope.writable_codes.isdisjoint(sides)
    )


def _seen(
    session: Session, scope: Scope, *, zone_id: int, members: Sequence[int], viewer_id: int | None
) -> bool:
    """True when the caller sees a decision of this zone with these owning members."""
    ids = seen_zone_ids(session, scope=scope)
    return ids is None or zone_id in ids or (viewer_id is not None and viewer_id in members)


def update_decision(
    session: Session,
    *,
    principal: Principal,
    scope: Scope,
    decision_id: int,
    note: str | None,
    status: str | None = None,
    deadline: date | None = None,
) -> None:
    """Append an update to a decision's history (a note, a status, a new deadline); the
    decision's status, deadline and done_at follow it in the same statement."""
    row = session.execute(text(DECISION_OWNERS), {"decision_id": decision_id}).first()
    if row is None or not _seen(
        session, scope, zone_id=row.zone_id, members=row.members, viewer_id=principal.member_id
    ):
        raise NotFound(msg("problem.decisions.no_decision", decision_id=decision_id))
    if not may_update(principal, scope, sides=row.sides, members=row.members):
        raise Forbidden(msg("problem.decisions.may_not_update", decision_id=decision_id))
    if status is not None and status not in {str(s) for s in STORED}:
        raise InvalidInput(msg("problem.decisions.status", status=status), field="status")
    note = note.strip() if note else None
    if not note and status is None and deadline is None:
        raise InvalidInput(msg("problem.decisions.empty_update"), field="note")
    session.execute(
        text(APPEND),
        {
            "decision_id": decision_id,
            "member_id": principal.member_id or None,
            "actor": principal.label,
            "to_status": status,
            "to_deadline": deadline,
            "note": note,
        },
    )
    audit.record(
        session,
        action="decision.update",
        principal=principal,
        target=f"decision:{decision_id}",
        detail={"status": status, "deadline": deadline},
    )


def decisions_of(
    session: Session, *, meeting_ids: Sequence[int], today: date, history: bool = False
) -> list[Decision]:
    """The decisions of these meetings in order (the caller has checked the scope)."""
    where = Clause(
        "d.meeting_id = ANY(CAST(:of_meetings AS int[]))", {"of_meetings": list(meeting_ids)}
    )
    return _decisions(session, where=where, today=today, history=history)


def _visible(session: Session, *, scope: Scope, viewer_id: int | None) -> Clause:
    """Decisions the caller sees: of a zone they see, or owned by them."""
    ids = seen_zone_ids(session, scope=scope)
    if ids is None:
        return TRUE
    own = None
    if viewer_id:
        own = Clause(
            "EXISTS (SELECT 1 FROM decision_owners vo WHERE vo.decision_id = d.id"
            " AND vo.member_id = :viewer_id)",
            {"viewer_id": viewer_id},
        )
    seen = Clause("mt.zone_id = ANY(CAST(:seen_zone_ids AS int[]))", {"seen_zone_ids": ids})
    return any_of(seen if ids else None, own)


def status_clause(status: str | None, *, today: date) -> Clause | None:
    """Decisions shown with this status (overdue derived against `today`)."""
    if status is None:
        return None
    if status == DecisionStatus.OVERDUE:
        return Clause("d.status <> 'done' AND d.deadline < :today", {"today": today})
    if status == DecisionStatus.DONE:
        return Clause("d.status = 'done'")
    if status in (DecisionStatus.OPEN, DecisionStatus.IN_PROGRESS):
        return Clause(
            "d.status = :shown_status AND d.deadline >= :today",
            {"shown_status": str(status), "today": today},
        )
    raise InvalidInput(msg("problem.decisions.status", status=status), field="status")


def _owned_by(member_id: int | None) -> Clause | None:
    """Decisions owned by this member (None: no condition)."""
    if member_id is None:
        return None
    return Clause(
        "EXISTS (SELECT 1 FROM decision_owners mo WHERE mo.decision_id = d.id"
        " AND mo.member_id = :owner_id)",
        {"owner_id": member_id},
    )


def list_decisions(
    session: Session,
    *,
    scope: Scope,
    zone_code: str | None = None,
    meeting_id: int | None = None,
    status: str | None = None,
    member_id: int | None = None,
    today: date,
    limit: int | None,
    cursor: str | None = None,
    viewer_id: int | None = None,
) -> Page[Decision]:
    """The decisions the caller sees (`viewer_id`: also those they own), filtered by zone,
    meeting, shown status and owner (`member_id`), by deadline, a page at a time."""
    zone_clause = None
    if zone_code is not None:
        zone_clause = equals("mt.zone_id", "zone_id", zone_of(session, code=zone_code).id)
    where = all_of(
        _visible(session, scope=scope, viewer_id=viewer_id),
        zone_clause,
        equals("d.meeting_id", "meeting_id", meeting_id),
        status_clause(status, today=today),
        _owned_by(member_id),
        DECISION_ORDER.after(cursor),
    )
    rows = _decisions(
        session,
        where=where,
        today=today,
        order=DECISION_ORDER.order_by(),
        limit=read_limit(limit),
    )
    return DECISION_ORDER.page(rows, limit)


def get_decision(
    session: Session,
    *,
    scope: Scope,
    decision_id: int,
    today: date,
    viewer_id: int | None = None,
) -> Decision:
    """A decision the caller sees, with its history; NotFound otherwise."""
    where = all_of(
        _visible(session, scope=scope, viewer_id=viewer_id),
        Clause("d.id = :decision_id", {"decision_id": decision_id}),
    )
    found = _decisions(session, where=where, today=today, limit=1, history=True)
    if not found:
        raise NotFound(msg("problem.decisions.no_decision", decision_id=decision_id))
    return found[0]


def overdue_decisions(
    session: Session, *, scope: Scope, member_id: int | None, today: date
) -> list[Decision]:
    """The overdue decisions to remind the caller of: those they own, those an owning side
    of which is in their jurisdictions, and (coordinators) their zones'; all for the
    administrator. Oldest deadline first, at most OVERDUE_LIMIT."""
    if scope.everything:
        mine: Clause = TRUE
    else:
        mine = any_of(
            _owned_by(member_id),
            Clause(
                "EXISTS (SELECT 1 FROM decision_owners so WHERE so.decision_id = d.id"
                " AND so.side_code = ANY(CAST(:scope_codes AS text[])))",
                {"scope_codes": sorted(scope.codes)},
            )
            if scope.codes
            else None,
            Clause(
                "mt.zone_id = ANY(CAST(:scope_zones AS int[]))",
                {"scope_zones": sorted(scope.zones)},
            )
            if scope.zones
            else None,
        )
    if mine == FALSE:
        return []
    where = all_of(mine, status_clause(DecisionStatus.OVERDUE, today=today))
    return _decisions(
        session, where=where, today=today, order=DECISION_ORDER.order_by(), limit=OVERDUE_LIMIT
    )


def local_today(now: datetime) -> date:
    """The local (CST) day of a moment: the day against which deadlines are read."""
    return now.astimezone(LOCAL).date()
