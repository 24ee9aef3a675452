"""The meeting pages over HTTP on the demo: the preparation form carries the proposed agenda
(checked against the JSON API's), its post creates the meeting with the items ticked, a
decision is recorded with owners on both sides, an owner posts an update, a supervisor of
the other side is refused; forms without the session's CSRF token are refused and a bad
date shows the page again with the error (never a 500). The stored results are read back
through the meetings domain, not through the pages."""

from __future__ import annotations

import hashlib
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

import httpx
from fastapi.testclient import TestClient
from lxml import html
from sqlalchemy.orm import Session

from geo_patrol.access.scope import Scope
from geo_patrol.core import catalog
from geo_patrol.core.vocabulary import AgendaKind, DecisionStatus, MeetingStatus
from geo_patrol.demo.accounts import DEFAULT_PASSWORD, ZONE
from geo_patrol.meetings.decisions import decisions_of, get_decision
from geo_patrol.meetings.records import get_meeting, list_meetings
from tests.support.principals import member_id

EVERYTHING = Scope(everything=True)
TODAY = date.today()


def sign_in(client: TestClient, login: str) -> str:
    """A browser session for `login` on the client (its cookie); the session's CSRF token."""
    client.cookies.clear()
    answer = client.post("/api/v1/auth/login", json={"login": login, "password": DEFAULT_PASSWORD})
    assert answer.status_code == 200, answer.text
    token: str = answer.json()["csrf_token"]
    return token


def form_fields(form: Any) -> list[tuple[str, str]]:
    """What a browser sends for a form as it stands: inputs, ticked boxes, text areas."""
    fields: list[tuple[str, str]] = []
    for element in form.iter("input", "textarea", "select"):
        name = element.get("name")
        if not name:
            continue
        if element.tag == "textarea":
            fields.append((name, element.text or ""))
        elif element.tag == "select":
            chosen = [o for o in element.iter("option") if o.get("selected") is not None]
            fields.append((name, chosen[0].get("value") if chosen else ""))
        elif element.get("type") == "checkbox":
            if element.get("checked") is not None:
                fields.append((name, element.get("value")))
        else:
            fields.append((name, element.get("value") or ""))
    return fields


def post(client: TestClient, path: str, fields: list[tuple[str, str]]) -> httpx.Response:
    """A form post, not following the 303."""
    answer: httpx.Response = client.post(
        path,
        content=urlencode(fields),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        follow_redirects=False,
    )
    return answer


def prepared_form(client: TestClient) -> Any:
    """The preparation page's form (English)."""
    page = client.get(f"/meetings/new?zone={ZONE}&lang=en")
    assert page.status_code == 200, page.text
    return html.fromstring(page.text).get_element_by_id("new-meeting")


def create(client: TestClient, fields: list[tuple[str, str]]) -> int:
    """Post the preparation form; the new meeting's id from the 303."""
    answer = post(client, "/meetings?lang=en", fields)
    assert answer.status_code == 303, answer.text
    location = answer.headers["location"]
    assert location.startswith("/meetings/") and location.endswith("?lang=en")
    return int(location.split("/")[2].split("?")[0])


