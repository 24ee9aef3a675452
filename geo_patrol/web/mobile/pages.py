"""The phone web app's shell, manifest and service worker, and the lead's set-up pages."""

from __future__ import annotations

import hashlib
import json
from functools import cache
from pathlib import Path
from typing import Any

from geo_patrol.accounts.phone_setup import PhoneSetup
from geo_patrol.core.local_time import local_minute
from geo_patrol.web.markup import esc
from geo_patrol.web.mobile.text import APP, SETUP, words

STATIC_DIR = Path(__file__).resolve().parents[2] / "static" / "mobile"
STATIC_URL = "/static/mobile"

# The shell holds no member data: it is the same for everybody, so the service worker may
# keep it. Everything personal comes from the API into the page's IndexedDB.
SHELL = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1, viewport-fit=cover">
<meta name="theme-color" content="#0b5d7a">
<title>巡河 geo-patrol</title>
<link rel="manifest" href="/m/manifest.webmanifest">
<link rel="icon" href="/static/mobile/icon.svg" type="image/svg+xml">
<link rel="apple-touch-icon" href="/static/mobile/icon-192.png">
<link rel="stylesheet" href="/static/vendor/leaflet/dist/leaflet.css">
<link rel="stylesheet" href="/static/mobile/app.css">
</head>
<body data-default-lang="{lang}" data-answer-ms="{answer_ms}">
<header><h1 data-t="title"></h1><span id="who" class="muted"></span>
<span id="net" class="pill"></span><button id="queue-badge" class="pill" type="button"></button>
</header>
<nav id="tabs" hidden>
<button type="button" data-view="patrol" data-t="tab_patrol"></button>
<button type="button" data-view="report" data-t="tab_report"></button>
<button type="button" data-view="queue" data-t="tab_queue"></button>
<button type="button" data-view="more" data-t="tab_more"></button>
</nav>
<main>
<section id="signin" hidden>
<p data-t="signin_intro"></p>
<form id="signin-form">
<label><span data-t="login"></span><input name="login" autocomplete="username" required></label>
<label><span data-t="password"></span>
<input name="password" type="password" autocomplete="current-password" required></label>
<button type="submit" class="primary" data-t="signin"></button>
<p id="signin-error" class="error"></p>
</form>
</section>

<section id="view-patrol" class="view" hidden>
<p class="note" data-t="screen_off"></p>
<div id="patrol-setup" class="view-part">
<label><span data-t="team"></span><select id="team"></select></label>
<label><span data-t="mode"></span><select id="mode">
<option value="foot" data-t="mode_foot"></option><option value="boat" data-t="mode_boat"></option>
<option value="car" data-t="mode_car"></option></select></label>
<fieldset><legend data-t="members"></legend><div id="members"></div></fieldset>
<button id="start" type="button" class="primary" data-t="start"></button>
</div>
<div id="patrol-live" hidden>
<div class="stats">
<div class="stat"><span data-t="distance"></span><b id="distance">0 m</b></div>
<div class="stat"><span data-t="duration"></span><b id="duration">00:00:00</b></div>
<div class="stat"><span data-t="fixes"></span><b id="fix-count">0</b></div>
<div class="stat"><span data-t="gaps"></span><b id="gap-count">0</b></div>
</div>
<p id="gps-status" class="muted"></p>
<div class="row"><button id="report-here" type="button" data-t="report_here"></button>
<button id="stop" type="button" class="stop" data-t="stop"></button></div>
</div>
<div id="patrol-map" class="map"></div>
</section>

<section id="view-report" class="view" hidden>
<form id="report-form">
<label><span data-t="category"></span><select id="category" name="category" required></select>
</label>
<label><span data-t="severity"></span><select id="severity" name="severity">
<option value="low" data-t="severity_low"></option>
<option value="medium" selected data-t="severity_medium"></option>
<option value="high" data-t="severity_high"></option>
<option value="critical" data-t="severity_critical"></option></select></label>
<label><span data-t="photo"></span>
<input id="photo" name="photo" type="file" accept="image/*" capture="environment"></label>
<div id="photo-preview"></div>
<label><span data-t="description"></span>
<textarea name="description" maxlength="4000"></textarea></label>
<fieldset><legend data-t="where"></legend>
<label class="check"><input type="radio" name="where" id="where-here" value="here" checked>
<span data-t="where_here"></span></label>
<label class="check"><input type="radio" name="where" id="where-map" value="map">
<span data-t="where_map"></span></label></fieldset>
<div id="report-map" class="map"></div>
<button type="submit" class="primary" data-t="submit_report"></button>
</form>
</section>

<section id="view-queue" class="view" hidden>
<button id="sync-now" type="button" class="primary" data-t="sync_now"></button>
<ul id="queue-list" class="list"></ul>
</section>

