"""Import a river-chief roster: each row a chief's appointment, all rows or none.

The file is read by `geo_patrol.duty.roster_file`; here each row's river and side are
looked up, its chief found by phone (or added, at home on the side), its stretch cut to
segments, and its appointment made through `create_appointment` with the caller's rights,
all inside one savepoint. Any bad row rolls the whole file back, and every bad row is
reported with its Excel row number and column. Importing the same file again changes
nothing: an appointment of the same chief, side, river, stretch and first day is already
there (unchanged), or, when the roster now gives it an earlier last day, is ended on it.
Rows with the same joint value (联合河长) become one joint appointment, in the cooperation
zone that all their sides belong to (if one does).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_patrol.access import audit
from geo_patrol.access.principal import Principal
from geo_patrol.access.scope import Scope
from geo_patrol.accounts.members import create_member
from geo_patrol.core.catalog import Message, msg
from geo_patrol.core.errors import GeoPatrolError
from geo_patrol.core.sheets import RowError
from geo_patrol.duty.appointments import (
    AppointmentSpec,
    create_appointment,
    create_joint,
    end_appointment,
    river_id_of,
)
from geo_patrol.duty.roster_file import (
    MAX_ERRORS,
    Roster,
    RosterRejected,
    RosterRow,
    read_roster,
)
from geo_patrol.duty.stretches import stretch_segments

# The field an error of the appointment functions names, as the roster column it came from.
ROSTER_FIELD = {
    "side": "side",
    "river": "river",
    "segments": "stretch",
    "points": "stretch",
    "valid_to": "to",
    "last_day": "to",
    "member_id": "phone",
    "level": "level",
    "appointment_ids": "joint",
}

# Members by their phone, written however (spaces, dashes, +86): the last 11 digits.
MEMBERS_BY_PHONE = """
SELECT right(regexp_replace(phone, '\\D', '', 'g'), 11) AS phone, id, name FROM members
WHERE right(regexp_replace(phone, '\\D', '', 'g'), 11) = ANY(:phones)
ORDER BY id
"""
SIDES = """
SELECT code, name FROM jurisdictions
WHERE valid_to IS NULL AND (code = ANY(:sides) OR name = ANY(:sides))
"""
# Appointments already stored for the file's sides, each with its segments.
STORED = """
SELECT a.id, a.member_id, a.jurisdiction_code, a.river_id, a.valid_from, a.level, a.valid_to,
       ARRAY(SELECT cs.segment_id FROM chief_stretches cs WHERE cs.appointment_id = a.id
             ORDER BY cs.segment_id) AS segment_ids
FROM chief_appointments a
WHERE a.jurisdiction_code = ANY(:sides)
"""
# The cooperation zone every one of the sides belongs to (it or a jurisdiction above it).
ZONE_OF_SIDES = """
WITH RECURSIVE up AS (
    SELECT code AS side, code, 0 AS depth FROM jurisdictions
    WHERE valid_to IS NULL AND code = ANY(:sides)
    UNION
    SELECT up.side, j.parent_code, up.depth + 1 FROM up
    JOIN jurisdictions j ON j.code = up.code AND j.valid_to IS NULL
    WHERE j.parent_code IS NOT NULL AND up.depth < 8
)
SELECT zm.zone_id FROM up JOIN cooperation_zone_members zm ON zm.jurisdiction_code = up.code
GROUP BY zm.zone_id HAVING count(DISTINCT up.side) = :n
ORDER BY zm.zone_id LIMIT 1
"""
JOINTS_OF = "SELECT DISTINCT joint_id FROM chief_appointments WHERE id = ANY(:ids)"


@dataclass(frozen=True)
class RowOutcome:
    """What became of one row: created, unchanged or ended (ids are None in a dry run)."""

    row: int
    outcome: str
    appointment_id: int | None
    member_id: int | None
    member_created: bool


@dataclass
class RosterReport:
    """Counts of an import (or of what a dry run would do), and each row's outcome."""

    dry_run: bool
    created: int = 0
    unchanged: int = 0
    ended: int = 0
    members_created: int = 0
    joints_created: int = 0
    joints_unchanged: int = 0
    outcomes: list[RowOutcome] = field(default_factory=list)

    @property
    def rows(self) -> int:
        """Rows of chiefs in the file."""
        return len(self.outcomes)

    def summary(self) -> str:
        """One line for the command line."""
        verb = "would be" if self.dry_run else "were"
        return (
            f"roster: {self.rows} rows; appointments {self.created} created, "
            f"{self.unchanged} unchanged, {self.ended} ended; {self.members_created} members "
            f"and {self.joints_created} joint appointments created "
            f"({self.joints_unchanged} unchanged) — these {verb} stored"
        )


