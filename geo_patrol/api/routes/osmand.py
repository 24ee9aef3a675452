"""Live positions over the OsmAnd / Traccar Client HTTP protocol.

The apps expect 200 with an empty body when a position is taken and 400 when the device is
unknown or the request is unusable; they retry on anything else, so a server error is a
5xx and the phone keeps its buffer.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from functools import partial

from anyio import to_thread
from fastapi import APIRouter, FastAPI, Request, Response
from sqlalchemy.orm import Session

from geo_patrol.api.deps import SessionDep, SettingsDep
from geo_patrol.errors import GeoPatrolError
from geo_patrol.ingest.osmand import LivePosition, parse_osmand
from geo_patrol.live import record_positions
from geo_patrol.settings import Settings

log = logging.getLogger(__name__)
router = APIRouter(tags=["live"])
METHODS = ["GET", "POST", "PUT"]


async def receive(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    """Parse the request, store its positions, answer as Traccar does."""
    body = await request.body()
    try:
        positions = parse_osmand(
            method=request.method, query=request.url.query, body=body,
            content_type=request.headers.get("content-type"), now=datetime.now(UTC),
        )  # fmt: skip
        # Database work in a worker thread: blocking the event loop would stall every
        # other phone. The connection is taken and given back within that thread, so a
        # request never waits for a thread while holding one (no pool deadlock).
        work = partial(_record_and_commit, session, positions=positions, settings=settings)
        stored = await to_thread.run_sync(work, limiter=request.app.state.live_limiter)
    except GeoPatrolError as error:
        log.info("osmand request refused from %s: %s", request.client, error.detail)
        return Response(status_code=400)
    log.debug("osmand: %d positions, %d new", len(positions), stored)
    return Response(status_code=200)


def _record_and_commit(
    session: Session, *, positions: list[LivePosition], settings: Settings
) -> int:
    """Store the positions and commit in the same worker thread, before answering.

    Left to the session dependency, the commit would wait for another free worker thread
    while the request holds its pooled connection.
    """
    stored = record_positions(session, positions=positions, settings=settings)
    session.commit()
    return stored


for _method in METHODS:
    router.add_api_route(
        "/osmand", receive, methods=[_method], name=f"osmand_{_method.lower()}",
        summary="OsmAnd/Traccar positions",
    )  # fmt: skip
    router.add_api_route(
        "/osmand/", receive, methods=[_method], name=f"osmand_slash_{_method.lower()}",
        include_in_schema=False,
    )  # fmt: skip


def create_osmand_app(main: FastAPI) -> FastAPI:
    """The listener on its own port (5055): the same handler at `/`, sharing the main state."""
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    app.state = main.state
    app.dependency_overrides = main.dependency_overrides
    app.add_api_route("/", receive, methods=METHODS)
    app.add_api_route("/{rest:path}", receive, methods=METHODS)
    return app
