"""Parsing of the OsmAnd / Traccar Client HTTP protocol into live positions (pure, no I/O).

Follows what Traccar's `OsmAndProtocolDecoder` accepts: query-string (or, with an empty
query, form-body) parameters from OsmAnd and older Traccar Clients, and the JSON body of
Traccar Client 9+ (one location or a batch).
"""

from __future__ import annotations

import contextlib
import json
import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import parse_qsl

from geo_patrol.core.catalog import msg
from geo_patrol.core.errors import InvalidInput
from geo_patrol.core.values import FIRST_YEAR, LAST_YEAR

__all__ = ["KNOT_MPS", "LivePosition", "parse_osmand"]

KNOT_MPS = 0.514444
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_MS_ABOVE = 10**10
_MAX_FIELDS = 200
_ID_NAMES = frozenset({"id", "deviceid", "device_id"})
_ALIASES = {"deviceid": "id", "heading": "bearing"}
_KNOWN = frozenset(
    {"id", "timestamp", "lat", "lon", "speed", "bearing", "altitude", "accuracy", "hdop"}
    | {"batt", "charge", "valid", "mock"}
)
_JSON_HANDLED = frozenset({"timestamp", "coords", "battery", "event", "extras", "mock", "activity"})
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_EPOCH_TEXT = re.compile(r"\d+(?:\.\d+)?")
# A raw "+" before an offset arrives as a space once the query string is decoded.
_DATETIME = re.compile(
    r"(?P<date>\d{4}-\d{2}-\d{2})[Tt ](?P<time>\d{2}:\d{2}(?::\d{2})?)(?:[.,](?P<frac>\d+))?"
    r"(?P<zone>[Zz]|[+ -]\d{2}(?::?\d{2})?)?"
)
_TRUE = frozenset({"true", "1"})
_FALSE = frozenset({"false", "0"})


@dataclass(frozen=True)
class LivePosition:
    """One position reported by a tracking app, in WGS84 with SI units and UTC time."""

    device_id: str
    time: datetime
    lon: float
    lat: float
    speed_mps: float | None = None
    bearing: float | None = None
    altitude: float | None = None
    accuracy_m: float | None = None
    hdop: float | None = None
    battery: float | None = None
    charging: bool | None = None
    valid: bool = True
    mock: bool = False
    event: str | None = None
    extras: dict[str, str] = field(default_factory=dict)


def parse_osmand(
    *, method: str, query: str, body: bytes, content_type: str | None, now: datetime
) -> list[LivePosition]:
    """Parse one OsmAnd / Traccar Client request (any method) into its positions."""
    del method  # Traccar accepts GET, POST or anything else alike.
    now = _as_utc(now)
    pairs = _form_pairs(query, "query")
    if _is_json(content_type) or (not pairs and body.lstrip()[:1] in (b"{", b"[")):
        return _parse_json(body, now)
    if not pairs:
        pairs = _form_pairs(body.decode("utf-8", errors="replace"), "body")
    return [_from_params(pairs, now)]


# --- scalar values -----------------------------------------------------------------------


