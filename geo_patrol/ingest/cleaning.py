"""Clean parsed GPS track points: drop impossible, duplicate, inaccurate and jumping fixes.

Pure numpy (and pyproj for geodesic distances); no database. The checks run in this order,
each over the points still kept, and every dropped point is counted under one reason:

1. `invalid_coordinates`: NaN/inf, lon outside -180..180 or lat outside -90..90.
2. `null_island`: lon = lat = 0 (what many devices write when they have no fix).
3. `future`: a time later than `now` + `future_tolerance_s` (a wrong device clock).
4. `inaccurate`: a known horizontal accuracy worse than `max_accuracy_m` (unknown passes).
5. The points are sorted by time (stably: file order among equal times; points without a
   time keep their file order, after the timed ones).
6. `duplicate`: the same time as the previous kept point (the first in file order stays).
7. `speed_jump`: a point whose implied speed from the previous *kept* point exceeds
   `max_speed_mps`. Measuring from the previous kept point means a single spike is dropped
   and the good point after it is kept. So that a bad first fix cannot take the whole track
   with it, when the first jump comes after at most two points the pass is also run with
   those leading points dropped, and whichever pass keeps more points wins.

Points without a time skip the future, duplicate and speed checks.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import pyproj
from numpy.typing import NDArray

from geo_patrol.ingest.tracks import TrackPoints

__all__ = ["MODE_SPEEDS", "REASONS", "Cleaned", "CleaningRules", "clean"]

# Highest plausible speed (m/s) by how the patrol moves: ~11, ~43 and ~144 km/h.
MODE_SPEEDS: Mapping[str, float] = {"foot": 3.0, "boat": 12.0, "car": 40.0}
REASONS = ("invalid_coordinates", "null_island", "future", "inaccurate", "duplicate", "speed_jump")
_GEOD = pyproj.Geod(ellps="WGS84")
_NULL_ISLAND_DEG = 1e-7  # ~1 cm
_LEADING_RUN_MAX = 2  # leading points that may be a bad first fix (see the docstring)
_FIRST_BLOCK = 16  # points checked at once when looking past a spike (doubles each time)


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
    """Which points survive, their time order, and how many were dropped for each reason."""

    keep: NDArray[np.bool_]  # mask over the input points, in input order
    order: NDArray[np.int64]  # indices of the kept points in time order
    dropped: dict[str, int]  # reason -> count (every reason present, 0 if none)

    def select(self, points: TrackPoints) -> TrackPoints:
        """The kept points, in time order."""
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


def _utc_ms(now: datetime) -> np.datetime64:
    """`now` as naive UTC datetime64[ms] (a naive datetime is taken as UTC)."""
    if now.tzinfo is not None:
        now = now.astimezone(UTC).replace(tzinfo=None)
    return np.datetime64(now, "ms")


def _speeds(
    lon1: NDArray[np.float64],
    lat1: NDArray[np.float64],
    t1: NDArray[np.float64],
    lon2: NDArray[np.float64],
    lat2: NDArray[np.float64],
    t2: NDArray[np.float64],
) -> NDArray[np.float64]:
    """Geodesic speed in m/s between point pairs (times in seconds, t2 > t1)."""
    _, _, dist = _GEOD.inv(lon1, lat1, lon2, lat2)
    return np.asarray(dist, dtype=np.float64) / (t2 - t1)


@dataclass(frozen=True)
class _Track:
    """Kept timed points in time order: lon, lat and time in seconds."""

    lon: NDArray[np.float64]
    lat: NDArray[np.float64]
    t: NDArray[np.float64]

    def speeds_from(self, origin: int, start: int, stop: int) -> NDArray[np.float64]:
        """Speeds from point `origin` to each of the points start..stop-1."""
        n = stop - start
        return _speeds(
            np.full(n, self.lon[origin]),
            np.full(n, self.lat[origin]),
            np.full(n, self.t[origin]),
            self.lon[start:stop],
            self.lat[start:stop],
            self.t[start:stop],
        )

    def first_reachable(self, origin: int, start: int, vmax: float) -> int:
        """First index >= start reachable from `origin` within vmax (len if none)."""
        n, pos, block = len(self.t), start, _FIRST_BLOCK
        while pos < n:
            stop = min(n, pos + block)
            ok = np.flatnonzero(self.speeds_from(origin, pos, stop) <= vmax)
            if len(ok):
                return pos + int(ok[0])
            pos, block = stop, block * 2
        return n


def _drop_pass(track: _Track, jumps: list[int], vmax: float, skip: int) -> NDArray[np.bool_]:
    """Drop mask of one pass that starts by dropping the first `skip` points."""
    drop = np.zeros(len(track.t), dtype=bool)
    drop[:skip] = True
    last = skip
    for j in jumps:
        if j <= last:
            continue  # already checked against the right origin
        reachable = track.first_reachable(j - 1, j, vmax)
        drop[j:reachable] = True
        last = reachable
    return drop


def _speed_jumps(track: _Track, vmax: float) -> NDArray[np.bool_]:
    """Mask of points whose speed from the previous kept point exceeds vmax."""
    if len(track.t) < 2:
        return np.zeros(len(track.t), dtype=bool)
    step = _speeds(
        track.lon[:-1], track.lat[:-1], track.t[:-1], track.lon[1:], track.lat[1:], track.t[1:]
    )
    jumps = (np.flatnonzero(step > vmax) + 1).tolist()  # point j is too fast from j-1
    drop = _drop_pass(track, jumps, vmax, skip=0)
    if jumps and jumps[0] <= _LEADING_RUN_MAX:  # maybe the first fix(es) are the bad ones
        alternative = _drop_pass(track, jumps, vmax, skip=jumps[0])
        if alternative.sum() < drop.sum():
            return alternative
    return drop


def clean(points: TrackPoints, *, rules: CleaningRules, now: datetime) -> Cleaned:
    """Decide which points to keep and their time order; count the dropped by reason."""
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
    kept = np.flatnonzero(keep)
    order = kept[np.argsort(time[kept], kind="stable")]  # NaT sorts last
    sorted_times = time[order]
    same = np.zeros(len(order), dtype=bool)
    same[1:] = sorted_times[1:] == sorted_times[:-1]  # NaT never equals NaT
    drop(_mask(len(points), order[same]), "duplicate")
    order = order[~same]
    timed = order[~np.isnat(time[order])]
    seconds = time[timed].astype(np.int64) / 1000.0
    jumps = _speed_jumps(_Track(lon[timed], lat[timed], seconds), rules.max_speed_mps)
    drop(_mask(len(points), timed[jumps]), "speed_jump")
    return Cleaned(keep=keep, order=order[keep[order]].astype(np.int64), dropped=dropped)


def _mask(size: int, indices: NDArray[np.int64]) -> NDArray[np.bool_]:
    """Boolean mask of `size` with `indices` set."""
    mask = np.zeros(size, dtype=bool)
    mask[indices] = True
    return mask
