"""River coverage exactly as docs/gis/rules.md states the rule ("stretches within 50 m of the
track"), against an independent buffer: shapely in an azimuthal equidistant projection
centred on the track, measured by pyproj.Geod (`oracle.covered_by_rule`). The tracks run
along the longest straight edge of a demo river, near the 50 m edge of the rule."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import numpy as np
import pytest
import shapely
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_patrol.patrols.coverage import capsule_intervals, cover_patrol
from geo_patrol.patrols.track.types import TrackPoints
from geo_patrol.patrols.track_pieces import store_track_pieces
from tests.support import oracle
from tests.support.uploads import upload_as_admin

DISTANCE_M = 50.0
TOLERANCE_M = 0.1
START = np.datetime64(datetime(2026, 11, 20, 4, tzinfo=UTC).replace(tzinfo=None), "ms")


@pytest.fixture
def patrol_id(demo_client: TestClient, demo_session: Session) -> int:
    """A patrol to hang coverage on (a short walk; each computation replaces its coverage)."""
    lons, lats = oracle.walk(*oracle.straight_border()[:2], 0.0, 30.0)
    return upload_as_admin(
        demo_client, demo_session, oracle.gpx(lons, lats, oracle.times(len(lons)))
    )


def segments_near(
    session: Session, lon: np.ndarray, lat: np.ndarray
) -> dict[int, shapely.Geometry]:
    """The river segments near the track (their stored lines: the data, not our answers)."""
    rows = session.execute(
        text(
            "SELECT id, ST_AsBinary(geom) FROM river_segments "
            "WHERE geom && ST_MakeEnvelope(:w, :s, :e, :n, 4326)"
        ),
        {
            "w": lon.min() - 0.01,
            "s": lat.min() - 0.01,
            "e": lon.max() + 0.01,
            "n": lat.max() + 0.01,
        },
    )
    return {int(i): shapely.from_wkb(bytes(wkb)) for i, wkb in rows}


def ours(session: Session, patrol_id: int, lon: np.ndarray, lat: np.ndarray) -> dict[int, float]:
    """Covered metres per segment as cover_patrol stores them for this track."""
    when = START + np.timedelta64(1000, "ms") * np.arange(len(lon))
    kept = TrackPoints.from_arrays(lon, lat, time=when)
    pieces = store_track_pieces(session, kept=kept)
    cover_patrol(session, patrol_id=patrol_id, pieces=pieces, kept=kept, distance_m=DISTANCE_M)
    rows = session.execute(
        text("SELECT segment_id, covered_m FROM patrol_coverage WHERE patrol_id = :p"),
        {"p": patrol_id},
    )
    return {int(i): float(m) for i, m in rows}


def assert_covered_like_buffer(
    session: Session, patrol_id: int, lon: np.ndarray, lat: np.ndarray
) -> dict[int, float]:
    """Ours within TOLERANCE_M of the independent buffer on every segment; the oracle's."""
    segments = segments_near(session, lon, lat)
    expected = oracle.covered_by_rule(lon, lat, segments, DISTANCE_M)
    got = ours(session, patrol_id, lon, lat)
    for segment_id in set(got) | set(expected):
        difference = got.get(segment_id, 0.0) - expected.get(segment_id, 0.0)
        assert abs(difference) <= TOLERANCE_M, (segment_id, got, expected)
    return expected


def zigzag(
    length_m: float, near_m: float, far_m: float, step_m: float
) -> list[tuple[float, float]]:
    """A walk alongside the river, `length_m` long, its fixes alternately `near_m` and
    `far_m` from it (a receiver's wobble), starting and ending far."""
    n = int(length_m / step_m) // 2 * 2 + 1
    along = np.linspace(-length_m / 2, length_m / 2, n)
    return [(a, near_m if k % 2 else far_m) for k, a in enumerate(along)]


def lonlat(fixes: list[tuple[float, float]]) -> tuple[np.ndarray, np.ndarray]:
    """lon/lat of (along, offset) fixes."""
    along, offset = np.array(fixes, np.float64).T
    return oracle.along_river(along, offset)


def test_track_49_85_m_from_a_401_m_stretch_covers_it(
    demo_session: Session, patrol_id: int
) -> None:
    # The fixes wobble 0.6 m, the nearest 49.85 m from the river: every point of the 401 m
    # stretch is within 50 m of one of them (a 1 m simplification of the track drew the line
    # through the far ones, over 50 m away).
    lon, lat = lonlat(zigzag(401.0, 49.85, 50.45, 2.0))
    expected = assert_covered_like_buffer(demo_session, patrol_id, lon, lat)
    assert 401 < sum(expected.values()) < 410


