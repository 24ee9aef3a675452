"""The supervisor map as a Folium page: layers, legend, filter form, controls.

The same builder draws the meeting pack's map; there the tracks are simplified lines put
inside the page (it must open with no server), on the web map they come as vector tiles.
"""

from __future__ import annotations

import html
import json
from dataclasses import replace
from typing import Any, cast

import folium
from folium import plugins

from geo_patrol.core.local_time import local_minute
from geo_patrol.db.tables import INCIDENT_STATUSES
from geo_patrol.web.assets import localise
from geo_patrol.web.map.basemaps import TileSource
from geo_patrol.web.map.layers import MapData
from geo_patrol.web.map.measure import DistanceMeasure
from geo_patrol.web.map.text import words
from geo_patrol.web.markup import esc, inert

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

PAGE_CSS = """
<style>
html, body {height: 100%; margin: 0; font-family: "Noto Sans CJK SC", "Microsoft YaHei",
  sans-serif;}
.leaflet-container {background: #eef1ee;}
.gp-panel {position: absolute; z-index: 1000; background: rgba(255,255,255,.95);
  border-radius: 6px; box-shadow: 0 1px 5px rgba(0,0,0,.4); padding: 8px 10px; font-size: 13px;}
.gp-filters {top: 10px; left: 56px; max-width: calc(100% - 300px);}
.gp-filters h1 {font-size: 15px; margin: 0 0 6px 0;}
.gp-filters form {display: flex; flex-wrap: wrap; gap: 6px 10px; align-items: end;}
.gp-filters label {display: flex; flex-direction: column; font-size: 12px; color: #333;}
.gp-filters label.gp-check {flex-direction: row; align-items: center; gap: 4px;}
.gp-filters input, .gp-filters select {font-size: 13px; padding: 2px 4px;}
.gp-filters button {font-size: 13px; padding: 3px 12px;}
.gp-legend {bottom: 30px; right: 10px; max-width: 240px;}
.gp-legend h2 {font-size: 13px; margin: 4px 0;}
.gp-legend ul {list-style: none; margin: 0; padding: 0;}
.gp-legend li {display: flex; align-items: center; gap: 6px; margin: 2px 0;}
.gp-swatch {display: inline-block; width: 22px; height: 4px;}
.gp-dot {display: inline-block; width: 10px; height: 10px; border-radius: 50%;
  border: 1px solid #333;}
.gp-band {display: inline-block; width: 22px; height: 10px; background: rgba(255,111,0,.25);
  border: 1px dashed #ff6f00;}
.gp-note {color: #666; font-size: 11px; margin-top: 4px;}
.gp-label {background: transparent; border: none; box-shadow: none; font-size: 12px;
  color: #263238; text-shadow: 0 0 3px #fff, 0 0 3px #fff;}
</style>
"""


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
        features = [_feature(j["geometry"], code=esc(j["code"]), name=esc(j["name"])) for j in rows]
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
                    geometry, style_function=lambda _f, s=style: s, tooltip=inert(tip)
                ).add_to(group)
    group.add_to(m)


