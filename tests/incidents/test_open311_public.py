"""Open311's public read (GEO_PATROL_OPEN311_PUBLIC_READ): off, GET requests without a key is
a 401 as before; on, anyone reads every request's public fields in JSON and XML, and the
personal text of a report never leaves. The keyed JSON answer is the reference."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from typing import Any

import pyproj
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from geo_patrol.core.settings import Settings
from tests.incidents.test_open311 import BASE, assert_open311_error, created_id, file_request
from tests.support.clients import app_on
from tests.support.oracle import point_inside_xiuzhou

PUBLIC_FIELDS = [
    "service_request_id",
    "status",
    "service_name",
    "service_code",
    "agency_responsible",
    "requested_datetime",
    "updated_datetime",
    "lat",
    "long",
]
# What the citizen wrote: a name and a phone number, which a public feed must not show.
PERSONAL = "王小明 13800001111 家门口的排污口"
GEOD = pyproj.Geod(ellps="WGS84")


@pytest.fixture
def public_client(database_url: str, demo_session: Session) -> Iterator[TestClient]:
    """The app on the demo data with the public read on."""
    settings = Settings(database_url=database_url, open311_public_read=True)
    with TestClient(app_on(demo_session, settings)) as client:
        yield client


@pytest.fixture
def filed(
    public_client: TestClient, headers: dict[str, dict[str, str]]
) -> tuple[str, float, float, dict[str, Any]]:
    """A request filed with a key (id, lon, lat), and how the key's owner reads it back."""
    key = headers["wjj.patrol"]["Authorization"].removeprefix("Bearer ")
    lon, lat = point_inside_xiuzhou(30)
    request_id = created_id(file_request(public_client, key, lon, lat, description=PERSONAL))
    keyed = public_client.get(f"{BASE}/requests/{request_id}.json", params={"api_key": key})
    assert keyed.status_code == 200 and keyed.json()[0]["description"] == PERSONAL
    return request_id, lon, lat, keyed.json()[0]


def test_off_by_default_no_key_is_401_in_both_formats(demo_client: TestClient) -> None:
    assert not Settings().open311_public_read
    assert_open311_error(demo_client.get(f"{BASE}/requests.json"), 401, naming="api_key")
    refused = demo_client.get(f"{BASE}/requests.xml")
    assert refused.status_code == 401
    assert ET.fromstring(refused.content).findtext("error/code") == "401"


def _check_public(record: dict[str, Any], lon: float, lat: float, keyed: dict[str, Any]) -> None:
    """Only the public fields; the place within 100 m, on a 0.001° grid; the rest as the
    keyed answer says."""
    assert list(record) == PUBLIC_FIELDS
    for name in PUBLIC_FIELDS:
        if name not in ("lat", "long"):
            assert record[name] == keyed[name], name
    for value in (record["lat"], record["long"]):
        assert abs(value * 1000 - round(value * 1000)) < 1e-6, value  # three decimals
    _, _, metres = GEOD.inv(lon, lat, record["long"], record["lat"])
    assert 0 < metres < 100
    assert keyed["agency_responsible"]  # a body is named (the keyed answer's, checked above)


def test_on_json_shows_only_the_public_fields(
    public_client: TestClient, filed: tuple[str, float, float, dict[str, Any]]
) -> None:
    request_id, lon, lat, keyed = filed
    listed = public_client.get(f"{BASE}/requests.json")
    assert listed.status_code == 200, listed.text
    (record,) = [r for r in listed.json() if r["service_request_id"] == request_id]
    _check_public(record, lon, lat, keyed)
    one = public_client.get(f"{BASE}/requests/{request_id}.json")
    assert one.status_code == 200 and one.json() == [record]
    for answer in (listed, one):
        assert "13800001111" not in answer.text and "王小明" not in answer.text


def test_on_xml_shows_only_the_public_fields(
    public_client: TestClient, filed: tuple[str, float, float, dict[str, Any]]
) -> None:
    request_id, lon, lat, keyed = filed
    answer = public_client.get(f"{BASE}/requests.xml", params={"service_request_id": request_id})
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/xml")
    assert "13800001111" not in answer.text
    (element,) = ET.fromstring(answer.content).findall("request")
    record: dict[str, Any] = {child.tag: child.text for child in element}
    record["lat"], record["long"] = float(record["lat"]), float(record["long"])
    _check_public(record, lon, lat, keyed)


def test_on_a_key_still_reads_everything_and_a_wrong_key_is_still_403(
    public_client: TestClient, filed: tuple[str, float, float, dict[str, Any]]
) -> None:
    _, _, lat, keyed = filed
    assert keyed["description"] == PERSONAL and abs(keyed["lat"] - lat) < 1e-7
    wrong = public_client.get(f"{BASE}/requests.json", params={"api_key": "gpt_not-a-token"})
    assert_open311_error(wrong, 403, naming="api_key")
    # Filing a request still needs a key.
    form = {"service_code": "illegal_discharge", "lat": "30.9", "long": "120.6"}
    assert_open311_error(public_client.post(f"{BASE}/requests.json", data=form), 401)
