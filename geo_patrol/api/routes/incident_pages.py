"""The incident list and page (where the map's popups lead), and the page's step form."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from geo_patrol.access.principal import Principal
from geo_patrol.access.scope import Scope
from geo_patrol.api.deps import (
    CurrentPrincipal,
    FormPrincipal,
    ReadSessionDep,
    ScopeDep,
    SessionDep,
    SettingsDep,
    client_address,
)
from geo_patrol.core.errors import GeoPatrolError
from geo_patrol.core.values import BigId
from geo_patrol.core.vocabulary import IncidentListView, Language
from geo_patrol.incidents import queries as incident_queries
from geo_patrol.incidents import workflow
from geo_patrol.incidents.queries import get_incident, list_incidents
from geo_patrol.water.case_leads import case_leads
from geo_patrol.water.rule import CATEGORY as WATER_CATEGORY
from geo_patrol.web.cases import incident_list, incident_page

router = APIRouter(tags=["maps"])

Lang = Annotated[Language | None, Query()]


def _page(
    session: SessionDep,
    *,
    incident_id: int,
    scope: Scope,
    principal: Principal,
    lang: str,
    error: str | None = None,
) -> str:
    """The page of one incident in the caller's scope, with the steps they may take."""
    record = get_incident(session, scope=scope, principal=principal, incident_id=incident_id)
    lon, lat = record["geometry"]["coordinates"]
    codes = [r["code"] for r in record["responsible"] if r["direct"]]
    drawing = incident_page.map_shapes(session, lon=lon, lat=lat, codes=codes)
    # Steps are offered to a browser session only: its form carries the session's CSRF token.
    steps = workflow.steps_open(session, principal, scope, record) if principal.csrf_token else []
    water = (
        case_leads(session, scope=scope, principal=principal, incident_id=incident_id)
        if record["category"] == WATER_CATEGORY
        else None
    )
    return incident_page.render(
        record, drawing, lang=lang, steps=steps, csrf=principal.csrf_token, error=error, water=water
    )


@router.get(
    "/incidents",
    response_class=HTMLResponse,
    summary="Incidents in my scope as a page (open ones by deadline)",
)
def incidents(
    session: ReadSessionDep,
    settings: SettingsDep,
    scope: ScopeDep,
    principal: CurrentPrincipal,
    view: IncidentListView = IncidentListView.OPEN,
    joint: bool = False,
    category: Annotated[str | None, Query(max_length=64)] = None,
    lang: Lang = None,
) -> HTMLResponse:
    """A table of cases, each linking to its page; filters in the URL."""
    rows = list_incidents(
        session,
        scope=scope,
        principal=principal,
        open=view == "open",
        overdue=view == "overdue",
        by_deadline=view != "all",
        joint=joint,
        category=category or None,
        limit=incident_list.LIMIT,
    )
    categories = incident_queries.categories(session, retired=True)
    page = incident_list.render(
        rows,
        incident_list.names_of(session, rows),
        view=view,
        joint=joint,
        category=category or None,
        categories=categories,
        lang=lang or settings.map_language,
    )
    return HTMLResponse(page)


@router.get(
    "/incidents/{incident_id}",
    response_class=HTMLResponse,
    summary="One incident as a page (where the map's popups lead)",
)
def incident(
    incident_id: BigId,
    session: ReadSessionDep,
    settings: SettingsDep,
    scope: ScopeDep,
    principal: CurrentPrincipal,
    lang: Lang = None,
) -> HTMLResponse:
    """The case, who holds it, deadline, photos, history, patrols that passed it, a map."""
    language: str = lang or settings.map_language
    return HTMLResponse(
        _page(session, incident_id=incident_id, scope=scope, principal=principal, lang=language)
    )


@router.post(
    "/incidents/{incident_id}/steps",
    response_class=HTMLResponse,
    summary="Take a step on an incident from its page (a form of the signed-in browser)",
)
def incident_step(
    incident_id: BigId,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    scope: ScopeDep,
    principal: FormPrincipal,
    step: Annotated[str, Form(max_length=32)],
    note: Annotated[str | None, Form(max_length=2000)] = None,
    lang: Lang = None,
) -> Response:
    """The step is taken (then back to the page), or the page says why not."""
    language: str = lang or settings.map_language
    try:
        with session.begin_nested():
            workflow.take_step(
                session,
                incident_id=incident_id,
                step=step,
                principal=principal,
                scope=scope,
                note=(note or "").strip() or None,
                address=client_address(request),
            )
    except GeoPatrolError as error:
        page = _page(
            session,
            incident_id=incident_id,
            scope=scope,
            principal=principal,
            lang=language,
            error=error.message.text(language),
        )
        return HTMLResponse(page, status_code=error.status)
    return RedirectResponse(f"/incidents/{incident_id}?lang={language}", status_code=303)
