"""Chiefs' stretches on a map, coloured by their duty this period (the map's duty layer, the
phone's own stretch).

Chiefs of different levels and sides often share segments (a county chief's whole river holds
the town and village chiefs' stretches; on a border river both sides' chiefs hold the same
segments). The map draws each segment once: segments held by the same set of chiefs make one
stretch, whose geometry is the union of those segments and whose colour is the worst status
among its chiefs (missed before in progress before met before not due), so a supervisor sees
at once where somebody has not done their duty.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_patrol.access.scope import Scope
from geo_patrol.core.paging import Page
from geo_patrol.core.vocabulary import DutyStatus
from geo_patrol.db.keyset import page_in_memory
from geo_patrol.duty.assessment import ChiefDuty, DutyFilter, assess_chiefs, current_periods

# Worst first: the colour of a stretch is the first of these among its chiefs.
WORST_FIRST = (DutyStatus.MISSED, DutyStatus.IN_PROGRESS, DutyStatus.MET, DutyStatus.NOT_DUE)

# Each group's segments merged into (Multi)LineStrings, in one statement for all groups.
GEOMETRIES = """
SELECT g.grp, ST_AsGeoJSON(ST_LineMerge(ST_Union(s.geom)))::json AS geometry
FROM unnest(CAST(:groups AS int[]), CAST(:segment_ids AS int[])) AS g(grp, segment_id)
JOIN river_segments s ON s.id = g.segment_id
GROUP BY g.grp
"""


@dataclass(frozen=True)
class DutyStretch:
    """Segments held by the same chiefs, with their geometry and worst status."""

    segment_ids: list[int]
    geometry: dict[str, Any] | None
    status: DutyStatus
    chiefs: list[ChiefDuty]


def worst_status(statuses: Sequence[DutyStatus]) -> DutyStatus:
    """The worst of some statuses (not due when there are none)."""
    return next((s for s in WORST_FIRST if s in statuses), DutyStatus.NOT_DUE)


def stretch_geometries(
    session: Session, *, groups: Sequence[Sequence[int]]
) -> list[dict[str, Any] | None]:
    """The GeoJSON geometry (WGS84) of each group of segments, the union of its segments;
    None for an empty group."""
    pairs = [(index, segment) for index, group in enumerate(groups) for segment in group]
    if not pairs:
        return [None] * len(groups)
    rows = session.execute(
        text(GEOMETRIES),
        {"groups": [p[0] for p in pairs], "segment_ids": [p[1] for p in pairs]},
    )
    found = {row.grp: row.geometry for row in rows}
    return [found.get(index) for index in range(len(groups))]


def group_by_chiefs(duties: Sequence[ChiefDuty]) -> list[tuple[list[int], list[ChiefDuty]]]:
    """Segments grouped by the set of chiefs holding them (each chief's duty once per
    segment), in the order of the chiefs' list."""
    holders: dict[int, list[int]] = defaultdict(list)
    for index, duty in enumerate(duties):
        for segment in duty.segment_ids:
            if index not in holders[segment]:
                holders[segment].append(index)
    groups: dict[tuple[int, ...], list[int]] = defaultdict(list)
    for segment, indices in holders.items():
        groups[tuple(sorted(indices))].append(segment)
    return [
        (sorted(segments), [duties[i] for i in indices])
        for indices, segments in sorted(groups.items())
    ]


def duty_stretches(
    session: Session,
    *,
    scope: Scope,
    member_id: int | None,
    day: date,
    selected: DutyFilter = DutyFilter(),
    now: datetime | None = None,
) -> list[DutyStretch]:
    """The stretches of the chiefs the caller may see, in the period of each chief's rule
    containing `day`, the worst drawn last (on top)."""
    duties = assess_chiefs(
        session,
        scope=scope,
        member_id=member_id,
        periods=current_periods(day),
        selected=selected,
        now=now,
    )
    grouped = group_by_chiefs(duties)
    geometries = stretch_geometries(session, groups=[segments for segments, _ in grouped])
    stretches = [
        DutyStretch(
            segment_ids=segments,
            geometry=geometry,
            status=worst_status([chief.status for chief in chiefs]),
            chiefs=chiefs,
        )
        for (segments, chiefs), geometry in zip(grouped, geometries, strict=True)
    ]
    return sorted(stretches, key=lambda s: -WORST_FIRST.index(s.status))


@dataclass(frozen=True)
class OwnDuty:
    """One of the caller's own appointments: its duty this period and its stretch."""

    duty: ChiefDuty
    geometry: dict[str, Any] | None


def own_duties(
    session: Session,
    *,
    scope: Scope,
    member_id: int | None,
    day: date,
    now: datetime | None = None,
) -> list[OwnDuty]:
    """The duty this period of each appointment the member holds (none for a member who is
    not a chief), with the stretch's geometry: what the phone shows its chief."""
    if not member_id:
        return []
    duties = assess_chiefs(
        session,
        scope=scope,
        member_id=member_id,
        periods=current_periods(day),
        selected=DutyFilter(chief=member_id),
        now=now,
    )
    geometries = stretch_geometries(session, groups=[duty.segment_ids for duty in duties])
    return [OwnDuty(duty, geometry) for duty, geometry in zip(duties, geometries, strict=True)]


def own_duty_key(own: OwnDuty) -> tuple[str, str, str, str, str, int]:
    """The order of one's duties: the duty list's (period, river, level, side, name)."""
    duty = own.duty
    return (
        duty.period.first.isoformat(),
        duty.river_code,
        str(duty.level),
        duty.side_code,
        duty.member_name,
        duty.appointment_id,
    )


def own_duty_page(
    owned: Sequence[OwnDuty], *, limit: int | None, cursor: str | None
) -> Page[OwnDuty]:
    """A page of one's own duties. One member's appointments are a handful (the list is
    small and bounded), assessed whole and paged here by their order."""
    return page_in_memory(
        owned,
        key=own_duty_key,
        kinds=("day", "text", "text", "text", "text", "int"),
        limit=limit,
        cursor=cursor,
    )
