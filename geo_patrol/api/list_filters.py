"""The filters of the patrol, incident, effort and uncovered-stretch lists, declared once: the
JSON lists and their file exports take exactly the same query parameters (a filter added to
one reaches both), defaults (the last 30 days, the last 7) included."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import Depends, Query

from geo_patrol.api.params import parse_bbox
from geo_patrol.core.values import Id, Moment
from geo_patrol.core.vocabulary import (
    DecisionStatus,
    EffortGroup,
    EffortPeriod,
    IncidentStatus,
    Level,
    QualityFlag,
    Tier,
)


def patrol_filters(
    team_id: Id | None = None,
    member_id: Id | None = None,
    jurisdiction: Annotated[str | None, Query(description="Code it passed through.")] = None,
    zone_id: Id | None = None,
    river: str | None = None,
    since: Moment | None = None,
    until: Moment | None = None,
    flag: Annotated[QualityFlag | None, Query(description="A quality flag.")] = None,
    bbox: Annotated[str | None, Query(description="minlon,minlat,maxlon,maxlat")] = None,
) -> dict[str, Any]:
    """The patrol list's filters (GET /api/v1/patrols)."""
    return {
        "team_id": team_id,
        "member_id": member_id,
        "jurisdiction": jurisdiction,
        "zone_id": zone_id,
        "river": river,
        "since": since,
        "until": until,
        "flag": flag,
        "bbox": parse_bbox(bbox),
    }


def incident_filters(
    status: IncidentStatus | None = None,
    tier: Tier | None = None,
    category: str | None = None,
    jurisdiction: str | None = None,
    zone_id: Id | None = None,
    joint: bool = False,
    overdue: bool = False,
    unrouted: bool = False,
    since: Moment | None = None,
    until: Moment | None = None,
    bbox: Annotated[str | None, Query(description="minlon,minlat,maxlon,maxlat")] = None,
    open: Annotated[bool, Query(description="Only cases not yet resolved.")] = False,
) -> dict[str, Any]:
    """The incident list's filters (GET /api/v1/incidents)."""
    return {
        "status": status,
        "tier": tier,
        "category": category,
        "jurisdictions": [jurisdiction] if jurisdiction else None,
        "zone_id": zone_id,
        "joint": joint,
        "overdue": overdue,
        "unrouted": unrouted,
        "since": since,
        "until": until,
        "bbox": parse_bbox(bbox),
        "open": open,
    }


PatrolFiltersDep = Annotated[dict[str, Any], Depends(patrol_filters)]
IncidentFiltersDep = Annotated[dict[str, Any], Depends(incident_filters)]


def effort_filters(
    by: EffortGroup = EffortGroup.JURISDICTION,
    period: EffortPeriod = EffortPeriod.WEEK,
    level: Level = Level.TOWN,
    since: Moment | None = None,
    until: Moment | None = None,
) -> dict[str, Any]:
    """The effort table's grouping and window (default: the last 30 days)."""
    until = until or datetime.now(UTC)
    since = since or until - timedelta(days=30)
    return {"by": by, "period": period, "level": level, "since": since, "until": until}


def uncovered_filters(
    days: Annotated[int, Query(ge=1, le=366)] = 7,
    border: Annotated[bool | None, Query(description="Only border segments.")] = None,
    river: Annotated[str | None, Query(description="River code.")] = None,
) -> dict[str, Any]:
    """The uncovered stretches' window (the last `days` days) and which segments."""
    until = datetime.now(UTC)
    return {"since": until - timedelta(days=days), "until": until, "border": border, "river": river}


def decision_filters(
    zone: Annotated[str | None, Query(max_length=64, description="Cooperation zone code.")] = None,
    meeting_id: Annotated[Id | None, Query(description="One meeting's decisions.")] = None,
    status: Annotated[
        DecisionStatus | None, Query(description="As shown: overdue is derived.")
    ] = None,
    mine: Annotated[bool, Query(description="Only those I own.")] = False,
) -> dict[str, Any]:
    """The decision list's filters (GET /api/v1/decisions); `mine` is the caller's to fill."""
    return {"zone_code": zone or None, "meeting_id": meeting_id, "status": status, "mine": mine}


DecisionFiltersDep = Annotated[dict[str, Any], Depends(decision_filters)]
EffortFiltersDep = Annotated[dict[str, Any], Depends(effort_filters)]
UncoveredFiltersDep = Annotated[dict[str, Any], Depends(uncovered_filters)]
