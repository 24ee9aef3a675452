"""Prometheus metrics of this process, for administrators (a scraper with an admin token)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST

from geo_patrol.api.openapi import text_answer

router = APIRouter(tags=["operations"])


@router.get(
    "/metrics",
    summary="Prometheus metrics of the process that answers",
    response_class=Response,
    responses=text_answer("text/plain", description="The Prometheus text exposition"),
)
def metrics(request: Request) -> Response:
    """The text exposition of the app's figures (all workers' when there are several)."""
    return Response(request.app.state.metrics.exposition(), media_type=CONTENT_TYPE_LATEST)
