"""Incidents on the demo region: routing against shapely/pyproj, workflow, tiers, duplicates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
import shapely
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from geo_patrol.incidents.workflow import escalate_overdue
from tests.support import oracle
from tests.support.oracle import point_inside_xiuzhou

BORDER_RIVER = "R-320509-330411-01"


def report(
    client: TestClient,
    headers: dict[str, str],
    lon: float,
    lat: float,
    *,
    expect: int = 201,
    **extra: object,
) -> dict[str, object]:
    """POST a report, return the answer (201: a new case; 200: a retry of one already made)."""
    body = {"category": "illegal_discharge", "severity": "medium", "lon": lon, "lat": lat, **extra}
    response = client.post("/api/v1/incidents", json=body, headers=headers)
    assert response.status_code == expect, response.text
    return {**response.json(), "status": response.status_code}


def zone_id(session: Session) -> int:
    """The demo's cooperation zone (Shengze-Wangjiangjing)."""
    query = text("SELECT id FROM cooperation_zones WHERE code = 'ZONE-SZ-WJJ'")
    return int(session.execute(query).scalar_one())


def test_report_30m_inside_xiuzhou_on_border_river_is_joint_with_xiuzhou_lead(
    demo_client: TestClient, demo_session: Session, headers: dict[str, dict[str, str]]
) -> None:
    lon, lat = point_inside_xiuzhou(30)
    created = report(demo_client, headers["wjj.patrol"], lon, lat)
    for side in ("xiuzhou.sup", "wujiang.sup", "zone.coord", "shengze.sup", "wjj.sup"):
        seen = demo_client.get(f"/api/v1/incidents/{created['id']}", headers=headers[side])
        assert seen.status_code == 200, side
    props = seen.json()["properties"]
    assert props["is_joint"] and props["lead_code"].startswith("330411")
    assert any(code.startswith("320509") for code in props["co_codes"])
    assert props["zone_id"] == zone_id(demo_session)
    assert props["unrouted"] is False
    assert props["history"][0]["kind"] == "created"


def test_report_2km_inside_is_xiuzhou_alone(
    demo_client: TestClient, headers: dict[str, dict[str, str]]
) -> None:
    lon, lat = point_inside_xiuzhou(2000)
    created = report(demo_client, headers["wjj.patrol"], lon, lat)
    mine = demo_client.get(f"/api/v1/incidents/{created['id']}", headers=headers["xiuzhou.sup"])
    assert mine.status_code == 200
    props = mine.json()["properties"]
    assert (props["is_joint"], props["unrouted"]) == (False, False)
    assert props["lead_code"].startswith("330411") and props["co_codes"] is None
    other = demo_client.get(f"/api/v1/incidents/{created['id']}", headers=headers["wujiang.sup"])
    assert other.status_code == 404
    listed = demo_client.get("/api/v1/incidents", headers=headers["wujiang.sup"]).json()
    assert created["id"] not in {f["id"] for f in listed["features"]}


def test_point_in_the_sea_is_kept_and_flagged_unrouted(
    demo_client: TestClient, headers: dict[str, dict[str, str]]
) -> None:
    created = report(demo_client, headers["sz.patrol"], 124.8, 28.5)
    admin = demo_client.get(
        "/api/v1/incidents", params={"unrouted": "true"}, headers=headers["admin"]
    ).json()
    assert created["id"] in {f["id"] for f in admin["features"]}
    props = demo_client.get(f"/api/v1/incidents/{created['id']}", headers=headers["admin"]).json()[
        "properties"
    ]
    assert (props["unrouted"], props["lead_code"], props["is_joint"]) == (True, None, False)
    routed = report(demo_client, headers["sz.patrol"], *point_inside_xiuzhou(2000))
    flagged = demo_client.get(
        "/api/v1/incidents", params={"unrouted": "true"}, headers=headers["admin"]
    ).json()
    everything = demo_client.get("/api/v1/incidents", headers=headers["admin"]).json()
    assert [f["id"] for f in flagged["features"]] == [created["id"]]
    assert {f["id"] for f in everything["features"]} == {created["id"], routed["id"]}
    hidden = demo_client.get(f"/api/v1/incidents/{created['id']}", headers=headers["wujiang.sup"])
    assert hidden.status_code == 404


def test_retry_with_same_client_id_creates_one(
    demo_client: TestClient, demo_session: Session, headers: dict[str, dict[str, str]]
) -> None:
    lon, lat = point_inside_xiuzhou(500)
    first = report(demo_client, headers["wjj.patrol"], lon, lat, client_id="wjj-phone-0007")
    again = report(
        demo_client, headers["wjj.patrol"], lon, lat, expect=200, client_id="wjj-phone-0007"
    )
    assert first["status"] == 201 and again["status"] == 200 and first["id"] == again["id"]
    assert demo_session.execute(text("SELECT count(*) FROM incidents")).scalar_one() == 1


