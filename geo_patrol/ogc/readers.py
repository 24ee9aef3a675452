"""How each OGC collection is read: the small ones whole, through the domains' own query
functions (geography, border zones, coverage, duty.assessment, duty.map_layer and
water.queries: nothing recomputed here), incidents and patrols a page at a time in SQL
(geo_patrol.ogc.queries) with the domains' scope and filter clauses.

Introduced in: geo-patrol 0.4.0
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.orm import Session

from geo_patrol.access.principal import Principal
from geo_patrol.access.scope import Scope
from geo_patrol.core.vocabulary import ChiefLevel, DutyPeriod, Level
from geo_patrol.db.clauses import all_of, equals
from geo_patrol.duty.assessment import ChiefDuty, DutyFilter, assess_chiefs, current_periods
from geo_patrol.duty.map_layer import stretch_geometries
from geo_patrol.duty.periods import local_date, period_of
from geo_patrol.geography import queries as geography
from geo_patrol.geography.border_zone import zones_with_border_zone
from geo_patrol.incidents import queries as incident_queries
from geo_patrol.ogc.params import ItemsQuery
from geo_patrol.ogc.queries import SqlPage, incident_page, patrol_page
from geo_patrol.patrols import queries as patrol_queries
from geo_patrol.patrols.coverage import uncovered_stretches
from geo_patrol.water import queries as water_queries

Feature = dict[str, Any]


@dataclass(frozen=True)
class Caller:
    """Who reads, and what they may see."""

    scope: Scope
    principal: Principal
    now: datetime = field(default_factory=lambda: datetime.now(UTC))


# A whole collection read at once (small: at most a few thousand features), in key order.
WholeReader = Callable[[Session, Caller, ItemsQuery], list[Feature]]
# A page read in SQL (big collections).
PageReader = Callable[[Session, Caller, ItemsQuery], SqlPage]


def feature(fid: Any, geometry: Any, properties: dict[str, Any]) -> Feature:
    """A GeoJSON Feature; times as ISO 8601 text."""
    props = {
        k: v.isoformat() if isinstance(v, datetime | date) else v for k, v in properties.items()
    }
    return {"type": "Feature", "id": fid, "geometry": geometry, "properties": props}


def _instant(caller: Caller, query: ItemsQuery) -> datetime:
    """The moment a `datetime` names for collections that hold one state at a time: an
    instant, the end of an interval (its start if open-ended), else now."""
    period = query.period
    if period is None:
        return caller.now
    return period.end or period.start or caller.now


def jurisdictions(level: Level) -> WholeReader:
    """The reader of one level's jurisdictions in force at the query's instant."""

    def read(session: Session, caller: Caller, query: ItemsQuery) -> list[Feature]:
        found = geography.list_jurisdictions(
            session,
            at=_instant(caller, query),
            level=str(level),
            parent=query.filters.get("parent"),
            limit=1_000_000,
        )
        return [feature(f["id"], f["geometry"], f["properties"]) for f in found["features"]]

    return read


def rivers(session: Session, caller: Caller, query: ItemsQuery) -> list[Feature]:
    """Every river."""
    found = geography.list_rivers(session)["features"]
    return [feature(f["id"], f["geometry"], f["properties"]) for f in found]


def segments(session: Session, caller: Caller, query: ItemsQuery) -> list[Feature]:
    """River segments with the towns sharing each."""
    found = geography.list_segments(
        session, river=query.filters.get("river"), border=query.filters.get("border")
    )
    return sorted(
        (feature(f["id"], f["geometry"], f["properties"]) for f in found["features"]),
        key=lambda f: int(f["id"]),
    )


def zone_features(part: str) -> WholeReader:
    """Zones with their outline (`outline`) or their border-zone area (`border_zone`)."""

    def read(session: Session, caller: Caller, query: ItemsQuery) -> list[Feature]:
        zones = zones_with_border_zone(session, at=_instant(caller, query))
        keep = ("id", "code", "name", "border_zone_width_m", "members")
        return [
            feature(z["code"], z[part], {k: z[k] for k in keep})
            for z in sorted(zones, key=lambda z: str(z["code"]))
        ]

    return read


def villages(session: Session, caller: Caller, query: ItemsQuery) -> list[Feature]:
    """Every village point."""
    return [
        feature(v["code"], {"type": "Point", "coordinates": [v["lon"], v["lat"]]}, v)
        for v in sorted(geography.list_villages(session), key=lambda v: str(v["code"]))
    ]


def uncovered(session: Session, caller: Caller, query: ItemsQuery) -> list[Feature]:
    """The stretches no visible patrol covered in the period (default: this month so far)."""
    month = period_of(DutyPeriod.MONTH, local_date(caller.now))
    since, until = month.starts, caller.now
    if query.period is not None:
        start, end = query.period.half_open()
        since, until = start or month.starts, end or caller.now
    rows = uncovered_stretches(
        session,
        since=since,
        until=until,
        visible=patrol_queries.patrol_filter(caller.scope),
        border=query.filters.get("border"),
        river=query.filters.get("river"),
    ).items
    # A segment may have several gaps: each is a feature "<segment id>.<n>", n from 0 along it.
    features: list[Feature] = []
    pieces: dict[int, int] = {}
    for row in rows:
        props = {k: v for k, v in row.items() if k != "geometry"}
        piece = pieces[row["segment_id"]] = pieces.get(row["segment_id"], -1) + 1
        props.update(period_start=since, period_end=until)
        features.append(feature(f"{row['segment_id']}.{piece}", row["geometry"], props))
    return sorted(features, key=lambda f: str(f["id"]))


def _chief_properties(duty: ChiefDuty) -> dict[str, Any]:
    """The columns of a chief's stretch: who, where, the period and where the duty stands."""
    return {
        "appointment_id": duty.appointment_id,
        "member_id": duty.member_id,
        "chief": duty.member_name,
        "level": str(duty.level),
        "side_code": duty.side_code,
        "side_name": duty.side_name,
        "river_code": duty.river_code,
        "river_name": duty.river_name,
        "stretch_label": duty.stretch_label,
        "stretch_m": duty.stretch_m,
        "joint_id": duty.joint_id,
        "period": duty.period.key,
        "period_kind": str(duty.period.kind),
        "period_first": duty.period.first,
        "period_last": duty.period.last,
        "required": duty.required,
        "done": duty.done,
        "status": str(duty.status),
        "covered_share": duty.covered_share,
        "last_patrol_at": duty.last_patrol_at,
    }


