"""Unit tests for geo_patrol.api.middleware: the streaming body cap and security headers."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import Body, FastAPI, Request, Response
from fastapi.responses import HTMLResponse
from fastapi.testclient import TestClient
from starlette.types import Receive, Scope, Send

from geo_patrol.api.middleware import (
    BODY_SETTING,
    CONTENT_SECURITY_POLICY,
    UPLOAD_SETTING,
    BodySizeLimit,
    BodyTooLarge,
    SecurityHeaders,
    install_security,
)
from geo_patrol.core.settings import Settings

MAX_BODY = 100
MAX_UPLOAD = 1_000


@pytest.fixture
def anyio_backend() -> str:
    """Run the async tests on asyncio only."""
    return "asyncio"


def make_app() -> FastAPI:
    """A tiny app with an echo route, an upload route and HTML routes, wrapped for security."""
    app = FastAPI()

    @app.post("/echo")
    async def echo(request: Request) -> dict[str, int]:
        return {"length": len(await request.body())}

    @app.post("/api/v1/patrols")
    async def patrols(payload: dict[str, Any] = Body()) -> dict[str, int]:
        return {"length": len(str(payload["text"]))}

    @app.get("/page", response_class=HTMLResponse)
    async def page() -> str:
        return "<!doctype html><title>map</title><p>map</p>"

    @app.get("/framed")
    async def framed(response: Response) -> dict[str, bool]:
        response.headers["X-Frame-Options"] = "SAMEORIGIN"
        return {"ok": True}

    install_security(app, Settings(max_body_bytes=MAX_BODY, max_upload_bytes=MAX_UPLOAD))
    return app


@pytest.fixture
def client() -> TestClient:
    """A TestClient over the wrapped app (no database involved)."""
    return TestClient(make_app())


async def chunks(total: int, size: int = 10) -> AsyncIterator[bytes]:
    """Yield `total` bytes in chunks, so httpx sends them chunked without Content-Length."""
    for start in range(0, total, size):
        yield b"x" * min(size, total - start)


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    """Check a problem+json response with `status` and return its body."""
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert {"type", "title", "detail"} <= body.keys()
    return body


def test_body_under_limit_passes(client: TestClient) -> None:
    response = client.post("/echo", content=b"x" * MAX_BODY)
    assert response.status_code == 200
    assert response.json() == {"length": MAX_BODY}


def test_content_length_over_limit_is_413_naming_setting(client: TestClient) -> None:
    body = assert_problem(client.post("/echo", content=b"x" * (MAX_BODY + 1)), 413)
    assert "GEO_PATROL_MAX_BODY_BYTES" in body["detail"]
    assert "0.0001 MB" in body["detail"]
    assert body["instance"] == "/echo"


def test_upload_prefix_uses_upload_limit(client: TestClient) -> None:
    payload = {"text": "y" * (MAX_BODY * 2)}
    response = client.post("/api/v1/patrols", json=payload)
    assert response.status_code == 200
    assert response.json() == {"length": MAX_BODY * 2}


def test_upload_over_limit_names_upload_setting(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    response = client.post("/api/v1/patrols/1/photos", content=b"x" * (MAX_UPLOAD + 1))
    body = assert_problem(response, 413)
    assert "GEO_PATROL_MAX_UPLOAD_BYTES" in body["detail"]
    # Logged for the operator: an upload refused here never reaches the upload's own log.
    refused = [r.getMessage() for r in caplog.records if r.name == "geo_patrol.api.middleware"]
    assert refused == [
        f"POST /api/v1/patrols/1/photos from testclient refused (413 Content "
        f"too large): {body['detail']}"
    ]


def test_prefix_does_not_match_longer_segment() -> None:
    limit = BodySizeLimit(
        make_app(), max_body_bytes=1, max_upload_bytes=2, upload_prefixes=("/open311",)
    )
    assert limit.limit_for("/open311/v2/requests.json").size == 2
    assert limit.limit_for("/open311x").size == 1


@pytest.mark.parametrize("value", ["abc", "-1", "1.5", "10, 10"])
def test_malformed_content_length_is_400(client: TestClient, value: str) -> None:
    response = client.post("/echo", content=b"", headers={"Content-Length": value})
    body = assert_problem(response, 400)
    assert "Content-Length" in body["detail"]


async def post_streamed(app: FastAPI, path: str, total: int) -> httpx.Response:
    """POST `total` bytes as a chunked body (no Content-Length) through ASGITransport."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        return await client.post(path, content=chunks(total))


