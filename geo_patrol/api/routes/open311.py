"""Open311 GeoReport v2 under /open311/v2/, in JSON and XML, for civic-reporting apps.

The routes are PUBLIC in the policy table: discovery and services are open, and the request
routes authenticate inside with the spec's `api_key` (one of our tokens), falling back to a
bearer token or a signed-in browser. With GEO_PATROL_OPEN311_PUBLIC_READ on, a GET of
requests without any credential answers every request's public fields (see
incidents.open311.as_public_request), as GeoReport v2 public feeds expect; off (the
default), it is a 401. Errors answer in the spec's format
(`[{"code": 400, "description": "..."}]`, or `<errors>` for .xml) rather than problem+json.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException

from geo_patrol.access.principal import Principal, from_bearer
from geo_patrol.access.scope import Scope, scope_of
from geo_patrol.api.deps import MaybePrincipal, SessionDep, SettingsDep, client_address
from geo_patrol.api.openapi import REFUSAL_REASONS
from geo_patrol.api.paging import PAGED, link_page
from geo_patrol.api.params import check_storable
from geo_patrol.api.problems import validation_message
from geo_patrol.api.schemas import (
    Open311Created,
    Open311Discovery,
    Open311Error,
    Open311PublicRequest,
    Open311Request,
    Open311Service,
    Open311ServiceDefinition,
)
from geo_patrol.core import catalog
from geo_patrol.core.catalog import Lang, msg
from geo_patrol.core.errors import (
    Forbidden,
    GeoPatrolError,
    InvalidInput,
    NotAuthenticated,
    NotFound,
)
from geo_patrol.core.paging import MAX_LIMIT
from geo_patrol.core.settings import Settings
from geo_patrol.incidents import open311
from geo_patrol.incidents.reports import create_incident, record_event

log = logging.getLogger(__name__)
XML = "text/xml; charset=utf-8"
FORMATS = ("json", "xml")
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
# Our InvalidInput is a 422; the spec answers a missing or invalid field with 400.
STATUS_IN_OPEN311 = {422: 400}


def _xml_wanted(request: Request) -> bool:
    """Whether the route asked for is a .xml variant."""
    return request.url.path.endswith(".xml")


def reply(
    request: Request,
    root: str,
    body: Any,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    """`body` as JSON, or as the spec's XML under `root` for the .xml routes."""
    if _xml_wanted(request):
        return Response(open311.to_xml(root, body), status_code, headers, media_type=XML)
    return JSONResponse(body, status_code, headers)


def _error_lang(request: Request) -> Lang:
    """A refusal's language: the locale the client asked for (?locale=, Accept-Language),
    else English, as refusals have always been worded."""
    locale = request.query_params.get("locale")
    if locale:
        return catalog.lang_of(open311.locale_of(locale, None))
    return catalog.accepted_lang(request.headers.get("accept-language")) or "en"


def error_reply(request: Request, error: Exception) -> Response:
    """Any refusal as the spec's error list, with its HTTP status (the spec's `code` is the
    status; the description is in the client's language)."""
    headers = None
    lang = _error_lang(request)
    if isinstance(error, GeoPatrolError):
        status = STATUS_IN_OPEN311.get(error.status, error.status)
        description = error.problem(lang=lang)["detail"]
        if error.status == 401:
            headers = {"WWW-Authenticate": 'Bearer realm="geo-patrol"'}
    elif isinstance(error, RequestValidationError):
        problems = [validation_message(e, lang)[1] for e in error.errors()]
        if lang == "en":
            problems = [
                f"{'.'.join(str(p) for p in e['loc'][1:]) or e['loc'][0]}: {e['msg']}"
                for e in error.errors()
            ]
        status, description = 400, ("；" if lang == "zh" else "; ").join(problems)
    else:
        assert isinstance(error, HTTPException)
        status, description = error.status_code, str(error.detail)
    log.info(
        "open311 %s %s refused (%s): %s", request.method, request.url.path, status, description
    )
    return reply(request, "errors", [{"code": status, "description": description}], status, headers)