<section id="view-more" class="view" hidden>
<h2 data-t="recent_patrols"></h2><ul id="recent-patrols" class="list"></ul>
<h2 data-t="nearby"></h2><ul id="nearby" class="list"></ul>
<h2 data-t="upload_file"></h2>
<form id="file-form">
<input name="track" type="file" accept=".gpx,.kml,.kmz,.geojson,.json,.csv" required>
<label><span data-t="team"></span><select id="file-team" name="team"></select></label>
<label><span data-t="datum"></span><select name="datum">
<option value="wgs84">WGS84 (GPS)</option><option value="gcj02">GCJ-02</option>
<option value="bd09">BD-09</option></select></label>
<button type="submit" data-t="queue_file_button"></button>
</form>
<div class="row"><a id="lang-switch" href="/m/?lang=en"></a></div>
<button id="signout" type="button" class="danger" data-t="signout"></button>
</section>
</main>
<div id="toast" role="status" hidden></div>
<script id="strings" type="application/json">{strings}</script>
<script src="/static/vendor/leaflet/dist/leaflet.js"></script>
<script type="module" src="/static/mobile/app.js"></script>
</body></html>
"""


def shell(default_lang: str, answer_seconds: float = 60) -> str:
    """The app shell page (no member data in it); `answer_seconds` is how long the phone
    waits for an answer to what it sends."""
    strings = json.dumps(APP, ensure_ascii=False).replace("</", "<\\/")
    lang = "en" if default_lang == "en" else "zh"
    answer_ms = str(round(answer_seconds * 1000))
    return (
        SHELL.replace("{lang}", lang)
        .replace("{answer_ms}", answer_ms)
        .replace("{strings}", strings)
    )


def manifest() -> dict[str, Any]:
    """The web app manifest: installable, scoped to /m/."""
    return {
        "name": "geo-patrol 巡河",
        "short_name": "巡河",
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
    """A digest of the app's files and shell: a new one makes phones fetch a new copy."""
    digest = hashlib.sha256(SHELL.encode())
    digest.update(json.dumps(APP, sort_keys=True).encode())
    for path in sorted(STATIC_DIR.iterdir()):
        if path.is_file():
            digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()[:16]


def service_worker() -> str:
    """The service worker script with the current asset version."""
    source = (STATIC_DIR / "sw.js").read_text(encoding="utf-8")
    return source.replace("__VERSION__", asset_version())


PAGE = """<!doctype html>
<html lang="{html_lang}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="csrf-token" content="{csrf}">
<title>{title}</title>
<link rel="stylesheet" href="/static/mobile/app.css">
</head><body><header><h1>{title}</h1><a class="pill" href="?lang={other_lang}">{lang}</a>
</header><main>{body}</main>
<script>
// Cookie-signed writes carry the session's CSRF token in a header.
async function gpSend(method, url, body) {{
  const response = await fetch(url, {{method, credentials: "same-origin",
    headers: {{"X-CSRF-Token": document.querySelector("meta[name=csrf-token]").content,
              "Content-Type": "application/json"}}, body: body ? JSON.stringify(body) : null}});
  if (!response.ok) {{
    let detail = "HTTP " + response.status;
    try {{ detail = (await response.json()).detail || detail; }} catch (e) {{}}
    throw new Error(detail);
  }}
  return response.status === 204 ? null : response.json();
}}
{script}
</script></body></html>
"""


def page(*, lang: str, title: str, body: str, script: str, csrf: str) -> str:
    """A server-rendered page in the app's style."""
    w = words(SETUP, lang)
    return PAGE.format(
        html_lang="en" if lang == "en" else "zh-CN",
        title=esc(title),
        body=body,
        script=script,
        csrf=esc(csrf),
        lang=w["lang"],
        other_lang="zh" if lang == "en" else "en",
    )


def _steps(text: str) -> str:
    """Numbered steps from "a|b|c"."""
    return "<ol>" + "".join(f"<li>{esc(step)}</li>" for step in text.split("|")) + "</ol>"


def setup_body(*, lang: str, device: dict[str, Any], setup: PhoneSetup | None) -> str:
    """The set-up page's content: instructions, and the QR codes once they are made."""
    w = words(SETUP, lang)
    if device["revoked_at"] is not None:
        return f'<p class="note">{esc(w["revoked_note"])}</p>' + _back(lang)
    codes = setup_codes(lang=lang, setup=setup) if setup else ""
    button = w["regenerate"] if setup else w["generate"]
    return (
        f'<p class="note">{esc(w["secret"])}</p>'
        f'<button id="generate" type="button" class="primary">{esc(button)}</button>'
        f'<p id="error" class="error"></p><div id="codes">{codes}</div>' + _back(lang)
    )


def _back(lang: str) -> str:
    """The link back to the device list."""
    return f'<p><a href="/m/devices?lang={lang}">{esc(words(SETUP, lang)["back"])}</a></p>'


