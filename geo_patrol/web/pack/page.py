"""The joint-meeting pack: one HTML file with the zone's map and tables, no server needed.

Scripts, styles and the images they use are inside the file (assets.inline), the tracks
are simplified lines inside the map; the page prints on A4 landscape. Around Folium's map
the pack is templates/pack/ (head, title, sections; tables and charts in charts.html).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import cast

import folium
from sqlalchemy.orm import Session

from geo_patrol.access.principal import Principal
from geo_patrol.access.scope import Scope
from geo_patrol.core import catalog
from geo_patrol.core.local_time import local_day
from geo_patrol.core.settings import CHECKOUT_VENDOR_DIR
from geo_patrol.db.tables import INCIDENT_STATUSES, TIERS
from geo_patrol.meetings.decisions import Decision
from geo_patrol.meetings.duty_figures import DutyFigures
from geo_patrol.meetings.pack_figures import PackData, pack_data
from geo_patrol.water.standard import CLASS_NAMES
from geo_patrol.water.trends import SectionTrend
from geo_patrol.web.assets import inline
from geo_patrol.web.map.filters import MapFilters
from geo_patrol.web.map.layers import MapData, map_data
from geo_patrol.web.map.page import DUTY_COLOUR, STATUS_COLOUR, build_map
from geo_patrol.web.render import macro, render

# The effort table's number columns, after the side's name.
EFFORT_COLUMNS = ("km", "hours", "patrols", "joint_patrols", "crossings")


def bar_chart(items: list[tuple[str, float, str]], *, title: str, width: int = 460) -> str:
    """A horizontal bar chart as inline SVG: (label, value, colour) per bar."""
    return macro("pack/charts.html", "bar_chart", items, title, width)


def _case_row(
    i: dict[str, object], w: dict[str, str], name: Callable[[str, str], str]
) -> list[object]:
    """One case as a row of the joint and overdue tables."""
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


def duty_tables(duty: DutyFigures, names: dict[str, str], lang: str) -> dict[str, object]:
    """The duty section's tables: one per side (chief, level, river, period, done/required,
    status) and the joint pairs'."""
    status = {s: catalog.text(f"map.duty_status_{s}", lang) for s in DUTY_COLOUR}
    sides = [
        {
            "name": names.get(side.code or "", side.code or "—"),
            "met": side.met,
            "owing": side.owing,
            "rows": [
                [
                    chief.member_name,
                    catalog.text(f"map.chief_{chief.level}", lang),
                    chief.side_name or chief.side_code,
                    chief.river_name,
                    chief.period.label(lang),
                    f"{chief.done} / {chief.required}",
                    (str(chief.status), status[chief.status]),
                ]
                for chief in side.chiefs
            ],
        }
        for side in duty.sides
    ]
    joints = [
        [
            pair.name,
            ", ".join(
                f"{c['name']} ({names.get(c['side_code'], c['side_code'])})" for c in pair.chiefs
            ),
            pair.period.label(lang),
            f"{pair.done} / {pair.required}",
            (str(pair.status), status[pair.status]),
        ]
        for pair in duty.joints
    ]
    return {"duty_sides": sides, "duty_joints": joints, "duty_colours": DUTY_COLOUR}


def _class(water_class: int | None) -> str:
    """A class's name (I..劣V), or a dash for none."""
    return CLASS_NAMES[water_class] if water_class else "—"


def _decision_row(d: Decision, names: dict[str, str], lang: str) -> dict[str, object]:
    """One decision of the last meeting: its text, owners, deadline, shown status and last
    update (date and note)."""
    owners = "; ".join(
        names.get(o.side_code, o.side_code) + (f" · {o.member_name}" if o.member_name else "")
        for o in d.owners
    )
    last = d.updates[-1] if d.updates else None
    update = "—" if last is None else f"{local_day(last.at)} {last.note or ''}".strip()
    return {
        "id": d.id,
        "status": str(d.status),
        "cells": [
            d.position,
            d.body,
            owners or "—",
            d.deadline.isoformat(),
            catalog.text(f"pack.status_{d.status}", lang),
            update,
        ],
    }


