"""Monitoring sections placed on their rivers: imported from a list (`section_file`),
snapped to the river and the segment they lie on, upserted by code; snapped again when
their rivers are recut (`resnap`).

Snapping, for every row of a file in one statement: the river named in the row (by code or
name; of several with that name, the nearest), else the nearest river, measured on the
ellipsoid (geography). The section's point (`geom`) is the river's closest point to the
given one, found in the UTM zone of the given point (a conformal metric plane: "closest" is
closest in metres, not in degrees of longitude, which are shorter than degrees of latitude
away from the equator); `snap_distance_m` is how far on the ellipsoid it moved, and
`segment_id` the river segment nearest the snapped point (the one it lies on). A row further
than `settings.water_snap_max_m` from its river is refused, naming the river and the
distance; `given_geom` keeps the point as given (in WGS84).

Who may import: administrators any section; supervisors the sections of the sides they
supervise (the row's side, 所属, in their writable scope, and, for a section already stored,
its stored side too), so a supervisor must say the side. Rows are judged one by one: good
rows are stored, refused ones listed (a file that cannot be read refuses everything); a
dry run stores nothing and says what each row would become. The same file again changes
nothing.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_patrol.access import audit
from geo_patrol.access.principal import Principal
from geo_patrol.access.scope import Scope
from geo_patrol.core.catalog import Lang, msg
from geo_patrol.core.errors import Forbidden, ImportFileError, InvalidInput, localized
from geo_patrol.core.settings import Settings
from geo_patrol.core.sheets import RowError
from geo_patrol.core.vocabulary import Datum
from geo_patrol.water.files import MAX_ERRORS
from geo_patrol.water.section_file import SectionFile, SectionRow, read_sections

log = logging.getLogger(__name__)

# The UTM zone (northern or southern) of a point, as an EPSG code.
UTM_SRID = (
    "(CASE WHEN ST_Y({pt}) >= 0 THEN 32600 ELSE 32700 END"
    " + least(60, greatest(1, floor((ST_X({pt}) + 180) / 6)::int + 1)))"
)
# The closest point of a line to a point, in the point's UTM plane, back in WGS84.
CLOSEST = (
    "ST_Transform(ST_ClosestPoint(ST_Transform({line}, {srid}), ST_Transform({pt}, {srid})),"
    " 4326)"
)


def _closest(line: str, pt: str) -> str:
    """The SQL of the snapped point (only our own column names are formatted in)."""
    return CLOSEST.format(line=line, pt=pt, srid=UTM_SRID.format(pt=pt))


# The candidates' bounding-box test widens the point by the snapping limit at this many
# degrees per metre: 1/60000 is at least a metre in both directions anywhere south of 56 N
# (all of China). It only lets the GiST index prune, so every river within the limit is a
# candidate; the decision is the metric distance. The nearest river by the index (in
# degrees) is always a candidate too, so a refused row can name the river it is far from.
DEGREES_PER_METRE = 1 / 60_000
NEAREST_SEGMENT = """
LEFT JOIN LATERAL (
    SELECT x.id FROM river_segments x WHERE x.river_id = {river}
    ORDER BY ST_Distance(x.geom::geography, {pt}::geography), x.seq LIMIT 1
) seg ON true
"""
SNAP = f"""
WITH given AS (
    SELECT g.n, g.river, ST_SetSRID(ST_MakePoint(g.lon, g.lat), 4326) AS pt
    FROM unnest(CAST(:ns AS int[]), CAST(:lons AS float8[]), CAST(:lats AS float8[]),
                CAST(:rivers AS text[])) AS g(n, lon, lat, river)
)
SELECT g.n, near.id AS river_id, near.code AS river_code, near.distance_m,
       ST_X(snap.pt) AS lon, ST_Y(snap.pt) AS lat,
       ST_Distance(g.pt::geography, snap.pt::geography) AS snap_m, seg.id AS segment_id
FROM given g
LEFT JOIN LATERAL (
    SELECT r.id, r.code, r.geom, ST_Distance(r.geom::geography, g.pt::geography) AS distance_m
    FROM rivers r
    WHERE CASE WHEN g.river IS NULL
          THEN r.geom && ST_Expand(g.pt, :expand_deg)
               OR r.id = (SELECT k.id FROM rivers k ORDER BY k.geom <-> g.pt LIMIT 1)
          ELSE r.code = g.river OR r.name = g.river END
    ORDER BY distance_m, r.code
    LIMIT 1
) near ON true
LEFT JOIN LATERAL (SELECT {_closest("near.geom", "g.pt")} AS pt) snap ON true
{NEAREST_SEGMENT.format(river="near.id", pt="snap.pt")}
ORDER BY g.n
"""
RESNAP = f"""
UPDATE water_sections w
SET geom = fresh.pt, segment_id = fresh.segment_id,
    snap_distance_m = ST_Distance(w.given_geom::geography, fresh.pt::geography)
