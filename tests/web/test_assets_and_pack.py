"""Pure parts of the pages: the asset table, inlining, filters in URLs, base maps, charts."""

from __future__ import annotations

import re
from datetime import date

import folium
import pytest
from folium import plugins

from geo_patrol.core.errors import InvalidInput
from geo_patrol.web.assets import ASSETS, AssetMissing, check_installed, inline, localise
from geo_patrol.web.map.basemaps import BasemapMisconfigured, tile_origins, tile_sources
from geo_patrol.web.map.filters import MapFilters
from geo_patrol.web.pack.page import bar_chart


def every_plugin_map() -> folium.Map:
    """A map with every plugin the pages use."""
    m = folium.Map(tiles=None)
    plugins.MarkerCluster().add_to(m)
    plugins.HeatMap([[30.0, 120.0]]).add_to(m)
    plugins.Fullscreen().add_to(m)
    plugins.VectorGridProtobuf("/tiles/tracks/{z}/{x}/{y}.pbf", "t", {}).add_to(m)
    return m


def test_every_asset_in_the_table_is_installed() -> None:
    assert check_installed() == []


def test_localised_page_loads_nothing_from_outside() -> None:
    m = every_plugin_map()
    localise(m)
    page = m.get_root().render()
    urls = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert urls and all(url.startswith("/static/vendor/") for url in urls), urls
    assert "https://" not in page.split("<body>")[0]
    # The class lists Folium shares between maps are untouched.
    assert folium.Map.default_js[0][1].startswith("https://")


def test_an_unknown_cdn_url_stops_the_rendering() -> None:
    m = every_plugin_map()
    m.default_js = [*m.default_js, ("new_plugin", "https://cdn.example.org/plugin.js")]
    with pytest.raises(AssetMissing, match="new_plugin"):
        localise(m)
    m2 = folium.Map(tiles=None)
    m2.default_css = [("leaflet_css", "https://cdn.jsdelivr.net/npm/leaflet@9.9.9/leaflet.css")]
    with pytest.raises(AssetMissing):
        localise(m2)


def test_inline_puts_scripts_styles_and_images_inside() -> None:
    m = every_plugin_map()
    localise(m)
    page = inline(m.get_root().render(), leave_out=("@fortawesome/",))
    assert "/static/vendor" not in page
    assert "<script src=" not in page and 'rel="stylesheet"' not in page
    assert "data:image/png;base64," in page  # Leaflet's layer icons from its stylesheet
    assert "fa-solid-900" not in page  # the icon font was left out
    with pytest.raises(AssetMissing):
        inline('<script src="/static/vendor/leaflet/missing.js"></script>')
    with pytest.raises(AssetMissing):
        inline('<script src="/static/vendor/../../pyproject.toml"></script>')


def test_the_table_only_names_npm_files() -> None:
    for name, (cdn, local) in ASSETS.items():
        assert cdn.startswith("https://"), name
        assert local is None or not local.startswith(("/", "http")), name


def test_filters_round_trip_through_the_url() -> None:
    filters = MapFilters.default(
        today=date(2026, 11, 27), zone="ZONE-SZ-WJJ", team=3, joint=True, lang="en"
    )
    assert filters.date_from == date(2026, 10, 29)
    query = filters.query()
    assert "zone=ZONE-SZ-WJJ" in query and "joint=1" in query and "lang=en" in query
    assert "status" not in query
    assert "lang" not in filters.query(with_lang=False)
    assert filters.until.isoformat() == "2026-11-28T00:00:00+08:00"
    # A period given by its end alone is the 30 days up to it; backwards or over a year: refused.
    past = MapFilters.default(date_to=date(2020, 1, 31))
    assert (past.date_from, past.date_to) == (date(2020, 1, 2), date(2020, 1, 31))
    with pytest.raises(InvalidInput, match="ends before"):
        MapFilters.default(date_from=date(2026, 2, 1), date_to=date(2026, 1, 1))
    with pytest.raises(InvalidInput, match="longer than a year"):
        MapFilters.default(date_from=date(2024, 1, 1), date_to=date(2026, 1, 1))


def test_base_maps() -> None:
    assert tile_sources("none") == []
    (osm,) = tile_sources("osm")
    assert tile_origins([osm]) == ["https://tile.openstreetmap.org"]
    with pytest.raises(BasemapMisconfigured, match="TIANDITU_KEY"):
        tile_sources("tianditu")
    vec, labels = tile_sources("tianditu", key="k")
    assert "vec_w" in vec.url and "TILEMATRIXSET=w" in vec.url and "cva_w" in labels.url
    assert "{z}" in vec.url and "tk=k" in vec.url
    (own,) = tile_sources("http://tiles.intranet/{z}/{x}/{y}.png", attribution="区测绘院")
    assert own.attribution == "区测绘院"
    assert tile_origins([own]) == ["http://tiles.intranet"]
    with pytest.raises(BasemapMisconfigured):
        tile_sources("amap")


def test_bar_chart_scales_bars_to_the_largest() -> None:
    svg = bar_chart([("吴江区", 10.0, "#000"), ("秀洲区", 5.0, "#000")], title="km", width=460)
    widths = [float(w) for w in re.findall(r'<rect [^>]*width="([\d.]+)"', svg)]
    assert widths[0] == pytest.approx(2 * widths[1]) and widths[0] == 460 - 150 - 60
    assert "吴江区" in svg and svg.startswith("<svg")
