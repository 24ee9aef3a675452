"""How the water at a zone's border stands: each border section's class in a period, in the
period before, and against its target, with the parameters over the target's limit.

The class of a period is that of its worst reading (the single-factor method carried over the
period: the assessment of a month or a year by a section's worst sample, as 断面考核 does when
a section is judged by whether it ever missed its target). The other rule in use, the class of
the mean concentrations, needs the raw values averaged per parameter; with the monthly
sampling of the sections we hold (one reading a month), both agree. A reading with no class
(nothing that counts was measured) never decides a period.

The parameters over the limit are those of every reading in the period whose exceedance
factor (超标倍数, kept with the reading against the target copied at import) is positive,
each with its largest factor in the period.

A zone's border sections are those on a border segment (or of kind `border`) whose segment
has a side in the zone's area (its members and everything under them); a section not snapped
to a segment counts by its own side.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_patrol.core.local_time import LOCAL

TRENDS = """
WITH RECURSIVE area AS (
    SELECT jurisdiction_code AS code FROM cooperation_zone_members WHERE zone_id = :zone_id
    UNION
    SELECT j.code FROM jurisdictions j JOIN area a ON j.parent_code = a.code
    WHERE j.valid_to IS NULL
),
sections AS (
    SELECT w.id, w.code, w.name, w.name_en, w.kind, w.target_class, w.side_code,
           w.segment_id, r.code AS river_code, r.name AS river_name
    FROM water_sections w JOIN rivers r ON r.id = w.river_id
    LEFT JOIN river_segments s ON s.id = w.segment_id
    WHERE (w.kind = 'border' OR s.is_border)
      AND (EXISTS (SELECT 1 FROM river_segment_sides x JOIN area a ON a.code = x.jurisdiction_code
                   WHERE x.segment_id = w.segment_id)
           OR (w.segment_id IS NULL AND w.side_code IN (SELECT code FROM area)))
),
periods AS (
    SELECT r.section_id, r.id, r.class, r.sampled_at, r.factors,
           r.sampled_at >= :since AS this_period
    FROM water_readings r JOIN sections s ON s.id = r.section_id
    WHERE r.sampled_at >= :last_since AND r.sampled_at < :until AND r.class IS NOT NULL
),
worst AS (
    SELECT DISTINCT ON (section_id, this_period) section_id, this_period, id, class, sampled_at
    FROM periods ORDER BY section_id, this_period, class DESC, sampled_at DESC
),
over AS (
    SELECT section_id, parameter, max(factor) AS factor FROM (
        SELECT p.section_id, f.key AS parameter, f.value::float8 AS factor
        FROM periods p, jsonb_each_text(p.factors) AS f
        WHERE p.this_period
    ) x WHERE factor > 0 GROUP BY section_id, parameter
)
SELECT s.*, n.id AS reading_id, n.class AS water_class, n.sampled_at,
       l.class AS last_class,
       coalesce((SELECT json_agg(json_build_object('parameter', o.parameter, 'factor', o.factor)
                                 ORDER BY o.factor DESC, o.parameter)
                 FROM over o WHERE o.section_id = s.id), '[]'::json) AS over
FROM sections s
LEFT JOIN worst n ON n.section_id = s.id AND n.this_period
LEFT JOIN worst l ON l.section_id = s.id AND NOT l.this_period
ORDER BY s.river_name, s.code
"""


@dataclass(frozen=True)
class Exceedance:
    """A parameter over the target's limit in the period, and its largest exceedance factor
    ((value − limit) / limit)."""

    parameter: str
    factor: float


@dataclass(frozen=True)
class SectionTrend:
    """One border section: its class this period and the period before (None: no classed
    reading), its target, the parameters over the target's limit this period."""

    section_id: int
    code: str
    name: str
    name_en: str | None
    kind: str
    side_code: str | None
    segment_id: int | None
    river_code: str
    river_name: str
    target_class: int
    water_class: int | None
    last_class: int | None
    reading_id: int | None  # the reading that decided this period's class
    sampled_at: datetime | None
    over: list[Exceedance] = field(default_factory=list)

    @property
    def worse_than_last(self) -> bool:
        """This period's class is worse than the last period's (both known)."""
        return (
            self.water_class is not None
            and self.last_class is not None
            and self.water_class > self.last_class
        )

    @property
    def worse_than_target(self) -> bool:
        """This period's class is worse than the section's target."""
        return self.water_class is not None and self.water_class > self.target_class

    @property
    def worsened(self) -> bool:
        """Worse than last period or than the target: a matter for the meeting."""
        return self.worse_than_last or self.worse_than_target

    def display_name(self, lang: str) -> str:
        """The section's name in `lang` (the Chinese name when it has no English one)."""
        return (self.name_en or self.name) if lang == "en" else self.name


def previous_period(date_from: date, date_to: date) -> tuple[date, date]:
    """The period before [date_from, date_to] (local days, both included): the calendar
    month before when the period is a whole calendar month, else as many days just before."""
    last_day = calendar.monthrange(date_to.year, date_to.month)[1]
    whole_month = (
        date_from.day == 1
        and (date_from.year, date_from.month) == (date_to.year, date_to.month)
        and date_to.day == last_day
    )
    if whole_month:
        end = date_from - timedelta(days=1)
        return end.replace(day=1), end
    days = (date_to - date_from).days + 1
    return date_from - timedelta(days=days), date_from - timedelta(days=1)


def _midnight(day: date) -> datetime:
    """The local midnight that starts `day`."""
    return datetime.combine(day, time(), LOCAL)


def _trend(row: Any) -> SectionTrend:
    """A section's trend from its row."""
    values = dict(row._mapping)
    over = [Exceedance(o["parameter"], float(o["factor"])) for o in values.pop("over")]
    values["section_id"] = values.pop("id")
    return SectionTrend(**values, over=over)


def border_trends(
    session: Session, *, zone_id: int, date_from: date, date_to: date
) -> list[SectionTrend]:
    """Each border section of the zone, by river and code: its class in [date_from, date_to]
    (local days), in the period before (previous_period) and against its target."""
    last_from, _ = previous_period(date_from, date_to)
    rows = session.execute(
        text(TRENDS),
        {
            "zone_id": zone_id,
            "last_since": _midnight(last_from),
            "since": _midnight(date_from),
            "until": _midnight(date_to + timedelta(days=1)),
        },
    )
    return [_trend(row) for row in rows]
