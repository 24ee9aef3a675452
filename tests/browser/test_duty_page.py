"""The duty page in headless Chromium: Wujiang's county supervisor signs in, sees the chief
who missed this 旬 and why his patrol did not count, narrows the list with the form, and the
filters (in the URL) survive a reload and a change of language. Nothing is fetched from
outside and no script fails."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from playwright.sync_api import Browser, Page

from geo_patrol.db.engine import make_engine, make_sessionmaker
from tests.support.browser import Watch, committed_demo_database, screenshot, serving, sign_in
from tests.support.duty_scenario import DAY, Scenario, make_scenario
from tests.support.principals import headers_for


@pytest.fixture(scope="module")
def duty_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Scenario]]:
    """The whole demo and the duty scenario, committed in a database of this module's own
    (the other browser tests count what the shared one holds), served on a free port."""
    url = committed_demo_database("geo_patrol_duty_browser")
    data = tmp_path_factory.mktemp("duty-data")
    with serving(url, data, basemap="none") as base:
        engine = make_engine(url)
        with make_sessionmaker(engine)() as session:
            headers = headers_for(session)
            session.commit()  # the tokens, before the served app is asked with them
            with httpx.Client(base_url=base, timeout=120) as client:
                scenario = make_scenario(client, session, headers=headers)
            session.commit()
        engine.dispose()
        yield base, scenario


@pytest.fixture
def page_on(
    browser: Browser, duty_server: tuple[str, Scenario]
) -> Iterator[tuple[Page, Watch, Scenario]]:
    """A desktop browser whose requests leave only for the duty server."""
    base, scenario = duty_server
    context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="zh-CN")
    page = context.new_page()
    watch = Watch(base=base)
    page.route("**/*", watch.route)
    page.on("console", lambda m: watch.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: watch.errors.append(f"page error: {error}"))
    yield page, watch, scenario
    context.close()


def _chief_row(page: Page, name: str) -> str:
    """The text of the chief's row of the duty table."""
    return page.locator("#duties tr.duty", has_text=name).inner_text()


def _statuses(page: Page) -> list[str | None]:
    """The status of each chief's row."""
    rows = page.locator("#duties tr.duty")
    return [rows.nth(i).get_attribute("data-status") for i in range(rows.count())]


def test_the_supervisor_sees_who_missed_and_why_and_the_filters_stay(
    page_on: tuple[Page, Watch, Scenario],
) -> None:
    page, watch, scenario = page_on
    sign_in(page, watch.base, "wujiang.sup", f"/duty?on={DAY}")
    assert page.url.endswith(f"/duty?on={DAY}")
    missed = _chief_row(page, "徐志强")
    assert "未达标" in missed and "2025年11月上旬" in missed
    reason = page.locator("#duties tr.duty", has_text="徐志强").locator(
        "li[data-reason=disqualified]"
    )
    assert reason.inner_text().endswith("不计入： 超速 too_fast")
    assert reason.locator("a").first.get_attribute("href") == f"/api/v1/patrols/{scenario.fast}"
    assert "已达标" in _chief_row(page, "吴永明")
    assert "陆晓燕" not in page.locator("#duties").inner_text()  # the other side's chief

    # Narrow the list with the form: the town chiefs who missed.
    page.select_option("select[name=level]", "town")
    page.select_option("select[name=status]", "missed")
    with page.expect_navigation():
        page.click("#filters button[type=submit]")
    query = parse_qs(urlsplit(page.url).query)
    assert query["level"] == ["town"] and query["status"] == ["missed"]
    assert query["on"] == [DAY.isoformat()]
    assert _statuses(page) == ["missed"] and "徐志强" in _chief_row(page, "徐志强")

    page.reload()
    assert page.locator("select[name=level]").input_value() == "town"
    assert page.locator("select[name=status]").input_value() == "missed"
    assert page.locator("input[name=on]").input_value() == DAY.isoformat()
    assert _statuses(page) == ["missed"]

    with page.expect_navigation():
        page.click("#language")
    assert page.locator("select[name=status]").input_value() == "missed"
    assert "disqualified: too fast too_fast" in page.locator("#duties").inner_text()
    screenshot(page, "duty-page")
    assert watch.errors == [] and watch.outside == []
