"""Reading water quality: the sections a caller may see, each with its latest reading and
its trend, and the readings of one section, newest first (keyset pages).

Who sees a section (`section_filter`): a section belongs to its own side (`side_code`,
the side that runs it) and to the sides sharing the segment it lies on
(`river_segment_sides`): a border section on a shared segment belongs to both towns. It is
visible to a supervisor or observer whose scope holds one of those sides (their subtree),
to the coordinators and observers of a cooperation zone whose members include one of them
(scope.zones: water at the border is what a zone is judged on, border or not), and to the
administrator (access.scope.visible decides, as for every other row).

A reading's class and factors are stored at import (water.standard); the parameters that
fail the target (`over_target`: DO and pH included, which have no factor) are worked out
again here from what was measured, by the same function, so the list and the import can
never disagree on the standard.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from sqlalchemy.orm import Session

from geo_patrol.access.scope import Scope, visible
from geo_patrol.core.catalog import msg
from geo_patrol.core.errors import NotFound
from geo_patrol.core.paging import Page
from geo_patrol.core.vocabulary import WaterBody
from geo_patrol.db.clauses import Clause, all_of, equals, statement
from geo_patrol.db.keyset import Keyset, read_limit
from geo_patrol.water.standard import CLASS_NAMES, LIMITS, classify

# How many readings a section's trend shows (a year of monthly samples).
TREND_READINGS: Final = 12

# The parameters in the order of GB 3838-2002 table 1 (pH after the nutrients, as station
# exports have it): the columns of the readings' export.
PARAMETERS: Final = (*list(LIMITS)[:7], "pH", *list(LIMITS)[7:])

# Each section with the sides it belongs to and the zones those sides are members of
# (`sec`), its river, its latest reading and the classes of its last TREND_READINGS
# readings (oldest first). The unique (section_id, sampled_at) index answers both laterals.
SECTIONS = """
WITH sec AS (
    SELECT w.id, w.code, w.name, w.name_en, w.kind, w.water_body, w.target_class,
           w.side_code, w.river_id, w.segment_id, w.geom, sides.codes AS sides,
           coalesce((SELECT array_agg(DISTINCT m.zone_id) FROM cooperation_zone_members m
                     WHERE m.jurisdiction_code = ANY(sides.codes)), '{{}}') AS zones
    FROM water_sections w
    CROSS JOIN LATERAL (
        SELECT coalesce(array_agg(DISTINCT c.code) FILTER (WHERE c.code IS NOT NULL), '{{}}')
                   AS codes
        FROM (SELECT w.side_code AS code
              UNION ALL
              SELECT x.jurisdiction_code FROM river_segment_sides x
              WHERE x.segment_id = w.segment_id) c
    ) sides
)
SELECT sec.id, sec.code, sec.name, sec.name_en, sec.kind, sec.water_body, sec.target_class,
       sec.side_code, sec.sides, sec.segment_id, r.code AS river_code, r.name AS river_name,
       ST_X(sec.geom) AS lon, ST_Y(sec.geom) AS lat,
       last.id AS latest_id, last.sampled_at AS latest_sampled_at,
       last.class AS latest_class, last.target_class AS latest_target,
       last.measured AS latest_measured, last.factors AS latest_factors,
       last.incident_id AS latest_incident_id,
       coalesce(trend.classes, '{{}}') AS trend_classes,
       coalesce(trend.times, '{{}}') AS trend_times
FROM sec
JOIN rivers r ON r.id = sec.river_id
LEFT JOIN LATERAL (
    SELECT x.id, x.sampled_at, x.class, x.target_class, x.measured, x.factors, x.incident_id
    FROM water_readings x WHERE x.section_id = sec.id ORDER BY x.sampled_at DESC LIMIT 1
) last ON true
LEFT JOIN LATERAL (
    SELECT array_agg(t.class ORDER BY t.sampled_at) AS classes,
           array_agg(t.sampled_at ORDER BY t.sampled_at) AS times
    FROM (SELECT y.class, y.sampled_at FROM water_readings y WHERE y.section_id = sec.id
          ORDER BY y.sampled_at DESC LIMIT :trend) t
) trend ON true
WHERE {visible} AND {where}
ORDER BY sec.code
LIMIT :limit
"""
# A section's code is unique.
SECTION_ORDER = Keyset(("sec.code",), ("code",), ("text",))

READINGS = """
SELECT x.id, x.section_id, x.sampled_at, x.class, x.target_class, x.measured, x.deciding,
       x.factors, x.incident_id, x.source, w.water_body
