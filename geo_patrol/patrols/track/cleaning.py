"""Clean parsed GPS track points: drop impossible, duplicate, inaccurate and jumping fixes.

Pure numpy (distances on the WGS84 ellipsoid: `_metres`); no database. The checks run in
this order, each over the points still kept, and every dropped point is counted under one
reason:

1. `invalid_coordinates`: NaN/inf, lon outside -180..180 or lat outside -90..90.
2. `null_island`: lon = lat = 0 (what many devices write when they have no fix).
3. `future`: a time later than `now` + `future_tolerance_s` (a wrong device clock).
4. `inaccurate`: a known horizontal accuracy worse than `max_accuracy_m` (unknown passes).
5. The order: an uploaded file's fixes stay in the **file's order** (`order="file"`): a
   device writes its fixes as it records them, and a file that mixes fixes with and without
   times, or whose clock stands still or steps back, has no better order to offer. One
   exception, never silent: when every kept fix has a time, and wherever the time goes
   back the place jumps too (over 100 m and ten median steps), and the fixes in time order
   make a shorter line (a phone that wrote its buffer out of order: the places run on in
   time, not in the file), they are put in time order and `Cleaned.reordered` is set (the
   `reordered` flag). Else the clock is what went back (the `clock_backwards` flag).
   Live positions arrive in batches, late ones after newer ones, so they are put in time
   order (`order="time"`; stable; a fix without a time keeps its place).
6. `duplicate`: the same time **and** the same place (equal coordinates) as an earlier kept
   fix, anywhere in the file (the first stays). Fixes without a time are never duplicates,
   nor are fixes at one time in different places (a stopped clock: see `clock_faults`).
7. `speed_jump`: a short run of fixes (at most `MAX_JUMP_RUN`) that the track jumps out to
   and back from: the step into the run and the step out of it are both faster than
   `max_speed_mps`, while the fixes on either side of it are within that speed of each
   other, and the run has fewer fixes than the consistent stretches (no step too fast) on
   its two sides together. A fix is judged against its neighbours on both sides, never
   only against the last kept one, so one bad fix cannot make every later fix a jump, and
   a track that is simply fast (a car uploaded as on foot) keeps its fixes (the `too_fast`
   flag tells).
   At the two ends, where a run has a neighbour on one side only, the first (last) fixes,
   at most `MAX_JUMP_RUN`, are jumps when the consistent stretch after (before) them is
   longer than they are and than `MAX_JUMP_RUN`, and is out of reach from them over its
   `MAX_JUMP_RUN` + 1 fixes nearest to them: a bad first fix, or a device's cold start (a
   patrol that merely starts fast is no jump: its first fixes are within reach of the
   fixes a little later).

Speeds are measured between timed fixes in the chosen order; a step whose time does not
advance has no speed and is never judged (a broken clock cannot make jumps). Points without
a time skip the future, duplicate and speed checks.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

import numpy as np
import pyproj
from numpy.typing import NDArray

from geo_patrol.patrols.track.types import TrackPoints

__all__ = [
    "CLOCK_FAULTS",
    "MAX_JUMP_RUN",
    "MODE_SPEEDS",
    "REASONS",
    "Cleaned",
    "CleaningRules",
    "clean",
    "clock_faults",
]

# Highest plausible speed (m/s) by how the patrol moves: ~11, ~43 and ~144 km/h.
MODE_SPEEDS: Mapping[str, float] = {"foot": 3.0, "boat": 12.0, "car": 40.0}
REASONS = ("invalid_coordinates", "null_island", "future", "inaccurate", "duplicate", "speed_jump")
# The most fixes in a row that the speed filter drops for one jump out and back.
MAX_JUMP_RUN = 5
# A stopped clock: this many timed fixes in a row at one time (or all of them, if fewer).
STOPPED_CLOCK_RUN = 3
CLOCK_FAULTS = ("clock_constant", "clock_backwards")
Order = Literal["file", "time"]
_GEOD = pyproj.Geod(ellps="WGS84")
_NULL_ISLAND_DEG = 1e-7  # ~1 cm
# Where a file's time goes back, a jump in place of more than this (and this many median
# steps) says the file's order is what is broken, not the clock.
_SEAM_JUMP_M = 100.0
_SEAM_JUMP_STEPS = 10


@dataclass(frozen=True)
class CleaningRules:
    """Thresholds for `clean`; the default speed is for a patrol on foot."""

    max_speed_mps: float = MODE_SPEEDS["foot"]
    max_accuracy_m: float = 100.0
    future_tolerance_s: float = 300.0

    @classmethod
    def for_mode(cls, mode: str, **overrides: float) -> CleaningRules:
        """Rules with the max speed of a travel mode ("foot", "boat", "car")."""
        if mode not in MODE_SPEEDS:
            raise ValueError(f"unknown mode {mode!r}; expected one of {', '.join(MODE_SPEEDS)}")
        return cls(**{"max_speed_mps": MODE_SPEEDS[mode], **overrides})


@dataclass(frozen=True, eq=False)
class Cleaned:
    """Which points survive, their order, and how many were dropped for each reason."""

    keep: NDArray[np.bool_]  # mask over the input points, in input order
    order: NDArray[np.int64]  # indices of the kept points in the patrol's order
    dropped: dict[str, int]  # reason -> count (every reason present, 0 if none)
    reordered: bool = False  # a file's fixes put in time order (see the module docstring)

    def select(self, points: TrackPoints) -> TrackPoints:
        """The kept points, in the patrol's order."""
        idx = self.order
        return TrackPoints(
            lon=points.lon[idx],
            lat=points.lat[idx],
            time=points.time[idx],
            ele=points.ele[idx],
            accuracy_m=points.accuracy_m[idx],
            hdop=points.hdop[idx],
            segment=points.segment[idx],
        )


