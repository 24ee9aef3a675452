"""What the map shows, read through the caller's scope: one function per layer.

Boundaries, rivers and villages are shared geography (every signed-in member reads them);
patrols, coverage and incidents go through the scope filters of their own modules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_patrol.access.principal import Principal
from geo_patrol.access.scope import Scope
from geo_patrol.accounts.teams import list_teams
from geo_patrol.geography.border_zone import zones_with_border_zone
from geo_patrol.geography.levels import level_rank
from geo_patrol.geography.queries import list_zones
from geo_patrol.incidents.queries import list_incidents
from geo_patrol.patrols.coverage import river_recency
from geo_patrol.patrols.queries import FILTER_DEFAULTS, FILTERS, patrol_filter
from geo_patrol.web.map.filters import MapFilters

# Coarser levels are drawn simpler: about 50 m for provinces, 3 m for villages and grids.
JURISDICTIONS = f"""
SELECT j.code, j.name, j.level, j.parent_code,
       ST_AsGeoJSON(ST_SimplifyPreserveTopology(j.geom, CASE j.level
           WHEN 'province' THEN 0.0005 WHEN 'city' THEN 0.0003 WHEN 'county' THEN 0.0001
           ELSE 0.00003 END), 6)::json AS geometry
FROM jurisdictions j
WHERE j.valid_from <= :at AND (j.valid_to IS NULL OR j.valid_to > :at)
ORDER BY {level_rank("j.level")}, j.code
"""

VILLAGES = """
SELECT v.code, v.name, ST_X(v.geom) AS lon, ST_Y(v.geom) AS lat FROM villages v ORDER BY v.code
"""

# Where to open the map: the given jurisdictions (the scope, a zone's members or the
# filtered one) in force at :at, or everything.
EXTENT = """
SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (
    SELECT ST_Extent(j.geom) AS e FROM jurisdictions j
    WHERE j.valid_from <= :at AND (j.valid_to IS NULL OR j.valid_to > :at)
      AND (CAST(:codes AS text[]) IS NULL OR j.code = ANY(:codes))
) x WHERE e IS NOT NULL
"""

CATEGORIES = "SELECT code, name FROM incident_categories ORDER BY code"
ZONE_BY_CODE = "SELECT id FROM cooperation_zones WHERE code = :code"

PATROL_COUNT = f"""
SELECT count(*) AS patrols, coalesce(sum(p.points_kept), 0) AS points
FROM patrols p JOIN teams t ON t.id = p.team_id
WHERE {{visible}} {FILTERS}
"""


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


def zone_id_of(session: Session, code: str | None) -> int | None:
    """The id of the zone with `code` (None for no zone or an unknown code)."""
    if not code:
        return None
    return session.execute(text(ZONE_BY_CODE), {"code": code}).scalar()


def patrol_filters(filters: MapFilters, zone_id: int | None) -> dict[str, Any]:
    """The patrol list filters for the map's filters."""
    return {
        **FILTER_DEFAULTS,
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


def _bounds(session: Session, at: Any, codes: list[str] | None) -> list[list[float]] | None:
    """[[south, west], [north, east]] of the jurisdictions `codes` (all when None)."""
    row = session.execute(text(EXTENT), {"at": at, "codes": codes}).first()
    if row is None or row[0] is None:
        return None
    return [[row[1], row[0]], [row[3], row[2]]]


def _rows(session: Session, sql: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Rows of a plain query as dicts."""
    return [dict(r._mapping) for r in session.execute(text(sql), params or {})]


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
    condition, params = visible
    counts = session.execute(
        text(PATROL_COUNT.format(visible=condition)),
        {**params, **patrol_filters(filters, zone_id)},
    ).one()
    return MapData(
        filters=filters,
        zone_id=zone_id,
        jurisdictions=_rows(session, JURISDICTIONS, {"at": at}),
        zones=zones_with_border_zone(session, at=at, zone_id=zone_id),
        rivers=[
            dict(r._mapping)
            for r in river_recency(session, until=at, visible=visible, team_id=filters.team)
        ],
        incidents=list_incidents(
            session, scope=scope, principal=principal, **incident_filters(filters, zone_id)
        ),
        villages=_rows(session, VILLAGES),
        teams=list_teams(session, scope=scope),
        categories=_rows(session, CATEGORIES),
        bounds=_bounds(session, at, focus),
        patrols=int(counts.patrols),
        points=int(counts.points),
        all_zones=all_zones,
    )
