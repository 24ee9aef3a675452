"""The duty page (/duty) over HTTP: what a county supervisor reads in zh and en (the chiefs
who missed, why a patrol did not count, the joint pair, the roll-ups, the trend), hostile
names inert, filters kept in the URL, the sign-in redirect."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import lxml.html
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.support.duty_scenario import DAY, Scenario, make_scenario
from tests.support.hostile_text import check, poison_demo
from tests.support.principals import headers_for

WORDS = {
    "zh": {
        "missed": "未达标",
        "met": "已达标",
        "period": "2025年11月上旬",
        "fast": "不计入： 超速 too_fast",
    },
    "en": {
        "missed": "missed",
        "met": "met",
        "period": "early Nov 2025",
        "fast": "disqualified: too fast too_fast",
    },
}


@pytest.fixture
def scenario(demo_client: TestClient, demo_session: Session) -> Scenario:
    """The scenario's chiefs and walks, then hostile names on the demo's places and people."""
    made = make_scenario(demo_client, demo_session)
    poison_demo(demo_session)
    return made


def _rows(html: str, table: str) -> list[lxml.html.HtmlElement]:
    """The body rows of a table of the page."""
    rows: list[lxml.html.HtmlElement] = lxml.html.fromstring(html).xpath(
        f'//table[@id="{table}"]/tbody/tr'
    )
    return rows


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_county_supervisor_reads_who_missed_and_why(
    demo_client: TestClient, demo_session: Session, scenario: Scenario, lang: str
) -> None:
    headers = headers_for(demo_session)["wujiang.sup"]
    answer = demo_client.get(f"/duty?on={DAY}&lang={lang}", headers=headers)
    assert answer.status_code == 200, answer.text[:300]
    html = answer.text
    check(html, f"duty page ({lang})")
    words = WORDS[lang]
    rows = _rows(html, "duties")
    names = [row.xpath("string(td[@class='chief'])") for row in rows]
    # Wujiang's chiefs only: the two town chiefs of 盛泽 and the (hostile-named) county chief.
    for other in ("陆晓燕", "朱卫东"):
        assert not [n for n in names if other in n], other
    assert [n for n in names if "alert(1)" in n]
    by_name = {
        n: row
        for n in ("徐志强", "吴永明")
        for name, row in zip(names, rows, strict=True)
        if n in name
    }
    fast = by_name["徐志强"]
    assert fast.get("data-status") == "missed"
    assert words["missed"] in fast.text_content() and words["period"] in fast.text_content()
    [reason] = fast.xpath(".//li[@data-reason='disqualified']")
    assert words["fast"] in reason.text_content()
    assert reason.xpath("a/@href")[0] == f"/api/v1/patrols/{scenario.fast}"
    met = by_name["吴永明"]
    assert met.get("data-status") == "met" and words["met"] in met.text_content()
    # The hostile name is shown as text, not run.
    assert "&lt;script&gt;alert(1)&lt;/script&gt;赵" in html and "<script>alert(1)" not in html
    # The joint pair is listed for the side's supervisor, credited once.
    [pair] = _rows(html, "pairs")
    assert pair.get("data-status") == "met"
    assert len(pair.xpath(".//li[@data-reason='counted']")) == 1
    # Roll-ups: the town level, one of two met; the trend has a row per period kind.
    [town] = [r for r in _rows(html, "rollups") if r.get("data-key") == "town"]
    assert [td.text_content() for td in town.xpath("td")][1:] == ["2", "1", "1", "0", "50%"]
    kinds = [row.get("data-kind") for row in _rows(html, "trend")]
    assert {"dekad", "month"} <= set(kinds)


def test_the_filters_live_in_the_url(
    demo_client: TestClient, demo_session: Session, scenario: Scenario
) -> None:
    headers = headers_for(demo_session)["admin"]
    url = f"/duty?on={DAY}&level=town&status=missed&side=320509&lang=en"
    html = demo_client.get(url, headers=headers).text
    rows = _rows(html, "duties")
    assert [row.get("data-status") for row in rows] == ["missed"]
    doc = lxml.html.fromstring(html)
    form = doc.xpath('//form[@id="filters"]')[0]
    assert form.xpath('.//input[@name="on"]/@value') == [DAY.isoformat()]
    assert form.xpath('.//select[@name="level"]/option[@selected]/@value') == ["town"]
    assert form.xpath('.//select[@name="status"]/option[@selected]/@value') == ["missed"]
    assert form.xpath('.//input[@name="side"]/@value') == ["320509"]
    # The language link and the spreadsheet link keep the filters.
    for link in ("language", "csv", "xlsx"):
        query = parse_qs(urlsplit(doc.xpath(f'//a[@id="{link}"]/@href')[0]).query)
        assert query["on"] == [DAY.isoformat()] and query["status"] == ["missed"], link
        assert query["level"] == ["town"] and query["side"] == ["320509"], link
    assert parse_qs(urlsplit(doc.xpath('//a[@id="language"]/@href')[0]).query)["lang"] == ["zh"]


def test_a_browser_without_a_sign_in_is_sent_to_sign_in_and_back(
    demo_client: TestClient,
) -> None:
    answer = demo_client.get(
        "/duty?status=missed", headers={"Accept": "text/html"}, follow_redirects=False
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?next=%2Fduty%3Fstatus%3Dmissed"
