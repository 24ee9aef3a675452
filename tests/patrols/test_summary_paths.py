"""A patrol's summary and quality flags from its kept fixes, on both paths: an upload's
fixes cleaned in memory, and a live patrol's read back from patrol_points and cleaned there
(clean_stored). Checked against the input walk (numpy, pyproj.Geod) and PostGIS."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np
import pyproj
import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_patrol.core.settings import Settings
from geo_patrol.patrols.quality import flag_patrol
from geo_patrol.patrols.track.cleaning import CleaningRules, clean
from geo_patrol.patrols.track.types import NAT, TrackPoints
from geo_patrol.patrols.upload import clean_stored, store_points, summarize_kept
from tests.support import oracle

GEOD = pyproj.Geod(ellps="WGS84")

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


def assert_summary_of(row: dict[str, Any], kept: TrackPoints, *, raw: int) -> None:
    """The summary a walk's kept fixes call for, computed here from the fixes themselves."""
    timed = kept.time[~np.isnat(kept.time)]
    assert (row["points_raw"], row["points_kept"]) == (raw, len(kept))
    assert row["started_at"] == timed.min().astype(datetime).replace(tzinfo=UTC)
    assert row["ended_at"] == timed.max().astype(datetime).replace(tzinfo=UTC)
    assert row["duration_s"] == pytest.approx((timed.max() - timed.min()) / np.timedelta64(1, "s"))
    geodesic = GEOD.line_length(kept.lon, kept.lat) if len(kept) >= 2 else 0.0
    assert row["length_m"] == pytest.approx(geodesic, abs=1e-3)
    assert row["dropped"] == {"speed_jump": 1}


@pytest.mark.parametrize(
    ("noisy", "flags"), [(True, ["long_gap", "partly_timed"]), (False, ["too_regular"])]
)
def test_summary_and_flags_of_an_upload_and_of_live_positions(
    session: Session, noisy: bool, flags: list[str]
) -> None:
    points = walk(300, noisy=noisy)
    cleaned = clean(points, rules=CleaningRules(), now=datetime.now(UTC))
    kept = cleaned.select(points)
    patrol = new_patrol(session)
    store_points(session, patrol_id=patrol, points=points, order=cleaned.order)
    raw = len(points) - noisy  # the fix without coordinates is not stored
    dropped = session.execute(
        text(
            "SELECT count(*) FROM patrol_points WHERE patrol_id = :p AND ord IS NULL "
            "AND drop_reason = 'dropped'"
        ),
        {"p": patrol},
    ).scalar_one()
    assert dropped == raw - len(kept)

    # An upload: the kept fixes at hand.
    summarize_kept(session, patrol_id=patrol, dropped={"speed_jump": 1}, kept=kept)
    assert flag_patrol(session, patrol_id=patrol, kept=kept, read_mock=False) == flags
    upload = summary(session, patrol)
    assert_summary_of(upload, kept, raw=raw)
    assert len(kept) > 250
    stored_length = session.execute(
        text("SELECT ST_Length(track::geography) FROM patrols WHERE id = :p"), {"p": patrol}
    ).scalar_one()
    assert upload["length_m"] == pytest.approx(stored_length, abs=1e-6)

    # Live positions: the same fixes read back from patrol_points and cleaned there.
    _, again, stored = clean_stored(session, patrol_id=patrol, settings=Settings())
    assert stored == raw and len(again) == len(kept)
    np.testing.assert_array_equal(again.lon, kept.lon)
    np.testing.assert_array_equal(again.time, kept.time)
    summarize_kept(
        session, patrol_id=patrol, dropped={"speed_jump": 1}, kept=again, points_raw=stored
    )
    assert flag_patrol(session, patrol_id=patrol, kept=again, read_mock=True) == flags
    assert summary(session, patrol) == upload


@pytest.mark.parametrize("n", [0, 1, 2])
def test_short_tracks_summarise(session: Session, n: int) -> None:
    points = walk(n, noisy=False)
    cleaned = clean(points, rules=CleaningRules(), now=datetime.now(UTC))
    patrol = new_patrol(session)
    store_points(session, patrol_id=patrol, points=points, order=cleaned.order)
    summarize_kept(session, patrol_id=patrol, dropped={}, kept=cleaned.select(points))
    row = summary(session, patrol)
    assert (row["track"] is None) == (n < 2)
    assert (row["points_kept"], row["length_m"]) == (
        n,
        pytest.approx(GEOD.line_length(points.lon, points.lat) if n >= 2 else 0.0, abs=1e-3),
    )
