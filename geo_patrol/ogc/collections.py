"""The collections OGC API clients list and read, each with its filters and its reader.

Jurisdictions are one collection per level (jurisdictions_province ... jurisdictions_grid)
rather than one with a `level` filter: QGIS and GDAL turn each collection into a layer, a
layer has one style and one place in the layer order, and a province drawn over its towns
hides them; a filter would also have to be typed into each layer's URI by hand, which QGIS's
OAPIF dialog does not offer. Rivers, segments, zones, border zones and villages are public
geography to every member; patrols, incidents, uncovered stretches, chief stretches and water
sections are read through the same scope filter as the JSON API.

Introduced in: geo-patrol 0.4.0
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from geo_patrol.core.catalog import msg
from geo_patrol.core.errors import NotFound
from geo_patrol.core.vocabulary import (
    ChiefLevel,
    DutyStatus,
    IncidentStatus,
    Level,
    PatrolMode,
    PatrolSource,
    SectionKind,
    Tier,
)
from geo_patrol.ogc import readers
from geo_patrol.ogc.params import Parser, bool_value, choice, int_value, text_value
from geo_patrol.ogc.readers import PageReader, WholeReader


@dataclass(frozen=True)
class Collection:
    """One collection: its words, its filters and how it is read."""

    id: str
    title: str
    description: str
    filters: Mapping[str, Parser] = field(default_factory=dict)
    whole: WholeReader | None = None
    paged: PageReader | None = None
    temporal: str | None = None  # what `datetime` selects on, for the docs
    scoped: bool = False


def _level_collection(level: Level) -> Collection:
    """The collection of one level's jurisdictions."""
    return Collection(
        id=f"jurisdictions_{level}",
        title=f"Jurisdictions: {level}",
        description=f"The {level} boundaries in force (datetime: in force at that instant).",
        filters={"parent": text_value},
        whole=readers.jurisdictions(level),
        temporal="valid_from/valid_to",
    )


COLLECTIONS: dict[str, Collection] = {
    c.id: c
    for c in (
        *(_level_collection(level) for level in Level),
        Collection(
            "rivers", "Rivers", "Every river with its length.", whole=readers.rivers, filters={}
        ),
        Collection(
            "segments",
            "River segments",
            "Rivers cut where they cross a boundary, with the towns sharing each.",
            filters={"river": text_value, "border": bool_value},
            whole=readers.segments,
        ),
        Collection(
            "zones",
            "Cooperation zones",
            "Each cooperation zone's outline (its members' boundaries).",
            whole=readers.zone_features("outline"),
        ),
        Collection(
            "border_zones",
            "Border zones",
            "The area of each zone where a report becomes a joint case.",
            whole=readers.zone_features("border_zone"),
        ),
        Collection("villages", "Villages", "Village points.", whole=readers.villages),
        Collection(
            "patrols",
            "Patrols",
            "Patrol tracks with their summary (datetime: patrols that ran then).",
            filters={
                "team_id": int_value,
                "member_id": int_value,
                "jurisdiction": text_value,
                "zone_id": int_value,
                "river": text_value,
                "flag": text_value,
                "mode": choice(PatrolMode),
                "source": choice(PatrolSource),
            },
            paged=readers.patrols,
            temporal="started_at/ended_at",
            scoped=True,
        ),
        Collection(
            "incidents",
            "Incidents",
            "Reported incidents (datetime: reported then).",
            filters={
                "status": choice(IncidentStatus),
                "tier": choice(Tier),
                "category": text_value,
                "jurisdiction": text_value,
                "zone_id": int_value,
                "joint": bool_value,
                "overdue": bool_value,
                "unrouted": bool_value,
                "open": bool_value,
            },
            paged=readers.incidents,
            temporal="reported_at",
            scoped=True,
        ),
        Collection(
            "uncovered",
            "Uncovered river stretches",
            "Stretches no patrol covered in the period (datetime interval; default: this "
            "month so far).",
            filters={"river": text_value, "border": bool_value},
            whole=readers.uncovered,
            temporal="period_start/period_end",
            scoped=True,
        ),
        Collection(
            "chief_stretches",
            "River chiefs' stretches",
            "Each river chief's stretch with their duty in the current period (datetime: the "
            "periods containing that day).",
            filters={
                "level": choice(ChiefLevel),
                "side": text_value,
                "river": text_value,
                "chief": int_value,
                "status": choice(DutyStatus),
            },
            whole=readers.chief_stretches,
            temporal="period_first/period_last",
            scoped=True,
        ),
        Collection(
            "water_sections",
            "Water-quality sections",
            "Monitoring sections with their target class and the class of their latest "
            "reading (GB 3838-2002: 1..5 are I..V, 6 is 劣V); over_target: the latest is "
            "worse than the target.",
            filters={
                "kind": choice(SectionKind),
                "river": text_value,
                "over_target": bool_value,
            },
            whole=readers.water_sections,
            scoped=True,
        ),
    )
}


def collection_named(collection_id: str) -> Collection:
    """The collection with this id; 404 naming `collection_id`."""
    found = COLLECTIONS.get(collection_id)
    if found is None:
        raise NotFound(
            msg("problem.ogc.no_collection", collection_id=collection_id), field="collection_id"
        )
    return found
