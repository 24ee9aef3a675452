"""geo_patrol.patrols.track.cleaning: every drop reason, spikes, ordering and duplicates."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone

import numpy as np
import pyproj
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray

from geo_patrol.patrols.track.cleaning import (
    MAX_JUMP_RUN,
    MODE_SPEEDS,
    REASONS,
    CleaningRules,
    clean,
    clock_faults,
)
from geo_patrol.patrols.track.types import TrackPoints

NOW = datetime(2024, 5, 1, 1, 0, tzinfo=UTC)
START = np.datetime64("2024-05-01T00:30:00", "ms")
FOOT = CleaningRules()
# ~10 m east per step near 30.88 N: 0.0001 deg of longitude is 9.55 m.
STEP_DEG = 0.0001
GEOD = pyproj.Geod(ellps="WGS84")


def _times(seconds: Sequence[float | None]) -> NDArray[np.datetime64]:
    """datetime64[ms] at START + seconds (None -> NaT)."""
    return np.array(
        [
            np.datetime64("NaT", "ms") if s is None else START + np.timedelta64(int(s * 1000), "ms")
            for s in seconds
        ],
        dtype="datetime64[ms]",
    )


def _walk(seconds: Sequence[float | None], **kwargs: object) -> TrackPoints:
    """Points stepping east one STEP_DEG per 10 s of their time (1 m/s on foot)."""
    lon = kwargs.pop("lon", None)
    if lon is None:
        lon = [120.65 + (0 if s is None else s / 10) * STEP_DEG for s in seconds]
    lat = kwargs.pop("lat", [30.88] * len(seconds))
    return TrackPoints.from_arrays(lon, lat, time=_times(seconds), **kwargs)  # type: ignore[arg-type]


def test_each_drop_reason_is_counted() -> None:
    lon = [120.65, np.nan, 0.0, 120.6501, 120.6502, 120.6501, 120.6501, 120.67, 120.6502]
    lat = [30.88, 30.88, 0.0, 30.88, 30.88, 30.88, 30.88, 30.88, 30.88]
    seconds = [0, 5, 6, 7200, 8, 10, 10, 20, 30]  # index 3 is two hours ahead of NOW-30 min
    accuracy = [5, 5, 5, 5, 500, 5, 5, 5, 5]
    points = TrackPoints.from_arrays(lon, lat, time=_times(seconds), accuracy_m=accuracy)
    result = clean(points, rules=FOOT, now=NOW)
    assert result.dropped == {
        "invalid_coordinates": 1,  # 1: NaN
        "null_island": 1,  # 2: (0, 0)
        "future": 1,  # 3: 02:30 when it is 01:00
        "inaccurate": 1,  # 4: 500 m
        "duplicate": 1,  # 6: same time as 5
        "speed_jump": 1,  # 7: 1.9 km in 10 s
    }
    assert set(result.dropped) == set(REASONS)
    assert result.keep.tolist() == [True, False, False, False, False, True, False, False, True]
    assert result.order.tolist() == [0, 5, 8]
    assert result.order.dtype == np.int64


def test_single_spike_is_dropped_and_the_next_good_point_kept() -> None:
    seconds = [0, 10, 20, 30, 40]
    lon = [120.65 + i * STEP_DEG for i in range(5)]
    lon[2] = 120.70  # ~4.8 km away for one fix
    result = clean(_walk(seconds, lon=lon), rules=FOOT, now=NOW)
    assert result.keep.tolist() == [True, True, False, True, True]
    assert result.dropped["speed_jump"] == 1


def test_consecutive_spikes_are_all_dropped() -> None:
    lon = [120.65 + i * STEP_DEG for i in range(8)]
    lon[3] = lon[4] = lon[5] = 120.70  # multipath: three fixes at the same wrong place
    result = clean(_walk([i * 10 for i in range(8)], lon=lon), rules=FOOT, now=NOW)
    assert result.keep.tolist() == [True, True, True, False, False, False, True, True]
    assert result.dropped["speed_jump"] == 3


@pytest.mark.parametrize("bad", [1, 2])
def test_a_bad_first_fix_does_not_take_the_track_with_it(bad: int) -> None:
    lon = [120.65 + i * STEP_DEG for i in range(10)]
    lon[:bad] = [120.60] * bad  # cold start: the first fix(es) ~5 km off
    result = clean(_walk([i * 10 for i in range(10)], lon=lon), rules=FOOT, now=NOW)
    assert result.keep.tolist() == [False] * bad + [True] * (10 - bad)
    assert result.dropped["speed_jump"] == bad


def test_spike_right_after_the_first_point_drops_the_spike() -> None:
    lon = [120.65 + i * STEP_DEG for i in range(6)]
    lon[1] = lon[2] = 120.70  # two bad fixes after a good first one
    result = clean(_walk([i * 10 for i in range(6)], lon=lon), rules=FOOT, now=NOW)
    assert result.keep.tolist() == [True, False, False, True, True, True]


def test_slow_after_a_long_gap_is_not_a_jump() -> None:
    lon = [120.65, 120.6501, 120.66, 120.6601]  # 950 m between 10 s and 1 h
    result = clean(_walk([0, 10, 3600, 3610], lon=lon), rules=FOOT, now=NOW + timedelta(hours=2))
    assert result.keep.all()


def test_a_clock_that_steps_back_keeps_the_file_order() -> None:
    # The places run on in the file's order; the clock steps back an hour after the third.
    lon = [120.65 + i * STEP_DEG for i in range(6)]
    points = _walk([0, 10, 20, 30 - 3600, 40 - 3600, 50 - 3600], lon=lon)
    result = clean(points, rules=FOOT, now=NOW)
    assert result.keep.all() and not result.reordered
    assert result.order.tolist() == [0, 1, 2, 3, 4, 5]
    assert clock_faults(result.select(points).time) == ["clock_backwards"]


def test_a_buffer_written_out_of_order_is_put_in_time_order_and_says_so() -> None:
    # Three blocks of 20 fixes 10 s (~10 m) apart, the last block first: where the time
    # goes back the place jumps 380 m too, so the places run on in time, not in the file.
    seconds = [10 * i for block in (2, 1, 0) for i in range(20 * block, 20 * block + 20)]
    points = _walk(seconds)
    result = clean(points, rules=FOOT, now=NOW)
    assert result.keep.all() and result.reordered
    assert result.order.tolist() == [*range(40, 60), *range(20, 40), *range(20)]
    assert clock_faults(result.select(points).time) == []
    live = clean(points, rules=FOOT, now=NOW, order="time")
    assert live.order.tolist() == result.order.tolist() and not live.reordered
    # A mere swap (no jump in place) stays: a clock fault, not a broken file.
    swapped = clean(_walk([0, 10, 30, 20, 40]), rules=FOOT, now=NOW)
    assert swapped.order.tolist() == [0, 1, 2, 3, 4] and not swapped.reordered
    # Fixes without a time in the file: never re-sorted.
    mixed = clean(_walk([*seconds, None]), rules=FOOT, now=NOW)
    assert mixed.order.tolist() == list(range(61)) and not mixed.reordered


def test_duplicates_are_removed_once() -> None:
    points = _walk([0, 10, 10, 20, 10, 30])  # three points at 10 s: the first one stays
    result = clean(points, rules=FOOT, now=NOW)
    assert result.dropped["duplicate"] == 2
    assert result.keep.tolist() == [True, True, False, True, False, True]
    assert result.order.tolist() == [0, 1, 3, 5]


def test_points_without_time_keep_file_order_and_skip_time_checks() -> None:
    lon = [120.65, 120.80, 120.6501, 120.6501]  # a 14 km jump and a repeated position
    points = TrackPoints.from_arrays(lon, [30.88] * 4)
    result = clean(points, rules=FOOT, now=NOW)
    assert result.keep.all()
    assert result.order.tolist() == [0, 1, 2, 3]
    assert sum(result.dropped.values()) == 0


def test_mixed_timed_and_untimed_points_keep_the_file_order() -> None:
    points = _walk([None, None, 0, 10, None, 20])  # untimed first, one in between
    result = clean(points, rules=FOOT, now=NOW)
    assert result.order.tolist() == [0, 1, 2, 3, 4, 5]
    shuffled = _walk([None, 20, None, 0])  # live: the timed ones sorted, the others stay
    assert clean(shuffled, rules=FOOT, now=NOW, order="time").order.tolist() == [0, 3, 2, 1]


def test_future_tolerance_and_clock() -> None:
    points = _walk([1800 + 200, 1800 + 400])  # NOW + 200 s and NOW + 400 s
    assert clean(points, rules=FOOT, now=NOW).keep.tolist() == [True, False]
    beijing = NOW.astimezone(timezone(timedelta(hours=8)))
    assert clean(points, rules=FOOT, now=beijing).keep.tolist() == [True, False]
    naive_utc = NOW.replace(tzinfo=None)
    assert clean(points, rules=FOOT, now=naive_utc).keep.tolist() == [True, False]


def test_unknown_accuracy_passes() -> None:
    points = _walk([0, 10, 20], accuracy_m=[np.nan, 100.0, 100.5])
    assert clean(points, rules=FOOT, now=NOW).keep.tolist() == [True, True, False]


def test_modes() -> None:
    assert MODE_SPEEDS == {"foot": 3.0, "boat": 12.0, "car": 40.0}
    assert CleaningRules.for_mode("boat").max_speed_mps == 12.0
    assert CleaningRules.for_mode("car", max_accuracy_m=30).max_accuracy_m == 30
    # 100 m out in 10 s and back: a jump on foot, fine in a boat.
    points = _walk([0, 10, 20], lon=[120.65, 120.65 + 10 * STEP_DEG, 120.65 + 0.1 * STEP_DEG])
    assert clean(points, rules=FOOT, now=NOW).dropped["speed_jump"] == 1
    assert clean(points, rules=CleaningRules.for_mode("boat"), now=NOW).keep.all()
    with pytest.raises(ValueError, match="unknown mode"):
        CleaningRules.for_mode("plane")


def test_empty_and_single_point() -> None:
    empty = TrackPoints.from_arrays([], [])
    result = clean(empty, rules=FOOT, now=NOW)
    assert result.order.tolist() == [] and sum(result.dropped.values()) == 0
    assert clean(_walk([0]), rules=FOOT, now=NOW).order.tolist() == [0]


def test_long_track_with_spikes() -> None:
    n = 100_000
    seconds = np.arange(n) * 1.0
    lon = 120.65 + seconds * (STEP_DEG / 10)
    spikes = np.arange(500, n, 1000)
    lon[spikes] += 0.05  # ~5 km off, one fix each
    points = TrackPoints.from_arrays(
        lon, np.full(n, 30.88), time=START + (seconds * 1000).astype("timedelta64[ms]")
    )
    result = clean(points, rules=FOOT, now=datetime(2024, 5, 3, tzinfo=UTC))
    assert result.dropped["speed_jump"] == len(spikes)
    assert not result.keep[spikes].any()
    assert result.keep.sum() == n - len(spikes)


def test_duplicate_is_same_time_and_same_place() -> None:
    lon = [120.65, 120.6501, 120.6502, 120.6501, 120.6501]
    seconds = [0, 10, 10, 10, 20]  # 2: same time as 1 elsewhere; 3: same time and place as 1
    points = _walk(seconds, lon=lon)
    result = clean(points, rules=FOOT, now=NOW)
    assert result.dropped["duplicate"] == 1
    assert result.keep.tolist() == [True, True, True, False, True]


def test_constant_clock_keeps_every_fix_in_file_order() -> None:
    n = 12
    lon = [120.65 + i * STEP_DEG for i in range(n)]  # a walk whose clock stood still
    points = _walk([0] * n, lon=lon)
    result = clean(points, rules=FOOT, now=NOW)
    assert result.keep.all() and sum(result.dropped.values()) == 0
    assert result.order.tolist() == list(range(n))
    assert clock_faults(result.select(points).time) == ["clock_constant"]


def test_clock_faults() -> None:
    assert clock_faults(_times([0, 10, 20])) == []
    assert clock_faults(_times([0, 0])) == ["clock_constant"]
    assert clock_faults(_times([0, 0, 1, 1, 2])) == []  # two fixes a second: not stopped
    assert clock_faults(_times([0, 5, 5, 5, 9])) == ["clock_constant"]
    assert clock_faults(_times([0, 10, 5, 15])) == ["clock_backwards"]
    assert clock_faults(_times([None, 3, None, 3, 3, 1])) == ["clock_constant", "clock_backwards"]
    assert clock_faults(_times([None, 5])) == []


def test_a_fast_track_is_not_a_string_of_jumps() -> None:
    # A car at ~10 m/s uploaded as on foot: every step is too fast, none is a jump out and
    # back; the track keeps all its fixes (the too_fast flag tells the supervisor).
    lon = [120.65 + i * 10 * STEP_DEG for i in range(30)]
    result = clean(_walk([i * 10 for i in range(30)], lon=lon), rules=FOOT, now=NOW)
    assert result.keep.all()


@pytest.mark.parametrize("bad", [3, MAX_JUMP_RUN])
def test_a_cold_start_of_several_fixes_is_dropped_and_no_more(bad: int) -> None:
    n = 20
    lon = [120.65 + i * STEP_DEG for i in range(n)]
    lon[:bad] = [120.60 + i * STEP_DEG for i in range(bad)]  # consistent, but 5 km off
    result = clean(_walk([i * 10 for i in range(n)], lon=lon), rules=FOOT, now=NOW)
    assert result.keep.tolist() == [False] * bad + [True] * (n - bad)


def test_a_bad_last_fix_is_dropped() -> None:
    lon = [120.65 + i * STEP_DEG for i in range(10)]
    lon[-1] = 120.70
    result = clean(_walk([i * 10 for i in range(10)], lon=lon), rules=FOOT, now=NOW)
    assert result.keep.tolist() == [True] * 9 + [False]


def test_two_spikes_apart_from_each_other_are_both_dropped() -> None:
    lon = [120.65 + i * STEP_DEG for i in range(8)]
    lon[3], lon[4] = 120.70, 120.60  # 5 km east, then 5 km west
    result = clean(_walk([i * 10 for i in range(8)], lon=lon), rules=FOOT, now=NOW)
    assert result.keep.tolist() == [True, True, True, False, False, True, True, True]


def test_a_long_excursion_is_kept() -> None:
    # More fixes away than MAX_JUMP_RUN: not a glitch, kept as it is (judged by too_fast).
    n, away = 20, MAX_JUMP_RUN + 1
    lon = [120.65 + i * STEP_DEG for i in range(n)]
    lon[5 : 5 + away] = [120.70] * away
    result = clean(_walk([i * 10 for i in range(n)], lon=lon), rules=FOOT, now=NOW)
    assert result.keep.all()


def test_speeds_over_untimed_fixes_and_broken_clocks_are_not_judged() -> None:
    # 14 km apart at one time: no speed can be told, nothing is a jump.
    points = _walk([0, 0, 10, 10], lon=[120.65, 120.80, 120.8001, 120.65])
    assert clean(points, rules=FOOT, now=NOW).keep.all()
    # A spike among timed fixes is found across untimed ones.
    lon = [120.65, 120.6501, 120.6502, 120.70, 120.6503, 120.6504, 120.6505]
    points = _walk([0, None, 20, 30, None, 50, 60], lon=lon)
    assert clean(points, rules=FOOT, now=NOW).keep.tolist() == [True] * 3 + [False] + [True] * 3


@settings(max_examples=150, deadline=None, derandomize=True)
@given(
    n=st.integers(min_value=2 * MAX_JUMP_RUN + 3, max_value=60),
    data=st.data(),
)
def test_one_outlier_anywhere_costs_one_fix(n: int, data: st.DataObject) -> None:
    # A walk at 0.2..2 m/s every 5..30 s in any direction, one fix 1..50 km off anywhere:
    # exactly that fix is dropped, the first, the last or any other.
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed"))
    seconds = np.concatenate([[0.0], np.cumsum(rng.uniform(5, 30, n - 1))])
    speed = rng.uniform(0.2, 2.0, n - 1)
    heading = rng.uniform(0, 360, n - 1)
    lon, lat = [120.65], [30.88]
    for step in range(n - 1):
        dist = speed[step] * (seconds[step + 1] - seconds[step])
        x, y, _ = GEOD.fwd(lon[-1], lat[-1], heading[step], dist)
        lon.append(x)
        lat.append(y)
    bad = data.draw(st.integers(0, n - 1), label="bad")
    lon[bad], lat[bad], _ = GEOD.fwd(
        lon[bad],
        lat[bad],
        data.draw(st.floats(0, 360), label="azimuth"),
        data.draw(st.floats(1000, 50_000), label="metres"),
    )
    points = TrackPoints.from_arrays(lon, lat, time=_times(seconds.tolist()))
    result = clean(points, rules=FOOT, now=NOW)
    assert np.flatnonzero(~result.keep).tolist() == [bad]
    assert result.dropped["speed_jump"] == 1


def test_a_patrol_that_starts_fast_keeps_its_first_fixes() -> None:
    # Running at 4 m/s for two fixes, then walking: too fast on foot, but the first fixes
    # are within reach of the fixes a little later, so they are no cold-start glitch.
    seconds = [0, 5, 10, 20, 30, 40, 50, 60, 70, 80, 90]
    east = [0, 20, 40, 50, 60, 70, 80, 90, 100, 110, 120]  # metres
    lon = [120.65 + m / 9.55 * STEP_DEG for m in east]
    result = clean(_walk(seconds, lon=lon), rules=FOOT, now=NOW)
    assert result.keep.all()


@settings(max_examples=200, deadline=None, derandomize=True)
@given(
    steps=st.lists(
        st.tuples(st.one_of(st.none(), st.integers(-3600, 3600)), st.integers(-30, 30)),
        min_size=1,
        max_size=40,
    ),
)
def test_a_file_is_never_reordered_silently(steps: list[tuple[int | None, int]]) -> None:
    # Any mix of fixes with and without times, clocks that stand or go back, places that
    # wander: the kept fixes are in the file's order unless `reordered` says otherwise, and
    # then every kept fix has a time and they are in time order.
    seconds: list[float | None] = []
    lon, clock, east = [], 0, 0
    for jump, metres in steps:
        clock += 0 if jump is None else jump
        east += metres
        seconds.append(None if jump is None else clock)
        lon.append(120.65 + east / 9.55 * STEP_DEG)
    points = _walk(seconds, lon=lon)
    result = clean(points, rules=FOOT, now=NOW + timedelta(days=10))  # none in the future
    order = result.order.tolist()
    if not result.reordered:
        assert order == sorted(order)
    else:
        kept = result.select(points).time
        assert not np.isnat(kept).any() and (np.diff(kept.astype(np.int64)) >= 0).all()
    # Duplicates are fixes at the time and place of an earlier one, and only those.
    seen: set[tuple[float, float]] = set()
    duplicates = 0
    for when, where in zip(seconds, lon, strict=True):
        duplicates += when is not None and (when, where) in seen
        if when is not None:
            seen.add((when, where))
    assert result.dropped["duplicate"] == duplicates
