"""The duty page (`/duty`): chiefs' duty, joint pairs, roll-ups and reminders, for people."""

from __future__ import annotations

from typing import Annotated, TypeVar

from fastapi import APIRouter, Depends, Query
from fastapi.responses import HTMLResponse

from geo_patrol.api.deps import CurrentPrincipal, ReadSessionDep, ScopeDep, SettingsDep
from geo_patrol.api.routes.duty import Lang
from geo_patrol.core.catalog import msg
from geo_patrol.core.errors import InvalidInput
from geo_patrol.core.values import Day
from geo_patrol.core.vocabulary import ChiefLevel, DutyStatus
from geo_patrol.duty import listing, rollups
from geo_patrol.duty.assessment import assess_joint
from geo_patrol.duty.reminders import due_soon, reminders_of
from geo_patrol.geography.queries import list_zones
from geo_patrol.meetings.decisions import overdue_decisions
from geo_patrol.web.duty import page

router = APIRouter(tags=["maps"])

E = TypeVar("E", ChiefLevel, DutyStatus)

# The page's form sends "" for "all": an empty filter is no filter.
Text = Annotated[str | None, Query(max_length=200)]


def page_query(
    on: Annotated[Day | None, Query()] = None,
    period: Text = None,
    level: Text = None,
    side: Text = None,
    river: Text = None,
    status: Text = None,
    zone: Text = None,
) -> listing.DutyQuery:
    """The page's filters from the URL; a value that is not one of the choices is refused,
    naming its field."""
    if period not in (None, "", "current", "previous"):
        raise InvalidInput(msg("problem.api.period_choice"), field="period")
    return listing.DutyQuery(
        on=on,
        previous=period == "previous",
        level=_choice(ChiefLevel, level, "level"),
        side=side or None,
        river=river or None,
        zone=zone or None,
        status=_choice(DutyStatus, status, "status"),
    )


def _choice(kind: type[E], value: str | None, field: str) -> E | None:
    """One of an enumeration's values, None for an empty choice."""
    if not value:
        return None
    if value not in {str(v) for v in kind}:
        raise InvalidInput(
            msg("problem.api.choice", field=field, choices=", ".join(kind)), field=field
        )
    return kind(value)


@router.get("/duty", response_class=HTMLResponse, summary="River chiefs' duty as a page")
def duty_page(
    session: ReadSessionDep,
    settings: SettingsDep,
    scope: ScopeDep,
    principal: CurrentPrincipal,
    query: Annotated[listing.DutyQuery, Depends(page_query)],
    lang: Lang = None,
) -> HTMLResponse:
    """Who met, missed or is still on duty, and why each patrol counted or not."""
    day = query.on or listing.today()
    me = principal.member_id
    selected = listing.checked_filter(session, query)
    duties, summary = listing.with_summary(session, scope=scope, member_id=me, query=query)
    shown = page.DutyPage(
        query=query,
        day=day,
        duties=duties,
        pairs=assess_joint(
            session,
            scope=scope,
            member_id=me,
            periods=listing.chosen_periods(day=day, previous=query.previous),
            selected=selected,
        ),
        summary=summary,
        # Today's reminders come out of the assessment already made (one statement fewer);
        # a past day's are assessed as of that day.
        reminders=reminders_of(rollups.current_of(summary.duties, day), today=day)
        if query.on is None
        else due_soon(session, scope=scope, member_id=me, today=day, selected=selected),
        zones=list_zones(session),
        decisions=overdue_decisions(session, scope=scope, member_id=me, today=day),
    )
    return HTMLResponse(page.render(shown, lang=lang or settings.map_language))
