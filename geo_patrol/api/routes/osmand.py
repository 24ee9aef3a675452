"""Live positions over the OsmAnd / Traccar Client HTTP protocol.

The apps expect 200 with an empty body when a position is taken and 400 when the device is
unknown or the request is unusable; they retry on anything else, so a server error is a
5xx and the phone keeps its buffer. The same `answer` serves `/osmand` on the main app and
the listener on its own port (5055), which is a bare ASGI callable: a phone sends a
position every second or so, and the framework's routing and dependencies would cost more
than parsing and storing it.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from starlette.datastructures import State
from starlette.types import Receive, Scope, Send

from geo_patrol.api.openapi import REFUSALS
from geo_patrol.core.errors import GeoPatrolError
from geo_patrol.patrols.live.osmand import parse_osmand
from geo_patrol.patrols.live.writer import LiveWriter, StoreFailed

log = logging.getLogger(__name__)
router = APIRouter(tags=["live"])
METHODS = ["GET", "POST", "PUT"]
EMPTY_LENGTH = [(b"content-length", b"0")]


async def answer(
    writer: LiveWriter,
    *,
    method: str,
    query: str,
    body: bytes,
    content_type: str | None,
    client: Any,
) -> int:
    """Parse one request, store its positions (committed), and return the status to answer."""
    try:
        positions = parse_osmand(
            method=method, query=query, body=body, content_type=content_type, now=datetime.now(UTC)
        )
        await writer.store(positions)
    except StoreFailed:
        return 503
    except GeoPatrolError as error:
        log.info("osmand request refused from %s: %s", client, error.detail)
        return 400
    return 200


async def receive(request: Request) -> Response:
    """`/osmand` on the main app: answer as Traccar does."""
    status = await answer(
        request.app.state.live_writer,
        method=request.method,
        query=request.url.query,
        body=await request.body(),
        content_type=request.headers.get("content-type"),
        client=request.client,
    )
    return Response(status_code=status)


# The apps read the status alone: empty answers (a parameter holding text PostgreSQL cannot
# store is refused before, as everywhere, with a problem).
ANSWERS: dict[int | str, dict[str, Any]] = {
    200: {"description": "Stored (an empty answer, as the apps expect)"},
    400: {"description": "Not a position report: an empty answer"},
    422: REFUSALS[422],
    503: {"description": "The positions cannot be stored now: an empty answer, send again"},
}

for _method in METHODS:
    router.add_api_route(
        "/osmand",
        receive,
        methods=[_method],
        name=f"osmand_{_method.lower()}",
        summary="OsmAnd/Traccar positions",
        response_class=Response,
        responses=ANSWERS,
    )
    router.add_api_route(
        "/osmand/",
        receive,
        methods=[_method],
        name=f"osmand_slash_{_method.lower()}",
        include_in_schema=False,
    )


class OsmandListener:
    """The listener on its own port: any method and path, sharing the main app's writer."""

    def __init__(self, state: State, max_body_bytes: int) -> None:
        self.state = state
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer one HTTP request (uvicorn runs this app without a lifespan)."""
        if scope["type"] != "http":
            return
        body = await self._body(receive)
        if body is None:
            status = 413  # (or nobody is listening any more)
        else:
            status = await answer(
                self.state.live_writer,
                method=scope["method"],
                query=scope["query_string"].decode("latin-1"),
                body=body,
                content_type=_header(scope, b"content-type"),
                client=scope.get("client"),
            )
        await send({"type": "http.response.start", "status": status, "headers": EMPTY_LENGTH})
        await send({"type": "http.response.body", "body": b""})

    async def _body(self, receive: Receive) -> bytes | None:
        """The whole request body; None when it is larger than allowed or the phone left."""
        parts: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return None
            part = message.get("body", b"")
            size += len(part)
            if size > self.max_body_bytes:
                return None
            parts.append(part)
            if not message.get("more_body", False):
                return b"".join(parts)


def _header(scope: Scope, name: bytes) -> str | None:
    """The value of a request header (names are lower-case in ASGI), or None."""
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


def create_osmand_app(main: FastAPI) -> OsmandListener:
    """The listener on its own port (5055), sharing the main app's state and writer."""
    return OsmandListener(main.state, main.state.settings.max_body_bytes)
