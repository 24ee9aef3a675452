"""Water sections and readings put straight into the tables (the importer is tested on its
own): each reading's class is written by the test (hand-derived from GB 3838-2002 table 1)
and checked against water.standard.classify before it is stored, so the rows are what an
import would have stored."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import shapely
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_patrol.core.vocabulary import WaterBody
from geo_patrol.water.standard import classify
from tests.support.oracle import BORDER_RIVER

SECTION = """
INSERT INTO water_sections (code, name, kind, water_body, target_class, side_code, river_id,
                            segment_id, geom, given_geom, snap_distance_m, source)
SELECT :code, :name, :kind, :water_body, :target, :side, r.id, :segment,
       ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), ST_SetSRID(ST_MakePoint(:lon, :lat), 4326),
       0, 'test'
FROM rivers r WHERE r.code = :river
RETURNING id
"""

READING = """
INSERT INTO water_readings (section_id, sampled_at, measured, class, deciding, factors,
                            target_class, source)
VALUES (:section, :at, CAST(:measured AS jsonb), :class, CAST(:deciding AS jsonb),
        CAST(:factors AS jsonb), :target, 'test')
RETURNING id
"""

# A segment of the border river shared by the two demo towns, and its line.
SHARED_SEGMENT = """
SELECT s.id, ST_AsGeoJSON(s.geom) AS geometry
FROM river_segments s JOIN rivers r ON r.id = s.river_id
JOIN river_segment_sides x ON x.segment_id = s.id
WHERE r.code = :river
GROUP BY s.id
HAVING array_agg(x.jurisdiction_code ORDER BY x.jurisdiction_code) = :sides
ORDER BY s.seq LIMIT 1
"""


@dataclass(frozen=True)
class Sample:
    """What a reading measured and the class the test derived for it by hand."""

    measured: dict[str, float]
    water_class: int | None


def shared_segment(session: Session, sides: list[str]) -> tuple[int, shapely.LineString]:
    """A segment of the border river shared by exactly `sides`, and its line."""
    row = session.execute(text(SHARED_SEGMENT), {"river": BORDER_RIVER, "sides": sides}).one()
    return int(row.id), shapely.geometry.shape(json.loads(row.geometry))


def add_section(
    session: Session,
    *,
    code: str,
    lon: float,
    lat: float,
    target: int,
    side: str | None,
    kind: str = "border",
    segment: int | None = None,
    water_body: str = "river",
    name: str | None = None,
    river: str = BORDER_RIVER,
) -> int:
    """A section at (lon, lat) on `river`; its id."""
    params: dict[str, Any] = {
        "code": code,
        "name": name or f"断面 {code}",
        "kind": kind,
        "water_body": water_body,
        "target": target,
        "side": side,
        "segment": segment,
        "lon": lon,
        "lat": lat,
        "river": river,
    }
    return int(session.execute(text(SECTION), params).scalar_one())


def add_reading(
    session: Session,
    *,
    section: int,
    at: datetime,
    sample: Sample,
    target: int,
    water_body: str = "river",
) -> int:
    """A reading as the import stores it; its id. The hand-derived class must be the
    standard's."""
    found = classify(sample.measured, water_body=WaterBody(water_body), target=target)
    assert found.water_class == sample.water_class, (sample, found)
    params = {
        "section": section,
        "at": at,
        "measured": json.dumps(sample.measured),
        "class": found.water_class,
        "deciding": json.dumps(list(found.deciding)),
        "factors": json.dumps(dict(found.factors)),
        "target": target,
    }
    return int(session.execute(text(READING), params).scalar_one())


