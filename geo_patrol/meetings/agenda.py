"""The proposed agenda (建议议题) of a zone's joint meeting, drawn from the data of a period.

What a monthly joint meeting (月度会商) goes over, in this order, each item linked to its
object: the decisions of earlier meetings of the zone not yet done (overdue first), the
zone's joint cases still open that are overdue or escalated (both first, then by tier), the
border stretches nobody patrolled in the period (longest first), the river chiefs who missed
their duty in a period that ended in it (most missed first), and the border water sections
that worsened (class this period worse than the last, or than the target; furthest from the
target first).

The period is given as local days; by default it is the calendar month before the one of
`today`: the meeting at the start of a month reviews the month just ended (the pack of the
meeting takes the meeting's own period). Cases, stretches and chiefs are those the caller's
scope holds; the zone itself is checked by the caller (meetings.visibility).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_patrol.access.principal import Principal
from geo_patrol.access.scope import Scope
from geo_patrol.core.catalog import Message, msg
from geo_patrol.core.selection import Selection
from geo_patrol.core.vocabulary import AgendaKind, DecisionStatus, DutyPeriod, DutyStatus
from geo_patrol.db.tables import TIERS
from geo_patrol.duty.assessment import ChiefDuty, DutyFilter, assess_chiefs
from geo_patrol.duty.periods import periods_between
from geo_patrol.incidents.queries import list_incidents
from geo_patrol.meetings.decisions import Decision, decisions_of
from geo_patrol.meetings.visibility import Zone
from geo_patrol.patrols.coverage import border_river_gaps
from geo_patrol.patrols.queries import patrol_filter
from geo_patrol.water.standard import CLASS_NAMES
from geo_patrol.water.trends import SectionTrend, border_trends

# A stretch shorter than this is a gap between two patrols' lines, not a stretch left out.
MIN_STRETCH_M = 100.0

KIND_ORDER = (
    AgendaKind.DECISION,
    AgendaKind.INCIDENT,
    AgendaKind.UNCOVERED,
    AgendaKind.CHIEF,
    AgendaKind.SECTION,
)

# The zone's earlier meetings: held before the end of the period.
MEETINGS = "SELECT id FROM meetings WHERE zone_id = :zone_id AND held_at < :until ORDER BY held_at"

# Each case's last tier move: escalated (and not brought down since) or not.
ESCALATED = """
SELECT incident_id FROM (
    SELECT DISTINCT ON (incident_id) incident_id, kind FROM incident_events
    WHERE incident_id = ANY(:ids) AND kind IN ('escalated', 'deescalated')
    ORDER BY incident_id, at DESC, id DESC
) last WHERE kind = 'escalated'
"""

# A point at the middle of each stretch (segment, fraction), for its map link.
MIDDLES = """
SELECT g.n, ST_X(p) AS lon, ST_Y(p) AS lat
FROM unnest(CAST(:segments AS int[]), CAST(:fractions AS float8[])) WITH ORDINALITY
     AS g(segment_id, fraction, n)
JOIN river_segments s ON s.id = g.segment_id,
LATERAL ST_LineInterpolatePoint(s.geom, g.fraction) AS p
"""


@dataclass(frozen=True)
class AgendaItem:
    """One proposed item: what it is about, its object, its title (a catalog message put into
    words per reader), its figures and the address of its object."""

    kind: AgendaKind
    target_id: int | None
    title: Message
    detail: dict[str, Any]
    link: str
    severity: tuple[float, ...] = field(default=(), compare=False)


@dataclass(frozen=True)
class Agenda:
    """The proposed agenda of a zone for a period (local days, both included)."""

    zone: Zone
    date_from: date
    date_to: date
    items: list[AgendaItem]


def default_period(today: date) -> tuple[date, date]:
    """The calendar month before the one of `today`."""
    last = today.replace(day=1) - timedelta(days=1)
    return last.replace(day=1), last


def ordered(items: Sequence[AgendaItem]) -> list[AgendaItem]:
    """By kind (KIND_ORDER), then the most severe first (stable within equal severity)."""
    rank = {kind: n for n, kind in enumerate(KIND_ORDER)}
    by_severity = sorted(items, key=lambda i: i.severity, reverse=True)
    return sorted(by_severity, key=lambda i: rank.get(i.kind, len(rank)))


def decision_items(
    session: Session, *, zone: Zone, period: Selection, today: date
) -> list[AgendaItem]:
    """Decisions of the zone's earlier meetings not done: overdue first, then by deadline."""
    ids = list(
        session.execute(text(MEETINGS), {"zone_id": zone.id, "until": period.until}).scalars()
    )
    undone = [d for d in decisions_of(session, meeting_ids=ids, today=today) if not _done(d)]
    return [_decision_item(d) for d in undone]


def _done(decision: Decision) -> bool:
    """Whether the decision is done."""
    return DecisionStatus(decision.status) is DecisionStatus.DONE


