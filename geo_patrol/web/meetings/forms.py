"""The meeting pages' form fields read into what the meetings domain takes.

A form sends text: a local date and time (`2026-12-08T09:30`, as <input type=datetime-local>
sends it), local days, checkboxes whose values name a side and a member (`320509:12`) or an
object (`incident:42`), and free lines (guests' names, agenda items added by hand). Each
reader refuses a bad value with a catalog message naming the field by its word on the page,
so the page can show it in its language (and never a 500).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from geo_patrol.core.catalog import Message, msg
from geo_patrol.core.errors import InvalidInput
from geo_patrol.core.local_time import LOCAL
from geo_patrol.core.vocabulary import AgendaKind, DecisionLinkKind, DecisionStatus
from geo_patrol.meetings.decisions import LinkIn, OwnerIn
from geo_patrol.meetings.records import AgendaItemIn, AttendeeIn

TIME_FORMATS = ("%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S")
# The agenda kinds whose object a decision may link to, and as what.
LINKABLE = {
    AgendaKind.INCIDENT: DecisionLinkKind.INCIDENT,
    AgendaKind.UNCOVERED: DecisionLinkKind.SEGMENT,
    AgendaKind.CHIEF: DecisionLinkKind.CHIEF,
    AgendaKind.SECTION: DecisionLinkKind.SECTION,
}
MAX_LINES = 200


def label(field: str) -> Message:
    """The field's word on the page (a message field, put into the reader's language)."""
    return Message(f"page.meetings.{field}")


def _bad(key: str, field: str) -> InvalidInput:
    """A refusal of `field`: it is required, not a time, not a day, or not a choice offered."""
    messages = {
        "required": msg("problem.page.meetings.required", field=label(field)),
        "bad_time": msg("problem.page.meetings.bad_time", field=label(field)),
        "bad_day": msg("problem.page.meetings.bad_day", field=label(field)),
        "bad_choice": msg("problem.page.meetings.bad_choice", field=label(field)),
    }
    return InvalidInput(messages[key], field=field)


def words(value: str | None, field: str, *, required: bool = False) -> str | None:
    """Trimmed text, None when empty (refused when `required`)."""
    cleaned = (value or "").strip()
    if not cleaned and required:
        raise _bad("required", field)
    return cleaned or None


def local_time(value: str | None, field: str) -> datetime:
    """A local date and time from the form, as an aware datetime (CST)."""
    cleaned = (value or "").strip()
    for pattern in TIME_FORMATS:
        try:
            moment = datetime.strptime(cleaned, pattern)
        except ValueError:
            continue
        if 1900 < moment.year < 2200:
            return moment.replace(tzinfo=LOCAL)
    raise _bad("bad_time", field)


def day(value: str | None, field: str) -> date:
    """A local day (YYYY-MM-DD) from the form."""
    try:
        found = date.fromisoformat((value or "").strip())
    except ValueError:
        raise _bad("bad_day", field) from None
    if not 1900 < found.year < 2200:
        raise _bad("bad_day", field)
    return found


def maybe_day(value: str | None, field: str) -> date | None:
    """A local day from the form, None when left empty."""
    return day(value, field) if (value or "").strip() else None


def _pair(value: str, field: str) -> tuple[str, int]:
    """`code:id` from a checkbox value."""
    code, colon, number = value.partition(":")
    if not colon or not code or not number.isdigit() or not 0 < int(number) < 2**63:
        raise _bad("bad_choice", field)
    return code, int(number)


def lines(value: str | None) -> list[str]:
    """The non-empty lines of a text area, trimmed (at most MAX_LINES)."""
    found = [line.strip() for line in (value or "").splitlines() if line.strip()]
    return found[:MAX_LINES]


def attendees(
    *, members: Sequence[str], names: Sequence[str], name_sides: Sequence[str], sides: set[str]
) -> list[AttendeeIn]:
    """Members ticked per side (`side:member_id`) and names typed per side (one a line)."""
    chosen: list[AttendeeIn] = []
    for value in members:
        side, member_id = _pair(value, "attendees")
        if side not in sides:
            raise _bad("bad_choice", "attendees")
        chosen.append(AttendeeIn(side_code=side, member_id=member_id))
    for side, typed in zip(name_sides, names, strict=False):
        if side and side not in sides:
            raise _bad("bad_choice", "attendees")
        chosen.extend(AttendeeIn(side_code=side or None, name=name) for name in lines(typed))
    return chosen


def agenda(
    *,
    picks: Sequence[str],
    kinds: Sequence[str],
    targets: Sequence[str],
    titles: Sequence[str],
    details: Sequence[str],
    free: str | None,
    links: Sequence[str] = (),
) -> list[AgendaItemIn]:
    """The proposed items ticked (by their index among the proposed), then the free lines;
    an item's address on this service is kept in its detail (`link`), for the meeting page."""
    chosen: list[AgendaItemIn] = []
    offered = len(kinds)
    if not len(targets) == len(titles) == len(details) == offered:
        raise _bad("bad_choice", "agenda")
    for pick in picks:
        if not pick.isdigit() or int(pick) >= offered:
            raise _bad("bad_choice", "agenda")
        i = int(pick)
        chosen.append(
            AgendaItemIn(
                kind=_kind(kinds[i]),
                target_id=int(targets[i]) if targets[i].isdigit() else None,
                title=words(titles[i], "agenda", required=True) or "",
                detail=_with_link(_detail(details[i]), links[i] if i < len(links) else ""),
            )
        )
    chosen.extend(AgendaItemIn(kind=AgendaKind.OTHER, title=line) for line in lines(free))
    return chosen


