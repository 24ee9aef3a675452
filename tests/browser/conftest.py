"""A real service on a real port, the full demo committed, and Debian's headless Chromium.

The browser may reach the service and nothing else: every other request is aborted and
recorded, so a test can assert that a page works on an intranet with no way out.
Screenshots go to var/artefacts/ (kept by CI as test artefacts, never committed).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Playwright, Request, sync_playwright

from tests.support.browser import ANSWER_S, CHROMIUM, Link, Watch, committed_demo_database, serving


@pytest.fixture(scope="session")
def live_database_url() -> str:
    """The demo database the browser tests share."""
    return committed_demo_database("geo_patrol_browser")


@pytest.fixture(scope="session")
def live_server(live_database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The service on a free port of 127.0.0.1 (no base map: an intranet with no tiles);
    its phones give up waiting for an answer after ANSWER_S (then send again)."""
    data = tmp_path_factory.mktemp("data")
    with serving(live_database_url, data, basemap="none", mobile_answer_seconds=ANSWER_S) as base:
        yield base


@pytest.fixture(scope="package")
def playwright() -> Iterator[Playwright]:
    """The Playwright driver."""
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="package")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """Debian's Chromium, headless (Playwright's own download cannot work here)."""
    if not Path(CHROMIUM).exists():
        raise RuntimeError(f"{CHROMIUM} is missing: ./run test installs Debian's chromium")
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
    yield browser
    browser.close()


@pytest.fixture
def watched_page(browser: Browser, live_server: str) -> Iterator[tuple[Page, Watch]]:
    """A fresh browser context (desktop size) whose requests leave only for the service."""
    context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="zh-CN")
    page = context.new_page()
    watch = Watch(base=live_server)
    page.route("**/*", watch.route)
    page.on("console", lambda m: watch.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: watch.errors.append(f"page error: {error}"))
    yield page, watch
    context.close()


@pytest.fixture
def link(live_server: str) -> Iterator[Link]:
    """A cuttable connection to the live service (see Link)."""
    relay = Link(int(live_server.rsplit(":", 1)[1]))
    yield relay
    relay.close()


@pytest.fixture
def phone(browser: Browser, link: Link) -> Iterator[tuple[Page, Watch]]:
    """A 360x740 touch phone with geolocation allowed and service workers on, reaching the
    service through `link` (so tests can cut its network).

    Nothing is routed (a route would sit in front of the service worker, and the offline
    tests need the worker to answer): every request of the context, the worker's included,
    is recorded instead, and one that leaves for another host lands in `outside`.
    """
    context = browser.new_context(
        viewport={"width": 360, "height": 740},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="zh-CN",
        permissions=["geolocation"],
        geolocation={"latitude": 30.93, "longitude": 120.6, "accuracy": 5},
        service_workers="allow",
    )
    page = context.new_page()
    watch = Watch(base=link.url)

    def record(request: Request) -> None:
        if not request.url.startswith((link.url + "/", "data:", "blob:")):
            watch.outside.append(request.url)

    context.on("request", record)
    page.on("console", lambda m: watch.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: watch.errors.append(f"page error: {error}"))
    yield page, watch
    context.close()
