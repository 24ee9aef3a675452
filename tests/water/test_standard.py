"""GB 3838-2002's classes at, just above and just below every limit of table 1, against the
table transcribed here from the standard's text (never read from water/standard.LIMITS),
and the rules of the single-factor method: the worst parameter decides, pH in 6..9, the
lake limits of TP, TN counted on lakes only, faecal coliform never, the exceedance factor
against the target."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from geo_patrol.core.vocabulary import WaterBody
from geo_patrol.water.standard import LIMITS, classify

RIVER, LAKE = WaterBody.RIVER, WaterBody.LAKE

# GB 3838-2002 表1 地表水环境质量标准基本项目标准限值 (mg/L; 粪大肠菌群: 个/L), classes
# I, II, III, IV, V, as printed. 溶解氧 is "≥" (class I: 饱和率90% 或 7.5); every other
# item is "≤". 水温 has no class; pH (无量纲) is 6~9 for every class.
TABLE_1 = {
    "DO": ("溶解氧 ≥", (7.5, 6, 5, 3, 2)),
    "CODMn": ("高锰酸盐指数 ≤", (2, 4, 6, 10, 15)),
    "COD": ("化学需氧量 ≤", (15, 15, 20, 30, 40)),
    "BOD5": ("五日生化需氧量 ≤", (3, 3, 4, 6, 10)),
    "NH3-N": ("氨氮 ≤", (0.15, 0.5, 1.0, 1.5, 2.0)),
    "TP": ("总磷(以P计) ≤", (0.02, 0.1, 0.2, 0.3, 0.4)),
    "TN": ("总氮(湖、库,以N计) ≤", (0.2, 0.5, 1.0, 1.5, 2.0)),
    "Cu": ("铜 ≤", (0.01, 1.0, 1.0, 1.0, 1.0)),
    "Zn": ("锌 ≤", (0.05, 1.0, 1.0, 2.0, 2.0)),
    "F": ("氟化物(以F-计) ≤", (1.0, 1.0, 1.0, 1.5, 1.5)),
    "Se": ("硒 ≤", (0.01, 0.01, 0.01, 0.02, 0.02)),
    "As": ("砷 ≤", (0.05, 0.05, 0.05, 0.1, 0.1)),
    "Hg": ("汞 ≤", (0.00005, 0.00005, 0.0001, 0.001, 0.001)),
    "Cd": ("镉 ≤", (0.001, 0.005, 0.005, 0.005, 0.01)),
    "Cr6": ("铬(六价) ≤", (0.01, 0.05, 0.05, 0.05, 0.1)),
    "Pb": ("铅 ≤", (0.01, 0.01, 0.05, 0.05, 0.1)),
    "CN": ("氰化物 ≤", (0.005, 0.05, 0.2, 0.2, 0.2)),
    "phenol": ("挥发酚 ≤", (0.002, 0.002, 0.005, 0.01, 0.1)),
    "oil": ("石油类 ≤", (0.05, 0.05, 0.05, 0.5, 1.0)),
    "LAS": ("阴离子表面活性剂 ≤", (0.2, 0.2, 0.2, 0.3, 0.3)),
    "S2": ("硫化物 ≤", (0.05, 0.1, 0.2, 0.5, 1.0)),
    "FC": ("粪大肠菌群(个/L) ≤", (200, 2000, 10000, 20000, 40000)),
}
# 总磷 in lakes and reservoirs: the "(湖、库 ...)" figures of the same row.
LAKE_TP = (0.01, 0.025, 0.05, 0.1, 0.2)
# Every parameter that has a class on a river: table 1 less 水温, 总氮 and 粪大肠菌群.
RIVER_COUNTED = sorted(set(TABLE_1) - {"TN", "FC"})
# A sample at class I in everything (the base the tests change one parameter of).
CLEAN = {key: (bounds[0] if key != "DO" else 9.0) for key, (_, bounds) in TABLE_1.items()}


def limits(parameter: str, body: WaterBody) -> tuple[float, ...]:
    """The transcribed limits of a parameter in this water."""
    if parameter == "TP" and body == LAKE:
        return LAKE_TP
    return tuple(float(b) for b in TABLE_1[parameter][1])


def expected(parameter: str, value: float, body: WaterBody = RIVER) -> int:
    """The class by counting the limits a value fails (they only tighten from V to I):
    one more than the number failed, 6 (劣V) when it fails all five."""
    bounds = limits(parameter, body)
    if parameter == "DO":
        return 1 + sum(value < b for b in bounds)
    return 1 + sum(value > b for b in bounds)


def one(parameter: str, value: float, body: WaterBody = RIVER, target: int = 3) -> int | None:
    """The class of a sample measuring only this parameter."""
    return classify({parameter: value}, water_body=body, target=target).water_class


def test_the_coordinators_table_is_the_standards() -> None:
    differences = {
        key: (LIMITS[key].bounds, bounds)
        for key, (_, bounds) in TABLE_1.items()
        if tuple(map(float, LIMITS[key].bounds)) != tuple(map(float, bounds))
    }
    assert differences == {}
    assert set(LIMITS) == set(TABLE_1)
    assert [k for k, lim in LIMITS.items() if lim.lower] == ["DO"]


def edges() -> list[tuple[str, WaterBody, int]]:
    """Every (parameter, water, limit index) that has a class there."""
    found = [(p, RIVER, i) for p in RIVER_COUNTED for i in range(5)]
    found += [(p, LAKE, i) for p in ("TP", "TN") for i in range(5)]
    return found


@pytest.mark.parametrize(("parameter", "body", "index"), edges())
def test_at_just_above_and_just_below_every_limit(
    parameter: str, body: WaterBody, index: int
) -> None:
    bound = limits(parameter, body)[index]
    for value in (bound, math.nextafter(bound, math.inf), math.nextafter(bound, 0)):
        assert one(parameter, value, body) == expected(parameter, value, body), value
    # What a station reports: three significant figures either side.
    for value in (bound * 1.001, bound * 0.999):
        assert one(parameter, value, body) == expected(parameter, value, body), value


# Hand-derived from the table (not through `expected`): the rows a river office meets most.
@pytest.mark.parametrize(
    ("parameter", "value", "body", "water_class"),
    [
        ("DO", 7.5, RIVER, 1),
        ("DO", 7.49, RIVER, 2),
        ("DO", 5.0, RIVER, 3),
        ("DO", 4.99, RIVER, 4),
        ("DO", 2.0, RIVER, 5),
        ("DO", 1.99, RIVER, 6),
        ("CODMn", 6.0, RIVER, 3),
        ("CODMn", 6.01, RIVER, 4),
        ("CODMn", 15.01, RIVER, 6),
        ("COD", 15.0, RIVER, 1),  # the same limit for I and II: the better class
        ("COD", 15.1, RIVER, 3),
        ("BOD5", 3.0, RIVER, 1),
        ("BOD5", 3.01, RIVER, 3),
        ("NH3-N", 0.15, RIVER, 1),
        ("NH3-N", 0.151, RIVER, 2),
        ("NH3-N", 1.0, RIVER, 3),
        ("NH3-N", 1.01, RIVER, 4),
        ("NH3-N", 2.0, RIVER, 5),
        ("NH3-N", 2.01, RIVER, 6),
        ("TP", 0.2, RIVER, 3),
        ("TP", 0.21, RIVER, 4),
        ("TP", 0.4, RIVER, 5),
        ("TP", 0.41, RIVER, 6),
        ("TP", 0.05, LAKE, 3),
        ("TP", 0.051, LAKE, 4),
        ("TP", 0.2, LAKE, 5),
        ("TP", 0.21, LAKE, 6),
        ("TP", 0.02, LAKE, 2),
        ("TN", 1.0, LAKE, 3),
        ("TN", 2.01, LAKE, 6),
        ("Cu", 0.011, RIVER, 2),
        ("Cu", 1.01, RIVER, 6),
        ("Hg", 0.0001, RIVER, 3),
        ("Hg", 0.00011, RIVER, 4),
        ("Cd", 0.0051, RIVER, 5),
        ("CN", 0.21, RIVER, 6),
        ("phenol", 0.0021, RIVER, 3),
        ("oil", 0.051, RIVER, 4),
    ],
)
def test_hand_derived_classes(
    parameter: str, value: float, body: WaterBody, water_class: int
) -> None:
    assert one(parameter, value, body) == water_class


@pytest.mark.parametrize(
    ("ph", "water_class"), [(6.0, 1), (5.99, 6), (7.2, 1), (9.0, 1), (9.01, 6), (3.0, 6)]
)
def test_ph_is_6_to_9_inclusive_for_every_class(ph: float, water_class: int) -> None:
    assert one("pH", ph) == water_class
    assert one("pH", ph, LAKE) == water_class


def test_the_lake_limits_of_tp_apply_on_lakes_only() -> None:
    # 0.03: class II in a river (≤ 0.1), class III in a lake (≤ 0.05).
    assert (one("TP", 0.03), one("TP", 0.03, LAKE)) == (2, 3)
    # 0.25: IV in a river, 劣V in a lake (over 0.2).
    assert (one("TP", 0.25), one("TP", 0.25, LAKE)) == (4, 6)


def test_tn_counts_on_lakes_and_not_on_rivers() -> None:
    sample = {"DO": 8.0, "NH3-N": 0.1, "TP": 0.01, "TN": 3.5}
    river = classify(sample, water_body=RIVER)
    lake = classify(sample, water_body=LAKE)
    assert (river.water_class, river.deciding) == (1, ("DO", "NH3-N", "TP"))
    assert "TN" not in river.classes and "TN" not in river.factors
    assert (lake.water_class, lake.deciding) == (6, ("TN",))
    assert lake.factors["TN"] == pytest.approx((3.5 - 1.0) / 1.0)
    assert one("TN", 3.5) is None  # nothing that counts on a river


def test_faecal_coliform_never_counts() -> None:
    for body in (RIVER, LAKE):
        found = classify({"FC": 1_000_000, "DO": 6.5}, water_body=body)
        assert (found.water_class, found.deciding) == (2, ("DO",))
        assert "FC" not in found.classes and "FC" not in found.factors
        assert one("FC", 1_000_000, body) is None


def test_the_worst_parameter_decides_and_ties_all_decide() -> None:
    sample = {"DO": 6.2, "CODMn": 5.1, "NH3-N": 1.62, "TP": 0.35, "BOD5": 2.0, "TN": 9.0}
    found = classify(sample)
    # DO II, CODMn III, NH3-N V (over 1.5), TP V (over 0.3), BOD5 I; TN does not count.
    assert found.classes == {"DO": 2, "CODMn": 3, "NH3-N": 5, "TP": 5, "BOD5": 1}
    assert (found.water_class, set(found.deciding)) == (5, {"NH3-N", "TP"})
    assert set(found.over_target) == {"NH3-N", "TP"}


def test_exceedance_factor_is_value_minus_limit_over_limit_of_the_target() -> None:
    sample = {"DO": 2.5, "pH": 9.5, "CODMn": 6.0, "NH3-N": 1.8, "TP": 0.3, "COD": 22.0}
    at_iii = classify(sample, target=3)
    # III: NH3-N 1.0, TP 0.2, COD 20; CODMn equals its limit (6): no factor; DO and pH
    # have none (the method computes none for them) though both fail the target.
    assert at_iii.factors == pytest.approx({"NH3-N": 0.8, "TP": 0.5, "COD": 0.1})
    assert set(at_iii.over_target) == {"DO", "pH", "NH3-N", "TP", "COD"}
    at_iv = classify(sample, target=4)
    # IV: NH3-N 1.5, TP 0.3 (met), COD 30 (met), CODMn 10 (met).
    assert at_iv.factors == pytest.approx({"NH3-N": 0.2})
    at_ii = classify({"TP": 0.1}, water_body=LAKE, target=2)
    assert at_ii.factors == pytest.approx({"TP": (0.1 - 0.025) / 0.025})


def test_nothing_that_counts_gives_no_class() -> None:
    assert classify({}).water_class is None
    assert classify({"TN": 1.2, "FC": 300, "temperature": 18.0}).water_class is None


@pytest.mark.parametrize("target", [0, 6])
def test_a_target_is_i_to_v(target: int) -> None:
    with pytest.raises(ValueError):
        classify({"DO": 6.0}, target=target)


def test_a_clean_sample_is_class_i_in_both_waters() -> None:
    assert classify(CLEAN).water_class == 1
    lake = dict(CLEAN, TP=LAKE_TP[0])
    assert classify(lake, water_body=LAKE).water_class == 1


counted = st.sampled_from(RIVER_COUNTED)
concentration = st.floats(min_value=0.0, max_value=60000.0, allow_nan=False)
bodies = st.sampled_from([RIVER, LAKE])


@given(counted, concentration, concentration, bodies)
def test_class_is_monotone_in_concentration(
    parameter: str, a: float, b: float, body: WaterBody
) -> None:
    low, high = sorted((a, b))
    if parameter == "DO":  # more oxygen is better
        low, high = high, low
    first, second = one(parameter, low, body), one(parameter, high, body)
    assert first is not None and second is not None and first <= second


@given(counted, concentration, bodies)
def test_any_value_has_the_class_the_table_gives(
    parameter: str, value: float, body: WaterBody
) -> None:
    assert one(parameter, value, body) == expected(parameter, value, body)


samples = st.dictionaries(st.sampled_from([*TABLE_1, "pH"]), concentration, max_size=6)


@given(samples, st.sampled_from([*TABLE_1, "pH"]), concentration, bodies, st.integers(1, 5))
def test_adding_a_parameter_never_improves_the_class(
    sample: dict[str, float], parameter: str, value: float, body: WaterBody, target: int
) -> None:
    sample.pop(parameter, None)
    before = classify(sample, water_body=body, target=target).water_class
    after = classify({**sample, parameter: value}, water_body=body, target=target).water_class
    if before is not None:
        assert after is not None and after >= before
