"""Open311 GeoReport v2 on the demo region, called the way real Open311 clients call it.

Clients (Open311 Mobile, Mark-a-Spot, FixMyStreet's Open311 backend) POST form-encoded
fields to requests.json with an api_key, and poll requests.json?service_request_id=...
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import text
from sqlalchemy.orm import Session

from tests.support import oracle
from tests.support.oracle import point_inside_xiuzhou
from tests.support.principals import REVOKED, REVOKED_TOKEN, SZ_PHONE_TOKEN

BASE = "/open311/v2"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture
def keys(headers: dict[str, dict[str, str]]) -> dict[str, str]:
    """The raw tokens, as Open311 clients send them in api_key (the wjj phone is revoked)."""
    return {
        name: h["Authorization"].removeprefix("Bearer ")
        for name, h in headers.items()
        if h and name != REVOKED
    }


def point_inside_wujiang(distance_m: float) -> tuple[float, float]:
    """A point `distance_m` from the border river, on the Wujiang side."""
    return oracle.point_off_border_river(distance_m, "320509")


def file_request(
    client: TestClient,
    api_key: str,
    lon: float,
    lat: float,
    *,
    suffix: str = "json",
    headers: dict[str, str] | None = None,
    attributes: dict[str, str] | None = None,
    **fields: str,
) -> Response:
    """POST the form a FixMyStreet-style Open311 client sends (attributes: {"client_id": ..})."""
    form = {
        "api_key": api_key,
        "service_code": "illegal_discharge",
        "lat": repr(lat),
        "long": repr(lon),
        "description": "排污口有黑水流出，气味刺鼻",
        "email": "citizen@example.cn",
        "first_name": "小明",
        "last_name": "王",
        "media_url": "https://photos.example.cn/outfall-0042.jpg",
        **fields,
        **{f"attribute[{name}]": value for name, value in (attributes or {}).items()},
    }
    response: Response = client.post(
        f"{BASE}/requests.{suffix}", data=form, headers={**FORM, **(headers or {})}
    )
    return response


def created_id(response: Response) -> str:
    """The id of a request just filed (201, a JSON list of one)."""
    assert response.status_code == 201, response.text
    body = response.json()
    assert isinstance(body, list) and len(body) == 1 and body[0]["account_id"] is None
    return str(body[0]["service_request_id"])


def one_request(client: TestClient, api_key: str, request_id: str) -> dict[str, Any]:
    """GET requests/{id}.json: a one-element list."""
    response = client.get(f"{BASE}/requests/{request_id}.json", params={"api_key": api_key})
    assert response.status_code == 200, response.text
    body = response.json()
    assert isinstance(body, list) and len(body) == 1
    return dict(body[0])


def listed(client: TestClient, api_key: str, **params: str) -> list[str]:
    """The ids GET requests.json lists."""
    response = client.get(f"{BASE}/requests.json", params={"api_key": api_key, **params})
    assert response.status_code == 200, response.text
    return [r["service_request_id"] for r in response.json()]


def assert_open311_error(response: Response, status: int, naming: str | None = None) -> str:
    """The spec's error list (not problem+json), with the HTTP status; returns the text."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body == [{"code": status, "description": body[0]["description"]}]
    if naming:
        assert naming in body[0]["description"], body
    return str(body[0]["description"])


# --- services ---------------------------------------------------------------------------------


def test_services_list_every_active_category_in_chinese_and_english(
    demo_client: TestClient, demo_session: Session
) -> None:
    categories = {
        row.code: (row.name, row.name_en)
        for row in demo_session.execute(
            text("SELECT code, name, name_en FROM incident_categories WHERE active")
        )
    }
    assert len(categories) == 9  # the eight of migration 0005, water_quality of 0019
    zh = demo_client.get(f"{BASE}/services.json")
    assert zh.status_code == 200
    assert {s["service_code"]: s["service_name"] for s in zh.json()} == {
        code: names[0] for code, names in categories.items()
    }
    for service in zh.json():
        assert service["metadata"] is False and service["type"] == "realtime"
        assert service["group"] == "water" and service["description"]
        assert service["service_code"] in service["keywords"]
    english = {code: names[1] for code, names in categories.items()}
    by_param = demo_client.get(f"{BASE}/services.json", params={"locale": "en"}).json()
    assert {s["service_code"]: s["service_name"] for s in by_param} == english
    by_header = demo_client.get(
        f"{BASE}/services.json", headers={"Accept-Language": "en-US,en;q=0.9,zh-CN;q=0.5"}
    ).json()
    assert {s["service_code"]: s["service_name"] for s in by_header} == english
    preferred_zh = demo_client.get(
        f"{BASE}/services.json", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"}
    ).json()
    assert preferred_zh == zh.json()


