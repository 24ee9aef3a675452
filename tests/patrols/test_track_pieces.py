"""Track pieces, their EWKB lines and leg lengths, checked against shapely and pyproj."""

from __future__ import annotations

import itertools

import numpy as np
import pyproj
import pytest
import shapely

from geo_patrol.core.coords import leg_metres
from geo_patrol.db.bulk import ewkb_lines
from geo_patrol.patrols.track.times import epoch_millis, from_epoch_millis
from geo_patrol.patrols.track_pieces import Pieces


@pytest.mark.parametrize("fixes", [0, 1, 2, 5, 9, 10, 11, 100])
def test_every_leg_is_in_exactly_one_piece(fixes: int) -> None:
    pieces = Pieces.of(fixes, 4)
    legs = [
        (int(a), int(b))
        for group in pieces.groups
        for row in group
        for a, b in itertools.pairwise(row)
    ]
    assert sorted(legs) == [(i, i + 1) for i in range(max(fixes - 1, 0))]
    assert pieces.count == -(-max(fixes - 1, 0) // 4)
    if fixes > 1:
        starts = np.concatenate([group[:, 0] for group in pieces.groups])
        assert (pieces.piece_of_fix()[starts] == np.arange(pieces.count)).all()


def test_fixes_of_pieces_are_their_rows_both_ends_included() -> None:
    pieces = Pieces.of(11, 4)  # rows 0-4, 4-8, 8-10
    assert pieces.fixes_of(np.array([1])).tolist() == [4, 5, 6, 7, 8]
    assert pieces.fixes_of(np.array([0, 2])).tolist() == [0, 1, 2, 3, 4, 8, 9, 10]
    assert pieces.fixes_of(np.array([], np.int64)).tolist() == []


def test_ewkb_lines_are_the_lines_shapely_reads() -> None:
    rng = np.random.default_rng(3)
    lon, lat = 120.5 + rng.random(7) / 100, 30.8 + rng.random(7) / 100
    rows = ewkb_lines(lon, lat, np.array([[0, 1, 2], [2, 3, 4], [4, 5, 6]]))
    for row, first in zip(rows, (0, 2, 4), strict=True):
        line = shapely.from_wkb(row.tobytes())
        assert shapely.get_srid(line) == 4326
        expected = np.column_stack([lon[first : first + 3], lat[first : first + 3]])
        assert np.array_equal(shapely.get_coordinates(line), expected)


def test_leg_metres_agree_with_geodesics() -> None:
    rng = np.random.default_rng(5)
    # Walking legs of up to ~15 m near the demo region, and a few long ones anywhere.
    lon = np.r_[120.6 + np.cumsum(rng.normal(0, 1e-4, 500)), [10.0, 10.5, -70.0, -70.2]]
    lat = np.r_[30.85 + np.cumsum(rng.normal(0, 1e-4, 500)), [60.0, 60.3, -45.0, -45.1]]
    _, _, geodesic = pyproj.Geod(ellps="WGS84").inv(lon[:-1], lat[:-1], lon[1:], lat[1:])
    ours = leg_metres(lon, lat)
    walking = slice(0, 499)
    assert np.abs(ours[walking] - geodesic[walking]).max() < 1e-6
    long_legs = [500, 502]  # ~36 km and ~20 km legs: still well inside 0.01 %
    assert np.all(np.abs(ours[long_legs] - geodesic[long_legs]) / geodesic[long_legs] < 1e-4)


def test_ewkb_lines_with_measures_are_linestring_m() -> None:
    lon, lat = np.array([120.0, 120.1, 120.2]), np.array([30.0, 30.1, 30.2])
    seconds = np.array([1.7e9, 1.7e9 + 1, np.nan])
    row = ewkb_lines(lon, lat, np.array([[0, 1, 2]]), seconds)[0]
    line = shapely.from_wkb(row.tobytes())
    assert shapely.get_srid(line) == 4326
    assert shapely.has_m(line)
    xym = shapely.get_coordinates(line, include_m=True)
    assert np.array_equal(xym[:, :2], np.column_stack([lon, lat]))
    assert xym[0, 2] == seconds[0] and xym[1, 2] == seconds[1] and np.isnan(xym[2, 2])


def test_epoch_millis_round_trip_keeps_unknown_times_unknown() -> None:
    times = np.array(["1969-12-31T23:59:59.5", "NaT", "2026-11-27T08:00:00.123"], "datetime64[ms]")
    millis = epoch_millis(times)
    assert millis[0] == -500.0 and np.isnan(millis[1]) and millis[2] == 1795766400123.0
    back = from_epoch_millis(millis)
    assert back[0] == times[0] and np.isnat(back[1]) and back[2] == times[2]
