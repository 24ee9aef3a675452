"""Patrols end to end on the demo region, checked against shapely/pyproj on the same data."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import shapely
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from tests.support import oracle
from tests.support.principals import SZ_PHONE_TOKEN, team_id
from tests.support.uploads import upload


def test_crossing_walk_lengths_match_independent_computation(
    demo_client: TestClient, demo_session: Session, headers: dict[str, dict[str, str]]
) -> None:
    lons, lats = oracle.border_crossing_line()
    data = oracle.gpx(lons, lats, oracle.times(len(lons)))
    joint = team_id(demo_session, "联合巡河队一队")
    created = upload(demo_client, headers["sz.patrol"], joint, data)
    assert created["status"] == 201
    patrol = demo_client.get(f"/api/v1/patrols/{created['id']}", headers=headers["sz.patrol"])
    props = patrol.json()["properties"]
    expected = oracle.lengths_by_code(lons, lats, ["320509", "330411"])
    got = {j["code"]: j["length_m"] for j in props["jurisdictions"] if j["level"] == "county"}
    assert set(got) == {"320509", "330411"}
    for code, metres in expected.items():
        assert abs(got[code] - metres) / metres < 0.005, (code, got[code], metres)
    total = oracle.GEOD.geometry_length(shapely.LineString(np.column_stack([lons, lats])))
    assert abs(props["length_m"] - total) / total < 0.005
    county = [c for c in props["crossings"] if c["level"] == "county"]
    assert [(c["from_code"], c["to_code"]) for c in county] in (
        [("320509", "330411")],
        [("330411", "320509")],
    )
    assert oracle.side_of(lons[0], lats[0]) == county[0]["from_code"]


def test_same_file_twice_and_same_upload_id_give_the_same_patrol(
    demo_client: TestClient, demo_session: Session, headers: dict[str, dict[str, str]]
) -> None:
    lons, lats = oracle.border_crossing_line(600)
    data = oracle.gpx(lons, lats, oracle.times(len(lons)))
    joint = team_id(demo_session, "联合巡河队一队")
    first = upload(demo_client, headers["sz.patrol"], joint, data, upload_id="phone-1-0001")
    again = upload(demo_client, headers["sz.patrol"], joint, data)
    retried = upload(
        demo_client, headers["sz.patrol"], joint, data + b"\n", upload_id="phone-1-0001"
    )
    assert first["status"] == 201 and again["status"] == retried["status"] == 200
    assert first["id"] == again["id"] == retried["id"]
    count = demo_session.execute(text("SELECT count(*) FROM patrols")).scalar_one()
    assert count == 1


def test_jitter_along_the_border_is_not_dozens_of_crossings(
    demo_client: TestClient, demo_session: Session, headers: dict[str, dict[str, str]]
) -> None:
    lons, lats = oracle.border_crossing_line(1200)
    # Walk along the border instead: take the border line itself, fixes hopping +-6 m across.
    wujiang, xiuzhou = oracle.polygons()["320509"][1], oracle.polygons()["330411"][1]
    border = shapely.line_merge(shapely.intersection(wujiang.boundary, xiuzhou.boundary))
    line = max(getattr(border, "geoms", [border]), key=lambda g: g.length)
    start = line.project(shapely.Point(lons[len(lons) // 2], lats[len(lats) // 2]))
    along = [line.interpolate(start + d) for d in np.linspace(0, 0.01, 400)]
    rng = np.random.default_rng(7)
    jitter_lon = np.array([p.x for p in along]) + rng.choice([-6e-5, 6e-5], size=400)
    jitter_lat = np.array([p.y for p in along])
    sides = [oracle.side_of(x, y) for x, y in zip(jitter_lon, jitter_lat, strict=True)]
    raw_changes = sum(1 for s, t in itertools.pairwise(sides) if s != t)
    assert raw_changes > 20  # the fixes really do hop across the line
    data = oracle.gpx(jitter_lon, jitter_lat, oracle.times(400, step_s=2.0))
    joint = team_id(demo_session, "联合巡河队一队")
    created = upload(demo_client, headers["sz.patrol"], joint, data)
    patrol = demo_client.get(f"/api/v1/patrols/{created['id']}", headers=headers["sz.patrol"])
    props = patrol.json()["properties"]
    # The README's rule, computed by the oracle on the same fixes: the hops are no crossing.
    expected = oracle.crossings_by_rule(jitter_lon, jitter_lat, "county")
    assert expected == []
    county = [(c["from_code"], c["to_code"]) for c in props["crossings"] if c["level"] == "county"]
    assert county == []
    # ...while the walk itself was attributed: both counties, the metres shapely cuts from
    # the fixes kept (cleaning takes the zigzag out; the raw hops add up to twice as much).
    kept_lon, kept_lat = np.array(patrol.json()["geometry"]["coordinates"]).T
    metres = oracle.lengths_by_code(kept_lon, kept_lat, ["320509", "330411"])
    got = {j["code"]: j["length_m"] for j in props["jurisdictions"] if j["level"] == "county"}
    assert set(got) == {"320509", "330411"}
    for code, length in metres.items():
        assert got[code] == pytest.approx(length, rel=0.01), (code, got, metres)


def test_wujiang_internal_patrol_is_invisible_to_xiuzhou(
    demo_client: TestClient, demo_session: Session, headers: dict[str, dict[str, str]]
) -> None:
    wujiang = oracle.polygons()["320509100"][1]
    inside = shapely.point_on_surface(wujiang)
    lons, lats = oracle.walk(inside.x, inside.y, 45, 400)
    local = team_id(demo_session, "盛泽巡河队")
    internal = upload(
        demo_client, headers["sz.patrol"], local, oracle.gpx(lons, lats, oracle.times(len(lons)))
    )
    clons, clats = oracle.border_crossing_line(600)
    joint = team_id(demo_session, "联合巡河队一队")
    crossing = upload(
        demo_client, headers["sz.patrol"], joint, oracle.gpx(clons, clats, oracle.times(len(clons)))
    )
    zj = headers["xiuzhou.sup"]
    listed = {p["id"] for p in demo_client.get("/api/v1/patrols", headers=zj).json()}
    assert crossing["id"] in listed and internal["id"] not in listed
    for path in ("", "/export.gpx", "/export.kml", "/export.geojson", "/original"):
        hidden = demo_client.get(f"/api/v1/patrols/{internal['id']}{path}", headers=zj)
        assert hidden.status_code == 404, path
    csv = demo_client.get("/api/v1/patrols.csv", headers=zj).text
    assert f"\n{internal['id']}," not in csv and f"\n{crossing['id']}," in csv
    js = headers["wujiang.sup"]
    both = {p["id"] for p in demo_client.get("/api/v1/patrols", headers=js).json()}
    assert {internal["id"], crossing["id"]} <= both


def test_upload_for_another_team_is_refused(
    demo_client: TestClient, demo_session: Session, headers: dict[str, dict[str, str]]
) -> None:
    lons, lats = oracle.border_crossing_line(300)
    other = team_id(demo_session, "王江泾巡河队")
    response = demo_client.post(
        "/api/v1/patrols",
        headers=headers["sz.patrol"],
        data={"team_id": str(other)},
        files={"file": ("t.gpx", oracle.gpx(lons, lats, oracle.times(len(lons))))},
    )
    assert response.status_code == 403 and response.json()["field"] == "team_id"


def test_revoked_device_is_refused_on_upload_and_osmand(
    demo_client: TestClient, demo_session: Session, headers: dict[str, dict[str, str]]
) -> None:
    phone = {"Authorization": f"Bearer {SZ_PHONE_TOKEN}"}
    lons, lats = oracle.border_crossing_line(300)
    data = oracle.gpx(lons, lats, oracle.times(len(lons)))
    joint = team_id(demo_session, "联合巡河队一队")
    assert upload(demo_client, phone, joint, data)["status"] == 201
    ok = demo_client.get("/osmand", params={"id": SZ_PHONE_TOKEN, "lat": 30.9, "lon": 120.65})
    assert ok.status_code == 200 and ok.content == b""
    demo_session.execute(text("UPDATE devices SET revoked_at = now()"))
    refused = demo_client.post(
        "/api/v1/patrols",
        headers=phone,
        data={"team_id": str(joint)},
        files={"file": ("t2.gpx", data + b" ")},
    )
    assert refused.status_code == 401
    gone = demo_client.get("/osmand", params={"id": SZ_PHONE_TOKEN, "lat": 30.9, "lon": 120.65})
    assert gone.status_code == 400 and gone.content == b""


def test_bad_file_is_problem_json_naming_the_line_and_stores_nothing(
    demo_client: TestClient,
    demo_session: Session,
    headers: dict[str, dict[str, str]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    joint = team_id(demo_session, "联合巡河队一队")
    bad = (
        b'<?xml version="1.0"?>\n<gpx version="1.1">\n<trk><trkseg>\n'
        b'<trkpt lat="abc" lon="120.6"/>\n</trkseg></trk></gpx>'
    )
    response = demo_client.post(
        "/api/v1/patrols",
        headers=headers["sz.patrol"],
        data={"team_id": str(joint), "upload_id": "phone-7-0042"},
        files={"file": ("bad.gpx", bad)},
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json().get("line") == 4
    assert demo_session.execute(text("SELECT count(*) FROM uploads")).scalar_one() == 0
    # The operator can find it: which file, whose, why; never the sender's token.
    (refused,) = [
        r.getMessage()
        for r in caplog.records
        if r.name == "geo_patrol.patrols.upload" and r.levelname == "WARNING"
    ]
    for part in (
        "bad.gpx",
        f"{len(bad)} bytes",
        "upload id phone-7-0042",
        f"team {joint}",
        "by sz.patrol",
        "refused (422",
        response.json()["detail"],
    ):
        assert part in refused, (part, refused)
    token = headers["sz.patrol"]["Authorization"].removeprefix("Bearer ")
    assert token not in caplog.text


def test_exports_round_trip_and_effort_adds_up(
    demo_client: TestClient, demo_session: Session, headers: dict[str, dict[str, str]]
) -> None:
    from geo_patrol.patrols.track.read import parse_track

    lons, lats = oracle.border_crossing_line(800)
    joint = team_id(demo_session, "联合巡河队一队")
    created = upload(
        demo_client, headers["sz.patrol"], joint, oracle.gpx(lons, lats, oracle.times(len(lons)))
    )
    patrol = demo_client.get(f"/api/v1/patrols/{created['id']}", headers=headers["sz.patrol"])
    kept = patrol.json()["properties"]["points_kept"]
    for fmt in ("gpx", "kml"):
        exported = demo_client.get(
            f"/api/v1/patrols/{created['id']}/export.{fmt}", headers=headers["sz.patrol"]
        )
        assert exported.status_code == 200
        track = parse_track(exported.content, filename=f"x.{fmt}")
        assert len(track.points.lon) == kept
        assert np.allclose(track.points.lon[[0, -1]], lons[[0, -1]], atol=1e-6)
    geojson = demo_client.get(
        f"/api/v1/patrols/{created['id']}/export.geojson", headers=headers["sz.patrol"]
    ).json()
    assert geojson["geometry"]["type"] == "LineString"
    effort = demo_client.get(
        "/api/v1/effort",
        params={"by": "jurisdiction", "level": "county", "period": "month"},
        headers=headers["zone.coord"],
    ).json()
    by_code = {row["key"]: row["length_m"] for row in effort}
    # The month's effort is this one walk: the metres shapely cuts on each side, by Geod.
    expected = oracle.lengths_by_code(lons, lats, ["320509", "330411"])
    assert by_code.keys() == expected.keys() and all(expected.values())
    for code, metres in expected.items():
        assert by_code[code] == pytest.approx(metres, rel=0.005), (code, by_code, expected)
