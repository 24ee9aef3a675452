"""Reading incidents through the caller's scope: lists, one in full, counts."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_patrol.access.principal import Principal
from geo_patrol.access.scope import Scope, visible
from geo_patrol.core.catalog import msg
from geo_patrol.core.errors import NotFound
from geo_patrol.core.paging import Page
from geo_patrol.db.clauses import TRUE, Clause, all_of, any_of, equals, meets_box, statement
from geo_patrol.db.keyset import Keyset, read_limit
from geo_patrol.db.tables import OPEN_STATUSES

# Every responsible side (lead and co, with ancestors) sees the case; a joint case is also
# seen by its zone's coordinators; the reporter sees their own report.
INCIDENT_SCOPE = {
    "codes": "(SELECT array_agg(r.code) FROM incident_responsibles r WHERE r.incident_id = i.id)",
    "zones": "ARRAY[i.zone_id]",
    "joint": "i.is_joint",
}


def is_open(column: str = "i.status") -> Clause:
    """`column` (an incident status column of our query) is one of the open statuses."""
    statuses = list(OPEN_STATUSES)
    return Clause(f"{column} = ANY(CAST(:open_statuses AS text[]))", {"open_statuses": statuses})


COLUMNS = """
i.id, i.category, c.name AS category_name, i.severity, i.status, i.tier, i.deadline_at,
i.deadline_at < now() AND {open} AS overdue,
i.lead_code, i.is_joint, i.zone_id, i.unrouted, i.duplicate_of, i.segment_id, i.source,
i.description, i.address, i.reported_at, i.received_at, i.resolved_at, i.reopen_count,
(SELECT array_agg(r.code ORDER BY r.code) FROM incident_responsibles r
 WHERE r.incident_id = i.id AND r.role = 'co' AND r.direct) AS co_codes,
ST_AsGeoJSON(i.geom, 7)::json AS geometry
"""

LIST = (
    "SELECT "
    + COLUMNS
    + """
, {order_at} AS order_at
FROM incidents i JOIN incident_categories c ON c.code = i.category
WHERE {visible} AND {where} AND {after}
ORDER BY {order}
LIMIT :limit
"""
)

# Newest first (ix_incidents_list_order, migration 0017), or soonest deadline first with the
# cases without one last. The key's time goes out as PostgreSQL's own text, which it reads
# back exactly ('infinity' included).
BY_REPORTED = Keyset(
    ("i.reported_at", "i.id"), ("order_at", "id"), ("time", "int"), descending=True
)
BY_DEADLINE = Keyset(
    ("coalesce(i.deadline_at, 'infinity'::timestamptz)", "i.id"),
    ("order_at", "id"),
    ("time", "int"),
)

ONE = (
    "SELECT "
    + COLUMNS
    + """
FROM incidents i JOIN incident_categories c ON c.code = i.category
WHERE i.id = :id AND {visible}
"""
)


@dataclass(frozen=True)
class IncidentFilters:
    """The incident list's filters (None or False: no filter)."""

    status: str | None = None
    tier: str | None = None
    category: str | None = None
    jurisdictions: Sequence[str] | None = None  # any of these answers for it
    zone_id: int | None = None
    joint: bool = False
    overdue: bool = False
    unrouted: bool = False
    open: bool = False
    since: datetime | None = None
    until: datetime | None = None
    bbox: Sequence[float] | None = None


def _answered_by(codes: Sequence[str] | None) -> Clause | None:
    """Incidents any of the jurisdictions `codes` answers for."""
    if codes is None:
        return None
    return Clause(
        "EXISTS (SELECT 1 FROM incident_responsibles r WHERE r.incident_id = i.id"
        " AND r.code = ANY(CAST(:jurisdictions AS text[])))",
        {"jurisdictions": list(codes)},
    )


def _reported(since: datetime | None, until: datetime | None) -> Clause | None:
    """Incidents reported in [since, until) (either end open when None)."""
    if since is None and until is None:
        return None
    return all_of(
        None if since is None else Clause("i.reported_at >= :since", {"since": since}),
        None if until is None else Clause("i.reported_at < :until", {"until": until}),
    )


def _overdue(overdue: bool) -> Clause | None:
    """Open incidents past their deadline."""
    return all_of(Clause("i.deadline_at < now()"), is_open()) if overdue else None


def incident_where(filters: IncidentFilters) -> Clause:
    """The list filters over incidents `i`, joined with AND."""
    return all_of(
        equals("i.status", "status", filters.status),
        equals("i.tier", "tier", filters.tier),
        equals("i.category", "category", filters.category),
        _answered_by(filters.jurisdictions),
        equals("i.zone_id", "zone_id", filters.zone_id),
        Clause("i.is_joint") if filters.joint else None,
        _overdue(filters.overdue),
        Clause("i.unrouted") if filters.unrouted else None,
        is_open() if filters.open else None,
        _reported(filters.since, filters.until),
        meets_box("i.geom", filters.bbox),
    )


# Every category, retired ones too (the map's filter lists what old cases may carry).
CATEGORY_NAMES = "SELECT code, name FROM incident_categories ORDER BY code"