FROM water_readings x JOIN water_sections w ON w.id = x.section_id
WHERE x.section_id = :section_id AND {after}
ORDER BY x.sampled_at DESC
LIMIT :limit
"""
# One reading per section and sampling time (the unique index serves this order).
READING_ORDER = Keyset(("x.sampled_at",), ("sampled_at",), ("time",), descending=True)

# Every reading of the visible sections, by section code and time (the export).
EACH_READING = """
WITH sec AS (
    SELECT w.id, w.code, w.name, w.water_body,
           coalesce((SELECT array_agg(DISTINCT c.code) FROM (
                SELECT w.side_code AS code UNION ALL SELECT x.jurisdiction_code
                FROM river_segment_sides x WHERE x.segment_id = w.segment_id) c
                WHERE c.code IS NOT NULL), '{{}}') AS sides
    FROM water_sections w
), seen AS (
    SELECT sec.*, coalesce((SELECT array_agg(DISTINCT m.zone_id)
                            FROM cooperation_zone_members m
                            WHERE m.jurisdiction_code = ANY(sec.sides)), '{{}}') AS zones
    FROM sec
)
SELECT seen.code AS section_code, seen.name AS section_name, seen.water_body,
       x.id, x.sampled_at, x.class, x.target_class, x.measured, x.factors
FROM seen JOIN water_readings x ON x.section_id = seen.id
WHERE {visible} AND {where}
ORDER BY seen.code, x.sampled_at
"""


def parameter_key(parameter: str) -> str:
    """A parameter's name as a column key: lower case, `_` for `-` (NH3-N: nh3_n)."""
    return parameter.lower().replace("-", "_")


def class_name(water_class: int | None) -> str | None:
    """A class as the standard writes it (I..V, 劣V); None for no class."""
    return None if water_class is None else CLASS_NAMES[water_class]


def over_target(measured: Mapping[str, Any], *, water_body: str, target: int) -> tuple[str, ...]:
    """The measured parameters whose class is worse than `target` (DO and pH included)."""
    return classify(numbers(measured), water_body=WaterBody(water_body), target=target).over_target


def numbers(values: Mapping[str, Any]) -> dict[str, float]:
    """The numeric values of a JSON object (a station may leave a value out as null)."""
    return {
        k: float(v)
        for k, v in values.items()
        if isinstance(v, int | float) and not isinstance(v, bool)
    }


@dataclass(frozen=True)
class TrendPoint:
    """One reading of a section's trend: when, and its class."""

    sampled_at: datetime
    water_class: int | None


@dataclass(frozen=True)
class Latest:
    """A section's latest reading: its class against the target it was judged by."""

    id: int
    sampled_at: datetime
    water_class: int | None
    target_class: int
    factors: dict[str, float]
    over_target: tuple[str, ...]
    incident_id: int | None

    @property
    def worse_than_target(self) -> bool:
        """Whether the class is worse than the target (a class was found)."""
        return self.water_class is not None and self.water_class > self.target_class


@dataclass(frozen=True)
class Section:
    """A monitoring section where the caller may see it, with its latest reading and trend."""

    id: int
    code: str
    name: str
    name_en: str | None
    kind: str
    water_body: str
    target_class: int
    side_code: str | None
    sides: list[str]
    segment_id: int | None
    river_code: str
    river_name: str
    lon: float
    lat: float
    latest: Latest | None
    trend: list[TrendPoint] = field(default_factory=list)


def section_filter(scope: Scope) -> Clause:
    """The scope condition over `sec` (see the module's text)."""
    return visible(scope, codes="sec.sides", zones="sec.zones")


def _section(row: Any) -> Section:
    """A section from a row of SECTIONS."""
    latest = None
    if row.latest_id is not None:
        latest = Latest(
            id=row.latest_id,
            sampled_at=row.latest_sampled_at,
            water_class=row.latest_class,
            target_class=row.latest_target,
            factors=numbers(row.latest_factors or {}),
            over_target=over_target(
                row.latest_measured, water_body=row.water_body, target=row.latest_target
            ),
            incident_id=row.latest_incident_id,
        )
    trend = [
        TrendPoint(sampled_at=t, water_class=c)
        for t, c in zip(row.trend_times, row.trend_classes, strict=True)
    ]
    return Section(
        id=row.id,
        code=row.code,
        name=row.name,
        name_en=row.name_en,
        kind=row.kind,
        water_body=row.water_body,
        target_class=row.target_class,
        side_code=row.side_code,
        sides=list(row.sides),
        segment_id=row.segment_id,
        river_code=row.river_code,
        river_name=row.river_name,
        lon=float(row.lon),
        lat=float(row.lat),
        latest=latest,
        trend=trend,
    )