class Open311Route(APIRoute):
    """A route whose refusals (policy, validation, ours) answer in the Open311 format.

    The wrapper runs inside the request's dependency scope, so it sees the exception before
    the session does: handlers here check everything before writing, and the one write
    (the incident) is in a savepoint that an error rolls back.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def open311_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except (GeoPatrolError, RequestValidationError, HTTPException) as error:
                return error_reply(request, error)

        return open311_handler


router = APIRouter(prefix="/open311/v2", tags=["open311"], route_class=Open311Route)

LocaleParam = Annotated[
    str | None, Query(description="zh (default) or en; else the Accept-Language header")
]
ApiKeyParam = Annotated[
    str | None, Query(description="a personal token (gpt_...) or a device token (gpd_...)")
]


def _locale(request: Request, locale: str | None) -> str:
    """The answer's language."""
    return open311.locale_of(locale, request.headers.get("accept-language"))


def caller(session: Session, principal: Principal | None, api_key: str | None) -> Principal:
    """The principal of the api_key (403 when unknown), else the bearer/cookie caller (401)."""
    if api_key is not None and api_key.strip():
        found = from_bearer(session, token=api_key.strip())
        if found is None:
            raise Forbidden(msg("problem.open311.api_key_unknown"), field="api_key")
        return found
    if principal is None:
        raise NotAuthenticated(
            msg("problem.open311.api_key_required"),
            field="api_key",
        )
    return principal


def reader_of(
    session: Session, principal: Principal | None, api_key: str | None, settings: Settings
) -> Principal | None:
    """Who reads requests: the api_key's or the signed-in caller; None for an anonymous
    public read, when GEO_PATROL_OPEN311_PUBLIC_READ allows it (a wrong key is still 403)."""
    anonymous = principal is None and not (api_key and api_key.strip())
    if anonymous and settings.open311_public_read:
        return None
    return caller(session, principal, api_key)


def _shown(rows: list[Any], reader: Principal | None, locale: str) -> list[dict[str, Any]]:
    """Rows as service requests: every field for a caller, the public ones for anyone."""
    shape = open311.as_request if reader is not None else open311.as_public_request
    return [shape(row, locale=locale) for row in rows]


# --- discovery and services -------------------------------------------------------------------


def get_discovery(request: Request) -> Response:
    """Where the GeoReport v2 endpoint is and which formats it speaks."""
    return reply(request, "discovery", open311.discovery(str(request.base_url)))


def get_services(request: Request, session: SessionDep, locale: LocaleParam = None) -> Response:
    """One service per active incident category (service_code = category code)."""
    body = open311.services(session, locale=_locale(request, locale))
    return reply(request, "services", body)


def get_service_definition(request: Request, service_code: str, session: SessionDep) -> Response:
    """A service's definition: metadata is false, so no extra attributes."""
    body = open311.service_definition(session, service_code=service_code)
    return reply(request, "service_definition", body)


# --- requests ---------------------------------------------------------------------------------


async def read_fields(request: Request) -> dict[str, str]:
    """The POSTed fields: form-encoded (what Open311 clients send), multipart or JSON.

    Query parameters count too (some clients put api_key in the URL); the body wins.
    """
    fields = dict(request.query_params)
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type == "application/json" or media_type.endswith("+json"):
        fields.update(_json_fields(await request.body()))
    elif media_type in FORM_TYPES:
        form = await request.form()
        for key, value in reversed(form.multi_items()):  # the first of repeated keys wins
            if not isinstance(value, UploadFile):
                fields[key] = value
    elif await request.body():
        raise InvalidInput(
            msg("problem.open311.body_format"),
            field="body",
        )
    check_storable(fields.items())
    return fields


