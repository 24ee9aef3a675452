"""The supervisor map in headless Chromium with no way out of the host."""

from __future__ import annotations

import itertools
import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import mapbox_vector_tile
import pyproj
from playwright.sync_api import Browser, Page, Response
from sqlalchemy import text

from geo_patrol.core.local_time import LOCAL
from geo_patrol.core.vocabulary import ChiefLevel, DutyPeriod
from geo_patrol.db.engine import make_engine, make_sessionmaker
from geo_patrol.duty.periods import period_of
from geo_patrol.web.map.filters import MapFilters
from tests.support.browser import Watch, screenshot, serving, sign_in
from tests.support.duty_case import R01, Chief, committed_chiefs, segment_lines

GEOD = pyproj.Geod(ellps="WGS84")
LAYERS_ZH = [
    "行政区划 · 省",
    "行政区划 · 县（区）",
    "行政区划 · 镇（街道）",
    "协作区 / 边界协作带",
    "河道巡查时效",
    "河长履职",
    "巡查轨迹",
    "事件",
    "事件热力图",
    "村居",
]


def state(page: Page) -> dict[str, Any]:
    """The counts the page was rendered with."""
    result: dict[str, Any] = json.loads(page.inner_text("#gp-state"))
    return result


def drawn_track_paths(page: Page) -> int:
    """Track lines drawn from the vector tiles."""
    count: int = page.evaluate(
        "() => document.querySelectorAll('.leaflet-gp-tracks-pane path').length"
    )
    return count


def in_period(url: str, table: str, condition: str) -> int:
    """How many rows of `table` meet `condition` in the map's default period (the last 30
    local days), counted in the tables."""
    filters = MapFilters.default()
    engine = make_engine(url)
    with engine.connect() as conn:
        count = conn.execute(
            text(f"SELECT count(*) FROM {table} WHERE {condition}"),
            {"since": filters.since, "until": filters.until},
        ).scalar_one()
    engine.dispose()
    return int(count)


def test_map_shows_every_layer_offline_without_errors(
    watched_page: tuple[Page, Watch], live_database_url: str
) -> None:
    page, watch = watched_page
    sign_in(page, watch.base, "admin")
    page.wait_for_function(
        "() => document.querySelectorAll('.leaflet-gp-tracks-pane path').length > 0"
    )
    shot = screenshot(page, "supervisor-map")

    layer_names = page.locator(".leaflet-control-layers-overlays label").all_inner_texts()
    for name in LAYERS_ZH:
        assert any(name in label for label in layer_names), (name, layer_names)
    assert page.locator(".marker-cluster, .leaflet-interactive").count() > 0
    assert drawn_track_paths(page) > 0
    assert page.locator("#gp-legend").is_visible()
    assert page.locator(".leaflet-control-scale").is_visible()
    assert page.locator(".gp-measure").count() == 1
    assert page.locator(".leaflet-control-zoom-fullscreen").count() == 1
    # Every patrol and case of the last 30 days (an administrator sees all), counted in the
    # tables.
    patrols = in_period(live_database_url, "patrols", "ended_at >= :since AND started_at < :until")
    cases = in_period(
        live_database_url, "incidents", "reported_at >= :since AND reported_at < :until"
    )
    assert patrols and cases
    assert (state(page)["patrols"], state(page)["incidents"]) == (patrols, cases)
    assert watch.outside == []
    assert watch.errors == []
    assert shot.stat().st_size > 50_000
    # Closer in, for the docs (docs/supervisor-map-closer.png): the border river, its band,
    # the tracks and the cases.
    page.evaluate(
        "() => { const m = window[Object.keys(window).find(k => k.startsWith('map_'))];"
        " m.setView([30.89, 120.69], 13, {animate: false}); }"
    )
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(300)
    screenshot(page, "supervisor-map-closer")
    assert watch.errors == []


def test_a_filter_changes_what_is_shown_and_lives_in_the_url(
    watched_page: tuple[Page, Watch], live_database_url: str
) -> None:
    page, watch = watched_page
    sign_in(page, watch.base, "admin")
    before = state(page)
    page.select_option("select[name=status]", "reported")
    page.check("input[name=joint]")
    # Wait for the new page itself: the old one is still "idle" right after the click.
    with page.expect_navigation():
        page.click("#gp-filter-form button[type=submit]")
    page.wait_for_load_state("networkidle")

    assert "status=reported" in page.url and "joint=1" in page.url
    after = state(page)
    period = "reported_at >= :since AND reported_at < :until"
    everything = in_period(live_database_url, "incidents", period)
    chosen = in_period(
        live_database_url, "incidents", f"{period} AND status = 'reported' AND is_joint"
    )
    assert 0 < chosen < everything
    assert (before["incidents"], after["incidents"]) == (everything, chosen)
    # The shared link opens the same view.
    page.goto(page.url)
    assert state(page) == after
    assert page.locator("select[name=status]").input_value() == "reported"
    assert watch.errors == [] and watch.outside == []


