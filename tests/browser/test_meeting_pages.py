"""The meeting pages in headless Chromium on the demo: the zone coordinator prepares a
meeting from the proposed agenda (every proposed item ticked), records a decision with
owners on both sides and one for Shengze alone; an owner on the Wangjiangjing side posts an
update from the decision's page; Xiuzhou's county supervisor finds no form on the Shengze
decision and a crafted post is refused. The pages read in Chinese and English, nothing is
fetched from outside and no script fails. The JSON API is the reference for what was stored."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

import httpx
import pytest
from playwright.sync_api import Browser, Page

from geo_patrol.db.engine import make_engine, make_sessionmaker
from geo_patrol.demo.accounts import ZONE
from tests.support.browser import Watch, committed_demo_database, screenshot, serving, sign_in
from tests.support.principals import headers_for, member_id

DEADLINE = (date.today() + timedelta(days=30)).isoformat()


@pytest.fixture(scope="module")
def meeting_server(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[str, dict[str, int], dict[str, str]]]:
    """The demo committed in a database of this module's own, served on a free port; the
    member ids of the owners named and the coordinator's bearer header (the JSON API as the
    coordinator reads it is the reference: the proposed agenda depends on who asks)."""
    url = committed_demo_database("geo_patrol_meetings_browser")
    data = tmp_path_factory.mktemp("meetings-data")
    with serving(url, data, basemap="none") as base:
        engine = make_engine(url)
        with make_sessionmaker(engine)() as session:
            ids = {login: member_id(session, login) for login in ("sz.lead", "wjj.sup")}
            coordinator = headers_for(session)["zone.coord"]
            session.commit()
        engine.dispose()
        yield base, ids, coordinator


@pytest.fixture
def browse(
    browser: Browser, meeting_server: tuple[str, dict[str, int], dict[str, str]]
) -> Iterator[tuple[Page, Watch]]:
    """A desktop browser whose requests leave only for the meeting server."""
    base = meeting_server[0]
    context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="zh-CN")
    page = context.new_page()
    watch = Watch(base=base)
    page.route("**/*", watch.route)
    page.on("console", lambda m: watch.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: watch.errors.append(f"page error: {error}"))
    yield page, watch
    context.close()


def submit(page: Page, form: str) -> None:
    """Send a form and wait for the page it leads to."""
    with page.expect_navigation():
        page.click(f"{form} button[type=submit]")


def record_decision(page: Page, body: str, sides: list[str], owners: list[str]) -> None:
    """Fill and send the meeting page's decision form."""
    page.fill("#decision-form textarea[name=body]", body)
    page.fill("#decision-form input[name=deadline]", DEADLINE)
    for side in sides:
        page.check(f"#decision-form input[name=owner_side][value='{side}']")
    for owner in owners:
        page.check(f"#decision-form input[name=owner][value='{owner}']")
    submit(page, "#decision-form")


