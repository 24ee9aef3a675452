"""The water sections layer of the supervisor map in headless Chromium, offline: a point per
section the supervisor may see, coloured by the latest class, marked when worse than the
target, and a popup whose trend chart (inline SVG) shows the last 12 classes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page

from tests.support.browser import Watch, committed_demo_database, screenshot, serving, sign_in
from tests.support.water import BORDER_CLASSES, WATER_LAST, seed_sections

# GB 3838 class map colours as the layer draws them (I/II blue, III green, IV yellow,
# V orange, 劣V red), as the browser reports them.
RGB = {
    1: "rgb(21, 101, 192)",
    2: "rgb(66, 165, 245)",
    3: "rgb(67, 160, 71)",
    4: "rgb(253, 216, 53)",
    5: "rgb(251, 140, 0)",
    6: "rgb(229, 57, 53)",
}
HEX = {1: "#1565c0", 2: "#42a5f5", 3: "#43a047", 4: "#fdd835", 5: "#fb8c00", 6: "#e53935"}


@pytest.fixture(scope="module")
def water_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The demo with the test sections, in a database of this module's own, on a free port."""
    url = committed_demo_database(
        "geo_patrol_water_browser", then=lambda session: seed_sections(session, last=WATER_LAST)
    )
    with serving(url, tmp_path_factory.mktemp("water-data"), basemap="none") as base:
        yield base


@pytest.fixture
def page_on(browser: Browser, water_server: str) -> Iterator[tuple[Page, Watch]]:
    """A desktop browser whose requests leave only for the water server."""
    context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="zh-CN")
    page = context.new_page()
    watch = Watch(base=water_server)
    page.route("**/*", watch.route)
    page.on("console", lambda m: watch.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: watch.errors.append(f"page error: {error}"))
    yield page, watch
    context.close()


def test_the_layer_shows_each_section_and_the_popup_draws_the_trend(
    page_on: tuple[Page, Watch],
) -> None:
    page, watch = page_on
    sign_in(page, watch.base, "wujiang.sup")
    labels = page.locator(".leaflet-control-layers-overlays label").all_inner_texts()
    assert any("水质断面" in label for label in labels), labels
    # As many points as the JSON API lists for the same person (the reference).
    listed = page.request.get(f"{watch.base}/api/v1/water/sections?limit=1000").json()
    codes = sorted(row["code"] for row in listed)
    drawn = page.locator(".gp-water")
    assert sorted(drawn.nth(i).get_attribute("data-code") or "" for i in range(drawn.count())) == (
        codes
    )
    assert {"WT-B1", "WT-A1", "WT-L1"} <= set(codes) and "WT-B2" not in codes
    border = page.locator('.gp-water[data-code="WT-B1"]')
    colour = border.evaluate("e => getComputedStyle(e).backgroundColor")
    assert colour == RGB[4]  # its latest reading is IV
    assert "gp-water-worse" in (border.get_attribute("class") or "")  # its target is III
    at_target = page.locator('.gp-water[data-code="WT-A1"]')
    assert "gp-water-worse" not in (at_target.get_attribute("class") or "")

    border.dispatch_event("click")
    popup = page.locator(".leaflet-popup-content .gp-water-popup")
    popup.wait_for()
    screenshot(page, "water-layer")
    text = popup.inner_text()
    assert "未达目标" in text and "IV类" in text and "III类" in text
    assert "NH3-N (超标倍数 0.20)" in text and "DO" in text
    assert "2026-11-05 10:00" in text
    circles = popup.locator("svg.gp-water-trend circle")
    assert circles.count() == 12
    fills = [circles.nth(i).get_attribute("fill") for i in range(12)]
    assert fills == [HEX[c] for c in BORDER_CLASSES[-12:]]
    # Worse classes lie lower: a row per class, I at the top.
    rows = {
        c: float(circles.nth(i).get_attribute("cy") or "nan")
        for i, c in enumerate(BORDER_CLASSES[-12:])
    }
    heights = [rows[c] for c in sorted(rows)]
    assert heights == sorted(heights) and len(set(heights)) == len(heights)
    xs = [float(circles.nth(i).get_attribute("cx") or "nan") for i in range(12)]
    assert xs == sorted(xs) and len(set(xs)) == 12
    target = popup.locator("svg.gp-water-trend line.gp-water-target")
    assert float(target.get_attribute("y1") or "nan") == rows[3]
    assert watch.errors == [] and watch.outside == []
