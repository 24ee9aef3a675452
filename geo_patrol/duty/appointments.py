"""River chief appointments: make, end, replace, pair as joint chiefs, and list in scope.

An appointment is a member × stretch × level × side × validity (local days, both included).
It is never edited: ending sets its last day, replacing ends it and adds the successor (the
same stretch, level and side) from the next day, so the history reads like the boundaries'.
Supervisors appoint chiefs on the sides they may write for; administrators anywhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_patrol.access import audit
from geo_patrol.access.principal import Principal
from geo_patrol.access.scope import Scope, visible
from geo_patrol.core.catalog import msg
from geo_patrol.core.errors import Forbidden, InvalidInput, NotFound
from geo_patrol.core.paging import Page
from geo_patrol.core.vocabulary import ChiefLevel, StretchKind
from geo_patrol.db.clauses import Clause, all_of, any_of, equals, statement
from geo_patrol.db.keyset import Keyset, read_limit
from geo_patrol.duty.stretches import stretch_segments


@dataclass(frozen=True)
class AppointmentSpec:
    """What an appointment says, as a supervisor or a roster gives it."""

    member_id: int
    level: ChiefLevel
    jurisdiction_code: str
    river_code: str
    valid_from: date
    valid_to: date | None = None
    stretch_kind: StretchKind = StretchKind.RIVER
    seqs: tuple[int, ...] = ()
    points: tuple[tuple[float, float], ...] = ()
    stretch_label: str | None = None
    source: str | None = None


@dataclass(frozen=True)
class Appointment:
    """An appointment as read back, with its stretch."""

    id: int
    member_id: int
    member_name: str
    level: str
    jurisdiction_code: str
    jurisdiction_name: str | None
    river_code: str
    river_name: str
    stretch_kind: str
    stretch_label: str | None
    valid_from: date
    valid_to: date | None
    joint_id: int | None
    replaces_id: int | None
    segment_ids: list[int] = field(default_factory=list)
    length_m: float = 0.0


SIDE = """
SELECT level FROM jurisdictions WHERE code = :code AND valid_to IS NULL
"""
RIVER = (
    "SELECT id FROM rivers WHERE code = :code OR name = :code ORDER BY code = :code DESC LIMIT 1"
)
MEMBER = "SELECT id FROM members WHERE id = :member_id"
INSERT = """
INSERT INTO chief_appointments (member_id, level, jurisdiction_code, river_id, stretch_kind,
    stretch_label, valid_from, valid_to, replaces_id, source)
VALUES (:member_id, :level, :jurisdiction_code, :river_id, :stretch_kind, :stretch_label,
    :valid_from, :valid_to, :replaces_id, :source)
RETURNING id
"""
INSERT_STRETCH = """
INSERT INTO chief_stretches (appointment_id, segment_id)
SELECT :appointment_id, unnest(CAST(:segment_ids AS int[]))
"""
APPOINTMENTS = """
SELECT a.id, a.member_id, m.name AS member_name, a.level, a.jurisdiction_code,
       jn.name AS jurisdiction_name, r.code AS river_code, r.name AS river_name,
       a.stretch_kind, a.stretch_label, a.valid_from, a.valid_to, a.joint_id, a.replaces_id,
       coalesce(st.segment_ids, '{{}}') AS segment_ids, coalesce(st.length_m, 0) AS length_m
