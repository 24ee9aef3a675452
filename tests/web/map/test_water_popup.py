"""The water layer's popup and trend chart, pure: hostile names stay text inside Folium's
template literal, the chart puts each class on its row (I at the top, rows 14 units apart:
worked out by hand from the 96-unit frame with 8 above and 18 below), the target's row is
dashed, a reading without a class is left out, a section without readings has no chart."""

from __future__ import annotations

from datetime import UTC, datetime

from geo_patrol.water.queries import Latest, Section, TrendPoint
from geo_patrol.web.map.water_layer import colour_of, popup_html, trend_chart

HOSTILE = "<img src=x onerror=alert(1)>`${document.cookie}`\\"


def section(classes: list[int | None], *, target: int = 3, name: str = "断面") -> Section:
    """A section whose readings (monthly, 2026) have `classes`, oldest first."""
    trend = [
        TrendPoint(datetime(2026, month, 5, 2, tzinfo=UTC), c)
        for month, c in enumerate(classes, start=1)
    ]
    latest = None
    if trend:
        last = trend[-1]
        latest = Latest(
            id=1,
            sampled_at=last.sampled_at,
            water_class=last.water_class,
            target_class=target,
            factors={"NH3-N": 0.2},
            over_target=("DO", "NH3-N"),
            incident_id=None,
        )
    return Section(
        id=1,
        code="WT-X",
        name=name,
        name_en=None,
        kind="border",
        water_body="river",
        target_class=target,
        side_code="320509100",
        sides=["320509100"],
        segment_id=None,
        river_code="R",
        river_name=HOSTILE,
        lon=120.6,
        lat=30.9,
        latest=latest,
        trend=trend,
    )


def test_each_class_on_its_row_and_the_target_dashed() -> None:
    chart = trend_chart(section([1, 2, 3, None, 4, 5, 6], target=2))
    assert [p.y for p in chart["points"]] == [8, 22, 36, 50, 64, 78]
    assert [name for _, name in chart["rows"]] == ["I", "II", "III", "IV", "V", "劣V"]
    assert chart["target"] == 22
    xs = [p.x for p in chart["points"]]
    assert xs == sorted(xs) and xs[0] == 34  # the reading without a class keeps its column
    assert abs((xs[3] - xs[2]) - 2 * (xs[1] - xs[0])) < 0.2
    assert chart["first"] == "2026-01-05" and chart["last"] == "2026-07-05"


def test_the_popup_keeps_hostile_text_as_text() -> None:
    html = popup_html(section([3, 4], name=HOSTILE), "zh")
    assert "<img" not in html and "&lt;img" in html
    assert not {"`", "$", "\\"} & set(html)  # Folium's template literal stays closed
    assert html.count("<circle") == 2 and "未达目标" in html
    assert "NH3-N (超标倍数 0.20)" in html


def test_a_section_without_readings_is_grey_and_has_no_chart() -> None:
    empty = section([])
    assert colour_of(empty) == "#9e9e9e"
    html = popup_html(empty, "en")
    assert "<svg" not in html and "No reading yet" in html