def section_page(
    session: Session,
    *,
    scope: Scope,
    kind: str | None = None,
    river: str | None = None,
    worse: bool | None = None,
    limit: int | None,
    cursor: str | None = None,
) -> Page[Section]:
    """A page of the sections the caller may see, by code: of a kind, on a river, and
    (`worse`) whose latest reading is worse than its target or not."""
    worse_clause = None
    if worse is not None:
        worse_clause = Clause(
            "(coalesce(last.class > last.target_class, false)) = :worse", {"worse": worse}
        )
    where = all_of(
        equals("sec.kind", "kind", kind),
        equals("r.code", "river", river),
        worse_clause,
        SECTION_ORDER.after(cursor),
    )
    sql = statement(SECTIONS, visible=section_filter(scope), where=where)
    params = {"trend": TREND_READINGS, "limit": read_limit(limit)}
    rows = session.execute(sql, params).all()
    page = SECTION_ORDER.page(rows, limit)
    return Page([_section(row) for row in page.items], page.next_cursor)


def list_sections(session: Session, *, scope: Scope) -> list[Section]:
    """Every section the caller may see, by code (the map and the OGC collection)."""
    return section_page(session, scope=scope, limit=None).items


def get_section(session: Session, *, scope: Scope, section_id: int) -> Section:
    """One section the caller may see; 404 naming `section_id` otherwise."""
    where = Clause("sec.id = :section_id", {"section_id": section_id})
    sql = statement(SECTIONS, visible=section_filter(scope), where=where)
    row = session.execute(sql, {"trend": TREND_READINGS, "limit": 1}).first()
    if row is None:
        raise NotFound(
            msg("problem.water.read_no_section", section_id=section_id), field="section_id"
        )
    return _section(row)


def _reading(row: Any) -> dict[str, Any]:
    """A reading as the API answers it."""
    water_class = row._mapping["class"]
    return {
        "id": row.id,
        "section_id": row.section_id,
        "sampled_at": row.sampled_at,
        "water_class": water_class,
        "class_name": class_name(water_class),
        "target_class": row.target_class,
        "worse_than_target": water_class is not None and water_class > row.target_class,
        "measured": numbers(row.measured),
        "deciding": list(row.deciding),
        "factors": numbers(row.factors),
        "over_target": list(
            over_target(row.measured, water_body=row.water_body, target=row.target_class)
        ),
        "incident_id": row.incident_id,
        "source": row.source,
    }


def reading_page(
    session: Session, *, scope: Scope, section_id: int, limit: int | None, cursor: str | None
) -> Page[dict[str, Any]]:
    """A page of one visible section's readings, newest first; 404 for a section the
    caller may not see."""
    get_section(session, scope=scope, section_id=section_id)
    sql = statement(READINGS, after=all_of(READING_ORDER.after(cursor)))
    rows = session.execute(sql, {"section_id": section_id, "limit": read_limit(limit)}).all()
    page = READING_ORDER.page(rows, limit)
    return Page([_reading(row) for row in page.items], page.next_cursor)


def each_reading(
    session: Session,
    *,
    scope: Scope,
    section_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    batch: int = 2000,
) -> Iterator[dict[str, Any]]:
    """Every reading of the visible sections (one section's with `section_id`), sampled in
    [since, until), by section code and time, through a server-side cursor."""
    where = all_of(
        equals("seen.id", "section_id", section_id),
        None if since is None else Clause("x.sampled_at >= :since", {"since": since}),
        None if until is None else Clause("x.sampled_at < :until", {"until": until}),
    )
    seen = visible(scope, codes="seen.sides", zones="seen.zones")
    sql = statement(EACH_READING, visible=seen, where=where)
    streamed = sql.execution_options(stream_results=True, yield_per=batch)
    for row in session.execute(streamed):
        found = dict(row._mapping)
        found["water_class"] = found.pop("class")
        found["over_target"] = over_target(
            found["measured"], water_body=found["water_body"], target=found["target_class"]
        )
        yield found