def _as_utc(moment: datetime) -> datetime:
    """Return the instant in UTC; a naive datetime is taken to be UTC already."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _number(raw: str, name: str) -> float:
    """Parse a finite decimal number (no NaN, no infinity, no underscores)."""
    value = raw.strip()
    if _NUMBER.fullmatch(value):
        number = float(value)
        if math.isfinite(number):
            return number
    raise InvalidInput(msg("problem.live.not_finite", name=name, raw=raw), field=name)


def _flag(raw: str, name: str) -> bool:
    """Parse true/false/1/0 (case-insensitive)."""
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise InvalidInput(msg("problem.live.not_boolean", name=name, raw=raw), field=name)


def _coordinate(value: float | None, name: str, limit: float) -> float:
    """Require a latitude (limit 90) or longitude (limit 180) within range."""
    if value is None:
        raise InvalidInput(msg("problem.live.missing_coordinate", name=name), field=name)
    if not -limit <= value <= limit:
        raise InvalidInput(
            msg("problem.live.coordinate_out_of_range", name=name, value=value, limit=limit),
            field=name,
        )
    return value


def _parse_time(raw: str, name: str) -> datetime:
    """Parse epoch seconds, epoch milliseconds (> 10^10) or an ISO-like date and time."""
    value = raw.strip()
    when: datetime | None = None
    try:
        if _EPOCH_TEXT.fullmatch(value):
            number = Decimal(value)
            scale = 1_000 if number > _EPOCH_MS_ABOVE else 1_000_000
            when = _EPOCH + timedelta(microseconds=int(number * scale))
        elif match := _DATETIME.fullmatch(value):
            when = _from_datetime_match(match)
    except (ValueError, OverflowError, InvalidOperation):
        pass
    if when is None:
        raise InvalidInput(msg("problem.live.unreadable_timestamp", raw=raw), field=name)
    if not FIRST_YEAR <= when.year <= LAST_YEAR:  # the years a file's times may have too
        raise InvalidInput(
            msg(
                "problem.live.timestamp_out_of_range",
                raw=raw,
                first_year=FIRST_YEAR,
                last_year=LAST_YEAR,
            ),
            field=name,
        )
    return when


def _from_datetime_match(match: re.Match[str]) -> datetime:
    """Build the UTC instant from a `_DATETIME` match; no zone means UTC."""
    micros = ((match["frac"] or "") + "000000")[:6]
    local = datetime.fromisoformat(f"{match['date']}T{match['time']}.{micros}")
    return local.replace(tzinfo=_zone(match["zone"])).astimezone(UTC)


def _zone(text: str | None) -> timezone:
    """Turn Z, +HH, +HHMM or +HH:MM (the + possibly decoded to a space) into a timezone."""
    if not text or text in ("Z", "z"):
        return UTC
    digits = text[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:] or "0")
    if minutes >= 60:
        raise ValueError("offset minutes out of range")
    offset = timedelta(hours=hours, minutes=minutes)
    return timezone(-offset if text[0] == "-" else offset)


# --- query string / form body ------------------------------------------------------------


def _form_pairs(text: str, name: str) -> list[tuple[str, str]]:
    """Decode application/x-www-form-urlencoded text (`+` is a space, as in Traccar)."""
    try:
        pairs = parse_qsl(
            text.strip().lstrip("?"), keep_blank_values=True, max_num_fields=_MAX_FIELDS
        )
    except ValueError as error:
        raise InvalidInput(
            msg("problem.live.unreadable_value", name=name, error=error), field=name
        ) from None
    return [(key.strip(), value.strip()) for key, value in pairs if key.strip()]


@dataclass
class _Params:
    """Known parameters by canonical name, each with its value and the name it came under."""

    values: dict[str, tuple[str, str]]

    def text(self, key: str) -> str | None:
        """Return the non-empty value of a parameter, or None."""
        entry = self.values.get(key)
        return entry[0] if entry and entry[0] else None

    def name(self, key: str) -> str:
        """Return the parameter name as sent (e.g. `heading`, `location`), for errors."""
        entry = self.values.get(key)
        return entry[1] if entry else key

    def number(self, key: str) -> float | None:
        """Return a numeric parameter, None when absent or empty."""
        value = self.text(key)
        return None if value is None else _number(value, self.name(key))

    def flag(self, key: str) -> bool | None:
        """Return a boolean parameter, None when absent or empty."""
        value = self.text(key)
        return None if value is None else _flag(value, self.name(key))


def _collect(pairs: list[tuple[str, str]]) -> tuple[_Params, dict[str, str]]:
    """Sort parameters into known ones (last value wins) and extras."""
    known: dict[str, tuple[str, str]] = {}
    extras: dict[str, str] = {}
    for name, value in pairs:
        key = _ALIASES.get(name, name)
        if key == "location":
            parts = [part.strip() for part in value.split(",")]
            if len(parts) != 2:
                raise InvalidInput(msg("problem.live.location_format", value=value), field=name)
            known["lat"], known["lon"] = (parts[0], name), (parts[1], name)
        elif key in _KNOWN:
            known[key] = (value, name)
        elif name.lower() not in _ID_NAMES:
            extras[name] = value
    return _Params(known), extras


def _from_params(pairs: list[tuple[str, str]], now: datetime) -> LivePosition:
    """Build the position of an OsmAnd-style parameter list."""
    params, extras = _collect(pairs)
    device_id = params.text("id")
    if device_id is None:
        raise InvalidInput(msg("problem.live.missing_device_id"), field="id")
    lat = _coordinate(params.number("lat"), params.name("lat"), 90.0)
    lon = _coordinate(params.number("lon"), params.name("lon"), 180.0)
    timestamp = params.text("timestamp")
    speed_knots = params.number("speed")
    return LivePosition(
        device_id=device_id,
        time=now if timestamp is None else _parse_time(timestamp, params.name("timestamp")),
        lon=lon,
        lat=lat,
        speed_mps=None if speed_knots is None else speed_knots * KNOT_MPS,
        bearing=params.number("bearing"),
        altitude=params.number("altitude"),
        accuracy_m=params.number("accuracy"),
        hdop=params.number("hdop"),
        battery=params.number("batt"),
        charging=params.flag("charge"),
        valid=params.flag("valid") is not False,
        mock=params.flag("mock") is True,
        extras=extras,
    )


# --- Traccar Client 9+ JSON ---------------------------------------------------------------


def _is_json(content_type: str | None) -> bool:
    """Whether the content type announces JSON."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    return media == "application/json" or media.endswith("+json")


