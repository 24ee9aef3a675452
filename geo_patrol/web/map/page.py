"""The supervisor map as a Folium page: layers, legend, filter form, controls.

The same builder draws the meeting pack's map; there the tracks are simplified lines put
inside the page (it must open with no server), on the web map they come as vector tiles.
Folium builds the map; what we add around it (style, filter panel and legend, popups,
tooltips, the page state for scripts) comes from templates/map/.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, cast

import folium
from folium import plugins

from geo_patrol.core import catalog
from geo_patrol.db.tables import INCIDENT_STATUSES
from geo_patrol.duty.map_layer import WORST_FIRST, DutyStretch
from geo_patrol.patrols.tiles import NATIVE_MAX_ZOOM
from geo_patrol.web.assets import localise
from geo_patrol.web.map.basemaps import TileSource
from geo_patrol.web.map.layers import MapData
from geo_patrol.web.map.measure import DistanceMeasure
from geo_patrol.web.map.place import PlaceFromFragment
from geo_patrol.web.map.water_layer import CLASS_COLOUR, NO_READING_COLOUR, add_water
from geo_patrol.web.render import html_text, literal_safe, render

MAX_ZOOM = 19  # needed without a base layer: marker clusters and vector grids ask the map

LEVEL_STYLE = {
    "province": {"color": "#6a1b9a", "weight": 3.5, "dashArray": "10 6"},
    "city": {"color": "#8e24aa", "weight": 3, "dashArray": "8 5"},
    "county": {"color": "#37474f", "weight": 2.5},
    "town": {"color": "#546e7a", "weight": 1.5},
    "village": {"color": "#90a4ae", "weight": 1, "dashArray": "3 3"},
    "grid": {"color": "#b0bec5", "weight": 0.8, "dashArray": "2 4"},
}
SHOWN_LEVELS = ("province", "county", "town")

RECENCY_COLOUR = {"1d": "#1a9850", "7d": "#91cf60", "30d": "#fdae61", "never": "#d73027"}

STATUS_COLOUR = {
    "reported": "#e53935",
    "assigned": "#fb8c00",
    "accepted": "#fdd835",
    "in_progress": "#1e88e5",
    "resolved": "#43a047",
    "verified": "#00897b",
    "closed": "#757575",
    "reopened": "#8e24aa",
    "rejected": "#3e2723",
}
TRACK_COLOUR = "#0d47a1"

# A chief's duty this period (met green, in progress amber, missed red, not due grey).
DUTY_COLOUR = {
    "met": "#2e7d32",
    "in_progress": "#f9a825",
    "missed": "#c62828",
    "not_due": "#9e9e9e",
}


def _geojson(features: list[dict[str, Any]]) -> dict[str, Any]:
    """A FeatureCollection."""
    return {"type": "FeatureCollection", "features": features}


def _feature(geometry: Any, **properties: Any) -> dict[str, Any]:
    """A Feature."""
    return {"type": "Feature", "geometry": geometry, "properties": properties}


def _tooltip(features: list[dict[str, Any]], fields: list[str]) -> folium.GeoJsonTooltip | None:
    """A tooltip of `fields` (Folium refuses one over an empty collection)."""
    return folium.GeoJsonTooltip(fields=fields, labels=False) if features else None


def _add_jurisdictions(m: folium.Map, data: MapData, w: dict[str, str]) -> None:
    """One layer per level, boundaries with names as tooltips."""
    for level, style in LEVEL_STYLE.items():
        rows = [j for j in data.jurisdictions if j["level"] == level]
        if not rows:
            continue
        features = [
            _feature(j["geometry"], code=html_text(j["code"]), name=html_text(j["name"]))
            for j in rows
        ]
        folium.GeoJson(
            _geojson(features),
            name=f"{w['jurisdictions']} · {w[level]}",
            show=level in SHOWN_LEVELS,
            style_function=lambda _f, s=style: {**s, "fill": False},
            tooltip=folium.GeoJsonTooltip(fields=["name", "code"], labels=False),
            smooth_factor=1,
        ).add_to(m)


ZONE_OUTLINE = {"color": "#ff6f00", "weight": 2, "fill": False, "dashArray": "12 6"}
ZONE_BAND = {"color": "#ff6f00", "weight": 0.5, "fillColor": "#ff6f00", "fillOpacity": 0.22}


def _add_zones(m: folium.Map, data: MapData, w: dict[str, str]) -> None:
    """Each cooperation zone's outline and its border zone."""
    group = folium.FeatureGroup(name=f"{w['zone']} / {w['border_zone']}", show=True)
    for zone in data.zones:
        label = f"{zone['name']} ({w['border_zone']} {zone['border_zone_width_m']:.0f} m)"
        for geometry, style, tip in (
            (zone["outline"], ZONE_OUTLINE, zone["name"]),
            (zone["border_zone"], ZONE_BAND, label),
        ):
            if geometry:
                folium.GeoJson(
                    geometry, style_function=lambda _f, s=style: s, tooltip=_tip(tip, w)
                ).add_to(group)
    group.add_to(m)