@dataclass
class _Run:
    """The state of one import: the caller, what is known so far, the errors."""

    session: Session
    roster: Roster
    scope: Scope
    by: Principal
    source: str | None
    report: RosterReport
    members: dict[str, tuple[int, str]]
    sides: dict[str, list[str]]
    stored: dict[tuple[object, ...], tuple[int, str, date | None]]
    errors: list[RowError] = field(default_factory=list)
    appointments: dict[int, int] = field(default_factory=dict)  # row → appointment id
    rivers: dict[str, int] = field(default_factory=dict)
    stretches: dict[tuple[object, ...], tuple[int, ...]] = field(default_factory=dict)

    def fail(self, row: int, name: str, detail: Message) -> None:
        """Note a bad cell, by the column the file names it."""
        self.errors.append(RowError(row, self.roster.column(name), detail))


def import_roster(
    session: Session,
    *,
    data: bytes,
    scope: Scope,
    by: Principal,
    dry_run: bool = False,
    source: str | None = None,
) -> RosterReport:
    """Store a roster file's appointments (or, `dry_run`, check them and say what would be
    stored); RosterRejected listing every bad row, and nothing stored, if any is bad."""
    roster = read_roster(data)
    if roster.truncated:  # a wrong file, not a few wrong rows: no need to look further
        raise RosterRejected(roster.errors, truncated=True)
    savepoint = session.begin_nested()
    try:
        run = _start(session, roster=roster, scope=scope, by=by, dry_run=dry_run, source=source)
        for row in roster.rows:
            _import_row(run, row)
        _make_joints(run)
    except BaseException:
        savepoint.rollback()
        raise
    errors = sorted([*roster.errors, *run.errors], key=lambda error: error.row)
    if errors or dry_run:
        savepoint.rollback()
    else:
        savepoint.commit()
    if errors:
        truncated = roster.truncated or len(errors) > MAX_ERRORS
        raise RosterRejected(errors[:MAX_ERRORS], truncated=truncated)
    if not dry_run:
        _audit(session, run)
    return run.report


def _start(
    session: Session,
    *,
    roster: Roster,
    scope: Scope,
    by: Principal,
    dry_run: bool,
    source: str | None,
) -> _Run:
    """Look up every phone and side of the file in one statement each."""
    phones = sorted({row.phone for row in roster.rows})
    members: dict[str, tuple[int, str]] = {}
    for found in session.execute(text(MEMBERS_BY_PHONE), {"phones": phones}):
        members.setdefault(found.phone, (int(found.id), str(found.name)))
    wanted = sorted({row.side for row in roster.rows})
    by_code: dict[str, list[str]] = {}
    by_name: dict[str, list[str]] = defaultdict(list)
    for found in session.execute(text(SIDES), {"sides": wanted}):
        if found.code in wanted:
            by_code[found.code] = [found.code]
        if found.name in wanted:
            by_name[found.name].append(found.code)
    sides = {**by_name, **by_code}  # a code is itself, even if some place is named so
    codes = sorted({code for found in sides.values() for code in found})
    stored: dict[tuple[object, ...], tuple[int, str, date | None]] = {
        (a.member_id, a.jurisdiction_code, a.river_id, a.valid_from, tuple(a.segment_ids)): (
            int(a.id),
            str(a.level),
            a.valid_to,
        )
        for a in session.execute(text(STORED), {"sides": codes})
    }
    return _Run(session, roster, scope, by, source, RosterReport(dry_run), members, sides, stored)


