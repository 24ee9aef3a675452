"""The phone web app's server side on the demo data: the shell, manifest and service worker,
the team list a phone gets, and who may make a phone's set-up codes."""

from __future__ import annotations

import json
import re
import struct
from html import escape
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_patrol.accounts.phone_setup import phone_setup, public_base
from geo_patrol.api.middleware import CONTENT_SECURITY_POLICY
from geo_patrol.core.catalog import section
from geo_patrol.core.settings import Settings
from geo_patrol.web.mobile.pages import STATIC_DIR, STATIC_URL
from tests.support.principals import SZ_PHONE_TOKEN, member_id


def sz_phone(session: Session) -> int:
    """The demo device of sz.patrol."""
    return int(
        session.execute(
            text("SELECT id FROM devices WHERE member_id = :m AND label = 'demo phone'"),
            {"m": member_id(session, "sz.patrol")},
        ).scalar_one()
    )


def test_shell_is_public_same_for_everybody_and_holds_no_data(demo_client: TestClient) -> None:
    anonymous = demo_client.get("/m/")
    phone = demo_client.get("/m/", headers={"Authorization": f"Bearer {SZ_PHONE_TOKEN}"})
    assert anonymous.status_code == 200 and anonymous.text == phone.text
    assert anonymous.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "吴永明" not in anonymous.text and "gpd_" not in anonymous.text
    strings = re.search(r'id="strings" type="application/json">(.*?)</script>', anonymous.text)
    assert strings and json.loads(strings.group(1)) == section("app")
    assert set(section("app")["zh"]) == set(section("app")["en"])
    assert 'data-default-lang="zh"' in anonymous.text
    # How long phones wait for an answer (GEO_PATROL_MOBILE_ANSWER_SECONDS, default 60 s).
    assert 'data-answer-ms="60000"' in anonymous.text
    assert not re.search(r"(src|href)=\"https?://", anonymous.text)  # nothing from elsewhere


def test_manifest_and_service_worker(demo_client: TestClient) -> None:
    manifest = demo_client.get("/m/manifest.webmanifest")
    assert manifest.headers["content-type"].startswith("application/manifest+json")
    body = manifest.json()
    assert body["scope"] == body["start_url"] == "/m/"
    icons = {icon["src"]: (icon["type"], icon["sizes"]) for icon in body["icons"]}
    assert icons == {
        f"{STATIC_URL}/icon-192.png": ("image/png", "192x192"),
        f"{STATIC_URL}/icon-512.png": ("image/png", "512x512"),
        f"{STATIC_URL}/icon.svg": ("image/svg+xml", "any"),
    }
    for src, (media, sizes) in icons.items():
        served = demo_client.get(src)
        assert served.status_code == 200, src
        assert served.headers["content-type"].startswith(media), src
        if media == "image/png":  # the PNG's own header says how big it is (IHDR)
            assert served.content[:8] == b"\x89PNG\r\n\x1a\n", src
            width, height = struct.unpack(">II", served.content[16:24])
            assert f"{width}x{height}" == sizes, src
        else:
            assert served.text.lstrip().startswith("<svg"), src
    worker = demo_client.get("/m/sw.js")
    assert worker.headers["content-type"].startswith("text/javascript")
    assert worker.headers["cache-control"] == "no-cache"
    assert "__VERSION__" not in worker.text
    # Every file the worker keeps is served; none of them is an API answer.
    files = re.findall(r'^\s+"(/[^"]+)",$', worker.text, flags=re.MULTILINE)
    assert "SHELL," in worker.text and not [f for f in files if f.startswith("/api/")]
    for path in files:
        assert demo_client.get(path).status_code == 200, path
    # ...and every file of the app is among them, or the app would not open offline.
    ours = {f"{STATIC_URL}/{p.name}" for p in STATIC_DIR.iterdir() if p.name != "sw.js"}
    assert ours <= set(files)


def test_phone_gets_its_teams_with_names_only(
    demo_client: TestClient, headers: dict[str, dict[str, str]]
) -> None:
    teams = demo_client.get("/api/v1/mobile/teams", headers=headers["sz.phone"]).json()
    assert {t["name"] for t in teams} == {"联合巡河队一队", "盛泽巡河队"}
    for team in teams:
        assert team["members"] and all(set(m) == {"id", "name"} for m in team["members"])
    supervisor = demo_client.get("/api/v1/mobile/teams", headers=headers["wujiang.sup"])
    assert supervisor.json() == []  # supervisors do not upload patrols


