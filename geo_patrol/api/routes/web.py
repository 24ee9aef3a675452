"""The sign-in page for browsers (zh-CN by default, English with ?lang=en; templates/login.html)."""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from geo_patrol.accounts import members as accounts
from geo_patrol.api.deps import (
    SESSION_COOKIE,
    FormPrincipal,
    SessionDep,
    SettingsDep,
    client_address,
)
from geo_patrol.api.routes.auth import set_known_cookie, set_session_cookie, sign_in_attempt
from geo_patrol.core import catalog
from geo_patrol.core.catalog import msg
from geo_patrol.core.errors import Forbidden, GeoPatrolError
from geo_patrol.core.vocabulary import Language
from geo_patrol.web.render import render

router = APIRouter(tags=["pages"])

# Before sign-in there is no session to hold a CSRF token: the form carries a random token
# that must equal the one in a short-lived cookie (double submit), so another site cannot
# post the form with the victim's browser.
LOGIN_CSRF_COOKIE = "gp_login_csrf"


def _safe_next(target: str) -> str:
    """Only same-site paths, so the form cannot be used to redirect elsewhere.

    Backslashes and control characters are refused outright: browsers read `/\\host` as
    `//host`, and drop tabs and newlines (`/<TAB>/host`), whatever the server encodes today.
    """
    refused = "\\" in target or any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in target)
    if refused or not target.startswith("/") or target.startswith("//"):
        return "/map"
    return target


def _page(lang: str, next_path: str, error: str = "", status: int = 200) -> HTMLResponse:
    """The sign-in form with a fresh double-submit token."""
    csrf = secrets.token_urlsafe(24)
    html = render("login.html", lang=lang, csrf=csrf, next=_safe_next(next_path), error=error)
    response = HTMLResponse(html, status_code=status)
    response.set_cookie(LOGIN_CSRF_COOKIE, csrf, max_age=3600, httponly=True, samesite="strict")
    return response


@router.get("/login", response_class=HTMLResponse)
def login_page(lang: Language = Language.ZH, next: str = "/map") -> HTMLResponse:
    """The sign-in form."""
    return _page(lang, next)


@router.post(
    "/login",
    response_class=HTMLResponse,
    responses={303: {"description": "Signed in: on to `next`, with the session cookie"}},
)
def login_form(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    login: Annotated[str, Form()],
    password: Annotated[str, Form()],
    csrf_token: Annotated[str, Form()],
    next: Annotated[str, Form()] = "/map",
    lang: Annotated[Language, Form()] = Language.ZH,
) -> Response:
    """Check the double-submit token and the password; then set the session cookie."""
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not cookie or not hmac.compare_digest(cookie, csrf_token):
        raise Forbidden(msg("problem.api.sign_in_form_expired"), field="csrf_token")
    signed_in = accounts.authenticate(
        session, attempt=sign_in_attempt(request, login), password=password, settings=settings
    )
    if isinstance(signed_in, GeoPatrolError):
        wrong = catalog.text("login.wrong_password", lang)
        detail = wrong if signed_in.status == 401 else signed_in.message.text(lang)
        page = _page(lang, next, error=detail, status=signed_in.status)
        if "retry_after" in signed_in.extra:
            page.headers["Retry-After"] = str(signed_in.extra["retry_after"])
        return page
    opened = accounts.open_web_session(
        session, member_id=signed_in.member_id, address=client_address(request), settings=settings
    )
    response = RedirectResponse(_safe_next(next), status_code=303)
    set_session_cookie(response, request, settings, opened.secret)
    set_known_cookie(response, request, settings, signed_in.known_cookie)
    response.delete_cookie(LOGIN_CSRF_COOKIE)
    return response


@router.post(
    "/logout",
    response_class=Response,
    status_code=303,
    responses={303: {"description": "Signed out: on to the sign-in page"}},
)
def logout_form(
    request: Request,
    session: SessionDep,
    principal: FormPrincipal,
) -> Response:
    """Sign out from a page form that carries the session's CSRF token."""
    accounts.close_web_session(session, principal=principal, address=client_address(request))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
