"""The duty page (`/duty`): which chiefs met, missed or are still on their duty this period,
for each patrol why it counted or not, the joint pairs, the share of chiefs meeting duty per
side, county, level, zone and river with its trend, and the chiefs to remind. Filters live in
the URL like the map's. The page is templates/duty/page.html.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import urlencode

from geo_patrol.core import catalog
from geo_patrol.core.local_time import local_day
from geo_patrol.core.vocabulary import ChiefLevel, DutyPeriod, DutyStatus
from geo_patrol.duty.assessment import Candidate, ChiefDuty, JointDuty
from geo_patrol.duty.listing import DutyQuery, percent, reason_words
from geo_patrol.duty.reminders import Reminder
from geo_patrol.duty.rollups import DutySummary, Rollup, Tally, TrendPoint
from geo_patrol.meetings.decisions import Decision
from geo_patrol.web.render import render as render_template

STATUS_COLOUR = {
    DutyStatus.MET: "#2e7d32",
    DutyStatus.IN_PROGRESS: "#ef6c00",
    DutyStatus.MISSED: "#c62828",
    DutyStatus.NOT_DUE: "#757575",
}


@dataclass(frozen=True)
class DutyPage:
    """What the page shows, as the domain gave it."""

    query: DutyQuery
    day: date
    duties: list[ChiefDuty]
    pairs: list[JointDuty]
    summary: DutySummary
    reminders: list[Reminder]
    zones: list[dict[str, Any]]
    # Overdue decisions of joint meetings (the route composes them: duty/ does not know
    # meetings/).
    decisions: list[Decision] = field(default_factory=list)


def _candidate(c: Candidate, duty: ChiefDuty | None, lang: str) -> dict[str, Any]:
    """A candidate patrol as the page lists it."""
    return {
        "patrol_id": c.patrol_id,
        "day": local_day(c.started_at),
        "team_id": c.team_id,
        "started_at": c.started_at,
        "share": percent(c.share),
        "counted": c.counted,
        "reason": str(c.reason),
        "why": reason_words(c, duty=duty, lang=lang),
    }


def _duty(duty: ChiefDuty, lang: str) -> dict[str, Any]:
    """A chief's row."""
    return {
        "name": duty.member_name,
        "member_id": duty.member_id,
        "level": str(duty.level),
        "side": duty.side_name or duty.side_code,
        "river": duty.river_name,
        "stretch": duty.stretch_label,
        "period": duty.period.label(catalog.lang_of(lang)),
        "required": duty.required,
        "done": duty.done,
        "status": str(duty.status),
        "colour": STATUS_COLOUR[duty.status],
        "due": duty.due.isoformat(),
        "coverage": percent(duty.covered_share),
        "last_patrol_at": duty.last_patrol_at,
        "incidents": duty.incidents,
        "candidates": [_candidate(c, duty, lang) for c in duty.candidates],
    }


def _pair(pair: JointDuty, lang: str) -> dict[str, Any]:
    """A joint pair's row."""
    return {
        "name": pair.name,
        "chiefs": pair.chiefs,
        "period": pair.period.label(catalog.lang_of(lang)),
        "required": pair.required,
        "done": pair.done,
        "status": str(pair.status),
        "colour": STATUS_COLOUR[pair.status],
        "due": pair.period.last.isoformat(),
        "candidates": [_candidate(c, None, lang) for c in pair.candidates],
    }


def _tally(tally: Tally) -> dict[str, Any]:
    """Counts and the share in words."""
    share = tally.share
    return {**vars(tally), "share": "—" if share is None else percent(share)}


def _rollup(row: Rollup, lang: str) -> dict[str, Any]:
    """A roll-up row (levels in words)."""
    name = row.name
    if row.dimension == "level":
        name = catalog.text(f"duty.level_{row.key}", lang)
    return {"dimension": str(row.dimension), "key": row.key, "name": name, **_tally(row.tally)}


def _trend(points: list[TrendPoint], lang: str) -> list[dict[str, Any]]:
    """The overall trend, one row per period kind: its periods oldest first."""
    rows: dict[DutyPeriod, list[dict[str, Any]]] = {}
    for point in points:
        if point.side is None:
            rows.setdefault(point.period.kind, []).append(
                {"label": point.period.label(catalog.lang_of(lang)), **_tally(point.tally)}
            )
    return [{"kind": str(kind), "points": cells} for kind, cells in rows.items()]


def _decision(decision: Decision, day: date) -> dict[str, Any]:
    """An overdue decision's row: what, of which meeting, who, due when, how late."""
    return {
        "id": decision.id,
        "body": decision.body,
        "meeting": decision.meeting_title,
        "meeting_id": decision.meeting_id,
        "held": local_day(decision.meeting_held_at),
        "zone": decision.zone_code,
        "owners": [
            f"{o.side_code} {o.member_name}" if o.member_name else o.side_code
            for o in decision.owners
        ],
        "deadline": decision.deadline.isoformat(),
        "late": (day - decision.deadline).days,
    }


def query_string(query: DutyQuery) -> str:
    """The filters as a URL query (the language link and the CSV link keep them)."""
    fields = {
        "on": query.on.isoformat() if query.on else "",
        "period": "previous" if query.previous else "",
        "level": query.level or "",
        "side": query.side or "",
        "river": query.river or "",
        "status": query.status or "",
        "zone": query.zone or "",
    }
    return urlencode({k: v for k, v in fields.items() if v})


def render(page: DutyPage, *, lang: str) -> str:
    """The whole page."""
    q = page.query
    return render_template(
        "duty/page.html",
        lang=lang,
        day=page.day.isoformat(),
        query=query_string(q),
        filters={
            "on": q.on.isoformat() if q.on else "",
            "previous": q.previous,
            "level": q.level or "",
            "side": q.side or "",
            "river": q.river or "",
            "status": q.status or "",
            "zone": q.zone or "",
        },
        levels=[str(level) for level in ChiefLevel],
        statuses=[str(status) for status in DutyStatus],
        zones=page.zones,
        sides=sorted({(d.side_code, d.side_name or d.side_code) for d in page.duties}),
        rivers=sorted({(d.river_code, d.river_name) for d in page.duties}),
        duties=[_duty(d, lang) for d in page.duties],
        pairs=[_pair(p, lang) for p in page.pairs],
        overall=_tally(page.summary.overall),
        rollups=[_rollup(r, lang) for r in page.summary.rollups],
        trend=_trend(page.summary.trend, lang),
        reminders=[{"days_left": r.days_left, **_duty(r.duty, lang)} for r in page.reminders],
        decisions=[_decision(d, page.day) for d in page.decisions],
        colours={str(k): v for k, v in STATUS_COLOUR.items()},
    )