def test_routing_agrees_with_shapely_near_the_border(
    demo_client: TestClient, demo_session: Session, headers: dict[str, dict[str, str]]
) -> None:
    wujiang, xiuzhou = oracle.polygons()["320509"][1], oracle.polygons()["330411"][1]
    to_utm = oracle.UTM51.transform

    def utm(g: shapely.Geometry) -> shapely.Geometry:
        return shapely.transform(g, lambda xy: np.column_stack(to_utm(xy[:, 0], xy[:, 1])))

    wu_m, xi_m = utm(wujiang), utm(xiuzhou)
    border = shapely.intersection(wujiang.boundary, xiuzhou.boundary)
    rng = np.random.default_rng(11)
    checked = 0
    for fraction in rng.uniform(0.05, 0.95, 40):
        base = shapely.line_interpolate_point(shapely.line_merge(border), fraction, normalized=True)
        lon, lat, _ = oracle.GEOD.fwd(base.x, base.y, rng.uniform(0, 360), rng.uniform(0, 600))
        side = oracle.side_of(lon, lat)
        if side is None:
            continue
        point = utm(shapely.Point(lon, lat))
        other = wu_m if side == "330411" else xi_m
        distance = point.distance(other)
        if abs(distance - 200) < 3:
            continue  # too close to the threshold for a projected check
        created = report(demo_client, headers["admin"], float(lon), float(lat))
        props = demo_client.get(
            f"/api/v1/incidents/{created['id']}", headers=headers["admin"]
        ).json()["properties"]
        assert props["lead_code"].startswith(side), (lon, lat)
        assert props["is_joint"] == (distance < 200), (lon, lat, distance)
        checked += 1
    assert checked > 25


def act(
    client: TestClient,
    headers: dict[str, str],
    incident: object,
    action: str,
    note: str | None = None,
) -> int:
    """POST an action, return the status code."""
    response = client.post(
        f"/api/v1/incidents/{incident}/actions",
        json={"action": action, "note": note},
        headers=headers,
    )
    return int(response.status_code)


def test_workflow_transitions_and_append_only_history(
    demo_client: TestClient, demo_session: Session, headers: dict[str, dict[str, str]]
) -> None:
    lon, lat = point_inside_xiuzhou(1500)
    incident = report(demo_client, headers["wjj.patrol"], lon, lat)["id"]
    sup = headers["xiuzhou.sup"]
    assert act(demo_client, sup, incident, "resolve") == 409
    assert act(demo_client, headers["meeting.room"], incident, "assign") == 403
    assert act(demo_client, sup, incident, "reject") == 422  # needs a reason
    for step in ("assign", "accept", "start", "resolve", "verify", "close"):
        assert act(demo_client, sup, incident, step) == 200, step
    history = demo_client.get(f"/api/v1/incidents/{incident}", headers=sup).json()
    kinds = [event["kind"] for event in history["properties"]["history"]]
    assert kinds == ["created", "assign", "accept", "start", "resolve", "verify", "close"]
    with pytest.raises(DBAPIError, match="append-only"), demo_session.begin_nested():
        demo_session.execute(text("UPDATE incident_events SET note = 'rewritten'"))


def test_escalation_by_deadline_reopening_and_request(
    demo_client: TestClient, demo_session: Session, headers: dict[str, dict[str, str]]
) -> None:
    lon, lat = point_inside_xiuzhou(1500)
    incident = report(
        demo_client, headers["wjj.patrol"], lon, lat, category="floating_waste", severity="low"
    )["id"]

    def tier() -> str:
        query = text("SELECT tier FROM incidents WHERE id = :i")
        return str(demo_session.execute(query, {"i": incident}).scalar_one())

    assert tier() == "village"
    escalate_overdue(demo_session, now=datetime.now(UTC) + timedelta(hours=25))
    assert tier() == "town"
    town = headers["wjj.sup"]
    assert (
        demo_client.post(
            f"/api/v1/incidents/{incident}/escalate", json={"note": "hard"}, headers=town
        ).json()["tier"]
        == "county"
    )
    refused = demo_client.post(f"/api/v1/incidents/{incident}/deescalate", json={}, headers=town)
    assert refused.status_code == 403
    county = headers["xiuzhou.sup"]
    assert (
        demo_client.post(
            f"/api/v1/incidents/{incident}/deescalate", json={}, headers=county
        ).json()["tier"]
        == "town"
    )
    for _ in range(2):
        for step in ("assign", "accept", "resolve", "reopen"):
            assert act(demo_client, county, incident, step) == 200, step
    assert tier() == "county"  # reopened twice


