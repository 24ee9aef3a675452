"""Open311 GeoReport v2: the incident categories as services, incidents as service requests.

Civic-reporting apps speak GeoReport v2 (http://wiki.open311.org/GeoReport_v2): they list
the services, POST a request with an `api_key`, and poll the requests. Here a service is an
active incident category, a request becomes an ordinary incident through `create_incident`
(source "open311", routed to its jurisdictions at once), and the api_key is one of our own
tokens, so a client sees exactly what the key's owner sees.

This module holds the translation (fields in, Open311 shapes out, XML); the HTTP side is in
`geo_patrol.api.routes.open311`.
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_patrol.access.principal import Principal
from geo_patrol.access.scope import Scope
from geo_patrol.core import catalog
from geo_patrol.core.catalog import msg
from geo_patrol.core.errors import InvalidInput, NotFound
from geo_patrol.core.local_time import LOCAL, local_minute
from geo_patrol.core.paging import Page
from geo_patrol.core.values import FIRST_YEAR, LAST_YEAR
from geo_patrol.db.clauses import Clause, all_of, statement
from geo_patrol.db.keyset import Keyset, read_limit
from geo_patrol.db.tables import INCIDENT_STATUSES, LEVEL_RANK, OPEN_STATUSES, SEVERITIES
from geo_patrol.incidents.queries import incident_filter
from geo_patrol.incidents.reports import IncidentReport

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
# When the service list or the service definitions last changed shape (discovery changeset).
CHANGESET = "2026-11-27T00:00:00+08:00"
SOURCE = "open311"
DEFAULT_SEVERITY = "medium"
GROUP = "water"
# Every place served is in China (UTC+8 all year, geo_patrol.core.local_time): times are given
# with that offset, and a date or time sent without an offset is read in it.
CLOSED_STATUSES = tuple(s for s in INCIDENT_STATUSES if s not in OPEN_STATUSES)
MAX_REQUESTS = 1000
MAX_SPAN = timedelta(days=90)  # the spec's limit on a start_date..end_date search
MAX_IDS = 1000
LOCALES = ("zh", "en")

# Field limits: description per the spec, the others generous but bounded.
LIMITS = {
    "description": 4000,
    "address_string": 500,
    "address_id": 100,
    "first_name": 100,
    "last_name": 100,
    "email": 254,
    "phone": 64,
    "media_url": 2000,
}
CLIENT_ID_LIMIT = 100  # stored with the caller's prefix in incidents.client_id (128)

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
_URL = re.compile(r"^https?://[^\s]+$", re.IGNORECASE)
ID_PATTERN = re.compile(r"^[0-9]{1,18}$")
# Characters XML 1.0 cannot carry at all (control characters other than tab, CR, LF...).
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def locale_of(locale: str | None, accept_language: str | None) -> str:
    """'en' or 'zh' (the default) from ?locale=, else from the Accept-Language header."""
    if locale:
        return "en" if locale.strip().lower().replace("_", "-").startswith("en") else "zh"
    weighted: list[tuple[float, int, str]] = []
    for n, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        weighted.append((-quality, n, tag.strip().lower()))
    for negative_quality, _, tag in sorted(weighted):
        primary = tag.split("-")[0]
        if negative_quality < 0 and primary in LOCALES:
            return primary
    return "zh"


# --- services -------------------------------------------------------------------------------

OFFERED_CATEGORIES = (
    "SELECT code, name, name_en FROM incident_categories WHERE active ORDER BY code"
)


def services(session: Session, *, locale: str) -> list[dict[str, Any]]:
    """One service per active incident category."""
    return [_service(row, locale) for row in session.execute(text(OFFERED_CATEGORIES))]


def _service(row: Any, locale: str) -> dict[str, Any]:
    """The Open311 service of a category row."""
    name = row.name_en if locale == "en" else row.name
    return {
        "service_code": row.code,
        "service_name": name,
        "description": catalog.text("open311.service_description", locale, name=name),
        "metadata": False,
        "type": "realtime",
        "keywords": ",".join((row.code, row.name, row.name_en)),
        "group": GROUP,
    }


def service_definition(session: Session, *, service_code: str) -> dict[str, Any]:
    """The definition of a service: no extra attributes (metadata is false)."""
    if not _active_category(session, service_code):
        raise NotFound(
            msg("problem.open311.no_service", service_code=service_code), field="service_code"
        )
    return {"service_code": service_code, "attributes": []}


def _active_category(session: Session, code: str) -> bool:
    """Whether `code` is an active incident category."""
    found = session.execute(
        text("SELECT 1 FROM incident_categories WHERE code = :code AND active"), {"code": code}
    )
    return found.first() is not None


def discovery(base_url: str) -> dict[str, Any]:
    """The service discovery document, pointing at this server's endpoint."""
    return {
        "changeset": CHANGESET,
        "contact": "The geo-patrol administrators of the joint river governance zone.",
        "key_service": (
            "Use a personal token (POST /api/v1/auth/tokens) or a device token issued by a "
            "team lead (POST /api/v1/devices) as api_key."
        ),
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": base_url.rstrip("/") + "/open311/v2",
                "changeset": CHANGESET,
                "type": "production",
                "formats": ["application/json", "text/xml"],
            }
        ],
    }