def _side_of(run: _Run, row: RosterRow) -> str | None:
    """The jurisdiction code a row names (by code, or by the exact name of one in force)."""
    codes = sorted(set(run.sides.get(row.side, [])))
    if not codes:
        run.fail(row.row, "side", msg("problem.roster.no_side", side=row.side))
        return None
    if len(codes) > 1:
        run.fail(
            row.row, "side", msg("problem.roster.side_ambiguous", side=row.side, count=len(codes))
        )
        return None
    if not run.scope.everything and codes[0] not in run.scope.writable_codes:
        run.fail(row.row, "side", msg("problem.duty.may_not_appoint", code=codes[0]))
        return None
    return codes[0]


def _import_row(run: _Run, row: RosterRow) -> None:
    """One row; a refused one is noted and the others go on (every check comes before any
    write, and any bad row rolls the whole file back)."""
    side = _side_of(run, row)
    member = None if side is None else _member_of(run, row, side)
    if side is None or member is None:
        return
    try:
        outcome = _appoint(run, row, side, member)
    except GeoPatrolError as error:
        field_name = str(error.extra.get("field", "row"))
        run.fail(row.row, ROSTER_FIELD.get(field_name, field_name), error.message)
        return
    if outcome is not None:
        run.report.outcomes.append(outcome)


def _member_of(run: _Run, row: RosterRow, side: str) -> tuple[int, bool] | None:
    """The chief by phone (the same name), else a new member at home on the side."""
    known = run.members.get(row.phone)
    if known is not None:
        if known[1] != row.name:
            run.fail(row.row, "name", msg("problem.roster.phone_other_name"))
            return None
        return known[0], False
    data = {"name": row.name, "phone": row.phone, "home_jurisdiction_code": side}
    try:
        member_id = create_member(run.session, data=data, by=run.by, address=None)
    except GeoPatrolError as error:
        run.fail(row.row, "phone", error.message)
        return None
    run.members[row.phone] = (member_id, row.name)
    run.report.members_created += 1
    return member_id, True


def _appoint(run: _Run, row: RosterRow, side: str, member: tuple[int, bool]) -> RowOutcome | None:
    """The row's appointment: already there, ended earlier, or made now."""
    river_id, segment_ids = _stretch_of(run, row)
    key = (member[0], side, river_id, row.valid_from, segment_ids)
    if key in run.stored:
        appointment_id, level, valid_to = run.stored[key]
        outcome = _existing(run, row, appointment_id, level, valid_to)
        return None if outcome is None else _outcome(run, row, outcome, appointment_id, member)
    spec = AppointmentSpec(
        member_id=member[0],
        level=row.level,
        jurisdiction_code=side,
        river_code=row.river,
        valid_from=row.valid_from,
        valid_to=row.valid_to,
        stretch_kind=row.stretch.kind,
        seqs=row.stretch.seqs,
        points=row.stretch.points,
        stretch_label=row.stretch.label,
        source=run.source,
    )
    appointment_id = create_appointment(run.session, spec=spec, scope=run.scope, by=run.by)
    run.stored[key] = (appointment_id, str(row.level), row.valid_to)
    run.report.created += 1
    return _outcome(run, row, "created", appointment_id, member)


