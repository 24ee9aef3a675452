"""Border water sections and readings inserted by hand on the demo data (the water import is
tested elsewhere): a section at the middle of a segment, a reading with its class and
exceedance factors as the test states them."""

from __future__ import annotations

import json

from sqlalchemy import text
from sqlalchemy.orm import Session

# A border segment with a side in the demo zone (Wujiang or Xiuzhou or under them).
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
SELECT :code, :name, :name_en, :kind, :target, s.river_id, s.id,
       ST_LineInterpolatePoint(s.geom, 0.5), ST_LineInterpolatePoint(s.geom, 0.5), 0
FROM river_segments s WHERE s.id = :segment RETURNING id
"""
READING = """
INSERT INTO water_readings (section_id, sampled_at, measured, class, factors, target_class)
VALUES (:section, CAST(:at AS timestamptz), '{}', :class, CAST(:factors AS jsonb), :target)
"""


def border_segment(session: Session) -> int:
    """A border segment of the demo zone."""
    return int(session.execute(text(BORDER_SEGMENT)).one().id)


def inner_segment(session: Session) -> int:
    """A segment that is no border."""
    return int(session.execute(text(INNER_SEGMENT)).one().id)


def add_section(
    session: Session,
    code: str,
    segment: int,
    *,
    kind: str,
    target: int,
    name: str | None = None,
    name_en: str | None = None,
) -> int:
    """A section at the middle of the segment."""
    params = {
        "code": code,
        "name": name or code,
        "name_en": name_en,
        "kind": kind,
        "target": target,
        "segment": segment,
    }
    return int(session.execute(text(SECTION), params).scalar_one())


def add_reading(
    session: Session,
    section_id: int,
    at: str,
    water_class: int | None,
    factors: dict[str, float] | None = None,
) -> None:
    """A reading at `at` (a local time written with its offset)."""
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
