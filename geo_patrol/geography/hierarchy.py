"""Parent links between jurisdiction levels: by official code prefix or by containment.

Both statements work on the codes of the import in progress (temp table staged_jurisdictions).

Chinese administrative codes nest: a province is 2 significant digits (32 = Jiangsu, written
320000), a city 4 (3205 = Suzhou), a county 6 (320509 = Wujiang), a town 9, a village 12;
our grids use 15. A parent's code, cut to its level's length, is the start of its child's
code, and the parent is the closest such jurisdiction above the child.
"""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_patrol.geography.levels import level_rank

# Significant digits of a code at each level (the rest of a shorter code is zero padding).
CODE_DIGITS = {"province": 2, "city": 4, "county": 6, "town": 9, "village": 12, "grid": 15}

_DIGITS_SQL = (
    "CASE {col} WHEN 'province' THEN 2 WHEN 'city' THEN 4 WHEN 'county' THEN 6 "
    "WHEN 'town' THEN 9 WHEN 'village' THEN 12 WHEN 'grid' THEN 15 END"
)

RANK_P = level_rank("p.level")
RANK_C = level_rank("c.level")
DIGITS_P = _DIGITS_SQL.format(col="p.level")

# The closest jurisdiction above whose code, cut to its level's digits, starts the child's.
PARENT_BY_CODE = f"""
SELECT p.code FROM jurisdictions p
WHERE p.valid_to IS NULL AND {RANK_P} < {RANK_C}
  AND left(c.code, {DIGITS_P}) = left(p.code, {DIGITS_P})
  AND ltrim(substr(p.code, {DIGITS_P} + 1), '0') = ''
ORDER BY {RANK_P} DESC LIMIT 1
"""

# The containing jurisdiction of the closest level above, judged at a point surely inside
# the child (ST_PointOnSurface), so shared edges never make a neighbour the parent.
PARENT_BY_CONTAINMENT = f"""
SELECT p.code FROM jurisdiction_parts pp JOIN jurisdictions p ON p.id = pp.jurisdiction_id
WHERE p.valid_to IS NULL AND {RANK_P} < {RANK_C}
  AND ST_Intersects(pp.geom, ST_PointOnSurface(c.geom))
ORDER BY {RANK_P} DESC LIMIT 1
"""

# Only rows that get a parent are written, so a re-import without parents changes nothing.
LINK = """
UPDATE jurisdictions t SET parent_code = found.parent_code
FROM (SELECT c.id, ({parent}) AS parent_code
      FROM jurisdictions c
      WHERE c.valid_to IS NULL AND c.parent_code IS NULL AND c.level <> 'province'
        AND c.code IN (SELECT code FROM staged_jurisdictions)) AS found
WHERE t.id = found.id AND found.parent_code IS NOT NULL
"""


class ParentRule(StrEnum):
    """How a jurisdiction's parent is found: by its code's digits, or by containment."""

    CODE = "code"
    CONTAINMENT = "containment"


# The linking statement of each rule, made once.
LINK_BY = {
    ParentRule.CODE: LINK.format(parent=PARENT_BY_CODE),
    ParentRule.CONTAINMENT: LINK.format(parent=PARENT_BY_CONTAINMENT),
}


def link_parents(session: Session, *, by: str) -> int:
    """Fill the missing parent_code of the staged codes' versions in force; returns rows linked."""
    if by not in set(ParentRule):
        raise ValueError(f"hierarchy must be 'code' or 'containment', not {by!r}")
    return session.execute(text(LINK_BY[ParentRule(by)])).rowcount  # type: ignore[attr-defined,no-any-return]
