"""The joint meetings' pages: a zone's meetings, preparing one from the proposed agenda,
recording it (attendees, minutes, decisions with owners on both sides, held, the pack kept),
and following its decisions up. Page forms post here with the session's CSRF token in their
body (FormPrincipal); each answers 303 back to its page, or the page again saying why not."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from geo_patrol.access.principal import Principal
from geo_patrol.access.scope import Scope
from geo_patrol.api.deps import (
    CurrentPrincipal,
    FormPrincipal,
    ReadSessionDep,
    ScopeDep,
    SessionDep,
    SettingsDep,
)
from geo_patrol.core.catalog import msg
from geo_patrol.core.errors import Forbidden, GeoPatrolError, InvalidInput, NotFound
from geo_patrol.core.values import BigId, Day
from geo_patrol.core.vocabulary import DecisionStatus, Language, MeetingStatus
from geo_patrol.meetings import decisions, records
from geo_patrol.meetings.visibility import Zone, may_edit_zone, may_see_zone, zone_of
from geo_patrol.web.meetings import decision_pages, forms, meeting_list, meeting_page, packs
from geo_patrol.web.meetings import prepare as prepare_page

router = APIRouter(tags=["maps"])

Lang = Annotated[Language | None, Query()]
Text = Annotated[str | None, Form(max_length=4000)]
Many = Annotated[list[str] | None, Form()]
LongText = Annotated[str | None, Form(max_length=20000)]


def _back(path: str, language: str) -> RedirectResponse:
    """303 to a page after a form was taken."""
    return RedirectResponse(f"{path}?lang={language}", status_code=303)


@router.get("/meetings", response_class=HTMLResponse, summary="A zone's joint meetings as a page")
def meetings(
    session: ReadSessionDep,
    settings: SettingsDep,
    scope: ScopeDep,
    principal: CurrentPrincipal,
    zone: Annotated[str | None, Query(max_length=64)] = None,
    lang: Lang = None,
) -> HTMLResponse:
    """The zone picker, the zone's planned and held meetings with their decisions counted."""
    shown = meeting_list.gather(session, principal=principal, scope=scope, zone_code=zone or None)
    return HTMLResponse(meeting_list.render(shown, lang=lang or settings.map_language))


def _prepare(session: SessionDep, principal: Principal, scope: Scope, zone_code: str) -> Zone:
    """The zone of a meeting being prepared, if the caller may prepare its meetings (a zone
    they do not see is one that is not: 404; seen but not theirs to prepare: 403)."""
    zone = zone_of(session, code=zone_code)
    if not may_see_zone(scope, zone):
        raise NotFound(msg("problem.meetings.no_zone", zone=zone_code), field="zone")
    if not may_edit_zone(principal, scope, zone):
        raise Forbidden(msg("problem.page.meetings.may_not_edit"))
    return zone


@router.get(
    "/meetings/new",
    response_class=HTMLResponse,
    summary="Prepare a joint meeting from the proposed agenda (a page)",
)
def new_meeting(
    session: SessionDep,
    settings: SettingsDep,
    scope: ScopeDep,
    principal: CurrentPrincipal,
    zone: Annotated[str, Query(max_length=64)],
    date_from: Annotated[Day | None, Query(alias="from")] = None,
    date_to: Annotated[Day | None, Query(alias="to")] = None,
    lang: Lang = None,
) -> HTMLResponse:
    """The form: the period's proposed agenda all ticked, attendees per side."""
    language: str = lang or settings.map_language
    chosen = _prepare(session, principal, scope, zone)
    if date_from and date_to and date_to < date_from:
        raise InvalidInput(msg("problem.core.period_reversed"), field="to")
    form = prepare_page.blank(
        session,
        principal=principal,
        scope=scope,
        zone=chosen,
        start=date_from,
        end=date_to,
        lang=language,
    )
    sides = prepare_page.side_list(session, zone=chosen)
    page = prepare_page.render(
        form, zone=chosen, sides=sides, csrf=principal.csrf_token, lang=language
    )
    return HTMLResponse(page)