# --- POST a service request -------------------------------------------------------------------


@dataclass(frozen=True)
class Submission:
    """A POSTed service request, checked and ready for `create_incident`."""

    report: IncidentReport
    media_url: str | None


def read_submission(
    session: Session,
    fields: Mapping[str, str],
    *,
    principal: Principal,
    idempotency_key: str | None,
) -> Submission:
    """Check the Open311 fields; each problem names its field (InvalidInput)."""
    service_code = _text(fields, "service_code", 64)
    if service_code is None:
        raise InvalidInput(msg("problem.open311.service_code_required"), field="service_code")
    if not _active_category(session, service_code):
        raise InvalidInput(
            msg("problem.open311.unknown_service_code", service_code=service_code),
            field="service_code",
        )
    lat = _coordinate(fields, "lat", 90)
    lon = _coordinate(fields, "long", 180)
    severity = (_text(fields, "attribute[severity]", 16) or DEFAULT_SEVERITY).lower()
    if severity not in SEVERITIES:
        raise InvalidInput(
            msg("problem.open311.severity_choice", severities=", ".join(SEVERITIES)),
            field="attribute[severity]",
        )
    values = {name: _text(fields, name, limit) for name, limit in LIMITS.items()}
    if values["email"] and not _EMAIL.match(values["email"]):
        raise InvalidInput(msg("problem.open311.email_invalid"), field="email")
    if values["media_url"] and not _URL.match(values["media_url"]):
        raise InvalidInput(msg("problem.open311.media_url_invalid"), field="media_url")
    report = IncidentReport(
        category=service_code,
        severity=severity,
        lon=lon,
        lat=lat,
        source=SOURCE,
        datum="wgs84",
        description=values["description"],
        client_id=_client_id(fields, principal, idempotency_key),
        reporter_name=_person(values["first_name"], values["last_name"]),
        reporter_contact="; ".join(v for v in (values["email"], values["phone"]) if v) or None,
        address=values["address_string"] or _address_id(values["address_id"]),
    )
    return Submission(report=report, media_url=values["media_url"])


def _text(fields: Mapping[str, str], name: str, limit: int) -> str | None:
    """A trimmed text field, None when absent or blank."""
    value = (fields.get(name) or "").strip()
    if len(value) > limit:
        raise InvalidInput(msg("problem.open311.too_long", name=name, limit=limit), field=name)
    return value or None


def _coordinate(fields: Mapping[str, str], name: str, bound: float) -> float:
    """A required WGS84 coordinate in decimal degrees within ±bound."""
    value = _text(fields, name, 40)
    if value is None:
        raise InvalidInput(
            msg("problem.open311.position_required", name=name),
            field=name,
        )
    try:
        number = float(value)
    except ValueError:
        raise InvalidInput(msg("problem.open311.not_degrees", name=name), field=name) from None
    if not math.isfinite(number) or abs(number) > bound:
        raise InvalidInput(msg("problem.open311.out_of_range", name=name, bound=bound), field=name)
    return number


def _client_id(
    fields: Mapping[str, str], principal: Principal, idempotency_key: str | None
) -> str | None:
    """attribute[client_id] or the Idempotency-Key header, scoped to the caller.

    Incidents are unique by (source, client_id) across all callers, so the caller's member id
    goes in front: two apps that both number their reports from 1 never meet.
    """
    raw = _text(fields, "attribute[client_id]", CLIENT_ID_LIMIT)
    if raw is None and idempotency_key is not None:
        raw = idempotency_key.strip() or None
        if raw is not None and len(raw) > CLIENT_ID_LIMIT:
            raise InvalidInput(
                msg("problem.open311.idempotency_key_too_long", limit=CLIENT_ID_LIMIT),
                field="Idempotency-Key",
            )
    return None if raw is None else f"m{principal.member_id}:{raw}"


