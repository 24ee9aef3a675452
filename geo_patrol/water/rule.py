"""The rule that opens a joint case when the water at a border section worsens.

A stored reading opens a case of category `water_quality` when its section is a border
section (kind `border`, or snapped onto a border segment) and its class is worse than the
target class copied onto the reading, or at least one class worse than the section's
previous classed reading. The case is a report like any other (incidents.reports): at the
section's point, routed by the same rule, so a section on a border river is a joint case of
both sides. It is linked to the reading (`water_readings.incident_id`) and lists its leads
(water.leads) upstream of the section in the hours before the sample.

Severity, by how bad the water is (the tier rules of migration 0019 send high to the county):
- high: 劣V (class 6), or two classes or more worse than the target;
- medium: worse than the target by one class;
- low: within the target, but a class or more worse than the previous reading.
Nothing opens `critical`: that is a person's call (escalation).

Retries open nothing new: the case's client id is "reading:<id>" (source "water"), and a
reading already linked to a case is passed over. A section that stays bad opens one case, not
one a month: while the section has an open water-quality case (one linked to an earlier
reading of it), a later reading the rule applies to joins that case (linked to it, with a
note in its history) instead of opening another; once that case is closed, the next bad
reading opens a new one.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert, text, update
from sqlalchemy.orm import Session

from geo_patrol.core import catalog
from geo_patrol.core.local_time import local_minute
from geo_patrol.core.settings import Settings
from geo_patrol.core.vocabulary import WaterBody
from geo_patrol.db.clauses import statement
from geo_patrol.db.tables import WaterLead, WaterReading
from geo_patrol.incidents.queries import is_open
from geo_patrol.incidents.reports import IncidentReport, create_incident, record_event
from geo_patrol.water.leads import Lead, find_leads
from geo_patrol.water.standard import CLASS_NAMES, WORST, classify
from geo_patrol.water.upstream import place_on_river, upstream_stretch

log = logging.getLogger(__name__)

CATEGORY = "water_quality"
SOURCE = "water"

# The readings asked about that the rule applies to, with their section and the class of
# the section's previous classed reading.
CANDIDATES = """
SELECT w.id, w.sampled_at, w.class AS water_class, w.target_class, w.measured,
       sec.id AS section_id, sec.code, sec.name, sec.water_body, sec.river_id,
       ST_X(sec.geom) AS lon, ST_Y(sec.geom) AS lat, prev.class AS previous_class
FROM water_readings w
JOIN water_sections sec ON sec.id = w.section_id
LEFT JOIN river_segments seg ON seg.id = sec.segment_id
LEFT JOIN LATERAL (
    SELECT p.class FROM water_readings p
    WHERE p.section_id = w.section_id AND p.sampled_at < w.sampled_at AND p.class IS NOT NULL
    ORDER BY p.sampled_at DESC LIMIT 1
) prev ON true
WHERE w.id = ANY(CAST(:ids AS bigint[])) AND w.class IS NOT NULL AND w.incident_id IS NULL
  AND (sec.kind = 'border' OR coalesce(seg.is_border, false))
  AND (w.class > w.target_class OR w.class >= prev.class + 1)
ORDER BY w.sampled_at, w.id
"""

# The section's open water-quality case, if any: the latest open incident linked to one of
# its earlier readings.
OPEN_CASE = """
SELECT i.id FROM water_readings w JOIN incidents i ON i.id = w.incident_id
WHERE w.section_id = :section_id AND w.sampled_at < :sampled_at AND i.category = :category
  AND {open}
