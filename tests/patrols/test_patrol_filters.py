"""Each filter of the patrol list (and two together) picks exactly the patrols it names,
judged on three uploaded walks by shapely on the demo polygons and rivers, by the upload's
own times and teams, never by the filter's SQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
import shapely
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from geo_patrol.demo.load import DEMO_DATA
from tests.support import oracle
from tests.support.principals import headers_for, member_id, team_id
from tests.support.uploads import upload

LOCAL, JOINT = "盛泽巡河队", "联合巡河队一队"
NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def walks(demo_client: TestClient, demo_session: Session) -> dict[str, Any]:
    """Three patrols of sz.patrol: inside one town (local team, 3 h ago), across the county
    border (joint team, 2 days ago), beside the straight river (local team, 5 days ago)."""
    headers = headers_for(demo_session)
    inside = shapely.point_on_surface(oracle.polygons()["320509100"][1])
    tracks = {
        "internal": (LOCAL, NOW - timedelta(hours=3), oracle.walk(inside.x, inside.y, 45, 400)),
        "crossing": (JOINT, NOW - timedelta(days=2), oracle.border_crossing_line(600)),
        "river": (LOCAL, NOW - timedelta(days=5), oracle.beside_river(10.0, 300.0, 1.5)),
    }
    found: dict[str, Any] = {"headers": headers, "ids": {}, "lines": {}, "teams": {}}
    for name, (team, start, (lons, lats)) in tracks.items():
        team_key = team_id(demo_session, team)
        data = oracle.gpx(lons, lats, oracle.times(len(lons), start=start))
        found["ids"][name] = upload(demo_client, headers["sz.patrol"], team_key, data)["id"]
        found["lines"][name] = shapely.LineString(np.column_stack([lons, lats]))
        found["teams"][name] = team_key
    return found


def listed(client: TestClient, walks: dict[str, Any], **params: object) -> set[str]:
    """Which of the three walks the admin's patrol list gives for `params`."""
    answer = client.get("/api/v1/patrols", params=params, headers=walks["headers"]["admin"])
    assert answer.status_code == 200, answer.text
    ids = {p["id"] for p in answer.json()}
    return {name for name, patrol in walks["ids"].items() if patrol in ids}


def test_no_filter_lists_all_three(demo_client: TestClient, walks: dict[str, Any]) -> None:
    assert listed(demo_client, walks) == {"internal", "crossing", "river"}


def test_team_zone_and_member(
    demo_client: TestClient, walks: dict[str, Any], demo_session: Session
) -> None:
    local, joint = walks["teams"]["internal"], walks["teams"]["crossing"]
    assert listed(demo_client, walks, team_id=local) == {"internal", "river"}
    assert listed(demo_client, walks, team_id=joint) == {"crossing"}
    teams = demo_client.get("/api/v1/teams", headers=walks["headers"]["admin"]).json()
    zone_of = {t["id"]: t["zone_id"] for t in teams}
    assert zone_of[joint] is not None
    in_zone = {name for name, team in walks["teams"].items() if zone_of[team] == zone_of[joint]}
    assert listed(demo_client, walks, zone_id=zone_of[joint]) == in_zone
    walker = member_id(demo_session, "sz.patrol")
    assert listed(demo_client, walks, member_id=walker) == {"internal", "crossing", "river"}
    assert listed(demo_client, walks, member_id=walker, team_id=joint) == {"crossing"}


def test_jurisdiction_river_and_box(demo_client: TestClient, walks: dict[str, Any]) -> None:
    lines: dict[str, shapely.LineString] = walks["lines"]
    for code in ("320509", "330411", "320509100"):
        metres = {
            name: oracle.lengths_by_code(line.xy[0], line.xy[1], [code])[code]
            for name, line in lines.items()
        }
        assert all(m == 0 or m > 100 for m in metres.values()), metres  # nothing borderline
        expected = {name for name, m in metres.items() if m > 100}
        assert listed(demo_client, walks, jurisdiction=code) == expected, code
    rivers = json.loads((DEMO_DATA / "rivers.geojson").read_text(encoding="utf-8"))
    frame = oracle.local_metres(*lines["river"].coords[0])
    river_code = oracle.straight_river()[0]
    river = next(
        shapely.geometry.shape(f["geometry"])
        for f in rivers["features"]
        if f["properties"]["code"] == river_code
    )
    apart = {
        name: oracle.to_metres(line, frame).distance(oracle.to_metres(river, frame))
        for name, line in lines.items()
    }
    assert apart["river"] < 11 and all(a > 100 for n, a in apart.items() if n != "river")
    assert listed(demo_client, walks, river=river_code) == {"river"}
    assert listed(demo_client, walks, river="no-such-river") == set()
    west, south, east, north = lines["internal"].bounds
    box = shapely.box(west, south, east, north)
    expected = {name for name, line in lines.items() if box.intersects(line.envelope)}
    assert "internal" in expected
    bbox = f"{west},{south},{east},{north}"
    assert listed(demo_client, walks, bbox=bbox) == expected
    assert listed(demo_client, walks, bbox="0,0,1,1") == set()


def test_period_and_flag(demo_client: TestClient, walks: dict[str, Any]) -> None:
    day_ago, four_days_ago = NOW - timedelta(days=1), NOW - timedelta(days=4)
    assert listed(demo_client, walks, since=day_ago.isoformat()) == {"internal"}
    assert listed(demo_client, walks, until=day_ago.isoformat()) == {"crossing", "river"}
    period = {"since": four_days_ago.isoformat(), "until": day_ago.isoformat()}
    assert listed(demo_client, walks, **period) == {"crossing"}
    admin = walks["headers"]["admin"]
    flags = {
        name: set(
            demo_client.get(f"/api/v1/patrols/{i}", headers=admin).json()["properties"][
                "quality_flags"
            ]
            or []
        )
        for name, i in walks["ids"].items()
    }
    for flag in set().union(*flags.values()):
        expected = {name for name, raised in flags.items() if flag in raised}
        assert listed(demo_client, walks, flag=flag) == expected, flag
    # The flags are a closed list (QualityFlag): another word is refused, naming the field.
    unknown = demo_client.get(
        "/api/v1/patrols", params={"flag": "no_such_flag"}, headers=walks["headers"]["admin"]
    )
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "flag"