def new_meeting_form(
    zone: Annotated[str, Form(max_length=64)],
    title: Text = None,
    held_at: Annotated[str | None, Form(max_length=64)] = None,
    place: Text = None,
    period_from: Annotated[str | None, Form(max_length=64)] = None,
    period_to: Annotated[str | None, Form(max_length=64)] = None,
    attendee: Many = None,
    attendee_side: Many = None,
    attendee_names: Many = None,
    item: Many = None,
    item_kind: Many = None,
    item_target: Many = None,
    item_title: Many = None,
    item_detail: Many = None,
    item_link: Many = None,
    free_items: Text = None,
) -> prepare_page.NewMeeting:
    """The preparation form as sent."""
    return prepare_page.NewMeeting(
        zone=zone,
        title=title or "",
        held_at=held_at or "",
        place=place or "",
        period_from=period_from or "",
        period_to=period_to or "",
        attendees=attendee or [],
        name_sides=attendee_side or [],
        names=attendee_names or [],
        kinds=item_kind or [],
        targets=item_target or [],
        titles=item_title or [],
        details=item_detail or [],
        links=item_link or [],
        picks=item or [],
        free=free_items or "",
    )


@router.post(
    "/meetings",
    response_class=HTMLResponse,
    summary="Create a joint meeting with its adopted agenda (the preparation page's form)",
)
def create_meeting(
    session: SessionDep,
    settings: SettingsDep,
    scope: ScopeDep,
    principal: FormPrincipal,
    form: Annotated[prepare_page.NewMeeting, Depends(new_meeting_form)],
    lang: Lang = None,
) -> Response:
    """The meeting is created (then its page), or the form again with what was typed."""
    language: str = lang or settings.map_language
    zone = _prepare(session, principal, scope, form.zone)
    sides = prepare_page.side_list(session, zone=zone)
    try:
        with session.begin_nested():
            fields = prepare_page.parse(form, sides=sides)
            meeting_id = records.create_meeting(session, principal=principal, scope=scope, **fields)
    except GeoPatrolError as error:
        page = prepare_page.render(
            form,
            zone=zone,
            sides=sides,
            csrf=principal.csrf_token,
            lang=language,
            error=error.message.text(language),
        )
        return HTMLResponse(page, status_code=error.status)
    return _back(f"/meetings/{meeting_id}", language)


@router.get(
    "/meetings/{meeting_id}",
    response_class=HTMLResponse,
    summary="One joint meeting as a page: agenda, attendees, minutes, decisions",
)
def meeting(
    meeting_id: BigId,
    session: ReadSessionDep,
    settings: SettingsDep,
    scope: ScopeDep,
    principal: CurrentPrincipal,
    lang: Lang = None,
) -> HTMLResponse:
    """The meeting, with the forms that record it for those who may edit it."""
    shown = meeting_page.gather(session, principal=principal, scope=scope, meeting_id=meeting_id)
    page = meeting_page.render(shown, csrf=principal.csrf_token, lang=lang or settings.map_language)
    return HTMLResponse(page)


def _record(
    session: SessionDep,
    *,
    principal: Principal,
    scope: Scope,
    meeting_id: int,
    language: str,
    write: Callable[[meeting_page.MeetingPage], object],
) -> Response:
    """Run one of the meeting page's forms: 303 back, or the page saying why not."""
    shown = meeting_page.gather(session, principal=principal, scope=scope, meeting_id=meeting_id)
    try:
        with session.begin_nested():
            write(shown)
    except GeoPatrolError as error:
        shown = meeting_page.gather(
            session, principal=principal, scope=scope, meeting_id=meeting_id
        )
        page = meeting_page.render(
            shown, csrf=principal.csrf_token, lang=language, error=error.message.text(language)
        )
        return HTMLResponse(page, status_code=error.status)
    return _back(f"/meetings/{meeting_id}", language)


