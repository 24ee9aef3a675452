"""What the map shows, read through the caller's scope: one function per layer.

Boundaries, rivers and villages are shared geography (every signed-in member reads them);
patrols, coverage, incidents and water sections go through the scope filters of their own
modules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from geo_patrol.access.principal import Principal
from geo_patrol.access.scope import Scope
from geo_patrol.accounts.teams import list_teams
from geo_patrol.core.local_time import LOCAL
from geo_patrol.duty.assessment import DutyFilter
from geo_patrol.duty.map_layer import DutyStretch, duty_stretches
from geo_patrol.geography.border_zone import zones_with_border_zone
from geo_patrol.geography.queries import extent_of, list_villages, list_zones, map_jurisdictions
from geo_patrol.incidents.queries import category_names, list_incidents
from geo_patrol.patrols.coverage import river_recency
from geo_patrol.patrols.queries import PatrolFilters, patrol_filter, patrol_totals
from geo_patrol.water.queries import Section, list_sections
from geo_patrol.web.map.filters import MapFilters


@dataclass
class MapData:
    """Everything the supervisor map draws except the tracks (those come as tiles)."""

    filters: MapFilters
    zone_id: int | None
    jurisdictions: list[dict[str, Any]]
    zones: list[dict[str, Any]]
    rivers: list[dict[str, Any]]
    incidents: list[dict[str, Any]]
    villages: list[dict[str, Any]]
    teams: list[dict[str, Any]]
    categories: list[dict[str, Any]]
    bounds: list[list[float]] | None
    patrols: int = 0
    points: int = 0
    all_zones: list[dict[str, Any]] = field(default_factory=list)
    duty: list[DutyStretch] = field(default_factory=list)
    water: list[Section] = field(default_factory=list)


def patrol_filters(filters: MapFilters, zone_id: int | None) -> dict[str, Any]:
    """The patrol list filters for the map's filters (fields of PatrolFilters)."""
    return {
        "team_id": filters.team,
        "zone_id": zone_id,
        "jurisdiction": filters.jurisdiction,
        "since": filters.since,
        "until": filters.until,
    }


def incident_filters(filters: MapFilters, zone_id: int | None) -> dict[str, Any]:
    """The incident list filters for the map's filters."""
    return {
        "status": filters.status,
        "category": filters.category,
        "zone_id": zone_id,
        "jurisdictions": [filters.jurisdiction] if filters.jurisdiction else None,
        "joint": filters.joint,
        "since": filters.since,
        "until": filters.until,
        "limit": 5000,
    }


def duty_layer(
    session: Session,
    *,
    scope: Scope,
    principal: Principal,
    filters: MapFilters,
    zone_id: int | None,
) -> list[DutyStretch]:
    """The chiefs' stretches in the duty period containing the map's last day (today at the
    latest), on the chosen side and zone, as far as the caller may see chiefs."""
    day = min(filters.date_to, datetime.now(LOCAL).date())
    return duty_stretches(
        session,
        scope=scope,
        member_id=principal.member_id,
        day=day,
        selected=DutyFilter(side=filters.jurisdiction, zone_id=zone_id),
    )


def _bounds(session: Session, at: Any, codes: list[str] | None) -> list[list[float]] | None:
    """[[south, west], [north, east]] of the jurisdictions `codes` (all when None)."""
    box = extent_of(session, at=at, codes=codes)
    if box is None:
        return None
    return [[box.south, box.west], [box.north, box.east]]


def map_data(
    session: Session, *, scope: Scope, principal: Principal, filters: MapFilters
) -> MapData:
    """Read every layer of the supervisor map for `filters`, within `scope`."""
    at = filters.until
    all_zones = list_zones(session)
    zone = next((z for z in all_zones if z["code"] == filters.zone), None)
    zone_id = zone["id"] if zone else None
    visible = patrol_filter(scope)
    if filters.jurisdiction:
        focus: list[str] | None = [filters.jurisdiction]
    elif zone:
        focus = list(zone["members"])
    elif scope.everything:  # the border areas the zones were made for, else everything
        focus = [code for z in all_zones for code in z["members"]] or None
    else:
        focus = sorted(scope.codes) or None
    totals = patrol_totals(
        session, scope=scope, filters=PatrolFilters(**patrol_filters(filters, zone_id))
    )
    return MapData(
        filters=filters,
        zone_id=zone_id,
        jurisdictions=map_jurisdictions(session, at=at),
        zones=zones_with_border_zone(session, at=at, zone_id=zone_id),
        rivers=[
            dict(r._mapping)
            for r in river_recency(session, until=at, visible=visible, team_id=filters.team)
        ],
        incidents=list_incidents(
            session, scope=scope, principal=principal, **incident_filters(filters, zone_id)
        ),
        villages=list_villages(session),
        teams=list_teams(session, scope=scope),
        categories=category_names(session),
        bounds=_bounds(session, at, focus),
        patrols=totals.patrols,
        points=totals.points,
        all_zones=all_zones,
        duty=duty_layer(
            session, scope=scope, principal=principal, filters=filters, zone_id=zone_id
        ),
        water=list_sections(session, scope=scope),
    )