def _json_fields(body: bytes) -> dict[str, str]:
    """A JSON object's fields as strings; {"attribute": {...}} becomes attribute[...]."""
    try:
        data = json.loads(body or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput(msg("problem.open311.body_not_json"), field="body") from None
    if not isinstance(data, dict):
        raise InvalidInput(msg("problem.open311.body_not_object"), field="body")
    flat = dict(data)
    attributes = flat.pop("attribute", None)
    if isinstance(attributes, dict):
        flat.update({f"attribute[{key}]": value for key, value in attributes.items()})
    elif attributes is not None:
        raise InvalidInput(msg("problem.open311.attribute_not_object"), field="attribute")
    fields: dict[str, str] = {}
    for key, value in flat.items():
        if value is None:
            continue
        if isinstance(value, bool):
            fields[key] = "true" if value else "false"
        elif isinstance(value, str | int | float):
            fields[key] = str(value)
        else:
            raise InvalidInput(msg("problem.open311.single_value", key=key), field=key)
    return fields


Fields = Annotated[dict[str, str], Depends(read_fields)]


def post_request(
    request: Request,
    fields: Fields,
    session: SessionDep,
    settings: SettingsDep,
    principal: MaybePrincipal,
    locale: LocaleParam = None,
) -> Response:
    """File a report: it becomes an incident, routed at once (201; a retry answers 200)."""
    reporter = caller(session, principal, fields.get("api_key"))
    submission = open311.read_submission(
        session,
        fields,
        principal=reporter,
        idempotency_key=request.headers.get("idempotency-key"),
    )
    with session.begin_nested():  # an error below leaves nothing behind
        incident_id, created = create_incident(
            session,
            report=submission.report,
            principal=reporter,
            settings=settings,
            address=client_address(request),
        )
        if created and submission.media_url:
            record_event(
                session,
                incident_id=incident_id,
                kind="media_url",
                principal=reporter,
                note=submission.media_url,
            )
    row = _one(session, Scope(everything=True), reporter, incident_id)
    language = _locale(request, locale)
    agency = open311.agency_responsible(row["responsible"] or [], tier=row["tier"], locale=language)
    body = [
        {
            "service_request_id": str(incident_id),
            "service_notice": open311.service_notice(row, agency=agency, locale=language),
            "account_id": None,
        }
    ]
    suffix = "xml" if _xml_wanted(request) else "json"
    location = {"Location": f"/open311/v2/requests/{incident_id}.{suffix}"}
    return reply(request, "service_requests", body, 201 if created else 200, location)


def get_requests(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: MaybePrincipal,
    api_key: ApiKeyParam = None,
    service_request_id: Annotated[str | None, Query(description="ids, comma-separated")] = None,
    service_code: Annotated[str | None, Query(description="codes, comma-separated")] = None,
    start_date: Annotated[str | None, Query(description="W3C datetime")] = None,
    end_date: Annotated[str | None, Query(description="W3C datetime")] = None,
    status: Annotated[str | None, Query(description="open, closed or both")] = None,
    locale: LocaleParam = None,
    limit: Annotated[
        int,
        Query(ge=1, le=MAX_LIMIT, description="Requests per page (ours: follow Link rel=next)."),
    ] = open311.MAX_REQUESTS,
    cursor: Annotated[
        str | None, Query(max_length=2000, description="The next page's cursor (from Link).")
    ] = None,
) -> Response:
    """The requests the key's owner may see, newest first (default: the last 90 days); with
    the public read on and no key, every request's public fields. The spec has no paging: a
    page of `limit` (default 1,000), and a `Link` rel="next" header when more follow (the
    body keeps the spec's format)."""
    reader = reader_of(session, principal, api_key, settings)
    filters = open311.request_filters(
        service_request_id=service_request_id,
        service_code=service_code,
        start_date=start_date,
        end_date=end_date,
        status=status,
        now=datetime.now(UTC),
    )
    scope = Scope(everything=True) if reader is None else scope_of(session, reader)
    page = open311.request_page(
        session, scope=scope, principal=reader, filters=filters, limit=limit, cursor=cursor
    )
    answer = reply(
        request, "service_requests", _shown(page.items, reader, _locale(request, locale))
    )
    link_page(request, answer, page)
    return answer


def get_request(
    request: Request,
    service_request_id: str,
    session: SessionDep,
    settings: SettingsDep,
    principal: MaybePrincipal,
    api_key: ApiKeyParam = None,
    locale: LocaleParam = None,
) -> Response:
    """One request as a one-element list; 404 when absent or not visible to the key (with
    the public read on and no key: its public fields)."""
    reader = reader_of(session, principal, api_key, settings)
    if not open311.ID_PATTERN.match(service_request_id):
        raise NotFound(
            msg("problem.open311.no_service_request", service_request_id=service_request_id),
            field="service_request_id",
        )
    scope = Scope(everything=True) if reader is None else scope_of(session, reader)
    row = _one(session, scope, reader, int(service_request_id))
    return reply(request, "service_requests", _shown([row], reader, _locale(request, locale)))


def _one(session: Session, scope: Scope, principal: Principal | None, incident_id: int) -> Any:
    """The request row of one incident within `scope`, or 404."""
    rows = open311.find_requests(
        session, scope=scope, principal=principal, filters=open311.RequestFilters(ids=[incident_id])
    )
    if not rows:
        raise NotFound(
            msg("problem.open311.no_service_request", service_request_id=incident_id),
            field="service_request_id",
        )
    return rows[0]


# The fields a client POSTs, for the OpenAPI page (the handler reads them itself so that
# every problem answers in the Open311 format).
POST_FIELDS = {
    name: {"type": "string"}
    for name in (
        "api_key",
        "service_code",
        "lat",
        "long",
        "address_string",
        "address_id",
        "email",
        "device_id",
        "account_id",
        "first_name",
        "last_name",
        "phone",
        "description",
        "media_url",
        "attribute[severity]",
        "attribute[client_id]",
    )
}
POST_BODY = {
    "requestBody": {
        "content": {
            media: {
                "schema": {
                    "type": "object",
                    "properties": POST_FIELDS,
                    "required": ["service_code", "lat", "long"],
                }
            }
            for media in ("application/x-www-form-urlencoded", "application/json")
        }
    }
}

# (method, path without the format suffix, handler, summary); each in .json and .xml.
ROUTES: tuple[tuple[str, str, Callable[..., Response], str], ...] = (
    ("GET", "/discovery", get_discovery, "Open311 service discovery"),
    ("GET", "/services", get_services, "Open311 services (the incident categories)"),
    ("GET", "/services/{service_code}", get_service_definition, "Open311 service definition"),
    ("POST", "/requests", post_request, "Open311: file a service request"),
    ("GET", "/requests", get_requests, "Open311 service requests"),
    ("GET", "/requests/{service_request_id}", get_request, "Open311: one service request"),
)


class XMLResponse(Response):
    """The .xml variants' answers (for the OpenAPI: `reply` writes them)."""

    media_type = "text/xml"


# The JSON variants' answers; the .xml ones are the same fields as XML (text/xml).
ANSWERS: dict[Callable[..., Response], Any] = {
    get_discovery: Open311Discovery,
    get_services: list[Open311Service],
    get_service_definition: Open311ServiceDefinition,
    post_request: list[Open311Created],
    get_requests: list[Open311Request | Open311PublicRequest],
    get_request: list[Open311Request | Open311PublicRequest],
}
# Refusals in the spec's format: an invalid field is a 400 here, never a 422.
_REASONS = {
    status: "Invalid input, naming the field" if status == 400 else reason
    for status, reason in REFUSAL_REASONS.items()
    if status != 422
}
_XML = {"text/xml": {"schema": {"type": "string"}}}


def _documented(handler: Callable[..., Response], fmt: str, method: str) -> dict[str, Any]:
    """The OpenAPI of one variant: its answer (a model, or XML text) and its refusals."""
    retried = "A retry with the same client_id: the request filed first"
    if fmt == "json":
        responses: dict[int | str, dict[str, Any]] = {
            status: {"model": list[Open311Error], "description": reason}
            for status, reason in _REASONS.items()
        }
        if method == "POST":
            responses[200] = {"model": ANSWERS[handler], "description": retried}
        if handler is get_requests:
            responses[200] = PAGED[200]
        return {"response_model": ANSWERS[handler], "responses": responses}
    responses = {
        status: {"description": reason, "content": _XML} for status, reason in _REASONS.items()
    }
    if method == "POST":
        responses[200] = {"description": retried, "content": _XML}
    if handler is get_requests:
        responses[200] = {**PAGED[200], "content": _XML}
    return {"response_class": XMLResponse, "responses": responses}


for _method, _path, _handler, _summary in ROUTES:
    for _fmt in FORMATS:
        router.add_api_route(
            f"{_path}.{_fmt}",
            _handler,
            methods=[_method],
            name=f"open311_{_handler.__name__}_{_fmt}",
            summary=_summary,
            status_code=201 if _method == "POST" else None,
            openapi_extra=POST_BODY if _method == "POST" else None,
            **_documented(_handler, _fmt, _method),
        )
