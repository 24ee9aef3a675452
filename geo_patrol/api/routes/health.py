"""Liveness and database health."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from geo_patrol import __version__
from geo_patrol.api.deps import SessionDep
from geo_patrol.api.schemas import Health
from geo_patrol.db.engine import database_versions

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health)
def healthz(request: Request, session: SessionDep) -> dict[str, Any]:
    """Whether the database answers, with its PostgreSQL and PostGIS versions; 503 saying
    what is wrong (cannot connect, does not answer, no free connection) when it does not."""
    versions = database_versions(session, pool=request.app.state.engine.pool)
    request.app.state.database_outage.succeeded()
    return {"status": "ok", "version": __version__, **versions}
