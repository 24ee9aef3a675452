"""geo_patrol.patrols.quality.steps_of: the speed behind too_fast, and the clock's faults,
from kept fixes in the patrol's order; checked against pyproj.Geod and the times."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyproj
import pytest

from geo_patrol.patrols.quality import steps_of
from geo_patrol.patrols.track.types import NAT, TrackPoints

GEOD = pyproj.Geod(ellps="WGS84")
START = np.datetime64("2024-05-01T00:30:00", "ms")


def walk(n: int, seconds_apart: float, metres_apart: float) -> tuple[np.ndarray, np.ndarray]:
    """`n` places due east, `metres_apart` apart (pyproj.Geod.fwd), and times."""
    lon, lat = [120.65], [30.88]
    for _ in range(n - 1):
        x, y, _ = GEOD.fwd(lon[-1], lat[-1], 90.0, metres_apart)
        lon.append(x)
        lat.append(y)
    times = START + (np.arange(n) * seconds_apart * 1000).astype("timedelta64[ms]")
    return np.column_stack([lon, lat]), times


def test_speed_is_over_the_timed_part_only() -> None:
    # 40 fixes 10 m apart at 1 m/s; the first 20 lost their times (a saved track).
    places, times = walk(40, 10.0, 10.0)
    times[:20] = NAT
    steps = steps_of(TrackPoints.from_arrays(places[:, 0], places[:, 1], time=times))
    timed_metres = GEOD.line_length(places[20:, 0], places[20:, 1])  # fix 20 to 39
    assert steps.speed_mps == pytest.approx(timed_metres / 190.0, rel=1e-6)
    assert steps.speed_mps == pytest.approx(1.0, rel=1e-6)  # not the whole line over 190 s
    assert steps.partly_timed and not (steps.clock_constant or steps.clock_backwards)


@pytest.mark.parametrize(
    ("fault", "edit"),
    [
        ("clock_constant", lambda t: np.full_like(t, t[0])),
        ("clock_backwards", lambda t: np.concatenate([t[:10], t[10:] - np.timedelta64(1, "h")])),
    ],
)
def test_no_speed_from_a_broken_clock(fault: str, edit: Callable[[np.ndarray], np.ndarray]) -> None:
    places, times = walk(20, 1.0, 30.0)  # 30 m/s: too fast on foot, if the clock were right
    broken = edit(times)
    steps = steps_of(TrackPoints.from_arrays(places[:, 0], places[:, 1], time=broken))
    assert steps.speed_mps is None
    assert getattr(steps, fault) and not steps.partly_timed
    assert steps_of(TrackPoints.from_arrays(places[:, 0], places[:, 1], time=times)).speed_mps == (
        pytest.approx(30.0, rel=1e-6)
    )
