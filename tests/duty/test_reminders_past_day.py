"""Reminders asked for a given day see the statuses as they were that day, not as missed."""

from __future__ import annotations

from datetime import date

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_patrol.access.principal import command_line_principal
from geo_patrol.access.scope import Scope
from geo_patrol.core.vocabulary import ChiefLevel
from geo_patrol.duty.appointments import AppointmentSpec, create_appointment
from geo_patrol.duty.assessment import assess_chiefs, trend_periods
from geo_patrol.duty.periods import local_midnight
from geo_patrol.duty.reminders import due_soon, reminders_of
from tests.support.duty_case import clear_chiefs

ADMIN = Scope(everything=True)


def test_a_past_day_lists_the_chiefs_then_due(demo_session: Session) -> None:
    """Saturday 2026-11-14: a village chief's week (9-15 Nov) ends the next day with nothing
    done; asked as of that day the chief is due in 1 day (the real clock would say missed)."""
    clear_chiefs(demo_session)
    member = demo_session.execute(text("SELECT id FROM members WHERE login = 'sz.patrol'"))
    member_id = member.scalar_one()
    create_appointment(
        demo_session,
        spec=AppointmentSpec(
            member_id=member_id,
            level=ChiefLevel.VILLAGE,
            jurisdiction_code="320509100202",
            river_code="R-320509-330411-01",
            valid_from=date(2026, 10, 1),
        ),
        scope=ADMIN,
        by=command_line_principal(),
    )
    found = due_soon(demo_session, scope=ADMIN, member_id=None, today=date(2026, 11, 14))
    assert [(r.duty.member_id, r.days_left, r.duty.due) for r in found] == [
        (member_id, 1, date(2026, 11, 15))
    ]


def test_reminders_of_an_assessment_already_made_are_due_soons(demo_session: Session) -> None:
    """The page takes today's reminders out of its own assessment (reminders_of); they are
    exactly what due_soon assesses, and a duty of another period is never one."""
    clear_chiefs(demo_session)
    member = demo_session.execute(text("SELECT id FROM members WHERE login = 'sz.patrol'"))
    spec = AppointmentSpec(
        member_id=member.scalar_one(),
        level=ChiefLevel.VILLAGE,
        jurisdiction_code="320509100202",
        river_code="R-320509-330411-01",
        valid_from=date(2026, 10, 1),
    )
    create_appointment(demo_session, spec=spec, scope=ADMIN, by=command_line_principal())
    today = date(2026, 11, 14)
    assessed = assess_chiefs(
        demo_session,
        scope=ADMIN,
        member_id=None,
        periods=trend_periods(today, 3),
        now=local_midnight(today),
    )
    derived = reminders_of(assessed, today=today)
    expected = due_soon(demo_session, scope=ADMIN, member_id=None, today=today)
    assert [(r.duty.appointment_id, r.duty.period, r.days_left) for r in derived] == [
        (r.duty.appointment_id, r.duty.period, r.days_left) for r in expected
    ]
    assert len(derived) == 1 and derived[0].duty.period.last == date(2026, 11, 15)