@pytest.mark.anyio
async def test_streamed_body_under_limit_passes() -> None:
    response = await post_streamed(make_app(), "/echo", MAX_BODY)
    assert response.status_code == 200
    assert response.json() == {"length": MAX_BODY}
    assert "content-length" not in response.request.headers


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("path", "limit", "named", "other"),
    [
        ("/echo", MAX_BODY, BODY_SETTING, UPLOAD_SETTING),
        ("/api/v1/patrols", MAX_UPLOAD, UPLOAD_SETTING, BODY_SETTING),
    ],
)
async def test_streamed_body_over_limit_is_413(
    path: str, limit: int, named: str, other: str
) -> None:
    response = await post_streamed(make_app(), path, limit + 1)
    assert response.request.headers["transfer-encoding"] == "chunked"
    body = assert_problem(response, 413)
    assert named in body["detail"] and other not in body["detail"], body["detail"]
    assert response.headers["x-content-type-options"] == "nosniff"


@pytest.mark.anyio
async def test_streamed_upload_over_the_body_limit_passes() -> None:
    """An upload path counts a chunked body against the upload limit, not the body limit."""
    text = "y" * (MAX_BODY * 5)
    payload = json.dumps({"text": text}).encode()
    assert MAX_BODY < len(payload) <= MAX_UPLOAD

    async def streamed() -> AsyncIterator[bytes]:
        for start in range(0, len(payload), 10):
            yield payload[start : start + 10]

    transport = httpx.ASGITransport(app=make_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        response = await client.post(
            "/api/v1/patrols", content=streamed(), headers={"content-type": "application/json"}
        )
    assert response.request.headers["transfer-encoding"] == "chunked"
    assert response.status_code == 200, response.text
    assert response.json() == {"length": len(text)}


@pytest.mark.anyio
async def test_streamed_over_limit_after_response_started_aborts() -> None:
    async def early_responder(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        while (await receive()).get("more_body"):
            pass
        await send({"type": "http.response.body", "body": b"done"})

    app = BodySizeLimit(early_responder, max_body_bytes=MAX_BODY, max_upload_bytes=MAX_UPLOAD)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        with pytest.raises(BodyTooLarge):
            await client.post("/echo", content=chunks(MAX_BODY + 1))


def test_security_headers_on_json(client: TestClient) -> None:
    response = client.post("/echo", content=b"{}")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "same-origin"
    assert response.headers["permissions-policy"] == "geolocation=(self), camera=(self)"
    assert response.headers["cross-origin-opener-policy"] == "same-origin"
    assert "content-security-policy" not in response.headers


def test_csp_on_html(client: TestClient) -> None:
    response = client.get("/page")
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["x-frame-options"] == "DENY"
    csp = response.headers["content-security-policy"]
    assert csp == CONTENT_SECURITY_POLICY
    assert "frame-ancestors 'none'" in csp
    assert "img-src 'self' data: blob:" in csp


@pytest.mark.parametrize("path", ["/docs", "/redoc", "/docs/oauth2-redirect"])
def test_no_page_is_exempt_from_the_csp(client: TestClient, path: str) -> None:
    """FastAPI's own documentation pages (a CDN's scripts) included: geo-patrol serves its
    own (tests/api/test_api_docs.py), and no path escapes the policy."""
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert response.headers["x-content-type-options"] == "nosniff"


def test_a_page_keeps_a_stricter_policy_of_its_own() -> None:
    app = make_app()

    @app.get("/strict", response_class=HTMLResponse)
    async def strict() -> HTMLResponse:
        policy = {"Content-Security-Policy": "default-src 'none'"}
        return HTMLResponse("<p>strict</p>", headers=policy)

    response = TestClient(app).get("/strict")
    assert response.headers.get_list("content-security-policy") == ["default-src 'none'"]


def test_hsts_only_over_https() -> None:
    app = make_app()
    plain = TestClient(app).get("/page")
    assert "strict-transport-security" not in plain.headers
    secure = TestClient(app, base_url="https://testserver").get("/page")
    assert secure.headers["strict-transport-security"] == "max-age=31536000"


def test_forwarded_proto_ignored_unless_trusted(client: TestClient) -> None:
    response = client.get("/page", headers={"X-Forwarded-Proto": "https"})
    assert "strict-transport-security" not in response.headers


@pytest.mark.anyio
async def test_forwarded_proto_trusted() -> None:
    app = SecurityHeaders(make_app(), trust_forwarded=True)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        response = await client.get("/page", headers={"X-Forwarded-Proto": "https, http"})
    assert response.headers["strict-transport-security"] == "max-age=31536000"


def test_header_set_by_app_not_duplicated(client: TestClient) -> None:
    response = client.get("/framed")
    assert response.headers.get_list("x-frame-options") == ["SAMEORIGIN"]
    assert response.headers.get_list("x-content-type-options") == ["nosniff"]
