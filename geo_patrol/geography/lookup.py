"""Which jurisdictions contain a point, at a moment: the chain from the lowest level up.

Like MapIt's point lookup behind FixMyStreet: the lowest-level jurisdiction whose boundary
in force at `at` covers the point, followed by its ancestors through parent_code. A point on
the line between two jurisdictions of the same level is covered by both: the chain follows
the one with the smaller code and `on_boundary_with` names the others, so a caller (incident
routing) can treat it as a joint case.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_patrol.geography.levels import level_rank

# Every jurisdiction covering the point (lowest level first), and the chain from the lowest
# one up through parent_code, in one statement: rows of part 'chain' by depth, then rows of
# part 'covering' by rank.
LOOKUP = f"""
WITH RECURSIVE covering AS (
    SELECT DISTINCT j.id, j.code, j.name, j.name_en, j.level, j.parent_code,
           {level_rank("j.level")} AS rank
    FROM jurisdiction_parts p
    JOIN jurisdictions j ON j.id = p.jurisdiction_id
    WHERE ST_Intersects(p.geom, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326))
      AND j.valid_from <= :at AND (j.valid_to IS NULL OR j.valid_to > :at)
),
chain AS (
    SELECT c.id, c.code, c.name, c.name_en, c.level, c.parent_code, 0 AS depth
    FROM (SELECT * FROM covering ORDER BY rank DESC, code LIMIT 1) c
    UNION ALL
    SELECT p.id, p.code, p.name, p.name_en, p.level, p.parent_code, c.depth + 1
    FROM chain c
    JOIN jurisdictions p ON p.code = c.parent_code
     AND p.valid_from <= :at AND (p.valid_to IS NULL OR p.valid_to > :at)
    WHERE c.depth < 10
)
SELECT 'chain' AS part, id, code, name, name_en, level, parent_code, NULL AS rank, depth
FROM chain
UNION ALL
SELECT 'covering', id, code, name, name_en, level, parent_code, rank, NULL FROM covering
ORDER BY part, depth, rank DESC, code
"""


@dataclass(frozen=True)
class JurisdictionRef:
    """A jurisdiction version, without its geometry."""

    id: int
    code: str
    name: str
    name_en: str | None
    level: str
    parent_code: str | None


@dataclass(frozen=True)
class PointLookup:
    """The chain from the lowest level up, and same-level neighbours sharing the point."""

    chain: list[JurisdictionRef]
    on_boundary_with: list[JurisdictionRef]


def jurisdictions_at(session: Session, *, lon: float, lat: float, at: datetime) -> PointLookup:
    """Look up the jurisdictions covering (lon, lat) with the boundaries in force at `at`."""
    rows = session.execute(text(LOOKUP), {"lon": lon, "lat": lat, "at": at}).all()
    chain = [_ref(row) for row in rows if row.part == "chain"]
    covering = [row for row in rows if row.part == "covering"]
    if not covering:
        return PointLookup(chain=[], on_boundary_with=[])
    lowest = covering[0]
    neighbours = [
        _ref(row) for row in covering[1:] if row.rank == lowest.rank and row.code != lowest.code
    ]
    return PointLookup(chain=chain, on_boundary_with=neighbours)


def _ref(row: object) -> JurisdictionRef:
    """A JurisdictionRef from a result row."""
    return JurisdictionRef(
        id=row.id,  # type: ignore[attr-defined]
        code=row.code,  # type: ignore[attr-defined]
        name=row.name,  # type: ignore[attr-defined]
        name_en=row.name_en,  # type: ignore[attr-defined]
        level=row.level,  # type: ignore[attr-defined]
        parent_code=row.parent_code,  # type: ignore[attr-defined]
    )
