"""Which subdivided pieces answer "the jurisdictions containing a point" at a moment.

`jurisdiction_parts` hold every version of every jurisdiction, one set of pieces per level:
a point lies in one part per level. `jurisdiction_leaves` hold, for the versions in force
now, only the area none of a jurisdiction's children covers: a point lies in about one
leaf, the lowest level there. The leaves are right for any moment after the last boundary
change (a version starting or ending); before that, only the parts are.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import text
from sqlalchemy.orm import Session

LEAVES_SINCE = "SELECT max(greatest(valid_from, valid_to)) FROM jurisdictions"


class BoundaryPieces(StrEnum):
    """The two tables of subdivided boundary pieces (each row: jurisdiction_id, geom)."""

    LEAVES = "jurisdiction_leaves"
    PARTS = "jurisdiction_parts"


def lowest_level_pieces(session: Session, *, at: datetime | None) -> BoundaryPieces:
    """The table whose lowest-ranked match is the lowest level at `at` (None: now)."""
    since = session.execute(text(LEAVES_SINCE)).scalar()
    if since is None or at is None or since <= at:
        return BoundaryPieces.LEAVES
    return BoundaryPieces.PARTS
