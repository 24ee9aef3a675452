"""Import jurisdiction boundaries: stage the file, then merge it as new versions in one go.

Idempotent: a feature whose geometry and attributes equal the version in force changes
nothing. A changed geometry closes the version in force at `changed_at` and adds a new one
from that moment; a changed name or parent is corrected in place.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import shapely
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_patrol.core.catalog import msg
from geo_patrol.core.errors import ImportFileError, InvalidInput
from geo_patrol.db.tables import LEVELS
from geo_patrol.geography.hierarchy import link_parents
from geo_patrol.geography.imports.report import ImportReport
from geo_patrol.geography.imports.vector import VectorFeature, read_vector

# Boundaries present at their first import are taken as in force since before any record.
SINCE_EVER = datetime(1900, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class JurisdictionImportOptions:
    """How to read a boundary file: which columns hold what, and how to link parents."""

    code_field: str = "code"
    name_field: str = "name"
    name_en_field: str | None = "name_en"
    level_field: str | None = "level"
    level: str | None = None
    parent_field: str | None = "parent_code"
    hierarchy: str = "code"
    crs: str | None = None
    layer: str | None = None
    source: str | None = None
    # The code and name of a file of one boundary that does not hold them (a bare geometry).
    code: str | None = None
    name: str | None = None

    def __post_init__(self) -> None:
        if self.hierarchy not in ("code", "containment"):
            raise InvalidInput(
                msg("problem.imports.hierarchy_choice", hierarchy=self.hierarchy),
                field="hierarchy",
            )
        if self.level is not None and self.level not in LEVELS:
            raise InvalidInput(
                msg("problem.imports.level_choice", levels=", ".join(LEVELS), level=self.level),
                field="level",
            )


STAGE = """
CREATE TEMP TABLE staged_jurisdictions (
    number integer, code text, name text, name_en text, level text, parent_code text,
    geom geometry(MultiPolygon, 4326), geom_hash text
) ON COMMIT DROP
"""

STAGE_ROW = """
INSERT INTO staged_jurisdictions (number, code, name, name_en, level, parent_code, geom)
VALUES (:number, :code, :name, :name_en, :level, :parent_code,
        ST_GeomFromWKB(:wkb, 4326))
"""

HASH_STAGED = "UPDATE staged_jurisdictions SET geom_hash = md5(ST_AsBinary(ST_Normalize(geom)))"

CLOSE_CHANGED = """
UPDATE jurisdictions j SET valid_to = :changed_at
FROM staged_jurisdictions s
WHERE j.code = s.code AND j.valid_to IS NULL AND j.geom_hash <> s.geom_hash
RETURNING j.code
"""

INSERT_VERSIONS = """
INSERT INTO jurisdictions
    (code, name, name_en, level, parent_code, geom, geom_hash, valid_from, source)
SELECT s.code, s.name, s.name_en, s.level, COALESCE(s.parent_code, closed.parent_code),
       s.geom, s.geom_hash,
       CASE WHEN closed.code IS NULL THEN CAST(:since_ever AS timestamptz)
            ELSE CAST(:changed_at AS timestamptz) END,
       :source
FROM staged_jurisdictions s
LEFT JOIN jurisdictions closed ON closed.code = s.code AND closed.valid_to = :changed_at
WHERE NOT EXISTS (
    SELECT 1 FROM jurisdictions j WHERE j.code = s.code AND j.valid_to IS NULL)
RETURNING (valid_from <> CAST(:since_ever AS timestamptz)) AS is_new_version
"""

UPDATE_ATTRIBUTES = """
UPDATE jurisdictions j
SET name = s.name, name_en = s.name_en, level = s.level,
    parent_code = COALESCE(s.parent_code, j.parent_code)
FROM staged_jurisdictions s
WHERE j.code = s.code AND j.valid_to IS NULL AND j.geom_hash = s.geom_hash
  AND (j.name, j.name_en, j.level, COALESCE(s.parent_code, j.parent_code))
      IS DISTINCT FROM (s.name, s.name_en, s.level, j.parent_code)