FROM (
    SELECT s.id, snap.pt, seg.id AS segment_id
    FROM water_sections s
    JOIN rivers r ON r.id = s.river_id
    CROSS JOIN LATERAL (SELECT {_closest("r.geom", "s.given_geom")} AS pt) snap
    {NEAREST_SEGMENT.format(river="r.id", pt="snap.pt")}
    WHERE s.river_id = ANY(:river_ids)
) fresh
WHERE w.id = fresh.id
RETURNING w.id, w.code, w.snap_distance_m
"""
STORED = """
SELECT w.id, w.code, w.name, w.name_en, w.kind, w.water_body, w.target_class, w.side_code,
       r.code AS river_code, w.segment_id, ST_X(w.given_geom) AS given_lon,
       ST_Y(w.given_geom) AS given_lat, ST_X(w.geom) AS lon, ST_Y(w.geom) AS lat
FROM water_sections w JOIN rivers r ON r.id = w.river_id
WHERE w.code = ANY(:codes)
"""
SIDES = "SELECT code FROM jurisdictions WHERE valid_to IS NULL AND code = ANY(:codes)"
UPSERT = """
INSERT INTO water_sections AS w (code, name, name_en, kind, water_body, target_class,
    side_code, river_id, segment_id, geom, given_geom, snap_distance_m, source)
SELECT u.code, u.name, u.name_en, u.kind, u.water_body, u.target_class, u.side, u.river_id,
       u.segment_id, ST_SetSRID(ST_MakePoint(u.lon, u.lat), 4326),
       ST_SetSRID(ST_MakePoint(u.given_lon, u.given_lat), 4326), u.snap_m, :source
FROM unnest(CAST(:codes AS text[]), CAST(:names AS text[]), CAST(:names_en AS text[]),
            CAST(:kinds AS text[]), CAST(:bodies AS text[]), CAST(:targets AS int[]),
            CAST(:sides AS text[]), CAST(:river_ids AS int[]), CAST(:segment_ids AS int[]),
            CAST(:lons AS float8[]), CAST(:lats AS float8[]), CAST(:given_lons AS float8[]),
            CAST(:given_lats AS float8[]), CAST(:snap_ms AS float8[]))
     AS u(code, name, name_en, kind, water_body, target_class, side, river_id, segment_id,
          lon, lat, given_lon, given_lat, snap_m)
ON CONFLICT (code) DO UPDATE
SET name = excluded.name, name_en = excluded.name_en, kind = excluded.kind,
    water_body = excluded.water_body, target_class = excluded.target_class,
    side_code = excluded.side_code, river_id = excluded.river_id,
    segment_id = excluded.segment_id, geom = excluded.geom, given_geom = excluded.given_geom,
    snap_distance_m = excluded.snap_distance_m, source = excluded.source
RETURNING w.id, w.code
"""


@dataclass(frozen=True)
class Snapped:
    """Where a row's point lands: its river, the segment, the point, how far it moved, and
    how far the river is (None: no river found)."""

    river_id: int | None
    river_code: str | None
    distance_m: float | None
    lon: float | None
    lat: float | None
    snap_m: float | None
    segment_id: int | None


@dataclass(frozen=True)
class SectionOptions:
    """How to read a file: the datum of rows without one, whether to store, its name."""

    datum: Datum = Datum.WGS84
    dry_run: bool = False
    filename: str | None = None


@dataclass
class SectionResult:
    """What became (or would become) of one row; `changed` names what an update changes."""

    row: int
    outcome: str  # added | updated | unchanged | would_add | would_update | refused
    code: str | None = None
    section_id: int | None = None
    river: str | None = None
    segment_id: int | None = None
    lon: float | None = None
    lat: float | None = None
    snap_distance_m: float | None = None
    changed: list[str] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


@dataclass
class SectionImport:
    """Counts of a section import and each row's result."""

    dry_run: bool
    filename: str | None
    sha256: str
    rows: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    refused: int = 0
    results: list[SectionResult] = field(default_factory=list)

    def summary(self) -> str:
        """One line for the log and the command line."""
        return (
            f"section import {self.filename or '-'} sha256={self.sha256} rows={self.rows} "
            f"added={self.added} updated={self.updated} unchanged={self.unchanged} "
            f"refused={self.refused} dry_run={self.dry_run}"
        )

    def answer(self, lang: Lang) -> dict[str, Any]:
        """As the API answers it, the row errors in `lang`."""
        return {
            **{name: getattr(self, name) for name in ANSWER_FIELDS},
            "results": [
                {
                    **{name: getattr(result, name) for name in RESULT_FIELDS},
                    "errors": [localized(e.as_dict(), lang) for e in result.errors],
                }
                for result in self.results
            ],
        }