def team_patrols(url: str, team: str) -> tuple[int, set[int], set[int]]:
    """A demo team's id, its patrols in the map's default period (the last 30 days, by
    local date) and those of them with a track, read from the tables. (A live patrol whose
    fixes were all dropped has no track: the map counts it, its tiles cannot show it; other
    browser tests send live positions to the same database.)"""
    filters = MapFilters.default()
    engine = make_engine(url)
    with engine.connect() as conn:
        team_id = int(
            conn.execute(text("SELECT id FROM teams WHERE name = :n"), {"n": team}).scalar_one()
        )
        rows = conn.execute(
            text(
                "SELECT id, track IS NOT NULL AS drawn FROM patrols WHERE team_id = :t "
                "AND ended_at >= :since AND started_at < :until"
            ),
            {"t": team_id, "since": filters.since, "until": filters.until},
        ).all()
    engine.dispose()
    return team_id, {int(r.id) for r in rows}, {int(r.id) for r in rows if r.drawn}


def test_a_team_filter_reaches_the_track_tiles(
    watched_page: tuple[Page, Watch], live_database_url: str
) -> None:
    page, watch = watched_page
    team_id, counted, expected = team_patrols(live_database_url, "盛泽巡河队")
    assert expected  # the demo's Shengze team has tracks: the filter has something to keep
    sign_in(page, watch.base, "admin")  # the unfiltered map first: its tiles are not counted
    tiles: list[Response] = []
    page.on("response", lambda r: tiles.append(r) if ".pbf" in r.url else None)
    page.goto(f"{watch.base}/map?team={team_id}")
    page.wait_for_function(
        "() => document.querySelectorAll('.leaflet-gp-tracks-pane path').length > 0"
    )
    page.wait_for_load_state("networkidle")
    assert state(page)["patrols"] == len(counted)
    # Every track tile asked for this team only, and together they hold exactly its tracks.
    asked = [parse_qs(urlsplit(r.url).query).get("team") for r in tiles]
    assert tiles and all(team == [str(team_id)] for team in asked), [r.url for r in tiles]
    # (Fetched again with the page's cookies: a routed response's body is not kept.)
    bodies = [page.request.get(r.url).body() for r in tiles]
    shown = {
        int(feature["id"])
        for body in bodies
        if body
        for feature in mapbox_vector_tile.decode(body)["tracks"]["features"]
    }
    assert shown == expected
    assert watch.errors == [] and watch.outside == []


def test_english_on_request(watched_page: tuple[Page, Watch]) -> None:
    page, watch = watched_page
    sign_in(page, watch.base, "wujiang.sup", "/map?lang=en")
    assert page.locator("html").get_attribute("lang") == "en"
    assert "Patrol tracks" in page.locator(".leaflet-control-layers").inner_text()
    screenshot(page, "supervisor-map-en")
    assert watch.errors == [] and watch.outside == []


def test_signed_out_browser_is_sent_to_the_sign_in_form(watched_page: tuple[Page, Watch]) -> None:
    page, watch = watched_page
    page.goto(f"{watch.base}/map?status=reported")
    assert "/login" in page.url
    page.fill("input[name=login]", "admin")
    page.fill("input[name=password]", "geo-patrol-demo")
    page.click("button[type=submit]")
    page.wait_for_url("**/map?status=reported")


def test_measuring_a_distance_agrees_with_pyproj(watched_page: tuple[Page, Watch]) -> None:
    page, watch = watched_page
    sign_in(page, watch.base, "admin")
    page.click(".gp-measure a")
    box = page.locator(".folium-map").bounding_box()
    assert box is not None
    pixels = [
        (box["x"] + 500, box["y"] + 300),
        (box["x"] + 800, box["y"] + 600),
        (box["x"] + 900, box["y"] + 400),
    ]
    ends = []
    for x, y in pixels:
        page.mouse.click(x, y)
        ends.append(
            page.evaluate(
                "([x, y]) => {"
                " const m = window[Object.keys(window).find(k => k.startsWith('map_'))];"
                " const p = m.containerPointToLatLng([x, y]); return [p.lng, p.lat]; }",
                [x - box["x"], y - box["y"]],
            )
        )
    shown = float(page.locator(".gp-measure-out").get_attribute("data-metres") or "nan")
    expected = sum(GEOD.inv(a[0], a[1], b[0], b[1])[2] for a, b in itertools.pairwise(ends))
    assert expected > 1000
    assert abs(shown - expected) / expected < 0.005, (shown, expected)  # sphere vs ellipsoid
    page.click(".gp-measure a")
    assert not page.locator(".gp-measure-out").is_visible()
    assert watch.errors == [] and watch.outside == []