def _person(first: str | None, last: str | None) -> str | None:
    """The reporter's name; a Chinese name is written family name first, without a space."""
    if first and last and _CJK.search(first) and _CJK.search(last):
        return f"{last}{first}"
    return " ".join(part for part in (first, last) if part) or None


def _address_id(address_id: str | None) -> str | None:
    """An address id kept as the address when no address string came with it."""
    return f"address_id {address_id}" if address_id else None


# --- GET service requests ---------------------------------------------------------------------


@dataclass(frozen=True)
class RequestFilters:
    """The filters of GET requests, checked."""

    ids: list[int] | None = None
    codes: list[str] | None = None
    statuses: list[str] | None = None
    start: datetime | None = None
    end: datetime | None = None


def request_filters(
    *,
    service_request_id: str | None,
    service_code: str | None,
    start_date: str | None,
    end_date: str | None,
    status: str | None,
    now: datetime,
) -> RequestFilters:
    """The spec's filters; service_request_id overrides all the others."""
    if service_request_id is not None and service_request_id.strip():
        ids = [part.strip() for part in service_request_id.split(",") if part.strip()]
        if len(ids) > MAX_IDS or not all(ID_PATTERN.match(i) for i in ids):
            raise InvalidInput(
                msg("problem.open311.request_ids_format", max_ids=MAX_IDS),
                field="service_request_id",
            )
        return RequestFilters(ids=[int(i) for i in ids])
    codes = _list(service_code)
    statuses = None
    if status is not None and status.strip():
        wanted = _list(status.lower()) or []
        if not set(wanted) <= {"open", "closed"}:
            raise InvalidInput(msg("problem.open311.status_choice"), field="status")
        statuses = [s for s in INCIDENT_STATUSES if open_or_closed(s) in wanted]
    start = _datetime(start_date, "start_date")
    end = _datetime(end_date, "end_date")
    if start is None and end is None:
        end = now
    if start is None:
        assert end is not None
        start = end - MAX_SPAN
    if end is None:
        end = start + MAX_SPAN
    if end < start:
        raise InvalidInput(msg("problem.open311.dates_reversed"), field="end_date")
    if end - start > MAX_SPAN:
        raise InvalidInput(msg("problem.open311.dates_too_far_apart"), field="end_date")
    return RequestFilters(codes=codes, statuses=statuses, start=start, end=end)


def _list(value: str | None) -> list[str] | None:
    """A comma-separated parameter as a list, None when absent."""
    if value is None or not value.strip():
        return None
    return [part.strip() for part in value.split(",") if part.strip()]


def _datetime(value: str | None, name: str) -> datetime | None:
    """A W3C datetime (or date); without an offset it is China time."""
    if value is None or not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput(msg("problem.open311.datetime_format", name=name), field=name) from None
    if not FIRST_YEAR <= parsed.year <= LAST_YEAR:
        raise InvalidInput(
            msg(
                "problem.open311.year_out_of_range",
                name=name,
                first_year=FIRST_YEAR,
                last_year=LAST_YEAR,
            ),
            field=name,
        )
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=LOCAL)


def open_or_closed(status: str) -> str:
    """Our workflow status as Open311's open/closed."""
    return "closed" if status in CLOSED_STATUSES else "open"


REQUESTS = """
SELECT i.id, i.category, c.name AS category_name, c.name_en AS category_name_en, i.status,
       i.tier, i.description, i.address, i.reported_at, i.deadline_at, i.is_joint, i.unrouted,
       ST_X(i.geom) AS lon, ST_Y(i.geom) AS lat,
       greatest(i.reported_at, (SELECT max(e.at) FROM incident_events e
                                WHERE e.incident_id = i.id)) AS updated_at,
       (SELECT e.note FROM incident_events e
        WHERE e.incident_id = i.id AND e.to_status IS NOT NULL AND e.kind <> 'created'
        ORDER BY e.id DESC LIMIT 1) AS status_note,
       (SELECT e.note FROM incident_events e
        WHERE e.incident_id = i.id AND e.kind = 'media_url'
        ORDER BY e.id DESC LIMIT 1) AS media_url,
       (SELECT json_agg(json_build_object('code', r.code, 'level', r.level, 'role', r.role,
                                          'direct', r.direct, 'name', j.name,
                                          'name_en', j.name_en) ORDER BY r.code)
        FROM incident_responsibles r
        LEFT JOIN jurisdictions j ON j.code = r.code AND j.valid_to IS NULL
        WHERE r.incident_id = i.id) AS responsible
FROM incidents i JOIN incident_categories c ON c.code = i.category
WHERE ({visible} OR i.reporter_member_id = :me) AND {where}
ORDER BY i.reported_at DESC, i.id DESC
LIMIT :limit
"""


