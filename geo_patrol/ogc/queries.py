"""The two collections too big to read whole (incidents, patrols) read a page at a time in
SQL: the domains' own scope and filter clauses, a keyset on the id (newest first), the box
as a true intersection (not just overlapping boxes, which would let a long track whose
corner box meets the query in), and a count of all that match.

Introduced in: geo-patrol 0.4.0
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from geo_patrol.db.clauses import Clause, after_key, all_of, statement
from geo_patrol.incidents import queries as incident_queries
from geo_patrol.ogc.params import Direction, Position

INCIDENTS = (
    "SELECT "
    + incident_queries.COLUMNS
    + """
FROM incidents i JOIN incident_categories c ON c.code = i.category
WHERE {visible} AND {where} AND {position}
ORDER BY i.id {order}
LIMIT :limit
"""
)

INCIDENT_COUNT = """
SELECT count(*) FROM incidents i WHERE {visible} AND {where}
"""

PATROLS = """
SELECT p.id, p.team_id, t.name AS team_name, p.source, p.mode, p.title, p.started_at,
       p.ended_at, p.closed_at, p.length_m, p.duration_s, p.points_raw, p.points_kept,
       p.quality_flags, p.stale,
       ST_AsGeoJSON(p.track, 6)::json AS geometry
FROM patrols p JOIN teams t ON t.id = p.team_id
WHERE {visible} AND {where} AND {position}
ORDER BY p.id {order}
LIMIT :limit
"""

PATROL_COUNT = """
SELECT count(*) FROM patrols p JOIN teams t ON t.id = p.team_id WHERE {visible} AND {where}
"""


def intersects_box(column: str, bbox: Sequence[float] | None) -> Clause | None:
    """Rows whose `column` (EPSG:4326) meets [minlon, minlat, maxlon, maxlat]."""
    if bbox is None:
        return None
    names = ("ogc_x0", "ogc_y0", "ogc_x1", "ogc_y1")
    return Clause(
        f"ST_Intersects({column}, ST_MakeEnvelope(:ogc_x0, :ogc_y0, :ogc_x1, :ogc_y1, 4326))",
        dict(zip(names, bbox, strict=True)),
    )


@dataclass(frozen=True)
class SqlPage:
    """Rows of one page in list order (newest first), whether more lie in the direction
    read, and how many match in all."""

    rows: list[dict[str, Any]]
    more: bool
    matched: int


def _read(
    session: Session,
    *,
    sql: str,
    count_sql: str,
    column: str,
    visible: Clause,
    where: Clause,
    position: Position,
    limit: int,
    **slots: Clause,
) -> SqlPage:
    """One page of a newest-first list keyed by `column`: after the position's key going
    on (NEXT), or before it going back (PREV: read upwards, then turned round)."""
    back = position.direction is Direction.PREV
    key = None if position.key is None else [position.key]
    clause = after_key([column], key, descending=not back)
    order = "ASC" if back else "DESC"
    query = statement(
        sql, visible=visible, where=where, position=all_of(clause), order=order, **slots
    )
    rows = [dict(r._mapping) for r in session.execute(query, {"limit": limit + 1})]
    more = len(rows) > limit
    rows = rows[:limit]
    if back:
        rows.reverse()
    counted = session.execute(statement(count_sql, visible=visible, where=where)).scalar_one()
    return SqlPage(rows, more, int(counted))


def incident_page(
    session: Session,
    *,
    visible: Clause,
    filters: incident_queries.IncidentFilters,
    bbox: Sequence[float] | None,
    position: Position,
    limit: int,
) -> SqlPage:
    """A page of incidents the caller may read (`visible`), newest id first."""
    where = all_of(incident_queries.incident_where(filters), intersects_box("i.geom", bbox))
    return _read(
        session,
        sql=INCIDENTS,
        count_sql=INCIDENT_COUNT,
        column="i.id",
        visible=visible,
        where=where,
        position=position,
        limit=limit,
        open=incident_queries.is_open(),
    )


def patrol_page(
    session: Session,
    *,
    visible: Clause,
    where: Clause,
    bbox: Sequence[float] | None,
    position: Position,
    limit: int,
) -> SqlPage:
    """A page of patrols the caller may read (`visible`), newest id first, with tracks."""
    return _read(
        session,
        sql=PATROLS,
        count_sql=PATROL_COUNT,
        column="p.id",
        visible=visible,
        where=all_of(where, intersects_box("p.track", bbox)),
        position=position,
        limit=limit,
    )
