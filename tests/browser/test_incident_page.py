"""The incident list and page in headless Chromium: from the map to the list to the case, the
photo and the map of the place shown, a step taken, nothing fetched from outside, no script
errors."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import httpx
from PIL import Image
from playwright.sync_api import Page

from tests.support.browser import DEMO_PASSWORD, Watch, screenshot, sign_in

PHOTO = Path(__file__).resolve().parents[1] / "fixtures" / "photos" / "exif_full.jpg"


def test_popup_link_opens_the_incident_page(watched_page: tuple[Page, Watch]) -> None:
    page, watch = watched_page
    with httpx.Client(base_url=watch.base, timeout=30) as api:
        token = api.post(
            "/api/v1/auth/tokens", json={"login": "wjj.patrol", "password": DEMO_PASSWORD}
        ).json()["token"]
        reported = api.post(
            "/api/v1/incidents/photo",
            headers={"Authorization": f"Bearer {token}"},
            data={
                "category": "illegal_discharge",
                "severity": "high",
                "description": "排污口 (browser test)",
                "client_id": "browser-incident-page",
                # Seen now (the photo's EXIF time is years old: off the map's 30 days).
                "reported_at": datetime.now(UTC).isoformat(),
            },
            files={"file": ("IMG_0001.jpg", PHOTO.read_bytes(), "image/jpeg")},
        )
        assert reported.status_code == 201, reported.text
        incident_id = reported.json()["id"]
        # What the page must show, from the API: the photo as served (its size read by
        # Pillow) and the sides answering for the case (checked against shapely in
        # tests/maps/test_incident_page.py).
        supervisor = {
            "Authorization": "Bearer "
            + api.post(
                "/api/v1/auth/tokens", json={"login": "wjj.sup", "password": DEMO_PASSWORD}
            ).json()["token"]
        }
        record = api.get(f"/api/v1/incidents/{incident_id}", headers=supervisor).json()
        (photo,) = record["properties"]["photos"]
        served = api.get(
            f"/api/v1/incidents/{incident_id}/photos/{photo['id']}", headers=supervisor
        )
        photo_width = Image.open(io.BytesIO(served.content)).width
        sides = {r["code"] for r in record["properties"]["responsible"] if r["direct"]}

    sign_in(page, watch.base, "wjj.sup", "/map")
    link = f"/incidents/{incident_id}?lang=zh"
    assert link in page.content()  # the popup's link to the record
    # From the map to the list of open cases (soonest deadline first), then to this one.
    with page.expect_navigation():
        page.click("#gp-incident-list")
    assert page.url.endswith("/incidents?lang=zh")
    screenshot(page, "incident-list")
    with page.expect_navigation():
        page.click(f'#incidents a[href="{link}"]')
    page.wait_for_load_state("networkidle")
    assert page.locator("h1").inner_text().startswith(f"#{incident_id} ")
    loaded = page.evaluate(
        "() => [...document.querySelectorAll('#photos img')].map(i => i.complete && i.naturalWidth)"
    )
    assert loaded == [photo_width]
    assert page.locator("#incident-map #incident-point").count() == 1
    drawn = page.eval_on_selector_all(
        "#incident-map path.jurisdiction", "paths => paths.map(p => p.dataset.code)"
    )
    assert sorted(drawn) == sorted(sides) and sides
    # The lead side's supervisor takes a step from the page (a form with the session's token).
    page.select_option("#act select[name=step]", "assign")
    page.fill("#act input[name=note]", "交村里处理")
    with page.expect_navigation():
        page.click("#act button[type=submit]")
    assert page.url.endswith(link)
    assert "已分派" in page.locator("table.facts").inner_text()
    assert "交村里处理" in page.locator("#history").inner_text()
    screenshot(page, "incident-page")
    page.click("nav a[href^='/map']")
    page.wait_for_url("**/map?lang=zh")
    assert watch.outside == [] and watch.errors == []
