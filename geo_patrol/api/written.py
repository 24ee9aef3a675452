"""Read-your-writes across replicas: the marker a write leaves with its client.

A phone that uploads a track and then lists its patrols must see the upload, though a replica
may be a moment behind the primary. So when replicas are configured, a successful write
(any method but GET, HEAD, OPTIONS) answers with the primary's WAL position after its commit,
twice: a short-lived HttpOnly cookie (browsers and the phone web app send it back by
themselves) and the header X-Geo-Patrol-Written (API clients may echo it on their reads).
A read that carries the marker goes to a replica only if that replica has replayed up to the
position; otherwise to the primary (db/replicas.py). The cookie lives the lag bound plus one
check: by then every replica in use has replayed the write.
"""

from __future__ import annotations

import math

from fastapi import Request
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from geo_patrol.core.settings import Settings
from geo_patrol.db.replicas import valid_position

WRITTEN_COOKIE = "gp_written"
WRITTEN_HEADER = "X-Geo-Patrol-Written"
# Where get_session leaves the position of the request's write (request.state).
STATE_KEY = "written_position"


def read_after(request: Request) -> str | None:
    """The WAL position the caller wrote last (header first, then cookie), if it sent one."""
    sent = request.headers.get(WRITTEN_HEADER) or request.cookies.get(WRITTEN_COOKIE)
    return valid_position(sent)


class WrittenMarker:
    """Put the position of the request's write (if any) on its response."""

    def __init__(self, app: ASGIApp, *, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self.max_age = math.ceil(settings.replica_max_lag_s + settings.replica_check_s)

    def mark(self, scope: Scope, message: Message) -> None:
        """Add the cookie and the header to a response start when the request wrote."""
        position = scope.get("state", {}).get(STATE_KEY)
        if position is None:
            return
        secure = self.settings.cookie_secure
        if secure is None:
            secure = scope.get("scheme") == "https"
        headers = MutableHeaders(scope=message)
        headers.append(WRITTEN_HEADER, position)
        cookie = f"{WRITTEN_COOKIE}={position}; Max-Age={self.max_age}; Path=/; HttpOnly"
        headers.append("set-cookie", cookie + "; SameSite=lax" + ("; Secure" if secure else ""))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request through, marking its response start."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_marked(message: Message) -> None:
            """Mark the response start, then send."""
            if message["type"] == "http.response.start":
                self.mark(scope, message)
            await send(message)

        await self.app(scope, receive, send_marked)
