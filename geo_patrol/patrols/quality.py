"""Quality flags supervisors look at: faked or token patrols are a known problem.

too_short: under 200 m. too_fast: average speed above the mode's limit, over the part of
the track between its first and last timed fix, and only when the clock works (a stopped or
backward clock gives no speed). long_gap: ten minutes or more between consecutive timed
fixes. mocked: the app reported mock locations. too_regular: equal intervals and step
lengths within 10% of each other: a generated track, not a walk with GPS noise.
one_side_only: a joint team's patrol that never left one county.
clock_constant, clock_backwards: the device's clock stood still or went back in the file's
order (`geo_patrol.patrols.track.cleaning.clock_faults`); the fixes keep the file's order.
partly_timed: some kept fixes have a time and some do not (kept in the file's order; the
patrol's times and speed cover its timed part only).
reordered: an upload's fixes were put in time order (the file's order went back in time and
made a longer line: a phone that wrote its buffer out of order), never silently.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import text, update
from sqlalchemy.orm import Session

from geo_patrol.core.coords import leg_metres
from geo_patrol.db.tables import Patrol
from geo_patrol.patrols.partitions import day_of
from geo_patrol.patrols.track.cleaning import clock_faults
from geo_patrol.patrols.track.types import TrackPoints


@dataclass(frozen=True)
class Steps:
    """The steps between consecutive kept fixes: how many, the longest interval between
    timed fixes (seconds), how much lengths and intervals vary (coefficient of variation;
    None if undefined), the average speed over the timed part (None without a working
    clock), the clock's faults and whether only some fixes have a time."""

    steps: int
    max_gap_s: float | None
    length_cv: float | None
    interval_cv: float | None
    speed_mps: float | None = None
    clock_constant: bool = False
    clock_backwards: bool = False
    partly_timed: bool = False


FLAGS = """
WITH p AS (SELECT * FROM patrols WHERE id = :patrol_id)
SELECT
    coalesce(p.length_m, 0) < 200 AS too_short,
    coalesce(CAST(:speed_mps AS float8), 0)
        > CASE p.mode WHEN 'boat' THEN 12 WHEN 'car' THEN 40 ELSE 3 END AS too_fast,
    coalesce(CAST(:max_gap_s AS float8), 0) >= 600 AS long_gap,
    CAST(:read_mock AS boolean)
        AND EXISTS (SELECT 1 FROM patrol_points
                    WHERE patrol_id = :patrol_id AND patrol_day = :patrol_day AND mock)
        AS mocked,
    :steps >= 20 AND coalesce(CAST(:length_cv AS float8), 1) < 0.1
        AND coalesce(CAST(:interval_cv AS float8), 1) < 0.01 AS too_regular,
    EXISTS (SELECT 1 FROM teams t WHERE t.id = p.team_id AND t.zone_id IS NOT NULL)
        AND (SELECT count(*) FROM patrol_jurisdictions
             WHERE patrol_id = :patrol_id AND level = 'county') = 1 AS one_side_only,
    CAST(:clock_constant AS boolean) AS clock_constant,
    CAST(:clock_backwards AS boolean) AS clock_backwards,
    CAST(:partly_timed AS boolean) AS partly_timed,
    CAST(:reordered AS boolean) AS reordered
FROM p
"""


def _cv(values: NDArray[np.float64]) -> float | None:
    """Population standard deviation over mean (None when empty or the mean is 0)."""
    mean = float(values.mean()) if len(values) else 0.0
    return float(values.std()) / mean if mean != 0 else None


def steps_of(kept: TrackPoints) -> Steps:
    """The steps between consecutive kept fixes in the patrol's order (metres on the
    ellipsoid, as PostGIS measures them: `leg_metres`; seconds between consecutive timed
    fixes, skipping those without a time)."""
    if len(kept) < 2:
        return Steps(steps=0, max_gap_s=None, length_cv=None, interval_cv=None)
    metres = np.asarray(leg_metres(kept.lon, kept.lat), np.float64)
    timed = np.flatnonzero(~np.isnat(kept.time))
    seconds = np.diff(kept.time[timed]) / np.timedelta64(1, "s")
    faults = clock_faults(kept.time)
    return Steps(
        steps=len(kept) - 1,
        max_gap_s=float(seconds.max()) if len(seconds) else None,
        length_cv=_cv(metres),
        interval_cv=_cv(seconds),
        speed_mps=None if faults else _timed_speed(metres, timed, seconds),
        clock_constant="clock_constant" in faults,
        clock_backwards="clock_backwards" in faults,
        partly_timed=0 < len(timed) < len(kept),
    )


def _timed_speed(
    metres: NDArray[np.float64], timed: NDArray[np.int64], seconds: NDArray[np.float64]
) -> float | None:
    """Metres along the track from its first to its last timed fix over the seconds between
    them (None when no time passes)."""
    span = float(seconds.sum()) if len(seconds) else 0.0
    return float(metres[timed[0] : timed[-1]].sum()) / span if span > 0 else None


def flag_patrol(
    session: Session,
    *,
    patrol_id: int,
    kept: TrackPoints,
    read_mock: bool,
    reordered: bool = False,
) -> list[str]:
    """Compute and store the quality flags of a patrol from `kept`, its kept fixes in the
    patrol's order (`read_mock`: look for fixes the app reported as mocked among the stored
    ones; `reordered`: cleaning put an upload's fixes in time order)."""
    params = {
        "patrol_id": patrol_id,
        "patrol_day": day_of(session, patrol_id=patrol_id),
        "read_mock": read_mock,
        "reordered": reordered,
        **asdict(steps_of(kept)),
    }
    row = session.execute(text(FLAGS), params).one()
    flags = [name for name, raised in row._mapping.items() if raised]
    session.execute(update(Patrol).where(Patrol.id == patrol_id).values(quality_flags=flags))
    return flags
