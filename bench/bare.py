"""The framework floor for the report API: a bare FastAPI app doing one INSERT per report.

    GEO_PATROL_DATABASE_URL=... GEO_PATROL_PORT=... python -m bench.bare

`POST /api/v1/incidents` takes the same JSON body as ours (category, severity, lon, lat,
client_id), validates it with a pydantic model, and stores one row shaped like a report
with its point geometry in `bench_bare_reports` (made `LIKE incidents INCLUDING ALL`: the
same columns, defaults, checks and indexes, GiST included, but no rows of ours) in one
transaction of the same SQLAlchemy engine settings, then answers 201 with the id. No sign-in,
no routing, no tier, no duplicates, no audit: what any FastAPI service on this database pays
for one report. Served exactly as `geo-patrol serve` serves ours: the same listening socket
options, uvicorn protocol (with the connection guard), keep-alive, log set-up, `gc.freeze()`
and `GEO_PATROL_WORKERS` forked worker processes. `GET /healthz` answers 200.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import signal
import sys
from collections.abc import Sequence
from datetime import UTC, datetime

import uvicorn
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import Engine, text

from geo_patrol.api.connections import ConnectionGuard, protocol_for
from geo_patrol.api.server import listening_socket
from geo_patrol.core.logs import configure_logging
from geo_patrol.core.settings import Settings
from geo_patrol.db.engine import Timeouts, database_url, make_engine

TABLE = "bench_bare_reports"
CREATE = f"CREATE TABLE IF NOT EXISTS {TABLE} (LIKE incidents INCLUDING ALL)"
INSERT = f"""
INSERT INTO {TABLE} (source, client_id, category, severity, reported_at, geom, tier, unrouted)
VALUES ('api', :client_id, :category, :severity, :reported_at,
        ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), 'village', true)
RETURNING id
"""


class BareReport(BaseModel):
    """The report body ours takes (its required fields and the client id)."""

    category: str = Field(max_length=32)
    severity: str = Field(pattern="^(low|medium|high|critical)$")
    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)
    client_id: str | None = Field(default=None, max_length=128)


def create_bare_app(engine: Engine) -> FastAPI:
    """The app: one INSERT per report, a health check."""
    app = FastAPI(title="bare floor")

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/api/v1/incidents", status_code=201)
    def post_report(body: BareReport) -> JSONResponse:
        with engine.begin() as conn:
            new_id = conn.execute(
                text(INSERT), {**body.model_dump(), "reported_at": datetime.now(UTC)}
            ).scalar_one()
        return JSONResponse({"id": new_id, "created": True}, status_code=201)

    return app


def _serve_one(settings: Settings, sock: object) -> None:
    """One worker process: its own engine, the app under uvicorn on the shared socket."""
    engine = make_engine(database_url(settings), Timeouts.of(settings))  # as the service's
    config = uvicorn.Config(
        create_bare_app(engine),
        http=protocol_for(ConnectionGuard.of(settings), quiet=False),
        log_config=None,
        log_level=settings.log_level,
        timeout_keep_alive=settings.http_keepalive_s,
    )
    gc.collect()
    gc.freeze()
    asyncio.run(uvicorn.Server(config).serve(sockets=[sock]))  # type: ignore[list-item]


def main(argv: Sequence[str] | None = None) -> None:
    """Serve the bare app as `geo-patrol serve` serves ours (settings from GEO_PATROL_*)."""
    del argv
    settings = Settings()
    configure_logging(settings)
    engine = make_engine(database_url(settings))
    with engine.begin() as conn:
        conn.execute(text(CREATE))
    engine.dispose()
    sock = listening_socket(settings.host, settings.port)
    if settings.workers == 1:
        _serve_one(settings, sock)
        return
    children = []
    for _ in range(settings.workers):
        pid = os.fork()
        if pid == 0:
            _serve_one(settings, sock)
            sys.exit(0)
        children.append(pid)

    def forward(signum: int, _frame: object) -> None:
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signum)

    signal.signal(signal.SIGINT, forward)
    signal.signal(signal.SIGTERM, forward)
    for pid in children:
        os.waitpid(pid, 0)


if __name__ == "__main__":
    main(sys.argv[1:])
