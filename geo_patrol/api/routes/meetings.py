"""Joint meetings of a zone and their decisions (议定事项督办): prepare and record a meeting,
record its decisions, follow them up. Who sees and who writes is geo_patrol.meetings's:
callers who do not see a zone's meetings are told 404, those who see but may not write 403."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from geo_patrol.api.deps import CurrentPrincipal, ReadSessionDep, ScopeDep, SessionDep
from geo_patrol.api.list_filters import DecisionFiltersDep
from geo_patrol.api.paging import PAGED, PagingDep, link_page
from geo_patrol.api.schemas import (
    AgendaItemBody,
    Created,
    DecisionCreate,
    DecisionPublic,
    DecisionUpdateCreate,
    MeetingAgendaSet,
    MeetingAttendeeIn,
    MeetingAttendeesSet,
    MeetingCreate,
    MeetingPublic,
    MeetingUpdate,
)
from geo_patrol.core.values import Id
from geo_patrol.meetings import decisions, records

router = APIRouter(prefix="/api/v1", tags=["meetings"])

Zone = Annotated[str | None, Query(max_length=64, description="Cooperation zone code.")]


def today() -> date:
    """Today's local day (CST): deadlines are read against it."""
    return decisions.local_today(datetime.now(UTC))


def decision_query(filters: dict[str, Any], member_id: int) -> dict[str, Any]:
    """The list's filters as list_decisions takes them (`mine`: owned by the caller)."""
    mine = filters["mine"]
    return {
        "zone_code": filters["zone_code"],
        "meeting_id": filters["meeting_id"],
        "status": filters["status"],
        "member_id": member_id if mine else None,
    }


def _attendees(given: list[MeetingAttendeeIn]) -> list[records.AttendeeIn]:
    """The attendees as the domain takes them."""
    return [records.AttendeeIn(**a.model_dump()) for a in given]


def _agenda(given: list[AgendaItemBody]) -> list[records.AgendaItemIn]:
    """The agenda items as the domain takes them."""
    return [records.AgendaItemIn(**item.model_dump()) for item in given]


@router.get(
    "/meetings", summary="Joint meetings I see", response_model=list[MeetingPublic], responses=PAGED
)
def get_meetings(
    request: Request,
    response: Response,
    session: ReadSessionDep,
    scope: ScopeDep,
    paging: PagingDep,
    zone: Zone = None,
) -> list[records.Meeting]:
    """The meetings of the zones the caller sees, newest first, a page at a time."""
    page = records.list_meetings(
        session, scope=scope, zone_code=zone or None, limit=paging.limit, cursor=paging.cursor
    )
    link_page(request, response, page)
    return page.items


@router.post("/meetings", summary="Prepare a meeting", status_code=201, response_model=Created)
def post_meeting(
    body: MeetingCreate, session: SessionDep, scope: ScopeDep, principal: CurrentPrincipal
) -> Created:
    """A meeting of a zone the caller prepares meetings for (a retry answers the same id)."""
    meeting_id = records.create_meeting(
        session,
        principal=principal,
        scope=scope,
        zone_code=body.zone,
        title=body.title,
        held_at=body.held_at,
        place=body.place,
        period_from=body.period_from,
        period_to=body.period_to,
        attendees=_attendees(body.attendees),
        agenda=_agenda(body.agenda),
    )
    return Created(id=meeting_id)


@router.get("/meetings/{meeting_id}", summary="One meeting", response_model=MeetingPublic)
def get_meeting(meeting_id: Id, session: ReadSessionDep, scope: ScopeDep) -> records.Meeting:
    """A meeting with its attendees and agenda; 404 when the caller does not see its zone."""
    return records.get_meeting(session, scope=scope, meeting_id=meeting_id)


@router.patch("/meetings/{meeting_id}", summary="Change a meeting", response_model=MeetingPublic)
def patch_meeting(
    meeting_id: Id,
    body: MeetingUpdate,
    session: SessionDep,
    scope: ScopeDep,
    principal: CurrentPrincipal,
) -> records.Meeting:
    """Write the fields given (title, time, place, period, status, minutes)."""
    records.update_meeting(
        session,
        principal=principal,
        scope=scope,
        meeting_id=meeting_id,
        **body.model_dump(exclude_unset=True),
    )
    return records.get_meeting(session, scope=scope, meeting_id=meeting_id)


