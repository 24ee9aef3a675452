"""Which way rivers flow, and each segment's place along the flow.

A river's line is stored as drawn; `rivers.flow` says whether the water runs the way the line
was drawn (`as_drawn`), the other way (`reversed`), or is not known (NULL). From it every
segment gets `flow_order` (0 = the most upstream segment) and `flow_start_m`: the metres of
river above the segment's upstream end, the ellipsoidal lengths of the segments above summed
along the flow. "Upstream of a point" is then arithmetic on these two columns
(geo_patrol.water.upstream). While the flow is not known both stay NULL.

A river of several parts (a MultiLineString) is taken as one course whose parts follow one
another in the order they were drawn, each drawn the same way as the whole: `as_drawn` runs
from the first vertex of the first part to the last vertex of the last part, `reversed` the
other way round. A tributary or a side channel drawn as a second part of a river would be
ordered wrongly: import it as a river of its own.
"""

from __future__ import annotations

import logging

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_patrol.core.catalog import msg
from geo_patrol.core.errors import InvalidInput, NotFound
from geo_patrol.core.vocabulary import RiverFlow

log = logging.getLogger(__name__)

# Segments are numbered by `seq` in drawing order (parts in order, pieces in order within a
# part: segments.CUT_SEGMENTS), so the order along the flow is `seq` or its reverse.
ORDER_ALONG_FLOW = """
UPDATE river_segments s
SET flow_order = o.flow_order, flow_start_m = o.flow_start_m
FROM (
    SELECT s.id,
           CASE WHEN r.flow IS NOT NULL THEN
               (row_number() OVER along - 1)::int END AS flow_order,
           CASE WHEN r.flow IS NOT NULL THEN
               coalesce(sum(s.length_m) OVER (along ROWS BETWEEN UNBOUNDED PRECEDING
                                                        AND 1 PRECEDING), 0) END AS flow_start_m
    FROM river_segments s JOIN rivers r ON r.id = s.river_id
    WHERE s.river_id = ANY(:river_ids)
    WINDOW along AS (PARTITION BY s.river_id
                     ORDER BY CASE WHEN r.flow = 'reversed' THEN -s.seq ELSE s.seq END)
) o
WHERE s.id = o.id
  AND (s.flow_order, s.flow_start_m) IS DISTINCT FROM (o.flow_order, o.flow_start_m)
"""

SET_FLOW = """
UPDATE rivers SET flow = :flow WHERE code = :code
RETURNING id, (SELECT flow FROM rivers WHERE code = :code) AS before
"""


def parse_flow(value: object, *, field: str = "flow") -> RiverFlow | None:
    """A flow as given in a file or on the command line: as_drawn, reversed, or empty/unknown
    (None); anything else is refused naming the field."""
    if value is None or (isinstance(value, str) and value.strip() in ("", "unknown")):
        return None
    word = str(value).strip().lower()
    if word not in set(RiverFlow):
        raise InvalidInput(
            msg("problem.flow.choice", value=value, choices=", ".join(RiverFlow)), field=field
        )
    return RiverFlow(word)


def order_along_flow(session: Session, *, river_ids: list[int]) -> None:
    """Recompute flow_order and flow_start_m of the given rivers' segments from their flow
    (one statement; NULL for a river whose flow is not known)."""
    if river_ids:
        session.execute(text(ORDER_ALONG_FLOW), {"river_ids": river_ids})


def set_river_flow(session: Session, *, code: str, flow: RiverFlow | None) -> bool:
    """Say which way river `code` flows (None: not known) and reorder its segments; True
    if the flow changed."""
    row = session.execute(text(SET_FLOW), {"code": code, "flow": flow}).first()
    if row is None:
        raise NotFound(msg("problem.flow.no_river", code=code), field="code")
    order_along_flow(session, river_ids=[int(row.id)])
    changed = row.before != (flow.value if flow else None)
    if changed:
        log.info("river %s: flow %s (was %s)", code, flow or "unknown", row.before or "unknown")
    return changed