def _add_rivers(m: folium.Map, data: MapData, w: dict[str, str]) -> None:
    """River stretches coloured by how recently a patrol covered them."""
    features = [
        _feature(
            r["geometry"],
            river=html_text(r["river_name"]),
            recency=r["recency"],
            label=html_text(w[f"recency_{r['recency']}"]),
            metres=round(r["length_m"]),
            border="✓" if r["is_border"] else "",
        )
        for r in data.rivers
    ]
    folium.GeoJson(
        _geojson(features),
        name=w["rivers"],
        style_function=lambda f: {
            "color": RECENCY_COLOUR[f["properties"]["recency"]],
            "weight": 5,
            "opacity": 0.9,
        },
        tooltip=_tooltip(features, ["river", "label", "metres"]),
    ).add_to(m)


def duty_rows(stretch: DutyStretch, lang: str) -> list[dict[str, Any]]:
    """The chiefs of a stretch as the popup lists them (words in `lang`)."""
    return [
        {
            "name": chief.member_name,
            "level": catalog.text(f"map.chief_{chief.level}", lang),
            "side": chief.side_name or chief.side_code,
            "river": chief.river_name,
            "period": chief.period.label(lang),
            "done": chief.done,
            "required": chief.required,
            "due": chief.due.isoformat(),
            "status": str(chief.status),
        }
        for chief in stretch.chiefs
    ]


def _add_duty(m: folium.Map, data: MapData, w: dict[str, str]) -> None:
    """Chiefs' stretches coloured by the worst duty status of their chiefs this period; the
    popup names every chief of the stretch (drawn above the rivers: it takes the clicks)."""
    group = folium.FeatureGroup(name=w["duty_layer"], show=True)
    for stretch in data.duty:
        if stretch.geometry is None:
            continue
        colour = DUTY_COLOUR[stretch.status]
        rows = duty_rows(stretch, w["lang"])
        rivers = sorted({row["river"] for row in rows})
        popup = literal_safe(
            "map/duty_popup.html", lang=w["lang"], rows=rows, rivers=rivers, status=stretch.status
        )
        tip = f"{' / '.join(rivers)} · {catalog.text('map.duty_chiefs', w['lang'], n=len(rows))}"
        layer = folium.GeoJson(
            stretch.geometry,
            style_function=lambda _f, c=colour: {"color": c, "weight": 9, "opacity": 0.6},
            tooltip=_tip(f"{tip} · {w['duty_status_' + stretch.status]}", w),
        )
        layer.add_child(folium.Popup(popup, max_width=460))
        layer.add_to(group)
    group.add_to(m)


def _add_tracks_tiles(m: folium.Map, tiles_url: str, w: dict[str, str]) -> None:
    """Patrol tracks as vector tiles from our own /tiles endpoint (non-interactive:
    leaflet.vectorgrid 1.3.0 breaks clicks with Leaflet >= 1.8, Leaflet.VectorGrid#274)."""
    folium.map.CustomPane("gp-tracks", z_index=450).add_to(m)  # above areas, below markers
    options = {
        "pane": "gp-tracks",
        "interactive": False,
        "maxNativeZoom": NATIVE_MAX_ZOOM,
        "maxZoom": MAX_ZOOM,
        "vectorTileLayerStyles": {
            "tracks": {"color": TRACK_COLOUR, "weight": 2.5, "opacity": 0.7},
        },
    }
    plugins.VectorGridProtobuf(tiles_url, w["tracks"], options).add_to(m)


def _add_tracks_inline(m: folium.Map, tracks: list[dict[str, Any]], w: dict[str, str]) -> None:
    """Simplified patrol tracks inside the page (the meeting pack has no server)."""
    features = [
        _feature(
            t["geometry"],
            team=html_text(t["team_name"]),
            started=html_text(t["started"]),
            km=t["km"],
        )
        for t in tracks
    ]
    folium.GeoJson(
        _geojson(features),
        name=w["tracks"],
        style_function=lambda _f: {"color": TRACK_COLOUR, "weight": 1.6, "opacity": 0.65},
        tooltip=_tooltip(features, ["team", "started", "km"]),
    ).add_to(m)


def _tip(text: object, w: dict[str, str]) -> str:
    """A tooltip's text (Folium puts it into a JavaScript template literal)."""
    return literal_safe("map/tooltip.html", lang=w["lang"], text=text)


def _add_incidents(m: folium.Map, data: MapData, w: dict[str, str]) -> None:
    """Incidents as clustered circles coloured by status, and as a heat map."""
    cluster = plugins.MarkerCluster(name=w["incidents"], options={"maxClusterRadius": 40})
    points = []
    for incident in data.incidents:
        lon, lat = incident["geometry"]["coordinates"]
        points.append([lat, lon])
        folium.CircleMarker(
            [lat, lon],
            radius=8,
            color="#212121",
            weight=1.5 if incident["is_joint"] else 0.8,
            fill=True,
            fill_color=STATUS_COLOUR[incident["status"]],
            fill_opacity=0.9,
            popup=folium.Popup(
                literal_safe("map/popup.html", lang=w["lang"], i=incident), max_width=320
            ),
            tooltip=_tip(f"#{incident['id']} {incident['category_name']}", w),
        ).add_to(cluster)
    cluster.add_to(m)
    plugins.HeatMap(points or [[0.0, 0.0, 0.0]], name=w["heat"], show=False, radius=22).add_to(m)


