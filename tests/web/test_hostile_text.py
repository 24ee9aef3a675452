"""Hostile names and descriptions render inert on every page, popup, tooltip, the meeting pack
and the phone pages (tests/browser/test_hostile_text.py runs the map and pack in a browser)."""

from __future__ import annotations

from datetime import date
from html import escape
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_patrol.access.principal import command_line_principal
from geo_patrol.access.scope import Scope
from geo_patrol.core.vocabulary import ChiefLevel
from geo_patrol.duty.appointments import AppointmentSpec, create_appointment
from geo_patrol.web.cases import incident_page
from tests.support import oracle
from tests.support.hostile_text import LINK, check, hostile, poison_demo
from tests.support.principals import headers_for


@pytest.fixture
def poisoned(
    demo_client: TestClient, demo_session: Session
) -> tuple[TestClient, dict[str, dict[str, str]], dict[str, Any]]:
    """The demo with hostile names everywhere, a hostile report and a hostile patrol."""
    headers = headers_for(demo_session)
    poison_demo(demo_session)
    category = demo_session.execute(
        text("SELECT code FROM incident_categories ORDER BY code LIMIT 1")
    ).scalar_one()
    report = demo_client.post(
        "/api/v1/incidents",
        json={
            "category": category,
            "lon": 120.6102,
            "lat": 30.9301,
            "description": hostile("description"),
            "address": hostile("address"),
        },
        headers=headers["sz.patrol"],
    )
    assert report.status_code == 201, report.text
    joint = demo_session.execute(
        text("SELECT id FROM teams WHERE name LIKE '%联合巡河队一队'")
    ).scalar_one()
    lons, lats = oracle.border_crossing_line(600)
    walk = oracle.gpx(lons, lats, oracle.times(len(lons)), name=escape(hostile("gpx")))
    patrol = demo_client.post(
        "/api/v1/patrols",
        headers=headers["sz.patrol"],
        data={"team_id": str(joint), "title": hostile("title")},
        files={"file": ("walk.gpx", walk, "application/gpx+xml")},
    )
    assert patrol.status_code == 201, patrol.text
    device = demo_client.post(
        "/api/v1/devices",
        json={"member_id": _member(demo_session, "sz.patrol"), "label": hostile("label")},
        headers=headers["admin"],
    )
    assert device.status_code == 201, device.text
    # A chief (their name poisoned above) on the border river: the map's duty layer and the
    # pack's duty section show them.
    create_appointment(
        demo_session,
        spec=AppointmentSpec(
            member_id=_member(demo_session, "sz.patrol"),
            level=ChiefLevel.VILLAGE,
            jurisdiction_code="320509100202",
            river_code="R-320509-330411-01",
            valid_from=date(2020, 1, 1),
            stretch_label=hostile("stretch"),
        ),
        scope=Scope(everything=True),
        by=command_line_principal(),
    )
    ids = {
        "incident": report.json()["id"],
        "patrol": patrol.json()["id"],
        "device": device.json()["id"],
    }
    return demo_client, headers, ids


def _member(session: Session, login: str) -> int:
    """Id of a demo login."""
    return int(
        session.execute(text("SELECT id FROM members WHERE login = :l"), {"l": login}).scalar_one()
    )


def page(client: TestClient, url: str, headers: dict[str, str], *labels: str) -> str:
    """GET an HTML page; check it shows each label (so the hostile text did reach it)."""
    answer = client.get(url, headers=headers)
    assert answer.status_code == 200, (url, answer.text[:300])
    for label in labels:
        assert label in answer.text, (url, label)
    return str(answer.text)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_page_renders_hostile_text_inert(
    lang: str, poisoned: tuple[TestClient, dict[str, dict[str, str]], dict[str, Any]]
) -> None:
    client, headers, ids = poisoned
    admin = headers["admin"]
    pages = {
        "map": page(
            client,
            f"/map?lang={lang}",
            admin,
            "jurisdictions",
            "rivers",
            "villages",
            "cooperation_zones",
            "category",
            "teams",
            "members",
            "gp-duty-popup",  # the chief's stretch on the duty layer
        ),
        "map filtered": page(client, f"/map?lang={lang}&category={LINK}&zone=%22%3E%3Cb%3E", admin),
        "incident list": page(client, f"/incidents?lang={lang}", admin, "category"),
        "incident": page(
            client,
            f"/incidents/{ids['incident']}?lang={lang}",
            admin,
            "description",
            "address",
            "category",
            "jurisdictions",
        ),
        "meeting pack": page(
            client,
            f"/api/v1/meeting-pack?zone=ZONE-SZ-WJJ&lang={lang}",
            admin,
            "teams",
            "rivers",
            "title",
            "cooperation_zones",
            "members",
        ),
        "devices": page(client, f"/m/devices?lang={lang}", admin, "members", "label"),
        "device set-up": page(
            client, f"/m/devices/{ids['device']}/setup?lang={lang}", admin, "members", "label"
        ),
        "duty": page(client, f"/duty?lang={lang}", admin, "cooperation_zones"),
        "sign-in": page(client, f"/login?lang={lang}&next={LINK}", {}),
        "phone app": page(client, "/m/", {}),
    }
    for where, html in pages.items():
        check(html, where)


def test_the_set_up_codes_render_inert(
    poisoned: tuple[TestClient, dict[str, dict[str, str]], dict[str, Any]],
) -> None:
    client, headers, ids = poisoned
    made = client.post(f"/m/devices/{ids['device']}/setup", headers=headers["admin"])
    assert made.status_code == 200
    check(f"<html><body>{made.json()['html']}</body></html>", "set-up codes")


def test_the_templates_escape_every_value_themselves() -> None:
    """Safe by default: a value handed to a template is text unless our code marks it
    `Markup`, so page code that forgets to escape cannot open a hole (it has no escape
    calls to forget: tests/web/test_page_code.py)."""
    from markupsafe import Markup

    from geo_patrol.web.render import ENV, render

    autoescape = ENV.autoescape
    assert callable(autoescape)
    for name in ENV.list_templates(extensions=["html", "svg"]):
        assert autoescape(name), name
    text = hostile("value")
    incident = {
        "id": 7,
        "category_name": text,
        "is_joint": True,
        "status": text,
        "tier": text,
        "severity": text,
        "overdue": True,
        "geometry": {"type": "Point", "coordinates": [120.6, 30.9]},
        "responsible": [
            {"role": role, "direct": True, "name": text, "code": text} for role in ("lead", "co")
        ],
        "deadline_at": None,
        "reported_at": None,
        "received_at": None,
        "resolved_at": None,
        "source": text,
        "address": text,
        "description": text,
        "duplicate_of": None,
        "photos": [],
        "history": [
            {"at": None, "kind": text, "actor": text, "to_status": text, "to_tier": text}
            | {"note": text}
        ],
        "verifications": [],
        "duplicates": [],
    }
    drawing = {
        "view_box": (0.0, -1.0, 1.0, 1.0),
        "point": (0.5, -0.5),
        "shapes": [
            {"kind": "jurisdiction", "code": text, "name": text, "path": "M 0 0 L 1 1"}
            | {"label_x": 0.5, "label_y": -0.5}
        ],
    }
    page = incident_page.render(
        incident, drawing, lang="en", steps=["resolve"], csrf="token", error=text
    )
    check(page, "incident page of hostile values")
    assert page.count(text) == 0 and page.count("gpPwned(1)") >= 14, page
    assert render("map/tooltip.html", lang="zh", text=Markup("<i>x</i>")) == "<i>x</i>"