def clock_faults(time: NDArray[np.datetime64]) -> list[str]:
    """The device clock faults seen in kept fixes in their order (fixes without a time are
    skipped): `clock_backwards` when a time is earlier than the one before it,
    `clock_constant` when `STOPPED_CLOCK_RUN` timed fixes in a row, or all of at least two,
    carry one time (the duplicates, same time and place, were dropped: these are fixes at
    one time in different places)."""
    timed = time[~np.isnat(time)].astype(np.int64)
    if len(timed) < 2:
        return []
    steps = np.diff(timed)
    faults = []
    stopped = steps == 0
    run = STOPPED_CLOCK_RUN - 1  # zero steps in a row
    if stopped.all() or (len(stopped) >= run and _longest_true_run(stopped) >= run):
        faults.append("clock_constant")
    if (steps < 0).any():
        faults.append("clock_backwards")
    return faults


def _longest_true_run(mask: NDArray[np.bool_]) -> int:
    """Length of the longest run of True in `mask`."""
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    return int((stops - starts).max()) if len(starts) else 0


def _utc_ms(now: datetime) -> np.datetime64:
    """`now` as naive UTC datetime64[ms] (a naive datetime is taken as UTC)."""
    if now.tzinfo is not None:
        now = now.astimezone(UTC).replace(tzinfo=None)
    return np.datetime64(now, "ms")


def _metres(
    lon1: NDArray[np.float64],
    lat1: NDArray[np.float64],
    lon2: NDArray[np.float64],
    lat2: NDArray[np.float64],
) -> NDArray[np.float64]:
    """Distance on the WGS84 ellipsoid by the local radii of curvature at the mean latitude
    (as `geo_patrol.core.coords.leg_metres`, the longitude difference wrapped): within 1e-6 of
    the geodesic up to 10 km and 1e-4 up to 100 km, twenty times faster."""
    phi = np.radians((lat1 + lat2) / 2)
    w = 1 - _GEOD.es * np.sin(phi) ** 2
    east = _GEOD.a / np.sqrt(w) * np.cos(phi) * np.radians((lon2 - lon1 + 180) % 360 - 180)
    north = _GEOD.a * (1 - _GEOD.es) / w**1.5 * np.radians(lat2 - lat1)
    return np.asarray(np.hypot(east, north), dtype=np.float64)


@dataclass(frozen=True)
class _Track:
    """Kept timed points in the patrol's order: lon, lat and time in seconds."""

    lon: NDArray[np.float64]
    lat: NDArray[np.float64]
    t: NDArray[np.float64]

    def speeds(self, a: NDArray[np.int64], b: NDArray[np.int64]) -> NDArray[np.float64]:
        """Speed in m/s from points `a` to points `b`; NaN where the time does not advance
        (no speed can be told)."""
        dist = _metres(self.lon[a], self.lat[a], self.lon[b], self.lat[b])
        dt = self.t[b] - self.t[a]
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(dt > 0, dist / dt, np.nan)


