"""The incident page for supervisors (`/incidents/{id}`, where the map's popups lead): the
case, who holds it, its deadline, photos, history and patrols that passed it, with a small
map of the place drawn as SVG on the server (no script, no tiles: it prints and works on
an intranet).

The record comes from `incident_queries.get_incident` (the caller's scope); the map around
it is shared geography: the responsible jurisdictions, their neighbours of the same level
and the rivers within MAP_RADIUS_M.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from geo_patrol.core.local_time import local_minute
from geo_patrol.geography.queries import Extent, shapes_in_box
from geo_patrol.web.cases import common as case_pages
from geo_patrol.web.map.text import words
from geo_patrol.web.markup import Html, esc

MAP_RADIUS_M = 1500.0
MAP_SIZE_PX = 480
METRES_PER_DEGREE = 111_320.0


def map_shapes(session: Session, *, lon: float, lat: float, codes: list[str]) -> dict[str, Any]:
    """The SVG paths around a point and the view box that holds them."""
    k = math.cos(math.radians(lat))
    half_lat = MAP_RADIUS_M / METRES_PER_DEGREE
    half_lon = half_lat / k
    box = Extent(lon - half_lon, lat - half_lat, lon + half_lon, lat + half_lat)
    shapes = shapes_in_box(session, box=box, x_scale=k, codes=codes)
    return {
        "view_box": (box.west * k, -box.north, 2 * half_lon * k, 2 * half_lat),
        "point": (lon * k, -lat),
        "shapes": [shape._asdict() for shape in shapes if shape.path],
    }


def _e(value: object) -> Html:
    """A value as HTML text, or a dash for none."""
    return Html(esc(value)) if value not in (None, "") else Html("—")


def svg_map(drawing: dict[str, Any], w: dict[str, str]) -> str:
    """The place as an SVG: responsible jurisdictions, rivers, the incident, a 500 m bar."""
    x, y, width, height = drawing["view_box"]
    unit = width / MAP_SIZE_PX  # map units per pixel: strokes stay the same on screen
    parts = [
        f'<svg id="incident-map" xmlns="http://www.w3.org/2000/svg" role="img" '
        f'width="{MAP_SIZE_PX}" height="{MAP_SIZE_PX}" viewBox="{x} {y} {width} {height}" '
        f'aria-label="{esc(w["place"])}">',
        f'<rect x="{x}" y="{y}" width="{width}" height="{height}" fill="#f4f1ea"/>',
    ]
    for shape in drawing["shapes"]:
        title = f"<title>{esc(shape['name'] or shape['code'])}</title>"
        if shape["kind"] == "jurisdiction":
            style = f'fill="#cfe3d4" fill-opacity="0.5" stroke="#2e7d32" stroke-width="{2 * unit}"'
        elif shape["kind"] == "neighbour":
            style = f'fill="none" stroke="#9e9e9e" stroke-width="{1 * unit}"'
        else:
            style = f'fill="none" stroke="#1e88e5" stroke-width="{4 * unit}"'
        parts.append(
            f'<path class="{shape["kind"]}" data-code="{esc(shape["code"])}" '
            f'd="{shape["path"]}" {style}>{title}</path>'
        )
    for shape in drawing["shapes"]:
        if shape["kind"] != "river" and shape["label_x"] is not None:
            parts.append(
                f'<text class="label" x="{shape["label_x"]}" y="{shape["label_y"]}" '
                f'font-size="{12 * unit}" text-anchor="middle" fill="#424242">'
                f"{esc(shape['name'] or shape['code'])}</text>"
            )
    px, py = drawing["point"]
    parts.append(
        f'<circle id="incident-point" cx="{px}" cy="{py}" r="{7 * unit}" fill="#d32f2f" '
        f'stroke="#212121" stroke-width="{1.5 * unit}"/>'
    )
    bar = 500 / METRES_PER_DEGREE
    bx, by = x + 12 * unit, y + height - 14 * unit
    parts.append(
        f'<g id="scale-bar" data-metres="500"><line x1="{bx}" y1="{by}" x2="{bx + bar}" '
        f'y2="{by}" stroke="#212121" stroke-width="{3 * unit}"/>'
        f'<text x="{bx}" y="{by - 5 * unit}" font-size="{12 * unit}">500 m</text></g>'
    )
    parts.append("</svg>")
    return "".join(parts)


def _table(rows: Sequence[tuple[str, object]]) -> str:
    """A two-column table; it escapes every header and value itself (mark HTML built from
    escaped parts as `Html`), so a caller that forgets cannot open a hole."""
    body = "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in rows)
    return f'<table class="facts">{body}</table>'


def _event_row(event: dict[str, Any], w: dict[str, str]) -> str:
    status = w.get(f"status_{event['to_status']}", event["to_status"])
    tier = w.get(f"tier_{event['to_tier']}", event["to_tier"])
    cells = [
        local_minute(event["at"]),
        _e(event["kind"]),
        _e(event["actor"]),
        _e(status),
        _e(tier),
        _e(event["note"]),
    ]
    return "<tr>" + "".join(f"<td>{esc(cell)}</td>" for cell in cells) + "</tr>"


def _names(responsible: list[dict[str, Any]], role: str) -> Html:
    """The directly responsible jurisdictions of a role, as HTML text."""
    found = [r for r in responsible if r["role"] == role and r["direct"]]
    return Html(", ".join(f"{_e(r['name'])} ({_e(r['code'])})" for r in found) or "—")


def _facts(i: dict[str, Any], w: dict[str, str], lang: str) -> str:
    """The case's table: status, sides, deadline, times, place, description."""
    lon, lat = i["geometry"]["coordinates"]
    overdue = f' <b class="overdue">{esc(w["overdue"])}</b>' if i["overdue"] else ""
    facts = [
        (w["status"], _e(w.get(f"status_{i['status']}", i["status"]))),
        (w["tier"], _e(w.get(f"tier_{i['tier']}", i["tier"]))),
        (w["severity"], _e(w.get(f"severity_{i['severity']}", i["severity"]))),
        (w["lead"], _names(i["responsible"], "lead")),
        (w["co"], _names(i["responsible"], "co")),
        (w["deadline"], Html(esc(local_minute(i["deadline_at"])) + overdue)),
        (w["reported"], local_minute(i["reported_at"])),
        (w["received"], local_minute(i["received_at"])),
        (w["resolved"], local_minute(i["resolved_at"])),
        (w["source"], _e(i["source"])),
        (w["location"], f"{lat:.6f}, {lon:.6f}"),
        (w["address"], _e(i["address"])),
        (w["description"], _e(i["description"])),
    ]
    if i["duplicate_of"]:
        duplicate_of = int(i["duplicate_of"])
        link = f'<a href="/incidents/{duplicate_of}?lang={esc(lang)}">#{duplicate_of}</a>'
        facts.append((w["duplicate_of"], Html(link)))
    return _table(facts)