def _one_of(column: str, name: str, values: list[Any] | None, sql_type: str) -> Clause | None:
    """`column` (of our query) is one of `values`, bound as `name`; None when no list."""
    if values is None:
        return None
    return Clause(f"{column} = ANY(CAST(:{name} AS {sql_type}[]))", {name: values})


def request_where(filters: RequestFilters) -> Clause:
    """The GET requests filters over incidents `i`, joined with AND (both dates inclusive)."""
    return all_of(
        _one_of("i.id", "ids", filters.ids, "bigint"),
        _one_of("i.category", "codes", filters.codes, "text"),
        _one_of("i.status", "statuses", filters.statuses, "text"),
        None
        if filters.start is None
        else Clause("i.reported_at >= CAST(:start AS timestamptz)", {"start": filters.start}),
        None
        if filters.end is None
        else Clause("i.reported_at <= CAST(:end AS timestamptz)", {"end": filters.end}),
    )


def find_requests(
    session: Session,
    *,
    scope: Scope,
    principal: Principal | None,
    filters: RequestFilters,
) -> list[dict[str, Any]]:
    """Incidents the caller may see (their scope, and their own reports), newest first (the
    first MAX_REQUESTS: request_page says whether more follow)."""
    return request_page(
        session, scope=scope, principal=principal, filters=filters, limit=MAX_REQUESTS
    ).items


# GeoReport v2 has no paging: ours is an extension (`limit`, `cursor`, a Link header), the
# body keeps the spec's format. Newest first, as the incident list (the same index).
REQUEST_ORDER = Keyset(
    ("i.reported_at", "i.id"), ("reported_at", "id"), ("time", "int"), descending=True
)


def request_page(
    session: Session,
    *,
    scope: Scope,
    principal: Principal | None,
    filters: RequestFilters,
    limit: int,
    cursor: str | None = None,
) -> Page[dict[str, Any]]:
    """A page of the requests the caller may see, newest first."""
    where = all_of(request_where(filters), REQUEST_ORDER.after(cursor))
    sql = statement(REQUESTS, visible=incident_filter(scope), where=where)
    params = {"me": principal.member_id if principal else None, "limit": read_limit(limit)}
    rows = [dict(row._mapping) for row in session.execute(sql, params)]
    return REQUEST_ORDER.page(rows, limit)


def as_request(row: Mapping[str, Any], *, locale: str) -> dict[str, Any]:
    """An incident row in the spec's shape (and order) of a service request."""
    agency = agency_responsible(row["responsible"] or [], tier=row["tier"], locale=locale)
    return {
        "service_request_id": str(row["id"]),
        "status": open_or_closed(row["status"]),
        "status_notes": row["status_note"],
        "service_name": row["category_name_en"] if locale == "en" else row["category_name"],
        "service_code": row["category"],
        "description": row["description"],
        "agency_responsible": agency,
        "service_notice": service_notice(row, agency=agency, locale=locale),
        "requested_datetime": w3c(row["reported_at"]),
        "updated_datetime": w3c(row["updated_at"]),
        "expected_datetime": w3c(row["deadline_at"]),
        "address": row["address"],
        "address_id": None,
        "zipcode": None,
        "lat": row["lat"],
        "long": row["lon"],
        "media_url": row["media_url"],
    }


# What an anonymous public feed shows (GEO_PATROL_OPEN311_PUBLIC_READ): the place rounded to
# 3 decimals of a degree (110 m north-south, 95 m east-west at 31°N), so a report made at a
# house door does not point at the house. Left out, because a report may hold personal data
# a public page must not carry: the description and the status notes (free text, often with
# names and phone numbers), the address (free text), the media URL (photos of people and
# number plates), the deadline and the notice (internal handling).
PUBLIC_DECIMALS = 3


