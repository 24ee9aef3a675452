"""River chiefs: appointments (list, history, appoint, end, replace, pair as joint chiefs),
the roster import, and the duty rules. Supervisors write for the sides of their subtree
(checked in geo_patrol.duty); callers read the chiefs their scope shows."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, Request, Response, UploadFile

from geo_patrol.api.deps import CurrentPrincipal, ReadSessionDep, ScopeDep, SessionDep
from geo_patrol.api.paging import PAGED, PagingDep, link_page
from geo_patrol.api.schemas import (
    ChiefCreate,
    ChiefEnd,
    ChiefPublic,
    ChiefReplace,
    Created,
    DutyRulePublic,
    DutyRuleSet,
    JointCreate,
    RosterImportPublic,
)
from geo_patrol.core.values import Day, Id
from geo_patrol.duty import appointments as chiefs
from geo_patrol.duty.roster import import_roster
from geo_patrol.duty.roster_file import MAX_FILE_BYTES
from geo_patrol.duty.rule_rights import set_rule_in_scope
from geo_patrol.duty.rules import RuleSpec, rule_page

router = APIRouter(prefix="/api/v1", tags=["chiefs"])


@router.get(
    "/chiefs",
    summary="River chiefs in my scope",
    response_model=list[ChiefPublic],
    responses=PAGED,
)
def get_chiefs(
    request: Request,
    response: Response,
    session: ReadSessionDep,
    scope: ScopeDep,
    principal: CurrentPrincipal,
    paging: PagingDep,
    river: Annotated[str | None, Query(max_length=64, description="River code.")] = None,
    side: Annotated[str | None, Query(max_length=32, description="Jurisdiction code.")] = None,
    chief: Annotated[Id | None, Query(description="Member id of the chief.")] = None,
    on: Annotated[Day | None, Query(description="In force that day; none: history.")] = None,
) -> list[chiefs.Appointment]:
    """Appointments the caller may see, filtered; the whole history unless `on` is given;
    by river, level, side and start, a page at a time (Link rel=next)."""
    page = chiefs.appointment_page(
        session,
        scope=scope,
        member_id=principal.member_id,
        limit=paging.limit,
        cursor=paging.cursor,
        chief=chief,
        river=river,
        side=side,
        on=on,
    )
    link_page(request, response, page)
    return page.items


@router.post("/chiefs", summary="Appoint a chief", status_code=201, response_model=Created)
def post_chief(
    body: ChiefCreate, session: SessionDep, scope: ScopeDep, principal: CurrentPrincipal
) -> Created:
    """Appoint a member chief of a stretch, at a level, for a side the caller writes for."""
    spec = chiefs.AppointmentSpec(
        member_id=body.member_id,
        level=body.level,
        jurisdiction_code=body.side,
        river_code=body.river,
        valid_from=body.valid_from,
        valid_to=body.valid_to,
        stretch_kind=body.stretch,
        seqs=tuple(body.seqs),
        points=tuple(body.points),
        stretch_label=body.label,
        source="api",
    )
    appointment_id = chiefs.create_appointment(session, spec=spec, scope=scope, by=principal)
    return Created(id=appointment_id)


@router.post(
    "/chiefs/joint", summary="Pair chiefs as joint chiefs", status_code=201, response_model=Created
)
def post_joint(
    body: JointCreate, session: SessionDep, scope: ScopeDep, principal: CurrentPrincipal
) -> Created:
    """A joint appointment (联合河长) of chiefs of two sides sharing a stretch."""
    joint_id = chiefs.create_joint(
        session,
        scope=scope,
        by=principal,
        name=body.name,
        zone_id=body.zone_id,
        appointment_ids=body.appointment_ids,
    )
    return Created(id=joint_id)


@router.post(
    "/chiefs/roster",
    summary="Import a roster (CSV or XLSX)",
    response_model=RosterImportPublic,
    responses={422: {"description": "Bad rows: `errors` lists each {row, field, detail}."}},
)
def post_roster(
    session: SessionDep,
    scope: ScopeDep,
    principal: CurrentPrincipal,
    file: Annotated[UploadFile, File(description="The roster: CSV (UTF-8 or GB18030) or XLSX.")],
    dry_run: Annotated[bool, Form(description="Check and report; store nothing.")] = False,
) -> dict[str, Any]:
    """Every row an appointment, or nothing stored and every bad row named."""
    data = file.file.read(MAX_FILE_BYTES + 1)
    report = import_roster(
        session,
        data=data,
        scope=scope,
        by=principal,
        dry_run=dry_run,
        source=f"roster {file.filename or ''}".strip(),
    )
    return {**asdict(report), "rows": report.rows}


@router.get("/chiefs/{appointment_id}", summary="One appointment", response_model=ChiefPublic)
def get_chief(
    appointment_id: Id, session: ReadSessionDep, scope: ScopeDep, principal: CurrentPrincipal
) -> chiefs.Appointment:
    """An appointment in the caller's scope; 404 otherwise."""
    return chiefs.get_appointment(
        session, scope=scope, member_id=principal.member_id, appointment_id=appointment_id
    )