ORDER BY w.sampled_at DESC LIMIT 1
"""


@dataclass(frozen=True)
class Worse:
    """A reading the rule applies to."""

    id: int
    sampled_at: datetime
    water_class: int
    target_class: int
    previous_class: int | None
    measured: Mapping[str, Any]
    section_code: str
    section_name: str
    water_body: WaterBody
    section_id: int
    river_id: int
    lon: float
    lat: float


def open_cases(
    session: Session,
    *,
    reading_ids: Sequence[int],
    settings: Settings,
    now: datetime | None = None,
) -> list[int]:
    """Open a joint water-quality case for each of the stored readings that worsened at a
    border section; the ids of the cases opened now (none for a retry). `now` is when the
    case is reported (default: the present)."""
    if not reading_ids:
        return []
    rows = session.execute(text(CANDIDATES), {"ids": list(reading_ids)}).all()
    opened: list[int] = []
    for row in rows:
        worse = Worse(
            id=int(row.id),
            sampled_at=row.sampled_at,
            water_class=int(row.water_class),
            target_class=int(row.target_class),
            previous_class=row.previous_class,
            measured=row.measured or {},
            section_code=row.code,
            section_name=row.name,
            water_body=WaterBody(row.water_body),
            section_id=int(row.section_id),
            river_id=int(row.river_id),
            lon=float(row.lon),
            lat=float(row.lat),
        )
        incident_id = _open_case(session, worse=worse, settings=settings, now=now)
        if incident_id is not None:
            opened.append(incident_id)
    return opened


def _open_case(
    session: Session, *, worse: Worse, settings: Settings, now: datetime | None
) -> int | None:
    """Open (or find, on a retry) the case of one reading, link it, store its leads; its id
    if it was opened now. A reading of a section with an open case joins that case."""
    if _join_open_case(session, worse=worse):
        return None
    report = IncidentReport(
        category=CATEGORY,
        severity=severity_of(worse.water_class, worse.target_class),
        lon=worse.lon,
        lat=worse.lat,
        source=SOURCE,
        description=describe(worse),
        reported_at=now or datetime.now(UTC),
        client_id=f"reading:{worse.id}",
    )
    incident_id, created = create_incident(
        session, report=report, principal=None, settings=settings
    )
    session.execute(
        update(WaterReading).where(WaterReading.id == worse.id).values(incident_id=incident_id)
    )
    if not created:
        return None
    leads = _leads(session, worse=worse, settings=settings, incident_id=incident_id)
    if leads:
        session.execute(
            insert(WaterLead),
            [_lead_row(lead, incident_id=incident_id, reading_id=worse.id) for lead in leads],
        )
    log.info(
        "water case %s opened for reading %s at section %s: class %s, target %s, previous %s;"
        " %d leads",
        incident_id,
        worse.id,
        worse.section_code,
        CLASS_NAMES[worse.water_class],
        CLASS_NAMES[worse.target_class],
        CLASS_NAMES.get(worse.previous_class or 0, "none"),
        len(leads),
    )
    return incident_id


def _join_open_case(session: Session, *, worse: Worse) -> bool:
    """Link the reading to its section's open water-quality case, noting it in the case's
    history; whether there was one."""
    case_id = session.execute(
        statement(OPEN_CASE, open=is_open()),
        {"section_id": worse.section_id, "sampled_at": worse.sampled_at, "category": CATEGORY},
    ).scalar()
    if case_id is None:
        return False
    session.execute(
        update(WaterReading).where(WaterReading.id == worse.id).values(incident_id=case_id)
    )
    record_event(
        session, incident_id=int(case_id), kind="reading", principal=None, note=describe(worse)
    )
    log.info(
        "reading %s at section %s (class %s, target %s) joins its open water case %s",
        worse.id,
        worse.section_code,
        CLASS_NAMES[worse.water_class],
        CLASS_NAMES[worse.target_class],
        case_id,
    )
    return True


def _leads(session: Session, *, worse: Worse, settings: Settings, incident_id: int) -> list[Lead]:
    """What lay upstream of the section in the hours before the sample (none while the
    river's flow is not known)."""
    place = place_on_river(session, river_id=worse.river_id, lon=worse.lon, lat=worse.lat)
    if place is None:
        log.info("reading %s: the flow of its river is not known, no leads", worse.id)
        return []
    stretch = upstream_stretch(session, place=place, distance_m=settings.water_upstream_m)
    return find_leads(
        session,
        place=place,
        stretch=stretch,
        since=worse.sampled_at - timedelta(hours=settings.water_lead_hours),
        until=worse.sampled_at,
        incident_distance_m=settings.incident_segment_distance_m,
        exclude_incidents=[incident_id],
    )


def _lead_row(lead: Lead, *, incident_id: int, reading_id: int) -> dict[str, Any]:
    """A water_leads row."""
    return {
        "incident_id": incident_id,
        "reading_id": reading_id,
        "kind": lead.kind.value,
        "patrol_id": lead.patrol_id,
        "lead_incident_id": lead.incident_id,
        "segment_id": lead.segment_id,
        "from_fraction": lead.from_fraction,
        "to_fraction": lead.to_fraction,
        "upstream_m": lead.upstream_m,
        "at": lead.at,
    }


def severity_of(water_class: int, target_class: int) -> str:
    """How bad: high for 劣V or two classes over the target, medium for one class over,
    low for a fall within the target."""
    if water_class == WORST or water_class - target_class >= 2:
        return "high"
    return "medium" if water_class > target_class else "low"


@dataclass(frozen=True)
class OverLimit:
    """A parameter over the target class's limit: its value and, for an upper limit, its
    exceedance factor ((value − limit) / limit)."""

    parameter: str
    value: float
    factor: float | None


def over_limit(
    measured: Mapping[str, Any], *, water_body: WaterBody, target: int
) -> list[OverLimit]:
    """The parameters of a sample over the target class's limit, in the standard's order."""
    values = {}
    for name, value in measured.items():
        try:
            values[name] = float(value)
        except (TypeError, ValueError):
            continue
    classified = classify(values, water_body=water_body, target=target)
    return [
        OverLimit(name, values[name], classified.factors.get(name))
        for name in classified.over_target
    ]


def describe(worse: Worse) -> str:
    """The case's description (Chinese: section, class, target, previous class and the
    parameters over the limit with their exceedance factors)."""
    over = over_limit(worse.measured, water_body=worse.water_body, target=worse.target_class)
    previous = (
        catalog.text("water.leads.previous", "zh", previous=CLASS_NAMES[int(worse.previous_class)])
        if worse.previous_class
        else catalog.text("water.leads.no_previous", "zh")
    )
    return catalog.text(
        "water.leads.case_description",
        "zh",
        section=worse.section_name,
        code=worse.section_code,
        sampled=local_minute(worse.sampled_at),
        water_class=CLASS_NAMES[worse.water_class],
        target=CLASS_NAMES[worse.target_class],
        previous=previous,
        over="、".join(_over_words(item) for item in over)
        or catalog.text("water.leads.none_over", "zh"),
    )


def _over_words(item: OverLimit) -> str:
    """One parameter over the limit, in Chinese."""
    if item.factor is None:
        return catalog.text("water.leads.over", "zh", parameter=item.parameter, value=item.value)
    return catalog.text(
        "water.leads.over_factor",
        "zh",
        parameter=item.parameter,
        value=item.value,
        factor=item.factor,
    )
