"""What the meeting pages share: the zones a caller may pick, today's local day, where an
agenda item or a decision's link leads, and a decision as the pages show it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from geo_patrol.access.principal import Principal
from geo_patrol.access.scope import Scope
from geo_patrol.core.local_time import LOCAL
from geo_patrol.core.vocabulary import DecisionStatus
from geo_patrol.geography.queries import list_zones
from geo_patrol.meetings import decisions
from geo_patrol.meetings.decisions import Decision
from geo_patrol.meetings.visibility import Zone, may_see_zone, zone_of

SHOWN_STATUSES = tuple(str(status) for status in DecisionStatus)


def today() -> date:
    """Today, local time (CST): a decision is overdue from the day after its deadline."""
    return datetime.now(LOCAL).date()


def visible_zones(session: Session, *, scope: Scope) -> list[Zone]:
    """The zones whose meetings the caller sees, by code."""
    zones = [zone_of(session, code=row["code"]) for row in list_zones(session)]
    return [zone for zone in zones if may_see_zone(scope, zone)]


def target_link(kind: str, target_id: int | None, lang: str) -> str | None:
    """Where a page leads for an object of an agenda item or a decision link."""
    if target_id is None:
        return None
    paths = {
        "incident": f"/incidents/{target_id}?lang={lang}",
        "decision": f"/decisions/{target_id}?lang={lang}",
        "chief": f"/api/v1/chiefs/{target_id}",
        "section": f"/api/v1/water/sections/{target_id}",
        "segment": f"/map?lang={lang}",
        "uncovered": f"/map?lang={lang}",
    }
    return paths.get(kind)


def counts(decisions: Iterable[Decision]) -> dict[int, dict[str, int]]:
    """Per meeting, its decisions counted by shown status (every status, zeros included)."""
    found: dict[int, Counter[str]] = {}
    for decision in decisions:
        found.setdefault(decision.meeting_id, Counter())[str(decision.status)] += 1
    return {
        meeting_id: {status: tally[status] for status in SHOWN_STATUSES}
        for meeting_id, tally in found.items()
    }


def may_update(principal: Principal, scope: Scope, decision: Decision) -> bool:
    """Whether the caller may post an update on the decision (the page offers the form only
    then; the domain decides on the post)."""
    return decisions.may_update(
        principal,
        scope,
        sides=[owner.side_code for owner in decision.owners],
        members=[owner.member_id for owner in decision.owners if owner.member_id],
    )


def decision_view(
    decision: Decision, *, lang: str, side_names: dict[str, str] | None = None
) -> dict[str, Any]:
    """A decision as the pages show it: owners grouped by side, links with where they lead."""
    names = side_names or {}
    sides: dict[str, list[str]] = {}
    for owner in decision.owners:
        people = sides.setdefault(owner.side_code, [])
        if owner.member_name:
            people.append(owner.member_name)
    return {
        "id": decision.id,
        "meeting_id": decision.meeting_id,
        "position": decision.position,
        "body": decision.body,
        "deadline": decision.deadline.isoformat(),
        "status": str(decision.status),
        "done_at": decision.done_at,
        "sides": [
            {"code": code, "name": names.get(code, code), "people": people}
            for code, people in sides.items()
        ],
        "links": [
            {
                "kind": str(link.kind),
                "target_id": link.target_id,
                "label": link.label,
                "href": target_link(str(link.kind), link.target_id, lang),
            }
            for link in decision.links
        ],
    }


def views(
    decisions: Sequence[Decision], *, lang: str, side_names: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    """Several decisions as the pages show them."""
    return [decision_view(d, lang=lang, side_names=side_names) for d in decisions]
