"""The demo's river chiefs (河长), appointed from data/chiefs.csv through duty.appointments.

The file is a roster as an office keeps it (the roster format of duty.roster: Chinese
headers, one row per appointment, rows sharing a 联合河长 value form a joint pair). Until
duty.roster is merged, `_read_roster` reads it here: a small reader for this one known-good
file, not a roster importer (switch load_demo_chiefs to duty.roster once it lands).

One appointment changes mid-quarter: 南汇村's village chief on 澜溪塘 is replaced, six weeks
before the day the demo is first loaded, on a Thursday (mid-week, so that both chiefs owe a
share of that week), as a supervisor replaces a chief: the old appointment ends the day
before and stays in the history. Loading again changes nothing.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_patrol.access.principal import Principal, load_member
from geo_patrol.access.scope import Scope
from geo_patrol.core.errors import InvalidInput
from geo_patrol.core.vocabulary import ChiefLevel, DutyPeriod, StretchKind
from geo_patrol.demo.accounts import ZONE
from geo_patrol.duty.appointments import (
    AppointmentSpec,
    create_appointment,
    create_joint,
    replace_appointment,
)
from geo_patrol.duty.periods import local_date, period_of

ROSTER = Path(__file__).resolve().parent / "data" / "chiefs.csv"
SOURCE = "geo-patrol demo roster (chiefs.csv)"
LEVELS = {"县级": ChiefLevel.COUNTY, "镇级": ChiefLevel.TOWN, "村级": ChiefLevel.VILLAGE}
# The replacement: (river, the old chief's phone, the new chief's phone).
REPLACED = ("R-320509-330411-02", "13800000008", "13900000008")

SIDE = "SELECT code FROM jurisdictions WHERE valid_to IS NULL AND (code = :side OR name = :side)"
MEMBER = "SELECT id FROM members WHERE phone = :phone"


def change_day(today: date) -> date:
    """The day the replaced chief's successor takes over: Thursday six weeks back."""
    return period_of(DutyPeriod.WEEK, today).first - timedelta(weeks=6) + timedelta(days=3)


def load_demo_chiefs(session: Session, *, today: date | None = None) -> str:
    """Appoint the roster's chiefs and pair the joint ones, then replace one chief
    mid-quarter; nothing when the roster was loaded before. One line to report."""
    loaded = session.execute(
        text("SELECT count(*) FROM chief_appointments WHERE source = :source"), {"source": SOURCE}
    ).scalar_one()
    if loaded:
        return f"river chiefs: {loaded} appointments of the demo roster already there"
    admin = _admin(session)
    scope = Scope(everything=True)
    joints: dict[str, list[int]] = {}
    specs = _read_roster(session)
    for spec, joint in specs:
        appointment_id = create_appointment(session, spec=spec, scope=scope, by=admin)
        if joint:
            joints.setdefault(joint, []).append(appointment_id)
    zone_id = session.execute(
        text("SELECT id FROM cooperation_zones WHERE code = :code"), {"code": ZONE}
    ).scalar_one()
    for name, ids in joints.items():
        create_joint(
            session, scope=scope, by=admin, name=name, zone_id=zone_id, appointment_ids=ids
        )
    day = change_day(today or local_date(datetime.now(UTC)))
    _replace(session, admin=admin, scope=scope, day=day)
    return (
        f"river chiefs: {len(specs)} appointments from chiefs.csv, {len(joints)} joint pair, "
        f"one village chief replaced from {day}"
    )


def _admin(session: Session) -> Principal:
    """The demo administrator, who appoints the demo's chiefs."""
    member_id = session.execute(text("SELECT id FROM members WHERE login = 'admin'")).scalar_one()
    principal = load_member(session, member_id=int(member_id), via="token")
    assert principal is not None
    return principal


def _read_roster(session: Session) -> list[tuple[AppointmentSpec, str]]:
    """The roster's rows as appointments, each with its joint pair's name (or "")."""
    rows = csv.DictReader(io.StringIO(ROSTER.read_text(encoding="utf-8-sig")))
    return [(_spec(session, row), row["联合河长"].strip()) for row in rows]


def _spec(session: Session, row: dict[str, str]) -> AppointmentSpec:
    """One roster row as an appointment (member by phone, side by code or exact name)."""
    member = session.execute(text(MEMBER), {"phone": row["手机"]}).scalar()
    sides = session.execute(text(SIDE), {"side": row["行政区"]}).scalars().all()
    if member is None or len(sides) != 1:
        raise InvalidInput(f"roster row {row}: unknown phone or side", field="roster")
    stretch = row["河段"].strip()
    kind = StretchKind.RIVER
    seqs: tuple[int, ...] = ()
    points: tuple[tuple[float, float], ...] = ()
    if ";" in stretch:
        kind = StretchKind.BETWEEN
        points = tuple(_point(pair) for pair in stretch.split(";"))
    elif stretch:
        kind = StretchKind.SEGMENTS
        first, _, last = stretch.partition("-")
        seqs = tuple(range(int(first), int(last or first) + 1))
    return AppointmentSpec(
        member_id=int(member),
        level=LEVELS[row["级别"]],
        jurisdiction_code=sides[0],
        river_code=row["河道"],
        valid_from=date.fromisoformat(row["起始日期"]),
        valid_to=date.fromisoformat(row["截止日期"]) if row["截止日期"] else None,
        stretch_kind=kind,
        seqs=seqs,
        points=points,
        stretch_label=stretch or None,
        source=SOURCE,
    )


def _point(pair: str) -> tuple[float, float]:
    """ "lon,lat" as numbers."""
    lon, lat = pair.split(",")
    return float(lon), float(lat)


def _replace(session: Session, *, admin: Principal, scope: Scope, day: date) -> None:
    """Replace the old chief of REPLACED by the new one from `day`."""
    river, old, new = REPLACED
    found = session.execute(
        text(
            "SELECT a.id, (SELECT id FROM members WHERE phone = :new) AS successor "
            "FROM chief_appointments a JOIN members m ON m.id = a.member_id "
            "JOIN rivers r ON r.id = a.river_id "
            "WHERE m.phone = :old AND r.code = :river AND a.valid_to IS NULL"
        ),
        {"old": old, "new": new, "river": river},
    ).one()
    replace_appointment(
        session,
        scope=scope,
        by=admin,
        appointment_id=found.id,
        member_id=found.successor,
        valid_from=day,
    )
