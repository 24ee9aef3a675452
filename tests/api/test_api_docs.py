"""/docs and /redoc: served from local files only, under a CSP without inline scripts (the
browser test in tests/browser/test_api_docs.py renders them with the network blocked)."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from geo_patrol.api.middleware import CONTENT_SECURITY_POLICY

LOCAL = re.compile(r'(?:src|href|spec-url|data-openapi-url)="([^"]*)"')


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_the_docs_pages_load_only_files_of_ours(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    policy = dict(
        part.strip().split(" ", 1)
        for part in response.headers["content-security-policy"].split(";")
    )
    assert policy["script-src"] == "'self'"  # no inline script, no eval, no other origin
    # Otherwise the pages' policy, as every page has it (no exemption).
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY.replace(
        "script-src 'self' 'unsafe-inline'", "script-src 'self'"
    )
    html = response.text
    assert "http://" not in html and "https://" not in html
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "an inline script"
    urls = LOCAL.findall(html)
    assert "/openapi.json" in urls and len(urls) >= 3
    for url in urls:
        assert url.startswith("/") and not url.startswith("//"), url
        assert client.get(url).status_code == 200, url


def test_fastapis_cdn_pages_are_gone(client: TestClient) -> None:
    assert client.get("/docs/oauth2-redirect").status_code == 404
    paths = client.get("/openapi.json").json()["paths"]
    assert "/docs" not in paths and "/redoc" not in paths
