"""Reading incidents through the caller's scope: lists, one in full, counts."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_patrol.access.principal import Principal
from geo_patrol.access.scope import Scope, visible
from geo_patrol.core.errors import NotFound
from geo_patrol.db.tables import OPEN_STATUSES_SQL

# Every responsible side (lead and co, with ancestors) sees the case; a joint case is also
# seen by its zone's coordinators; the reporter sees their own report.
INCIDENT_SCOPE = {
    "codes": "(SELECT array_agg(r.code) FROM incident_responsibles r WHERE r.incident_id = i.id)",
    "zones": "ARRAY[i.zone_id]",
    "joint": "i.is_joint",
}

COLUMNS = f"""
i.id, i.category, c.name AS category_name, i.severity, i.status, i.tier, i.deadline_at,
i.deadline_at < now() AND i.status IN {OPEN_STATUSES_SQL} AS overdue,
i.lead_code, i.is_joint, i.zone_id, i.unrouted, i.duplicate_of, i.segment_id, i.source,
i.description, i.address, i.reported_at, i.received_at, i.resolved_at, i.reopen_count,
(SELECT array_agg(r.code ORDER BY r.code) FROM incident_responsibles r
 WHERE r.incident_id = i.id AND r.role = 'co' AND r.direct) AS co_codes,
ST_AsGeoJSON(i.geom, 7)::json AS geometry
"""

LIST = f"""
SELECT {COLUMNS}
FROM incidents i JOIN incident_categories c ON c.code = i.category
WHERE ({{visible}} OR i.reporter_member_id = :me)
  AND (CAST(:status AS text) IS NULL OR i.status = :status)
  AND (CAST(:tier AS text) IS NULL OR i.tier = :tier)
  AND (CAST(:category AS text) IS NULL OR i.category = :category)
  AND (CAST(:jurisdictions AS text[]) IS NULL OR EXISTS (
        SELECT 1 FROM incident_responsibles r WHERE r.incident_id = i.id
          AND r.code = ANY(CAST(:jurisdictions AS text[]))))
  AND (CAST(:zone_id AS int) IS NULL OR i.zone_id = :zone_id)
  AND (NOT CAST(:joint AS boolean) OR i.is_joint)
  AND (NOT CAST(:overdue AS boolean) OR (i.deadline_at < now()
        AND i.status IN {OPEN_STATUSES_SQL}))
  AND (NOT CAST(:unrouted AS boolean) OR i.unrouted)
  AND (NOT CAST(:open AS boolean) OR i.status IN {OPEN_STATUSES_SQL})
  AND (CAST(:since AS timestamptz) IS NULL OR i.reported_at >= :since)
  AND (CAST(:until AS timestamptz) IS NULL OR i.reported_at < :until)
  AND (CAST(:bbox AS float8[]) IS NULL OR i.geom && ST_MakeEnvelope(
        (CAST(:bbox AS float8[]))[1], (CAST(:bbox AS float8[]))[2],
        (CAST(:bbox AS float8[]))[3], (CAST(:bbox AS float8[]))[4], 4326))
ORDER BY CASE WHEN CAST(:by_deadline AS boolean) THEN i.deadline_at END NULLS LAST,
         i.reported_at DESC, i.id DESC
LIMIT :limit
"""

FILTERS = {
    "status": None,
    "tier": None,
    "category": None,
    "jurisdictions": None,
    "zone_id": None,
    "joint": False,
    "overdue": False,
    "unrouted": False,
    "open": False,
    "since": None,
    "until": None,
    "bbox": None,
    "limit": 1000,
    "by_deadline": False,
}


CATEGORIES = """
SELECT c.code, c.name, c.name_en,
       (SELECT json_object_agg(severity, tier) FROM tier_rules r WHERE r.category = c.code)
           AS initial_tier,
       (SELECT json_object_agg(tier, hours) FROM tier_deadlines d WHERE d.category = c.code)
           AS deadline_hours