def test_the_coordinator_prepares_records_and_owners_follow_up(
    demo_client: TestClient, demo_session: Session
) -> None:
    sign_in(demo_client, "zone.coord")
    form = prepared_form(demo_client)
    reference = demo_client.get(f"/api/v1/agenda/proposed?zone={ZONE}&lang=en").json()
    assert reference["items"], "the demo proposes an agenda"
    rows = form.get_element_by_id("proposed").findall(".//tr[@class='proposed']")
    assert [r.findall(".//td")[2].text_content() for r in rows] == [
        i["title"] for i in reference["items"]
    ]
    boxes = form.xpath(".//input[@name='item']")
    assert boxes and all(box.get("checked") is not None for box in boxes)
    # Untick the last proposed item, tick one person per side, type a guest, add an item.
    fields = [f for f in form_fields(form) if f != ("item", boxes[-1].get("value"))]
    sz, wjj = member_id(demo_session, "sz.lead"), member_id(demo_session, "wjj.sup")
    fields = [f for f in fields if f[0] not in ("free_items", "place")]
    fields += [("attendee", f"320509:{sz}"), ("attendee", f"330411:{wjj}")]
    fields += [("free_items", "环保局通报\n"), ("place", "盛泽镇政府")]
    names = [i for i, f in enumerate(fields) if f[0] == "attendee_names"]
    fields[names[0]] = ("attendee_names", "环保局 张工")
    meeting_id = create(demo_client, fields)

    meeting = get_meeting(demo_session, scope=EVERYTHING, meeting_id=meeting_id)
    adopted = reference["items"][:-1]
    assert [(a.kind, a.target_id, a.title) for a in meeting.agenda] == [
        *((i["kind"], i["target_id"], i["title"]) for i in adopted),
        ("other", None, "环保局通报"),
    ]
    assert meeting.place == "盛泽镇政府" and meeting.status == "planned"
    assert {
        (a.side_code, a.member_id, a.name if a.member_id is None else None)
        for a in meeting.attendees
    } == {
        ("320509", sz, None),
        ("330411", wjj, None),
        ("320509", None, "环保局 张工"),
    }

    # A decision owned on both sides, linked to the first object of the agenda offered.
    page = html.fromstring(demo_client.get(f"/meetings/{meeting_id}?lang=en").text)
    hrefs = [a.get("href") or "" for a in page.get_element_by_id("agenda").iter("a")]
    assert [h.replace("?lang=en", "").replace("&lang=en", "") for h in hrefs] == [
        i["link"] for i in adopted
    ]  # each adopted item leads where the proposed agenda said, in the page's language
    again = form_fields(page.get_element_by_id("attendees-form"))
    assert ("attendee_names", "环保局 张工") in again  # saving the attendees keeps the guest
    assert {v for k, v in again if k == "attendee"} == {f"320509:{sz}", f"330411:{wjj}"}
    decision_form = page.get_element_by_id("decision-form")
    offered = [box.get("value") for box in decision_form.xpath(".//input[@name='link']")]
    deadline = TODAY + timedelta(days=20)
    fields = [f for f in form_fields(decision_form) if f[0] in ("csrf_token",)]
    fields += [
        ("body", "两岸联合清理漂浮物"),
        ("deadline", deadline.isoformat()),
        ("owner_side", "320509"),
        ("owner_side", "330411"),
        ("owner", f"320509:{sz}"),
        *(("link", value) for value in offered[:1]),
    ]
    answer = post(demo_client, f"/meetings/{meeting_id}/decisions?lang=en", fields)
    assert answer.status_code == 303, answer.text
    [decision] = decisions_of(demo_session, meeting_ids=[meeting_id], today=TODAY)
    assert decision.body == "两岸联合清理漂浮物" and decision.deadline == deadline
    assert {(o.side_code, o.member_id) for o in decision.owners} == {
        ("320509", sz),
        ("330411", None),
    }
    assert [f"{link.kind}:{link.target_id}" for link in decision.links] == offered[:1]
    shown = html.fromstring(demo_client.get(f"/meetings/{meeting_id}?lang=zh").text)
    row = shown.get_element_by_id("decisions").find(f".//tr[@data-id='{decision.id}']")
    assert row is not None and row.get("data-status") == "open"
    assert "未开始" in row.text_content() and deadline.isoformat() in row.text_content()

    # The owner on the Shengze side posts an update from the decision's page.
    token = sign_in(demo_client, "sz.lead")
    page = html.fromstring(demo_client.get(f"/decisions/{decision.id}?lang=en").text)
    assert page.get_element_by_id("update-form") is not None
    fields = [("csrf_token", token), ("note", "已组织打捞"), ("status", "in_progress")]
    answer = post(demo_client, f"/decisions/{decision.id}/updates?lang=en", fields)
    assert answer.status_code == 303 and answer.headers["location"] == (
        f"/decisions/{decision.id}?lang=en"
    )
    updated = get_decision(demo_session, scope=EVERYTHING, decision_id=decision.id, today=TODAY)
    last = updated.updates[-1]
    assert (updated.stored_status, last.to_status, last.note) == (
        "in_progress",
        "in_progress",
        "已组织打捞",
    )
    assert last.member_id == sz

    # Xiuzhou's county supervisor sees a Shengze-only decision, without the form; a crafted
    # post is refused and the history does not move.
    token = sign_in(demo_client, "zone.coord")
    fields = [
        ("csrf_token", token),
        ("body", "盛泽侧补巡"),
        ("deadline", deadline.isoformat()),
        ("owner_side", "320509"),
    ]
    assert post(demo_client, f"/meetings/{meeting_id}/decisions", fields).status_code == 303
    theirs = decisions_of(demo_session, meeting_ids=[meeting_id], today=TODAY)[-1]
    assert {o.side_code for o in theirs.owners} == {"320509"}
    token = sign_in(demo_client, "xiuzhou.sup")
    page = demo_client.get(f"/decisions/{theirs.id}?lang=en")
    assert page.status_code == 200 and 'id="update-form"' not in page.text
    fields = [("csrf_token", token), ("note", "越权"), ("status", "done")]
    refused = post(demo_client, f"/decisions/{theirs.id}/updates?lang=en", fields)
    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("text/html")
    assert html.fromstring(refused.text).get_element_by_id("form-error").text_content()
    after = get_decision(demo_session, scope=EVERYTHING, decision_id=theirs.id, today=TODAY)
    assert after.stored_status == "open" and all(u.note != "越权" for u in after.updates)


