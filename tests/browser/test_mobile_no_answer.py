"""The phone web app when a request gets through but its answer never comes back (a phone
walking out of coverage with an upload on the way): the page gives up after the service's
answer time, keeps the item waiting, and the next sync gets the first record back from the
service instead of making a second one.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page
from sqlalchemy import text

from geo_patrol.core.catalog import text as word
from geo_patrol.db.engine import make_engine
from tests.support.browser import (
    DEMO_PASSWORD,
    DEVICE_TOKEN,
    Link,
    Watch,
    queue,
    serving,
    wait_states,
    wait_true,
)

QUICK_ANSWER_S = 2
START = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)  # the page's clock, where a test sets one


@pytest.fixture
def answer_s() -> int:
    """How long the service tells its phones to wait for an answer (a test may set another)."""
    return QUICK_ANSWER_S


@pytest.fixture
def link(live_database_url: str, tmp_path: Path, answer_s: int) -> Iterator[Link]:
    """The phone's link to a service that tells its phones to wait `answer_s` for an answer."""
    with serving(
        live_database_url, tmp_path, basemap="none", mobile_answer_seconds=answer_s
    ) as base:
        relay = Link(int(base.rsplit(":", 1)[1]))
        yield relay
        relay.close()


def assert_only_network_errors(watch: Watch) -> None:
    """Requests the test left hanging fail when the link comes back (network errors in the
    console); nothing else may go wrong."""
    network = "Failed to load resource: net::"
    assert [error for error in watch.errors if not error.startswith(network)] == []


def open_signed_in(page: Page, link: Link) -> None:
    """The app signed in with the demo phone's code, its reference data stored and its
    service worker in control."""
    page.goto(f"{link.url}/m/#device={DEVICE_TOKEN}")
    page.wait_for_selector("#tabs:not([hidden])")
    page.wait_for_selector("#category option[value=illegal_discharge]", state="attached")
    wait_true(page, "() => navigator.serviceWorker.controller !== null")


def stored_reports(database_url: str, client_id: str) -> list[int]:
    """The incidents the service holds for a phone's client id."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT id FROM incidents WHERE client_id = :c ORDER BY id"), {"c": client_id}
            )
            return [row.id for row in rows]
    finally:
        engine.dispose()


def test_a_report_whose_answer_is_lost_is_given_up_then_stored_once(
    phone: tuple[Page, Watch], link: Link, live_database_url: str
) -> None:
    page, watch = phone
    # The page's clock stands still once signed in: the answer deadline runs only as far as
    # the test moves it (and the page's 30 s sync never comes round by itself).
    page.clock.install(time=START)
    open_signed_in(page, link)
    page.clock.pause_at(START + timedelta(minutes=10))

    link.mute()
    page.click("#tabs button[data-view=report]")
    page.select_option("#category", "illegal_discharge")
    page.fill("textarea[name=description]", "answer lost on the way back (mobile test)")
    with page.expect_request(lambda r: r.method == "POST" and "/api/v1/incidents" in r.url):
        page.click("#report-form button[type=submit]")
    deadline = time.monotonic() + 10
    while not (items := queue(page)):
        assert time.monotonic() < deadline, "the report was never queued"
        page.wait_for_timeout(50)
    # The service got the request and stored the report; the phone never hears of it.
    (item,) = items
    while not (stored := stored_reports(live_database_url, item["clientId"])):
        assert time.monotonic() < deadline, "the muted request never reached the service"
        time.sleep(0.1)

    # Just short of the answer time the page still waits for its answer; just past it, it
    # has given up and keeps the item waiting.
    page.clock.run_for(QUICK_ANSWER_S * 1000 - 100)
    page.wait_for_timeout(300)
    assert [i["state"] for i in queue(page)] == ["sending"]
    page.clock.run_for(1000)
    wait_states(page, ["waiting"], timeout_s=10)
    (item,) = queue(page)
    assert item["noAnswerS"] == QUICK_ANSWER_S and item["attempts"] == 1, item
    attempts = item["attempts"]
    page.click("#tabs button[data-view=queue]")
    note = page.inner_text("#queue-list .no-answer")
    assert note == word("app.no_answer", "zh", s=QUICK_ANSWER_S), note

    link.restore()
    # Sync now (again, if a run the page had started was still waiting on a muted request).
    deadline = time.monotonic() + 30
    while (item := queue(page)[0])["state"] != "done":
        assert time.monotonic() < deadline, item
        page.click("#sync-now")
        page.wait_for_timeout(1000)
    assert (item["serverId"], item["created"]) == (stored[0], False), item
    assert item["attempts"] > attempts, item
    assert item["noAnswerS"] is None
    assert stored_reports(live_database_url, item["clientId"]) == stored
    assert page.locator("#queue-list .no-answer").count() == 0
    assert watch.outside == []
    assert_only_network_errors(watch)


# 5 s, so that reads one after the other (4 x 5 s) and together (5 s) are far apart.
@pytest.mark.parametrize("answer_s", [5])
def test_the_app_opens_from_its_copy_when_the_service_does_not_answer(
    phone: tuple[Page, Watch], link: Link, answer_s: int
) -> None:
    page, watch = phone
    open_signed_in(page, link)

    link.mute()  # every request hangs: no answer, no error
    started = time.monotonic()
    page.reload(wait_until="commit", timeout=30_000)
    # The service worker gives up on the network and serves its copy of the shell; the page
    # gives up on its reads and uses what it stored: usable, with its categories.
    page.wait_for_selector("#tabs:not([hidden])", timeout=30_000)
    page.wait_for_selector("#category option[value=illegal_discharge]", state="attached")
    page.click("#tabs button[data-view=queue]")
    page.wait_for_selector("#queue-list li")
    opened = time.monotonic() - started
    # The shell's wait (4 s) and one read deadline: the reads go out together (9.5 s here;
    # one after the other they would take 4 + 4 x 5 s).
    assert opened < 4 + answer_s + 7, opened
    link.restore()
    assert watch.outside == []
    assert_only_network_errors(watch)


def test_signing_in_with_no_answer_says_so(phone: tuple[Page, Watch], link: Link) -> None:
    page, watch = phone
    page.clock.install(time=START)
    page.goto(f"{link.url}/m/?lang=en")
    page.wait_for_selector("#signin:not([hidden])")
    page.clock.pause_at(START + timedelta(minutes=10))  # time moves only as the test says
    page.fill("#signin input[name=login]", "sz.patrol")
    page.fill("#signin input[name=password]", DEMO_PASSWORD)
    link.mute()
    with page.expect_request(lambda r: r.url.endswith("/api/v1/auth/tokens")):
        page.click("#signin button[type=submit]")
    # The 2 s read deadline, not the 10 s cap a broken setting would fall back to: nothing
    # is said just before 2 s, the message comes just after.
    page.clock.run_for(QUICK_ANSWER_S * 1000 - 100)
    page.wait_for_timeout(300)
    assert page.inner_text("#signin-error") == ""
    page.clock.run_for(200)
    wait_true(page, "() => document.querySelector('#signin-error').textContent !== ''")
    assert page.inner_text("#signin-error") == "No network: cannot sign in"
    assert page.evaluate("localStorage.getItem('gp.token')") is None
    link.restore()
    assert watch.outside == []
