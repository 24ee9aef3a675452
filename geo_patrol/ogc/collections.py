"""The collections OGC API clients list and read, each with its filters and its reader.

Jurisdictions are one collection per level (jurisdictions_province ... jurisdictions_grid)
rather than one with a `level` filter: QGIS and GDAL turn each collection into a layer, a
layer has one style and one place in the layer order, and a province drawn over its towns
hides them; a filter would also have to be typed into each layer's URI by hand, which QGIS's
OAPIF dialog does not offer. Rivers, segments, zones, border zones and villages are public
geography to every member; patrols, incidents, uncovered stretches and chief stretches are
read through the same scope filter as the JSON API.

Introduced in: geo-patrol 0.4.0
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.orm import Session

from geo_patrol.access.principal import Principal
from geo_patrol.access.scope import Scope
from geo_patrol.core.errors import NotFound
from geo_patrol.core.vocabulary import (
    ChiefLevel,
    DutyPeriod,
    DutyStatus,
    IncidentStatus,
    Level,
    PatrolMode,
    PatrolSource,
    Tier,
)
from geo_patrol.db.clauses import all_of, equals
from geo_patrol.duty.assessment import ChiefDuty, DutyFilter, assess_chiefs, current_periods
from geo_patrol.duty.map_layer import stretch_geometries
from geo_patrol.duty.periods import local_date, period_of
from geo_patrol.geography import queries as geography
from geo_patrol.geography.border_zone import zones_with_border_zone
from geo_patrol.incidents import queries as incident_queries
from geo_patrol.ogc.params import ItemsQuery, Parser, bool_value, choice, int_value, text_value
from geo_patrol.ogc.queries import SqlPage, incident_page, patrol_page
from geo_patrol.patrols import queries as patrol_queries
from geo_patrol.patrols.coverage import uncovered_stretches

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


@dataclass(frozen=True)
class Collection:
    """One collection: its words, its filters and how it is read."""

    id: str
    title: str
    description: str
    filters: Mapping[str, Parser] = field(default_factory=dict)
    whole: WholeReader | None = None
    paged: PageReader | None = None
    temporal: str | None = None  # what `datetime` selects on, for the docs
    scoped: bool = False


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


def _jurisdictions(level: Level) -> WholeReader:
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


def _rivers(session: Session, caller: Caller, query: ItemsQuery) -> list[Feature]:
    """Every river."""
    found = geography.list_rivers(session)["features"]
    return [feature(f["id"], f["geometry"], f["properties"]) for f in found]


def _segments(session: Session, caller: Caller, query: ItemsQuery) -> list[Feature]:
    """River segments with the towns sharing each."""
    found = geography.list_segments(
        session, river=query.filters.get("river"), border=query.filters.get("border")
    )
    return sorted(
        (feature(f["id"], f["geometry"], f["properties"]) for f in found["features"]),
        key=lambda f: int(f["id"]),
    )


def _zone_features(part: str) -> WholeReader:
    """Zones with their outline (`outline`) or their border-zone area (`border_zone`)."""

    def read(session: Session, caller: Caller, query: ItemsQuery) -> list[Feature]:
        zones = zones_with_border_zone(session, at=_instant(caller, query))
        keep = ("id", "code", "name", "border_zone_width_m", "members")
        return [
            feature(z["code"], z[part], {k: z[k] for k in keep})
            for z in sorted(zones, key=lambda z: str(z["code"]))
        ]

    return read


def _villages(session: Session, caller: Caller, query: ItemsQuery) -> list[Feature]:
    """Every village point."""
    return [
        feature(v["code"], {"type": "Point", "coordinates": [v["lon"], v["lat"]]}, v)
        for v in sorted(geography.list_villages(session), key=lambda v: str(v["code"]))
    ]


def _uncovered(session: Session, caller: Caller, query: ItemsQuery) -> list[Feature]:
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
    )
    # A segment may have several gaps: each is a feature "<segment id>.<n>", n from 0 along it.
    features: list[Feature] = []
    pieces: dict[int, int] = {}
    for row in rows:
        props = {k: v for k, v in row._mapping.items() if k != "geometry"}
        piece = pieces[row.segment_id] = pieces.get(row.segment_id, -1) + 1
        props.update(period_start=since, period_end=until)
        features.append(feature(f"{row.segment_id}.{piece}", row.geometry, props))
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


def _chief_stretches(session: Session, caller: Caller, query: ItemsQuery) -> list[Feature]:
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


def _incidents(session: Session, caller: Caller, query: ItemsQuery) -> SqlPage:
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


def _patrols(session: Session, caller: Caller, query: ItemsQuery) -> SqlPage:
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


def _level_collection(level: Level) -> Collection:
    """The collection of one level's jurisdictions."""
    return Collection(
        id=f"jurisdictions_{level}",
        title=f"Jurisdictions: {level}",
        description=f"The {level} boundaries in force (datetime: in force at that instant).",
        filters={"parent": text_value},
        whole=_jurisdictions(level),
        temporal="valid_from/valid_to",
    )