def test_service_definition_and_unknown_service(demo_client: TestClient) -> None:
    found = demo_client.get(f"{BASE}/services/illegal_discharge.json")
    assert found.status_code == 200
    assert found.json() == {"service_code": "illegal_discharge", "attributes": []}
    missing = demo_client.get(f"{BASE}/services/potholes.json")
    assert_open311_error(missing, 404, naming="potholes")


def test_discovery_points_at_this_endpoint(demo_client: TestClient) -> None:
    response = demo_client.get(f"{BASE}/discovery.json")
    assert response.status_code == 200
    (endpoint,) = response.json()["endpoints"]
    assert endpoint["url"] == "http://testserver/open311/v2"
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert set(endpoint["formats"]) == {"application/json", "text/xml"}


# --- filing a request -------------------------------------------------------------------------


def test_form_post_round_trips_as_a_routed_joint_incident(
    demo_client: TestClient, keys: dict[str, str], headers: dict[str, dict[str, str]]
) -> None:
    lon, lat = point_inside_xiuzhou(30)
    response = file_request(
        demo_client, keys["wjj.patrol"], lon, lat, address_string="小天圩河南岸 3 号排口"
    )
    request_id = created_id(response)
    notice = response.json()[0]["service_notice"]
    assert "王江泾镇" in notice and "盛泽镇" in notice

    seen = one_request(demo_client, keys["wjj.patrol"], request_id)
    assert seen["service_request_id"] == request_id
    assert seen["service_code"] == "illegal_discharge" and seen["service_name"] == "偷排/非法排污"
    assert abs(seen["lat"] - lat) < 1e-7 and abs(seen["long"] - lon) < 1e-7
    assert seen["status"] == "open" and seen["status_notes"] is None
    assert seen["agency_responsible"] == "王江泾镇 (牵头); 盛泽镇"
    assert seen["description"] == "排污口有黑水流出，气味刺鼻"
    assert seen["address"] == "小天圩河南岸 3 号排口"
    assert seen["media_url"] == "https://photos.example.cn/outfall-0042.jpg"
    requested = datetime.fromisoformat(seen["requested_datetime"])
    assert requested.utcoffset() == timedelta(hours=8)
    assert abs(requested - datetime.now(UTC)) < timedelta(minutes=5)
    assert datetime.fromisoformat(seen["expected_datetime"]) > requested
    assert datetime.fromisoformat(seen["updated_datetime"]) >= requested

    # The same incident as the native API shows: routed, joint, from Open311.
    native = demo_client.get(f"/api/v1/incidents/{request_id}", headers=headers["admin"])
    assert native.status_code == 200
    props = native.json()["properties"]
    assert props["source"] == "open311" and props["severity"] == "medium"
    assert props["is_joint"] and props["lead_code"].startswith("330411")
    assert any(code.startswith("320509") for code in props["co_codes"])
    assert props["description"] == seen["description"]
    assert props["address"] == "小天圩河南岸 3 号排口"
    lead = [r["name"] for r in props["responsible"] if r["role"] == "lead"]
    assert "王江泾镇" in lead

    english = demo_client.get(
        f"{BASE}/requests/{request_id}.json", params={"api_key": keys["wjj.patrol"], "locale": "en"}
    )
    (translated,) = english.json()
    assert translated["service_name"] == "Illegal discharge"
    assert translated["agency_responsible"] == "Wangjiangjing Town (lead); Shengze Town"


