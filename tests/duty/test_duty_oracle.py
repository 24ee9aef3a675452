"""The duty oracle's coverage (UTM 51N, tests/support/duty_oracle.py) against the older
oracle of tests/support/oracle.py (covered_by_rule: azimuthal equidistant, leg by leg), on
walks along the demo's border river cut into pieces here (no database)."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
import shapely
from shapely.ops import substring

from geo_patrol.demo.load import DEMO_DATA
from tests.support.duty_oracle import Place, Track, covered_m, river_walk
from tests.support.oracle import covered_by_rule

RIVER = "R-320509-330411-01"


def border_river_in_pieces(count: int = 6) -> Place:
    """The border river from the demo file cut into `count` equal pieces (by degrees)."""
    rivers = json.loads((DEMO_DATA / "rivers.geojson").read_text(encoding="utf-8"))
    line = next(
        shapely.geometry.shape(f["geometry"])
        for f in rivers["features"]
        if f["properties"]["code"] == RIVER
    )
    cuts = np.linspace(0.0, 1.0, count + 1)
    pieces = {
        n + 1: substring(line, a, b, normalized=True)
        for n, (a, b) in enumerate(itertools.pairwise(cuts))
    }
    return Place(segments=pieces)


@pytest.mark.parametrize("seed", range(6))
def test_both_oracles_measure_the_same_coverage(seed: int) -> None:
    rng = np.random.default_rng(seed)
    place = border_river_in_pieces()
    order = sorted(place.segments)
    lon, lat = river_walk(
        place,
        order,
        start_m=float(rng.uniform(0, 3000)),
        length_m=float(rng.uniform(300, 2500)),
        offset_m=float(rng.uniform(-45, 45)),
        rng=rng,
    )
    track = Track(1, lon, lat, [], frozenset())
    theirs = covered_by_rule(lon, lat, dict(place.segments), 50.0)
    for segment_id in order:
        mine = covered_m(place, [segment_id], [track])
        assert mine == pytest.approx(theirs.get(segment_id, 0.0), abs=0.01)  # 1 cm
