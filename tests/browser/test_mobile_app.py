"""The phone web app's other paths in headless Chromium: signing in with an account (in
English), the page hidden during a patrol (a gap, not invented positions), a reload while
recording, a track file from the phone, and a refused file shown with the server's reason.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page

from geo_patrol.core.vocabulary import ChiefLevel
from geo_patrol.db.engine import make_engine, make_sessionmaker
from tests.support.browser import (
    DEVICE_TOKEN,
    Link,
    Watch,
    phone_sign_in,
    queue,
    screenshot,
    wait_states,
    wait_true,
)
from tests.support.duty_case import R01, Chief, committed_chiefs, river_gpx
from tests.support.paths import ROOT
from tests.support.principals import team_id

TRACKS = ROOT / "tests" / "fixtures" / "tracks"
HIDE = """(hidden) => {
  Object.defineProperty(document, "hidden", { configurable: true, get: () => hidden });
  document.dispatchEvent(new Event("visibilitychange"));
}"""


def fix(page: Page, lon: float, lat: float, count: int) -> None:
    """Move the phone and wait for the page to count `count` fixes."""
    page.context.set_geolocation({"longitude": lon, "latitude": lat, "accuracy": 8})
    wait_true(page, "(n) => document.querySelector('#fix-count').textContent === String(n)", count)
    page.clock.fast_forward(10_000)


def recording(page: Page) -> dict[str, Any]:
    """The recording the page keeps in IndexedDB."""
    stored: dict[str, Any] = page.evaluate(
        """() => new Promise((resolve) => {
          const open = indexedDB.open("geo-patrol");
          open.onsuccess = () => {
            const store = open.result.transaction("recording").objectStore("recording");
            const get = store.get("current");
            get.onsuccess = () => resolve(get.result || null);
          };
        })"""
    )
    return stored


def test_account_sign_in_hidden_page_gap_reload_and_files(
    phone: tuple[Page, Watch], link: Link
) -> None:
    page, watch = phone
    page.clock.install()
    page.goto(f"{link.url}/m/?lang=en")
    page.wait_for_selector("#signin:not([hidden])")
    assert page.inner_text("#signin button[type=submit]") == "Sign in"
    # The language link names the other language (the catalog's app.other_language).
    assert page.evaluate("document.querySelector('#lang-switch').textContent") == "中文"
    assert page.get_attribute("#lang-switch", "href") == "/m/?lang=zh"
    screenshot(page, "mobile-signin-en")
    phone_sign_in(page, "sz.patrol")
    page.wait_for_selector("#tabs:not([hidden])")
    assert page.evaluate("localStorage.getItem('gp.token')").startswith("gpt_")
    wait_true(page, "() => document.querySelector('#who').textContent.includes('吴永明')")

    page.context.set_geolocation({"longitude": 120.6000, "latitude": 30.9300, "accuracy": 8})
    page.select_option("#team", label="盛泽巡河队")
    page.click("#start")
    wait_true(page, "() => document.querySelector('#fix-count').textContent === '1'")
    page.clock.fast_forward(10_000)
    fix(page, 120.6002, 30.9301, 2)

    # Screen off: whatever the browser hands out meanwhile is not taken; the span is a gap.
    page.evaluate(HIDE, True)
    page.context.set_geolocation({"longitude": 120.6100, "latitude": 30.9400, "accuracy": 8})
    page.clock.fast_forward(120_000)
    page.evaluate(HIDE, False)
    fix(page, 120.6010, 30.9305, 3)
    assert page.inner_text("#gap-count") == "1", recording(page)["gaps"]

    # Reloaded while recording: nothing lost, the reload is a gap as well.
    page.reload()
    page.wait_for_selector("#patrol-live:not([hidden])")
    # The watch starts again at once and the phone is where it was: a new fix, after a gap.
    wait_true(page, "() => document.querySelector('#fix-count').textContent === '4'")
    page.clock.fast_forward(10_000)
    fix(page, 120.6018, 30.9307, 5)
    kept = recording(page)
    gaps_before = [bool(f.get("gap_before")) for f in kept["fixes"]]
    assert gaps_before == [False, False, True, True, False]
    assert len(kept["gaps"]) == 2
    page.click("#stop")
    wait_states(page, ["done"])
    sent = page.evaluate(
        """() => new Promise((resolve) => {
          const open = indexedDB.open("geo-patrol");
          open.onsuccess = () => {
            const all = open.result.transaction("queue").objectStore("queue").getAll();
            all.onsuccess = () => resolve(all.result[0].payload.geojson);
          };
        })"""
    )
    features = json.loads(sent)["features"]
    assert len(features) == 5 and all(f["properties"]["time"] for f in features)
    assert all(f["geometry"]["coordinates"][0] < 120.605 for f in features)  # nothing invented

    page.click("#tabs button[data-view=more]")
    for count, name in enumerate(("osmand_1_1.gpx", "bad_lat.gpx"), start=2):
        page.set_input_files("#file-form input[name=track]", TRACKS / name)
        page.click("#file-form button[type=submit]")
        wait_true(page, "() => !document.querySelector('#file-form input').files.length")
        assert len(queue(page)) == count
    wait_states(page, ["done", "done", "failed"])
    failed = queue(page)[2]
    assert "lat" in failed["error"]  # the server's problem detail, shown as it came
    page.click("#tabs button[data-view=queue]")
    page.wait_for_selector("li.item.failed .error")
    assert failed["error"] in page.inner_text("li.item.failed .error")
    screenshot(page, "mobile-queue-failed-en")

    # Another phone's code scanned with something unsent: the unsent items keep their owner.
    own = page.evaluate("localStorage.getItem('gp.token')")
    page.goto(f"{link.url}/m/#device=gpd_demo-wjj-patrol-phone")
    page.wait_for_selector("#toast:not([hidden])")
    assert "not sent yet" in page.inner_text("#toast")
    assert page.evaluate("localStorage.getItem('gp.token')") == own
    page.click("#tabs button[data-view=more]")
    page.wait_for_selector("#recent-patrols li")
    assert watch.outside == []
    refused = "the server responded with a status of 422"  # the bad file, logged by Chromium
    assert [error for error in watch.errors if refused not in error] == []


def test_unsent_items_keep_their_member_at_the_next_sign_in(
    phone: tuple[Page, Watch], link: Link
) -> None:
    page, watch = phone
    page.goto(f"{link.url}/m/?lang=en")
    page.wait_for_selector("#signin:not([hidden])")
    phone_sign_in(page, "sz.patrol")
    page.wait_for_selector("#tabs:not([hidden])")
    wait_true(page, "() => document.querySelector('#category option[value=floating_waste]')")

    link.cut()
    page.context.set_offline(True)
    page.click("#tabs button[data-view=report]")
    page.select_option("#category", "floating_waste")
    page.click("#report-form button[type=submit]")
    wait_states(page, ["waiting"])
    # The credential is gone (expired, refused): the sign-in form, with the item unsent.
    page.evaluate("localStorage.removeItem('gp.token')")
    page.reload()  # still offline: the service worker serves the app
    page.wait_for_selector("#signin:not([hidden])")
    link.restore()
    page.context.set_offline(False)

    # Somebody else cannot sign in on top of it: the report would go out in their name.
    phone_sign_in(page, "wjj.patrol")
    page.wait_for_selector("#signin-error:has-text('not sent yet')")
    assert page.evaluate("localStorage.getItem('gp.token')") is None
    assert [item["state"] for item in queue(page)] == ["waiting"]

    # Its own member signs in, and it goes.
    phone_sign_in(page, "sz.patrol")
    wait_states(page, ["done"])
    assert watch.outside == []


@pytest.fixture
def chief_on_the_border_river(live_server: str, live_database_url: str) -> Iterator[int]:
    """sz.patrol made village chief of 小天圩河 seq 0-2 (owing 2 patrols a week, by a rule of
    the appointment) and a walk along seq 0-1 sent from their phone; the appointment's id.
    Removed afterwards (the other browser tests share the database)."""
    chief = Chief("sz.patrol", ChiefLevel.VILLAGE, "320509100202", R01, (0, 1, 2), required=2)
    with committed_chiefs(live_database_url, [chief]) as (appointment,):
        start = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=40)
        engine = make_engine(live_database_url)
        with make_sessionmaker(engine)() as session:
            walk = river_gpx(session, R01, range(2), start, start_m=5, length_m=1900)
            team = team_id(session, "盛泽巡河队")
        engine.dispose()
        sent = httpx.post(
            f"{live_server}/api/v1/patrols",
            headers={"Authorization": f"Bearer {DEVICE_TOKEN}"},
            data={"team_id": str(team), "mode": "foot"},
            files={"file": ("walk.gpx", walk, "application/gpx+xml")},
            timeout=60,
        )
        assert sent.status_code == 201, sent.text
        yield appointment


def test_a_chief_sees_their_duty_and_stretch_also_offline(
    phone: tuple[Page, Watch], link: Link, chief_on_the_border_river: int
) -> None:
    page, watch = phone
    page.goto(f"{link.url}/m/")
    page.wait_for_selector("#signin:not([hidden])")
    phone_sign_in(page, "sz.patrol")
    page.wait_for_selector("#duty:not([hidden])")
    # What the service says (tests/api/test_my_duty.py checks the service itself).
    token = page.evaluate("localStorage.getItem('gp.token')")
    answer = httpx.get(f"{link.url}/api/v1/me/duty", headers={"Authorization": f"Bearer {token}"})
    # (The demo may make sz.patrol chief of other stretches too: this test's is the one.)
    duty = next(d for d in answer.json() if d["appointment_id"] == chief_on_the_border_river)
    assert duty["required"] == 2
    assert any(c["counted"] for c in duty["candidates"])  # the walk just sent
    month, day = (int(part) for part in duty["due"].split("-")[1:])
    line = f"已巡 {duty['done']} / 应巡 2，{month}月{day}日前"
    card = page.locator(f"#duty-list li[data-appointment='{chief_on_the_border_river}']")
    assert line in card.inner_text() and "小天圩河" in card.inner_text()
    assert page.inner_text("#duty h2") == "我的河段 本期履职"
    stretch = page.locator("#patrol-map path.duty-stretch")
    assert stretch.count() == len(answer.json())  # one line per appointment
    box = stretch.first.bounding_box()
    assert box is not None and max(box["width"], box["height"]) > 50  # fitted to the map
    screenshot(page, "mobile-duty")

    # No signal, the app reopened: the last answer is kept (IndexedDB), the stretch redrawn.
    link.cut()
    page.context.set_offline(True)
    page.reload()
    page.wait_for_selector("#duty:not([hidden])")
    assert line in card.inner_text()
    assert page.locator("#patrol-map path.duty-stretch").count() == len(answer.json())
    link.restore()
    page.context.set_offline(False)

    page.goto(f"{link.url}/m/?lang=en")
    page.wait_for_selector("#duty:not([hidden])")
    english = card.inner_text()
    months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    assert f"{duty['done']} of 2 done, due {day} {months[month - 1]}" in english
    assert watch.outside == []
