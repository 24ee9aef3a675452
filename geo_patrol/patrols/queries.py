"""Reading patrols through the caller's scope: lists, one patrol in full, effort, exports."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, NamedTuple

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_patrol.access.scope import Scope, visible
from geo_patrol.core.catalog import msg
from geo_patrol.core.errors import NotFound
from geo_patrol.core.local_time import ZONE_NAME
from geo_patrol.core.paging import Page
from geo_patrol.db.clauses import TRUE, Clause, all_of, equals, meets_box, statement
from geo_patrol.db.keyset import Keyset, read_limit
from geo_patrol.geography.levels import level_rank

# A patrol is seen by the supervisors of every jurisdiction it passed through, by its team
# (and the team's zone coordinators), and by admins.
PATROL_SCOPE = {
    "codes": "(SELECT array_agg(pj.code) FROM patrol_jurisdictions pj WHERE pj.patrol_id = p.id)",
    "teams": "ARRAY[p.team_id]",
    "zones": "ARRAY[t.zone_id]",
}


@dataclass(frozen=True)
class PatrolFilters:
    """The patrol list's filters (None: no filter); the map's track tiles use the same."""

    team_id: int | None = None
    member_id: int | None = None
    jurisdiction: str | None = None
    zone_id: int | None = None
    river: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    flag: str | None = None
    bbox: Sequence[float] | None = None


def _member(member_id: int | None) -> Clause | None:
    """Patrols one member walked."""
    if member_id is None:
        return None
    return Clause(
        "EXISTS (SELECT 1 FROM patrol_members m WHERE m.patrol_id = p.id"
        " AND m.member_id = :member_id)",
        {"member_id": member_id},
    )


def _jurisdiction(code: str | None) -> Clause | None:
    """Patrols that passed through a jurisdiction."""
    if code is None:
        return None
    return Clause(
        "EXISTS (SELECT 1 FROM patrol_jurisdictions pj WHERE pj.patrol_id = p.id"
        " AND pj.code = :jurisdiction)",
        {"jurisdiction": code},
    )


def _river(code: str | None) -> Clause | None:
    """Patrols that covered some of a river."""
    if code is None:
        return None
    return Clause(
        "EXISTS (SELECT 1 FROM patrol_coverage c JOIN river_segments s ON s.id = c.segment_id"
        " JOIN rivers r ON r.id = s.river_id WHERE c.patrol_id = p.id AND r.code = :river)",
        {"river": code},
    )


def _period(since: datetime | None, until: datetime | None) -> Clause | None:
    """Patrols that ran at some time in [since, until) (either end open when None)."""
    if since is None and until is None:
        return None
    return all_of(
        None if since is None else Clause("p.ended_at >= :since", {"since": since}),
        None if until is None else Clause("p.started_at < :until", {"until": until}),
    )


def _flag(flag: str | None) -> Clause | None:
    """Patrols carrying a quality flag."""
    return None if flag is None else Clause("p.quality_flags ? :flag", {"flag": flag})


def patrol_where(filters: PatrolFilters) -> Clause:
    """The list filters over patrols `p` and their teams `t`, joined with AND."""
    return all_of(
        equals("p.team_id", "team_id", filters.team_id),
        _member(filters.member_id),
        _jurisdiction(filters.jurisdiction),
        equals("t.zone_id", "zone_id", filters.zone_id),
        _river(filters.river),
        _period(filters.since, filters.until),
        _flag(filters.flag),
        meets_box("p.track", filters.bbox),
    )


LIST = """
SELECT p.id, p.team_id, t.name AS team_name, p.source, p.mode, p.title, p.started_at,
       p.ended_at, p.closed_at, p.length_m, p.duration_s, p.points_raw, p.points_kept,
       p.quality_flags, p.stale, coalesce(p.started_at, p.created_at) AS order_at
FROM patrols p JOIN teams t ON t.id = p.team_id
WHERE {visible} AND {where} AND {after}
ORDER BY {order}
LIMIT :limit
"""

# Newest first: by start, a track without times (no start) by when it was stored. The index
# ix_patrols_list_order (migration 0017) serves this order.
PATROL_ORDER = Keyset(
    columns=("coalesce(p.started_at, p.created_at)", "p.id"),
    fields=("order_at", "id"),
    kinds=("time", "int"),
    descending=True,
)

TOTALS = """
SELECT count(*) AS patrols, coalesce(sum(p.points_kept), 0) AS points
FROM patrols p JOIN teams t ON t.id = p.team_id
WHERE {visible} AND {where}
"""

DETAIL = """
SELECT p.id, p.team_id, t.name AS team_name, p.source, p.mode, p.title, p.started_at,
       p.ended_at, p.closed_at, p.length_m, p.duration_s, p.points_raw, p.points_kept,
       p.dropped, p.quality_flags, p.upload_id, p.device_id,
       ST_AsGeoJSON(p.track, 6) AS geometry,  -- text: the API sends it on unparsed
       (SELECT coalesce(array_agg(member_id ORDER BY member_id), '{{}}')
        FROM patrol_members WHERE patrol_id = p.id) AS member_ids
