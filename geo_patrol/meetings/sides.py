"""The sides of a cooperation zone as a meeting's pages offer them: each member jurisdiction
of the zone under no other member (its county, not also its town), with its name and the
people who live under it (their home jurisdiction in its subtree), so a coordinator picks
attendees and a decision's owners per side.

The people listed are active members; the pages show them only to those who may edit the
zone's meetings (meetings.visibility.may_edit_zone), who name both sides' people anyway.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import text
from sqlalchemy.orm import Session

# The sides: the member codes of the zone that lie under no other member code (a zone of two
# counties and a town of each has two sides), each with the members whose home is under it.
SIDE_PEOPLE = """
WITH RECURSIVE tree AS (
    SELECT code AS side, code, 0 AS depth FROM jurisdictions
    WHERE valid_to IS NULL AND code = ANY(:codes)
    UNION
    SELECT t.side, j.code, t.depth + 1 FROM jurisdictions j JOIN tree t ON j.parent_code = t.code
    WHERE j.valid_to IS NULL AND t.depth < 10
), sides AS (
    SELECT s.code FROM unnest(CAST(:codes AS text[])) AS s(code)
    WHERE NOT EXISTS (SELECT 1 FROM tree t WHERE t.code = s.code AND t.side <> s.code)
)
SELECT s.code AS side, coalesce(j.name, s.code) AS side_name, m.id AS member_id,
       m.name AS member_name
FROM sides s
LEFT JOIN jurisdictions j ON j.code = s.code AND j.valid_to IS NULL
LEFT JOIN LATERAL (
    SELECT DISTINCT m.id, m.name FROM tree t JOIN members m ON m.home_jurisdiction_code = t.code
    WHERE t.side = s.code AND m.is_active
) m ON TRUE
ORDER BY s.code, m.name, m.id
"""


@dataclass(frozen=True)
class Person:
    """A member a page offers by name."""

    id: int
    name: str


@dataclass
class Side:
    """A side of a zone (one of its member jurisdictions) and its people."""

    code: str
    name: str
    people: list[Person] = field(default_factory=list)


def sides_of(session: Session, *, member_codes: Sequence[str]) -> list[Side]:
    """The zone's sides in code order, each with its active members by name."""
    sides: dict[str, Side] = {}
    rows = session.execute(text(SIDE_PEOPLE), {"codes": sorted(member_codes)})
    for row in rows:
        side = sides.setdefault(row.side, Side(code=row.side, name=row.side_name))
        if row.member_id is not None:
            side.people.append(Person(id=row.member_id, name=row.member_name))
    return list(sides.values())
