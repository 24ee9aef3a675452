"""Border crossings exactly as docs/gis/rules.md states the rule, replayed independently.

The tracks cross the longest straight edge of the demo's county border, which every level
from province to grid shares. Our attribution (the real SQL on the real database) is
compared with `oracle.crossings_by_rule`: sides by shapely, metres by pyproj.Geod,
clearances in an azimuthal equidistant projection (not the UTM zone the service uses).
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from geo_patrol.patrols.attribution import attribute
from geo_patrol.patrols.track.types import TrackPoints
from tests.support import oracle

LEVELS = ("province", "city", "county", "town", "village", "grid")
WUJIANG, XIUZHOU = "320509", "330411"
START = np.datetime64(datetime(2026, 11, 20, 2, tzinfo=UTC).replace(tzinfo=None), "ms")
STEP = np.timedelta64(1000, "ms")
# Our metres (local radii) and clearances (UTM) differ from the oracle's (Geod, local
# azimuthal projection) by millimetres; a case this close to a threshold is not judged.
EDGE_M = 0.02

Crossings = list[tuple[str, int, str, str]]  # level, first fix on the new side, from, to
Found = tuple[str, str, str, float]  # level, from, to, seconds after the first fix


def walk(*waypoints: tuple[float, float], step_m: float = 1.5) -> list[tuple[float, float]]:
    """Fixes every `step_m` (or closer, to land on every waypoint) along straight lines
    between (along, offset) waypoints on the border frame (`oracle.across_border`)."""
    fixes = [waypoints[0]]
    for (a0, o0), (a1, o1) in itertools.pairwise(waypoints):
        n = max(1, int(np.ceil(np.hypot(a1 - a0, o1 - o0) / step_m)))
        fixes += [(a0 + (a1 - a0) * i / n, o0 + (o1 - o0) * i / n) for i in range(1, n + 1)]
    return fixes


def lonlat(fixes: list[tuple[float, float]]) -> tuple[np.ndarray, np.ndarray]:
    """lon/lat of (along, offset) fixes."""
    along, offset = np.array(fixes, np.float64).T
    return oracle.across_border(along, offset)


def ours(session: Session, lon: np.ndarray, lat: np.ndarray, **rules: float) -> list[Found]:
    """Crossings found by attribution, each with its time in seconds from the first fix
    (fixes are 1 s apart, so a crossing on the leg into fix k is at k - 1 to k)."""
    when = START + STEP * np.arange(len(lon))
    found = attribute(session, TrackPoints.from_arrays(lon, lat, time=when), **rules)
    got = []
    for crossing in found.crossings:
        assert crossing.at is not None  # the fixes are timed
        seconds = (np.datetime64(crossing.at.replace(tzinfo=None), "ms") - START) / STEP
        got.append((crossing.level, crossing.from_code, crossing.to_code, seconds))
    return sorted(got, key=lambda x: (x[0], x[3]))


def by_rule(lon: np.ndarray, lat: np.ndarray, **rules: float) -> Crossings:
    """Crossings at every level by `oracle.crossings_by_rule`."""
    return sorted(
        (level, first, a, b)
        for level in LEVELS
        for first, a, b in oracle.crossings_by_rule(lon, lat, level, **rules)
    )


def county(crossings: Crossings) -> list[tuple[str, str]]:
    """The county crossings, from and to."""
    return [(a, b) for level, _, a, b in crossings if level == "county"]


def county_runs(lon: np.ndarray, lat: np.ndarray) -> list[oracle.RuleRun]:
    """The oracle's runs at the county level."""
    return oracle.runs_by_rule(lon, lat, "county")


def assert_same(session: Session, lon: np.ndarray, lat: np.ndarray) -> Crossings:
    """Ours are the rule's at every level, each on the leg into the rule's first fix of the
    new side; the rule's crossings."""
    expected = by_rule(lon, lat)
    got = ours(session, lon, lat)
    assert [x[:3] for x in got] == [(level, a, b) for level, _, a, b in expected], (got, expected)
    for (_, _, _, seconds), (_, first, _, _) in zip(got, expected, strict=True):
        assert first - 1 <= seconds <= first, (got, expected)
    return expected


# The cases.


def test_short_excursion_with_one_fix_clear_is_a_crossing(demo_session: Session) -> None:
    # Firmly in Wujiang, 32 m into Xiuzhou where only one fix is 15.8 m clear (placed where
    # an even sample of 12 fixes of the run would not look), then firmly back.
    rise = [(-100 + 0.12 * i, -1.0 + 16.8 / 11 * i) for i in range(12)]  # to 15.8 m clear
    down = walk((-98.5, 15.8), (-97, -1.5), (-97, -40))
    fixes = walk((-400, -40), (-100, -1.0)) + rise[1:] + down[1:]
    lon, lat = lonlat(fixes)
    runs = [run for run in county_runs(lon, lat) if run[0] == XIUZHOU]
    assert len(runs) == 1 and 30 < runs[0][3] < 35 and abs(runs[0][4] - 15.8) < 0.05
    clear = [k for k in range(len(fixes)) if fixes[k][1] >= 15]
    assert len(clear) == 1  # one fix clear of the line, the others short of 15 m
    assert county(assert_same(demo_session, lon, lat)) == [(WUJIANG, XIUZHOU), (XIUZHOU, WUJIANG)]


