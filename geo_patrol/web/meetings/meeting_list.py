"""A zone's meetings (`/meetings?zone=`): the zone picker among the zones the caller sees,
the meetings planned (next first) and held (latest first), each with its decisions counted by
shown status. The page is templates/meetings/list.html."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from geo_patrol.access.principal import Principal
from geo_patrol.access.scope import Scope
from geo_patrol.core.vocabulary import MeetingStatus
from geo_patrol.meetings.decisions import decisions_of
from geo_patrol.meetings.records import Meeting, list_meetings
from geo_patrol.meetings.visibility import Zone, may_edit_zone
from geo_patrol.web.meetings.common import SHOWN_STATUSES, counts, today, visible_zones
from geo_patrol.web.render import render as render_template

LIMIT = 200


@dataclass
class MeetingList:
    """What the page shows."""

    zones: list[Zone]
    zone: Zone | None
    meetings: list[Meeting] = field(default_factory=list)
    counts: dict[int, dict[str, int]] = field(default_factory=dict)
    may_edit: bool = False


def gather(
    session: Session, *, principal: Principal, scope: Scope, zone_code: str | None
) -> MeetingList:
    """The zones the caller sees and the chosen one's meetings (the only one, when one)."""
    zones = visible_zones(session, scope=scope)
    chosen = [z for z in zones if z.code == zone_code] if zone_code else zones[:1]
    if not chosen:
        return MeetingList(zones=zones, zone=None)
    zone = chosen[0]
    meetings = list_meetings(session, scope=scope, zone_code=zone.code, limit=LIMIT, cursor=None)
    found = decisions_of(session, meeting_ids=[m.id for m in meetings.items], today=today())
    return MeetingList(
        zones=zones,
        zone=zone,
        meetings=meetings.items,
        counts=counts(found),
        may_edit=may_edit_zone(principal, scope, zone),
    )


def _row(meeting: Meeting, tally: dict[str, int]) -> dict[str, Any]:
    """A meeting's row."""
    return {
        "id": meeting.id,
        "title": meeting.title,
        "held_at": meeting.held_at,
        "place": meeting.place,
        "period": f"{meeting.period_from.isoformat()} – {meeting.period_to.isoformat()}",
        "status": str(meeting.status),
        "counts": tally or dict.fromkeys(SHOWN_STATUSES, 0),
    }


def render(shown: MeetingList, *, lang: str) -> str:
    """The whole page."""
    rows = [_row(m, shown.counts.get(m.id, {})) for m in shown.meetings]
    planned = sorted(
        (r for r in rows if r["status"] == MeetingStatus.PLANNED), key=lambda r: r["held_at"]
    )
    held = sorted(
        (r for r in rows if r["status"] != MeetingStatus.PLANNED),
        key=lambda r: r["held_at"],
        reverse=True,
    )
    return render_template(
        "meetings/list.html",
        lang=lang,
        zones=[{"code": z.code, "name": z.name} for z in shown.zones],
        zone=shown.zone.code if shown.zone else "",
        zone_name=shown.zone.name if shown.zone else "",
        planned=planned,
        held=held,
        statuses=SHOWN_STATUSES,
        may_edit=shown.may_edit,
    )