def _decision_item(d: Decision) -> AgendaItem:
    """A decision as an agenda item."""
    overdue = DecisionStatus(d.status) is DecisionStatus.OVERDUE
    return AgendaItem(
        kind=AgendaKind.DECISION,
        target_id=d.id,
        title=msg("agenda.title_decision", body=d.body),
        detail={
            "meeting_id": d.meeting_id,
            "deadline": d.deadline.isoformat(),
            "status": str(d.status),
            "owners": sorted({o.side_code for o in d.owners}),
        },
        link=f"/decisions/{d.id}",
        severity=(float(overdue), -float(d.deadline.toordinal())),
    )


def incident_items(
    session: Session, *, scope: Scope, principal: Principal, zone: Zone
) -> list[AgendaItem]:
    """The zone's open joint cases in scope that are overdue or escalated."""
    cases = list_incidents(
        session, scope=scope, principal=principal, zone_id=zone.id, joint=True, open=True
    )
    ids = [int(c["id"]) for c in cases]
    escalated = set(session.execute(text(ESCALATED), {"ids": ids}).scalars())
    items = []
    for case in cases:
        up = case["id"] in escalated
        if not (case["overdue"] or up):
            continue
        items.append(_incident_item(case, escalated=up))
    return items


def _incident_item(case: dict[str, Any], *, escalated: bool) -> AgendaItem:
    """An overdue or escalated case as an agenda item."""
    deadline = case["deadline_at"]
    return AgendaItem(
        kind=AgendaKind.INCIDENT,
        target_id=int(case["id"]),
        title=msg("agenda.title_incident", id=case["id"], category=case["category_name"]),
        detail={
            "status": case["status"],
            "tier": case["tier"],
            "overdue": bool(case["overdue"]),
            "escalated": escalated,
            "deadline_at": deadline.isoformat() if deadline else None,
            "lead_code": case["lead_code"],
            "co_codes": list(case["co_codes"] or []),
        },
        link=f"/incidents/{case['id']}",
        severity=(
            float(bool(case["overdue"])) + float(escalated),
            float(TIERS.index(case["tier"])),
            -deadline.timestamp() if deadline else 0.0,
        ),
    )


@dataclass
class Stretch:
    """Unpatrolled metres of a border river running over consecutive segments."""

    river_code: str
    river_name: str
    segment_ids: list[int]
    from_fraction: float
    to_fraction: float
    length_m: float


def stretches(rows: Sequence[Any]) -> list[Stretch]:
    """The gaps of border_river_gaps joined into stretches where one runs over a segment's
    end into the next."""
    found: list[Stretch] = []
    last: tuple[str, int, float] | None = None  # river, seq and end of the previous gap
    for row in rows:
        if row.gap_from is None:
            last = None
            continue
        continues = (
            last is not None
            and last[0] == row.river_code
            and last[1] == row.seq - 1
            and last[2] >= 1 - 1e-9
            and row.gap_from <= 1e-9
        )
        if continues:
            found[-1].segment_ids.append(row.segment_id)
            found[-1].to_fraction = row.gap_to
            found[-1].length_m += row.gap_m
        else:
            found.append(
                Stretch(
                    row.river_code,
                    row.river_name,
                    [row.segment_id],
                    row.gap_from,
                    row.gap_to,
                    row.gap_m,
                )
            )
        last = (row.river_code, row.seq, row.gap_to)
    return found


def uncovered_items(
    session: Session, *, scope: Scope, zone: Zone, period: Selection
) -> list[AgendaItem]:
    """Border stretches of the zone no patrol in scope covered in the period."""
    rows = border_river_gaps(
        session,
        zone_id=zone.id,
        since=period.since,
        until=period.until,
        visible=patrol_filter(scope),
    )
    found = [s for s in stretches(rows) if s.length_m >= MIN_STRETCH_M]
    middles = _middles(session, found)
    return [
        _uncovered_item(s, middle, zone=zone, period=period)
        for s, middle in zip(found, middles, strict=True)
    ]