@router.post(
    "/chiefs/{appointment_id}/end", summary="End an appointment", response_model=ChiefPublic
)
def post_chief_end(
    appointment_id: Id,
    body: ChiefEnd,
    session: SessionDep,
    scope: ScopeDep,
    principal: CurrentPrincipal,
) -> chiefs.Appointment:
    """Its last day is `last_day`; it stays in the history."""
    chiefs.end_appointment(
        session, scope=scope, by=principal, appointment_id=appointment_id, last_day=body.last_day
    )
    return chiefs.get_appointment(
        session, scope=scope, member_id=principal.member_id, appointment_id=appointment_id
    )


@router.post(
    "/chiefs/{appointment_id}/replace",
    summary="A new chief for the same stretch",
    status_code=201,
    response_model=Created,
)
def post_chief_replace(
    appointment_id: Id,
    body: ChiefReplace,
    session: SessionDep,
    scope: ScopeDep,
    principal: CurrentPrincipal,
) -> Created:
    """The successor from `valid_from`; the old appointment ends the day before."""
    new_id = chiefs.replace_appointment(
        session,
        scope=scope,
        by=principal,
        appointment_id=appointment_id,
        member_id=body.member_id,
        valid_from=body.valid_from,
    )
    return Created(id=new_id)


@router.get(
    "/duty/rules", summary="Duty rules", response_model=list[DutyRulePublic], responses=PAGED
)
def get_duty_rules(
    request: Request, response: Response, session: ReadSessionDep, paging: PagingDep
) -> list[dict[str, Any]]:
    """Every rule: the defaults per level, then those per zone, appointment and pair; a
    page at a time (Link rel=next)."""
    page = rule_page(session, limit=paging.limit, cursor=paging.cursor)
    link_page(request, response, page)
    return page.items


@router.put("/duty/rules", summary="Set a duty rule", response_model=Created)
def put_duty_rule(
    body: DutyRuleSet, session: SessionDep, scope: ScopeDep, principal: CurrentPrincipal
) -> Created:
    """Set the rule of a level (administrators), an appointment (its side's supervisors) or a
    joint pair (both sides' supervisors or the zone's coordinator)."""
    spec = RuleSpec(
        period=body.period,
        required=body.required,
        min_share=body.min_share,
        min_length_m=body.min_length_m,
        disqualifying_flags=tuple(body.disqualifying_flags),
    )
    rule_id = set_rule_in_scope(
        session,
        scope=scope,
        by=principal,
        spec=spec,
        level=body.level,
        zone_id=body.zone_id,
        appointment_id=body.appointment_id,
        joint=body.joint,
        joint_id=body.joint_id,
    )
    return Created(id=rule_id)