def test_reporter_details_are_kept(
    demo_client: TestClient, demo_session: Session, keys: dict[str, str]
) -> None:
    lon, lat = point_inside_xiuzhou(500)
    request_id = created_id(
        file_request(demo_client, keys["wjj.patrol"], lon, lat, phone="+86 138 0000 0000")
    )
    row = demo_session.execute(
        text("SELECT reporter_name, reporter_contact, source FROM incidents WHERE id = :id"),
        {"id": int(request_id)},
    ).one()
    assert row.reporter_name == "王小明" and row.source == "open311"
    assert row.reporter_contact == "citizen@example.cn; +86 138 0000 0000"
    latin = created_id(
        file_request(
            demo_client, keys["wjj.patrol"], lon, lat, first_name="Ada", last_name="Lovelace"
        )
    )
    name = demo_session.execute(
        text("SELECT reporter_name FROM incidents WHERE id = :id"), {"id": int(latin)}
    ).scalar_one()
    assert name == "Ada Lovelace"


def test_a_device_token_is_an_api_key(demo_client: TestClient) -> None:
    lon, lat = point_inside_wujiang(300)
    request_id = created_id(file_request(demo_client, SZ_PHONE_TOKEN, lon, lat))
    assert request_id in listed(demo_client, SZ_PHONE_TOKEN)  # a reporter sees their own


def test_json_body_with_severity_attribute(
    demo_client: TestClient, keys: dict[str, str], headers: dict[str, dict[str, str]]
) -> None:
    lon, lat = point_inside_xiuzhou(30)
    body = {
        "api_key": keys["wjj.patrol"],
        "service_code": "illegal_discharge",
        "lat": lat,
        "long": lon,
        "description": "大面积死鱼",
        "attribute": {"severity": "critical"},
    }
    request_id = created_id(demo_client.post(f"{BASE}/requests.json", json=body))
    props = demo_client.get(f"/api/v1/incidents/{request_id}", headers=headers["admin"]).json()[
        "properties"
    ]
    assert props["severity"] == "critical" and props["tier"] == "county"
    assert one_request(demo_client, keys["wjj.patrol"], request_id)["agency_responsible"] == (
        "秀洲区 (牵头); 吴江区"
    )  # a county-tier case is handled by the counties
    flat = {**body, "attribute[severity]": "low"}
    del flat["attribute"]
    low = created_id(demo_client.post(f"{BASE}/requests.json", json=flat))
    props = demo_client.get(f"/api/v1/incidents/{low}", headers=headers["admin"]).json()
    assert props["properties"]["severity"] == "low"


def test_bad_severity_is_refused_naming_the_attribute(
    demo_client: TestClient, keys: dict[str, str]
) -> None:
    lon, lat = point_inside_xiuzhou(800)
    response = file_request(
        demo_client, keys["wjj.patrol"], lon, lat, attributes={"severity": "urgent"}
    )
    assert_open311_error(response, 400, naming="attribute[severity]")


# --- refusals ---------------------------------------------------------------------------------


def test_missing_or_bad_coordinates_are_400_naming_the_field(
    demo_client: TestClient, keys: dict[str, str], demo_session: Session
) -> None:
    form = {
        "api_key": keys["wjj.patrol"],
        "service_code": "illegal_discharge",
        "long": "120.6",
        "description": "no latitude",
    }
    response = demo_client.post(f"{BASE}/requests.json", data=form, headers=FORM)
    assert_open311_error(response, 400, naming="lat")
    no_long = {**form, "lat": "30.9"}
    del no_long["long"]
    assert_open311_error(
        demo_client.post(f"{BASE}/requests.json", data=no_long, headers=FORM), 400, naming="long"
    )
    for bad in ("north", "95", "nan"):
        response = demo_client.post(
            f"{BASE}/requests.json", data={**form, "lat": bad}, headers=FORM
        )
        assert_open311_error(response, 400, naming="lat")
    count = demo_session.execute(text("SELECT count(*) FROM incidents WHERE source = 'open311'"))
    assert count.scalar_one() == 0


def test_unknown_service_code_is_400_naming_it(
    demo_client: TestClient, keys: dict[str, str]
) -> None:
    lon, lat = point_inside_xiuzhou(30)
    response = file_request(demo_client, keys["wjj.patrol"], lon, lat, service_code="pothole")
    assert_open311_error(response, 400, naming="service_code")
    without = {"api_key": keys["wjj.patrol"], "lat": str(lat), "long": str(lon)}
    response = demo_client.post(f"{BASE}/requests.json", data=without, headers=FORM)
    assert_open311_error(response, 400, naming="service_code")


