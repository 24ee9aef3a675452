"""Time `geo_patrol.patrols.track.cleaning.clean` on a million fixes (run from the repo root).

    .venv/bin/python -m bench cleaning [N] [--quick]

Tracks of N fixes (default 1,000,000) a second apart, cleaned with the rules for a patrol
on foot (3 m/s): the benchmark's walk (`bench.tracks.synthetic_track`: 1.1-1.5 m/s, 3 m of
GPS noise correlated over a minute); the same walk with one fix in 1,000 thrown 5 km off
(spikes); a straight walk at 1.3 m/s with 3 m of *white* noise (a step of 4 m/s every other
second: a receiver no filter on speed alone can tell from jumps); and a car's track at
15 m/s sent as on foot, where every step is too fast. Prints the medians of three runs in
seconds and the fixes dropped as speed jumps.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Sequence
from datetime import UTC, datetime

import numpy as np

from bench.tracks import synthetic_track
from geo_patrol.patrols.track.cleaning import CleaningRules, clean
from geo_patrol.patrols.track.types import TrackPoints

START = np.datetime64("2026-01-01T00:00:00", "ms")
DEG_PER_M = 1 / 95_500  # of longitude near 30.9 N


def straight(n: int, speed_mps: float) -> TrackPoints:
    """An eastward track of `n` fixes a second apart at `speed_mps`, 3 m of white noise."""
    rng = np.random.default_rng(1)
    metres = np.arange(n) * speed_mps + rng.normal(0, 3, n)
    lon = 120.0 + metres * DEG_PER_M
    lat = 30.88 + rng.normal(0, 3, n) / 111_000
    seconds = np.arange(n, dtype=np.int64) * 1000
    return TrackPoints.from_arrays(lon, lat, time=START + seconds.astype("timedelta64[ms]"))


def walk(n: int, *, spikes: bool) -> TrackPoints:
    """The benchmark's walk, with one fix in 1,000 5 km off (`spikes`)."""
    made = synthetic_track(n, end=datetime(2026, 12, 1, tzinfo=UTC))
    lon = made.lon.copy()
    if spikes:
        lon[500::1000] += 5000 * DEG_PER_M
    return TrackPoints.from_arrays(lon, made.lat, time=made.time.astype("datetime64[ms]"))


def main(argv: Sequence[str] | None = None) -> None:
    """Print one row per track."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("fixes", nargs="?", type=int, default=1_000_000, help="fixes a track")
    parser.add_argument("--quick", action="store_true", help="100,000 fixes a track")
    args = parser.parse_args(argv)
    n = 100_000 if args.quick else args.fixes
    now = datetime(2027, 1, 1, tzinfo=UTC)
    print(f"| track ({n:,} fixes) | clean (s) | speed jumps |")
    print("|---|---:|---:|")
    for name, points in {
        "walk": walk(n, spikes=False),
        "walk, a spike in 1,000": walk(n, spikes=True),
        "straight walk, white noise": straight(n, 1.3),
        "car sent as on foot": straight(n, 15.0),
    }.items():
        times, dropped = [], 0
        for _ in range(3):
            started = time.perf_counter()
            dropped = clean(points, rules=CleaningRules(), now=now).dropped["speed_jump"]
            times.append(time.perf_counter() - started)
        print(f"| {name} | {statistics.median(times):.2f} | {dropped:,} |")


if __name__ == "__main__":
    main()