FROM patrols p JOIN teams t ON t.id = p.team_id
WHERE p.id = :patrol_id AND {visible}
"""

JURISDICTIONS = f"""
SELECT pj.code, j.name, pj.level, pj.length_m, pj.duration_s, pj.entered_at, pj.exited_at
FROM patrol_jurisdictions pj JOIN jurisdictions j ON j.id = pj.jurisdiction_id
WHERE pj.patrol_id = :patrol_id
ORDER BY {level_rank("pj.level")}, pj.length_m DESC
"""

CROSSINGS = """
SELECT level, at, from_code, to_code, ST_X(geom) AS lon, ST_Y(geom) AS lat
FROM patrol_crossings WHERE patrol_id = :patrol_id ORDER BY at NULLS LAST, id
"""

COVERAGE = """
SELECT s.id AS segment_id, r.code AS river_code, r.name AS river_name, s.seq, s.is_border,
       c.covered_m, c.fraction
FROM patrol_coverage c JOIN river_segments s ON s.id = c.segment_id
JOIN rivers r ON r.id = s.river_id
WHERE c.patrol_id = :patrol_id ORDER BY r.code, s.seq
"""


def patrol_filter(scope: Scope) -> Clause:
    """The scope condition over patrols `p` joined with their team `t`."""
    return visible(scope, **PATROL_SCOPE)


def patrol_page(
    session: Session,
    *,
    scope: Scope,
    limit: int | None,
    cursor: str | None = None,
    **filters: Any,
) -> Page[dict[str, Any]]:
    """A page of the patrols visible in scope, newest first, filtered (`filters`: fields of
    PatrolFilters); every row when `limit` is None."""
    where = patrol_where(PatrolFilters(**filters))
    sql = statement(
        LIST,
        visible=patrol_filter(scope),
        where=where,
        after=PATROL_ORDER.after(cursor) or TRUE,
        order=PATROL_ORDER.order_by(),
    )
    rows = [dict(row._mapping) for row in session.execute(sql, {"limit": read_limit(limit)})]
    page = PATROL_ORDER.page(rows, limit)
    for row in page.items:
        del row["order_at"]
    return page


def list_patrols(
    session: Session, *, scope: Scope, limit: int | None = None, **filters: Any
) -> list[dict[str, Any]]:
    """Patrols visible in scope, newest first, filtered (`filters`: fields of PatrolFilters)."""
    return patrol_page(session, scope=scope, limit=limit, **filters).items


def each_patrol(
    session: Session, *, scope: Scope, batch: int = 2000, **filters: Any
) -> Iterator[dict[str, Any]]:
    """Every patrol list_patrols would list (no limit), newest first, one by one through a
    server-side cursor fetching `batch` rows at a time: exports in bounded memory."""
    sql = statement(
        LIST,
        visible=patrol_filter(scope),
        where=patrol_where(PatrolFilters(**filters)),
        after=TRUE,
        order=PATROL_ORDER.order_by(),
    )
    streamed = sql.execution_options(stream_results=True, yield_per=batch)
    for row in session.execute(streamed, {"limit": None}):
        found = dict(row._mapping)
        del found["order_at"]
        yield found


class PatrolTotals(NamedTuple):
    """How many patrols match, and how many fixes they kept."""

    patrols: int
    points: int


def patrol_totals(session: Session, *, scope: Scope, filters: PatrolFilters) -> PatrolTotals:
    """The number of visible patrols matching `filters` and their kept fixes."""
    sql = statement(TOTALS, visible=patrol_filter(scope), where=patrol_where(filters))
    row = session.execute(sql).one()
    return PatrolTotals(patrols=int(row.patrols), points=int(row.points))


# Only what a download needs: the scope check, the name and whether the track has times.
HEADER = """
SELECT p.id, p.title, p.started_at FROM patrols p JOIN teams t ON t.id = p.team_id
WHERE p.id = :patrol_id AND {visible}
"""


def patrol_header(session: Session, *, scope: Scope, patrol_id: int) -> dict[str, Any]:
    """A patrol's id, title and start (never its track); 404 when absent or out of scope."""
    return _one(session, HEADER, scope=scope, patrol_id=patrol_id)


def _one(session: Session, sql: str, *, scope: Scope, patrol_id: int) -> dict[str, Any]:
    """The row of `sql` for one patrol in scope, or 404."""
    query = statement(sql, visible=patrol_filter(scope))
    row = session.execute(query, {"patrol_id": patrol_id}).first()
    if row is None:
        raise NotFound(msg("problem.patrols.no_patrol", patrol_id=patrol_id), field="patrol_id")
    return dict(row._mapping)