def _refuse_constant(constant: str) -> float:
    """Refuse NaN and Infinity, which Python's json would otherwise accept."""
    raise ValueError(f"{constant} is not a number")


def _parse_json(body: bytes, now: datetime) -> list[LivePosition]:
    """Parse a Traccar Client JSON body: one object, or a list of them."""
    try:
        root = json.loads(body.decode("utf-8-sig"), parse_constant=_refuse_constant)
    except (UnicodeDecodeError, ValueError) as error:
        raise InvalidInput(msg("problem.live.body_not_json", error=error), field="body") from None
    if isinstance(root, list):
        items = [(f"[{index}].", item) for index, item in enumerate(root)]
    else:
        items = [("", root)]
    return [position for prefix, item in items for position in _json_root(item, prefix, now)]


def _json_root(root: object, prefix: str, now: datetime) -> list[LivePosition]:
    """Parse one `{"device_id": ..., "location": {...} | [...]}` object."""
    if not isinstance(root, dict):
        raise InvalidInput(msg("problem.live.body_not_object"), field=prefix.rstrip(".") or "body")
    device_id = root.get("device_id")
    if isinstance(device_id, int) and not isinstance(device_id, bool):
        device_id = str(device_id)
    if not isinstance(device_id, str) or not device_id.strip():
        raise InvalidInput(msg("problem.live.missing_device_id_json"), field="id")
    location, path = root.get("location"), f"{prefix}location"
    if isinstance(location, list):
        items = [(f"{path}[{index}]", item) for index, item in enumerate(location)]
    elif isinstance(location, dict):
        items = [(path, location)]
    else:
        raise InvalidInput(msg("problem.live.location_not_object_or_list"), field=path)
    return [_json_position(device_id.strip(), item, where, now) for where, item in items]


def _json_number(value: object, name: str) -> float | None:
    """Return a finite JSON number (or numeric string), None when null or absent."""
    if value is None:
        return None
    if isinstance(value, str):
        return _number(value, name) if value.strip() else None
    number = math.nan
    if isinstance(value, int | float) and not isinstance(value, bool):
        with contextlib.suppress(OverflowError):  # an integer beyond the float range
            number = float(value)
    if math.isfinite(number):
        return number
    raise InvalidInput(msg("problem.live.not_finite", name=name, raw=value), field=name)