def _items(rows: list[str], w: dict[str, str]) -> str:
    """List items, or one saying there are none."""
    return "".join(f"<li>{row}</li>" for row in rows) or f"<li>{esc(w['none'])}</li>"


def _step_form(
    i: dict[str, Any],
    w: dict[str, str],
    *,
    lang: str,
    steps: list[str],
    csrf: str | None,
    error: str | None,
) -> str:
    """The form for the steps the reader may take (none: no form), and why the last failed."""
    said = f'<p class="error" id="step-error">{esc(error)}</p>' if error else ""
    if not steps or not csrf:
        return said
    options = "".join(
        f'<option value="{step}">{esc(w.get(f"step_{step}", step))}</option>' for step in steps
    )
    return (
        f'<section id="act"><h2>{esc(w["act"])}</h2>{said}'
        f'<form method="post" action="/incidents/{i["id"]}/steps?lang={lang}">'
        f'<input type="hidden" name="csrf_token" value="{html.escape(csrf)}">'
        f'<label>{esc(w["step"])} <select name="step">{options}</select></label> '
        f'<label>{esc(w["note"])} <input name="note" maxlength="2000" size="40"></label> '
        f'<button type="submit">{esc(w["submit"])}</button></form></section>'
    )


def render(
    incident: dict[str, Any],
    drawing: dict[str, Any],
    *,
    lang: str,
    steps: Sequence[str] = (),
    csrf: str | None = None,
    error: str | None = None,
) -> str:
    """The whole page (with the step form when `steps` and a session's `csrf` are given)."""
    w = words(lang)
    i = incident
    photos = (
        "".join(
            f'<a href="/api/v1/incidents/{i["id"]}/photos/{p["id"]}"><img class="photo" '
            f'src="/api/v1/incidents/{i["id"]}/photos/{p["id"]}" alt="#{p["id"]}" loading="lazy">'
            "</a>"
            for p in i["photos"]
        )
        or f"<p>{esc(w['none'])}</p>"
    )
    passed = [
        f'<a href="/api/v1/patrols/{v["patrol_id"]}">#{v["patrol_id"]}</a> '
        f"{local_minute(v['passed_at'])}, {v['distance_m']:.0f} m"
        for v in i["verifications"]
    ]
    duplicates = [
        f'<a href="/incidents/{d["id"]}?lang={lang}">#{d["id"]}</a> '
        f"{local_minute(d['reported_at'])}"
        for d in i["duplicates"]
    ]
    joint = f' <span class="joint">{esc(w["joint_case"])}</span>' if i["is_joint"] else ""
    title = esc(f"#{i['id']} {i['category_name']}")
    return case_pages.head(lang=lang, title=title) + PAGE.format(
        title=title,
        joint=joint,
        map=svg_map(drawing, w),
        facts=_facts(i, w, lang),
        photos_html=photos,
        history_rows="".join(_event_row(e, w) for e in i["history"]),
        passed=_items(passed, w),
        duplicates_list=_items(duplicates, w),
        id=i["id"],
        lang=lang,
        act=_step_form(i, w, lang=lang, steps=list(steps), csrf=csrf, error=error),
        **{key: esc(w[key]) for key in PAGE_WORDS},
    )


