"""The border sections' classes of a period, the period before and the parameters over the
target, against values worked out by hand from readings inserted here."""

from __future__ import annotations

import json
from datetime import date

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_patrol.water.trends import border_trends, previous_period

ZONE = "ZONE-SZ-WJJ"

# A border segment with a side in the demo zone, and a segment no side of the zone holds.
BORDER_SEGMENT = """
SELECT s.id, s.river_id FROM river_segments s
WHERE s.is_border AND EXISTS (SELECT 1 FROM river_segment_sides x
    WHERE x.segment_id = s.id AND x.jurisdiction_code LIKE ANY(ARRAY['320509%', '330411%']))
ORDER BY s.id LIMIT 1
"""
INNER_SEGMENT = "SELECT id, river_id FROM river_segments WHERE NOT is_border ORDER BY id LIMIT 1"
SECTION = """
INSERT INTO water_sections (code, name, name_en, kind, target_class, river_id, segment_id,
                            geom, given_geom, snap_distance_m)
SELECT :code, :name, NULL, :kind, :target, s.river_id, s.id, ST_LineInterpolatePoint(s.geom, 0.5),
       ST_LineInterpolatePoint(s.geom, 0.5), 0
FROM river_segments s WHERE s.id = :segment RETURNING id
"""
READING = """
INSERT INTO water_readings (section_id, sampled_at, measured, class, factors, target_class)
VALUES (:section, CAST(:at AS timestamptz), '{}', :class, CAST(:factors AS jsonb), :target)
"""


def section(session: Session, code: str, segment: int, *, kind: str, target: int) -> int:
    """A section at the middle of the segment."""
    params = {"code": code, "name": code, "kind": kind, "target": target, "segment": segment}
    return int(session.execute(text(SECTION), params).scalar_one())


def reading(
    session: Session,
    section_id: int,
    at: str,
    water_class: int | None,
    factors: dict[str, float] | None = None,
) -> None:
    """A reading at `at` (local time given with its offset)."""
    session.execute(
        text(READING),
        {
            "section": section_id,
            "at": at,
            "class": water_class,
            "factors": json.dumps(factors or {}),
            "target": 3,
        },
    )


def test_previous_period_is_the_month_before_or_as_many_days() -> None:
    assert previous_period(date(2026, 11, 1), date(2026, 11, 30)) == (
        date(2026, 10, 1),
        date(2026, 10, 31),
    )
    assert previous_period(date(2026, 3, 1), date(2026, 3, 31)) == (
        date(2026, 2, 1),
        date(2026, 2, 28),
    )
    assert previous_period(date(2026, 11, 10), date(2026, 11, 19)) == (
        date(2026, 10, 31),
        date(2026, 11, 9),
    )


def test_border_sections_classed_by_their_worst_reading(demo_session: Session) -> None:
    border = demo_session.execute(text(BORDER_SEGMENT)).one()
    inner = demo_session.execute(text(INNER_SEGMENT)).one()
    zone_id = demo_session.execute(
        text("SELECT id FROM cooperation_zones WHERE code = :c"), {"c": ZONE}
    ).scalar_one()
    worse = section(demo_session, "T-WORSE", border.id, kind="provincial", target=3)
    quiet = section(demo_session, "T-QUIET", border.id, kind="border", target=2)
    section(demo_session, "T-INNER", inner.id, kind="national", target=3)  # not at the border
    # October (last period): class II, then III on the last local minute of the month.
    reading(demo_session, worse, "2026-10-05 10:00+08", 2)
    reading(demo_session, worse, "2026-10-31 23:59+08", 3)
    # November: the first local minute counts here; IV decides, III and a class-less one not.
    reading(demo_session, worse, "2026-11-01 00:00+08", 3, {"NH3-N": 0.2})
    reading(demo_session, worse, "2026-11-15 09:00+08", 4, {"NH3-N": 0.45, "TP": 0.1})
    reading(demo_session, worse, "2026-11-20 09:00+08", None)
    # December is outside both periods.
    reading(demo_session, worse, "2026-12-01 00:00+08", 6, {"COD": 2.0})
    reading(demo_session, quiet, "2026-10-10 09:00+08", 2)
    got = border_trends(
        demo_session, zone_id=zone_id, date_from=date(2026, 11, 1), date_to=date(2026, 11, 30)
    )
    by_code = {t.code: t for t in got}
    assert set(by_code) == {"T-WORSE", "T-QUIET"}
    w = by_code["T-WORSE"]
    assert (w.water_class, w.last_class, w.target_class) == (4, 3, 3)
    # NH3-N's largest factor of the month (0.45 > 0.2), then TP.
    assert [(o.parameter, o.factor) for o in w.over] == [("NH3-N", 0.45), ("TP", 0.1)]
    assert w.worse_than_last and w.worse_than_target and w.worsened
    q = by_code["T-QUIET"]
    assert (q.water_class, q.last_class, q.target_class, q.over) == (None, 2, 2, [])
    assert not q.worsened
