"""Sign in and out, personal API tokens, and the caller's own account."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from geo_patrol.access.throttle import Attempt
from geo_patrol.accounts import members as accounts
from geo_patrol.api.deps import (
    SESSION_COOKIE,
    CurrentPrincipal,
    ScopeDep,
    SessionDep,
    SettingsDep,
    client_address,
)
from geo_patrol.api.paging import PAGED, PagingDep, link_page
from geo_patrol.api.problems import problem_response
from geo_patrol.api.schemas import (
    Credentials,
    GrantPublic,
    MePublic,
    PasswordChange,
    ScopeSummary,
    SessionPublic,
    TokenCreate,
    TokenInfoPublic,
    TokenPublic,
)
from geo_patrol.core.errors import GeoPatrolError
from geo_patrol.core.settings import Settings
from geo_patrol.core.values import Id

router = APIRouter(prefix="/api/v1", tags=["auth"])
# A browser that signed in before (see access.throttle): not slowed down by others' failures.
KNOWN_COOKIE = "gp_known"


def set_session_cookie(
    response: Response, request: Request, settings: Settings, cookie: str
) -> None:
    """HttpOnly, SameSite=Lax, Secure behind TLS (or as configured)."""
    secure = settings.cookie_secure
    if secure is None:
        secure = request.url.scheme == "https"
    response.set_cookie(
        SESSION_COOKIE,
        cookie,
        max_age=int(settings.session_hours * 3600),
        httponly=True,
        samesite="lax",
        secure=secure,
        path="/",
    )


def set_known_cookie(
    response: Response, request: Request, settings: Settings, cookie: str | None
) -> None:
    """Remember this browser for its member (see access.throttle); HttpOnly, long-lived."""
    if cookie is None:
        return
    secure = settings.cookie_secure
    if secure is None:
        secure = request.url.scheme == "https"
    response.set_cookie(
        KNOWN_COOKIE,
        cookie,
        max_age=settings.known_browser_days * 86400,
        httponly=True,
        samesite="lax",
        secure=secure,
        path="/",
    )


def sign_in_attempt(request: Request, login: str) -> Attempt:
    """The attempt: login, client address and the browser's known-browser cookie."""
    return Attempt(
        login=login, address=client_address(request), known_cookie=request.cookies.get(KNOWN_COOKIE)
    )


@router.post(
    "/auth/login", summary="Sign in; sets the session cookie", response_model=SessionPublic
)
def login(
    body: Credentials,
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
) -> SessionPublic | JSONResponse:
    """Check the password (throttled) and open a web session."""
    signed_in = accounts.authenticate(
        session,
        attempt=sign_in_attempt(request, body.login),
        password=body.password,
        settings=settings,
    )
    if isinstance(signed_in, GeoPatrolError):
        return problem_response(request, signed_in)
    opened = accounts.open_web_session(
        session, member_id=signed_in.member_id, address=client_address(request), settings=settings
    )
    set_session_cookie(response, request, settings, opened.secret)
    set_known_cookie(response, request, settings, signed_in.known_cookie)
    return SessionPublic(member_id=signed_in.member_id, csrf_token=opened.csrf_token or "")


@router.post("/auth/tokens", summary="Get a personal API token", response_model=TokenPublic)
def create_token(
    body: TokenCreate,
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
) -> TokenPublic | JSONResponse:
    """Exchange a login and password for a bearer token (shown once); a browser (the phone
    web app signs in here) is remembered like one that signed in with a session."""
    signed_in = accounts.authenticate(
        session,
        attempt=sign_in_attempt(request, body.login),
        password=body.password,
        settings=settings,
    )
    if isinstance(signed_in, GeoPatrolError):
        return problem_response(request, signed_in)
    token = accounts.issue_api_token(
        session,
        member_id=signed_in.member_id,
        label=body.label,
        days=body.days,
        address=client_address(request),
        scope=body.scope,
    )
    set_known_cookie(response, request, settings, signed_in.known_cookie)
    return TokenPublic(token=token, member_id=signed_in.member_id, scope=body.scope)


@router.get(
    "/auth/tokens",
    summary="My personal API tokens",
    response_model=list[TokenInfoPublic],
    responses=PAGED,
)
def my_tokens(
    request: Request,
    response: Response,
    session: SessionDep,
    principal: CurrentPrincipal,
    paging: PagingDep,
) -> list[TokenInfoPublic]:
    """The caller's personal tokens, newest first, without their secrets; a page at a time
    (Link rel=next)."""
    page = accounts.api_token_page(
        session, member_id=principal.member_id, limit=paging.limit, cursor=paging.cursor
    )
    link_page(request, response, page)
    return [TokenInfoPublic.model_validate(t, from_attributes=True) for t in page.items]


@router.delete("/auth/tokens/{token_id}", summary="Revoke one of my tokens", status_code=204)
def revoke_token(
    token_id: Id, request: Request, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    """Revoke one of the caller's personal tokens at once (a lost laptop's QGIS token)."""
    accounts.revoke_api_token(
        session, principal=principal, token_id=token_id, address=client_address(request)
    )
    return Response(status_code=204)


@router.post("/auth/logout", summary="Sign out this browser", status_code=204)
def logout(request: Request, session: SessionDep, principal: CurrentPrincipal) -> Response:
    """End the web session and clear the cookie."""
    if principal.session_id is not None:
        accounts.close_web_session(session, principal=principal, address=client_address(request))
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/me", summary="Who am I, with my roles and scope", response_model=MePublic)
def me(principal: CurrentPrincipal, scope: ScopeDep) -> MePublic:
    """The caller, their roles and the size of their scope."""
    return MePublic(
        member_id=principal.member_id,
        name=principal.name,
        login=principal.login,
        via=principal.via,
        device_id=principal.device_id,
        roles=[GrantPublic.model_validate(g, from_attributes=True) for g in principal.grants],
        scope=ScopeSummary(
            everything=scope.everything,
            jurisdictions=len(scope.codes),
            zones=sorted(scope.zones),
            teams=sorted(scope.teams),
        ),
    )


@router.post("/me/password", summary="Change my password", status_code=204)
def change_own_password(
    body: PasswordChange, request: Request, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    """Needs the current password; ends the member's other sessions."""
    accounts.check_current_password(
        session, member_id=principal.member_id, password=body.current_password or ""
    )
    accounts.set_password(
        session,
        member_id=principal.member_id,
        password=body.password,
        by=principal,
        address=client_address(request),
    )
    return Response(status_code=204)