@router.post(
    "/meetings/{meeting_id}/attendees",
    response_class=HTMLResponse,
    summary="Set a meeting's attendees (the meeting page's form)",
)
def meeting_attendees(
    meeting_id: BigId,
    session: SessionDep,
    settings: SettingsDep,
    scope: ScopeDep,
    principal: FormPrincipal,
    attendee: Many = None,
    attendee_side: Many = None,
    attendee_names: Many = None,
    lang: Lang = None,
) -> Response:
    """Members ticked and names typed per side replace the attendees."""

    def write(shown: meeting_page.MeetingPage) -> None:
        chosen = forms.attendees(
            members=attendee or [],
            names=attendee_names or [],
            name_sides=attendee_side or [],
            sides={side.code for side in shown.sides},
        )
        records.set_attendees(
            session, principal=principal, scope=scope, meeting_id=meeting_id, attendees=chosen
        )

    return _record(
        session,
        principal=principal,
        scope=scope,
        meeting_id=meeting_id,
        language=lang or settings.map_language,
        write=write,
    )


@router.post(
    "/meetings/{meeting_id}/minutes",
    response_class=HTMLResponse,
    summary="Save a meeting's minutes (the meeting page's form)",
)
def meeting_minutes(
    meeting_id: BigId,
    session: SessionDep,
    settings: SettingsDep,
    scope: ScopeDep,
    principal: FormPrincipal,
    minutes: LongText = None,
    lang: Lang = None,
) -> Response:
    """The minutes as typed (empty: none)."""

    def write(_: meeting_page.MeetingPage) -> None:
        records.update_meeting(
            session,
            principal=principal,
            scope=scope,
            meeting_id=meeting_id,
            minutes=(minutes or "").strip() or None,
        )

    return _record(
        session,
        principal=principal,
        scope=scope,
        meeting_id=meeting_id,
        language=lang or settings.map_language,
        write=write,
    )


@router.post(
    "/meetings/{meeting_id}/held",
    response_class=HTMLResponse,
    summary="Mark a meeting held (the meeting page's button)",
)
def meeting_held(
    meeting_id: BigId,
    session: SessionDep,
    settings: SettingsDep,
    scope: ScopeDep,
    principal: FormPrincipal,
    lang: Lang = None,
) -> Response:
    """The meeting is held: its decisions are recorded."""

    def write(_: meeting_page.MeetingPage) -> None:
        records.update_meeting(
            session,
            principal=principal,
            scope=scope,
            meeting_id=meeting_id,
            status=MeetingStatus.HELD,
        )

    return _record(
        session,
        principal=principal,
        scope=scope,
        meeting_id=meeting_id,
        language=lang or settings.map_language,
        write=write,
    )


@router.post(
    "/meetings/{meeting_id}/decisions",
    response_class=HTMLResponse,
    summary="Record a decision of a meeting (the meeting page's form)",
)
def meeting_decision(
    meeting_id: BigId,
    session: SessionDep,
    settings: SettingsDep,
    scope: ScopeDep,
    principal: FormPrincipal,
    body: Text = None,
    deadline: Annotated[str | None, Form(max_length=64)] = None,
    owner_side: Many = None,
    owner: Many = None,
    link: Many = None,
    lang: Lang = None,
) -> Response:
    """A decision with its owners per side, deadline and links to the agenda's objects."""

    def write(shown: meeting_page.MeetingPage) -> None:
        offered = {
            (kind, int(target))
            for kind, _, target in (
                o["value"].partition(":") for o in meeting_page.offered_links(shown.meeting)
            )
        }
        decisions.add_decision(
            session,
            principal=principal,
            scope=scope,
            meeting_id=meeting_id,
            body=forms.words(body, "decision", required=True) or "",
            deadline=forms.day(deadline, "deadline"),
            owners=forms.owners(
                sides=owner_side or [],
                members=owner or [],
                known={side.code for side in shown.sides},
            ),
            links=forms.links(link or [], offered=offered),
        )

    return _record(
        session,
        principal=principal,
        scope=scope,
        meeting_id=meeting_id,
        language=lang or settings.map_language,
        write=write,
    )