def _json_flag(value: object, name: str) -> bool | None:
    """Return a JSON boolean (or true/false string), None when null or absent."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        return _flag(value, name) if value.strip() else None
    raise InvalidInput(msg("problem.live.not_boolean", name=name, raw=value), field=name)


def _json_position(device_id: str, location: object, path: str, now: datetime) -> LivePosition:
    """Parse one background-geolocation location object."""
    if not isinstance(location, dict):
        raise InvalidInput(msg("problem.live.location_not_object"), field=path)
    coords = location.get("coords")
    if not isinstance(coords, dict):
        raise InvalidInput(msg("problem.live.missing_coords"), field=f"{path}.coords")
    where = f"{path}.coords."
    lat = _json_coordinate(coords.get("latitude"), f"{where}latitude", 90.0)
    lon = _json_coordinate(coords.get("longitude"), f"{where}longitude", 180.0)
    battery, charging = _json_battery(location.get("battery"), f"{path}.battery")
    return LivePosition(
        device_id=device_id,
        time=_json_time(location.get("timestamp"), f"{path}.timestamp", now),
        lon=lon,
        lat=lat,
        speed_mps=_known(_json_number(coords.get("speed"), f"{where}speed")),
        bearing=_known(_json_number(coords.get("heading"), f"{where}heading")),
        altitude=_json_number(coords.get("altitude"), f"{where}altitude"),
        accuracy_m=_json_number(coords.get("accuracy"), f"{where}accuracy"),
        battery=battery,
        charging=charging,
        mock=_json_flag(location.get("mock"), f"{path}.mock") is True,
        event=_json_event(location.get("event"), f"{path}.event"),
        extras=_json_extras(location),
    )


def _json_coordinate(value: object, name: str, limit: float) -> float:
    """Require a JSON latitude or longitude within range."""
    return _coordinate(_json_number(value, name), name, limit)


def _known(value: float | None) -> float | None:
    """Map the negative 'unknown' marker (-1) of speed and heading to None."""
    return None if value is None or value < 0 else value


def _json_time(value: object, name: str, now: datetime) -> datetime:
    """Parse an ISO 8601 (or epoch) timestamp; absent means `now`."""
    if value is None:
        return now
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise InvalidInput(msg("problem.live.unreadable_timestamp", raw=value), field=name)
    return _parse_time(value, name)


def _json_battery(value: object, name: str) -> tuple[float | None, bool | None]:
    """Return (percent, charging) from `{"level": 0..1, "is_charging": bool}`."""
    if value is None:
        return None, None
    if not isinstance(value, dict):
        raise InvalidInput(msg("problem.live.battery_not_object"), field=name)
    level = _json_number(value.get("level"), f"{name}.level")
    if level is not None and level > 1:
        raise InvalidInput(
            msg("problem.live.battery_level_range", level=level), field=f"{name}.level"
        )
    percent = None if level is None or level < 0 else round(level * 100, 6)
    return percent, _json_flag(value.get("is_charging"), f"{name}.is_charging")


def _json_event(value: object, name: str) -> str | None:
    """Return the event name (motionchange, heartbeat, ...), None when absent."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInput(msg("problem.live.event_not_string", value=value), field=name)
    return value.strip() or None


def _json_extras(location: dict[str, Any]) -> dict[str, str]:
    """Keep unhandled scalar fields, `activity.type` and the `extras` object as strings."""
    extras = {
        key: _as_text(value)
        for key, value in location.items()
        if key not in _JSON_HANDLED and value is not None and not isinstance(value, dict | list)
    }
    activity = location.get("activity")
    if isinstance(activity, dict) and isinstance(activity.get("type"), str):
        extras["activity"] = activity["type"]
    nested = location.get("extras")
    if isinstance(nested, dict):
        extras.update({str(k): _as_text(v) for k, v in nested.items() if v is not None})
    return {key: value for key, value in extras.items() if key.lower() not in _ID_NAMES}


def _as_text(value: object) -> str:
    """Render a JSON value as text: true/false, numbers as written, objects as JSON."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, separators=(",", ":"), sort_keys=True)