def _middles(session: Session, found: Sequence[Stretch]) -> list[tuple[float, float]]:
    """(lon, lat) of the middle of each stretch (on its middle segment)."""
    segments, fractions = [], []
    for s in found:
        n = len(s.segment_ids)
        start = s.from_fraction if n == 1 else 0.0
        end = s.to_fraction if n == 1 else 1.0
        segments.append(s.segment_ids[n // 2] if n > 1 else s.segment_ids[0])
        fractions.append((start + end) / 2)
    rows = session.execute(text(MIDDLES), {"segments": segments, "fractions": fractions})
    points = {int(r.n): (float(r.lon), float(r.lat)) for r in rows}
    return [points[n] for n in range(1, len(found) + 1)]


def _uncovered_item(
    s: Stretch, middle: tuple[float, float], *, zone: Zone, period: Selection
) -> AgendaItem:
    """An unpatrolled stretch as an agenda item, linked to the map of the period at it."""
    lon, lat = middle
    query = urlencode({"zone": zone.code, "date_from": period.date_from, "date_to": period.date_to})
    return AgendaItem(
        kind=AgendaKind.UNCOVERED,
        target_id=s.segment_ids[0],
        title=msg("agenda.title_uncovered", river=s.river_name, metres=round(s.length_m)),
        detail={
            "river_code": s.river_code,
            "river_name": s.river_name,
            "segment_ids": s.segment_ids,
            "from_fraction": s.from_fraction,
            "to_fraction": s.to_fraction,
            "length_m": round(s.length_m, 1),
            "lon": round(lon, 6),
            "lat": round(lat, 6),
        },
        link=f"/map?{query}#{lat:.6f},{lon:.6f}",
        severity=(s.length_m,),
    )


def chief_items(
    session: Session, *, scope: Scope, principal: Principal, zone: Zone, period: Selection
) -> list[AgendaItem]:
    """Chiefs of the zone in scope who missed their duty in a period ending in this one."""
    periods = [
        p
        for kind in DutyPeriod
        for p in periods_between(kind, period.date_from, period.date_to)
        if p.last <= period.date_to
    ]
    duties = assess_chiefs(
        session,
        scope=scope,
        member_id=principal.member_id,
        periods=periods,
        selected=DutyFilter(zone_id=zone.id),
    )
    missed: dict[int, list[ChiefDuty]] = defaultdict(list)
    for duty in duties:
        if duty.status is DutyStatus.MISSED:
            missed[duty.appointment_id].append(duty)
    return [_chief_item(found, zone=zone) for found in missed.values()]


def _chief_item(missed: list[ChiefDuty], *, zone: Zone) -> AgendaItem:
    """A chief's missed periods as one agenda item, linked to the duty page at the last."""
    chief = missed[-1]
    query = urlencode(
        {"zone": zone.code, "side": chief.side_code, "on": chief.period.last, "status": "missed"}
    )
    owed = sum(d.required - d.done for d in missed)
    return AgendaItem(
        kind=AgendaKind.CHIEF,
        target_id=chief.appointment_id,
        title=msg(
            "agenda.title_chief", name=chief.member_name, river=chief.river_name, missed=len(missed)
        ),
        detail={
            "member_id": chief.member_id,
            "level": str(chief.level),
            "side_code": chief.side_code,
            "river_code": chief.river_code,
            "periods": [
                {
                    "kind": str(d.period.kind),
                    "first": d.period.first.isoformat(),
                    "last": d.period.last.isoformat(),
                    "required": d.required,
                    "done": d.done,
                }
                for d in missed
            ],
        },
        link=f"/duty?{query}",
        severity=(float(len(missed)), float(owed)),
    )


def section_items(session: Session, *, zone: Zone, period: Selection) -> list[AgendaItem]:
    """Border sections whose class this period is worse than last period's or the target."""
    trends = border_trends(
        session, zone_id=zone.id, date_from=period.date_from, date_to=period.date_to
    )
    return [_section_item(t) for t in trends if t.worsened]


def _section_item(t: SectionTrend) -> AgendaItem:
    """A worsened section as an agenda item."""
    assert t.water_class is not None  # a worsened section has a class
    last = CLASS_NAMES[t.last_class] if t.last_class else "—"
    return AgendaItem(
        kind=AgendaKind.SECTION,
        target_id=t.section_id,
        title=msg(
            "agenda.title_section",
            name=t.name,
            water_class=CLASS_NAMES[t.water_class],
            last=last,
            target=CLASS_NAMES[t.target_class],
        ),
        detail={
            "code": t.code,
            "river_code": t.river_code,
            "water_class": t.water_class,
            "last_class": t.last_class,
            "target_class": t.target_class,
            "reading_id": t.reading_id,
            "over": [{"parameter": o.parameter, "factor": round(o.factor, 3)} for o in t.over],
        },
        link=f"/api/v1/water/sections/{t.section_id}",
        severity=(
            float(t.water_class - t.target_class),
            float(t.water_class - (t.last_class or t.water_class)),
        ),
    )


def proposed_agenda(
    session: Session,
    *,
    scope: Scope,
    principal: Principal,
    zone: Zone,
    date_from: date | None = None,
    date_to: date | None = None,
    today: date,
) -> Agenda:
    """The proposed agenda of `zone` for [date_from, date_to] (default: default_period)."""
    if date_from is None or date_to is None:
        first, last = default_period(today)
        date_from, date_to = date_from or first, date_to or last
    period = Selection(date_from=date_from, date_to=date_to, zone=zone.code)
    items = [
        *decision_items(session, zone=zone, period=period, today=today),
        *incident_items(session, scope=scope, principal=principal, zone=zone),
        *uncovered_items(session, scope=scope, zone=zone, period=period),
        *chief_items(session, scope=scope, principal=principal, zone=zone, period=period),
        *section_items(session, zone=zone, period=period),
    ]
    return Agenda(zone=zone, date_from=date_from, date_to=date_to, items=ordered(items))
