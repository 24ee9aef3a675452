"""Following decisions up (`/decisions`): the decisions the caller sees, filtered by shown
status, zone and "mine" (those I own), overdue ones highlighted; and one decision
(`/decisions/{decision_id}`): its history of updates (append-only) and, for its owners and
the owning sides' supervisors in a signed-in browser, the form that posts an update.
The pages are templates/meetings/decisions.html and decision.html.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from sqlalchemy.orm import Session

from geo_patrol.access.principal import Principal
from geo_patrol.access.scope import Scope
from geo_patrol.core.vocabulary import DecisionStatus
from geo_patrol.meetings.decisions import Decision, get_decision, list_decisions
from geo_patrol.meetings.sides import sides_of
from geo_patrol.meetings.visibility import Zone, zone_of
from geo_patrol.web.meetings.common import (
    SHOWN_STATUSES,
    decision_view,
    may_update,
    today,
    views,
    visible_zones,
)
from geo_patrol.web.render import render as render_template

LIMIT = 200
UPDATE_STATUSES = (DecisionStatus.OPEN, DecisionStatus.IN_PROGRESS, DecisionStatus.DONE)


@dataclass(frozen=True)
class Filters:
    """The list's filters, as the URL gives them."""

    status: DecisionStatus | None = None
    zone: str | None = None
    mine: bool = False
    cursor: str | None = None

    def query(self, **changed: Any) -> str:
        """The filters as a URL query (the language link and the next page keep them)."""
        fields = {
            "status": self.status or "",
            "zone": self.zone or "",
            "mine": "1" if self.mine else "",
            **changed,
        }
        return urlencode({k: str(v) for k, v in fields.items() if v})


def render_list(
    session: Session, *, principal: Principal, scope: Scope, filters: Filters, lang: str
) -> str:
    """The follow-up list."""
    found = list_decisions(
        session,
        scope=scope,
        zone_code=filters.zone,
        status=filters.status,
        member_id=principal.member_id if filters.mine else None,
        today=today(),
        viewer_id=principal.member_id,
        limit=LIMIT,
        cursor=filters.cursor,
    )
    zones = visible_zones(session, scope=scope)
    return render_template(
        "meetings/decisions.html",
        lang=lang,
        filters=filters,
        query=filters.query(),
        next_query=filters.query(cursor=found.next_cursor) if found.next_cursor else None,
        statuses=SHOWN_STATUSES,
        zones=[{"code": z.code, "name": z.name} for z in zones],
        decisions=views(found.items, lang=lang, side_names=_side_names(session, zones)),
        show_meeting=True,
    )


def _side_names(session: Session, zones: list[Zone]) -> dict[str, str]:
    """The names of the zones' sides."""
    codes = sorted({code for zone in zones for code in zone.member_codes})
    return {side.code: side.name for side in sides_of(session, member_codes=codes)}


@dataclass
class DecisionPage:
    """One decision with its history, its meeting and whether the caller may update it."""

    decision: Decision
    side_names: dict[str, str]
    may_update: bool


def gather(
    session: Session, *, principal: Principal, scope: Scope, decision_id: int
) -> DecisionPage:
    """The decision in the caller's scope (NotFound otherwise)."""
    decision = get_decision(
        session, scope=scope, decision_id=decision_id, today=today(), viewer_id=principal.member_id
    )
    zone = zone_of(session, code=decision.zone_code)
    names = {s.code: s.name for s in sides_of(session, member_codes=zone.member_codes)}
    return DecisionPage(decision, names, may_update(principal, scope, decision))


def render_one(
    shown: DecisionPage, *, csrf: str | None, lang: str, error: str | None = None
) -> str:
    """The decision's page (the update form only for those who may post one)."""
    d = shown.decision
    return render_template(
        "meetings/decision.html",
        lang=lang,
        d=decision_view(d, lang=lang, side_names=shown.side_names),
        meeting_title=d.meeting_title,
        history=[
            {
                "at": u.at,
                "actor": u.actor,
                "from_status": u.from_status or "",
                "to_status": u.to_status or "",
                "to_deadline": u.to_deadline.isoformat() if u.to_deadline else "",
                "note": u.note,
            }
            for u in d.updates
        ],
        statuses=[str(s) for s in UPDATE_STATUSES],
        stored=str(d.stored_status),
        editable=shown.may_update and bool(csrf),
        csrf=csrf,
        error=error,
    )