def test_bad_api_key_is_403_and_no_key_is_401(
    demo_client: TestClient, keys: dict[str, str]
) -> None:
    assert keys["sz.phone"] == SZ_PHONE_TOKEN  # and headers_for revoked REVOKED_TOKEN
    lon, lat = point_inside_xiuzhou(30)
    assert_open311_error(file_request(demo_client, "gpt_not-a-token", lon, lat), 403, "api_key")
    assert_open311_error(file_request(demo_client, REVOKED_TOKEN, lon, lat), 403, "api_key")
    read = demo_client.get(f"{BASE}/requests.json", params={"api_key": "gpd_guess"})
    assert_open311_error(read, 403, naming="api_key")
    # No credentials at all: refused (our data is not public), 401 as everywhere else.
    anonymous = demo_client.get(f"{BASE}/requests.json")
    assert_open311_error(anonymous, 401, naming="api_key")
    assert anonymous.headers["www-authenticate"].startswith("Bearer")
    assert_open311_error(demo_client.get(f"{BASE}/requests/1.json"), 401)
    form = {"service_code": "illegal_discharge", "lat": str(lat), "long": str(lon)}
    assert_open311_error(demo_client.post(f"{BASE}/requests.json", data=form, headers=FORM), 401)


def test_bearer_caller_needs_no_api_key(
    demo_client: TestClient, headers: dict[str, dict[str, str]]
) -> None:
    lon, lat = point_inside_xiuzhou(30)
    form = {"service_code": "floating_waste", "lat": str(lat), "long": str(lon)}
    response = demo_client.post(
        f"{BASE}/requests.json", data=form, headers={**FORM, **headers["wjj.patrol"]}
    )
    request_id = created_id(response)
    seen = demo_client.get(
        f"{BASE}/requests.json",
        params={"service_request_id": request_id},
        headers=headers["wjj.sup"],
    )
    assert [r["service_request_id"] for r in seen.json()] == [request_id]
    unknown = demo_client.get(
        f"{BASE}/requests.json", headers={"Authorization": "Bearer gpt_revoked-or-never"}
    )
    assert_open311_error(unknown, 401)


def test_unknown_or_malformed_request_id_is_404(
    demo_client: TestClient, keys: dict[str, str]
) -> None:
    for request_id in ("999999", "abc"):
        response = demo_client.get(
            f"{BASE}/requests/{request_id}.json", params={"api_key": keys["admin"]}
        )
        assert_open311_error(response, 404, naming=request_id)


# --- reading requests -------------------------------------------------------------------------


def test_status_filter_maps_our_workflow_to_open_and_closed(
    demo_client: TestClient, keys: dict[str, str], headers: dict[str, dict[str, str]]
) -> None:
    lon, lat = point_inside_xiuzhou(30)
    still_open = created_id(file_request(demo_client, keys["wjj.patrol"], lon, lat))
    rejected = created_id(
        file_request(
            demo_client, keys["wjj.patrol"], lon + 0.01, lat, service_code="floating_waste"
        )
    )
    action = demo_client.post(
        f"/api/v1/incidents/{rejected}/actions",
        json={"action": "reject", "note": "现场核查未发现漂浮物"},
        headers=headers["xiuzhou.sup"],
    )
    assert action.status_code == 200, action.text
    key = keys["xiuzhou.sup"]
    assert listed(demo_client, key, status="open") == [still_open]
    assert listed(demo_client, key, status="closed") == [rejected]
    assert sorted(listed(demo_client, key, status="open,closed")) == sorted([still_open, rejected])
    closed = one_request(demo_client, key, rejected)
    assert closed["status"] == "closed" and closed["status_notes"] == "现场核查未发现漂浮物"
    assert_open311_error(
        demo_client.get(f"{BASE}/requests.json", params={"api_key": key, "status": "pending"}),
        400,
        naming="status",
    )


