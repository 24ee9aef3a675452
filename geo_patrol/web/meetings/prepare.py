"""Preparing a meeting (`/meetings/new?zone=`): when and where, the period it reviews, the
attendees of each side (members ticked or names typed), and the agenda proposed from the
data (every proposed item ticked at first) plus items added by hand. The form posts to
`/meetings`; a refusal shows this page again with what was typed and why. The page is
templates/meetings/new.html.

The proposed items travel in hidden fields, so the agenda adopted is the one the coordinator
saw, whatever the data became between showing the form and sending it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy.orm import Session

from geo_patrol.access.principal import Principal
from geo_patrol.access.scope import Scope
from geo_patrol.core import catalog
from geo_patrol.meetings.agenda import proposed_agenda
from geo_patrol.meetings.sides import Side, sides_of
from geo_patrol.meetings.visibility import Zone
from geo_patrol.web.meetings import forms
from geo_patrol.web.meetings.common import target_link, today
from geo_patrol.web.render import render as render_template

MEETING_HOUR = 9


@dataclass
class NewMeeting:
    """The form's values as typed (shown again after a refusal)."""

    zone: str
    title: str = ""
    held_at: str = ""
    place: str = ""
    period_from: str = ""
    period_to: str = ""
    attendees: list[str] = field(default_factory=list)
    name_sides: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)
    targets: list[str] = field(default_factory=list)
    titles: list[str] = field(default_factory=list)
    details: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    picks: list[str] = field(default_factory=list)
    free: str = ""

    @property
    def typed(self) -> dict[str, str]:
        """The names typed per side."""
        return dict(zip(self.name_sides, self.names, strict=False))

    def items(self, lang: str) -> list[dict[str, Any]]:
        """The proposed items the form carries, with where each leads."""
        rows = zip(self.kinds, self.targets, self.titles, self.details, strict=False)
        given = [*self.links, *([""] * len(self.kinds))]
        return [
            {
                "index": str(i),
                "kind": kind,
                "target_id": target,
                "title": title,
                "detail": detail,
                "link": given[i],
                "href": forms.local_link(given[i])
                or target_link(kind, int(target) if target.isdigit() else None, lang),
            }
            for i, (kind, target, title, detail) in enumerate(rows)
        ]


def blank(
    session: Session,
    *,
    principal: Principal,
    scope: Scope,
    zone: Zone,
    start: date | None,
    end: date | None,
    lang: str,
) -> NewMeeting:
    """The form as first shown: the period (the one asked, or the agenda's default: last
    month), its proposed agenda all ticked, tomorrow at nine, a title naming the zone."""
    proposal = proposed_agenda(
        session,
        scope=scope,
        principal=principal,
        zone=zone,
        date_from=start,
        date_to=end,
        today=today(),
    )
    items, start, end = proposal.items, proposal.date_from, proposal.date_to
    return NewMeeting(
        zone=zone.code,
        title=catalog.text(
            "page.meetings.default_title", lang, zone=zone.name, day=end.isoformat()
        ),
        held_at=f"{(today() + timedelta(days=1)).isoformat()}T{MEETING_HOUR:02d}:00",
        period_from=start.isoformat(),
        period_to=end.isoformat(),
        kinds=[str(item.kind) for item in items],
        targets=["" if item.target_id is None else str(item.target_id) for item in items],
        titles=[item.title.text(lang) for item in items],
        details=[json.dumps(item.detail, ensure_ascii=False, default=str) for item in items],
        links=[item.link or "" for item in items],
        picks=[str(i) for i in range(len(items))],
    )


def render(
    form: NewMeeting,
    *,
    zone: Zone,
    sides: list[Side],
    csrf: str | None,
    lang: str,
    error: str | None = None,
) -> str:
    """The whole page."""
    return render_template(
        "meetings/new.html",
        lang=lang,
        form=form,
        items=form.items(lang),
        zone_name=zone.name,
        sides=sides,
        csrf=csrf,
        error=error,
    )


def side_list(session: Session, *, zone: Zone) -> list[Side]:
    """The zone's sides with their people."""
    return sides_of(session, member_codes=zone.member_codes)


def parse(form: NewMeeting, *, sides: list[Side]) -> dict[str, Any]:
    """The arguments of create_meeting from the form (InvalidInput naming a bad field)."""
    known = {side.code for side in sides}
    return {
        "zone_code": form.zone,
        "title": forms.words(form.title, "title", required=True),
        "held_at": forms.local_time(form.held_at, "held_at"),
        "place": forms.words(form.place, "place"),
        "period_from": forms.day(form.period_from, "period_from"),
        "period_to": forms.day(form.period_to, "period_to"),
        "attendees": forms.attendees(
            members=form.attendees, names=form.names, name_sides=form.name_sides, sides=known
        ),
        "agenda": forms.agenda(
            picks=form.picks,
            kinds=form.kinds,
            targets=form.targets,
            titles=form.titles,
            details=form.details,
            free=form.free,
            links=form.links,
        ),
    }
