"""The demo's river chiefs (河长), imported from data/chiefs.csv by the roster importer.

The file is a roster as an office keeps it (duty.roster: Chinese headers, one row per
appointment, rows sharing a 联合河长 value form a joint pair, whose zone is the one both
sides belong to), imported exactly as `geo-patrol chiefs import` would.

One appointment changes mid-quarter: 南汇村's village chief on 澜溪塘 is replaced, six weeks
before the day the demo is first loaded, on a Thursday (mid-week, so that both chiefs owe a
share of that week), as a supervisor replaces a chief: the old appointment ends the day
before and stays in the history. Loading again changes nothing.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_patrol.access.principal import Principal, load_member
from geo_patrol.access.scope import Scope
from geo_patrol.core.vocabulary import DutyPeriod
from geo_patrol.duty.appointments import replace_appointment
from geo_patrol.duty.periods import local_date, period_of
from geo_patrol.duty.roster import import_roster

ROSTER = Path(__file__).resolve().parent / "data" / "chiefs.csv"
SOURCE = "geo-patrol demo roster (chiefs.csv)"
# The replacement: (river, the old chief's phone, the new chief's phone).
REPLACED = ("R-320509-330411-02", "13800000008", "13900000008")


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
    report = import_roster(session, data=ROSTER.read_bytes(), scope=scope, by=admin, source=SOURCE)
    day = change_day(today or local_date(datetime.now(UTC)))
    _replace(session, admin=admin, scope=scope, day=day)
    return (
        f"river chiefs: {report.created} appointments from chiefs.csv, "
        f"{report.joints_created} joint pair, "
        f"one village chief replaced from {day}"
    )


def _admin(session: Session) -> Principal:
    """The demo administrator, who appoints the demo's chiefs."""
    member_id = session.execute(text("SELECT id FROM members WHERE login = 'admin'")).scalar_one()
    principal = load_member(session, member_id=int(member_id), via="token")
    assert principal is not None
    return principal


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
