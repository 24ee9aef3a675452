"""Teams, devices and the audit log."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from geo_patrol.accounts import members as accounts
from geo_patrol.accounts import teams as organisation
from geo_patrol.api.deps import CurrentPrincipal, ScopeDep, SessionDep, client_address
from geo_patrol.api.paging import PAGED, PagingDep, link_page
from geo_patrol.api.schemas import (
    AuditEntry,
    Created,
    DeviceCreate,
    DeviceIssued,
    DevicePublic,
    TeamCreate,
    TeamMemberAdd,
    TeamPublic,
)
from geo_patrol.core.values import Id, Moment

router = APIRouter(prefix="/api/v1")


@router.get(
    "/teams",
    summary="Teams in my scope",
    tags=["teams"],
    response_model=list[TeamPublic],
    responses=PAGED,
)
def get_teams(
    request: Request, response: Response, session: SessionDep, scope: ScopeDep, paging: PagingDep
) -> list[dict[str, Any]]:
    """Teams visible to the caller, by id; a page at a time (Link rel=next)."""
    page = organisation.team_page(session, scope=scope, limit=paging.limit, cursor=paging.cursor)
    link_page(request, response, page)
    return page.items


@router.post(
    "/teams", summary="Add a team", status_code=201, response_model=Created, tags=["teams"]
)
def post_team(
    body: TeamCreate, request: Request, session: SessionDep, principal: CurrentPrincipal
) -> Created:
    """Create a team, optionally in a zone."""
    team_id = organisation.create_team(
        session,
        name=body.name,
        zone_id=body.zone_id,
        by=principal,
        address=client_address(request),
    )
    return Created(id=team_id)


@router.post(
    "/teams/{team_id}/members", summary="Add a member to a team", status_code=204, tags=["teams"]
)
def post_team_member(
    team_id: Id,
    body: TeamMemberAdd,
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> Response:
    """Put a member in a team."""
    organisation.add_team_member(
        session,
        team_id=team_id,
        member_id=body.member_id,
        role=body.role,
        by=principal,
        address=client_address(request),
    )
    return Response(status_code=204)


@router.get(
    "/devices",
    summary="Devices I may manage",
    tags=["devices"],
    response_model=list[DevicePublic],
    responses=PAGED,
)
def get_devices(
    request: Request,
    response: Response,
    session: SessionDep,
    scope: ScopeDep,
    principal: CurrentPrincipal,
    paging: PagingDep,
) -> list[dict[str, Any]]:
    """Own devices; a lead's team members' devices; all for admins; by id, a page at a
    time (Link rel=next)."""
    page = organisation.device_page(
        session, scope=scope, principal=principal, limit=paging.limit, cursor=paging.cursor
    )
    link_page(request, response, page)
    return page.items


@router.post(
    "/devices",
    summary="Issue a device token",
    status_code=201,
    response_model=DeviceIssued,
    tags=["devices"],
)
def post_device(
    body: DeviceCreate,
    request: Request,
    session: SessionDep,
    scope: ScopeDep,
    principal: CurrentPrincipal,
) -> DeviceIssued:
    """A new device for a member of a team the caller leads (or any, for admins), acting
    only for the teams asked for that the caller may grant (default: all of those)."""
    teams = organisation.device_teams_for(
        session, scope=scope, member_id=body.member_id, requested=body.team_ids
    )
    device_id, token = accounts.issue_device_token(
        session,
        member_id=body.member_id,
        label=body.label,
        team_ids=teams,
        by=principal,
        address=client_address(request),
    )
    return DeviceIssued(id=device_id, token=token, team_ids=teams)


@router.delete("/devices/{device_id}", summary="Revoke a device", status_code=204, tags=["devices"])
def delete_device(
    device_id: Id,
    request: Request,
    session: SessionDep,
    scope: ScopeDep,
    principal: CurrentPrincipal,
) -> Response:
    """Cut the device off at once; it is refused on every endpoint from now on."""
    organisation.revoke_device(
        session,
        device_id=device_id,
        scope=scope,
        principal=principal,
        address=client_address(request),
    )
    return Response(status_code=204)


@router.get(
    "/audit",
    summary="The audit log",
    tags=["audit"],
    response_model=list[AuditEntry],
    responses=PAGED,
)
def get_audit(
    request: Request,
    response: Response,
    session: SessionDep,
    paging: PagingDep,
    action: str | None = None,
    member_id: Id | None = None,
    since: Moment | None = None,
) -> list[dict[str, Any]]:
    """Entries newest first, filtered by action, member and time; a page at a time (Link
    rel=next)."""
    page = organisation.audit_page(
        session,
        action=action,
        member_id=member_id,
        since=since,
        limit=paging.limit,
        cursor=paging.cursor,
    )
    link_page(request, response, page)
    return page.items