ANSWER_FIELDS = ("dry_run", "filename", "sha256", "rows", "added", "updated", "unchanged")
ANSWER_FIELDS += ("refused",)
RESULT_FIELDS = ("row", "outcome", "code", "section_id", "river", "segment_id", "lon", "lat")
RESULT_FIELDS += ("snap_distance_m", "changed")


def import_sections(
    session: Session,
    *,
    data: bytes,
    options: SectionOptions,
    scope: Scope,
    principal: Principal,
    settings: Settings,
) -> SectionImport:
    """Check, snap and (unless a dry run) upsert every row of a section list."""
    report = SectionImport(options.dry_run, options.filename, hashlib.sha256(data).hexdigest())
    may_import(scope)
    try:
        parsed = read_sections(data, datum=options.datum)
    except (ImportFileError, InvalidInput) as error:
        log.warning("%s refused: %s", report.summary(), error.detail)
        raise
    report.rows = parsed.data_rows
    refused: dict[int, list[RowError]] = {}
    for bad in parsed.errors[:MAX_ERRORS]:
        refused.setdefault(bad.row, []).append(bad)
    snapped = snap(session, rows=parsed.rows, max_m=settings.water_snap_max_m)
    stored = _stored(session, [row.code for row in parsed.rows])
    _check(session, parsed, snapped, stored, scope, settings, refused)
    good = [row for row in parsed.rows if row.row not in refused]
    results = [_result(row, snapped[row.row], stored.get(row.code)) for row in good]
    if not options.dry_run:
        _upsert(session, good, snapped, results, options.filename)
    for result in results:
        kind = result.outcome
        setattr(report, kind, getattr(report, kind) + 1)
        if options.dry_run and kind != "unchanged":
            result.outcome = {"added": "would_add", "updated": "would_update"}[kind]
    report.results = results + [
        SectionResult(number, "refused", errors=errors) for number, errors in refused.items()
    ]
    report.results.sort(key=lambda result: result.row)
    report.refused = len(refused)
    log.info("%s", report.summary())
    if not options.dry_run:
        _audit(session, principal, report)
    return report


def may_import(scope: Scope) -> None:
    """Administrators and supervisors import sections and readings; others are refused."""
    if not (scope.everything or scope.writable_codes):
        raise Forbidden(msg("problem.water.not_importer"))


def snap(session: Session, *, rows: Sequence[SectionRow], max_m: float) -> dict[int, Snapped]:
    """Each row's river (named, else the nearest: exactly so within `max_m`), snapped point
    and segment, by row number, in one statement."""
    if not rows:
        return {}
    found = session.execute(
        text(SNAP),
        {
            "ns": [row.row for row in rows],
            "lons": [row.lon for row in rows],
            "lats": [row.lat for row in rows],
            "rivers": [row.river for row in rows],
            "expand_deg": max_m * DEGREES_PER_METRE,
        },
    )
    return {
        int(hit.n): Snapped(
            hit.river_id, hit.river_code, hit.distance_m, hit.lon, hit.lat, hit.snap_m,
            hit.segment_id,
        )  # fmt: skip
        for hit in found
    }


def _stored(session: Session, codes: list[str]) -> dict[str, Any]:
    """The stored sections with these codes, by code."""
    rows = session.execute(text(STORED), {"codes": codes})
    return {row.code: row for row in rows}


def _check(
    session: Session,
    parsed: SectionFile,
    snapped: dict[int, Snapped],
    stored: dict[str, Any],
    scope: Scope,
    settings: Settings,
    refused: dict[int, list[RowError]],
) -> None:
    """Refuse the rows without a river near enough, of an unknown side, or not the
    caller's to import."""
    sides = {row.side for row in parsed.rows if row.side}
    known = set(session.execute(text(SIDES), {"codes": sorted(sides)}).scalars())
    for row in parsed.rows:
        where = snapped[row.row]
        errors: list[RowError] = []
        river_column = parsed.columns.written.get("river") or parsed.columns.column("lon")
        if where.river_id is None:
            detail = (
                msg("problem.water.no_river", river=row.river)
                if row.river
                else msg("problem.water.no_river_near", max_m=settings.water_snap_max_m)
            )
            errors.append(RowError(row.row, river_column, detail))
        elif (where.distance_m or 0.0) > settings.water_snap_max_m:
            detail = msg(
                "problem.water.too_far",
                river=where.river_code,
                distance_m=round(where.distance_m or 0.0),
                max_m=settings.water_snap_max_m,
            )
            errors.append(RowError(row.row, river_column, detail))
        side_column = parsed.columns.column("side")
        if row.side and row.side not in known:
            errors.append(RowError(row.row, side_column, msg("problem.water.no_side", side=row.side)))
        elif not scope.everything:
            previous = stored.get(row.code)
            for side in {row.side, previous.side_code if previous else row.side}:
                if side not in scope.writable_codes:
                    detail = msg("problem.water.not_your_side", side=side or "-")
                    errors.append(RowError(row.row, side_column, detail))
                    break
        if errors:
            refused[row.row] = errors