COLLECTIONS: dict[str, Collection] = {
    c.id: c
    for c in (
        *(_level_collection(level) for level in Level),
        Collection("rivers", "Rivers", "Every river with its length.", whole=_rivers, filters={}),
        Collection(
            "segments",
            "River segments",
            "Rivers cut where they cross a boundary, with the towns sharing each.",
            filters={"river": text_value, "border": bool_value},
            whole=_segments,
        ),
        Collection(
            "zones",
            "Cooperation zones",
            "Each cooperation zone's outline (its members' boundaries).",
            whole=_zone_features("outline"),
        ),
        Collection(
            "border_zones",
            "Border zones",
            "The area of each zone where a report becomes a joint case.",
            whole=_zone_features("border_zone"),
        ),
        Collection("villages", "Villages", "Village points.", whole=_villages),
        Collection(
            "patrols",
            "Patrols",
            "Patrol tracks with their summary (datetime: patrols that ran then).",
            filters={
                "team_id": int_value,
                "member_id": int_value,
                "jurisdiction": text_value,
                "zone_id": int_value,
                "river": text_value,
                "flag": text_value,
                "mode": choice(PatrolMode),
                "source": choice(PatrolSource),
            },
            paged=_patrols,
            temporal="started_at/ended_at",
            scoped=True,
        ),
        Collection(
            "incidents",
            "Incidents",
            "Reported incidents (datetime: reported then).",
            filters={
                "status": choice(IncidentStatus),
                "tier": choice(Tier),
                "category": text_value,
                "jurisdiction": text_value,
                "zone_id": int_value,
                "joint": bool_value,
                "overdue": bool_value,
                "unrouted": bool_value,
                "open": bool_value,
            },
            paged=_incidents,
            temporal="reported_at",
            scoped=True,
        ),
        Collection(
            "uncovered",
            "Uncovered river stretches",
            "Stretches no patrol covered in the period (datetime interval; default: this "
            "month so far).",
            filters={"river": text_value, "border": bool_value},
            whole=_uncovered,
            temporal="period_start/period_end",
            scoped=True,
        ),
        Collection(
            "chief_stretches",
            "River chiefs' stretches",
            "Each river chief's stretch with their duty in the current period (datetime: the "
            "periods containing that day).",
            filters={
                "level": choice(ChiefLevel),
                "side": text_value,
                "river": text_value,
                "chief": int_value,
                "status": choice(DutyStatus),
            },
            whole=_chief_stretches,
            temporal="period_first/period_last",
            scoped=True,
        ),
    )
}


def collection_named(collection_id: str) -> Collection:
    """The collection with this id; 404 naming `collection_id`."""
    found = COLLECTIONS.get(collection_id)
    if found is None:
        raise NotFound(f"no collection {collection_id!r}", field="collection_id")
    return found
