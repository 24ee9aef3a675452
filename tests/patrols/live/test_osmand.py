"""geo_patrol.patrols.live.osmand, written from real OsmAnd / Traccar Client requests."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from geo_patrol.core.errors import InvalidInput
from geo_patrol.patrols.live.osmand import KNOT_MPS, LivePosition, parse_osmand

NOW = datetime(2024, 5, 1, 9, 30, tzinfo=UTC)
AT_0800Z = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
FORM = "application/x-www-form-urlencoded"


def query(text: str, *, method: str = "GET") -> list[LivePosition]:
    """Parse a request carrying its parameters in the query string."""
    return parse_osmand(method=method, query=text, body=b"", content_type=None, now=NOW)


def one(text: str) -> LivePosition:
    """Parse a query-string request that must yield exactly one position."""
    positions = query(text)
    assert len(positions) == 1
    return positions[0]


def post_json(payload: Any, content_type: str | None = "application/json") -> list[LivePosition]:
    """Parse a Traccar Client 9 style JSON POST."""
    body = json.dumps(payload).encode()
    return parse_osmand(method="POST", query="", body=body, content_type=content_type, now=NOW)


def refused(text: str) -> InvalidInput:
    """Return the InvalidInput raised for a query-string request."""
    with pytest.raises(InvalidInput) as caught:
        query(text)
    return caught.value


def location(**overrides: Any) -> dict[str, Any]:
    """A background-geolocation location object as Traccar Client 9 sends it."""
    body: dict[str, Any] = {
        "timestamp": "2024-05-01T08:00:00.000Z",
        "uuid": "2d1f3c3e-6f0a-4c55-9d53-1a1b2c3d4e5f",
        "odometer": 1234.5,
        "is_moving": True,
        "event": "motionchange",
        "coords": {
            "latitude": 30.9,
            "longitude": 120.65,
            "accuracy": 4.5,
            "speed": 1.5,
            "speed_accuracy": 0.5,
            "heading": 270.0,
            "heading_accuracy": 10,
            "altitude": 3.2,
            "altitude_accuracy": 2,
        },
        "activity": {"type": "on_foot", "confidence": 90},
        "battery": {"level": 0.57, "is_charging": False},
        "extras": {"boat": "PB-07"},
    }
    body.update(overrides)
    return body


# --- query string / form body ------------------------------------------------------------


def test_osmand_default_url_template() -> None:
    position = one(
        "id=dev-token-1&timestamp=1714550400&lat=30.9&lon=120.65&speed=1.2"
        "&bearing=90&altitude=3&accuracy=5&batt=80"
    )
    assert position.speed_mps == pytest.approx(1.2 * 0.514444)
    assert replace(position, speed_mps=None) == LivePosition(
        device_id="dev-token-1",
        time=AT_0800Z,
        lon=120.65,
        lat=30.9,
        bearing=90.0,
        altitude=3.0,
        accuracy_m=5.0,
        battery=80.0,
    )
    assert position.time.tzinfo is UTC
    assert position.valid is True
    assert position.mock is False
    assert position.extras == {}


def test_speed_is_converted_from_knots() -> None:
    assert one("id=d&lat=30.9&lon=120.65&speed=10").speed_mps == pytest.approx(5.14444)
    assert KNOT_MPS == 0.514444


def test_older_traccar_client_with_location_pair() -> None:
    position = one(
        "id=dev-token-2&timestamp=1714550400&location=30.9%2C120.65&hdop=0.8"
        "&altitude=4.0&speed=0.0&heading=181.5&batt=64.0&charge=true&valid=true"
    )
    assert (position.lat, position.lon) == (30.9, 120.65)
    assert position.hdop == 0.8
    assert position.bearing == 181.5
    assert position.speed_mps == 0.0
    assert position.battery == 64.0
    assert position.charging is True
    assert position.valid is True


def test_location_pair_with_raw_comma() -> None:
    position = one("id=d&location=-33.86,151.21")
    assert (position.lat, position.lon) == (-33.86, 151.21)


def test_deviceid_alias_and_flags() -> None:
    position = one("deviceid=abc&lat=1&lon=2&valid=0&charge=false&mock=true")
    assert position.device_id == "abc"
    assert position.valid is False
    assert position.charging is False
    assert position.mock is True


def test_valid_accepts_one_and_upper_case() -> None:
    assert one("id=d&lat=1&lon=2&valid=1").valid is True
    assert one("id=d&lat=1&lon=2&valid=FALSE").valid is False


def test_post_form_body_when_query_is_empty() -> None:
    body = b"id=dev-token-3&timestamp=1714550400&lat=30.9&lon=120.65&batt=50"
    (position,) = parse_osmand(method="POST", query="", body=body, content_type=FORM, now=NOW)
    assert position.device_id == "dev-token-3"
    assert position.time == AT_0800Z
    assert position.battery == 50.0


def test_query_wins_over_form_body() -> None:
    (position,) = parse_osmand(
        method="POST",
        query="id=from-query&lat=1&lon=2",
        body=b"id=from-body",
        content_type=FORM,
        now=NOW,
    )
    assert position.device_id == "from-query"


def test_any_method_is_accepted() -> None:
    assert query("id=d&lat=1&lon=2", method="PUT")[0].device_id == "d"


def test_missing_timestamp_means_now() -> None:
    assert one("id=d&lat=1&lon=2").time == NOW
    assert one("id=d&lat=1&lon=2&timestamp=").time == NOW


def test_epoch_milliseconds() -> None:
    position = one("id=d&lat=1&lon=2&timestamp=1714550400123")
    assert position.time == AT_0800Z + timedelta(milliseconds=123)


@pytest.mark.parametrize(
    "timestamp",
    [
        "2024-05-01+08:00:00",  # yyyy-MM-dd HH:mm:ss with the space form-encoded as "+"
        "2024-05-01%2008:00:00",
        "2024-05-01T08:00:00",
        "2024-05-01T08:00:00Z",
        "2024-05-01T08:00:00.000Z",
        "2024-05-01T16%3A00%3A00%2B08%3A00",  # +08:00 percent-encoded
        "2024-05-01T16:00:00+08:00",  # raw "+": decoded to a space
        "2024-05-01T16:00:00%2B0800",
        "2024-05-01T03:00:00-05:00",
        "2024-05-01+16:00:00+08:00",  # yyyy-MM-dd HH:mm:ss+08:00, both "+" decoded to spaces
    ],
)
def test_text_timestamps(timestamp: str) -> None:
    assert one(f"id=d&lat=1&lon=2&timestamp={timestamp}").time == AT_0800Z


@pytest.mark.parametrize(
    "timestamp",
    [
        "0001-01-01T00:00:00Z",
        "1899-12-31T23:59:59Z",
        "2200-01-01T00:00:00Z",
        "7258118400",
        "7258118400000",
    ],
)
def test_timestamps_outside_the_years_files_may_have_are_refused(timestamp: str) -> None:
    error = refused(f"id=d&lat=1&lon=2&timestamp={timestamp}")
    assert "outside the years 1900 to 2199" in error.detail
    assert error.extra["field"] == "timestamp"


def test_timestamp_keeps_fraction_and_is_utc() -> None:
    time = one("id=d&lat=1&lon=2&timestamp=2024-05-01T16:00:00.250%2B08:00").time
    assert time == AT_0800Z + timedelta(milliseconds=250)
    assert time.utcoffset() == timedelta(0)


def test_aware_now_is_converted_to_utc() -> None:
    (position,) = parse_osmand(
        method="GET",
        query="id=d&lat=1&lon=2",
        body=b"",
        content_type=None,
        now=datetime(2024, 5, 1, 17, 30, tzinfo=timezone(timedelta(hours=8))),
    )
    assert position.time == NOW
    assert position.time.tzinfo is UTC


def test_naive_now_is_taken_as_utc(monkeypatch: pytest.MonkeyPatch) -> None:
    """A naive time is UTC, not the machine's local time (set to UTC+8 here, where taking
    it as local would put the fix eight hours early)."""
    monkeypatch.setenv("TZ", "Asia/Shanghai")
    time.tzset()
    try:
        assert datetime(2024, 5, 1, 9, 30).astimezone(UTC) != NOW  # the zone took effect
        (position,) = parse_osmand(
            method="GET",
            query="id=d&lat=1&lon=2",
            body=b"",
            content_type=None,
            now=datetime(2024, 5, 1, 9, 30),
        )
    finally:
        monkeypatch.undo()
        time.tzset()
    assert position.time == NOW
    assert position.time.tzinfo is UTC


def test_unknown_parameters_are_kept_as_extras_without_the_id() -> None:
    position = one("id=secret&lat=1&lon=2&driverUniqueId=42&boat=PB+07&ignition=true&ID=x")
    assert position.extras == {"driverUniqueId": "42", "boat": "PB 07", "ignition": "true"}


def test_whitespace_is_trimmed() -> None:
    position = one("id=%20dev%20&lat=%2030.9%20&lon=120.65+&timestamp=+1714550400")
    assert position.device_id == "dev"
    assert (position.lat, position.lon) == (30.9, 120.65)
    assert position.time == AT_0800Z


def test_leading_question_mark_is_ignored() -> None:
    assert one("?id=d&lat=1&lon=2").device_id == "d"


# --- errors ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("lat=30.9&lon=120.65", "id"),
        ("id=&lat=30.9&lon=120.65", "id"),
        ("id=%20&lat=30.9&lon=120.65", "id"),
        ("id=d&lon=120.65", "lat"),
        ("id=d&lat=30.9", "lon"),
        ("id=d&lat=abc&lon=120.65", "lat"),
        ("id=d&lat=30,9&lon=120.65", "lat"),
        ("id=d&lat=NaN&lon=120.65", "lat"),
        ("id=d&lat=30.9&lon=inf", "lon"),
        ("id=d&lat=1e999&lon=120.65", "lat"),
        ("id=d&lat=1_0&lon=120.65", "lat"),
        ("id=d&lat=90.5&lon=120.65", "lat"),
        ("id=d&lat=30.9&lon=-180.01", "lon"),
        ("id=d&location=30.9", "location"),
        ("id=d&location=30.9,abc", "location"),
        ("id=d&location=95,120", "location"),
        ("id=d&lat=1&lon=2&timestamp=yesterday", "timestamp"),
        ("id=d&lat=1&lon=2&timestamp=2024-05-01", "timestamp"),
        ("id=d&lat=1&lon=2&timestamp=2024-13-01T00:00:00", "timestamp"),
        ("id=d&lat=1&lon=2&timestamp=2024-05-01T16:00:00%2B25:00", "timestamp"),
        ("id=d&lat=1&lon=2&timestamp=99999999999999999999", "timestamp"),
        ("id=d&lat=1&lon=2&speed=fast", "speed"),
        ("id=d&lat=1&lon=2&heading=nan", "heading"),
        ("id=d&lat=1&lon=2&charge=maybe", "charge"),
        ("id=d&lat=1&lon=2&valid=yes", "valid"),
    ],
)
def test_invalid_query_names_the_field(text: str, field: str) -> None:
    error = refused(text)
    assert error.extra["field"] == field
    assert error.status == 422


def test_empty_request_is_missing_the_id() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_osmand(method="POST", query="", body=b"", content_type=None, now=NOW)
    assert caught.value.extra["field"] == "id"


# --- Traccar Client 9 JSON ----------------------------------------------------------------


def test_traccar_client_json_single_location() -> None:
    (position,) = post_json({"device_id": "dev-token-9", "location": location()})
    assert position == LivePosition(
        device_id="dev-token-9",
        time=AT_0800Z,
        lon=120.65,
        lat=30.9,
        speed_mps=1.5,
        bearing=270.0,
        altitude=3.2,
        accuracy_m=4.5,
        battery=57.0,
        charging=False,
        event="motionchange",
        extras={
            "uuid": "2d1f3c3e-6f0a-4c55-9d53-1a1b2c3d4e5f",
            "odometer": "1234.5",
            "is_moving": "true",
            "activity": "on_foot",
            "boat": "PB-07",
        },
    )


def test_json_batch_in_location_list() -> None:
    batch = [
        location(timestamp="2024-05-01T08:00:00.000Z"),
        location(timestamp="2024-05-01T08:00:10.000Z", event="heartbeat"),
    ]
    positions = post_json({"device_id": "d", "location": batch})
    assert [p.time for p in positions] == [AT_0800Z, AT_0800Z + timedelta(seconds=10)]
    assert [p.event for p in positions] == ["motionchange", "heartbeat"]


def test_json_top_level_list() -> None:
    positions = post_json(
        [{"device_id": "a", "location": location()}, {"device_id": "b", "location": [location()]}]
    )
    assert [p.device_id for p in positions] == ["a", "b"]


def test_json_unknown_speed_and_heading() -> None:
    coords = {"latitude": 30.9, "longitude": 120.65, "accuracy": 12, "speed": -1, "heading": -1}
    (position,) = post_json({"device_id": "d", "location": location(coords=coords)})
    assert position.speed_mps is None
    assert position.bearing is None
    assert position.altitude is None
    assert position.accuracy_m == 12.0


def test_json_battery_charging_and_mock() -> None:
    loc = location(battery={"level": 1, "is_charging": True}, mock=True)
    (position,) = post_json({"device_id": "d", "location": loc})
    assert (position.battery, position.charging, position.mock) == (100.0, True, True)


def test_json_unknown_battery_level() -> None:
    (position,) = post_json({"device_id": "d", "location": location(battery={"level": -1})})
    assert position.battery is None
    assert position.charging is None


def test_json_detected_without_content_type() -> None:
    (position,) = post_json({"device_id": "d", "location": location()}, content_type=None)
    assert position.device_id == "d"
    (position,) = post_json({"device_id": "d", "location": location()}, "application/json; utf-8")
    assert position.device_id == "d"


def test_json_without_timestamp_means_now() -> None:
    loc = location()
    del loc["timestamp"]
    (position,) = post_json({"device_id": "d", "location": loc})
    assert position.time == NOW


def test_json_extras_never_hold_the_device_id() -> None:
    loc = location(extras={"device_id": "secret", "shift": 2, "ok": False})
    (position,) = post_json({"device_id": "secret", "location": loc})
    assert "device_id" not in position.extras
    assert position.extras["shift"] == "2"
    assert position.extras["ok"] == "false"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"location": location()}, "id"),
        ({"device_id": "", "location": location()}, "id"),
        ({"device_id": None, "location": location()}, "id"),
        ({"device_id": "d"}, "location"),
        ({"device_id": "d", "location": location(coords=None)}, "location.coords"),
        (
            {"device_id": "d", "location": location(coords={"longitude": 120.65})},
            "location.coords.latitude",
        ),
        (
            {"device_id": "d", "location": location(coords={"latitude": 91, "longitude": 1})},
            "location.coords.latitude",
        ),
        (
            {"device_id": "d", "location": [location(), location(coords={"latitude": "x"})]},
            "location[1].coords.latitude",
        ),
        ({"device_id": "d", "location": location(timestamp="soon")}, "location.timestamp"),
        ({"device_id": "d", "location": location(battery={"level": 57})}, "location.battery.level"),
        ([{"device_id": "d", "location": location(coords=[])}], "[0].location.coords"),
        ([1], "[0]"),
    ],
)
def test_invalid_json_names_the_field(payload: Any, field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        post_json(payload)
    assert caught.value.extra["field"] == field


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b'{"device_id": "d", "location": {"coords": {"latitude": NaN, "longitude": 1}}}',
        b"\xff\xfe",
        b'{"device_id": "d", "location": {"coords": {"latitude": Infinity, "longitude": 1}}}',
    ],
)
def test_unreadable_json_body(body: bytes) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_osmand(method="POST", query="", body=body, content_type="application/json", now=NOW)
    assert caught.value.extra["field"] == "body"


def test_json_infinity_refused() -> None:
    body = b'{"device_id": "d", "location": {"coords": {"latitude": 1e999, "longitude": 1}}}'
    with pytest.raises(InvalidInput) as caught:
        parse_osmand(method="POST", query="", body=body, content_type=None, now=NOW)
    assert caught.value.extra["field"] == "location.coords.latitude"


@pytest.mark.parametrize("latitude", ["true", "1" + "0" * 400])
def test_json_boolean_or_huge_coordinate_refused(latitude: str) -> None:
    body = b'{"device_id": "d", "location": {"coords": {"latitude": %s, "longitude": 1}}}' % (
        latitude.encode()
    )
    with pytest.raises(InvalidInput) as caught:
        parse_osmand(method="POST", query="", body=body, content_type=None, now=NOW)
    assert caught.value.extra["field"] == "location.coords.latitude"
