"""Dependencies shared by the route handlers: settings, session, principal, scope, policy."""

from __future__ import annotations

import base64
import binascii
import hmac
import logging
import re
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Annotated

from fastapi import Depends, FastAPI, Form, Request
from sqlalchemy.orm import Session, sessionmaker

from geo_patrol.access import policy
from geo_patrol.access.principal import (
    Principal,
    from_bearer,
    from_personal_token,
    from_session_cookie,
)
from geo_patrol.access.scope import Scope, scope_of
from geo_patrol.api.written import STATE_KEY, read_after
from geo_patrol.core.catalog import msg
from geo_patrol.core.errors import Forbidden, NotAuthenticated
from geo_patrol.core.settings import Settings
from geo_patrol.db.engine import UNREACHABLE
from geo_patrol.db.outages import short_error
from geo_patrol.db.replicas import ReadReplicas, written_position

log = logging.getLogger(__name__)

SESSION_COOKIE = "gp_session"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Page forms that check the CSRF token in their form body themselves.
FORM_POSTS = re.compile(
    r"/logout|/incidents/\d+/steps|/meetings|/meetings/\d+/(attendees|minutes|decisions|held|packs)"
    r"|/decisions/\d+/updates"
)


def get_settings(request: Request) -> Settings:
    """The settings the app was created with."""
    settings: Settings = request.app.state.settings
    return settings


def get_session(request: Request) -> Iterator[Session]:
    """A session for one request, committed when the handler returns without error (rolled
    back otherwise). A handler may commit earlier to hand its connection back to the pool
    before a long wait (uploads waiting for a parse slot); the session begins again on use.
    With replicas, a write leaves its WAL position for the response (api/written.py)."""
    with request.app.state.sessionmaker() as session:
        yield session
        session.commit()
        if request.method not in SAFE_METHODS and request.app.state.read_replicas is not None:
            _mark_written(request, session)


def _mark_written(request: Request, session: Session) -> None:
    """Keep the primary's WAL position after the request's commit for its response."""
    try:
        setattr(request.state, STATE_KEY, written_position(session))
    except UNREACHABLE as error:
        # The write is stored; only the marker is missing (the next reads may miss it briefly).
        log.warning("no WAL position for the written marker (%s)", short_error(error))


def session_factory(app: FastAPI) -> Callable[[], AbstractContextManager[Session]]:
    """Sessions for work outside a request (the live writer), as get_session gives them:
    a test that swaps get_session for its rolled-back session swaps these too."""
    override = app.dependency_overrides.get(get_session)
    if override is not None:
        return contextmanager(override)
    sessions: sessionmaker[Session] = app.state.sessionmaker
    return sessions


SettingsDep = Annotated[Settings, Depends(get_settings)]
# scope="function": the commit happens before the response is sent, so a client (a phone
# that deletes a buffered position on 200) never hears "stored" for a write that failed.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


def get_read_session(request: Request, session: SessionDep) -> Iterator[Session]:
    """A session for a read-only handler: on a healthy replica that has replayed the caller's
    own last write (api/written.py), else the request's primary session (no replicas
    configured, none healthy, or none caught up). Never for a handler that writes."""
    replicas: ReadReplicas | None = request.app.state.read_replicas
    replica = replicas.session(after=read_after(request)) if replicas is not None else None
    if replica is None:
        yield session
        return
    with replica:
        yield replica


# Routes that only read: map pages and tiles, lists, exports, OGC API, packs, duty. The
# caller's principal and scope still come from the primary (SessionDep): a revoked token or a
# role taken away counts at once.
ReadSessionDep = Annotated[Session, Depends(get_read_session, scope="function")]


def client_address(request: Request) -> str | None:
    """The caller's address as the server saw it."""
    return request.client.host if request.client else None


def get_principal(request: Request, session: SessionDep) -> Principal | None:
    """The caller from a bearer token, HTTP Basic with a personal token as the password, or
    a session cookie; bad credentials are refused."""
    authorization = request.headers.get("authorization", "")
    if authorization:
        scheme, _, credentials = authorization.partition(" ")
        if scheme.lower() == "basic":
            return _from_basic(session, credentials.strip())
        principal = (
            from_bearer(session, token=credentials.strip()) if scheme.lower() == "bearer" else None
        )
        if principal is None:
            raise NotAuthenticated(msg("problem.api.bearer_token_unknown"))
        return principal
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    principal = from_session_cookie(session, cookie=cookie)
    if principal is None:
        return None  # an expired cookie is the same as none: public routes still work
    form_post = FORM_POSTS.fullmatch(request.url.path) is not None
    if request.method not in SAFE_METHODS and not form_post and not _csrf_ok(request, principal):
        raise Forbidden(msg("problem.api.csrf_token_header"))
    return principal


def _from_basic(session: Session, credentials: str) -> Principal:
    """HTTP Basic as QGIS and GDAL send it from their authentication settings: the password
    is a personal token (gpt_..., best a read token), never the account's password; the
    user name, when given, must be the token owner's login."""
    try:
        pair = base64.b64decode(credentials, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise NotAuthenticated(msg("problem.api.basic_not_base64")) from None
    user, colon, password = pair.partition(":")
    if not colon:
        raise NotAuthenticated(msg("problem.api.basic_not_base64")) from None
    principal = from_personal_token(session, token=password)
    if principal is None:
        raise NotAuthenticated(msg("problem.api.basic_token_unknown"))
    if user and user != principal.login:
        raise NotAuthenticated(msg("problem.api.basic_user_not_owner"))
    return principal


def _csrf_ok(request: Request, principal: Principal) -> bool:
    """Cookie-authenticated writes must echo the session's CSRF token in a header."""
    return _matches_session(principal, request.headers.get(CSRF_HEADER, ""))


def _matches_session(principal: Principal, sent: str) -> bool:
    """Whether `sent` is the CSRF token of the principal's web session."""
    return bool(principal.csrf_token) and hmac.compare_digest(sent, principal.csrf_token or "")


MaybePrincipal = Annotated[Principal | None, Depends(get_principal)]


def enforce_policy(request: Request, principal: MaybePrincipal) -> None:
    """Apply the route's entry in the policy table (every API route depends on this)."""
    route = request.scope.get("route")
    path = getattr(route, "path", request.url.path)
    policy.check(policy.rule_for(request.method, path), principal)
    if principal is not None and principal.read_only and request.method not in SAFE_METHODS:
        raise Forbidden(msg("problem.api.read_only_token"))


def get_current(principal: MaybePrincipal) -> Principal:
    """The signed-in caller (routes whose policy is not PUBLIC)."""
    if principal is None:
        raise NotAuthenticated(msg("problem.access.sign_in_required"))
    return principal


CurrentPrincipal = Annotated[Principal, Depends(get_current)]


def get_form_principal(
    principal: CurrentPrincipal, csrf_token: Annotated[str, Form()]
) -> Principal:
    """The signed-in browser behind a page form (FORM_POSTS): the form carries the session's
    CSRF token in its body instead of a header."""
    if not _matches_session(principal, csrf_token):
        raise Forbidden(msg("problem.api.csrf_token"), field="csrf_token")
    return principal


FormPrincipal = Annotated[Principal, Depends(get_form_principal)]


def get_scope(session: SessionDep, principal: CurrentPrincipal) -> Scope:
    """What the caller may read."""
    return scope_of(session, principal)


ScopeDep = Annotated[Scope, Depends(get_scope)]
