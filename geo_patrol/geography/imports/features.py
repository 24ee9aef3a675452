"""Import rivers and village points: upsert by code, one transaction per file."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import shapely
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_patrol.core.catalog import msg
from geo_patrol.core.errors import ImportFileError, InvalidInput
from geo_patrol.core.vocabulary import RiverFlow
from geo_patrol.geography.flow import order_along_flow, parse_flow
from geo_patrol.geography.imports.report import ImportReport
from geo_patrol.geography.imports.vector import VectorFile, read_vector
from geo_patrol.geography.segments import rebuild_segments


@dataclass(frozen=True)
class FeatureImportOptions:
    """Which columns hold code and names; the CRS and layer of the file."""

    code_field: str = "code"
    name_field: str = "name"
    name_en_field: str | None = "name_en"
    village_field: str | None = "village_code"
    crs: str | None = None
    layer: str | None = None
    source: str | None = None
    segment_length_m: float = 1000.0
    side_distance_m: float = 50.0
    # The code and name of a file of one feature that does not hold them (a bare geometry).
    code: str | None = None
    name: str | None = None
    # Which way the rivers of the file flow, for a feature without a `flow` property of its
    # own (as_drawn | reversed; None: not said, a river keeps the flow it had).
    flow: RiverFlow | None = None


UPSERT_RIVER = """
INSERT INTO rivers (code, name, name_en, geom, geom_hash, source)
SELECT :code, :name, :name_en, g, md5(ST_AsBinary(ST_Normalize(g))), :source
FROM ST_Multi(ST_GeomFromWKB(:wkb, 4326)) AS g
ON CONFLICT (code) DO UPDATE
SET name = excluded.name, name_en = excluded.name_en, geom = excluded.geom,
    geom_hash = excluded.geom_hash, source = excluded.source
WHERE (rivers.name, rivers.name_en, rivers.geom_hash)
      IS DISTINCT FROM (excluded.name, excluded.name_en, excluded.geom_hash)
RETURNING id, (xmax = 0) AS inserted, geom_hash
"""

UPSERT_VILLAGE = """
INSERT INTO villages (code, name, village_code, geom)
VALUES (:code, :name, :village_code, ST_GeomFromWKB(:wkb, 4326))
ON CONFLICT (code) DO UPDATE
SET name = excluded.name, village_code = excluded.village_code, geom = excluded.geom
WHERE (villages.name, villages.village_code, ST_AsBinary(villages.geom))
      IS DISTINCT FROM (excluded.name, excluded.village_code, ST_AsBinary(excluded.geom))
RETURNING (xmax = 0) AS inserted
"""

# A flow given in the file (or by the option) replaces the river's; none given keeps it.
SET_FLOW = """
UPDATE rivers SET flow = :flow WHERE code = :code AND flow IS DISTINCT FROM :flow RETURNING id
"""


def _read(
    path: Path, options: FeatureImportOptions, kind: str, extra: dict[str, str]
) -> VectorFile:
    """Read a file with the code/name columns mapped, rejecting duplicate codes."""
    fields = {"code": options.code_field, "name": options.name_field, **extra}
    vector = read_vector(
        path,
        kind=kind,  # type: ignore[arg-type]
        fields=fields,
        required=["code", "name"],
        crs=options.crs,
        layer=options.layer,
        values={"code": options.code or "", "name": options.name or ""},
    )
    seen: dict[str, int] = {}
    for feature in vector.features:
        code = str(feature.properties["code"])
        if code in seen:
            raise ImportFileError(
                msg(
                    "problem.imports.duplicate_code",
                    first=seen[code],
                    number=feature.number,
                    code=code,
                ),
                feature=feature.number,
                field="code",
            )
        seen[code] = feature.number
    return vector


def import_rivers(session: Session, *, path: Path, options: FeatureImportOptions) -> ImportReport:
    """Upsert rivers by code and recut the segments of those that were added or changed."""
    extra = {"name_en": options.name_en_field} if options.name_en_field else {}
    vector = _read(path, options, "line", extra)
    report = ImportReport(kind="rivers", file=path.name, features=len(vector.features))
    report.warnings.extend(vector.warnings)
    changed: list[int] = []
    reflowed: list[int] = []
    for feature in vector.features:
        flow = _flow_of(feature.properties, feature.number, options.flow)
        row = session.execute(
            text(UPSERT_RIVER),
            {
                "code": str(feature.properties["code"]),
                "name": str(feature.properties["name"]),
                "name_en": feature.properties.get("name_en") or None,
                "wkb": shapely.to_wkb(feature.geometry),
                "source": options.source,
            },
        ).first()
        if row is not None:
            changed.append(row.id)
            report.added += int(row.inserted)
            report.updated += int(not row.inserted)
        if flow is not None:
            code = str(feature.properties["code"])
            flowed = session.execute(text(SET_FLOW), {"code": code, "flow": flow}).scalar()
            if flowed is not None and flowed not in changed:
                reflowed.append(int(flowed))
    report.updated += len(reflowed)
    report.unchanged = report.features - len(changed) - len(reflowed)
    rebuild_segments(
        session,
        river_ids=changed,
        segment_length_m=options.segment_length_m,
        side_distance_m=options.side_distance_m,
    )
    # Only the flow changed: the segments stay (and their coverage); their order is redone.
    order_along_flow(session, river_ids=reflowed)
    return report


def _flow_of(properties: dict[str, object], number: int, default: RiverFlow | None) -> str | None:
    """The flow a feature says (its `flow` property), else the file's option; checked."""
    given = properties.get("flow")
    try:
        flow = parse_flow(given) or default
    except InvalidInput as error:
        choices = ", ".join(RiverFlow)
        raise ImportFileError(
            msg("problem.flow.feature_choice", number=number, value=given, choices=choices),
            feature=number,
            field="flow",
        ) from error
    return flow.value if flow else None


def import_villages(session: Session, *, path: Path, options: FeatureImportOptions) -> ImportReport:
    """Upsert village points by code."""
    extra = {"village_code": options.village_field} if options.village_field else {}
    vector = _read(path, options, "point", extra)
    report = ImportReport(kind="villages", file=path.name, features=len(vector.features))
    report.warnings.extend(vector.warnings)
    for feature in vector.features:
        inserted = session.execute(
            text(UPSERT_VILLAGE),
            {
                "code": str(feature.properties["code"]),
                "name": str(feature.properties["name"]),
                "village_code": feature.properties.get("village_code") or None,
                "wkb": shapely.to_wkb(feature.geometry),
            },
        ).scalar()
        if inserted is not None:
            report.added += int(inserted)
            report.updated += int(not inserted)
    report.unchanged = report.features - report.added - report.updated
    return report
