"""The phone web app in headless Chromium on a 360 px phone: a patrol walked along the demo
border river with the network cut half way, a photo report made offline, the page reloaded
with the queue full, then the network back. The patrol and the report arrive exactly once,
with the track and attribution an independent computation expects (shapely on the demo
polygons), and the photo.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import numpy as np
import pyproj
import pytest
import shapely
from playwright.sync_api import Page

from geo_patrol.demo.load import DEMO_DATA
from tests.support import oracle
from tests.support.browser import (
    ANSWER_S,
    DEMO_PASSWORD,
    DEVICE_TOKEN,
    Link,
    Watch,
    queue,
    screenshot,
    wait_states,
    wait_true,
)
from tests.support.paths import ROOT

JOINT_TEAM = "联合巡河队一队"
PHOTO = ROOT / "tests" / "fixtures" / "photos" / "exif_full.jpg"
TO_METRES = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:32651", always_xy=True)
TO_DEGREES = pyproj.Transformer.from_crs("EPSG:32651", "EPSG:4326", always_xy=True)
STEP_M, OFFSET_M, LEG_M = 20.0, 70.0, 300.0
FIX_EVERY_S = 10  # 2 m/s: a brisk walk, under the 3 m/s the cleaning allows on foot


def _river_m() -> shapely.LineString:
    """The demo border river in metres (UTM 51N)."""
    rivers = json.loads((DEMO_DATA / "rivers.geojson").read_text(encoding="utf-8"))
    coords = next(
        f["geometry"]["coordinates"]
        for f in rivers["features"]
        if f["properties"]["code"] == oracle.BORDER_RIVER
    )
    x, y = TO_METRES.transform(*np.array(coords).T)
    return shapely.LineString(np.column_stack([x, y]))


def _beside(river: shapely.LineString, at: float, offset: float) -> tuple[float, float]:
    """The point `offset` metres left of the river at `at` metres along it."""
    a, b = river.interpolate(at - 1), river.interpolate(at + 1)
    tx, ty = b.x - a.x, b.y - a.y
    norm = float(np.hypot(tx, ty))
    base = river.interpolate(at)
    return base.x - ty / norm * offset, base.y + tx / norm * offset


def river_walk() -> list[tuple[float, float]]:
    """300 m along the border river on the Wujiang bank (70 m off the water), across, and
    back on the Xiuzhou bank: each leg wholly on its side, as shapely says."""
    river = _river_m()
    for start in np.linspace(0.3, 0.6, 13) * river.length:
        for sign in (1, -1):
            along = np.arange(start, start + LEG_M + 1, STEP_M)
            out = [_beside(river, s, sign * OFFSET_M) for s in along]
            back = [_beside(river, s, -sign * OFFSET_M) for s in along[::-1]]
            gap = np.linspace(0, 1, int(2 * OFFSET_M / STEP_M) + 1)[1:-1]
            across = [
                (
                    out[-1][0] + (back[0][0] - out[-1][0]) * f,
                    out[-1][1] + (back[0][1] - out[-1][1]) * f,
                )
                for f in gap
            ]
            metres = [*out, *across, *back]
            lons, lats = TO_DEGREES.transform(*np.array(metres).T)
            points = list(zip(lons.tolist(), lats.tolist(), strict=True))
            first = {oracle.side_of(*p) for p in points[: len(out)]}
            last = {oracle.side_of(*p) for p in points[-len(back) :]}
            if first == {"320509"} and last == {"330411"}:
                return points
    raise AssertionError("no stretch of the border river with clean banks")


@pytest.fixture(scope="module")
def admin(live_server: str) -> Iterator[httpx.Client]:
    """An API client of the live service, as the administrator."""
    with httpx.Client(base_url=live_server, timeout=30) as client:
        token = client.post(
            "/api/v1/auth/tokens", json={"login": "admin", "password": DEMO_PASSWORD}
        ).json()["token"]
        client.headers["Authorization"] = f"Bearer {token}"
        yield client


def walk(page: Page, points: list[tuple[float, float]], already: int = 0) -> None:
    """Move the emulated phone fix by fix, FIX_EVERY_S seconds of page time apart."""
    for number, (lon, lat) in enumerate(points, start=already + 1):
        page.context.set_geolocation({"longitude": lon, "latitude": lat, "accuracy": 5})
        wait_true(
            page, "(n) => document.querySelector('#fix-count').textContent === String(n)", number
        )
        page.clock.fast_forward(FIX_EVERY_S * 1000)


def test_offline_patrol_and_photo_report_arrive_once(
    phone: tuple[Page, Watch], link: Link, admin: httpx.Client
) -> None:
    page, watch = phone
    points = river_walk()
    began = datetime.now(UTC) - timedelta(minutes=40)
    # The page's clock runs from 40 minutes ago, so fixes 10 s apart stay in the past.
    page.clock.install(time=began)
    page.goto(f"{link.url}/m/#device={DEVICE_TOKEN}")
    page.wait_for_selector("#tabs:not([hidden])")
    assert "#device" not in page.url  # the token left the address bar at once
    assert page.evaluate("localStorage.getItem('gp.token')") == DEVICE_TOKEN
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    wait_true(page, "() => navigator.serviceWorker.controller !== null")

    page.select_option("#team", label=JOINT_TEAM)
    page.check("#members label:has-text('陆晓燕') input")
    page.context.set_geolocation({"longitude": points[0][0], "latitude": points[0][1]})
    page.click("#start")
    wait_true(page, "() => document.querySelector('#fix-count').textContent === '1'")
    page.clock.fast_forward(FIX_EVERY_S * 1000)
    half = len(points) // 2
    walk(page, points[1:half], already=1)
    link.cut()  # no signal: the phone says so, and nothing reaches the service
    page.context.set_offline(True)
    page.wait_for_selector("#net.off")
    walk(page, points[half:], already=half)
    screenshot(page, "mobile-patrol")

    page.click("#report-here")
    page.select_option("#category", "illegal_discharge")
    page.select_option("#severity", "high")
    page.set_input_files("#photo", PHOTO)
    page.fill("textarea[name=description]", "排污口冒黑水 (mobile test)")
    page.wait_for_selector("#photo-preview img")
    screenshot(page, "mobile-report")
    page.click("#report-form button[type=submit]")
    page.click("#tabs button[data-view=patrol]")
    page.click("#stop")
    wait_states(page, ["waiting", "waiting"])
    page.click("#tabs button[data-view=queue]")
    screenshot(page, "mobile-queue-offline")

    # Reloaded with no network and the queue full: the service worker serves the app, the
    # queue is still there, in order.
    page.reload()
    page.wait_for_selector("#tabs:not([hidden])")
    # The page tries to sync at once; with no network the item it tried goes back to waiting.
    wait_states(page, ["waiting", "waiting"])
    assert [i["kind"] for i in queue(page)] == ["report", "patrol"]

    link.restore()
    page.context.set_offline(False)  # the 'online' event starts the sync
    # Time for one request lost on the way (given up after ANSWER_S, sent again at the
    # page's next 30 s sync): the phone must get over it, as it would at the river.
    wait_states(page, ["done", "done"], timeout_s=ANSWER_S + 30 + 30)
    page.click("#tabs button[data-view=queue]")
    screenshot(page, "mobile-queue-synced")
    report_id, patrol_id = (item["serverId"] for item in queue(page))

    # Sent again (as after an answer lost on the way back): the server returns the first.
    page.evaluate(
        """() => new Promise((resolve) => {
          const open = indexedDB.open("geo-patrol");
          open.onsuccess = () => {
            const store = open.result.transaction("queue", "readwrite").objectStore("queue");
            const all = store.getAll();
            all.onsuccess = () => { for (const i of all.result) store.put({...i, state: "waiting"});
                                    resolve(true); };
          };
        })"""
    )
    page.click("#sync-now")
    wait_states(page, ["done", "done"])
    assert [(i["serverId"], i["created"]) for i in queue(page)] == [
        (report_id, False),
        (patrol_id, False),
    ]

    # What the service worker keeps: the shell and static files, never an API answer.
    cached: list[str] = page.evaluate(
        """async () => {
          const urls = [];
          for (const name of await caches.keys()) {
            for (const request of await (await caches.open(name)).keys()) urls.push(request.url);
          }
          return urls;
        }"""
    )
    paths = {url.removeprefix(link.url) for url in cached}
    assert "/m/" in paths and "/static/mobile/app.js" in paths
    assert all(p.startswith(("/m/", "/static/mobile/", "/static/vendor/")) for p in paths), paths
    assert not [p for p in paths if "/api/" in p]

    check_patrol(admin, patrol_id, points, began)
    check_report(admin, report_id, points[-1])
    assert watch.outside == []
    # The browser logs each request refused while offline; anything else is a real error.
    offline = "Failed to load resource: net::ERR_INTERNET_DISCONNECTED"
    assert [error for error in watch.errors if error != offline] == []


def check_patrol(
    admin: httpx.Client, patrol_id: int, points: list[tuple[float, float]], began: datetime
) -> None:
    """One patrol of the walk: every fix kept, both sides credited as shapely says."""
    team = next(t for t in admin.get("/api/v1/teams").json() if t["name"] == JOINT_TEAM)
    since = (began - timedelta(minutes=1)).isoformat()
    mine = [
        p
        for p in admin.get("/api/v1/patrols", params={"team_id": team["id"], "since": since}).json()
        if p["source"] == "upload" and p["points_raw"] == len(points)
    ]
    assert [p["id"] for p in mine] == [patrol_id]
    patrol = admin.get(f"/api/v1/patrols/{patrol_id}").json()
    props = patrol["properties"]
    assert props["points_kept"] == len(points), props["dropped"]
    lons, lats = np.array(points).T
    assert np.allclose(patrol["geometry"]["coordinates"], points, atol=1e-6)
    expected = oracle.lengths_by_code(lons, lats, ["320509", "330411"])
    got = {j["code"]: j["length_m"] for j in props["jurisdictions"] if j["level"] == "county"}
    assert set(got) == {"320509", "330411"}
    for code, metres in expected.items():
        assert got[code] == pytest.approx(metres, rel=0.01, abs=2.0), (code, got, expected)
    # The phone's owner, and the one companion ticked on the phone (陆晓燕), nobody else.
    logins = {m["id"]: m["login"] for m in admin.get("/api/v1/members").json()}
    assert sorted(logins[i] for i in props["member_ids"]) == ["sz.patrol", "wjj.patrol"]


def check_report(admin: httpx.Client, report_id: int, where: tuple[float, float]) -> None:
    """One report, at the last fix, with its photo, led by the side it lies on."""
    # Not by time: a photo report is dated when the photo was taken (its EXIF time).
    lon, lat = where
    bbox = f"{lon - 0.001},{lat - 0.001},{lon + 0.001},{lat + 0.001}"
    found = admin.get("/api/v1/incidents", params={"bbox": bbox, "category": "illegal_discharge"})
    same = [
        f
        for f in found.json()["features"]
        if f["properties"].get("description") == "排污口冒黑水 (mobile test)"
    ]
    assert [f["id"] for f in same] == [report_id]
    incident = admin.get(f"/api/v1/incidents/{report_id}").json()["properties"]
    assert len(incident["photos"]) == 1
    assert incident["photos"][0]["media_type"] == "image/jpeg"
    stored = admin.get(f"/api/v1/incidents/{report_id}").json()["geometry"]["coordinates"]
    assert stored == pytest.approx(list(where), abs=1e-6)
    lead = {r["code"] for r in incident["responsible"] if r["role"] == "lead"}
    co = {r["code"] for r in incident["responsible"] if r["role"] == "co"}
    side = oracle.side_of(*where)
    assert side == "330411" and side in lead
    assert "320509" in co  # on the border river: the other bank's side shares the case
