"""A meeting's page (`/meetings/{meeting_id}`): its agenda (each item linked to its object),
attendees per side, minutes, and decisions in order with their owners per side, deadline and
shown status. To those who may edit the zone's meetings it offers, in a signed-in browser,
the forms that record the meeting as it goes: attendees, minutes, a decision (owners on
both sides, links to the agenda's objects), marking it held, keeping the pack shown.
The page is templates/meetings/meeting.html.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from sqlalchemy.orm import Session

from geo_patrol.access.principal import Principal
from geo_patrol.access.scope import Scope
from geo_patrol.meetings.decisions import Decision, decisions_of
from geo_patrol.meetings.records import Meeting, get_meeting
from geo_patrol.meetings.sides import Side, sides_of
from geo_patrol.meetings.visibility import may_edit_zone, zone_of
from geo_patrol.web.meetings import forms, packs
from geo_patrol.web.meetings.common import target_link, today, views
from geo_patrol.web.meetings.forms import LINKABLE
from geo_patrol.web.render import render as render_template


@dataclass
class MeetingPage:
    """What the page shows."""

    meeting: Meeting
    zone_name: str
    sides: list[Side]
    decisions: list[Decision]
    may_edit: bool
    kept: list[dict[str, Any]] = field(default_factory=list)


def gather(session: Session, *, principal: Principal, scope: Scope, meeting_id: int) -> MeetingPage:
    """The meeting in the caller's scope, its zone's sides and its decisions."""
    meeting = get_meeting(session, scope=scope, meeting_id=meeting_id)
    zone = zone_of(session, code=meeting.zone_code)
    return MeetingPage(
        meeting=meeting,
        zone_name=zone.name,
        sides=sides_of(session, member_codes=zone.member_codes),
        decisions=decisions_of(session, meeting_ids=[meeting.id], today=today()),
        may_edit=may_edit_zone(principal, scope, zone),
        kept=packs.kept(session, meeting_id=meeting.id),
    )


def offered_links(meeting: Meeting) -> list[dict[str, Any]]:
    """The agenda's objects a decision may link to (incidents, stretches, chiefs, sections)."""
    found: dict[tuple[str, int], dict[str, Any]] = {}
    for item in meeting.agenda:
        kind = LINKABLE.get(item.kind)  # type: ignore[call-overload]
        if kind is not None and item.target_id is not None:
            key = (str(kind), int(item.target_id))
            found.setdefault(key, {"value": f"{key[0]}:{key[1]}", "title": item.title})
    return list(found.values())


def _attendees(meeting: Meeting, sides: list[Side]) -> list[dict[str, Any]]:
    """The attendees grouped by side (the zone's sides first, then guests)."""
    names = {side.code: side.name for side in sides}
    groups: dict[str | None, list[str]] = {side.code: [] for side in sides}
    for person in meeting.attendees:
        shown = person.name or ""
        groups.setdefault(person.side_code, []).append(shown)
    return [
        {"code": code, "name": names.get(code or "", code), "people": people}
        for code, people in groups.items()
    ]


def _item_link(link: object, lang: str) -> str | None:
    """The address an adopted item kept (the proposed agenda's), in the page's language."""
    local = forms.local_link(link) if isinstance(link, str) else None
    if local is None:
        return None
    joint = "&" if "?" in local.split("#")[0] else "?"
    path, hash_mark, fragment = local.partition("#")
    return f"{path}{joint}lang={lang}{hash_mark}{fragment}"


def _typed(meeting: Meeting) -> dict[str, str]:
    """The attendees named without a member, one a line per side (the form shows them back,
    so saving the attendees keeps them)."""
    typed: dict[str, list[str]] = {}
    for person in meeting.attendees:
        if person.member_id is None and person.name:
            typed.setdefault(person.side_code or "", []).append(person.name)
    return {side: "\n".join(names) for side, names in typed.items()}


def pack_link(meeting: Meeting, lang: str) -> str:
    """The meeting pack of the meeting's zone and period (the file as it is now)."""
    query = {
        "zone": meeting.zone_code,
        "from": meeting.period_from.isoformat(),
        "to": meeting.period_to.isoformat(),
        "lang": lang,
    }
    return f"/api/v1/meeting-pack?{urlencode(query)}"


def render(shown: MeetingPage, *, csrf: str | None, lang: str, error: str | None = None) -> str:
    """The whole page (its forms only for an editor's signed-in browser)."""
    m = shown.meeting
    side_names = {side.code: side.name for side in shown.sides}
    return render_template(
        "meetings/meeting.html",
        lang=lang,
        m=m,
        zone_name=shown.zone_name,
        period=f"{m.period_from.isoformat()} – {m.period_to.isoformat()}",
        agenda=[
            {
                "position": item.position,
                "kind": str(item.kind),
                "title": item.title,
                "href": _item_link(item.detail.get("link"), lang)
                or target_link(str(item.kind), item.target_id, lang),
            }
            for item in m.agenda
        ],
        attendees=_attendees(m, shown.sides),
        ticked=[f"{a.side_code}:{a.member_id}" for a in m.attendees if a.member_id],
        typed=_typed(m),
        sides=shown.sides,
        decisions=views(shown.decisions, lang=lang, side_names=side_names),
        offered=offered_links(m),
        editable=shown.may_edit and bool(csrf),
        csrf=csrf,
        error=error,
        pack=pack_link(m, lang),
        kept=shown.kept,
    )
