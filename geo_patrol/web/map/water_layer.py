"""The water sections on the supervisor map: a point per visible section coloured by the
class of its latest reading (the colours GB 3838 class maps usually use: I and II blue, III
green, IV yellow, V orange, 劣V red; grey before any reading), ringed in dark red when that
class is worse than the section's target. The popup names the section, its kind and target,
the latest class and when it was sampled, the parameters over the target with their
exceedance factors, and the last readings' classes as a small chart: inline SVG drawn by a
template from the numbers computed here (no script, nothing from a CDN).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import folium

from geo_patrol.core import catalog
from geo_patrol.core.local_time import local_day
from geo_patrol.water.queries import TREND_READINGS, Section, class_name
from geo_patrol.water.standard import WORST
from geo_patrol.web.render import literal_safe, render

CLASS_COLOUR: Final = {
    1: "#1565c0",
    2: "#42a5f5",
    3: "#43a047",
    4: "#fdd835",
    5: "#fb8c00",
    6: "#e53935",
}
NO_READING_COLOUR: Final = "#9e9e9e"
WORSE_RING: Final = "#7f0000"

# The trend chart's frame in SVG units: a row per class (I at the top), a column per reading.
CHART_WIDTH, CHART_HEIGHT = 260, 96
CHART_LEFT, CHART_RIGHT, CHART_TOP, CHART_BOTTOM = 34, 8, 8, 18


@dataclass(frozen=True)
class ChartPoint:
    """A reading on the chart: where, its colour, and what its title says."""

    x: float
    y: float
    colour: str
    title: str


def _row(water_class: int) -> float:
    """The y of a class's row."""
    step = (CHART_HEIGHT - CHART_TOP - CHART_BOTTOM) / (WORST - 1)
    return round(CHART_TOP + (water_class - 1) * step, 1)


def trend_chart(section: Section) -> dict[str, Any]:
    """The numbers of a section's trend chart: rows (with class words), the target's row,
    the readings' points and the line through them, the first and last day."""
    trend = section.trend[-TREND_READINGS:]
    span = CHART_WIDTH - CHART_LEFT - CHART_RIGHT
    step = span / max(TREND_READINGS - 1, 1)
    points = [
        ChartPoint(
            x=round(CHART_LEFT + index * step, 1),
            y=_row(point.water_class),
            colour=CLASS_COLOUR[point.water_class],
            title=f"{local_day(point.sampled_at)} {class_name(point.water_class)}",
        )
        for index, point in enumerate(trend)
        if point.water_class is not None
    ]
    return {
        "width": CHART_WIDTH,
        "height": CHART_HEIGHT,
        "left": CHART_LEFT,
        "right": CHART_WIDTH - CHART_RIGHT,
        "rows": [(_row(c), class_name(c)) for c in range(1, WORST + 1)],
        "target": _row(section.target_class),
        "points": points,
        "line": " ".join(f"{p.x},{p.y}" for p in points),
        "first": local_day(trend[0].sampled_at) if trend else "",
        "last": local_day(trend[-1].sampled_at) if trend else "",
        "base": CHART_HEIGHT - 4,
    }


def colour_of(section: Section) -> str:
    """The fill of a section's point: its latest class's colour (grey: no class yet)."""
    latest = section.latest
    if latest is None or latest.water_class is None:
        return NO_READING_COLOUR
    return CLASS_COLOUR[latest.water_class]


def _class_word(water_class: int | None, lang: str) -> str | None:
    """A class in the page's words (III类, or III; 劣V类, or worse than V)."""
    return None if water_class is None else catalog.text(f"water.class_{water_class}", lang)


def popup_html(section: Section, lang: str) -> str:
    """The popup of a section (for Folium's template literal)."""
    latest = section.latest
    over = []
    if latest is not None:
        over = [{"name": name, "factor": latest.factors.get(name)} for name in latest.over_target]
    return literal_safe(
        "map/water_popup.html",
        lang=lang,
        s=section,
        latest=latest,
        latest_name=_class_word(latest.water_class if latest else None, lang),
        target_name=_class_word(section.target_class, lang),
        over=over,
        chart=trend_chart(section),
        trend_count=len(section.trend),
    )


def add_water(m: folium.Map, sections: list[Section], lang: str) -> None:
    """The layer "water sections": a point per section, a popup each."""
    group = folium.FeatureGroup(name=catalog.text("water.layer", lang), show=True)
    for section in sections:
        worse = section.latest is not None and section.latest.worse_than_target
        icon = render(
            "map/water_icon.html",
            lang=lang,
            colour=colour_of(section),
            ring=WORSE_RING if worse else "#263238",
            worse=worse,
            code=section.code,
        )
        folium.Marker(
            # Leaflet takes [lat, lon]: the one flip from our (lon, lat).
            [section.lat, section.lon],
            icon=folium.DivIcon(html=icon, icon_size=(18, 18), icon_anchor=(9, 9)),
            popup=folium.Popup(popup_html(section, lang), max_width=320),
            tooltip=literal_safe("map/tooltip.html", lang=lang, text=section.name),
        ).add_to(group)
    group.add_to(m)
