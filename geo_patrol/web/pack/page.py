"""The joint-meeting pack: one HTML file with the zone's map and tables, no server needed.

Scripts, styles and the images they use are inside the file (assets.inline), the tracks
are simplified lines inside the map; the page prints on A4 landscape.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import cast

import folium
from sqlalchemy.orm import Session

from geo_patrol.access.principal import Principal
from geo_patrol.access.scope import Scope
from geo_patrol.core.local_time import local_day
from geo_patrol.core.settings import CHECKOUT_VENDOR_DIR
from geo_patrol.db.tables import INCIDENT_STATUSES, TIERS
from geo_patrol.meetings.pack_figures import PackData, pack_data
from geo_patrol.web.assets import inline
from geo_patrol.web.map.filters import MapFilters
from geo_patrol.web.map.layers import MapData, map_data
from geo_patrol.web.map.page import STATUS_COLOUR, build_map
from geo_patrol.web.map.text import words
from geo_patrol.web.markup import esc

PACK_CSS = """
<style>
html, body {height: auto;}
body {margin: 0 auto; padding: 0 4mm; max-width: 277mm; color: #212121; font-size: 13px;}
.gp-pack header {display: flex; justify-content: space-between; align-items: baseline;
  border-bottom: 2px solid #0d47a1; margin: 6mm 0 3mm 0;}
.gp-pack h1 {font-size: 20px; margin: 0;}
.gp-pack h2 {font-size: 15px; margin: 5mm 0 2mm 0; color: #0d47a1;}
.gp-pack table {border-collapse: collapse; width: 100%; margin-bottom: 3mm;}
.gp-pack th, .gp-pack td {border: 1px solid #b0bec5; padding: 3px 6px; text-align: left;}
.gp-pack td.n {text-align: right; font-variant-numeric: tabular-nums;}
.gp-pack th {background: #eceff1;}
.gp-pack .cols {display: flex; gap: 6mm;} .gp-pack .cols > div {flex: 1;}
.gp-pack .muted {color: #607d8b;}
.gp-pack svg text {font-size: 11px;}
.folium-map {border: 1px solid #90a4ae;}
@page {size: A4 landscape; margin: 10mm;}
@media print {
  body {max-width: none;}
  .gp-pack section {break-inside: avoid;}
  .gp-pack .page-break {break-before: page;}
  .leaflet-control-layers, .leaflet-control-zoom {display: none;}
}
</style>
"""


def _cell(value: object, *, number: bool = False) -> str:
    """One table cell."""
    if isinstance(value, float):
        value = f"{value:,.1f}"
    css = ' class="n"' if number else ""
    return f"<td{css}>{esc(str(value))}</td>"


def _table(headers: list[str], rows: list[list[object]], numeric_from: int = 1) -> str:
    """A table; columns from `numeric_from` on are right-aligned numbers."""
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(_cell(v, number=i >= numeric_from) for i, v in enumerate(row)) + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def bar_chart(items: list[tuple[str, float, str]], *, title: str, width: int = 460) -> str:
    """A horizontal bar chart as inline SVG: (label, value, colour) per bar."""
    bar_h, gap, label_w = 18, 6, 150
    height = len(items) * (bar_h + gap) + 26
    top = max((value for _, value, _ in items), default=0) or 1
    bars = []
    for index, (label, value, colour) in enumerate(items):
        y = 22 + index * (bar_h + gap)
        length = (width - label_w - 60) * value / top
        shown = f"{value:,.0f}" if value.is_integer() else f"{value:,.1f}"
        bars.append(
            f'<text x="{label_w - 6}" y="{y + 13}" text-anchor="end">{esc(label)}</text>'
            f'<rect x="{label_w}" y="{y}" width="{length:.1f}" height="{bar_h}" fill="{colour}"/>'
            f'<text x="{label_w + length + 4:.1f}" y="{y + 13}">{shown}</text>'
        )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'role="img" aria-label="{esc(title)}"><text x="0" y="14" font-weight="bold">'
        f"{esc(title)}</text>{''.join(bars)}</svg>"
    )


def _sections(pack: PackData, lang: str) -> str:
    """The tables and charts under the map."""
    w = words(lang)
    name = pack.names.get
    effort_rows: list[list[object]] = [
        [
            f"{e['name']} ({w[e['level']]})",
            e["km"],
            e["hours"],
            e["patrols"],
            e["joint_patrols"],
            e["crossings"],
        ]
        for e in pack.effort
    ]
    coverage_rows: list[list[object]] = [
        [c.name, c.length_m / 1000, f"{100 * c.covered_fraction:.1f} %", round(c.longest_gap_m)]
        for c in pack.coverage
    ]
    by_status = pack.counts("status")
    by_tier = pack.counts("tier")
    by_side = pack.counts("lead_code")
    joint = [i for i in pack.cases if i["is_joint"]]
    overdue = [i for i in pack.cases if i["overdue"]]

    def case_row(i: dict[str, object]) -> list[object]:
        lead = str(i["lead_code"] or "")
        co = cast(list[str], i["co_codes"] or [])
        return [
            f"#{i['id']}",
            i["category_name"],
            w[f"status_{i['status']}"],
            w[f"tier_{i['tier']}"],
            name(lead, lead),
            ", ".join(name(c, c) or c for c in co) or "—",
            local_day(cast(datetime | None, i["deadline_at"])),
        ]

    case_headers = [
        w["id"],
        w["category_col"],
        w["status"],
        w["tier"],
        w["lead"],
        w["co"],
        w["deadline"],
    ]
    effort_chart = bar_chart(
        [(f"{e['name']}", float(e["km"]), "#0d47a1") for e in pack.effort],
        title=w["effort_chart"],
    )
    status_chart = bar_chart(
        [
            (w[f"status_{s}"], float(by_status[s]), STATUS_COLOUR[s])
            for s in INCIDENT_STATUSES
            if by_status[s]
        ],
        title=w["status_chart"],
    )
    none = f'<p class="muted">{esc(w["none"])}</p>'
    return f"""
<section><h2>{esc(w["effort"])}</h2>
{
        _table(
            [w["side"], w["km"], w["hours"], w["patrols"], w["joint_patrols"], w["crossings"]],
            effort_rows,
        )
    }
<div class="cols"><div>{effort_chart}</div><div>{status_chart}</div></div></section>
<section><h2>{esc(w["coverage"])}</h2>
{
        _table([w["river"], w["km"], w["covered_pct"], w["longest_gap"]], coverage_rows)
        if coverage_rows
        else none
    }</section>
<section class="page-break"><div class="cols">
<div><h2>{esc(w["by_status"])}</h2>
{
        _table(
            [w["status"], w["count"]],
            [[w[f"status_{s}"], by_status[s]] for s in INCIDENT_STATUSES if by_status[s]],
        )
    }</div>
<div><h2>{esc(w["by_tier"])}</h2>
{_table([w["tier"], w["count"]], [[w[f"tier_{t}"], by_tier[t]] for t in TIERS])}</div>
<div><h2>{esc(w["by_side"])}</h2>
{
        _table(
            [w["side"], w["count"]], [[name(code, code), n] for code, n in sorted(by_side.items())]
        )
    }</div>
</div>
<p>{esc(w["escalations"])}: <b id="gp-escalations">{pack.escalations}</b> ·
{esc(w["duplicates"])}: <b id="gp-duplicates">{pack.duplicates}</b></p></section>
<section><h2>{esc(w["joint_cases"])} ({len(joint)})</h2>
{_table(case_headers, [case_row(i) for i in joint], numeric_from=99) if joint else none}
</section>
<section><h2>{esc(w["overdue_items"])} ({len(overdue)})</h2>
{_table(case_headers, [case_row(i) for i in overdue], numeric_from=99) if overdue else none}
</section>
"""


def render_pack(
    pack: PackData,
    map_data: MapData,
    *,
    generated_at: datetime,
    vendor_dir: Path = CHECKOUT_VENDOR_DIR,
) -> str:
    """The meeting pack as one self-contained HTML document (map files from `vendor_dir`)."""
    lang = map_data.filters.lang
    w = words(lang)
    m = build_map(map_data, sources=[], tracks=pack.tracks, controls=False, height="150mm")
    root = cast(folium.Figure, m.get_root())
    title = f"{w['pack_title']} · {pack.zone['name']}"
    period = f"{pack.filters.date_from} – {pack.filters.date_to}"
    root.header.add_child(
        folium.Element(f'<title>{esc(title)}</title><link rel="icon" href="data:,">{PACK_CSS}')
    )
    # The title goes before the map's div.
    root.html.add_child(
        folium.Element(
            f'<div class="gp-pack"><header><h1>{esc(title)}</h1>'
            f"<span>{esc(w['period'])}: {period} · {esc(w['generated'])}: "
            f"{generated_at:%Y-%m-%d %H:%M}</span></header></div>"
        ),
        index=0,
    )
    page = root.render().replace("<html>", f'<html lang="{"en" if lang == "en" else "zh-CN"}">', 1)
    # The map's div is written while rendering: the tables go after it, at the body's end.
    sections = f'<div class="gp-pack">{_sections(pack, lang)}</div>'
    # No marker of the pack has an icon: the icon font (about 1 MB) stays out of the file.
    unused = ("@fortawesome/", "leaflet.awesome-markers/")
    page = page.replace("</body>", sections + "</body>", 1)
    return inline(page, leave_out=unused, vendor_dir=vendor_dir)


def meeting_pack(
    session: Session,
    *,
    scope: Scope,
    principal: Principal,
    filters: MapFilters,
    generated_at: datetime,
    vendor_dir: Path = CHECKOUT_VENDOR_DIR,
) -> str:
    """Read and render the meeting pack of `filters.zone` for its period."""
    pack = pack_data(session, scope=scope, principal=principal, filters=filters)
    data = map_data(session, scope=scope, principal=principal, filters=filters)
    return render_pack(pack, data, generated_at=generated_at, vendor_dir=vendor_dir)


def pack_filename(filters: MapFilters) -> str:
    """meeting-pack-<zone>-<from>-<to>.html (zone codes are plain ASCII)."""
    zone = "".join(c if c.isalnum() or c in "-_" else "_" for c in filters.zone or "zone")
    return f"meeting-pack-{zone}-{filters.date_from}-{filters.date_to}.html"