def test_with_an_unreachable_base_map_every_layer_still_shows(
    browser: Browser, live_database_url: str, tmp_path: Path
) -> None:
    with serving(live_database_url, tmp_path, basemap="osm") as base:
        context = browser.new_context(viewport={"width": 1200, "height": 800})
        page = context.new_page()
        watch = Watch(base=base)
        page.route("**/*", watch.route)
        page.on("pageerror", lambda error: watch.errors.append(f"page error: {error}"))
        sign_in(page, base, "admin")
        page.wait_for_function(
            "() => document.querySelectorAll('.leaflet-gp-tracks-pane path').length > 0"
        )
        # The base tiles were asked for, refused (no way out), and nothing else broke.
        assert watch.outside and all(
            url.startswith("https://tile.openstreetmap.org/") for url in watch.outside
        )
        assert watch.errors == []
        assert page.locator(".leaflet-control-layers-overlays label").count() >= 9
        assert "OpenStreetMap" in page.locator(".leaflet-control-attribution").inner_text()
        csp = page.request.get(f"{base}/map").headers["content-security-policy"]
        assert "img-src 'self' data: blob: https://tile.openstreetmap.org" in csp
        context.close()


MIDDLE_OF_SEQ_4 = """
([lon, lat]) => {
  const m = window[Object.keys(window).find((k) => k.startsWith("map_"))];
  m.setView([lat, lon], 16, { animate: false });
  const p = m.latLngToContainerPoint([lat, lon]);
  const box = document.querySelector(".folium-map").getBoundingClientRect();
  return [box.left + p.x, box.top + p.y];
}
"""


def test_the_duty_layer_colours_stretches_and_names_their_chiefs(
    watched_page: tuple[Page, Watch], live_database_url: str
) -> None:
    page, watch = watched_page
    chiefs = [
        Chief("钱美芳", ChiefLevel.VILLAGE, "320509100203", R01, (3, 4, 5)),  # 前跃村
        Chief("沈丽华", ChiefLevel.VILLAGE, "330411100201", R01, (3, 4, 5)),  # the other side
    ]
    engine = make_engine(live_database_url)
    with make_sessionmaker(engine)() as session:
        (seq_4,) = segment_lines(session, R01, range(4, 5)).values()
    engine.dispose()
    middle = seq_4.interpolate(0.5, normalized=True)
    with committed_chiefs(live_database_url, chiefs):
        sign_in(page, watch.base, "wujiang.sup")
        layer_names = page.locator(".leaflet-control-layers-overlays label").all_inner_texts()
        assert any("河长履职" in name for name in layer_names), layer_names
        legend = page.inner_text("#gp-duty-legend")
        assert all(word in legend for word in ("已达标", "进行中", "未达标", "本期无要求"))
        x, y = page.evaluate(MIDDLE_OF_SEQ_4, [middle.x, middle.y])
        page.wait_for_timeout(300)
        page.mouse.click(x, y)
        popup = page.locator(".gp-duty-popup")
        popup.wait_for()
        shown = popup.inner_text()
        week = period_of(DutyPeriod.WEEK, datetime.now(LOCAL).date())
        assert "钱美芳" in shown and "村级" in shown and "前跃村" in shown
        assert week.label("zh") in shown and week.last.isoformat() in shown
        assert re.search(r"钱美芳\s+村级\s+前跃村\s+\S+ 至 \S+\s+\d+ / 1", shown), shown
        assert "沈丽华" not in shown  # the other side's chief: not the Wujiang supervisor's
        screenshot(page, "supervisor-map-duty")
    assert watch.errors == [] and watch.outside == []


def test_a_place_in_the_address_centres_the_map(watched_page: tuple[Page, Watch]) -> None:
    """`/map#lat,lon` (the proposed agenda's link to an unpatrolled stretch) opens there, and
    a new fragment moves the map; a fragment that is not a place changes nothing."""
    page, watch = watched_page
    sign_in(page, watch.base, "admin")
    centre = (
        "() => { const m = window[Object.keys(window).find(k => k.startsWith('map_'))];"
        " const c = m.getCenter(); return [c.lat, c.lng, m.getZoom()]; }"
    )
    page.goto(f"{watch.base}/map#30.912345,120.612345")
    page.wait_for_function("() => document.querySelector('.folium-map').dataset.place")
    lat, lon, zoom = page.evaluate(centre)
    assert (round(lat, 6), round(lon, 6), zoom) == (30.912345, 120.612345, 16)
    page.evaluate("() => { location.hash = '#30.9,120.65'; }")
    page.wait_for_function(
        "() => document.querySelector('.folium-map').dataset.place === '30.900000,120.650000'"
    )
    lat, lon, _ = page.evaluate(centre)
    assert (round(lat, 6), round(lon, 6)) == (30.9, 120.65)
    page.evaluate("() => { location.hash = '#gp-effort'; }")
    page.evaluate("() => { location.hash = '#91,120'; }")
    assert page.evaluate(centre)[:2] == [lat, lon]
    assert watch.errors == [] and watch.outside == []