# Samples by the class derived for them from table 1 (rivers unless said):
SAMPLES = {
    # DO ≥ 7.5, CODMn ≤ 2, NH3-N ≤ 0.15, TP ≤ 0.02: every one class I.
    1: Sample({"DO": 7.6, "CODMn": 1.8, "NH3-N": 0.12, "TP": 0.015}, 1),
    # DO ≥ 6 and NH3-N ≤ 0.5: II; TN 3.0 (worse than V) does not count on a river.
    2: Sample({"DO": 6.5, "NH3-N": 0.4, "TN": 3.0}, 2),
    # DO ≥ 5, CODMn ≤ 6, NH3-N ≤ 1.0, TP ≤ 0.2: III.
    3: Sample({"DO": 5.5, "CODMn": 5.0, "NH3-N": 0.8, "TP": 0.18}, 3),
    # DO 4.0 (≥ 3: IV), NH3-N 1.2 (≤ 1.5: IV), TP 0.15 (III): IV.
    4: Sample({"DO": 4.0, "NH3-N": 1.2, "TP": 0.15}, 4),
    # DO 2.5 (≥ 2: V), COD 35 (≤ 40: V): V.
    5: Sample({"DO": 2.5, "COD": 35.0}, 5),
    # DO 1.5 (< 2) and COD 45 (> 40): 劣V.
    6: Sample({"DO": 1.5, "COD": 45.0}, 6),
}
# TP 0.04 in a lake: above the lake limit of II (0.025), within III (0.05): III.
LAKE_SAMPLE = Sample({"DO": 8.0, "TP": 0.04}, 3)

# The border section's classes, oldest first: 13 monthly readings (the trend shows 12).
BORDER_CLASSES = (1, 2, 3, 2, 3, 3, 5, 2, 3, 3, 2, 3, 4)
TOWN_A, TOWN_B = "320509100", "330411100"
# The last reading of the seeded sections: 10:00 in China on 5 November 2026.
WATER_LAST = datetime(2026, 11, 5, 2, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Seeded:
    """The test sections by code: their ids, points, and their readings' times and classes
    (oldest first)."""

    ids: dict[str, int]
    points: dict[str, tuple[float, float]]
    times: dict[str, list[datetime]]
    classes: dict[str, list[int]]
    readings: dict[str, list[Sample]]


def monthly(count: int, last: datetime) -> list[datetime]:
    """`count` sampling times a month apart (the 5th), the last one `last`."""
    months = [(last.year * 12 + last.month - 1) - n for n in range(count)][::-1]
    return [last.replace(year=m // 12, month=m % 12 + 1) for m in months]


def seed_sections(session: Session, *, last: datetime) -> Seeded:
    """Five sections: WT-B1 on a segment both towns share (run by A's town, target III, 13
    readings, the last IV), WT-A1 (A, target II, I then II), WT-L1 (A, a lake, target II, one
    III), WT-B2 (B, target III, one 劣V), WT-B3 (B, no reading)."""
    from tests.support.oracle import point_off_border_river

    segment, line = shared_segment(session, sorted([TOWN_A, TOWN_B]))
    middle = line.interpolate(0.5, normalized=True)
    points = {
        "WT-B1": (middle.x, middle.y),
        "WT-A1": point_off_border_river(1500, "320509"),
        "WT-L1": point_off_border_river(2500, "320509"),
        "WT-B2": point_off_border_river(1500, "330411"),
        "WT-B3": point_off_border_river(2500, "330411"),
    }
    plan: dict[str, tuple[str, int, str, list[Sample]]] = {
        "WT-B1": (TOWN_A, 3, "river", [SAMPLES[c] for c in BORDER_CLASSES]),
        "WT-A1": (TOWN_A, 2, "river", [SAMPLES[1], SAMPLES[2]]),
        "WT-L1": (TOWN_A, 2, "lake", [LAKE_SAMPLE]),
        "WT-B2": (TOWN_B, 3, "river", [SAMPLES[6]]),
        "WT-B3": (TOWN_B, 3, "river", []),
    }
    ids, times, classes, readings = {}, {}, {}, {}
    for code, (side, target, body, samples) in plan.items():
        lon, lat = points[code]
        ids[code] = add_section(
            session,
            code=code,
            lon=lon,
            lat=lat,
            target=target,
            side=side,
            kind="border" if code == "WT-B1" else "county",
            segment=segment if code == "WT-B1" else None,
            water_body=body,
        )
        times[code] = monthly(len(samples), last) if samples else []
        for at, sample in zip(times[code], samples, strict=True):
            add_reading(
                session, section=ids[code], at=at, sample=sample, target=target, water_body=body
            )
        classes[code] = [s.water_class for s in samples if s.water_class is not None]
        readings[code] = samples
    session.flush()
    return Seeded(ids=ids, points=points, times=times, classes=classes, readings=readings)
