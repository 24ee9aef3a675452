"""An upload's track summary and quality flags from its kept arrays equal those read back
from patrol_points (the path live patrols take), on the same fixes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_patrol.ingest.cleaning import CleaningRules, clean
from geo_patrol.ingest.tracks import NAT, TrackPoints
from geo_patrol.patrols import SUMMARY, store_points, summarize_kept
from geo_patrol.spatial.quality import STEPS, Steps, flag_patrol, steps_of
from tests.patrols import oracle

START = np.datetime64("2026-11-20T08:00:00", "ms")
ROW = """
SELECT ST_AsEWKB(track) AS track, started_at, ended_at, points_kept, points_raw, length_m,
       duration_s, dropped, quality_flags
FROM patrols WHERE id = :id
"""


def new_patrol(session: Session) -> int:
    """An upload patrol of a new team."""
    team = session.execute(
        text("INSERT INTO teams (name) VALUES ('paths ' || gen_random_uuid()) RETURNING id")
    )
    return int(
        session.execute(
            text("INSERT INTO patrols (team_id, source) VALUES (:t, 'upload') RETURNING id"),
            {"t": team.scalar_one()},
        ).scalar_one()
    )


def walk(n: int, *, noisy: bool) -> TrackPoints:
    """A walk of `n` fixes a second apart, with a spike, a repeated time, a fix without a time,
    one without coordinates and a 15-minute pause (`noisy`); else a perfectly regular line."""
    lons, lats = oracle.walk(120.64, 30.93, 40.0, n * 1.5)
    lons, lats = lons[:n], lats[:n]
    times = START + np.arange(n) * np.timedelta64(1000, "ms")
    if noisy:
        rng = np.random.default_rng(3)
        lons, lats = lons + rng.normal(0, 3e-6, n), lats + rng.normal(0, 3e-6, n)
        times[n // 2 :] += np.timedelta64(15, "m")
        lons[10], times[20], times[30], lons[40] = lons[10] + 0.01, times[19], NAT, np.nan
    return TrackPoints.from_arrays(lons, lats, time=times, ele=np.full(n, 3.0))


def summary(session: Session, patrol_id: int) -> dict[str, Any]:
    """The patrol's summary columns."""
    return dict(session.execute(text(ROW), {"id": patrol_id}).one()._mapping)


def assert_same(kept: dict[str, Any], stored: dict[str, Any]) -> None:
    """Equal summaries; the length to the micrometre (the kept path sums the legs in numpy,
    the SQL path asks PostGIS for the line's length on the geography)."""
    assert {**kept, "length_m": None} == {**stored, "length_m": None}
    assert kept["length_m"] == pytest.approx(stored["length_m"], abs=1e-6)


@pytest.mark.parametrize(("noisy", "flags"), [(True, ["long_gap"]), (False, ["too_regular"])])
def test_summary_and_flags_from_kept_equal_those_from_stored_points(
    session: Session, noisy: bool, flags: list[str]
) -> None:
    points = walk(300, noisy=noisy)
    cleaned = clean(points, rules=CleaningRules(), now=datetime.now(UTC))
    kept = cleaned.select(points)
    patrol = new_patrol(session)
    store_points(session, patrol_id=patrol, points=points, order=cleaned.order)
    dropped = session.execute(
        text("SELECT count(*) FROM patrol_points WHERE patrol_id = :p AND ord IS NULL "
             "AND drop_reason = 'dropped'"), {"p": patrol},
    ).scalar_one()  # fmt: skip
    assert dropped == len(points) - len(kept) - noisy  # the fix without coordinates is not kept

    session.execute(text(SUMMARY), {"patrol_id": patrol, "dropped": '{"speed_jump": 1}'})
    assert flag_patrol(session, patrol_id=patrol) == flags
    from_points = summary(session, patrol)
    from_sql = Steps(**session.execute(text(STEPS), {"patrol_id": patrol}).one()._asdict())
    session.execute(text("UPDATE patrols SET track = NULL, started_at = NULL, ended_at = NULL, "
                         "points_kept = 0, length_m = NULL, duration_s = NULL, dropped = NULL, "
                         "quality_flags = NULL WHERE id = :p"), {"p": patrol})  # fmt: skip
    summarize_kept(session, patrol_id=patrol, dropped={"speed_jump": 1}, kept=kept)
    assert flag_patrol(session, patrol_id=patrol, kept=kept) == flags
    assert_same(summary(session, patrol), from_points)
    assert from_points["points_raw"] == len(points) - noisy
    assert from_points["points_kept"] == len(kept) > 250

    from_kept = steps_of(kept)
    assert (from_kept.steps, from_kept.max_gap_s) == (from_sql.steps, from_sql.max_gap_s)
    for name in ("length_cv", "interval_cv"):
        assert getattr(from_kept, name) == pytest.approx(getattr(from_sql, name), abs=1e-9)


@pytest.mark.parametrize("n", [0, 1, 2])
def test_short_tracks_summarise_alike(session: Session, n: int) -> None:
    points = walk(n, noisy=False)
    cleaned = clean(points, rules=CleaningRules(), now=datetime.now(UTC))
    patrol = new_patrol(session)
    store_points(session, patrol_id=patrol, points=points, order=cleaned.order)
    session.execute(text(SUMMARY), {"patrol_id": patrol, "dropped": "{}"})
    from_points = summary(session, patrol)
    summarize_kept(session, patrol_id=patrol, dropped={}, kept=cleaned.select(points))
    assert_same(summary(session, patrol), from_points)
    assert (from_points["track"] is None) == (n < 2)
