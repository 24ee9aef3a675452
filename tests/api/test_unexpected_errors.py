"""An unexpected error is still problem+json, logged with its traceback under an error id
that the answer carries, and the client's keep-alive connection survives it (a real server:
uvicorn drops the connection when an error escapes the application)."""

from __future__ import annotations

import http.client
import json
from urllib.parse import urlsplit

import pytest
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from geo_patrol.api.app import create_app
from geo_patrol.core.settings import Settings
from tests.support.live_server import serving


def _broken(request: Request) -> Response:
    """A handler with a fault of ours."""
    raise RuntimeError("a fault of ours")


def test_an_unexpected_error_is_problem_json_with_a_logged_id_on_a_kept_connection(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(Settings(database_url=database_url, maintenance_seconds=0, osmand_port=None))
    app.router.routes.append(Route("/test-broken", _broken))
    with serving(app) as base:
        connection = http.client.HTTPConnection(urlsplit(base).netloc, timeout=10)
        connection.request("GET", "/test-broken")
        answer = connection.getresponse()
        problem = json.loads(answer.read())
        assert (
            answer.status == 500 and answer.getheader("content-type") == "application/problem+json"
        )
        assert answer.getheader("connection") != "close"
        assert problem["status"] == 500 and problem["error_id"] in problem["detail"]
        kept = connection.sock
        connection.request("GET", "/healthz")  # on the same connection
        again = connection.getresponse()
        assert again.status == 200 and json.loads(again.read())["status"] == "ok"
        assert connection.sock is kept
        connection.close()
    logged = [r for r in caplog.records if problem["error_id"] in r.getMessage()]
    assert len(logged) == 1 and logged[0].exc_info is not None
    assert "a fault of ours" in str(logged[0].exc_info[1])