def test_forms_without_the_session_token_are_refused(
    demo_client: TestClient, demo_session: Session, headers: dict[str, dict[str, str]]
) -> None:
    sign_in(demo_client, "zone.coord")
    fields = [f for f in form_fields(prepared_form(demo_client)) if f[0] != "csrf_token"]
    before = list_meetings(demo_session, scope=EVERYTHING, zone_code=ZONE, limit=None).items
    missing = post(demo_client, "/meetings", fields)
    wrong = post(demo_client, "/meetings", [("csrf_token", "not-the-token"), *fields])
    assert missing.status_code == 422 and "csrf_token" in missing.text
    assert wrong.status_code == 403
    # A bearer token is no browser session: it has no form token to match.
    demo_client.cookies.clear()
    bearer = demo_client.post(
        "/meetings",
        data=dict([("csrf_token", "x"), *fields]),
        headers=headers["zone.coord"],
        follow_redirects=False,
    )
    assert bearer.status_code == 403
    after = list_meetings(demo_session, scope=EVERYTHING, zone_code=ZONE, limit=None).items
    assert len(after) == len(before)


def test_a_bad_date_shows_the_page_with_the_error(
    demo_client: TestClient, demo_session: Session
) -> None:
    sign_in(demo_client, "zone.coord")
    fields = form_fields(prepared_form(demo_client))
    bad = [(k, "2026-13-45T09:00" if k == "held_at" else v) for k, v in fields]
    bad = [(k, "会商 <b>十二月</b>" if k == "title" else v) for k, v in bad]
    answer = post(demo_client, "/meetings?lang=en", bad)
    assert answer.status_code == 422
    assert answer.headers["content-type"].startswith("text/html")
    page = html.fromstring(answer.text)
    said = page.get_element_by_id("form-error").text_content()
    assert said == "Date and time: not a date and time (YYYY-MM-DD HH:MM)"
    title = page.get_element_by_id("new-meeting").xpath(".//input[@name='title']")[0]
    assert title.get("value") == "会商 <b>十二月</b>"  # as typed, inert
    reversed_period = [(k, "2026-01-31" if k == "period_from" else v) for k, v in fields]
    reversed_period = [(k, "2026-01-01" if k == "period_to" else v) for k, v in reversed_period]
    answer = post(demo_client, "/meetings?lang=zh", reversed_period)
    assert answer.status_code == 422 and 'id="form-error"' in answer.text

    meeting_id = create(demo_client, fields)
    token = fields[0][1]
    for deadline in ("2026-02-30", "", "soon"):
        answer = post(
            demo_client,
            f"/meetings/{meeting_id}/decisions?lang=en",
            [
                ("csrf_token", token),
                ("body", "x"),
                ("deadline", deadline),
                ("owner_side", "320509"),
            ],
        )
        assert answer.status_code == 422, deadline
        said = html.fromstring(answer.text).get_element_by_id("form-error").text_content()
        assert said == "Deadline: not a date (YYYY-MM-DD)"
    answer = post(
        demo_client,
        f"/meetings/{meeting_id}/decisions?lang=en",
        [("csrf_token", token), ("body", "x"), ("deadline", "2027-01-01"), ("owner", "x:1")],
    )
    assert answer.status_code == 422 and "Owners" in answer.text
    assert decisions_of(demo_session, meeting_ids=[meeting_id], today=TODAY) == []
    assert demo_client.get("/decisions?status=late").status_code == 422


def test_an_observer_reads_the_meetings_but_prepares_none(
    demo_client: TestClient, demo_session: Session
) -> None:
    sign_in(demo_client, "meeting.room")
    listing = demo_client.get(f"/meetings?zone={ZONE}&lang=en")
    assert listing.status_code == 200 and 'id="prepare"' not in listing.text
    assert demo_client.get(f"/meetings/new?zone={ZONE}").status_code == 403
    sign_in(demo_client, "sz.patrol")  # sees no zone's meetings
    assert demo_client.get(f"/meetings/new?zone={ZONE}").status_code == 404
    assert 'id="planned"' not in demo_client.get("/meetings").text
    sign_in(demo_client, "zone.coord")
    assert 'id="prepare"' in demo_client.get(f"/meetings?zone={ZONE}").text