RETURNING j.code
"""


def import_jurisdictions(
    session: Session,
    *,
    path: Path,
    options: JurisdictionImportOptions,
    changed_at: datetime | None = None,
    progress: Callable[[Iterable[VectorFeature]], Iterable[VectorFeature]] = iter,
) -> ImportReport:
    """Import a boundary file into `jurisdictions` inside the caller's transaction."""
    vector = read_vector(
        path,
        kind="polygon",
        fields=_field_map(options),
        required=["code", "name"],
        crs=options.crs,
        layer=options.layer,
        values={"code": options.code or "", "name": options.name or ""},
    )
    report = ImportReport(kind="jurisdictions", file=path.name, features=len(vector.features))
    report.repaired = list(vector.repaired)
    report.warnings.extend(vector.warnings)
    session.execute(text(STAGE))
    rows = [_staged_row(feature, options) for feature in progress(vector.features)]
    _check_unique_codes(rows)
    if rows:
        session.execute(text(STAGE_ROW), rows)
    session.execute(text(HASH_STAGED))
    _merge(session, report, changed_at=changed_at or datetime.now(UTC), source=options.source)
    link_parents(session, by=options.hierarchy)
    report.warnings.extend(_orphans(session))
    session.execute(text("DROP TABLE staged_jurisdictions"))
    return report


def _merge(
    session: Session, report: ImportReport, *, changed_at: datetime, source: str | None
) -> None:
    """Close changed versions, insert new rows and versions, correct attributes; count each."""
    params = {"changed_at": changed_at, "since_ever": SINCE_EVER, "source": source}
    session.execute(text(CLOSE_CHANGED), params).all()
    inserted = session.execute(text(INSERT_VERSIONS), params).scalars().all()
    report.new_versions = sum(1 for is_new_version in inserted if is_new_version)
    report.added = len(inserted) - report.new_versions
    report.updated = len(session.execute(text(UPDATE_ATTRIBUTES)).all())
    report.unchanged = report.features - len(inserted) - report.updated


def _field_map(options: JurisdictionImportOptions) -> dict[str, str]:
    """Our property names -> the file's column names."""
    fields = {"code": options.code_field, "name": options.name_field}
    optional = {
        "name_en": options.name_en_field,
        "level": None if options.level else options.level_field,
        "parent_code": options.parent_field,
    }
    fields.update({ours: theirs for ours, theirs in optional.items() if theirs})
    return fields


def _staged_row(feature: VectorFeature, options: JurisdictionImportOptions) -> dict[str, object]:
    """One staged row from a feature, checking its level."""
    props = feature.properties
    level = options.level or props.get("level")
    if level not in LEVELS:
        raise ImportFileError(
            msg(
                "problem.imports.unknown_level",
                number=feature.number,
                level=level,
                levels=", ".join(LEVELS),
            ),
            feature=feature.number,
            field="level",
        )
    parent = props.get("parent_code")
    return {
        "number": feature.number,
        "code": str(props["code"]),
        "name": str(props["name"]),
        "name_en": props.get("name_en") or None,
        "level": level,
        "parent_code": str(parent) if parent not in (None, "") else None,
        "wkb": shapely.to_wkb(feature.geometry),
    }


def _check_unique_codes(rows: list[dict[str, object]]) -> None:
    """Refuse a file that gives one code twice."""
    seen: dict[object, object] = {}
    for row in rows:
        if row["code"] in seen:
            raise ImportFileError(
                msg(
                    "problem.imports.duplicate_code",
                    first=seen[row["code"]],
                    number=row["number"],
                    code=row["code"],
                ),
                feature=row["number"],
                field="code",
            )
        seen[row["code"]] = row["number"]


def _orphans(session: Session) -> list[str]:
    """Warnings for imported jurisdictions below province level that found no parent."""
    codes = session.execute(
        text(
            "SELECT j.code FROM jurisdictions j JOIN staged_jurisdictions s USING (code) "
            "WHERE j.valid_to IS NULL AND j.parent_code IS NULL AND j.level <> 'province' "
            "ORDER BY j.code"
        )
    ).scalars()
    return [f"{code}: no parent found" for code in codes]