def _add_rivers(m: folium.Map, data: MapData, w: dict[str, str]) -> None:
    """River stretches coloured by how recently a patrol covered them."""
    features = [
        _feature(
            r["geometry"],
            river=esc(r["river_name"]),
            recency=r["recency"],
            label=esc(w[f"recency_{r['recency']}"]),
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


def _add_tracks_tiles(m: folium.Map, tiles_url: str, w: dict[str, str]) -> None:
    """Patrol tracks as vector tiles from our own /tiles endpoint (non-interactive:
    leaflet.vectorgrid 1.3.0 breaks clicks with Leaflet >= 1.8, Leaflet.VectorGrid#274)."""
    folium.map.CustomPane("gp-tracks", z_index=450).add_to(m)  # above areas, below markers
    options = {
        "pane": "gp-tracks",
        "interactive": False,
        "maxNativeZoom": 18,
        "maxZoom": MAX_ZOOM,
        "vectorTileLayerStyles": {
            "tracks": {"color": TRACK_COLOUR, "weight": 2.5, "opacity": 0.7},
        },
    }
    plugins.VectorGridProtobuf(tiles_url, w["tracks"], options).add_to(m)


def _add_tracks_inline(m: folium.Map, tracks: list[dict[str, Any]], w: dict[str, str]) -> None:
    """Simplified patrol tracks inside the page (the meeting pack has no server)."""
    features = [
        _feature(t["geometry"], team=esc(t["team_name"]), started=esc(t["started"]), km=t["km"])
        for t in tracks
    ]
    folium.GeoJson(
        _geojson(features),
        name=w["tracks"],
        style_function=lambda _f: {"color": TRACK_COLOUR, "weight": 1.6, "opacity": 0.65},
        tooltip=_tooltip(features, ["team", "started", "km"]),
    ).add_to(m)


def _popup(incident: dict[str, Any], w: dict[str, str]) -> str:
    """The popup of one incident: category, tier, sides, deadline, link to the record.

    Every text is `inert`: Folium puts the popup into a JavaScript template literal.
    """
    deadline = inert(local_minute(incident["deadline_at"]))
    overdue = f' <b style="color:#c62828">{inert(w["overdue"])}</b>' if incident["overdue"] else ""
    co = ", ".join(incident["co_codes"] or []) or "—"
    rows = [
        (w["status"], inert(w[f"status_{incident['status']}"])),
        (w["tier"], inert(w[f"tier_{incident['tier']}"])),
        (w["severity"], inert(w.get(f"severity_{incident['severity']}", incident["severity"]))),
        (w["lead"], inert(incident["lead_code"] or "—")),
        (w["co"], inert(co)),
        (w["deadline"], deadline + overdue),
        (w["reported"], inert(local_minute(incident["reported_at"]))),
    ]
    body = "".join(f"<tr><th>{inert(k)}</th><td>{v}</td></tr>" for k, v in rows)
    link = f"/incidents/{int(incident['id'])}?lang={inert(w['lang'])}"
    return (
        f'<div class="gp-popup"><b>#{int(incident["id"])} {inert(incident["category_name"])}</b>'
        f"<table>{body}</table>"
        f'<a href="{link}" target="_blank">{inert(w["open_record"])}</a></div>'
    )


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
            popup=folium.Popup(_popup(incident, w), max_width=320),
            tooltip=inert(f"#{incident['id']} {incident['category_name']}"),
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
            tooltip=inert(village["name"]),
        ).add_to(group)
    group.add_to(m)


def _options(rows: list[dict[str, Any]], key: str, label: str, chosen: object, all_: str) -> str:
    """<option>s for a select, with the chosen one selected."""
    out = [f'<option value="">{esc(all_)}</option>']
    for row in rows:
        value = str(row[key])
        selected = " selected" if value == str(chosen) else ""
        out.append(
            f'<option value="{html.escape(value)}"{selected}>{esc(str(row[label]))}</option>'
        )
    return "".join(out)


def filter_form(data: MapData, w: dict[str, str]) -> str:
    """The filter panel: a GET form, so the URL holds the view."""
    f = data.filters
    zones = data.all_zones
    jurisdictions = [j for j in data.jurisdictions if j["level"] in ("county", "town")]
    statuses = [{"code": s, "name": w[f"status_{s}"]} for s in INCIDENT_STATUSES]
    checked = " checked" if f.joint else ""
    other = w["other_lang"]
    other_query = replace(f, lang=other).query()
    return f"""
<div class="gp-panel gp-filters" id="gp-filters">
<h1>{esc(w["title"])}
 <small>· {data.patrols} {esc(w["patrols"])} ·
 <a href="/map?{esc(other_query)}" id="gp-lang">{esc(w["language"])}</a> ·
 <a href="/incidents?lang={esc(f.lang)}" id="gp-incident-list">
 {esc(w["list_title"])}</a>
 </small></h1>
<form method="get" action="/map" id="gp-filter-form">
<input type="hidden" name="lang" value="{html.escape(f.lang)}">
<label>{esc(w["from"])}<input type="date" name="date_from" value="{f.date_from}"></label>
<label>{esc(w["to"])}<input type="date" name="date_to" value="{f.date_to}"></label>
<label>{esc(w["zone"])}<select name="zone">
{_options(zones, "code", "name", f.zone, w["all"])}</select></label>
<label>{esc(w["jurisdictions"])}<select name="jurisdiction">
{_options(jurisdictions, "code", "name", f.jurisdiction, w["all"])}</select></label>
<label>{esc(w["team"])}<select name="team">
{_options(data.teams, "id", "name", f.team, w["all"])}</select></label>
<label>{esc(w["category"])}<select name="category">
{_options(data.categories, "code", "name", f.category, w["all"])}</select></label>
<label>{esc(w["status"])}<select name="status">
{_options(statuses, "code", "name", f.status, w["all"])}</select></label>
<label class="gp-check"><input type="checkbox" name="joint" value="1"{checked}>
{esc(w["joint"])}</label>
<button type="submit">{esc(w["apply"])}</button>
</form></div>
"""


def legend(w: dict[str, str], *, basemap: bool) -> str:
    """The legend panel."""
    recency = "".join(
        f'<li><span class="gp-swatch" style="background:{c}"></span>{esc(w["recency_" + k])}</li>'
        for k, c in RECENCY_COLOUR.items()
    )
    statuses = "".join(
        f'<li><span class="gp-dot" style="background:{c}"></span>{esc(w["status_" + k])}</li>'
        for k, c in STATUS_COLOUR.items()
    )
    note = "" if basemap else f'<div class="gp-note">{esc(w["no_basemap"])}</div>'
    return f"""
<div class="gp-panel gp-legend" id="gp-legend"><h2>{esc(w["legend"])}</h2>
<h2>{esc(w["rivers"])}</h2><ul>{recency}</ul>
<h2>{esc(w["tracks"])}</h2><ul><li><span class="gp-swatch"
 style="background:{TRACK_COLOUR}"></span>{esc(w["tracks"])}</li></ul>
<h2>{esc(w["zone"])}</h2><ul><li><span class="gp-band"></span>
{esc(w["border_zone"])}</li></ul>
<h2>{esc(w["incidents"])}</h2><ul>{statuses}</ul>{note}</div>
"""


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
    w = words(data.filters.lang)
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
    if tiles_url is not None:
        _add_tracks_tiles(m, tiles_url, w)
    if tracks is not None:
        _add_tracks_inline(m, tracks, w)
    _add_incidents(m, data, w)
    _add_villages(m, data, w)
    folium.LayerControl(collapsed=False).add_to(m)
    if controls:
        plugins.Fullscreen(position="topleft").add_to(m)
        DistanceMeasure(title=w["measure"], start=w["measure_start"]).add_to(m)
    if data.bounds:
        m.fit_bounds(data.bounds)
    cast(folium.Figure, m.get_root()).header.add_child(folium.Element(PAGE_CSS))
    localise(m)
    return m


def render_page(data: MapData, *, sources: list[TileSource], tiles_url: str) -> str:
    """The supervisor map page as HTML."""
    w = words(data.filters.lang)
    m = build_map(data, sources=sources, tiles_url=tiles_url)
    root = cast(folium.Figure, m.get_root())
    root.html.add_child(folium.Element(filter_form(data, w)))
    root.html.add_child(folium.Element(legend(w, basemap=bool(sources))))
    root.header.add_child(
        folium.Element(f'<title>{esc(w["title"])}</title><link rel="icon" href="data:,">')
    )
    state = {"patrols": data.patrols, "points": data.points, "incidents": len(data.incidents)}
    root.html.add_child(
        folium.Element(
            f'<script id="gp-state" type="application/json">{json.dumps(state)}</script>'
        )
    )
    page: str = root.render()
    return page.replace(
        "<html>", f'<html lang="{"en" if data.filters.lang == "en" else "zh-CN"}">', 1
    )
