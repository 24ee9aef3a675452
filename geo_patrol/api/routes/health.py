"""Liveness and database health."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlalchemy import text

from geo_patrol import __version__
from geo_patrol.api.deps import SessionDep

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz(session: SessionDep) -> dict[str, Any]:
    """Whether the database answers, with its PostgreSQL and PostGIS versions."""
    row = session.execute(
        text("SELECT current_setting('server_version') AS pg, postgis_lib_version() AS postgis")
    ).one()
    return {"status": "ok", "version": __version__, "postgresql": row.pg, "postgis": row.postgis}
