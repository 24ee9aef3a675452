"""The reading that opened a water-quality case and its leads upstream."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter

from geo_patrol.api.deps import CurrentPrincipal, ReadSessionDep, ScopeDep
from geo_patrol.api.schemas import CaseLeadsPublic
from geo_patrol.core.values import BigId
from geo_patrol.water.case_leads import CaseReading, case_leads
from geo_patrol.water.standard import CLASS_NAMES

router = APIRouter(prefix="/api/v1", tags=["water"])


@router.get(
    "/incidents/{incident_id}/leads",
    summary="The reading and upstream leads of a water-quality case",
    response_model=CaseLeadsPublic,
)
def get_case_leads(
    incident_id: BigId, session: ReadSessionDep, scope: ScopeDep, principal: CurrentPrincipal
) -> dict[str, Any]:
    """Section, class, target and parameters over the limit; patrols, reports and uncovered
    stretches upstream in the hours before the sample, nearest first (seen as the incident)."""
    found = case_leads(session, scope=scope, principal=principal, incident_id=incident_id)
    return {
        "incident_id": found.incident_id,
        "reading": _reading(found.reading) if found.reading else None,
        "leads": [{**asdict(lead), "kind": lead.kind.value} for lead in found.leads],
    }


def _reading(reading: CaseReading) -> dict[str, Any]:
    """The reading as answered."""
    return {
        "id": reading.id,
        "sampled_at": reading.sampled_at,
        "section": {
            "id": reading.section_id,
            "code": reading.section_code,
            "name": reading.section_name,
            "name_en": reading.section_name_en,
            "kind": reading.section_kind,
            "river_code": reading.river_code,
            "river_name": reading.river_name,
        },
        "water_class": reading.water_class,
        "class_name": CLASS_NAMES[reading.water_class],
        "target_class": reading.target_class,
        "target_name": CLASS_NAMES[reading.target_class],
        "previous_class": reading.previous_class,
        "previous_name": CLASS_NAMES.get(reading.previous_class or 0),
        "over_limit": [asdict(item) for item in reading.over_limit],
    }