def _add_villages(m: folium.Map, data: MapData, w: dict[str, str]) -> None:
    """Villages as small dots with their names."""
    group = folium.FeatureGroup(name=w["villages"], show=True)
    for village in data.villages:
        folium.CircleMarker(
            [village["lat"], village["lon"]],
            radius=3,
            color="#455a64",
            fill=True,
            fill_opacity=1,
            tooltip=_tip(village["name"], w),
        ).add_to(group)
    group.add_to(m)


def panels(data: MapData, *, basemap: bool) -> str:
    """The filter panel (a GET form, so the URL holds the view) and the legend."""
    f = data.filters
    statuses = [
        {"code": s, "name": catalog.text(f"map.status_{s}", f.lang)} for s in INCIDENT_STATUSES
    ]
    return render(
        "map/panels.html",
        lang=f.lang,
        f=f,
        patrols=data.patrols,
        other_query=replace(f, lang=catalog.other_lang(f.lang)).query(),
        zones=data.all_zones,
        jurisdictions=[j for j in data.jurisdictions if j["level"] in ("county", "town")],
        teams=data.teams,
        categories=data.categories,
        statuses=statuses,
        recency_colours=RECENCY_COLOUR,
        status_colours=STATUS_COLOUR,
        track_colour=TRACK_COLOUR,
        duty_colours={s: DUTY_COLOUR[s] for s in WORST_FIRST},
        water_colours=CLASS_COLOUR,
        water_none=NO_READING_COLOUR,
        basemap=basemap,
    )


def build_map(
    data: MapData,
    *,
    sources: list[TileSource],
    tiles_url: str | None = None,
    tracks: list[dict[str, Any]] | None = None,
    controls: bool = True,
    height: str = "100%",
) -> folium.Map:
    """The Folium map of `data`: tracks from `tiles_url` (vector tiles) or `tracks` (inline)."""
    w = map_words(data.filters.lang)
    m = folium.Map(
        tiles=None,
        max_zoom=MAX_ZOOM,
        control_scale=True,
        prefer_canvas=True,
        zoom_start=4,
        location=[35.0, 105.0],
        height=height,
    )
    m.options["maxZoom"] = MAX_ZOOM  # Folium gives max_zoom only to tile layers
    for index, source in enumerate(sources):
        folium.TileLayer(
            source.url,
            attr=source.attribution,
            subdomains=source.subdomains,
            max_zoom=MAX_ZOOM,
            max_native_zoom=18,
            overlay=index > 0,
            control=False,
        ).add_to(m)
    _add_jurisdictions(m, data, w)
    _add_zones(m, data, w)
    _add_rivers(m, data, w)
    _add_duty(m, data, w)
    if tiles_url is not None:
        _add_tracks_tiles(m, tiles_url, w)
    if tracks is not None:
        _add_tracks_inline(m, tracks, w)
    _add_incidents(m, data, w)
    add_water(m, data.water, w["lang"])
    _add_villages(m, data, w)
    folium.LayerControl(collapsed=False).add_to(m)
    if controls:
        plugins.Fullscreen(position="topleft").add_to(m)
        DistanceMeasure(title=w["measure"], start=w["measure_start"]).add_to(m)
    if data.bounds:
        m.fit_bounds(data.bounds)
    if controls:  # after the data's bounds: a place in the address wins
        PlaceFromFragment().add_to(m)
    cast(folium.Figure, m.get_root()).header.add_child(
        folium.Element(render("map/head.html", lang=data.filters.lang))
    )
    localise(m)
    return m


def render_page(data: MapData, *, sources: list[TileSource], tiles_url: str) -> str:
    """The supervisor map page as HTML."""
    lang = data.filters.lang
    m = build_map(data, sources=sources, tiles_url=tiles_url)
    root = cast(folium.Figure, m.get_root())
    root.html.add_child(folium.Element(panels(data, basemap=bool(sources))))
    root.header.add_child(folium.Element(render("map/page_head.html", lang=lang)))
    state = {"patrols": data.patrols, "points": data.points, "incidents": len(data.incidents)}
    root.html.add_child(folium.Element(render("map/state.html", lang=lang, state=state)))
    page: str = root.render()
    return page.replace("<html>", f'<html lang="{catalog.html_lang(lang)}">', 1)


def map_words(lang: str) -> dict[str, str]:
    """The map's words in `lang`, with the page's language code under "lang"."""
    return {**catalog.words("map", lang), "lang": catalog.lang_of(lang)}
