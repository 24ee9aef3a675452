"""Teams, devices and the audit log."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from geo_patrol.accounts import members as accounts
from geo_patrol.accounts import teams as organisation
from geo_patrol.api.deps import CurrentPrincipal, ScopeDep, SessionDep, client_address
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


@router.get("/teams", summary="Teams in my scope", tags=["teams"], response_model=list[TeamPublic])
def get_teams(session: SessionDep, scope: ScopeDep) -> list[dict[str, Any]]:
    """Teams visible to the caller."""
    return organisation.list_teams(session, scope=scope)


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
)
def get_devices(
    session: SessionDep, scope: ScopeDep, principal: CurrentPrincipal
) -> list[dict[str, Any]]:
    """Own devices; a lead's team members' devices; all for admins."""
    return organisation.list_devices(session, scope=scope, principal=principal)


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


@router.get("/audit", summary="The audit log", tags=["audit"], response_model=list[AuditEntry])
def get_audit(
    session: SessionDep,
    action: str | None = None,
    member_id: Id | None = None,
    since: Moment | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[dict[str, Any]]:
    """Entries newest first, filtered by action, member and time."""
    return organisation.list_audit(
        session, action=action, member_id=member_id, since=since, limit=limit
    )
