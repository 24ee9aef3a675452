"""The HTTP connections of both listeners: slow clients are closed, each address is capped.

uvicorn closes a connection that stays idle between requests (keep-alive timeout), but not
one that sends its request line and headers a byte at a time, nor one that stops in the
middle of a body: such clients held their connections for ever. Here every connection's
request head must arrive within the header timeout (counted from the connection, or from
the first byte of a following request), a body may pause at most the body timeout, and one
client address may hold only so many connections in a process; the next is answered 503 at
once and closed. The per-address cap counts the two listeners together.

The protocol is uvicorn's httptools protocol with these checks added; on port 5055 it writes
no access log (a line per position, holding the device's token), without touching the
shared `uvicorn.access` logger that the main port logs its requests to.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from asyncio import TimerHandle
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from geo_patrol.core import catalog
from geo_patrol.core.settings import Settings

log = logging.getLogger(__name__)
SUMMARY_EVERY_S = 60.0  # closed slow connections are logged as one line a minute at most
_PROBLEM = json.dumps(
    {
        "type": "about:blank",
        "title": catalog.text("error.too_many_connections", "en"),
        "status": 503,
        "detail": "this address has too many open connections; close some and try again",
    }
).encode()
TOO_MANY = (
    b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/problem+json\r\n"
    b"retry-after: 5\r\nconnection: close\r\ncontent-length: %d\r\n\r\n%s"
    % (len(_PROBLEM), _PROBLEM)
)


@dataclass
class ConnectionGuard:
    """Limits shared by the listeners of one process: timeouts, and connections per address."""

    header_timeout_s: float
    body_timeout_s: float
    per_client: int  # 0: no cap
    open: Counter[str] = field(default_factory=Counter)
    closed: Counter[str] = field(default_factory=Counter)  # why, since the last summary
    _summarised: float = field(default_factory=time.monotonic)

    @classmethod
    def of(cls, settings: Settings) -> ConnectionGuard:
        """The limits configured in `settings`."""
        return cls(
            settings.http_header_timeout_s,
            settings.http_body_timeout_s,
            settings.http_connections_per_client,
        )

    def admit(self, address: str) -> bool:
        """Count a new connection of `address`; False (not counted) when over the cap."""
        if self.per_client and self.open[address] >= self.per_client:
            self.note(f"over {self.per_client} connections from one address")
            return False
        self.open[address] += 1
        return True

    def release(self, address: str) -> None:
        """A connection of `address` closed."""
        self.open[address] -= 1
        if self.open[address] <= 0:
            del self.open[address]

    def note(self, reason: str) -> None:
        """Count a connection closed for `reason`; log the counts once a minute at most."""
        self.closed[reason] += 1
        now = time.monotonic()
        if now - self._summarised >= SUMMARY_EVERY_S or sum(self.closed.values()) == 1:
            summary = ", ".join(f"{n} ({why})" for why, n in self.closed.items())
            log.warning("connections closed since the last note: %s", summary)
            self.closed.clear()
            self._summarised = now


class GuardedProtocol(HttpToolsProtocol):
    """uvicorn's HTTP protocol with the guard's timeouts and per-address cap."""

    guard: ConnectionGuard
    quiet = False  # no access log (port 5055)

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        if self.quiet:
            self.access_log = False
        self._address: str | None = None
        self._head: TimerHandle | None = None
        self._body: TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Admit the connection (or answer 503 and close it) and start the header clock."""
        super().connection_made(transport)
        address = self.client[0] if self.client else "?"
        if not self.guard.admit(address):
            transport.write(TOO_MANY)
            transport.close()
            return
        self._address = address
        self._head = self._after(self.guard.header_timeout_s, "request head too slow")

    def connection_lost(self, exc: Exception | None) -> None:
        """Stop the clocks and release the address's place."""
        self._head = _cancel(self._head)
        self._body = _cancel(self._body)
        if self._address is not None:
            self.guard.release(self._address)
            self._address = None
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        """Parse the bytes; a body still arriving gets a fresh pause allowance."""
        super().data_received(data)
        if self._body is not None:
            self._body.cancel()
            self._body = self._after(self.guard.body_timeout_s, "request body stalled")

    def on_message_begin(self) -> None:
        """A following request on the connection: its head has the header timeout too."""
        super().on_message_begin()
        if self._head is None:
            self._head = self._after(self.guard.header_timeout_s, "request head too slow")

    def on_headers_complete(self) -> None:
        """The head arrived in time: now the body (if any) may pause only so long."""
        self._head = _cancel(self._head)
        super().on_headers_complete()
        self._body = self._after(self.guard.body_timeout_s, "request body stalled")

    def on_message_complete(self) -> None:
        """The whole request arrived."""
        self._body = _cancel(self._body)
        super().on_message_complete()

    def _after(self, seconds: float, reason: str) -> TimerHandle:
        """Close the connection for `reason` after `seconds`."""
        return self.loop.call_later(seconds, self._close_slow, reason)

    def _close_slow(self, reason: str) -> None:
        """Close a connection whose client was too slow (not one that waits for us: while
        the app has not taken the body received so far, reading is paused)."""
        if self.flow is not None and self.flow.read_paused and self._body is not None:
            self._body = self._after(self.guard.body_timeout_s, reason)
            return
        self._head = self._body = None
        if not self.transport.is_closing():
            self.guard.note(reason)
            self.transport.close()


def _cancel(timer: TimerHandle | None) -> TimerHandle | None:
    """Cancel a timer if there is one; None, to store in its place."""
    if timer is not None:
        timer.cancel()
    return None


def protocol_for(guard: ConnectionGuard, *, quiet: bool) -> type[GuardedProtocol]:
    """The protocol class of one listener (uvicorn builds one instance per connection)."""
    name = "QuietGuardedProtocol" if quiet else "MainGuardedProtocol"
    return type(name, (GuardedProtocol,), {"guard": guard, "quiet": quiet})
