"""Members and their roles (administration), read through the caller's scope."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from geo_patrol.accounts import members as accounts
from geo_patrol.api.deps import CurrentPrincipal, ScopeDep, SessionDep, client_address
from geo_patrol.api.paging import PAGED, PagingDep, link_page
from geo_patrol.api.schemas import (
    Created,
    MemberCreate,
    MemberPublic,
    MemberUpdate,
    PasswordChange,
    RoleCreate,
)
from geo_patrol.core.values import Id

router = APIRouter(prefix="/api/v1/members", tags=["members"])


@router.get("", summary="Members in my scope", response_model=list[MemberPublic], responses=PAGED)
def get_members(
    request: Request, response: Response, session: SessionDep, scope: ScopeDep, paging: PagingDep
) -> list[dict[str, Any]]:
    """Members visible to the caller, by id; a page at a time (Link rel=next)."""
    page = accounts.member_page(session, scope=scope, limit=paging.limit, cursor=paging.cursor)
    link_page(request, response, page)
    return page.items


@router.post("", summary="Add a member", status_code=201, response_model=Created)
def post_member(
    body: MemberCreate, request: Request, session: SessionDep, principal: CurrentPrincipal
) -> Created:
    """Create a member, optionally with a login and password."""
    member_id = accounts.create_member(
        session, data=body.model_dump(), by=principal, address=client_address(request)
    )
    return Created(id=member_id)


@router.get("/{member_id}", summary="One member", response_model=MemberPublic)
def get_member(member_id: Id, session: SessionDep, scope: ScopeDep) -> dict[str, Any]:
    """A member in scope; 404 otherwise (same as one that does not exist)."""
    return accounts.get_member(session, scope=scope, member_id=member_id)


@router.patch("/{member_id}", summary="Change a member", status_code=204)
def patch_member(
    member_id: Id,
    body: MemberUpdate,
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> Response:
    """Update the given fields; deactivating ends the member's sessions."""
    accounts.update_member(
        session,
        member_id=member_id,
        data=body.model_dump(exclude_unset=True),
        by=principal,
        address=client_address(request),
    )
    return Response(status_code=204)


@router.post("/{member_id}/password", summary="Reset a member's password", status_code=204)
def reset_password(
    member_id: Id,
    body: PasswordChange,
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> Response:
    """Set a new password and end the member's web sessions."""
    accounts.set_password(
        session,
        member_id=member_id,
        password=body.password,
        by=principal,
        address=client_address(request),
    )
    return Response(status_code=204)


@router.post("/{member_id}/roles", summary="Give a role", status_code=201, response_model=Created)
def post_role(
    member_id: Id,
    body: RoleCreate,
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> Created:
    """Add a role with its scope."""
    role_id = accounts.add_role(
        session,
        member_id=member_id,
        grant=body.model_dump(),
        by=principal,
        address=client_address(request),
    )
    return Created(id=role_id)


@router.delete("/{member_id}/roles/{role_id}", summary="Take a role away", status_code=204)
def delete_role(
    member_id: Id,
    role_id: Id,
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> Response:
    """Remove one role."""
    accounts.remove_role(
        session,
        member_id=member_id,
        role_id=role_id,
        by=principal,
        address=client_address(request),
    )
    return Response(status_code=204)