def chief_stretches(session: Session, caller: Caller, query: ItemsQuery) -> list[Feature]:
    """Each visible chief's stretch with their duty in the period containing the day
    (duty.assessment decides; nothing is recomputed here)."""
    day = local_date(_instant(caller, query))
    filters = query.filters
    duties = assess_chiefs(
        session,
        scope=caller.scope,
        member_id=caller.principal.member_id,
        periods=current_periods(day),
        selected=DutyFilter(
            level=ChiefLevel(filters["level"]) if "level" in filters else None,
            side=filters.get("side"),
            river=filters.get("river"),
            chief=filters.get("chief"),
        ),
        now=caller.now,
    )
    if "status" in filters:
        duties = [d for d in duties if str(d.status) == filters["status"]]
    geometries = stretch_geometries(session, groups=[d.segment_ids for d in duties])
    features = [
        feature(d.appointment_id, g, _chief_properties(d))
        for d, g in zip(duties, geometries, strict=True)
    ]
    return sorted(features, key=lambda f: int(f["id"]))


def incidents(session: Session, caller: Caller, query: ItemsQuery) -> SqlPage:
    """A page of the incidents the caller may read, by report time."""
    since, until = query.period.half_open() if query.period else (None, None)
    given = dict(query.filters)
    jurisdiction = given.pop("jurisdiction", None)
    filters = incident_queries.IncidentFilters(
        **given,
        jurisdictions=[jurisdiction] if jurisdiction else None,
        since=since,
        until=until,
    )
    return incident_page(
        session,
        visible=incident_queries.readable(caller.scope, caller.principal),
        filters=filters,
        bbox=query.bbox,
        position=query.position,
        limit=query.limit,
    )


def patrols(session: Session, caller: Caller, query: ItemsQuery) -> SqlPage:
    """A page of the patrols the caller may read, that ran during the period."""
    given = dict(query.filters)
    mode, source = given.pop("mode", None), given.pop("source", None)
    period = query.period
    since, until = (period.start, period.end) if period else (None, None)
    if period is not None and period.instant:
        since, until = period.half_open()
    filters = patrol_queries.PatrolFilters(**given, since=since, until=until)
    where = all_of(
        patrol_queries.patrol_where(filters),
        equals("p.mode", "ogc_mode", mode),
        equals("p.source", "ogc_source", source),
    )
    return patrol_page(
        session,
        visible=patrol_queries.patrol_filter(caller.scope),
        where=where,
        bbox=query.bbox,
        position=query.position,
        limit=query.limit,
    )


def water_sections(session: Session, caller: Caller, query: ItemsQuery) -> list[Feature]:
    """Each monitoring section the caller may see (water.queries decides), flat for a GIS:
    the target and the latest class as numbers and words, when it was sampled, whether it
    is worse than the target and which parameters are."""
    features = []
    for section in water_queries.section_page(
        session,
        scope=caller.scope,
        kind=query.filters.get("kind"),
        river=query.filters.get("river"),
        worse=query.filters.get("over_target"),
        limit=None,
    ).items:
        latest = section.latest
        properties = {
            "code": section.code,
            "name": section.name,
            "kind": section.kind,
            "water_body": section.water_body,
            "river_code": section.river_code,
            "side_code": section.side_code,
            "target_class": section.target_class,
            "target_class_name": water_queries.class_name(section.target_class),
            "latest_class": latest.water_class if latest else None,
            "latest_class_name": water_queries.class_name(latest.water_class) if latest else None,
            "latest_sampled_at": latest.sampled_at if latest else None,
            "over_target": latest.worse_than_target if latest else False,
            "over_target_parameters": ";".join(latest.over_target) if latest else "",
        }
        point = {"type": "Point", "coordinates": [section.lon, section.lat]}
        features.append(feature(section.id, point, properties))
    return sorted(features, key=lambda f: int(f["id"]))
