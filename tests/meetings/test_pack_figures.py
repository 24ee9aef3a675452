"""The meeting pack's figures without a database: gaps joined along a river's segments."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from geo_patrol.meetings.pack_figures import summarise_gaps


def gap(
    river: str, segment: int, seq: int, length: float, start: float | None, end: float | None
) -> SimpleNamespace:
    """A row as BORDER_GAPS returns it (gap metres proportional to the fraction)."""
    metres = None if start is None or end is None else (end - start) * length
    return SimpleNamespace(
        river_code=river,
        river_name=river,
        segment_id=segment,
        seq=seq,
        length_m=length,
        gap_from=start,
        gap_to=end,
        gap_m=metres,
    )


def test_gaps_running_over_segment_ends_join_into_one_stretch() -> None:
    rows = [
        gap("A", 1, 0, 1000, 0.0, 0.2),  # 200 m
        gap("A", 1, 0, 1000, 0.5, 1.0),  # 500 m, continues into segment 2
        gap("A", 2, 1, 1000, 0.0, 0.6),  # + 600 m = 1100 m
        gap("A", 3, 2, 1000, None, None),  # fully covered: breaks the run
        gap("A", 4, 3, 1000, 0.0, 1.0),  # 1000 m
        gap("B", 5, 0, 400, 0.0, 1.0),  # another river: never joined to A
    ]
    a, b = summarise_gaps(rows)
    assert (a.code, a.length_m, a.uncovered_m, a.longest_gap_m) == ("A", 4000, 2300, 1100)
    assert a.covered_fraction == pytest.approx(1 - 2300 / 4000)
    assert (b.longest_gap_m, b.covered_fraction) == (400, 0.0)