FROM chief_appointments a
JOIN members m ON m.id = a.member_id
JOIN rivers r ON r.id = a.river_id
LEFT JOIN joint_appointments j ON j.id = a.joint_id
LEFT JOIN jurisdictions jn ON jn.code = a.jurisdiction_code AND jn.valid_to IS NULL
LEFT JOIN LATERAL (
    SELECT array_agg(s.id ORDER BY s.seq) AS segment_ids, sum(s.length_m) AS length_m
    FROM chief_stretches cs JOIN river_segments s ON s.id = cs.segment_id
    WHERE cs.appointment_id = a.id
) st ON true
WHERE {visible} AND {where}
ORDER BY r.code, a.level, a.jurisdiction_code, a.valid_from, a.id
LIMIT :limit
"""
# By river, level, side and start (the river's code is the joined river's: a scope's chiefs
# are a few thousand at most, read in this order without an index of their own).
APPOINTMENT_ORDER = Keyset(
    ("r.code", "a.level", "a.jurisdiction_code", "a.valid_from", "a.id"),
    ("river_code", "level", "jurisdiction_code", "valid_from", "id"),
    ("text", "text", "text", "day", "int"),
)


def chief_visibility(scope: Scope, *, member_id: int | None, alias: str = "a") -> Clause:
    """Appointments a caller may read: a supervisor those of the sides in their subtree, a
    zone coordinator the joint pairs of their zone (`j` is the joint appointment), a chief
    their own; an administrator all."""
    own = Clause(f"{alias}.member_id = :scope_member", {"scope_member": member_id or 0})
    return any_of(
        visible(scope, codes=f"ARRAY[{alias}.jurisdiction_code]", zones="ARRAY[j.zone_id]"),
        own if member_id else None,
    )


def _check_side(session: Session, *, code: str, scope: Scope) -> None:
    """The side must be a jurisdiction in force that the caller may write for."""
    if session.execute(text(SIDE), {"code": code}).first() is None:
        raise InvalidInput(msg("problem.duty.no_jurisdiction", code=code), field="side")
    if not scope.everything and code not in scope.writable_codes:
        raise Forbidden(msg("problem.duty.may_not_appoint", code=code), field="side")


def river_id_of(session: Session, *, river: str) -> int:
    """A river by its code (or its exact name, as rosters write it); InvalidInput if none."""
    found = session.execute(text(RIVER), {"code": river}).scalar()
    if found is None:
        raise InvalidInput(msg("problem.duty.no_river", river=river), field="river")
    return int(found)


def create_appointment(
    session: Session,
    *,
    spec: AppointmentSpec,
    scope: Scope,
    by: Principal,
    replaces_id: int | None = None,
) -> int:
    """Appoint a chief; the id of the new appointment."""
    if spec.valid_to is not None and spec.valid_to < spec.valid_from:
        raise InvalidInput(msg("problem.duty.valid_to_before_valid_from"), field="valid_to")
    if session.execute(text(MEMBER), {"member_id": spec.member_id}).first() is None:
        raise InvalidInput(
            msg("problem.accounts.no_member", member_id=spec.member_id), field="member_id"
        )
    _check_side(session, code=spec.jurisdiction_code, scope=scope)
    river_id = river_id_of(session, river=spec.river_code)
    segment_ids = stretch_segments(
        session, river_id=river_id, kind=spec.stretch_kind, seqs=spec.seqs, points=spec.points
    )
    appointment_id = int(
        session.execute(
            text(INSERT),
            {
                "member_id": spec.member_id,
                "level": str(spec.level),
                "jurisdiction_code": spec.jurisdiction_code,
                "river_id": river_id,
                "stretch_kind": str(spec.stretch_kind),
                "stretch_label": spec.stretch_label,
                "valid_from": spec.valid_from,
                "valid_to": spec.valid_to,
                "replaces_id": replaces_id,
                "source": spec.source,
            },
        ).scalar_one()
    )
    session.execute(
        text(INSERT_STRETCH), {"appointment_id": appointment_id, "segment_ids": segment_ids}
    )
    audit.record(
        session,
        action="chief.appoint",
        principal=by,
        target=f"appointment:{appointment_id}",
        detail={"member_id": spec.member_id, "side": spec.jurisdiction_code},
    )
    return appointment_id


def appointment_page(
    session: Session,
    *,
    scope: Scope,
    member_id: int | None,
    limit: int | None,
    cursor: str | None = None,
    appointment_id: int | None = None,
    chief: int | None = None,
    river: str | None = None,
    side: str | None = None,
    on: date | None = None,
) -> Page[Appointment]:
    """A page of the appointments visible to the caller (`member_id`), filtered; `on` keeps
    those in force that day (otherwise the whole history); all when `limit` is None."""
    where = all_of(
        equals("a.id", "appointment_id", appointment_id),
        equals("a.member_id", "chief", chief),
        equals("r.code", "river", river),
        equals("a.jurisdiction_code", "side", side),
        in_force_on("a", on),
        APPOINTMENT_ORDER.after(cursor),
    )
    sql = statement(APPOINTMENTS, visible=chief_visibility(scope, member_id=member_id), where=where)
    rows = session.execute(sql, {"limit": read_limit(limit)}).mappings().all()
    page = APPOINTMENT_ORDER.page(rows, limit)
    return Page([Appointment(**row) for row in page.items], page.next_cursor)


def list_appointments(
    session: Session, *, scope: Scope, member_id: int | None, **filters: Any
) -> list[Appointment]:
    """Every appointment visible to the caller, filtered as `appointment_page`."""
    return appointment_page(session, scope=scope, member_id=member_id, limit=None, **filters).items


def in_force_on(alias: str, day: date | None) -> Clause | None:
    """Appointments in force on a local day (None: no condition)."""
    if day is None:
        return None
    return Clause(
        f"{alias}.valid_from <= :in_force_on"
        f" AND ({alias}.valid_to IS NULL OR {alias}.valid_to >= :in_force_on)",
        {"in_force_on": day},
    )


def get_appointment(
    session: Session, *, scope: Scope, member_id: int | None, appointment_id: int
) -> Appointment:
    """One appointment, or NotFound when absent or outside the scope."""
    found = list_appointments(
        session, scope=scope, member_id=member_id, appointment_id=appointment_id
    )
    if not found:
        raise NotFound(
            msg("problem.duty.no_appointment", appointment_id=appointment_id),
            field="appointment_id",
        )
    return found[0]


def end_appointment(
    session: Session, *, scope: Scope, by: Principal, appointment_id: int, last_day: date
) -> None:
    """End an appointment on `last_day` (kept in the history)."""
    current = get_appointment(
        session, scope=scope, member_id=by.member_id, appointment_id=appointment_id
    )
    _check_side(session, code=current.jurisdiction_code, scope=scope)
    if last_day < current.valid_from:
        raise InvalidInput(msg("problem.duty.end_before_start"), field="last_day")
    if current.valid_to is not None and current.valid_to < last_day:
        raise InvalidInput(
            msg("problem.duty.appointment_ended", valid_to=current.valid_to), field="last_day"
        )
    session.execute(
        text("UPDATE chief_appointments SET valid_to = :day WHERE id = :id"),
        {"day": last_day, "id": appointment_id},
    )
    audit.record(
        session,
        action="chief.end",
        principal=by,
        target=f"appointment:{appointment_id}",
        detail={"last_day": last_day.isoformat()},
    )


def replace_appointment(
    session: Session,
    *,
    scope: Scope,
    by: Principal,
    appointment_id: int,
    member_id: int,
    valid_from: date,
) -> int:
    """A new chief for the same stretch from `valid_from`: the old appointment ends the day
    before (and leaves a joint pair, whose new member the successor becomes)."""
    old = get_appointment(
        session, scope=scope, member_id=by.member_id, appointment_id=appointment_id
    )
    end_appointment(
        session,
        scope=scope,
        by=by,
        appointment_id=appointment_id,
        last_day=valid_from - timedelta(days=1),
    )
    new_id = create_appointment(
        session,
        spec=AppointmentSpec(
            member_id=member_id,
            level=ChiefLevel(old.level),
            jurisdiction_code=old.jurisdiction_code,
            river_code=old.river_code,
            valid_from=valid_from,
            valid_to=old.valid_to,
            stretch_kind=StretchKind.SEGMENTS,
            seqs=tuple(_seqs(session, old.segment_ids)),
            stretch_label=old.stretch_label,
        ),
        scope=scope,
        by=by,
        replaces_id=appointment_id,
    )
    if old.joint_id is not None:
        session.execute(
            text("UPDATE chief_appointments SET joint_id = :joint WHERE id = :id"),
            {"joint": old.joint_id, "id": new_id},
        )
    return new_id


def _seqs(session: Session, segment_ids: Sequence[int]) -> list[int]:
    """The seqs of segments."""
    return list(
        session.execute(
            text("SELECT seq FROM river_segments WHERE id = ANY(:ids) ORDER BY seq"),
            {"ids": list(segment_ids)},
        ).scalars()
    )


JOINT_MEMBERS = """
SELECT a.id, a.jurisdiction_code, a.joint_id, array_agg(cs.segment_id) AS segment_ids
FROM chief_appointments a JOIN chief_stretches cs ON cs.appointment_id = a.id
WHERE a.id = ANY(:ids)
GROUP BY a.id
"""


def create_joint(
    session: Session,
    *,
    scope: Scope,
    by: Principal,
    name: str,
    zone_id: int | None,
    appointment_ids: Sequence[int],
) -> int:
    """Pair appointments of different sides on a shared stretch as joint chiefs (联合河长)."""
    rows = list(session.execute(text(JOINT_MEMBERS), {"ids": list(appointment_ids)}))
    found = {row.id for row in rows}
    missing = sorted(set(appointment_ids) - found)
    if missing:
        raise InvalidInput(
            msg("problem.duty.no_appointment", appointment_id=missing[0]), field="appointment_ids"
        )
    if len({row.jurisdiction_code for row in rows}) < 2:
        raise InvalidInput(msg("problem.duty.joint_needs_two_sides"), field="appointment_ids")
    if any(row.joint_id is not None for row in rows):
        raise InvalidInput(msg("problem.duty.already_joint"), field="appointment_ids")
    shared = set.intersection(*(set(row.segment_ids) for row in rows))
    if not shared:
        raise InvalidInput(msg("problem.duty.no_shared_segment"), field="appointment_ids")
    sides = {row.jurisdiction_code for row in rows}
    coordinates = zone_id is not None and zone_id in scope.zones
    if not (scope.everything or coordinates or sides <= scope.writable_codes):
        raise Forbidden(
            msg("problem.duty.pairing_rights"),
            field="appointment_ids",
        )
    joint_id = int(
        session.execute(
            text(
                "INSERT INTO joint_appointments (name, zone_id) VALUES (:name, :zone) RETURNING id"
            ),
            {"name": name, "zone": zone_id},
        ).scalar_one()
    )
    session.execute(
        text("UPDATE chief_appointments SET joint_id = :joint WHERE id = ANY(:ids)"),
        {"joint": joint_id, "ids": sorted(found)},
    )
    audit.record(
        session,
        action="chief.joint",
        principal=by,
        target=f"joint:{joint_id}",
        detail={"appointments": sorted(found)},
    )
    return joint_id


def appointment_dict(appointment: Appointment) -> dict[str, Any]:
    """An appointment as plain values (for JSON and CSV)."""
    return dict(appointment.__dict__)