def test_track_5_mm_within_the_distance_covers_the_stretch(
    demo_session: Session, patrol_id: int
) -> None:
    # 49.995 m on the ground is 50.0045 m in UTM zone 51N here (scale 1.00019): measured in
    # the zone's metres unscaled, only the round ends of the reach would count.
    lon, lat = oracle.beside_river(49.995, 401.0, 1.5)
    expected = assert_covered_like_buffer(demo_session, patrol_id, lon, lat)
    assert 401 < sum(expected.values()) < 403


def test_track_just_beyond_the_distance_covers_nothing(
    demo_session: Session, patrol_id: int
) -> None:
    lon, lat = lonlat(zigzag(401.0, 50.05, 50.45, 2.0))
    assert ours(demo_session, patrol_id, lon, lat) == {}


@st.composite
def walks(draw: st.DrawFn) -> list[tuple[float, float]]:
    """A walk of 2 to 6 legs near the 50 m edge on one side of the river (or across it),
    its fixes 0.5 to 4 m apart with a wobble of up to 1 m."""
    side = draw(st.sampled_from([-1.0, 1.0]))
    near = st.one_of(st.floats(49.0, 51.0), st.floats(0.0, 120.0))
    waypoints = [
        (draw(st.floats(-300, 300)), side * draw(near)) for _ in range(draw(st.integers(2, 6)))
    ]
    step = draw(st.floats(0.5, 4.0))
    wobble = draw(st.floats(0.0, 1.0))
    fixes: list[tuple[float, float]] = []
    for (a0, o0), (a1, o1) in itertools.pairwise(waypoints):
        n = max(1, int(np.hypot(a1 - a0, o1 - o0) / step))
        t = np.arange(n) / n
        fixes += list(zip(a0 + (a1 - a0) * t, o0 + (o1 - o0) * t, strict=True))
    fixes.append(waypoints[-1])
    seed = draw(st.integers(0, 2**31))
    noise = np.random.default_rng(seed).uniform(-wobble, wobble, size=(len(fixes), 2))
    return [(a + x, o + y) for (a, o), (x, y) in zip(fixes, noise, strict=True)]


@settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(fixes=walks())
def test_coverage_is_the_buffer_of_the_stated_distance(
    demo_session: Session, patrol_id: int, fixes: list[tuple[float, float]]
) -> None:
    lon, lat = lonlat(fixes)
    segments = segments_near(demo_session, lon, lat)
    # Where 2 mm more or less distance moves the answer by the tolerance or more (the
    # river grazing the edge of the reach), the case is too close to call.
    edges = [oracle.covered_by_rule(lon, lat, segments, DISTANCE_M + e) for e in (-0.002, 0.002)]
    assume(all(abs(edges[1].get(k, 0) - edges[0].get(k, 0)) < TOLERANCE_M for k in segments))
    assert_covered_like_buffer(demo_session, patrol_id, lon, lat)


coordinates = st.floats(-200, 200)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    edge=st.tuples(coordinates, coordinates, coordinates, coordinates),
    leg=st.tuples(coordinates, coordinates, coordinates, coordinates),
    reach=st.floats(1.0, 100.0),
)
def test_capsule_interval_is_the_edge_inside_the_legs_buffer(
    edge: tuple[float, float, float, float], leg: tuple[float, float, float, float], reach: float
) -> None:
    # The interval the coverage solves for, against shapely's buffer of the leg (no database).
    line = shapely.LineString([edge[:2], edge[2:]])
    assume(line.length > 0.01)

    def by_shapely(r: float) -> float:
        capsule = shapely.LineString([leg[:2], leg[2:]]).buffer(r, quad_segs=128)
        if leg[:2] == leg[2:]:
            capsule = shapely.Point(leg[:2]).buffer(r, quad_segs=128)
        return float(shapely.intersection(line, capsule).length)

    assume(abs(by_shapely(reach + 0.001) - by_shapely(reach - 0.001)) < 0.01)
    lo, hi = capsule_intervals(np.array([edge]), np.array([leg]), np.array([reach]))
    got = max(0.0, min(hi[0], 1.0) - max(lo[0], 0.0)) * line.length
    assert abs(got - by_shapely(reach)) < 0.01