@router.post(
    "/meetings/{meeting_id}/packs",
    response_class=HTMLResponse,
    summary="Keep the meeting pack shown at a meeting (the meeting page's button)",
)
def meeting_pack(
    meeting_id: BigId,
    session: SessionDep,
    settings: SettingsDep,
    scope: ScopeDep,
    principal: FormPrincipal,
    lang: Lang = None,
) -> Response:
    """The pack of the meeting's zone and period, rendered now and kept with its checksum."""
    language: str = lang or settings.map_language

    def write(_: meeting_page.MeetingPage) -> None:
        packs.keep(
            session,
            principal=principal,
            scope=scope,
            meeting_id=meeting_id,
            settings=settings,
            lang=language,
        )

    return _record(
        session,
        principal=principal,
        scope=scope,
        meeting_id=meeting_id,
        language=language,
        write=write,
    )


@router.get("/decisions", response_class=HTMLResponse, summary="Meetings' decisions to follow up")
def decision_list(
    session: ReadSessionDep,
    settings: SettingsDep,
    scope: ScopeDep,
    principal: CurrentPrincipal,
    status: Annotated[DecisionStatus | None, Query()] = None,
    zone: Annotated[str | None, Query(max_length=64)] = None,
    mine: bool = False,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    lang: Lang = None,
) -> HTMLResponse:
    """Filtered by shown status, zone and mine; overdue ones highlighted."""
    filters = decision_pages.Filters(status=status, zone=zone or None, mine=mine, cursor=cursor)
    page = decision_pages.render_list(
        session,
        principal=principal,
        scope=scope,
        filters=filters,
        lang=lang or settings.map_language,
    )
    return HTMLResponse(page)


@router.get(
    "/decisions/{decision_id}",
    response_class=HTMLResponse,
    summary="One decision as a page: its history, and the update form for its owners",
)
def decision(
    decision_id: BigId,
    session: ReadSessionDep,
    settings: SettingsDep,
    scope: ScopeDep,
    principal: CurrentPrincipal,
    lang: Lang = None,
) -> HTMLResponse:
    """The decision, its history, the update form (owners, owning sides' supervisors)."""
    shown = decision_pages.gather(
        session, principal=principal, scope=scope, decision_id=decision_id
    )
    page = decision_pages.render_one(
        shown, csrf=principal.csrf_token, lang=lang or settings.map_language
    )
    return HTMLResponse(page)


@router.post(
    "/decisions/{decision_id}/updates",
    response_class=HTMLResponse,
    summary="Post an update on a decision (its page's form)",
)
def decision_update(
    decision_id: BigId,
    session: SessionDep,
    settings: SettingsDep,
    scope: ScopeDep,
    principal: FormPrincipal,
    note: Text = None,
    status: Annotated[str | None, Form(max_length=32)] = None,
    deadline: Annotated[str | None, Form(max_length=64)] = None,
    lang: Lang = None,
) -> Response:
    """The update is appended (then back to the decision), or the page says why not."""
    language: str = lang or settings.map_language
    try:
        with session.begin_nested():
            decisions.update_decision(
                session,
                principal=principal,
                scope=scope,
                decision_id=decision_id,
                note=forms.words(note, "note"),
                status=forms.new_status(status),
                deadline=forms.maybe_day(deadline, "new_deadline"),
            )
    except GeoPatrolError as error:
        shown = decision_pages.gather(
            session, principal=principal, scope=scope, decision_id=decision_id
        )
        page = decision_pages.render_one(
            shown, csrf=principal.csrf_token, lang=language, error=error.message.text(language)
        )
        return HTMLResponse(page, status_code=error.status)
    return _back(f"/decisions/{decision_id}", language)
