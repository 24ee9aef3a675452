"""Hostile names and descriptions in a real browser: the map (every popup and tooltip made)
and the meeting pack load without a dialog, a page error or a payload running."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
from playwright.sync_api import Browser, Dialog, Page
from sqlalchemy import text
from sqlalchemy.orm import Session

from tests.support.browser import (
    DEMO_PASSWORD,
    committed_demo_database,
    phone_sign_in,
    serving,
    sign_in,
)
from tests.support.hostile_text import hostile, poison_demo

# Each payload calls gpPwned(n) (recorded here) or alert (a dialog, recorded too).
RECORDER = "window.gpPwnedCalls = []; window.gpPwned = (n) => window.gpPwnedCalls.push(n);"

# Make what Leaflet makes when a tooltip or popup opens, for every layer of the map (the
# markers inside clusters too): a function's content is called, text goes into innerHTML.
OPEN_EVERYTHING = """
() => {
  const map = Object.keys(window).filter((k) => k.startsWith("map_"))
    .map((k) => window[k]).find((v) => v instanceof L.Map);
  let made = 0;
  const make = (bound, layer) => {
    if (!bound) return;
    const content = bound._content;
    const node = document.createElement("div");
    if (typeof content === "function") {
      if (!layer.feature) return;  // a GeoJSON layer's tooltip is made for each feature
      node.append(content(layer));
    }
    else if (typeof content === "string") node.innerHTML = content;
    else if (content) node.append(content.cloneNode(true));
    document.body.append(node);
    made += 1;
  };
  const visit = (layer) => {
    make(layer.getTooltip && layer.getTooltip(), layer);
    make(layer.getPopup && layer.getPopup(), layer);
    if (layer.eachLayer) layer.eachLayer((child) => {
      make(layer.getTooltip && layer.getTooltip(), child);
      visit(child);
    });
  };
  map.eachLayer(visit);
  return made;
}
"""


@pytest.fixture(scope="module")
def hostile_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The whole demo with hostile names, a hostile report, served on a free port."""

    def poison(session: Session) -> None:
        poison_demo(session)
        session.execute(
            text("UPDATE incidents SET description = :d, address = :a"),
            {"d": hostile("description"), "a": hostile("address")},
        )

    url = committed_demo_database("geo_patrol_hostile", then=poison)
    with serving(url, tmp_path_factory.mktemp("hostile"), basemap="none") as base:
        yield base


@pytest.fixture
def trap(browser: Browser, hostile_server: str) -> Iterator[tuple[Page, list[str]]]:
    """A page that records every dialog and page error, with the payloads' recorder."""
    context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="zh-CN")
    context.add_init_script(RECORDER)
    page = context.new_page()
    caught: list[str] = []

    def on_dialog(dialog: Dialog) -> None:
        caught.append(f"dialog {dialog.message}")
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.on("pageerror", lambda error: caught.append(f"page error: {error}"))
    yield page, caught
    context.close()


def ran(page: Page) -> list[int]:
    """The payloads that ran in the page."""
    calls: list[int] = page.evaluate("window.gpPwnedCalls")
    return calls


def test_the_map_with_hostile_names_runs_no_payload(
    trap: tuple[Page, list[str]], hostile_server: str
) -> None:
    page, caught = trap
    sign_in(page, hostile_server, "admin", "/map?lang=en")
    page.wait_for_selector(".leaflet-interactive")
    made = page.evaluate(OPEN_EVERYTHING)
    assert made > 20  # boundaries, rivers, zones, incidents, villages: all made
    page.click(".leaflet-interactive >> nth=-1", force=True)
    page.wait_for_timeout(800)  # an image's onerror fires after its load fails
    assert "gpj.sj" in page.content()  # the hostile names did reach the page
    assert ran(page) == [] and caught == []


def test_the_meeting_pack_with_hostile_names_runs_no_payload(
    trap: tuple[Page, list[str]], hostile_server: str
) -> None:
    page, caught = trap
    token = httpx.post(
        f"{hostile_server}/api/v1/auth/tokens", json={"login": "admin", "password": DEMO_PASSWORD}
    ).json()["token"]
    today = datetime.now(UTC).date()
    pack = httpx.get(
        f"{hostile_server}/api/v1/meeting-pack",
        params={"zone": "ZONE-SZ-WJJ", "to": str(today), "lang": "en"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=60,
    )
    assert pack.status_code == 200
    page.route(
        f"{hostile_server}/hostile-pack.html",
        lambda route: route.fulfill(body=pack.text, content_type="text/html"),
    )
    page.goto(f"{hostile_server}/hostile-pack.html", wait_until="load")
    made = page.evaluate(OPEN_EVERYTHING)
    assert made > 20
    page.wait_for_timeout(800)
    assert "gpj.sj" in page.content()
    assert ran(page) == [] and caught == []


def test_the_phone_app_with_hostile_names_runs_no_payload(
    trap: tuple[Page, list[str]], hostile_server: str
) -> None:
    page, caught = trap
    page.goto(f"{hostile_server}/m/?lang=en")
    page.wait_for_selector("#signin:not([hidden])")
    phone_sign_in(page, "sz.patrol")
    page.wait_for_selector("#tabs:not([hidden])")
    page.wait_for_function(
        "() => [...document.querySelectorAll('#team option')].some((o) => o.text.includes('gpj'))"
    )
    page.wait_for_timeout(800)
    assert "gpj.sj" in page.inner_text("body")  # team and member names shown as text
    assert ran(page) == [] and caught == []