def _stretch_of(run: _Run, row: RosterRow) -> tuple[int, tuple[int, ...]]:
    """The row's river and its stretch's segment ids (sorted), looked up once per file."""
    river_id = run.rivers.get(row.river)
    if river_id is None:
        river_id = run.rivers[row.river] = river_id_of(run.session, river=row.river)
    stretch = (river_id, row.stretch.kind, row.stretch.seqs, row.stretch.points)
    if stretch not in run.stretches:
        found = stretch_segments(
            run.session,
            river_id=river_id,
            kind=row.stretch.kind,
            seqs=row.stretch.seqs,
            points=row.stretch.points,
        )
        run.stretches[stretch] = tuple(sorted(found))
    return river_id, run.stretches[stretch]


def _existing(
    run: _Run, row: RosterRow, appointment_id: int, level: str, valid_to: date | None
) -> str | None:
    """An appointment already stored for the row: unchanged, or ended on the roster's last
    day; a roster cannot change its level or extend it (end it, and appoint anew)."""
    if level != row.level:
        run.fail(row.row, "level", msg("problem.roster.level_differs", level=level))
        return None
    if valid_to == row.valid_to:
        run.report.unchanged += 1
        return "unchanged"
    if row.valid_to is not None and (valid_to is None or row.valid_to < valid_to):
        end_appointment(
            run.session,
            scope=run.scope,
            by=run.by,
            appointment_id=appointment_id,
            last_day=row.valid_to,
        )
        run.report.ended += 1
        return "ended"
    stored = valid_to.isoformat() if valid_to else msg("problem.roster.in_force")
    run.fail(row.row, "to", msg("problem.roster.cannot_extend", stored=stored))
    return None


def _outcome(
    run: _Run, row: RosterRow, outcome: str, appointment_id: int, member: tuple[int, bool]
) -> RowOutcome:
    """A row's outcome (a dry run's ids name rows that are rolled back: not shown)."""
    run.appointments[row.row] = appointment_id
    dry = run.report.dry_run
    return RowOutcome(
        row=row.row,
        outcome=outcome,
        appointment_id=None if dry else appointment_id,
        member_id=None if dry and member[1] else member[0],
        member_created=member[1],
    )


def _make_joints(run: _Run) -> None:
    """Rows sharing a joint value become one joint appointment (unless they already are)."""
    groups: dict[str, list[RosterRow]] = defaultdict(list)
    for row in run.roster.rows:
        if row.joint:
            groups[row.joint].append(row)
    for name, rows in groups.items():
        if len(rows) < 2:
            run.fail(rows[0].row, "joint", msg("problem.roster.joint_alone", name=name))
            continue
        ids = [run.appointments.get(row.row) for row in rows]
        if None in ids:
            continue  # a row of the group is wrong: reported already
        _make_joint(run, name, rows, [i for i in ids if i is not None])


def _make_joint(run: _Run, name: str, rows: Sequence[RosterRow], ids: list[int]) -> None:
    """One joint appointment of the group's appointments, in their sides' common zone."""
    joints = set(run.session.execute(text(JOINTS_OF), {"ids": ids}).scalars())
    if len(joints) == 1 and None not in joints:
        run.report.joints_unchanged += 1
        return
    sides = sorted({run.sides[row.side][0] for row in rows})
    zone_id = run.session.execute(text(ZONE_OF_SIDES), {"sides": sides, "n": len(sides)}).scalar()
    attempt = run.session.begin_nested()
    try:
        create_joint(
            run.session, scope=run.scope, by=run.by, name=name, zone_id=zone_id, appointment_ids=ids
        )
    except GeoPatrolError as error:
        attempt.rollback()
        for row in rows:
            run.fail(row.row, "joint", error.message)
        return
    attempt.commit()
    run.report.joints_created += 1


def _audit(session: Session, run: _Run) -> None:
    """One audit entry for the import (each appointment has its own too)."""
    report = run.report
    audit.record(
        session,
        action="chief.roster",
        principal=run.by,
        target=run.source,
        detail={
            "created": report.created,
            "unchanged": report.unchanged,
            "ended": report.ended,
            "members_created": report.members_created,
            "joints_created": report.joints_created,
        },
    )
