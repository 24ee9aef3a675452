"""Pure ASGI middleware: a streaming request body cap and security response headers.

Both are plain ASGI (not BaseHTTPMiddleware) so request and response bodies stream through
without being buffered.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass

from fastapi import FastAPI
from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from geo_patrol.api.problems import PROBLEM, problem_lang
from geo_patrol.core.catalog import msg
from geo_patrol.core.errors import GeoPatrolError
from geo_patrol.core.settings import Settings

log = logging.getLogger(__name__)

UPLOAD_PREFIXES: tuple[str, ...] = (
    "/api/v1/patrols",
    "/api/v1/incidents",
    "/open311",
    "/api/v1/chiefs/roster",
)
BODY_SETTING = "GEO_PATROL_MAX_BODY_BYTES"
UPLOAD_SETTING = "GEO_PATROL_MAX_UPLOAD_BYTES"
_DIGITS = re.compile(rb"[0-9]+")

# Known weakness: Folium/Leaflet pages emit inline <script> and <style>, so both need
# 'unsafe-inline'. Scripts should move to per-response nonces (or hashes) later.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self' 'unsafe-inline'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "frame-ancestors 'none'",
        "base-uri 'self'",
        "form-action 'self'",
    )
)
# Pages with no inline script of their own (the API documentation, /docs and /redoc) send
# this instead: the same policy, but scripts only from files of ours. They set it
# themselves; the middleware keeps a policy a response already has.
SCRIPTS_FROM_FILES_ONLY = CONTENT_SECURITY_POLICY.replace(
    "script-src 'self' 'unsafe-inline'", "script-src 'self'"
)
SECURITY_HEADERS: tuple[tuple[str, str], ...] = (
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "same-origin"),
    ("Permissions-Policy", "geolocation=(self), camera=(self)"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
)
HSTS = "max-age=31536000"


class BodyTooLarge(GeoPatrolError):
    """The request body is larger than the configured limit."""

    status = 413
    title_key = "error.content_too_large"


class BadContentLength(GeoPatrolError):
    """The Content-Length header is not a single non-negative integer."""

    status = 400
    title_key = "error.bad_request"


@dataclass(frozen=True)
class _Limit:
    """A body size limit and the environment variable that raises it."""

    size: int
    setting: str

    def error(self) -> BodyTooLarge:
        """The 413 error naming this limit in MB and the setting that raises it."""
        return BodyTooLarge(
            msg(
                "problem.api.body_too_large",
                megabytes=self.size / 1_000_000,
                bytes=self.size,
                setting=self.setting,
            )
        )


@dataclass
class _Cycle:
    """State of one request: bytes received, and whether the limit or the response began."""

    received: int = 0
    exceeded: bool = False
    started: bool = False


def _is_under(path: str, prefixes: Iterable[str]) -> bool:
    """Whether `path` is one of `prefixes` or below one of them."""
    return any(path == p or path.startswith(p.rstrip("/") + "/") for p in prefixes)


def _content_length(scope: Scope) -> int | None:
    """The declared Content-Length, None when absent; ValueError when malformed."""
    values = {v.strip() for k, v in scope["headers"] if k.lower() == b"content-length"}
    if not values:
        return None
    if len(values) > 1 or not _DIGITS.fullmatch(digits := values.pop()):
        raise ValueError("malformed Content-Length")
    return int(digits) if len(digits) <= 18 else sys.maxsize


async def _send_problem(error: GeoPatrolError, scope: Scope, receive: Receive, send: Send) -> None:
    """Answer with `error` as problem+json and ask the client to close the connection (the
    refusal is logged: a phone's upload turned away here never reaches the upload's log)."""
    client = scope.get("client")
    log.warning(
        "%s %s from %s refused (%d %s): %s",
        scope.get("method"),
        scope.get("path"),
        client[0] if client else "?",
        error.status,
        error.title,
        error.detail,
    )
    body = error.problem(instance=scope.get("path"), lang=problem_lang(scope))
    headers = {"Connection": "close"}
    response = JSONResponse(body, error.status, headers=headers, media_type=PROBLEM)
    await response(scope, receive, send)


class BodySizeLimit:
    """Refuse request bodies over a limit (larger for upload paths) with 413 problem+json."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_bytes: int,
        max_upload_bytes: int,
        upload_prefixes: tuple[str, ...] = (),
    ) -> None:
        self.app = app
        self.body = _Limit(max_body_bytes, BODY_SETTING)
        self.upload = _Limit(max_upload_bytes, UPLOAD_SETTING)
        self.upload_prefixes = upload_prefixes

    def limit_for(self, path: str) -> _Limit:
        """The limit that applies to a request path."""
        return self.upload if _is_under(path, self.upload_prefixes) else self.body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check Content-Length up front, then count streamed bytes."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        try:
            declared = _content_length(scope)
        except ValueError:
            error = BadContentLength(msg("problem.api.bad_content_length"))
            await _send_problem(error, scope, receive, send)
            return
        if declared is not None and declared > limit.size:
            await _send_problem(limit.error(), scope, receive, send)
            return
        await self._stream(scope, receive, send, limit)

    async def _stream(self, scope: Scope, receive: Receive, send: Send, limit: _Limit) -> None:
        """Run the app, counting body bytes; answer 413 (or abort) once over the limit."""
        cycle = _Cycle()

        async def counting_receive() -> Message:
            """Receive the next message, refusing once the body is over the limit."""
            if cycle.exceeded:
                raise limit.error()
            message = await receive()
            if message["type"] == "http.request":
                cycle.received += len(message.get("body", b""))
                if cycle.received > limit.size:
                    cycle.exceeded = True
                    raise limit.error()
            return message

        async def guarded_send(message: Message) -> None:
            """Send the app's message unless the limit was exceeded."""
            if cycle.exceeded:
                return  # whatever the app answers after the cap is replaced by our 413
            cycle.started = cycle.started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except Exception:
            if not cycle.exceeded:
                raise
        if cycle.exceeded:
            await self._refuse(scope, receive, send, cycle, limit)

    @staticmethod
    async def _refuse(
        scope: Scope, receive: Receive, send: Send, cycle: _Cycle, limit: _Limit
    ) -> None:
        """Send the 413, or abort the connection when a response has already begun."""
        if cycle.started:
            raise limit.error()  # the server drops the connection mid-response
        await _send_problem(limit.error(), scope, receive, send)