@router.put(
    "/meetings/{meeting_id}/attendees", summary="Set the attendees", response_model=MeetingPublic
)
def put_attendees(
    meeting_id: Id,
    body: MeetingAttendeesSet,
    session: SessionDep,
    scope: ScopeDep,
    principal: CurrentPrincipal,
) -> records.Meeting:
    """Replace the attendees (members or guests' names, each for a side of the zone)."""
    records.set_attendees(
        session,
        principal=principal,
        scope=scope,
        meeting_id=meeting_id,
        attendees=_attendees(body.attendees),
    )
    return records.get_meeting(session, scope=scope, meeting_id=meeting_id)


@router.put("/meetings/{meeting_id}/agenda", summary="Set the agenda", response_model=MeetingPublic)
def put_agenda(
    meeting_id: Id,
    body: MeetingAgendaSet,
    session: SessionDep,
    scope: ScopeDep,
    principal: CurrentPrincipal,
) -> records.Meeting:
    """Replace the agenda with the items adopted, in order."""
    records.set_agenda(
        session, principal=principal, scope=scope, meeting_id=meeting_id, agenda=_agenda(body.items)
    )
    return records.get_meeting(session, scope=scope, meeting_id=meeting_id)


@router.post(
    "/meetings/{meeting_id}/decisions",
    summary="Record a decision",
    status_code=201,
    response_model=Created,
)
def post_decision(
    meeting_id: Id,
    body: DecisionCreate,
    session: SessionDep,
    scope: ScopeDep,
    principal: CurrentPrincipal,
) -> Created:
    """A decision with its owners (sides of the zone) and links (a double submit answers the
    decision already recorded)."""
    decision_id = decisions.add_decision(
        session,
        principal=principal,
        scope=scope,
        meeting_id=meeting_id,
        body=body.body,
        deadline=body.deadline,
        owners=[decisions.OwnerIn(o.side_code, o.member_id) for o in body.owners],
        links=[decisions.LinkIn(str(x.kind), x.target_id) for x in body.links],
    )
    return Created(id=decision_id)


@router.get(
    "/decisions",
    summary="Decisions I see, to follow up",
    response_model=list[DecisionPublic],
    responses=PAGED,
)
def get_decisions(
    request: Request,
    response: Response,
    session: ReadSessionDep,
    scope: ScopeDep,
    principal: CurrentPrincipal,
    paging: PagingDep,
    filters: DecisionFiltersDep,
) -> list[decisions.Decision]:
    """By deadline, a page at a time (Link rel=next); owners see their own decisions too."""
    page = decisions.list_decisions(
        session,
        scope=scope,
        **decision_query(filters, principal.member_id),
        viewer_id=principal.member_id,
        today=today(),
        limit=paging.limit,
        cursor=paging.cursor,
    )
    link_page(request, response, page)
    return page.items


@router.get("/decisions/{decision_id}", summary="One decision", response_model=DecisionPublic)
def get_decision(
    decision_id: Id, session: ReadSessionDep, scope: ScopeDep, principal: CurrentPrincipal
) -> decisions.Decision:
    """A decision with its history; 404 when the caller does not see it."""
    return decisions.get_decision(
        session, scope=scope, decision_id=decision_id, today=today(), viewer_id=principal.member_id
    )


@router.post(
    "/decisions/{decision_id}/updates",
    summary="Post an update of a decision",
    status_code=201,
    response_model=DecisionPublic,
)
def post_decision_update(
    decision_id: Id,
    body: DecisionUpdateCreate,
    session: SessionDep,
    scope: ScopeDep,
    principal: CurrentPrincipal,
) -> decisions.Decision:
    """Append a note (and a new status or deadline) to the history; the decision as it now
    stands. Owners, their sides' supervisors and the administrator post; others 403."""
    decisions.update_decision(
        session,
        principal=principal,
        scope=scope,
        decision_id=decision_id,
        note=body.note,
        status=body.status,
        deadline=body.deadline,
    )
    return decisions.get_decision(
        session, scope=scope, decision_id=decision_id, today=today(), viewer_id=principal.member_id
    )
