"""GB 3838-2002 (地表水环境质量标准), table 1: the limits of classes I to V, and the class of
a sample by the single-factor method (单因子评价法): each parameter's class is the best whose
limit it meets, and the worst parameter decides the sample's class; a parameter that meets
no limit is 劣V (class 6).

Which parameters count: for a river, the Ministry's assessment method (地表水环境质量评价办法
(试行), 环办〔2011〕22号): total nitrogen (TN) and faecal coliform (FC) never decide the class,
whatever was measured; they are kept with the reading. For a lake or reservoir we follow the
standard's own table, where TN has limits for 湖、库: TN counts, and total phosphorus (TP) has
the lake limits. This differs from the 2011 method, which leaves TN out of the class of a
lake too and assesses it separately (and in the trophic-state index); to class a lake by that
method, leave TN out of `measured`. Water temperature has no class (its limit is a
change against the natural temperature). Class I's DO is "饱和率90%（或7.5）": the 7.5 mg/L
bound is used, as saturation is rarely in a station's export.

Limits are inclusive: a value equal to a limit meets it ("≤" and "≥" in the standard). The
exceedance factor (超标倍数) of a parameter against a class is (value − limit) / limit, for
parameters with an upper limit only: the method computes none for DO or pH.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from geo_patrol.core.vocabulary import WaterBody

WORST: Final = 6  # 劣V
CLASS_NAMES: Final = {1: "I", 2: "II", 3: "III", 4: "IV", 5: "V", 6: "劣V"}


@dataclass(frozen=True)
class Limits:
    """A parameter's limits for classes I..V: upper bounds (≤), or lower bounds (≥, DO)."""

    bounds: tuple[float, float, float, float, float]
    lower: bool = False  # the value must be at least the bound (dissolved oxygen)

    def meets(self, value: float, water_class: int) -> bool:
        """Whether `value` meets the limit of class `water_class` (1..5)."""
        bound = self.bounds[water_class - 1]
        return value >= bound if self.lower else value <= bound


# Table 1's basic items in mg/L (faecal coliform: count per litre), by the keys the import
# reads (water.readings maps station headers such as 氨氮 or NH3N to them).
LIMITS: Final[Mapping[str, Limits]] = {
    "DO": Limits((7.5, 6, 5, 3, 2), lower=True),
    "CODMn": Limits((2, 4, 6, 10, 15)),
    "COD": Limits((15, 15, 20, 30, 40)),
    "BOD5": Limits((3, 3, 4, 6, 10)),
    "NH3-N": Limits((0.15, 0.5, 1.0, 1.5, 2.0)),
    "TP": Limits((0.02, 0.1, 0.2, 0.3, 0.4)),
    "TN": Limits((0.2, 0.5, 1.0, 1.5, 2.0)),
    "Cu": Limits((0.01, 1.0, 1.0, 1.0, 1.0)),
    "Zn": Limits((0.05, 1.0, 1.0, 2.0, 2.0)),
    "F": Limits((1.0, 1.0, 1.0, 1.5, 1.5)),
    "Se": Limits((0.01, 0.01, 0.01, 0.02, 0.02)),
    "As": Limits((0.05, 0.05, 0.05, 0.1, 0.1)),
    "Hg": Limits((0.00005, 0.00005, 0.0001, 0.001, 0.001)),
    "Cd": Limits((0.001, 0.005, 0.005, 0.005, 0.01)),
    "Cr6": Limits((0.01, 0.05, 0.05, 0.05, 0.1)),
    "Pb": Limits((0.01, 0.01, 0.05, 0.05, 0.1)),
    "CN": Limits((0.005, 0.05, 0.2, 0.2, 0.2)),
    "phenol": Limits((0.002, 0.002, 0.005, 0.01, 0.1)),
    "oil": Limits((0.05, 0.05, 0.05, 0.5, 1.0)),
    "LAS": Limits((0.2, 0.2, 0.2, 0.3, 0.3)),
    "S2": Limits((0.05, 0.1, 0.2, 0.5, 1.0)),
    "FC": Limits((200, 2000, 10000, 20000, 40000)),
}
# Total phosphorus in lakes and reservoirs (湖、库).
LAKE_TP: Final = Limits((0.01, 0.025, 0.05, 0.1, 0.2))
# pH must lie in 6..9 for every class (inclusive); outside it the sample is 劣V.
PH_RANGE: Final = (6.0, 9.0)
# Measured and kept, but never deciding the class (see the module's text).
NOT_COUNTED: Final = {WaterBody.RIVER: frozenset({"TN", "FC"}), WaterBody.LAKE: frozenset({"FC"})}


def limits_for(parameter: str, water_body: WaterBody) -> Limits | None:
    """The limits of a parameter in this kind of water (None: the standard sets no class)."""
    if parameter == "TP" and water_body == WaterBody.LAKE:
        return LAKE_TP
    return LIMITS.get(parameter)


def parameter_class(parameter: str, value: float, water_body: WaterBody) -> int | None:
    """The class (1..6) of one parameter's value; None for a parameter with no class."""
    if parameter == "pH":
        low, high = PH_RANGE
        return 1 if low <= value <= high else WORST
    limits = limits_for(parameter, water_body)
    if limits is None:
        return None
    for water_class in range(1, WORST):
        if limits.meets(value, water_class):
            return water_class
    return WORST


def exceedance(parameter: str, value: float, water_body: WaterBody, target: int) -> float | None:
    """(value − limit) / limit against class `target`'s upper limit when the value is above
    it; None when it meets it or the parameter has no upper limit (DO, pH, unclassed)."""
    limits = limits_for(parameter, water_body)
    if limits is None or limits.lower:
        return None
    bound = limits.bounds[target - 1]
    return (value - bound) / bound if value > bound else None


@dataclass(frozen=True)
class Classified:
    """A sample's class (None: nothing that counts was measured), the parameters that
    decided it, each counted parameter's own class, the exceedance factors against the
    target, and the parameters that fail the target (DO and pH included)."""

    water_class: int | None
    deciding: tuple[str, ...]
    classes: Mapping[str, int]
    factors: Mapping[str, float]
    over_target: tuple[str, ...]


def classify(
    measured: Mapping[str, float], *, water_body: WaterBody = WaterBody.RIVER, target: int = 3
) -> Classified:
    """Class a sample by the single-factor method; parameters in the standard's order."""
    if not 1 <= target <= 5:
        raise ValueError(f"a target class is 1..5, not {target}")
    skipped = NOT_COUNTED[water_body]
    classes: dict[str, int] = {}
    factors: dict[str, float] = {}
    for parameter, value in measured.items():
        if parameter in skipped:
            continue
        found = parameter_class(parameter, value, water_body)
        if found is None:
            continue
        classes[parameter] = found
        factor = exceedance(parameter, value, water_body, target)
        if factor is not None:
            factors[parameter] = factor
    if not classes:
        return Classified(None, (), {}, {}, ())
    worst = max(classes.values())
    return Classified(
        water_class=worst,
        deciding=tuple(p for p, c in classes.items() if c == worst),
        classes=classes,
        factors=factors,
        over_target=tuple(p for p, c in classes.items() if c > target),
    )
