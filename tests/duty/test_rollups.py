"""Roll-ups and the trend over hand-made duties (no database): counts and shares checked
against numbers worked out by hand."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from geo_patrol.core.vocabulary import ChiefLevel, DutyPeriod, DutyStatus
from geo_patrol.duty.assessment import ChiefDuty, IncidentTally
from geo_patrol.duty.periods import Period, period_of
from geo_patrol.duty.rollups import Dimension, Tally, current_of, rollup, rollups, tally, trend

DEKAD = period_of(DutyPeriod.DEKAD, date(2026, 12, 5))
MONTH = period_of(DutyPeriod.MONTH, date(2026, 12, 5))


def duty(
    status: DutyStatus,
    *,
    side: str = "320509100",
    county: str | None = "320509",
    level: ChiefLevel = ChiefLevel.TOWN,
    zones: tuple[int, ...] = (),
    river: str = "R1",
    period: Period = DEKAD,
    appointment: int = 1,
) -> ChiefDuty:
    """A chief's duty with only what the roll-ups read set."""
    return ChiefDuty(
        appointment_id=appointment,
        member_id=appointment,
        member_name=f"chief {appointment}",
        level=level,
        side_code=side,
        side_name=f"side {side}",
        county_code=county,
        river_code=river,
        river_name=f"river {river}",
        stretch_label=None,
        segment_ids=[1],
        stretch_m=1000.0,
        joint_id=None,
        zone_ids=list(zones),
        period=period,
        required=0 if status is DutyStatus.NOT_DUE else 1,
        done=1 if status is DutyStatus.MET else 0,
        status=status,
        covered_share=0.0,
        last_patrol_at=None,
        candidates=[],
        incidents=IncidentTally(),
        min_share=0.3,
        min_length_m=None,
    )


MET, MISSED, GOING, NOT_DUE = (
    DutyStatus.MET,
    DutyStatus.MISSED,
    DutyStatus.IN_PROGRESS,
    DutyStatus.NOT_DUE,
)


def test_a_tally_leaves_out_chiefs_who_owe_nothing() -> None:
    counted = tally([duty(MET), duty(MISSED), duty(GOING), duty(NOT_DUE), duty(MET)])
    assert counted == Tally(assessed=4, met=2, missed=1, in_progress=1)
    assert counted.share == 0.5
    assert tally([duty(NOT_DUE)]).share is None
    assert tally([]) == Tally()


def test_roll_ups_per_side_county_level_zone_and_river() -> None:
    duties = [
        duty(MET, side="320509100", zones=(1,), river="R1", appointment=1),
        duty(MISSED, side="320509100", zones=(1, 2), river="R2", appointment=2),
        duty(MET, side="320509101", level=ChiefLevel.VILLAGE, river="R1", appointment=3),
        duty(GOING, side="330411100", county="330411", zones=(2,), appointment=4),
        duty(NOT_DUE, side="330411100", county="330411", level=ChiefLevel.COUNTY, appointment=5),
        duty(MISSED, side="3204", county=None, level=ChiefLevel.COUNTY, appointment=6),
    ]

    def rows(dimension: Dimension) -> dict[str, tuple[int, int, int, int]]:
        return {
            r.key: (r.tally.assessed, r.tally.met, r.tally.missed, r.tally.in_progress)
            for r in rollup(duties, dimension)
        }

    assert rows(Dimension.SIDE) == {
        "320509100": (2, 1, 1, 0),
        "320509101": (1, 1, 0, 0),
        "330411100": (1, 0, 0, 1),  # the chief owing nothing is not counted
        "3204": (1, 0, 1, 0),
    }
    assert rows(Dimension.COUNTY) == {
        "320509": (3, 2, 1, 0),
        "330411": (1, 0, 0, 1),
        "": (1, 0, 1, 0),
    }
    # Levels in the order offices read them: county, town, village.
    assert list(rows(Dimension.LEVEL).items()) == [
        ("county", (1, 0, 1, 0)),
        ("town", (3, 1, 1, 1)),
        ("village", (1, 1, 0, 0)),
    ]
    # A chief in two zones counts in each; a chief in none in no zone's row.
    assert rows(Dimension.ZONE) == {"1": (2, 1, 1, 0), "2": (2, 0, 1, 1)}
    assert rows(Dimension.RIVER) == {"R1": (4, 2, 1, 1), "R2": (1, 0, 1, 0)}
    shares = {r.key: r.tally.share for r in rollup(duties, Dimension.SIDE)}
    assert shares == {"320509100": 0.5, "320509101": 1.0, "330411100": 0.0, "3204": 0.0}


def test_names_come_from_the_duties_or_the_given_table() -> None:
    duties = [duty(MET, zones=(7,))]
    named = {r.dimension: r.name for r in rollups(duties, names={Dimension.ZONE: {"7": "盛王"}})}
    assert named == {
        Dimension.SIDE: "side 320509100",
        Dimension.COUNTY: "320509",  # no name given: the code
        Dimension.LEVEL: "town",
        Dimension.ZONE: "盛王",
        Dimension.RIVER: "river R1",
    }


def test_the_trend_counts_each_period_of_each_kind_apart() -> None:
    november = DEKAD.previous()  # late November
    duties = [
        duty(MET, period=DEKAD, appointment=1),
        duty(GOING, period=DEKAD, appointment=2),
        duty(MISSED, period=november, appointment=1),
        duty(MET, period=november, appointment=2, side="330411100"),
        duty(MISSED, period=MONTH, appointment=3, level=ChiefLevel.COUNTY),
        duty(NOT_DUE, period=MONTH.previous(), appointment=3, level=ChiefLevel.COUNTY),
    ]
    overall = [(p.period, p.tally.assessed, p.tally.met, p.tally.share) for p in trend(duties)]
    assert overall == [
        (november, 2, 1, 0.5),
        (DEKAD, 2, 1, 0.5),
        (MONTH.previous(), 0, 0, None),
        (MONTH, 1, 0, 0.0),
    ]
    by_side = {(p.period.key, p.side): p.tally.met for p in trend(duties, by=lambda d: d.side_code)}
    assert by_side == {
        ("2026-11-D3", "320509100"): 0,
        ("2026-11-D3", "330411100"): 1,
        ("2026-12-D1", "320509100"): 1,
        ("2026-11", "320509100"): 0,
        ("2026-12", "320509100"): 0,
    }


def test_the_current_duties_are_those_whose_period_holds_the_day() -> None:
    now, before = duty(MET), replace(duty(MISSED), period=DEKAD.previous())
    assert current_of([now, before], date(2026, 12, 10)) == [now]
    assert current_of([now, before], date(2026, 11, 30)) == [before]