CATEGORY_RULES = """
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
    rows = session.execute(text(CATEGORY_RULES), {"retired": retired})
    return [dict(row._mapping) for row in rows]


def category_names(session: Session) -> list[dict[str, Any]]:
    """Code and name of every category, retired ones too."""
    return [dict(row._mapping) for row in session.execute(text(CATEGORY_NAMES))]


def incident_filter(scope: Scope) -> Clause:
    """The scope condition over incidents `i`."""
    return visible(scope, **INCIDENT_SCOPE)


def readable(scope: Scope, principal: Principal) -> Clause:
    """Visible in scope, or reported by the caller (what every incident list shows)."""
    mine = Clause("i.reporter_member_id = :me", {"me": principal.member_id})
    return any_of(incident_filter(scope), mine)


def incident_page(
    session: Session,
    *,
    scope: Scope,
    principal: Principal,
    limit: int | None,
    cursor: str | None = None,
    by_deadline: bool = False,
    **filters: Any,
) -> Page[dict[str, Any]]:
    """A page of the incidents visible to the caller, newest first or, with `by_deadline`,
    soonest deadline first (`filters`: fields of IncidentFilters; None means no filter);
    every row when `limit` is None."""
    given = {name: value for name, value in filters.items() if value is not None}
    order = BY_DEADLINE if by_deadline else BY_REPORTED
    sql = statement(
        LIST,
        open=is_open(),
        visible=readable(scope, principal),
        where=incident_where(IncidentFilters(**given)),
        after=order.after(cursor) or TRUE,
        order=order.order_by(),
        order_at=f"CAST({order.columns[0]} AS text)",
    )
    rows = [dict(row._mapping) for row in session.execute(sql, {"limit": read_limit(limit)})]
    page = order.page(rows, limit)
    for row in page.items:
        del row["order_at"]
    return page


def list_incidents(
    session: Session,
    *,
    scope: Scope,
    principal: Principal,
    limit: int | None = None,
    by_deadline: bool = False,
    **filters: Any,
) -> list[dict[str, Any]]:
    """Incidents visible to the caller (all of them when `limit` is None), in the order and
    with the filters of `incident_page`."""
    return incident_page(
        session, scope=scope, principal=principal, limit=limit, by_deadline=by_deadline, **filters
    ).items


def each_incident(
    session: Session, *, scope: Scope, principal: Principal, batch: int = 2000, **filters: Any
) -> Iterator[dict[str, Any]]:
    """Every incident list_incidents would list (no limit), newest first, one by one through
    a server-side cursor fetching `batch` rows at a time: exports in bounded memory."""
    given = {name: value for name, value in filters.items() if value is not None}
    sql = statement(
        LIST,
        open=is_open(),
        visible=readable(scope, principal),
        where=incident_where(IncidentFilters(**given)),
        after=TRUE,
        order=BY_REPORTED.order_by(),
        order_at=f"CAST({BY_REPORTED.columns[0]} AS text)",
    )
    streamed = sql.execution_options(stream_results=True, yield_per=batch)
    for row in session.execute(streamed, {"limit": None}):
        found = dict(row._mapping)
        del found["order_at"]
        yield found


def get_incident(
    session: Session, *, scope: Scope, principal: Principal, incident_id: int
) -> dict[str, Any]:
    """One incident with sides, history, photos, duplicates and verifications."""
    sql = statement(ONE, open=is_open(), visible=readable(scope, principal))
    found = session.execute(sql, {"id": incident_id}).first()
    if found is None:
        raise NotFound(msg("problem.api.no_incident", incident_id=incident_id), field="incident_id")
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
SELECT * FROM (
    SELECT i.status, i.tier, coalesce(i.lead_code, 'unrouted') AS lead_code,
           j.name AS lead_name, i.is_joint, count(*) AS incidents
    FROM incidents i LEFT JOIN jurisdictions j ON j.code = i.lead_code AND j.valid_to IS NULL
    WHERE {visible} AND i.reported_at >= :since AND i.reported_at < :until
    GROUP BY 1, 2, 3, 4, 5
) s
WHERE {after}
ORDER BY s.lead_code, s.status, s.tier, s.is_joint
LIMIT :limit
"""
# The counts by lead, status, tier and joint (one name per code in force), paged inside the
# aggregate: a province has thousands of leads.
STATS_ORDER = Keyset(
    ("s.lead_code", "s.status", "s.tier", "s.is_joint"),
    ("lead_code", "status", "tier", "is_joint"),
    ("text", "text", "text", "bool"),
)


def incident_stats(
    session: Session,
    *,
    scope: Scope,
    since: Any,
    until: Any,
    limit: int | None = None,
    cursor: str | None = None,
) -> Page[dict[str, Any]]:
    """A page of the counts by status, tier and lead jurisdiction for a period."""
    sql = statement(STATS, visible=incident_filter(scope), after=all_of(STATS_ORDER.after(cursor)))
    rows = session.execute(sql, {"since": since, "until": until, "limit": read_limit(limit)})
    return STATS_ORDER.page([dict(row._mapping) for row in rows], limit)