PAGE_WORDS = (
    "photos",
    "history",
    "when",
    "kind",
    "actor",
    "status",
    "tier",
    "note",
    "verifications",
    "duplicates",
    "json_record",
    "back_to_map",
    "language",
    "other_lang",
    "place",
    "list_title",
)

PAGE = """
.top {{ display: flex; gap: 1.5em; flex-wrap: wrap; align-items: flex-start; }}
.facts th {{ white-space: nowrap; color: #555; font-weight: normal; }}
.photo {{ max-height: 180px; margin: 0 0.5em 0.5em 0; border: 1px solid #ccc; }}
#incident-map {{ border: 1px solid #bbb; max-width: 100%; height: auto; }}
#act {{ background: #f5f5f5; padding: 0.3em 1em 1em; }}
</style></head><body>
<header><h1>{title}{joint}</h1>
<nav><a href="/map?lang={lang}">{back_to_map}</a><a href="/incidents?lang={lang}">{list_title}</a>
<a href="/api/v1/incidents/{id}">{json_record}</a>
<a href="/incidents/{id}?lang={other_lang}">{language}</a></nav></header>
<div class="top"><div>{facts}</div><figure>{map}<figcaption>{place}</figcaption></figure></div>
{act}
<h2>{photos}</h2><div id="photos">{photos_html}</div>
<h2>{history}</h2>
<table id="history"><tr><th>{when}</th><th>{kind}</th><th>{actor}</th><th>{status}</th>
<th>{tier}</th><th>{note}</th></tr>{history_rows}</table>
<h2>{verifications}</h2><ul id="verifications">{passed}</ul>
<h2>{duplicates}</h2><ul id="duplicates">{duplicates_list}</ul>
</body></html>
"""
