"""Reminders: chiefs whose period ends within a few days with their duty not yet met."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy.orm import Session

from geo_patrol.access.scope import Scope
from geo_patrol.core.paging import Page
from geo_patrol.core.vocabulary import DutyStatus
from geo_patrol.db.keyset import page_in_memory
from geo_patrol.duty.assessment import (
    ChiefDuty,
    DutyFilter,
    assess_chiefs,
    current_periods,
)
from geo_patrol.duty.periods import local_date, local_midnight

DEFAULT_WITHIN_DAYS = 3


@dataclass(frozen=True)
class Reminder:
    """A chief's unmet duty and the days left in its period (0: the last day is today)."""

    duty: ChiefDuty
    days_left: int


def due_soon(
    session: Session,
    *,
    scope: Scope,
    member_id: int | None,
    within_days: int = DEFAULT_WITHIN_DAYS,
    today: date | None = None,
    selected: DutyFilter = DutyFilter(),
    now: datetime | None = None,
) -> list[Reminder]:
    """Visible chiefs whose current period ends within `within_days` days (today included)
    and who have not yet done what it requires; soonest first. `now` is the clock of the
    statuses (default: the start of a given `today`, else the real time), so a past day is
    seen as it was then, not as missed."""
    if now is None:
        now = datetime.now(UTC) if today is None else local_midnight(today)
    today = today or local_date(now)
    duties = assess_chiefs(
        session,
        scope=scope,
        member_id=member_id,
        periods=current_periods(today),
        selected=selected,
        now=now,
    )
    return reminders_of(duties, today=today, within_days=within_days)


def reminders_of(
    duties: Iterable[ChiefDuty], *, today: date, within_days: int = DEFAULT_WITHIN_DAYS
) -> list[Reminder]:
    """The reminders among duties already assessed (the current periods of `today`, with
    statuses as of now): unmet and ending within `within_days` days; soonest first."""
    reminders = [
        Reminder(duty=duty, days_left=(duty.period.last - today).days)
        for duty in duties
        if duty.status is DutyStatus.IN_PROGRESS
        and duty.period.first <= today <= duty.period.last
        and (duty.period.last - today).days < within_days
    ]
    return sorted(reminders, key=reminder_key)


def reminder_key(reminder: Reminder) -> tuple[int, str, str, int]:
    """The reminders' order: soonest first, by side and name (the appointment: unique)."""
    duty = reminder.duty
    return (reminder.days_left, duty.side_code, duty.member_name, duty.appointment_id)


def reminder_page(
    reminders: Sequence[Reminder], *, limit: int | None, cursor: str | None
) -> Page[Reminder]:
    """A page of reminders (as `reminders_of` orders them). They are the scope's current
    duties whose status (known only once assessed) is unmet: at most one per visible chief,
    computed whole and paged here by their order."""
    return page_in_memory(
        reminders,
        key=reminder_key,
        kinds=("int", "text", "text", "int"),
        limit=limit,
        cursor=cursor,
    )