@pytest.mark.parametrize(
    ("who", "status"),
    # The demo phone acts for the joint team and 盛泽巡河队: a lead of only one of them may
    # not hand out a token with rights over the other (tests/accounts/test_device_targets.py).
    [
        ("sz.patrol", 200),
        ("sz.lead", 404),
        ("admin", 200),
        ("wjj.patrol", 404),
        ("joint.lead", 404),
        ("shengze.sup", 404),
    ],
)
def test_who_may_make_set_up_codes(
    who: str,
    status: int,
    demo_client: TestClient,
    demo_session: Session,
    headers: dict[str, dict[str, str]],
) -> None:
    device = sz_phone(demo_session)
    made = demo_client.post(f"/m/devices/{device}/setup", headers=headers[who])
    assert made.status_code == status, made.text
    page = demo_client.get(f"/m/devices/{device}/setup", headers=headers[who])
    assert page.status_code == status
    if status == 200:
        assert made.headers["cache-control"] == "no-store"
        token = re.search(r"id='device-id'>(gpd_[\w-]+)<", made.json()["html"])
        assert token, made.json()["html"]
        # The new credential works, the old one (the demo phone's) no longer does.
        new = {"Authorization": f"Bearer {token.group(1)}"}
        assert demo_client.get("/api/v1/me", headers=new).status_code == 200
        assert demo_client.get("/api/v1/me", headers=headers["sz.phone"]).status_code == 401
    else:
        # Refused: nothing changed, the phone keeps working with its token.
        assert made.json()["detail"] == f"no device {device}"
        assert demo_client.get("/api/v1/me", headers=headers["sz.phone"]).status_code == 200


def test_a_phone_cannot_set_itself_up_and_revoked_phones_are_refused(
    demo_client: TestClient, demo_session: Session, headers: dict[str, dict[str, str]]
) -> None:
    device = sz_phone(demo_session)
    by_phone = demo_client.post(f"/m/devices/{device}/setup", headers=headers["sz.phone"])
    assert by_phone.status_code == 403
    assert demo_client.get("/api/v1/me", headers=headers["sz.phone"]).status_code == 200
    assert demo_client.delete(f"/api/v1/devices/{device}", headers=headers["admin"]).is_success
    again = demo_client.post(f"/m/devices/{device}/setup", headers=headers["admin"])
    assert again.status_code == 409
    assert "revoked" in again.json()["detail"]


def test_set_up_page_in_both_languages(
    demo_client: TestClient, demo_session: Session, headers: dict[str, dict[str, str]]
) -> None:
    device = sz_phone(demo_session)
    zh = demo_client.get(f"/m/devices/{device}/setup", headers=headers["sz.patrol"])
    en = demo_client.get(f"/m/devices/{device}/setup?lang=en", headers=headers["sz.patrol"])
    assert (
        section("setup")["zh"]["generate"] in zh.text
        and section("setup")["en"]["generate"] in en.text
    )
    assert zh.headers["cache-control"] == "no-store"
    made = demo_client.post(f"/m/devices/{device}/setup?lang=en", headers=headers["sz.patrol"])
    for step in section("setup")["en"]["traccar_steps"].split("|"):
        assert escape(step) in made.json()["html"]


def test_browser_without_sign_in_is_sent_to_the_sign_in_page(demo_client: TestClient) -> None:
    page = demo_client.get(
        "/m/devices/1/setup", headers={"Accept": "text/html"}, follow_redirects=False
    )
    assert page.status_code == 303
    assert page.headers["location"] == "/login?next=%2Fm%2Fdevices%2F1%2Fsetup"


def test_set_up_addresses_follow_the_apps_conventions() -> None:
    settings = Settings(public_url="https://patrol.example.org/")
    base = public_base(settings, "http://10.0.0.5:8000/")
    assert base == "https://patrol.example.org"
    assert public_base(Settings(), "http://10.0.0.5:8000/") == "http://10.0.0.5:8000"
    setup = phone_setup(base=base, token="gpd_abc-DEF_1")
    traccar = urlsplit(setup.traccar_url)  # Traccar Client: origin + path, then the query
    assert f"{traccar.scheme}://{traccar.netloc}{traccar.path}" == setup.server_url
    assert setup.server_url == "https://patrol.example.org/osmand"
    assert parse_qs(traccar.query) == {
        "id": ["gpd_abc-DEF_1"],
        "accuracy": ["high"],
        "interval": ["10"],
        "distance": ["10"],
        "buffer": ["true"],
    }
    osmand = setup.osmand_url.format(30.93, 120.6, 1764000000, 3.0, 4.0, 1.5)
    assert parse_qs(urlsplit(osmand).query)["lat"] == ["30.93"]
    assert setup.app_url == "https://patrol.example.org/m/#device=gpd_abc-DEF_1"
    assert set(setup.qr_codes()) == {"traccar", "osmand", "app"}
