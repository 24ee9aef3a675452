"""Quality flags supervisors look at: faked or token patrols are a known problem.

too_short: under 200 m. too_fast: average speed above the mode's limit. long_gap: ten
minutes or more between consecutive fixes. mocked: the app reported mock locations.
too_regular: equal intervals and step lengths within 10% of each other: a generated
track, not a walk with GPS noise.
one_side_only: a joint team's patrol that never left one county.
"""

from __future__ import annotations

import json

from sqlalchemy import text
from sqlalchemy.orm import Session

FLAGS = """
WITH p AS (SELECT * FROM patrols WHERE id = :patrol_id),
steps AS (
    SELECT ST_Distance(a.geom::geography, b.geom::geography) AS m,
           extract(epoch FROM b.time - a.time) AS s
    FROM patrol_points a
    JOIN patrol_points b ON b.patrol_id = a.patrol_id AND b.ord = a.ord + 1
    WHERE a.patrol_id = :patrol_id
),
stats AS (
    SELECT count(*) AS n, max(s) AS max_gap, stddev_pop(m) / nullif(avg(m), 0) AS m_cv,
           stddev_pop(s) / nullif(avg(s), 0) AS s_cv
    FROM steps
)
SELECT
    coalesce(p.length_m, 0) < 200 AS too_short,
    coalesce(p.length_m / nullif(p.duration_s, 0), 0)
        > CASE p.mode WHEN 'boat' THEN 12 WHEN 'car' THEN 40 ELSE 3 END AS too_fast,
    coalesce(stats.max_gap, 0) >= 600 AS long_gap,
    EXISTS (SELECT 1 FROM patrol_points WHERE patrol_id = :patrol_id AND mock) AS mocked,
    stats.n >= 20 AND coalesce(stats.m_cv, 1) < 0.1 AND coalesce(stats.s_cv, 1) < 0.01
        AS too_regular,
    EXISTS (SELECT 1 FROM teams t WHERE t.id = p.team_id AND t.zone_id IS NOT NULL)
        AND (SELECT count(*) FROM patrol_jurisdictions
             WHERE patrol_id = :patrol_id AND level = 'county') = 1 AS one_side_only
FROM p, stats
"""


def flag_patrol(session: Session, *, patrol_id: int) -> list[str]:
    """Compute and store the quality flags of a patrol."""
    row = session.execute(text(FLAGS), {"patrol_id": patrol_id}).one()
    flags = [name for name, raised in row._mapping.items() if raised]
    session.execute(
        text("UPDATE patrols SET quality_flags = CAST(:flags AS jsonb) WHERE id = :id"),
        {"flags": json.dumps(flags), "id": patrol_id},
    )
    return flags
