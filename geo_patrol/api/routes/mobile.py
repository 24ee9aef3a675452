"""The phone web app at /m/ (shell, manifest, service worker), its team list, and the
lead's pages to register phones and set up Traccar Client and OsmAnd."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from geo_patrol.accounts import teams as organisation
from geo_patrol.accounts.phone_setup import (
    device_for_setup,
    phone_setup,
    public_base,
    renew_device_token,
)
from geo_patrol.api.deps import (
    CurrentPrincipal,
    ReadSessionDep,
    ScopeDep,
    SessionDep,
    SettingsDep,
    client_address,
)
from geo_patrol.api.duty_answers import candidate_public, period_public
from geo_patrol.api.openapi import text_answer
from geo_patrol.api.paging import PAGED, PagingDep, link_page
from geo_patrol.api.schemas import MyDutyPublic, PatrolTeam, SetupCodes, WebAppManifest
from geo_patrol.core import catalog
from geo_patrol.core.local_time import LOCAL
from geo_patrol.core.values import Id
from geo_patrol.core.vocabulary import Language
from geo_patrol.duty.map_layer import OwnDuty, own_duties, own_duty_page
from geo_patrol.patrols.people import managed_members, patrol_team_page
from geo_patrol.web.mobile import pages

router = APIRouter(tags=["phone"])
Lang = Annotated[Language | None, Query()]
# Pages with a CSRF token or a device credential in them are never stored by anyone.


class ManifestResponse(JSONResponse):
    """The web app manifest's media type (for the OpenAPI; the handler sets it too)."""

    media_type = "application/manifest+json"


NO_STORE = {"Cache-Control": "no-store"}


@router.get("/m/", response_class=HTMLResponse, summary="The phone web app")
def app_shell(settings: SettingsDep) -> HTMLResponse:
    """The app shell: the same page for everybody; the data comes from the API."""
    shell = pages.shell(settings.mobile_language, settings.mobile_answer_seconds)
    return HTMLResponse(shell, headers={"Cache-Control": "no-cache"})


@router.get(
    "/m/manifest.webmanifest",
    summary="The web app manifest",
    response_class=ManifestResponse,
    response_model=WebAppManifest,
)
def app_manifest() -> JSONResponse:
    """Name, icons, start URL and scope (/m/) for installing the app."""
    return JSONResponse(pages.manifest(), media_type="application/manifest+json")


@router.get(
    "/m/sw.js",
    summary="The app's service worker (scope /m/)",
    response_class=Response,
    responses=text_answer("text/javascript", description="The worker's script"),
)
def service_worker() -> Response:
    """Caches the app shell and its static files, never API answers."""
    return Response(
        pages.service_worker(), media_type="text/javascript", headers={"Cache-Control": "no-cache"}
    )


@router.get(
    "/api/v1/mobile/teams",
    summary="My patrol teams with their members' names",
    response_model=list[PatrolTeam],
    responses=PAGED,
)
def get_patrol_teams(
    request: Request,
    response: Response,
    session: ReadSessionDep,
    principal: CurrentPrincipal,
    paging: PagingDep,
) -> list[dict[str, Any]]:
    """The teams the caller may upload for, for the "members on the outing" list; by id, a
    page at a time (Link rel=next)."""
    page = patrol_team_page(session, principal=principal, limit=paging.limit, cursor=paging.cursor)
    link_page(request, response, page)
    return page.items


def _my_duty(own: OwnDuty, lang: str) -> MyDutyPublic:
    """One appointment's duty as the phone reads it: the list's period and candidates
    (duty_answers), with the stretch's geometry."""
    duty = own.duty
    return MyDutyPublic(
        appointment_id=duty.appointment_id,
        level=duty.level,
        side_code=duty.side_code,
        side_name=duty.side_name,
        river_code=duty.river_code,
        river_name=duty.river_name,
        stretch_label=duty.stretch_label,
        stretch=own.geometry,
        stretch_m=duty.stretch_m,
        period=period_public(duty.period, lang),
        done=duty.done,
        required=duty.required,
        due=duty.due,
        status=duty.status,
        candidates=[candidate_public(c, duty=duty, lang=lang) for c in duty.candidates],
    )


@router.get(
    "/api/v1/me/duty",
    summary="My duty as river chief this period (empty when I am no chief)",
    response_model=list[MyDutyPublic],
    responses=PAGED,
)
def get_my_duty(
    request: Request,
    response: Response,
    session: ReadSessionDep,
    scope: ScopeDep,
    principal: CurrentPrincipal,
    settings: SettingsDep,
    paging: PagingDep,
) -> list[MyDutyPublic]:
    """Each of the caller's appointments: done and required this period, the due day, the
    candidate patrols with why each counted or not, and the stretch as GeoJSON; a page at a
    time (Link rel=next)."""
    today = datetime.now(LOCAL).date()
    owned = own_duties(session, scope=scope, member_id=principal.member_id, day=today)
    page = own_duty_page(owned, limit=paging.limit, cursor=paging.cursor)
    link_page(request, response, page)
    return [_my_duty(own, settings.mobile_language) for own in page.items]


@router.get("/m/devices", response_class=HTMLResponse, summary="Phones I may manage (page)")
def devices_page(
    session: SessionDep,
    scope: ScopeDep,
    principal: CurrentPrincipal,
    settings: SettingsDep,
    lang: Lang = None,
) -> HTMLResponse:
    """Own phones, a lead's team members' phones, all for admins; register and revoke."""
    language: str = lang or settings.mobile_language
    devices = organisation.list_devices(session, scope=scope, principal=principal)
    members = managed_members(session, scope=scope, principal=principal)
    html = pages.devices_page(
        lang=language, csrf=principal.csrf_token or "", devices=devices, members=members
    )
    return HTMLResponse(html, headers=NO_STORE)


@router.get(
    "/m/devices/{device_id}/setup",
    response_class=HTMLResponse,
    summary="Set-up page of a phone (page)",
)
def setup_page(
    device_id: Id,
    session: SessionDep,
    scope: ScopeDep,
    principal: CurrentPrincipal,
    settings: SettingsDep,
    lang: Lang = None,
) -> HTMLResponse:
    """Instructions for Traccar Client, OsmAnd and the web app; the codes on request."""
    language: str = lang or settings.mobile_language
    device = device_for_setup(session, device_id=device_id, scope=scope, principal=principal)
    html = pages.setup_page(lang=language, csrf=principal.csrf_token or "", device=device)
    return HTMLResponse(html, headers=NO_STORE)


@router.post(
    "/m/devices/{device_id}/setup",
    summary="Make a phone's set-up QR codes",
    response_model=SetupCodes,
)
def make_setup(
    device_id: Id,
    request: Request,
    session: SessionDep,
    scope: ScopeDep,
    principal: CurrentPrincipal,
    settings: SettingsDep,
    lang: Lang = None,
) -> JSONResponse:
    """A fresh credential for the phone (the old one stops working) in three QR codes."""
    language: str = lang or settings.mobile_language
    token = renew_device_token(
        session,
        device_id=device_id,
        scope=scope,
        principal=principal,
        address=client_address(request),
    )
    setup = phone_setup(base=public_base(settings, str(request.base_url)), token=token)
    body = {
        "html": pages.setup_codes(lang=language, setup=setup),
        "button": catalog.text("setup.regenerate", language),
    }
    return JSONResponse(body, headers=NO_STORE)
