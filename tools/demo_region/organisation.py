"""Job 6, organisation: the cooperation zone, its agreement, teams and members."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .region import DEMO_SOURCE, SHENGZE, WANGJIANGJING, WUJIANG, XIUZHOU, Area

ZONE_CODE = "ZONE-SZ-WJJ"
AGREEMENT: dict[str, Any] = {
    "code": "AGR-SZ-WJJ-01",
    "title": "交界区域生态环境共保联治合作协议",
    "signed_on": "2023-06-05",
    "summary": "演示：交界河道联合巡查、信息共享、联合执法与应急联动（虚构）",
    "party_codes": [SHENGZE, WANGJIANGJING],
    "source": DEMO_SOURCE,
}
TEAMS: list[dict[str, Any]] = [
    {
        "name": "联合巡河队一队",
        "kind": "joint",
        "zone": ZONE_CODE,
        "home_jurisdiction_codes": [SHENGZE, WANGJIANGJING],
    },
    {"name": "盛泽巡河队", "kind": "local", "zone": None, "home_jurisdiction_codes": [SHENGZE]},
    {
        "name": "王江泾巡河队",
        "kind": "local",
        "zone": None,
        "home_jurisdiction_codes": [WANGJIANGJING],
    },
]


def organisation(river_codes: Sequence[str], villages: Sequence[Area]) -> dict[str, Any]:
    """Cooperation zone, agreement, teams and members (all made up; fake phone numbers).

    Keys follow geo_patrol/demo/load.py: zone["members"] and zone["agreements"] (also listed
    at the top level with their zone_code), team["zone"], member["home"] and member["teams"].
    """
    sz = [v.code for v in villages if v.parent_code == SHENGZE]
    wjj = [v.code for v in villages if v.parent_code == WANGJIANGJING]
    joint, shengze, wangjiangjing = (t["name"] for t in TEAMS)
    people = [
        ("张建国", [joint], sz[0], "leader"),
        ("沈丽华", [joint], wjj[0], "leader"),
        ("吴永明", [joint, shengze], sz[1], "member"),
        ("陆晓燕", [joint, wangjiangjing], wjj[1], "member"),
        ("徐志强", [shengze], SHENGZE, "leader"),
        ("钱美芳", [shengze], sz[2], "member"),
        ("朱卫东", [wangjiangjing], WANGJIANGJING, "leader"),
        ("顾秀英", [wangjiangjing], wjj[2], "member"),
    ]
    # The river chiefs of geo_patrol/demo/data/chiefs.csv who are not patrollers above: county
    # officials, town chiefs (two of them a joint pair on the border river), village chiefs.
    # Phones of their own (1390000xxxx), clear of the patrollers' and the demo logins'.
    chiefs = [
        ("钱建明", [], WUJIANG, "member"),
        ("蒋文华", [], WUJIANG, "member"),
        ("沈建平", [joint, shengze], SHENGZE, "member"),
        ("周福根", [shengze], sz[5], "member"),
        ("褚国平", [], XIUZHOU, "member"),
        ("姚志刚", [], XIUZHOU, "member"),
        ("金秀兰", [joint, wangjiangjing], WANGJIANGJING, "member"),
        ("杨丽萍", [wangjiangjing], wjj[2], "member"),
        ("陈海林", [], SHENGZE, "member"),
    ]
    zone = {
        "code": ZONE_CODE,
        "name": "盛泽—王江泾联合治水区",
        "name_en": "Shengze–Wangjiangjing Joint Water Governance Zone",
        "description": "演示：盛泽镇与王江泾镇交界水域联合巡河、联合治水（虚构）",
        "border_zone_width_m": 200,
        "members": [SHENGZE, WANGJIANGJING, WUJIANG, XIUZHOU],
        "agreements": [AGREEMENT],
        "river_codes": list(river_codes),
        "source": DEMO_SOURCE,
    }
    return {
        "zones": [zone],
        "agreements": [{**AGREEMENT, "zone_code": ZONE_CODE}],
        "teams": TEAMS,
        "members": [
            {
                "name": name,
                "phone": f"1380000{i + 1:04d}",
                "home": home,
                "teams": teams,
                "role": role,
            }
            for i, (name, teams, home, role) in enumerate(people)
        ]
        + [
            {
                "name": name,
                "phone": f"1390000{i + 1:04d}",
                "home": home,
                "teams": teams,
                "role": role,
            }
            for i, (name, teams, home, role) in enumerate(chiefs)
        ],
    }
