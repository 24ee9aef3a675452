"""The duty list as the API and the page ask for it: filters checked and named, the period
chosen (the one containing a day, or the one before), statuses kept, the reasons in words,
and text made safe for a spreadsheet (the list as a file is geo_patrol.exports).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_patrol.access.scope import Scope
from geo_patrol.core import catalog
from geo_patrol.core.catalog import msg
from geo_patrol.core.errors import InvalidInput
from geo_patrol.core.paging import Page
from geo_patrol.core.vocabulary import CandidateReason, ChiefLevel, DutyStatus
from geo_patrol.duty import rollups
from geo_patrol.duty.assessment import (
    Candidate,
    ChiefDuty,
    DutyFilter,
    assess_chiefs_page,
    current_periods,
)
from geo_patrol.duty.periods import Period, local_date, recent_periods
from geo_patrol.geography.queries import current_names, zone_id_of

RIVER = "SELECT code FROM rivers WHERE code = :river OR name = :river ORDER BY code = :river DESC"


@dataclass(frozen=True)
class DutyQuery:
    """What a reader asks for, as given (codes and names unchecked)."""

    on: date | None = None
    previous: bool = False
    level: ChiefLevel | None = None
    side: str | None = None
    river: str | None = None
    chief: int | None = None
    zone: str | None = None
    status: DutyStatus | None = None


def checked_filter(session: Session, query: DutyQuery) -> DutyFilter:
    """The assessment's filter, each code checked: an unknown side, river or zone is an
    InvalidInput naming its field (a filter that can match nothing is a typing error)."""
    if query.side and not current_names(session, codes=[query.side]):
        raise InvalidInput(msg("problem.duty.no_jurisdiction", code=query.side), field="side")
    river = None
    if query.river:
        river = session.execute(text(RIVER), {"river": query.river}).scalar()
        if river is None:
            raise InvalidInput(msg("problem.duty.no_river", river=query.river), field="river")
    zone_id = zone_id_of(session, query.zone)
    if query.zone and zone_id is None:
        raise InvalidInput(msg("problem.duty.no_zone", zone=query.zone), field="zone")
    return DutyFilter(
        level=query.level, side=query.side, river=river, chief=query.chief, zone_id=zone_id
    )


def chosen_periods(*, day: date, previous: bool = False, count: int = 1) -> list[Period]:
    """The periods of every kind containing `day` (or those before them), with the `count`
    - 1 periods before each."""
    last = current_periods(day)
    if previous:
        last = [period.previous() for period in last]
    return [p for period in last for p in recent_periods(period.kind, period.first, count)]


def today() -> date:
    """Today, local time (CST)."""
    return local_date(datetime.now(UTC))


def list_duties(
    session: Session,
    *,
    scope: Scope,
    member_id: int | None,
    query: DutyQuery,
    count: int = 1,
    now: datetime | None = None,
) -> list[ChiefDuty]:
    """Each visible chief's duty in the chosen period (or the last `count` of them), with
    the asked status only."""
    return duty_page(
        session,
        scope=scope,
        member_id=member_id,
        query=query,
        count=count,
        now=now,
        limit=None,
    ).items


def duty_page(
    session: Session,
    *,
    scope: Scope,
    member_id: int | None,
    query: DutyQuery,
    count: int = 1,
    now: datetime | None = None,
    limit: int | None,
    cursor: str | None = None,
) -> Page[ChiefDuty]:
    """A page of `list_duties`, cut by the assessment's statement. The status is known only
    once assessed, so with a status filter a page may hold fewer than `limit` duties (its
    Link still says whether more follow)."""
    now = now or datetime.now(UTC)
    day = query.on or local_date(now)
    page = assess_chiefs_page(
        session,
        scope=scope,
        member_id=member_id,
        periods=chosen_periods(day=day, previous=query.previous, count=count),
        selected=checked_filter(session, query),
        now=now,
        limit=limit,
        cursor=cursor,
    )
    kept = [d for d in page.items if query.status is None or d.status is query.status]
    return Page(kept, page.next_cursor)


def with_summary(
    session: Session,
    *,
    scope: Scope,
    member_id: int | None,
    query: DutyQuery,
    periods: int = rollups.DEFAULT_TREND_PERIODS,
) -> tuple[list[ChiefDuty], rollups.DutySummary]:
    """The list and the roll-ups of the same chiefs (as the page shows them): the current
    periods' list comes out of the trend's assessment (one statement for both); the
    previous periods' is assessed on its own."""
    day = query.on or today()
    summary = rollups.summarise(
        session,
        scope=scope,
        member_id=member_id,
        day=day,
        periods=periods,
        selected=checked_filter(session, query),
    )
    if query.previous:
        duties = list_duties(session, scope=scope, member_id=member_id, query=query)
    else:
        duties = rollups.current_of(summary.duties, day)
    return [d for d in duties if query.status is None or d.status is query.status], summary


def percent(share: float) -> str:
    """A share as people read it: 12%, 0.5% under 1%."""
    value = share * 100
    return f"{value:.1f}%" if 0 < value < 1 else f"{value:.0f}%"


def reason_words(candidate: Candidate, *, duty: ChiefDuty | None, lang: str) -> str:
    """Why a patrol counted or not, in words: 覆盖不足 12% < 30%, 不计入的标记 too_fast."""
    reason = candidate.reason
    word = catalog.text(f"duty.reason_{reason}", lang)
    if reason is CandidateReason.DISQUALIFIED:
        return f"{word} {', '.join(flag_words(f, lang) for f in candidate.disqualified_by)}"
    if reason is CandidateReason.TOO_LITTLE and duty is not None:
        needed = f"{percent(candidate.share)} < {percent(duty.min_share)}"
        if duty.min_length_m is not None:
            needed += " " + catalog.text(
                "duty.and_length", lang, got=round(candidate.covered_m), need=duty.min_length_m
            )
        return f"{word} {needed}"
    return word


def flag_words(flag: str, lang: str) -> str:
    """A quality flag in words and as its code: 超速 too_fast (the code alone if unnamed)."""
    key = f"duty.flag_{flag}"
    return f"{catalog.text(key, lang)} {flag}" if key in catalog.catalog() else flag


def formula_safe(value: object) -> object:
    """A text cell a spreadsheet would run as a formula (=, +, -, @ first) starts with a
    quote instead: names come from rosters and sign-ups."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