def setup_codes(*, lang: str, setup: PhoneSetup) -> str:
    """The three QR codes with their steps and the values in plain text."""
    w = words(SETUP, lang)
    qr = setup.qr_codes()

    def block(key: str, payload: str, extra: str = "") -> str:
        return (
            f'<section class="setup" id="setup-{key}"><h2>{esc(w[key])}</h2>'
            f"{_steps(w[key + '_steps'])}"
            f'<div class="qr" data-payload="{esc(payload)}">{qr[key]}</div>{extra}</section>'
        )

    manual = (
        f"<p>{esc(w['traccar_manual'])}</p><dl>"
        f"<dt>{esc(w['server_url'])}</dt><dd><code id='server-url'>"
        f"{esc(setup.server_url)}</code></dd>"
        f"<dt>{esc(w['device_id'])}</dt><dd><code id='device-id'>{esc(setup.token)}</code>"
        "</dd></dl>"
    )
    osmand = f"<p><code id='osmand-url'>{esc(setup.osmand_url)}</code></p>"
    return (
        block("traccar", setup.traccar_url, manual)
        + block("osmand", setup.osmand_url, osmand)
        + block("app", setup.app_url)
    )


SETUP_SCRIPT = """
const button = document.getElementById("generate");
if (button) {
  const make = async () => {
    button.disabled = true;
    try {
      const made = await gpSend("POST", location.pathname + location.search);
      document.getElementById("codes").innerHTML = made.html;
      document.getElementById("error").textContent = "";
      button.textContent = made.button;
    } catch (error) {
      document.getElementById("error").textContent = ERROR_PREFIX + error.message;
    } finally {
      button.disabled = false;
    }
  };
  button.addEventListener("click", make);
  if (location.hash === "#make") {
    history.replaceState(null, "", location.pathname + location.search);
    make();
  }
}
"""


def setup_script(lang: str) -> str:
    """The set-up page's script: make the codes on request (a POST with the CSRF token)."""
    prefix = json.dumps(words(SETUP, lang)["error"], ensure_ascii=False)
    return f"const ERROR_PREFIX = {prefix};" + SETUP_SCRIPT


def devices_body(*, lang: str, devices: list[dict[str, Any]], members: list[dict[str, Any]]) -> str:
    """The device list (set up, revoke) and, for leads, the form to register a phone."""
    w = words(SETUP, lang)
    rows = []
    for d in devices:
        status = w["revoked"] if d["revoked_at"] else w["active"]
        seen = local_minute(d["last_seen_at"])
        actions = (
            ""
            if d["revoked_at"]
            else (
                f'<div class="row"><a class="pill" href="/m/devices/{d["id"]}/setup?lang={lang}">'
                f'{esc(w["setup"])}</a><button type="button" class="danger revoke" '
                f'data-id="{d["id"]}">{esc(w["revoke"])}</button></div>'
            )
        )
        rows.append(
            f'<li class="device" data-id="{d["id"]}"><b>{esc(d["label"])}</b> · '
            f"{esc(d['member_name'])} · …{esc(d['token_hint'] or '')}<br>"
            f'<span class="muted">{esc(status)} · {esc(w["last_seen"])} {seen}</span>'
            f"{actions}</li>"
        )
    listing = "".join(rows) or f"<li>{esc(w['none'])}</li>"
    form = ""
    if members:
        options = "".join(f'<option value="{m["id"]}">{esc(m["name"])}</option>' for m in members)
        form = (
            f'<h2>{esc(w["issue_title"])}</h2><form id="issue" class="view">'
            f'<label>{esc(w["member"])}<select name="member_id">{options}</select></label>'
            f'<label>{esc(w["label"])}<input name="label" required maxlength="200"></label>'
            f'<button type="submit" class="primary">{esc(w["issue"])}</button>'
            '<p id="error" class="error"></p></form>'
        )
    return f'<ul class="list">{listing}</ul>{form}'


def devices_script(lang: str) -> str:
    """Revoke (DELETE /api/v1/devices/{id}) and register (POST /api/v1/devices) from the page."""
    w = words(SETUP, lang)
    confirm = json.dumps(w["confirm_revoke"], ensure_ascii=False)
    return f"""
for (const button of document.querySelectorAll("button.revoke")) {{
  button.addEventListener("click", async () => {{
    if (!confirm({confirm})) return;
    try {{ await gpSend("DELETE", "/api/v1/devices/" + button.dataset.id); location.reload(); }}
    catch (error) {{ alert(error.message); }}
  }});
}}
const issue = document.getElementById("issue");
if (issue) {{
  issue.addEventListener("submit", async (event) => {{
    event.preventDefault();
    try {{
      const made = await gpSend("POST", "/api/v1/devices",
        {{member_id: Number(issue.member_id.value), label: issue.label.value}});
      location.href = "/m/devices/" + made.id + "/setup?lang={lang}#make";
    }} catch (error) {{ document.getElementById("error").textContent = error.message; }}
  }});
}}
"""