def test_service_code_and_id_list_filters(demo_client: TestClient, keys: dict[str, str]) -> None:
    lon, lat = point_inside_xiuzhou(30)
    key = keys["wjj.patrol"]
    discharge = created_id(file_request(demo_client, key, lon, lat))
    waste = created_id(file_request(demo_client, key, lon, lat, service_code="floating_waste"))
    assert listed(demo_client, key, service_code="floating_waste") == [waste]
    assert set(listed(demo_client, key, service_code="floating_waste,illegal_discharge")) == {
        discharge,
        waste,
    }
    both = listed(demo_client, key, service_request_id=f"{discharge},{waste}")
    assert set(both) == {discharge, waste}
    # service_request_id overrides the other filters
    assert listed(demo_client, key, service_request_id=waste, service_code="other") == [waste]
    assert_open311_error(
        demo_client.get(
            f"{BASE}/requests.json", params={"api_key": key, "service_request_id": "1;DROP"}
        ),
        400,
        naming="service_request_id",
    )


def test_start_and_end_date_filter(
    demo_client: TestClient, demo_session: Session, keys: dict[str, str]
) -> None:
    lon, lat = point_inside_xiuzhou(30)
    key = keys["xiuzhou.sup"]
    recent = created_id(file_request(demo_client, key, lon, lat))
    older = created_id(file_request(demo_client, key, lon, lat, service_code="floating_waste"))
    demo_session.execute(
        text("UPDATE incidents SET reported_at = now() - interval '20 days' WHERE id = :id"),
        {"id": int(older)},
    )
    now = datetime.now(UTC)
    assert sorted(listed(demo_client, key)) == sorted([recent, older])  # the last 90 days
    window = {
        "start_date": (now - timedelta(days=1)).isoformat(),
        "end_date": (now + timedelta(hours=1)).isoformat(),
    }
    assert listed(demo_client, key, **window) == [recent]
    china = timezone(timedelta(hours=8))
    before = {
        "start_date": (now - timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "end_date": (now - timedelta(days=10)).astimezone(china).isoformat(),
    }
    assert listed(demo_client, key, **before) == [older]
    after = {"start_date": (now + timedelta(hours=1)).isoformat()}
    assert listed(demo_client, key, **after) == []
    bad = {"api_key": key, "start_date": "last tuesday"}
    assert_open311_error(demo_client.get(f"{BASE}/requests.json", params=bad), 400, "start_date")
    too_long = {"api_key": key, "start_date": "2026-01-01", "end_date": "2026-06-01"}
    assert_open311_error(demo_client.get(f"{BASE}/requests.json", params=too_long), 400, "end_date")


def test_a_xiuzhou_key_does_not_see_a_wujiang_internal_request(
    demo_client: TestClient, keys: dict[str, str], headers: dict[str, dict[str, str]]
) -> None:
    lon, lat = point_inside_wujiang(2000)
    request_id = created_id(file_request(demo_client, keys["sz.patrol"], lon, lat))
    native = demo_client.get(f"/api/v1/incidents/{request_id}", headers=headers["admin"])
    assert not native.json()["properties"]["is_joint"]
    assert native.json()["properties"]["lead_code"].startswith("320509")
    assert one_request(demo_client, keys["wujiang.sup"], request_id)["agency_responsible"] == (
        "盛泽镇"
    )
    assert listed(demo_client, keys["shengze.sup"]) == [request_id]
    hidden = demo_client.get(
        f"{BASE}/requests/{request_id}.json", params={"api_key": keys["xiuzhou.sup"]}
    )
    assert_open311_error(hidden, 404)
    assert listed(demo_client, keys["xiuzhou.sup"]) == []
    assert listed(demo_client, keys["wjj.sup"]) == []
    by_id = listed(demo_client, keys["xiuzhou.sup"], service_request_id=request_id)
    assert by_id == []


# --- idempotence ------------------------------------------------------------------------------


def test_retry_with_the_same_client_id_files_one_request(
    demo_client: TestClient, demo_session: Session, keys: dict[str, str]
) -> None:
    lon, lat = point_inside_xiuzhou(30)
    key = keys["wjj.patrol"]
    extra = {"client_id": "open311-mobile-0007"}
    first = file_request(demo_client, key, lon, lat, attributes=extra)
    again = file_request(demo_client, key, lon, lat, attributes=extra)
    assert first.status_code == 201 and again.status_code == 200
    assert first.json()[0]["service_request_id"] == again.json()[0]["service_request_id"]
    header = {"Idempotency-Key": "mark-a-spot-42"}
    by_header = file_request(demo_client, key, lon, lat, headers=header)
    by_header_again = file_request(demo_client, key, lon, lat, headers=header)
    assert by_header.status_code == 201 and by_header_again.status_code == 200
    assert created_id(by_header) == by_header_again.json()[0]["service_request_id"]
    # Another caller numbering its reports the same way files its own.
    other = file_request(demo_client, keys["sz.patrol"], lon, lat, attributes=extra)
    assert created_id(other) != first.json()[0]["service_request_id"]
    # Without a client id, the same report twice is two requests (linked as duplicates).
    plain = [created_id(file_request(demo_client, key, lon, lat)) for _ in range(2)]
    assert plain[0] != plain[1]
    count = demo_session.execute(text("SELECT count(*) FROM incidents WHERE source = 'open311'"))
    assert count.scalar_one() == 5


# --- XML --------------------------------------------------------------------------------------


def test_xml_variants_have_the_spec_shapes_and_the_same_ids(
    demo_client: TestClient, keys: dict[str, str]
) -> None:
    services = demo_client.get(f"{BASE}/services.xml")
    assert services.headers["content-type"].startswith("text/xml")
    root = ET.fromstring(services.content)
    assert root.tag == "services"
    codes = {s.findtext("service_code") for s in root.findall("service")}
    assert codes == {s["service_code"] for s in demo_client.get(f"{BASE}/services.json").json()}
    assert root.find("service/metadata").text == "false"  # type: ignore[union-attr]

    lon, lat = point_inside_xiuzhou(30)
    description = 'Foam & "oil" <near> the sluice\x01'
    posted = file_request(
        demo_client, keys["wjj.patrol"], lon, lat, suffix="xml", description=description
    )
    assert posted.status_code == 201, posted.text
    created = ET.fromstring(posted.content)
    assert created.tag == "service_requests"
    request_id = created.findtext("request/service_request_id")
    assert request_id
    account = created.find("request/account_id")  # present and empty: we keep no accounts
    assert account is not None and account.text is None and len(account) == 0

    key = keys["wjj.patrol"]
    as_xml = demo_client.get(f"{BASE}/requests.xml", params={"api_key": key})
    as_json = demo_client.get(f"{BASE}/requests.json", params={"api_key": key})
    ids = [r.findtext("service_request_id") for r in ET.fromstring(as_xml.content)]
    assert ids == [r["service_request_id"] for r in as_json.json()] == [request_id]
    one = ET.fromstring(
        demo_client.get(f"{BASE}/requests/{request_id}.xml", params={"api_key": key}).content
    )
    (request,) = one.findall("request")
    assert request.findtext("description") == 'Foam & "oil" <near> the sluice'
    assert abs(float(request.findtext("lat") or "nan") - lat) < 1e-7
    assert request.findtext("agency_responsible") == "王江泾镇 (牵头); 盛泽镇"

    error = demo_client.get(f"{BASE}/requests/999999.xml", params={"api_key": key})
    assert error.status_code == 404
    errors = ET.fromstring(error.content)
    assert errors.tag == "errors" and errors.findtext("error/code") == "404"
    discovery = ET.fromstring(demo_client.get(f"{BASE}/discovery.xml").content)
    assert discovery.findtext("endpoints/endpoint/url") == "http://testserver/open311/v2"


def test_every_route_answers_every_caller_in_the_open311_format(
    demo_client: TestClient, headers: dict[str, dict[str, str]]
) -> None:
    routes = [
        ("GET", "/discovery"),
        ("GET", "/services"),
        ("GET", "/services/other"),
        ("GET", "/requests"),
        ("POST", "/requests"),
        ("GET", "/requests/1"),
    ]
    for name, header in headers.items():
        for method, path in routes:
            for suffix in ("json", "xml"):
                response = demo_client.request(
                    method,
                    f"{BASE}{path}.{suffix}",
                    headers=header,
                    data={} if method == "POST" else None,
                )
                where = (name, method, path, suffix, response.status_code)
                assert response.status_code in (200, 400, 401, 404), where
                if suffix == "xml":
                    assert response.headers["content-type"].startswith("text/xml"), where
                    root = ET.fromstring(response.content)
                    assert (root.tag == "errors") == (response.status_code >= 400), where
                else:
                    body = response.json()
                    if response.status_code >= 400:
                        assert body[0]["code"] == response.status_code, where