def _first_exits(
    track: _Track, fast: NDArray[np.int64], vmax: float
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """The too-fast steps s (from point s to s + 1) that a run can be dropped after, and for
    each the nearest too-fast step e after it, at most MAX_JUMP_RUN points on, such that
    points s and e + 1 are within vmax of each other: points s+1..e are then a jump out and
    back. Both sorted by s."""
    entries, exits = [], []
    for gap in range(1, MAX_JUMP_RUN + 1):
        near = fast[gap:] - fast[:-gap] <= MAX_JUMP_RUN
        entries.append(fast[:-gap][near])
        exits.append(fast[gap:][near])
    entry, leave = np.concatenate(entries), np.concatenate(exits)
    plausible = track.speeds(entry, leave + 1) <= vmax  # NaN: no
    entry, leave = entry[plausible], leave[plausible]
    by_entry = np.lexsort((leave, entry))  # by entry, then the nearest exit first
    entry, leave = entry[by_entry], leave[by_entry]
    first = np.ones(len(entry), dtype=bool)
    first[1:] = entry[1:] != entry[:-1]
    return entry[first], leave[first]


def _drop_excursions(
    track: _Track, fast: NDArray[np.int64], vmax: float, drop: NDArray[np.bool_]
) -> NDArray[np.int64]:
    """Drop the runs that jump out and back (see `_first_exits`), the shortest first from
    the start, when they have fewer fixes than the consistent stretches on their two sides
    together; return the too-fast steps left unexplained, between two kept points."""
    entries, exits = _first_exits(track, fast, vmax)
    # The consistent stretch after each run: up to the next too-fast step (or the end).
    after = np.searchsorted(fast, exits, side="right")
    ends = np.append(fast, len(track.t) - 1)
    rights = ends[after] - exits
    # The last too-fast step before each entry (-1: none): where its left stretch starts.
    before = np.searchsorted(fast, entries) - 1
    previous = np.where(before >= 0, fast[np.maximum(before, 0)], -1)
    starts, stops = [], []
    done, left_break, left_dropped = -1, -1, 0
    for s, e, right, prior in zip(
        entries.tolist(), exits.tolist(), rights.tolist(), previous.tolist(), strict=True
    ):
        if s <= done:
            continue  # inside, or the way out of, a run already dropped
        if prior > done and prior > left_break:  # an unexplained step since: a new stretch
            left_break, left_dropped = prior, 0
        if e - s < (s - left_break - left_dropped) + right:
            drop[s + 1 : e + 1] = True
            starts.append(s)
            stops.append(e)
            left_dropped += e - s
            done = e
        else:
            left_break, left_dropped = s, 0
    # The too-fast steps outside every dropped run's way in, through and out are left.
    run = np.searchsorted(np.array(starts, dtype=np.int64), fast, side="right") - 1
    inside = (run >= 0) & (fast <= np.array([*stops, -1], dtype=np.int64)[run])
    return fast[~inside]


def _drop_ends(
    track: _Track, breaks: NDArray[np.int64], vmax: float, drop: NDArray[np.bool_]
) -> None:
    """Drop a run of at most MAX_JUMP_RUN fixes at either end when the consistent stretch
    next to it is longer than it and than MAX_JUMP_RUN, and none of that stretch's
    MAX_JUMP_RUN + 1 fixes nearest to the run, nor the first fix beyond the stretch (the
    stretch may be an excursion), is within reach of the run's fix nearest to them."""
    bounds = np.concatenate([[0], breaks + 1, [len(drop)]])  # stretches between them
    kept_before = np.concatenate([[0], np.cumsum(~drop)])
    sizes = kept_before[bounds[1:]] - kept_before[bounds[:-1]]

    def kept(stretch: int) -> NDArray[np.int64]:
        """The kept points of a stretch."""
        a, b = int(bounds[stretch]), int(bounds[stretch + 1])
        return np.flatnonzero(~drop[a:b]) + a

    def out_of_reach(fix: int, others: NDArray[np.int64]) -> bool:
        """Whether none of `others` is within vmax of `fix` (either way in time)."""
        ahead = track.speeds(np.full(len(others), fix), others)
        behind = track.speeds(others, np.full(len(others), fix))
        return not bool(((ahead <= vmax) | (behind <= vmax)).any())

    near, none = MAX_JUMP_RUN + 1, np.zeros(0, dtype=np.int64)
    first, outside = 0, 0
    for p in range(1, len(sizes)):
        outside += int(sizes[p - 1])
        if outside > MAX_JUMP_RUN:
            break
        if sizes[p] > max(outside, MAX_JUMP_RUN):
            beyond = kept(p + 1)[:1] if p + 1 < len(sizes) else none
            if out_of_reach(int(kept(p - 1)[-1]), np.concatenate([kept(p)[:near], beyond])):
                drop[: bounds[p]] = True
                first = p
            break
    outside = 0
    for q in range(len(sizes) - 2, first - 1, -1):
        outside += int(sizes[q + 1])
        if outside > MAX_JUMP_RUN:
            break
        if sizes[q] > max(outside, MAX_JUMP_RUN):
            beyond = kept(q - 1)[-1:] if q > first else none
            if out_of_reach(int(kept(q + 1)[0]), np.concatenate([kept(q)[-near:], beyond])):
                drop[bounds[q + 1] :] = True
            break


def _speed_jumps(track: _Track, vmax: float) -> NDArray[np.bool_]:
    """Mask of the points that are speed jumps (see the module docstring)."""
    drop = np.zeros(len(track.t), dtype=bool)
    if len(track.t) < 2:
        return drop
    steps = np.arange(len(track.t) - 1)
    fast = np.flatnonzero(track.speeds(steps, steps + 1) > vmax)  # NaN: not judged
    if len(fast):
        _drop_ends(track, _drop_excursions(track, fast, vmax, drop), vmax, drop)
    return drop


def _duplicates(
    lon: NDArray[np.float64],
    lat: NDArray[np.float64],
    time: NDArray[np.datetime64],
    candidates: NDArray[np.int64],
) -> NDArray[np.int64]:
    """The candidates (indices in file order) with the same time and place as an earlier
    one; points without a time are never duplicates."""
    timed = candidates[~np.isnat(time[candidates])]
    by_key = timed[np.lexsort((lat[timed], lon[timed], time[timed].astype(np.int64)))]
    same = np.zeros(len(by_key), dtype=bool)  # lexsort is stable: the first of each stays
    same[1:] = (
        (time[by_key][1:] == time[by_key][:-1])
        & (lon[by_key][1:] == lon[by_key][:-1])
        & (lat[by_key][1:] == lat[by_key][:-1])
    )
    return by_key[same]


def clean(
    points: TrackPoints, *, rules: CleaningRules, now: datetime, order: Order = "file"
) -> Cleaned:
    """Decide which points to keep and their order (the file's, or time for live positions);
    count the dropped by reason."""
    lon, lat, time = points.lon, points.lat, points.time
    keep = np.ones(len(points), dtype=bool)
    dropped = dict.fromkeys(REASONS, 0)

    def drop(mask: NDArray[np.bool_], reason: str) -> None:
        hit = keep & mask
        dropped[reason] += int(hit.sum())
        keep[hit] = False

    with np.errstate(invalid="ignore"):
        drop(~((np.abs(lon) <= 180) & (np.abs(lat) <= 90)), "invalid_coordinates")
        drop((np.abs(lon) < _NULL_ISLAND_DEG) & (np.abs(lat) < _NULL_ISLAND_DEG), "null_island")
        limit = _utc_ms(now) + np.timedelta64(round(rules.future_tolerance_s * 1000), "ms")
        drop(~np.isnat(time) & (time > limit), "future")
        drop(points.accuracy_m > rules.max_accuracy_m, "inaccurate")
    drop(_mask(len(points), _duplicates(lon, lat, time, np.flatnonzero(keep))), "duplicate")
    kept = np.flatnonzero(keep)
    by_time = _time_order(time, kept)
    reordered = order == "file" and _reorder(lon, lat, time, kept, by_time)
    if order == "time" or reordered:
        kept = by_time
    timed = kept[~np.isnat(time[kept])]
    seconds = time[timed].astype(np.int64) / 1000.0
    jumps = _speed_jumps(_Track(lon[timed], lat[timed], seconds), rules.max_speed_mps)
    drop(_mask(len(points), timed[jumps]), "speed_jump")
    order_kept = kept[keep[kept]].astype(np.int64)
    return Cleaned(keep=keep, order=order_kept, dropped=dropped, reordered=reordered)


def _time_order(time: NDArray[np.datetime64], kept: NDArray[np.int64]) -> NDArray[np.int64]:
    """`kept` with its timed points sorted by time among their places (stably); the points
    without a time stay where they are."""
    result = kept.copy()
    timed_places = ~np.isnat(time[kept])
    timed = kept[timed_places]
    result[timed_places] = timed[np.argsort(time[timed], kind="stable")]
    return result


def _reorder(
    lon: NDArray[np.float64],
    lat: NDArray[np.float64],
    time: NDArray[np.datetime64],
    kept: NDArray[np.int64],
    by_time: NDArray[np.int64],
) -> bool:
    """Whether a file's kept points should be put in time order: all have a time, the times
    go back, at every step where they go back the place jumps too (further than
    `_SEAM_JUMP_M` and `_SEAM_JUMP_STEPS` median steps), and the line in time order is
    shorter than in the file's order. A clock that steps back while the places run on is a
    clock fault, and the file's order stays."""
    times = time[kept]
    if len(kept) < 3 or np.isnat(times).any():
        return False
    back = np.flatnonzero(np.diff(times) < np.timedelta64(0))
    if not len(back):
        return False
    steps = _metres(lon[kept][:-1], lat[kept][:-1], lon[kept][1:], lat[kept][1:])
    jump = max(_SEAM_JUMP_M, _SEAM_JUMP_STEPS * float(np.median(steps)))
    if not (steps[back] > jump).all():
        return False
    ordered = _metres(lon[by_time][:-1], lat[by_time][:-1], lon[by_time][1:], lat[by_time][1:])
    return float(ordered.sum()) < float(steps.sum())


def _mask(size: int, indices: NDArray[np.int64]) -> NDArray[np.bool_]:
    """Boolean mask of `size` with `indices` set."""
    mask = np.zeros(size, dtype=bool)
    mask[indices] = True
    return mask