def as_public_request(row: Mapping[str, Any], *, locale: str) -> dict[str, Any]:
    """An incident as a public feed shows it: category, status, rounded place, dates, and
    the body responsible; never its text (see PUBLIC_DECIMALS)."""
    agency = agency_responsible(row["responsible"] or [], tier=row["tier"], locale=locale)
    return {
        "service_request_id": str(row["id"]),
        "status": open_or_closed(row["status"]),
        "service_name": row["category_name_en"] if locale == "en" else row["category_name"],
        "service_code": row["category"],
        "agency_responsible": agency,
        "requested_datetime": w3c(row["reported_at"]),
        "updated_datetime": w3c(row["updated_at"]),
        "lat": round(row["lat"], PUBLIC_DECIMALS),
        "long": round(row["lon"], PUBLIC_DECIMALS),
    }


def agency_responsible(responsible: list[dict[str, Any]], *, tier: str, locale: str) -> str | None:
    """Who handles the case at its tier: the lead side first, then the other sides.

    Each side is named at the level of the case's tier (a town-tier case names the towns,
    escalated to the county it names the counties), or at its own level when it is above
    the tier. "王江泾镇 (牵头); 盛泽镇" for a joint case, "王江泾镇" for one side alone.
    """
    tier_rank = LEVEL_RANK[tier]

    def name(entry: dict[str, Any]) -> str:
        return str((entry["name_en"] if locale == "en" else None) or entry["name"] or entry["code"])

    lead = [e for e in responsible if e["role"] == "lead" and LEVEL_RANK[e["level"]] <= tier_rank]
    if not lead:
        return None
    head = max(lead, key=lambda e: LEVEL_RANK[e["level"]])
    others = [
        e
        for e in responsible
        if e["role"] == "co"
        and (
            LEVEL_RANK[e["level"]] == tier_rank
            or (e["direct"] and LEVEL_RANK[e["level"]] < tier_rank)
        )
    ]
    names = list(dict.fromkeys(name(e) for e in others if name(e) != name(head)))
    if not names:
        return name(head)
    return "; ".join([name(head) + catalog.text("open311.lead_mark", locale), *names])


def service_notice(row: Mapping[str, Any], *, agency: str | None, locale: str) -> str:
    """What happens next: the tier, who handles it, by when."""
    if row["unrouted"]:
        return catalog.text("open311.unrouted", locale)
    due = local_minute(row["deadline_at"], missing="") or None
    notice = catalog.text(
        "open311.handled",
        locale,
        tier=catalog.text(f"open311.tier_{row['tier']}", locale),
        joint=catalog.text("open311.joint", locale) if row["is_joint"] else "",
        agency=agency or catalog.text("open311.unassigned", locale),
    )
    return notice + (
        catalog.text("open311.due", locale, due=due) if due else catalog.text("open311.end", locale)
    )


def w3c(moment: datetime | None) -> str | None:
    """A W3C datetime with the China offset (2026-11-27T15:49:36+08:00)."""
    return moment.astimezone(LOCAL).isoformat(timespec="seconds") if moment else None


# --- XML ----------------------------------------------------------------------------------------

# The element of each list item, by the list's element (the spec's XML shapes).
ITEM_TAGS = {
    "services": "service",
    "service_requests": "request",
    "errors": "error",
    "endpoints": "endpoint",
    "formats": "format",
    "attributes": "attribute",
    "values": "value",
}


def to_xml(root: str, value: Any) -> bytes:
    """`value` (dicts, lists, scalars) as the spec's XML under `root`, UTF-8 with declaration."""
    document: bytes = ET.tostring(_element(root, value), encoding="utf-8", xml_declaration=True)
    return document


def _element(tag: str, value: Any) -> ET.Element:
    """One element; text is escaped by ElementTree, and characters XML cannot hold dropped."""
    element = ET.Element(tag)
    if isinstance(value, Mapping):
        for key, item in value.items():
            element.append(_element(str(key), item))
    elif isinstance(value, list | tuple):
        for item in value:
            element.append(_element(ITEM_TAGS.get(tag, "item"), item))
    elif isinstance(value, bool):
        element.text = "true" if value else "false"
    elif value is not None:
        element.text = _NOT_XML.sub("", str(value))
    return element