def test_prepare_record_and_follow_up_a_meeting(
    browse: tuple[Page, Watch],
    browser: Browser,
    meeting_server: tuple[str, dict[str, int], dict[str, str]],
) -> None:
    page, watch = browse
    base, ids, coordinator = meeting_server
    reference = httpx.Client(base_url=base, headers=coordinator, timeout=60)
    proposed = reference.get(f"/api/v1/agenda/proposed?zone={ZONE}&lang=zh").json()["items"]
    assert proposed

    sign_in(page, base, "zone.coord", f"/meetings?zone={ZONE}")
    with page.expect_navigation():
        page.click("#prepare")
    boxes = page.locator("#proposed input[name=item]")
    assert boxes.count() == len(proposed)
    assert all(boxes.nth(i).is_checked() for i in range(boxes.count()))
    page.fill("input[name=place]", "王江泾镇政府三楼会议室")
    page.check(f"input[name=attendee][value='320509:{ids['sz.lead']}']")
    page.check(f"input[name=attendee][value='330411:{ids['wjj.sup']}']")
    page.fill("textarea[name=free_items]", "汛期联合巡河安排")
    screenshot(page, "meeting-new")
    submit(page, "#new-meeting")
    meeting_id = int(page.url.split("/meetings/")[1].split("?")[0])
    stored = reference.get(f"/api/v1/meetings/{meeting_id}").json()
    assert [i["title"] for i in stored["agenda"]] == [
        *(i["title"] for i in proposed),
        "汛期联合巡河安排",
    ]
    assert page.locator("#agenda li").count() == len(proposed) + 1

    both = f"330411:{ids['wjj.sup']}"
    record_decision(page, "两岸联合清理交界河段水葫芦", ["320509", "330411"], [both])
    record_decision(page, "盛泽侧补齐未巡河段", ["320509"], [])
    listed = reference.get(f"/api/v1/decisions?meeting_id={meeting_id}").json()
    decisions = sorted(listed, key=lambda d: d["position"])
    assert [d["body"] for d in decisions] == ["两岸联合清理交界河段水葫芦", "盛泽侧补齐未巡河段"]
    joint, shengze = decisions[0]["id"], decisions[1]["id"]
    assert {(o["side_code"], o["member_id"]) for o in decisions[0]["owners"]} == {
        ("320509", None),
        ("330411", ids["wjj.sup"]),
    }
    row = page.locator(f"#decisions tr[data-id='{joint}']")
    assert "吴江区" in row.inner_text() and "秀洲区" in row.inner_text()
    assert "李芳" in row.inner_text() and "未开始" in row.inner_text()
    screenshot(page, "meeting-page")
    with page.expect_navigation():
        page.click("#language")
    assert "Open" in page.locator(f"#decisions tr[data-id='{joint}']").inner_text()
    assert page.locator("h2", has_text="Decisions of this meeting").count() == 1

    # The owner on the Wangjiangjing side posts an update from the decision's page.
    owner_context = browser.new_context(viewport={"width": 1400, "height": 900})
    owner = owner_context.new_page()
    owner.route("**/*", watch.route)
    sign_in(owner, base, "wjj.sup", "/decisions?mine=1")
    assert owner.locator(f"#decisions tr[data-id='{joint}']").count() == 1
    assert owner.locator(f"#decisions tr[data-id='{shengze}']").count() == 0
    owner.goto(f"{base}/decisions/{joint}")
    owner.fill("#update-form textarea[name=note]", "已安排打捞船两艘")
    owner.select_option("#update-form select[name=status]", "in_progress")
    submit(owner, "#update-form")
    assert owner.locator("#status").get_attribute("data-status") == "in_progress"
    assert "已安排打捞船两艘" in owner.locator("#history").inner_text()
    screenshot(owner, "decision-page")
    record = reference.get(f"/api/v1/decisions/{joint}").json()
    assert record["status"] == "in_progress"
    assert record["updates"][-1]["note"] == "已安排打捞船两艘"
    owner_context.close()

    # Xiuzhou's county supervisor: the form on the decision his side owns, none on
    # Shengze's, and a crafted post with his own session's token is refused.
    other_context = browser.new_context(viewport={"width": 1400, "height": 900})
    other = other_context.new_page()
    other.route("**/*", watch.route)
    sign_in(other, base, "xiuzhou.sup", f"/decisions/{joint}?lang=en")
    token = other.locator("#update-form input[name=csrf_token]").get_attribute("value")
    assert token
    other.goto(f"{base}/decisions/{shengze}?lang=en")
    assert other.locator("#facts").count() == 1 and other.locator("#update-form").count() == 0
    crafted = other.request.post(
        f"{base}/decisions/{shengze}/updates?lang=en",
        form={"csrf_token": token, "note": "代为办结", "status": "done"},
        max_redirects=0,
    )
    assert crafted.status == 403
    record = reference.get(f"/api/v1/decisions/{shengze}").json()
    assert record["status"] == "open" and all(u["note"] != "代为办结" for u in record["updates"])
    other_context.close()
    reference.close()
    assert watch.errors == [] and watch.outside == []
