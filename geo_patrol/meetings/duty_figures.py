"""The meeting pack's river chiefs' duty (河长履职): each side's chiefs met or missed, and the
joint pairs, in the duty periods that contain the pack's last day.

A joint meeting asks of both sides at once which chiefs have not patrolled as required: the
chiefs are those of the zone (a side at or under a member of the zone, or in one of its joint
pairs) the caller may see, each in the period of their own rule (a village chief's week, a
town chief's 旬, a county chief's month), grouped by the county of their side.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy.orm import Session

from geo_patrol.access.scope import Scope
from geo_patrol.core.vocabulary import DutyStatus
from geo_patrol.duty.assessment import (
    ChiefDuty,
    DutyFilter,
    JointDuty,
    assess_chiefs,
    assess_joint,
    current_periods,
)


@dataclass(frozen=True)
class SideDuty:
    """One side's chiefs (those whose side lies in one county) and how many met their duty."""

    code: str | None
    chiefs: list[ChiefDuty]

    @property
    def met(self) -> int:
        """Chiefs whose duty is met."""
        return sum(1 for chief in self.chiefs if chief.status is DutyStatus.MET)

    @property
    def missed(self) -> int:
        """Chiefs whose period ended with the duty unmet."""
        return sum(1 for chief in self.chiefs if chief.status is DutyStatus.MISSED)

    @property
    def owing(self) -> int:
        """Chiefs owing any patrol this period (met, in progress or missed)."""
        return sum(1 for chief in self.chiefs if chief.status is not DutyStatus.NOT_DUE)


@dataclass(frozen=True)
class DutyFigures:
    """The duty section of a meeting pack."""

    day: date
    sides: list[SideDuty] = field(default_factory=list)
    joints: list[JointDuty] = field(default_factory=list)


def by_side(chiefs: list[ChiefDuty]) -> list[SideDuty]:
    """Chiefs grouped by the county of their side, in county order (the assessment's order
    within each)."""
    counties = sorted({chief.county_code or chief.side_code for chief in chiefs})
    return [
        SideDuty(code, [c for c in chiefs if (c.county_code or c.side_code) == code])
        for code in counties
    ]


def duty_figures(
    session: Session,
    *,
    scope: Scope,
    member_id: int | None,
    zone_id: int,
    day: date,
    now: datetime | None = None,
) -> DutyFigures:
    """The zone's chiefs and joint pairs in the periods containing `day`, within the scope."""
    periods = current_periods(day)
    selected = DutyFilter(zone_id=zone_id)
    chiefs = assess_chiefs(
        session, scope=scope, member_id=member_id, periods=periods, selected=selected, now=now
    )
    joints = assess_joint(
        session, scope=scope, member_id=member_id, periods=periods, selected=selected, now=now
    )
    return DutyFigures(day=day, sides=by_side(chiefs), joints=joints)