def test_run_under_300_m_reaching_24_m_clear_is_a_crossing(demo_session: Session) -> None:
    # 248 m in Xiuzhou, 10 m from the line but for one narrow spike 24 m clear.
    fixes = walk(
        (-330, -40),
        (-300, -1),
        (-290, 10),
        (-194, 10),
        (-193, 24),
        (-192, 10),
        (-96, 10),
        (-86, -1),
        (-86, -40),
    )
    lon, lat = lonlat(fixes)
    runs = [run for run in county_runs(lon, lat) if run[0] == XIUZHOU]
    assert len(runs) == 1 and 240 < runs[0][3] < 256 and abs(runs[0][4] - 24) < 0.05
    assert county(assert_same(demo_session, lon, lat)) == [(WUJIANG, XIUZHOU), (XIUZHOU, WUJIANG)]


def test_start_10_m_inside_then_442_m_across_is_one_crossing(demo_session: Session) -> None:
    # The side a patrol starts on is its side: no run before it to have jittered from.
    fixes = walk((0, -10), (0, 0.5), (150, 120), (300, 200), (330, 275))
    lon, lat = lonlat(fixes)
    runs = county_runs(lon, lat)
    assert [run[0] for run in runs] == [WUJIANG, XIUZHOU]
    assert runs[0][3] < 15 and 440 < runs[1][3] < 450
    assert county(assert_same(demo_session, lon, lat)) == [(WUJIANG, XIUZHOU)]


def test_short_start_back_to_the_same_side_is_no_crossing(demo_session: Session) -> None:
    # Starting 5 m in Wujiang, hopping over the line and back, then 400 m in Wujiang.
    fixes = walk((0, -5), (5, 6), (10, -5), (10, -100), (300, -300))
    lon, lat = lonlat(fixes)
    assert county(assert_same(demo_session, lon, lat)) == []


@pytest.mark.parametrize(
    ("end", "crossings"),
    [
        # The last side is judged like every other: 10 m over the line at the very end is
        # not firm (GPS jitter at a post on the line looks the same).
        (((0, -1), (0, 10)), []),
        # ...but 30 m with a fix 16 m clear is.
        (((0, -1), (0, 16), (0, 0.5)), [(WUJIANG, XIUZHOU)]),
    ],
)
def test_last_run_is_judged_like_the_others(
    demo_session: Session, end: tuple[tuple[float, float], ...], crossings: list[tuple[str, str]]
) -> None:
    fixes = walk((-300, -40), (-20, -20), *end)
    lon, lat = lonlat(fixes)
    assert county(assert_same(demo_session, lon, lat)) == crossings


# Around each threshold: runs near 25 m and 300 m, clearances near 15 m, starts near the line.

EXAMPLES = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@st.composite
def excursions(draw: st.DrawFn) -> list[tuple[float, float]]:
    """Firmly in Wujiang, an excursion into Xiuzhou (depth near 15 m, length near 25 m or
    300 m along the line), and back or not."""
    length = draw(st.one_of(st.floats(8, 20), st.floats(20, 150), st.floats(250, 300)))
    depth = draw(st.one_of(st.floats(12, 18), st.floats(1, 40)))
    peak = draw(st.floats(0.0, 1.0))  # where along the excursion its deepest fix lies
    start = -length / 2 - 20
    waypoints = [
        (start - 100, -60.0),
        (start, -draw(st.floats(0.5, 8))),
        (start + 2, 3.0),
        (start + 2 + peak * length, depth),
        (start + 4 + length, 3.0),
    ]
    if draw(st.booleans()):  # back to Wujiang, firmly
        waypoints += [(start + 6 + length, -2.0), (start + 6 + length, -60.0)]
    return walk(*waypoints, step_m=draw(st.floats(0.7, 3.0)))


@st.composite
def starts(draw: st.DrawFn) -> list[tuple[float, float]]:
    """A patrol starting a few metres on one side, then a walk of some length to the other."""
    inside = draw(st.floats(-25, 25))
    to = -np.sign(inside) * draw(st.floats(0.5, 40))
    length = draw(st.one_of(st.floats(10, 60), st.floats(250, 320)))
    waypoints = [(0.0, inside), (4.0, to), (4.0 + length, to)]
    if draw(st.booleans()):  # and back over the line at the end, for a while
        waypoints.append((8.0 + length, inside + draw(st.floats(-30, 30))))
    return walk(*waypoints, step_m=draw(st.floats(0.7, 3.0)))


def judge(session: Session, fixes: list[tuple[float, float]]) -> None:
    """Ours equals the rule's, unless a run is within EDGE_M of a threshold."""
    lon, lat = lonlat(fixes)
    for run in county_runs(lon, lat):
        assume(all(abs(run[3] - edge) > EDGE_M for edge in (25.0, 300.0)))
        assume(abs(run[4] - 15.0) > EDGE_M)
    assert_same(session, lon, lat)


@EXAMPLES
@given(fixes=excursions())
def test_excursions_follow_the_rule(
    demo_session: Session, fixes: list[tuple[float, float]]
) -> None:
    judge(demo_session, fixes)


@EXAMPLES
@given(fixes=starts())
def test_starts_and_ends_follow_the_rule(
    demo_session: Session, fixes: list[tuple[float, float]]
) -> None:
    judge(demo_session, fixes)
