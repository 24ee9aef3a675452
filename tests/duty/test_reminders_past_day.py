"""Reminders asked for a given day see the statuses as they were that day, not as missed."""

from __future__ import annotations

from datetime import date

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_patrol.access.principal import command_line_principal
from geo_patrol.access.scope import Scope
from geo_patrol.core.vocabulary import ChiefLevel
from geo_patrol.duty.appointments import AppointmentSpec, create_appointment
from geo_patrol.duty.reminders import due_soon
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