def _result(row: SectionRow, where: Snapped, previous: Any) -> SectionResult:
    """What the row would do to the stored section (added, updated: what, unchanged)."""
    result = SectionResult(
        row.row, "added", row.code, None, where.river_code, where.segment_id, where.lon,
        where.lat, where.snap_m,
    )  # fmt: skip
    if previous is None:
        return result
    result.section_id = int(previous.id)
    now = {
        "name": row.name, "name_en": row.name_en, "kind": row.kind.value,
        "water_body": row.water_body.value, "target_class": row.target_class,
        "side": row.side, "river": where.river_code, "segment": where.segment_id,
        "position": (row.lon, row.lat), "snapped": (where.lon, where.lat),
    }  # fmt: skip
    before = {
        "name": previous.name, "name_en": previous.name_en, "kind": previous.kind,
        "water_body": previous.water_body, "target_class": previous.target_class,
        "side": previous.side_code, "river": previous.river_code,
        "segment": previous.segment_id, "position": (previous.given_lon, previous.given_lat),
        "snapped": (previous.lon, previous.lat),
    }  # fmt: skip
    result.changed = [name for name in now if now[name] != before[name]]
    result.outcome = "updated" if result.changed else "unchanged"
    return result


def _upsert(
    session: Session,
    rows: list[SectionRow],
    snapped: dict[int, Snapped],
    results: list[SectionResult],
    source: str | None,
) -> None:
    """Add or update the rows that change something, in one statement."""
    changing = [
        (row, snapped[row.row], result)
        for row, result in zip(rows, results, strict=True)
        if result.outcome != "unchanged"
    ]
    if not changing:
        return
    ids = session.execute(
        text(UPSERT),
        {
            "codes": [row.code for row, _, _ in changing],
            "names": [row.name for row, _, _ in changing],
            "names_en": [row.name_en for row, _, _ in changing],
            "kinds": [row.kind.value for row, _, _ in changing],
            "bodies": [row.water_body.value for row, _, _ in changing],
            "targets": [row.target_class for row, _, _ in changing],
            "sides": [row.side for row, _, _ in changing],
            "river_ids": [where.river_id for _, where, _ in changing],
            "segment_ids": [where.segment_id for _, where, _ in changing],
            "lons": [where.lon for _, where, _ in changing],
            "lats": [where.lat for _, where, _ in changing],
            "given_lons": [row.lon for row, _, _ in changing],
            "given_lats": [row.lat for row, _, _ in changing],
            "snap_ms": [where.snap_m for _, where, _ in changing],
            "source": source,
        },
    )
    by_code = {found.code: int(found.id) for found in ids}
    for _, _, result in changing:
        result.section_id = by_code.get(str(result.code))


def _audit(session: Session, principal: Principal, report: SectionImport) -> None:
    """One audit entry for the file."""
    audit.record(
        session,
        action="water.sections.import",
        principal=principal,
        target=report.filename,
        detail={
            "sha256": report.sha256,
            "rows": report.rows,
            "added": report.added,
            "updated": report.updated,
            "unchanged": report.unchanged,
            "refused": report.refused,
        },
    )


@dataclass(frozen=True)
class Resnapped:
    """Sections snapped again after their rivers were recut; those now further from their
    river than the snapping limit (kept on it, listed for a person to look at)."""

    sections: int
    too_far: list[tuple[str, float]]


def resnap(
    session: Session, *, river_ids: Sequence[int], settings: Settings | None = None
) -> Resnapped:
    """Snap the sections of these rivers again (after `rebuild_segments` recut them: their
    `segment_id` is NULL, and the line may have moved), in one statement."""
    if not river_ids:
        return Resnapped(0, [])
    limit = (settings or Settings()).water_snap_max_m
    moved = session.execute(text(RESNAP), {"river_ids": list(river_ids)}).all()
    too_far = [(row.code, float(row.snap_distance_m)) for row in moved]
    too_far = [(code, distance) for code, distance in too_far if distance > limit]
    for code, distance in too_far:
        log.warning("section %s is %.0f m from its recut river", code, distance)
    if moved:
        log.info("sections snapped again on rivers %s: %d", sorted(river_ids), len(moved))
    return Resnapped(len(moved), too_far)


def recut_river_ids(session: Session) -> list[int]:
    """The rivers with a section that lost its segment (its river was recut: see resnap)."""
    found = session.execute(
        text("SELECT DISTINCT river_id FROM water_sections WHERE segment_id IS NULL")
    )
    return sorted(int(river_id) for river_id in found.scalars())