def _water_row(t: SectionTrend, lang: str) -> list[object]:
    """One border section: name, river, class this period, last, target, over the limit."""
    over = ", ".join(f"{o.parameter} ×{o.factor:.2f}" for o in t.over) or "—"
    return [
        t.display_name(lang),
        t.river_name,
        _class(t.water_class),
        _class(t.last_class),
        _class(t.target_class),
        over,
    ]


def follow_up_sections(pack: PackData, lang: str) -> dict[str, object]:
    """The last meeting's decisions, the proposed agenda and the water at the border."""
    meeting = pack.last_meeting
    agenda = pack.agenda.items if pack.agenda else []
    return {
        "last_meeting": None
        if meeting is None
        else catalog.text(
            "pack.last_meeting", lang, title=meeting.title, held=local_day(meeting.held_at)
        ),
        "decision_rows": [_decision_row(d, pack.names, lang) for d in pack.decisions],
        "agenda_rows": [
            {
                "kind": str(i.kind),
                "link": i.link,
                "cells": [catalog.text(f"agenda.kind_{i.kind}", lang), i.title.text(lang)],
            }
            for i in agenda
        ],
        "water_rows": [_water_row(t, lang) for t in pack.water],
    }


def _sections(pack: PackData, lang: str) -> str:
    """The tables and charts under the map."""
    w = catalog.words("map", lang)
    name = pack.names.get
    by_status = pack.counts("status")
    by_tier = pack.counts("tier")
    by_side = pack.counts("lead_code")
    shown = [s for s in INCIDENT_STATUSES if by_status[s]]
    return render(
        "pack/sections.html",
        lang=lang,
        effort_rows=[
            [f"{e['name']} ({w[e['level']]})", *(e[k] for k in EFFORT_COLUMNS)] for e in pack.effort
        ],
        coverage_rows=[
            [c.name, c.length_m / 1000, f"{100 * c.covered_fraction:.1f} %", round(c.longest_gap_m)]
            for c in pack.coverage
        ],
        effort_bars=[(f"{e['name']}", float(e["km"]), "#0d47a1") for e in pack.effort],
        status_bars=[(w[f"status_{s}"], float(by_status[s]), STATUS_COLOUR[s]) for s in shown],
        status_rows=[[w[f"status_{s}"], by_status[s]] for s in shown],
        tier_rows=[[w[f"tier_{t}"], by_tier[t]] for t in TIERS],
        side_rows=[[name(code, code), n] for code, n in sorted(by_side.items())],
        escalations=pack.escalations,
        duplicates=pack.duplicates,
        joint=[_case_row(i, w, name) for i in pack.cases if i["is_joint"]],
        overdue=[_case_row(i, w, name) for i in pack.cases if i["overdue"]],
        **duty_tables(pack.duty, pack.names, lang),
        **follow_up_sections(pack, lang),
    )


def render_pack(
    pack: PackData,
    map_data: MapData,
    *,
    generated_at: datetime,
    vendor_dir: Path = CHECKOUT_VENDOR_DIR,
) -> str:
    """The meeting pack as one self-contained HTML document (map files from `vendor_dir`)."""
    lang = map_data.filters.lang
    m = build_map(map_data, sources=[], tracks=pack.tracks, controls=False, height="150mm")
    root = cast(folium.Figure, m.get_root())
    title = f"{catalog.text('map.pack_title', lang)} · {pack.zone['name']}"
    root.header.add_child(folium.Element(render("pack/head.html", lang=lang, title=title)))
    # The title goes before the map's div.
    heading = render(
        "pack/title.html",
        lang=lang,
        title=title,
        period=f"{pack.filters.date_from} – {pack.filters.date_to}",
        generated=f"{generated_at:%Y-%m-%d %H:%M}",
    )
    root.html.add_child(folium.Element(heading), index=0)
    page = root.render().replace("<html>", f'<html lang="{catalog.html_lang(lang)}">', 1)
    # The map's div is written while rendering: the tables go after it, at the body's end.
    sections = _sections(pack, lang)
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
