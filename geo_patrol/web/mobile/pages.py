"""The phone web app's shell, manifest and service worker, and the lead's set-up pages
(templates/mobile/; the app's words are the catalog's app. keys, the pages' setup. keys)."""

from __future__ import annotations

import hashlib
import json
from functools import cache
from pathlib import Path
from typing import Any

from markupsafe import Markup

from geo_patrol.accounts.phone_setup import PhoneSetup
from geo_patrol.core import catalog
from geo_patrol.web.render import ENV, render

STATIC_DIR = Path(__file__).resolve().parents[2] / "static" / "mobile"
STATIC_URL = "/static/mobile"
SHELL = "mobile/shell.html"


def shell(default_lang: str, answer_seconds: float = 60) -> str:
    """The app shell page (no member data in it; in Chinese until its script picks the
    language); `answer_seconds` is how long the phone waits for an answer to what it sends."""
    return render(
        SHELL,
        lang="zh",
        default_lang=catalog.lang_of(default_lang),
        answer_ms=str(round(answer_seconds * 1000)),
        strings=catalog.section("app"),
    )


def manifest() -> dict[str, Any]:
    """The web app manifest: installable, scoped to /m/."""
    name = catalog.text("app.title", "zh")
    return {
        "name": f"geo-patrol {name}",
        "short_name": name,
        "start_url": "/m/",
        "scope": "/m/",
        "display": "standalone",
        "orientation": "portrait",
        "background_color": "#f3f6f8",
        "theme_color": "#0b5d7a",
        "lang": "zh-CN",
        "icons": [
            {"src": f"{STATIC_URL}/icon-192.png", "sizes": "192x192", "type": "image/png"},
            {"src": f"{STATIC_URL}/icon-512.png", "sizes": "512x512", "type": "image/png"},
            {"src": f"{STATIC_URL}/icon.svg", "sizes": "any", "type": "image/svg+xml"},
        ],
    }


@cache
def asset_version() -> str:
    """A digest of the app's files, shell and words: a new one makes phones fetch a new copy."""
    source = ENV.loader.get_source(ENV, SHELL)[0] if ENV.loader else ""
    digest = hashlib.sha256(source.encode())
    digest.update(json.dumps(catalog.section("app"), sort_keys=True).encode())
    for path in sorted(STATIC_DIR.iterdir()):
        if path.is_file():
            digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()[:16]


def service_worker() -> str:
    """The service worker script with the current asset version."""
    source = (STATIC_DIR / "sw.js").read_text(encoding="utf-8")
    return source.replace("__VERSION__", asset_version())


def devices_page(
    *, lang: str, csrf: str, devices: list[dict[str, Any]], members: list[dict[str, Any]]
) -> str:
    """The device list (set up, revoke) and, for leads, the form to register a phone."""
    title = catalog.text("setup.devices_title", lang)
    return render(
        "mobile/devices.html",
        lang=lang,
        title=title,
        csrf=csrf,
        devices=devices,
        members=members,
    )


def setup_page(*, lang: str, csrf: str, device: dict[str, Any]) -> str:
    """A phone's set-up page: instructions, and a button that makes the QR codes."""
    title = catalog.text(
        "setup.setup_title", lang, label=device["label"], member=device["member_name"]
    )
    return render(
        "mobile/setup.html",
        lang=lang,
        title=title,
        csrf=csrf,
        revoked=device["revoked_at"] is not None,
    )


def setup_codes(*, lang: str, setup: PhoneSetup) -> str:
    """The three QR codes with their steps and the values in plain text."""
    # segno draws the SVG from our own set-up addresses: markup of ours, not outside text.
    qr = {key: Markup(svg) for key, svg in setup.qr_codes().items()}
    return render("mobile/setup_codes.html", lang=lang, setup=setup, qr=qr)