FROM incident_categories c WHERE c.active OR :retired ORDER BY c.code
"""


def categories(session: Session, *, retired: bool = False) -> list[dict[str, Any]]:
    """The active categories (`retired`: all, as old cases may carry one no longer offered)
    with their tier rule per severity and deadline per tier."""
    rows = session.execute(text(CATEGORIES), {"retired": retired})
    return [dict(row._mapping) for row in rows]


def incident_filter(scope: Scope) -> tuple[str, dict[str, Any]]:
    """The scope condition over incidents `i`."""
    return visible(scope, **INCIDENT_SCOPE)


def list_incidents(
    session: Session, *, scope: Scope, principal: Principal, **filters: Any
) -> list[dict[str, Any]]:
    """Incidents visible to the caller, newest first or, with `by_deadline`, soonest
    deadline first (`filters`: names of FILTERS; `jurisdictions`: incidents any of these
    answer for)."""
    unknown = set(filters) - set(FILTERS)
    if unknown:
        raise TypeError(f"unknown incident filters: {sorted(unknown)}")
    condition, params = incident_filter(scope)
    values = {**FILTERS, **{k: v for k, v in filters.items() if v is not None}}
    rows = session.execute(
        text(LIST.format(visible=condition)), {**values, **params, "me": principal.member_id}
    )
    return [dict(row._mapping) for row in rows]


def get_incident(
    session: Session, *, scope: Scope, principal: Principal, incident_id: int
) -> dict[str, Any]:
    """One incident with sides, history, photos, duplicates and verifications."""
    condition, params = incident_filter(scope)
    sql = f"SELECT {COLUMNS} FROM incidents i JOIN incident_categories c ON c.code = i.category "
    sql += f"WHERE i.id = :id AND ({condition} OR i.reporter_member_id = :me)"
    row = session.execute(text(sql), {**params, "id": incident_id, "me": principal.member_id})
    found = row.first()
    if found is None:
        raise NotFound(f"no incident {incident_id}", field="incident_id")
    incident = dict(found._mapping)
    for key, query in DETAILS.items():
        incident[key] = [
            dict(r._mapping) for r in session.execute(text(query), {"id": incident_id})
        ]
    return incident


DETAILS = {
    "responsible": """
        SELECT r.code, j.name, r.level, r.role, r.direct FROM incident_responsibles r
        LEFT JOIN jurisdictions j ON j.code = r.code AND j.valid_to IS NULL
        WHERE r.incident_id = :id ORDER BY r.role DESC, r.direct DESC, r.code""",
    "history": """
        SELECT at, kind, actor, from_status, to_status, from_tier, to_tier, note
        FROM incident_events WHERE incident_id = :id ORDER BY id""",
    "photos": """
        SELECT id, media_type, size_bytes, width, height, taken_at FROM incident_photos
        WHERE incident_id = :id ORDER BY id""",
    "duplicates": "SELECT id, reported_at FROM incidents WHERE duplicate_of = :id ORDER BY id",
    "verifications": """
        SELECT patrol_id, passed_at, distance_m FROM incident_verifications
        WHERE incident_id = :id ORDER BY passed_at""",
}

STATS = """
SELECT i.status, i.tier, coalesce(i.lead_code, 'unrouted') AS lead_code,
       j.name AS lead_name, i.is_joint, count(*) AS incidents
FROM incidents i LEFT JOIN jurisdictions j ON j.code = i.lead_code AND j.valid_to IS NULL
WHERE {visible} AND i.reported_at >= :since AND i.reported_at < :until
GROUP BY 1, 2, 3, 4, 5 ORDER BY 3, 1, 2
"""


def incident_stats(
    session: Session, *, scope: Scope, since: Any, until: Any
) -> list[dict[str, Any]]:
    """Counts by status, tier and lead jurisdiction for a period."""
    condition, params = incident_filter(scope)
    rows = session.execute(
        text(STATS.format(visible=condition)), {**params, "since": since, "until": until}
    )
    return [dict(row._mapping) for row in rows]