def local_link(link: str | None) -> str | None:
    """A link of this service (a path), or None: a carried value never leads elsewhere."""
    return link if link and link.startswith("/") and not link.startswith("//") else None


def _with_link(detail: dict[str, Any], link: str) -> dict[str, Any]:
    """The detail with the item's address, when it is one of ours and not there already."""
    local = local_link(link)
    return {**detail, "link": local} if local and "link" not in detail else detail


def _kind(value: str) -> AgendaKind:
    """An agenda kind from a hidden field."""
    if value not in {str(kind) for kind in AgendaKind}:
        raise _bad("bad_choice", "agenda")
    return AgendaKind(value)


def _detail(value: str) -> dict[str, Any]:
    """An agenda item's detail, carried as JSON in a hidden field."""
    try:
        found = json.loads(value or "{}")
    except ValueError:
        raise _bad("bad_choice", "agenda") from None
    if not isinstance(found, dict):
        raise _bad("bad_choice", "agenda")
    return found


def owners(*, sides: Sequence[str], members: Sequence[str], known: set[str]) -> list[OwnerIn]:
    """The owning sides ticked, each with the members ticked for it (a side with nobody
    named is owned by the side as a whole); a member ticked makes their side an owner."""
    chosen: list[OwnerIn] = []
    named: set[str] = set()
    for value in members:
        side, member_id = _pair(value, "owners")
        if side not in known:
            raise _bad("bad_choice", "owners")
        named.add(side)
        chosen.append(OwnerIn(side_code=side, member_id=member_id))
    for side in dict.fromkeys(sides):
        if side not in known:
            raise _bad("bad_choice", "owners")
        if side not in named:
            chosen.append(OwnerIn(side_code=side, member_id=None))
    if not chosen:
        raise _bad("required", "owners")
    return chosen


def links(values: Sequence[str], *, offered: set[tuple[str, int]]) -> list[LinkIn]:
    """The agenda's objects ticked (`kind:id`), each one of those the page offered."""
    chosen: list[LinkIn] = []
    for value in dict.fromkeys(values):
        kind, target_id = _pair(value, "links")
        if (kind, target_id) not in offered:
            raise _bad("bad_choice", "links")
        chosen.append(LinkIn(kind=DecisionLinkKind(kind), target_id=target_id))
    return chosen


def new_status(value: str | None) -> DecisionStatus | None:
    """A status an update moves a decision to (open, in progress, done), None to keep it."""
    if not value:
        return None
    stored = {DecisionStatus.OPEN, DecisionStatus.IN_PROGRESS, DecisionStatus.DONE}
    if value not in {str(s) for s in stored}:
        raise _bad("bad_choice", "new_status")
    return DecisionStatus(value)