def test_duplicates_link_to_the_open_case_and_can_be_unlinked(
    demo_client: TestClient, headers: dict[str, dict[str, str]]
) -> None:
    lon, lat = point_inside_xiuzhou(1000)
    first = report(demo_client, headers["wjj.patrol"], lon, lat)["id"]
    near_lon, near_lat, _ = oracle.GEOD.fwd(lon, lat, 45, 40)
    second = report(demo_client, headers["wjj.patrol"], float(near_lon), float(near_lat))["id"]
    other = report(
        demo_client,
        headers["wjj.patrol"],
        float(near_lon),
        float(near_lat),
        category="illegal_fishing",
    )["id"]
    sup = headers["xiuzhou.sup"]
    detail = demo_client.get(f"/api/v1/incidents/{first}", headers=sup).json()["properties"]
    assert [d["id"] for d in detail["duplicates"]] == [second]
    assert (
        demo_client.get(f"/api/v1/incidents/{other}", headers=sup).json()["properties"][
            "duplicate_of"
        ]
        is None
    )
    assert (
        demo_client.delete(f"/api/v1/incidents/{second}/duplicate_of", headers=sup).status_code
        == 204
    )
    assert (
        demo_client.get(f"/api/v1/incidents/{second}", headers=sup).json()["properties"][
            "duplicate_of"
        ]
        is None
    )


def test_patrol_passing_a_resolved_incident_is_verification_evidence(
    demo_client: TestClient, demo_session: Session, headers: dict[str, dict[str, str]]
) -> None:
    lons, lats = oracle.border_crossing_line(800)
    middle = len(lons) // 2
    incident = report(demo_client, headers["admin"], float(lons[middle]), float(lats[middle]))["id"]
    for step in ("assign", "accept", "resolve"):
        assert act(demo_client, headers["admin"], incident, step) == 200
    joint = demo_session.execute(text("SELECT id FROM teams WHERE zone_id IS NOT NULL")).scalar()
    # The fixes near the incident come just after its resolution (now), not in the future.
    start = datetime.now(UTC) - timedelta(seconds=300)
    data = oracle.gpx(lons, lats, oracle.times(len(lons), start=start))
    assert (
        demo_client.post(
            "/api/v1/patrols",
            headers=headers["sz.patrol"],
            data={"team_id": str(joint)},
            files={"file": ("v.gpx", data)},
        ).status_code
        == 201
    )
    detail = demo_client.get(f"/api/v1/incidents/{incident}", headers=headers["admin"]).json()
    assert len(detail["properties"]["verifications"]) == 1
    assert detail["properties"]["history"][-1]["kind"] == "patrol_evidence"


def test_photo_report_uses_exif_location_and_strips_it_on_download(
    demo_client: TestClient, headers: dict[str, dict[str, str]]
) -> None:
    from pathlib import Path

    photo = Path(__file__).resolve().parents[1] / "fixtures" / "photos" / "exif_full.jpg"
    response = demo_client.post(
        "/api/v1/incidents/photo",
        headers=headers["wjj.patrol"],
        data={"category": "floating_waste", "client_id": "wjj-photo-1"},
        files={"file": ("IMG_0001.jpg", photo.read_bytes(), "image/jpeg")},
    )
    assert response.status_code == 201, response.text
    body = response.json()
    # The fixture script wrote 30°50'28.4424"N 120°43'24.4416"E.
    assert abs(body["lat"] - 30.841234) < 1e-6 and abs(body["lon"] - 120.723456) < 1e-6
    detail = demo_client.get(f"/api/v1/incidents/{body['id']}", headers=headers["wjj.sup"])
    props = detail.json()["properties"]
    assert props["lead_code"].startswith("330411") and len(props["photos"]) == 1
    download = demo_client.get(
        f"/api/v1/incidents/{body['id']}/photos/{props['photos'][0]['id']}",
        headers=headers["wjj.sup"],
    )
    assert download.status_code == 200 and b"Exif" not in download.content
    again = demo_client.post(
        "/api/v1/incidents/photo",
        headers=headers["wjj.patrol"],
        data={"category": "floating_waste", "client_id": "wjj-photo-1"},
        files={"file": ("IMG_0001.jpg", photo.read_bytes(), "image/jpeg")},
    )
    assert again.status_code == 200 and again.json()["id"] == body["id"]


def test_photo_report_queued_offline_keeps_the_time_it_was_seen(
    demo_client: TestClient, headers: dict[str, dict[str, str]]
) -> None:
    from pathlib import Path

    photo = Path(__file__).resolve().parents[1] / "fixtures" / "photos" / "exif_full.jpg"
    seen = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=5)
    response = demo_client.post(
        "/api/v1/incidents/photo",
        headers=headers["wjj.patrol"],
        data={
            "category": "floating_waste",
            "client_id": "wjj-offline-1",
            "reported_at": seen.isoformat(),
        },
        files={"file": ("IMG_0002.jpg", photo.read_bytes(), "image/jpeg")},
    )
    assert response.status_code == 201, response.text
    detail = demo_client.get(
        f"/api/v1/incidents/{response.json()['id']}", headers=headers["wjj.sup"]
    ).json()["properties"]
    assert datetime.fromisoformat(detail["reported_at"]) == seen