def test_every_status_and_kind_has_its_words() -> None:
    codes = [
        *(f"status_{s}" for s in DecisionStatus),
        *(f"kind_{k}" for k in AgendaKind),
        *(f"meeting_{m}" for m in MeetingStatus),
    ]
    for code in codes:
        zh, en = (catalog.text(f"page.meetings.{code}", lang) for lang in ("zh", "en"))
        assert zh and en and zh != en, code


def test_the_follow_up_list_filters_and_highlights_overdue(
    demo_client: TestClient, demo_session: Session, headers: dict[str, dict[str, str]]
) -> None:
    token = sign_in(demo_client, "zone.coord")
    fields = form_fields(prepared_form(demo_client))
    fields = [(k, "会商 <b>逾期</b>" if k == "title" else v) for k, v in fields]
    meeting_id = create(demo_client, fields)
    page = demo_client.get(f"/meetings/{meeting_id}")
    assert "会商 &lt;b&gt;逾期&lt;/b&gt;" in page.text and "<b>逾期" not in page.text
    wjj = member_id(demo_session, "wjj.sup")
    late = (TODAY - timedelta(days=3)).isoformat()
    for body, deadline in (("已过期限的事项", late), ("尚未到期的事项", "2099-01-01")):
        fields = [("csrf_token", token), ("body", body), ("deadline", deadline)]
        fields += [("owner_side", "330411"), ("owner", f"330411:{wjj}")]
        assert post(demo_client, f"/meetings/{meeting_id}/decisions", fields).status_code == 303

    def rows(query: str) -> dict[int, str]:
        doc = html.fromstring(demo_client.get(f"/decisions?{query}").text)
        found = doc.get_element_by_id("decisions").xpath(".//tr[@data-id]")
        return {int(r.get("data-id")): r.get("class") for r in found}

    # The JSON API as the reference, asked by the same person with a bearer token.
    def ids(query: str, who: str = "zone.coord") -> set[int]:
        listed = demo_client.get(f"/api/v1/decisions?{query}", headers=headers[who]).json()
        return {d["id"] for d in listed}

    overdue = rows(f"status=overdue&zone={ZONE}&lang=en")
    assert set(overdue) == ids(f"status=overdue&zone={ZONE}&limit=200") != set()
    assert set(overdue.values()) == {"decision overdue"}
    opened = rows("status=open")
    assert set(opened) == ids("status=open&limit=200")
    assert all(cls == "decision" for cls in opened.values())
    sign_in(demo_client, "wjj.sup")
    mine = rows("mine=1")
    assert set(mine) == ids("mine=true&limit=200", "wjj.sup")
    made = {d.body: d.id for d in decisions_of(demo_session, meeting_ids=[meeting_id], today=TODAY)}
    assert set(made.values()) <= set(mine) and mine[made["已过期限的事项"]] == "decision overdue"


def test_the_pack_shown_is_kept_and_listed_with_its_checksum(
    demo_client: TestClient, demo_session: Session
) -> None:
    token = sign_in(demo_client, "zone.coord")
    meeting_id = create(demo_client, form_fields(prepared_form(demo_client)))
    kept = post(demo_client, f"/meetings/{meeting_id}/packs?lang=en", [("csrf_token", token)])
    assert kept.status_code == 303
    page = html.fromstring(demo_client.get(f"/meetings/{meeting_id}?lang=en").text)
    [link] = page.get_element_by_id("kept").iter("a")
    shown = link.getnext()
    assert shown is not None
    content = demo_client.get(link.get("href") or "").content
    assert len(shown.text_content()) == 12 and b"<html" in content
    assert hashlib.sha256(content).hexdigest().startswith(shown.text_content())


def test_the_other_pages_lead_to_the_meetings(demo_client: TestClient) -> None:
    """The map, the duty page, the incident list and an incident's page link to /meetings
    (and the duty page to /decisions, where reminders send owners) in the page's language."""
    csrf = sign_in(demo_client, "admin")
    report = {"category": "other", "severity": "low", "lon": 120.62, "lat": 30.92}
    made = demo_client.post("/api/v1/incidents", json=report, headers={"X-CSRF-Token": csrf})
    assert made.status_code == 201, made.text
    case = made.json()["id"]
    for path in ("/map", "/duty", "/incidents", f"/incidents/{case}"):
        for lang in ("zh", "en"):
            page = html.fromstring(demo_client.get(f"{path}?lang={lang}").text)
            assert page.xpath(f'//a[@href="/meetings?lang={lang}"]'), (path, lang)
    duty = html.fromstring(demo_client.get("/duty?lang=en").text)
    assert duty.xpath('//a[@href="/decisions?lang=en"]')
