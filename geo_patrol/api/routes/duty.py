"""River chiefs' duty (巡河考核): each chief's duty in a period, the joint pairs, the roll-ups
and their trend, the reminders, and the list as a spreadsheet."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response

from geo_patrol.api.deps import CurrentPrincipal, ReadSessionDep, ScopeDep, SettingsDep
from geo_patrol.api.duty_answers import chief_duty_public, joint_duty_public, summary_public
from geo_patrol.api.paging import PAGED, PagingDep, link_page
from geo_patrol.api.schemas import (
    ChiefDuties,
    DecisionPublic,
    DutyReminder,
    DutyReminders,
    DutySummaryPublic,
    JointDuties,
)
from geo_patrol.core.values import Day, Id
from geo_patrol.core.vocabulary import ChiefLevel, DutyStatus, Language
from geo_patrol.duty import listing, rollups
from geo_patrol.duty.assessment import assess_joint_page
from geo_patrol.duty.reminders import (
    DEFAULT_WITHIN_DAYS,
    due_soon,
    reminder_page,
)
from geo_patrol.meetings.decisions import overdue_decisions

router = APIRouter(prefix="/api/v1", tags=["duty"])


def duty_query(
    on: Annotated[Day | None, Query(description="Any local day; default today (CST).")] = None,
    period: Annotated[
        Literal["current", "previous"],
        Query(description="The period containing the day, or the one before it."),
    ] = "current",
    level: ChiefLevel | None = None,
    side: Annotated[
        str | None, Query(max_length=32, description="A jurisdiction code: it and below.")
    ] = None,
    river: Annotated[str | None, Query(max_length=200, description="River code or name.")] = None,
    chief: Annotated[Id | None, Query(description="A chief's member id.")] = None,
    zone: Annotated[str | None, Query(max_length=64, description="Cooperation zone code.")] = None,
    status: DutyStatus | None = None,
) -> listing.DutyQuery:
    """The filters shared by the duty routes, as given."""
    return listing.DutyQuery(
        on=on,
        previous=period == "previous",
        level=level,
        side=side or None,
        river=river or None,
        chief=chief,
        zone=zone or None,
        status=status,
    )


QueryDep = Annotated[listing.DutyQuery, Depends(duty_query)]
Lang = Annotated[Language | None, Query(description="Words (labels, reasons): zh or en.")]


@router.get(
    "/duty",
    summary="Each visible chief's duty in a period",
    response_model=ChiefDuties,
    responses=PAGED,
)
def get_duty(
    request: Request,
    response: Response,
    session: ReadSessionDep,
    settings: SettingsDep,
    scope: ScopeDep,
    principal: CurrentPrincipal,
    query: QueryDep,
    paging: PagingDep,
    lang: Lang = None,
) -> ChiefDuties:
    """Required, done, status, each candidate patrol and why; filters as the page's; by
    period, river, level, side and name, a page at a time (Link rel=next)."""
    language = lang or settings.map_language
    page = listing.duty_page(
        session,
        scope=scope,
        member_id=principal.member_id,
        query=query,
        limit=paging.limit,
        cursor=paging.cursor,
    )
    link_page(request, response, page)
    return ChiefDuties(
        on=query.on or listing.today(), duties=[chief_duty_public(d, language) for d in page.items]
    )


@router.get(
    "/duty/joint",
    summary="Joint pairs' duty: patrols both sides were on",
    response_model=JointDuties,
    responses=PAGED,
)
def get_joint_duty(
    request: Request,
    response: Response,
    session: ReadSessionDep,
    settings: SettingsDep,
    scope: ScopeDep,
    principal: CurrentPrincipal,
    query: QueryDep,
    paging: PagingDep,
    lang: Lang = None,
) -> JointDuties:
    """Each visible pair in its period, credited once for a patrol of both sides; by period
    and pair, a page at a time (Link rel=next; with `status`, a page may hold fewer)."""
    day = query.on or listing.today()
    page = assess_joint_page(
        session,
        scope=scope,
        member_id=principal.member_id,
        periods=listing.chosen_periods(day=day, previous=query.previous),
        selected=listing.checked_filter(session, query),
        limit=paging.limit,
        cursor=paging.cursor,
    )
    link_page(request, response, page)
    language = lang or settings.map_language
    kept = [p for p in page.items if query.status is None or p.status is query.status]
    return JointDuties(on=day, pairs=[joint_duty_public(p, language) for p in kept])


@router.get(
    "/duty/summary",
    summary="Share of chiefs meeting duty per side, county, level, zone, river; the trend",
    response_model=DutySummaryPublic,
)
def get_duty_summary(
    session: ReadSessionDep,
    settings: SettingsDep,
    scope: ScopeDep,
    principal: CurrentPrincipal,
    query: QueryDep,
    periods: Annotated[int, Query(ge=1, le=24, description="Periods of each kind.")] = (
        rollups.DEFAULT_TREND_PERIODS
    ),
    lang: Lang = None,
) -> DutySummaryPublic:
    """The current periods rolled up, and the share over the last `periods` of each kind."""
    summary = rollups.summarise(
        session,
        scope=scope,
        member_id=principal.member_id,
        day=query.on,
        periods=periods,
        selected=listing.checked_filter(session, query),
    )
    return summary_public(summary, lang or settings.map_language)


@router.get(
    "/duty/reminders",
    summary="Chiefs whose period ends within a few days with duty unmet",
    response_model=DutyReminders,
    responses=PAGED,
)
def get_duty_reminders(
    request: Request,
    response: Response,
    session: ReadSessionDep,
    settings: SettingsDep,
    scope: ScopeDep,
    principal: CurrentPrincipal,
    query: QueryDep,
    paging: PagingDep,
    within_days: Annotated[int, Query(ge=1, le=92)] = DEFAULT_WITHIN_DAYS,
    lang: Lang = None,
) -> DutyReminders:
    """Soonest first; 0 days left: the period's last day is today; a page at a time (Link
    rel=next). The first page also lists the overdue decisions of joint meetings the caller
    is reminded of (their own, their sides', their zones'), oldest deadline first."""
    day = query.on or listing.today()
    reminders = due_soon(
        session,
        scope=scope,
        member_id=principal.member_id,
        within_days=within_days,
        today=day,
        selected=listing.checked_filter(session, query),
    )
    page = reminder_page(reminders, limit=paging.limit, cursor=paging.cursor)
    link_page(request, response, page)
    language = lang or settings.map_language
    overdue = (
        overdue_decisions(session, scope=scope, member_id=principal.member_id, today=day)
        if paging.cursor is None
        else []
    )
    return DutyReminders(
        on=day,
        within_days=within_days,
        reminders=[
            DutyReminder(days_left=r.days_left, duty=chief_duty_public(r.duty, language))
            for r in page.items
        ],
        decisions=[DecisionPublic.model_validate(d, from_attributes=True) for d in overdue],
    )