class SecurityHeaders:
    """Add security headers to every HTTP response (CSP on HTML, HSTS over https)."""

    def __init__(self, app: ASGIApp, *, trust_forwarded: bool = False) -> None:
        self.app = app
        self.trust_forwarded = trust_forwarded

    def is_https(self, scope: Scope) -> bool:
        """Whether the client reached us over https (X-Forwarded-Proto only if trusted)."""
        if scope.get("scheme") == "https":
            return True
        if not self.trust_forwarded:
            return False
        forwarded = Headers(scope=scope).get("x-forwarded-proto", "")
        return forwarded.split(",")[0].strip().lower() == "https"

    def add_headers(self, scope: Scope, message: Message) -> None:
        """Set the missing security headers on a response start message."""
        headers = MutableHeaders(scope=message)
        for name, value in SECURITY_HEADERS:
            headers.setdefault(name, value)
        media_type = headers.get("content-type", "").split(";")[0].strip().lower()
        if media_type == "text/html":
            headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        if self.is_https(scope):
            headers.setdefault("Strict-Transport-Security", HSTS)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request through, adding headers to the response start."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            """Add the headers to the response start, then send."""
            if message["type"] == "http.response.start":
                self.add_headers(scope, message)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def install_security(app: FastAPI, settings: Settings) -> None:
    """Add the body size limit and the security headers (outermost, so 413s get them too)."""
    app.add_middleware(
        BodySizeLimit,
        max_body_bytes=settings.max_body_bytes,
        max_upload_bytes=settings.max_upload_bytes,
        upload_prefixes=UPLOAD_PREFIXES,
    )
    app.add_middleware(SecurityHeaders, trust_forwarded=False)