def get_patrol(session: Session, *, scope: Scope, patrol_id: int) -> dict[str, Any]:
    """One patrol with attribution, crossings, coverage; 404 when absent or out of scope."""
    patrol = _one(session, DETAIL, scope=scope, patrol_id=patrol_id)
    key = {"patrol_id": patrol_id}
    patrol["jurisdictions"] = [dict(r._mapping) for r in session.execute(text(JURISDICTIONS), key)]
    patrol["crossings"] = [dict(r._mapping) for r in session.execute(text(CROSSINGS), key)]
    patrol["coverage"] = [dict(r._mapping) for r in session.execute(text(COVERAGE), key)]
    return patrol


EFFORT = """
SELECT * FROM (
    SELECT date_trunc(:period, p.started_at AT TIME ZONE :zone) AS period,
           {group_expr} AS key, {group_name} AS name,
           count(DISTINCT p.id) AS patrols, sum({length_expr}) AS length_m,
           sum({duration_expr}) AS duration_s
    FROM patrols p JOIN teams t ON t.id = p.team_id
    {join}
    WHERE {visible} AND p.started_at >= :since AND p.started_at < :until
    GROUP BY 1, 2, 3
) e
WHERE {after}
ORDER BY e.period, e.key, e.name
LIMIT :limit
"""
# The groups of a period by key (and name: two versions of a boundary may name one code
# differently); the aggregate is paged inside its statement.
EFFORT_ORDER = Keyset(
    ("e.period", "e.key", "e.name"), ("period", "key", "name"), ("time", "text", "text")
)


class EffortBy(StrEnum):
    """What patrol effort is grouped by."""

    JURISDICTION = "jurisdiction"
    TEAM = "team"
    MEMBER = "member"
    RIVER = "river"


# The join and columns of each grouping (whitelisted fragments, chosen by the enum).
EFFORT_GROUPS: dict[EffortBy, dict[str, str]] = {
    EffortBy.JURISDICTION: {
        "join": "JOIN patrol_jurisdictions pj ON pj.patrol_id = p.id AND pj.level = :level "
        "JOIN jurisdictions j ON j.id = pj.jurisdiction_id",
        "group_expr": "pj.code",
        "group_name": "j.name",
        "length_expr": "pj.length_m",
        "duration_expr": "pj.duration_s",
    },
    EffortBy.TEAM: {
        "join": "",
        "group_expr": "t.id::text",
        "group_name": "t.name",
        "length_expr": "p.length_m",
        "duration_expr": "p.duration_s",
    },
    EffortBy.MEMBER: {
        "join": "JOIN patrol_members pm ON pm.patrol_id = p.id "
        "JOIN members m ON m.id = pm.member_id",
        "group_expr": "m.id::text",
        "group_name": "m.name",
        "length_expr": "p.length_m",
        "duration_expr": "p.duration_s",
    },
    EffortBy.RIVER: {
        "join": "JOIN patrol_coverage c ON c.patrol_id = p.id JOIN river_segments s "
        "ON s.id = c.segment_id JOIN rivers r ON r.id = s.river_id",
        "group_expr": "r.code",
        "group_name": "r.name",
        "length_expr": "c.covered_m",
        "duration_expr": "0",
    },
}


def effort(
    session: Session,
    *,
    scope: Scope,
    by: str,
    period: str,
    since: datetime,
    until: datetime,
    level: str = "town",
    limit: int | None = None,
    cursor: str | None = None,
) -> Page[dict[str, Any]]:
    """A page of the patrol effort per jurisdiction, team, member or river and per day, week
    or month, by period and group (every row when `limit` is None)."""
    sql = statement(
        EFFORT,
        visible=patrol_filter(scope),
        after=all_of(EFFORT_ORDER.after(cursor)),
        **EFFORT_GROUPS[EffortBy(by)],
    )
    params = {
        "period": period,
        "since": since,
        "until": until,
        "level": level,
        "zone": ZONE_NAME,
        "limit": read_limit(limit),
    }
    rows = [dict(row._mapping) for row in session.execute(sql, params)]
    return EFFORT_ORDER.page(rows, limit)


def upload_of(session: Session, *, patrol_id: int) -> Any:
    """The upload row behind a patrol (call after get_patrol has checked scope)."""
    row = session.execute(
        text("SELECT u.sha256, u.filename FROM uploads u WHERE u.patrol_id = :p"), {"p": patrol_id}
    ).first()
    if row is None:
        raise NotFound(
            msg("problem.patrols.not_a_file_upload", patrol_id=patrol_id), field="patrol_id"
        )
    return row
