"""Import reports other systems already have (a 12345 hotline, a river-chief platform):
every row routed by the rules of a single report, all stored or none.

Rows are read by `bulk_import_file`, placed and categorised by `bulk_import_places`, and
routed together by `routing.route_points` (the result of each row is what `route_point`
gives a single report there). Each is then stored through the single report's own statement
(`reports.store_routed`: tier, deadline, responsible sides, first event, duplicate link).
A row whose platform id is already stored is "already imported" and changes nothing, so the
same file twice stores nothing new. A file with refused rows stores nothing unless
`skip_errors`; a dry run stores nothing and says what each row would become.

Who may import what: administrators anything; anyone else only reports they could act on,
that is rows for which one of the responsible sides lies in the jurisdictions they
supervise, or joint rows of a zone they coordinate. An unrouted row (outside every
jurisdiction) is for administrators.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_patrol.access import audit
from geo_patrol.access.principal import Principal
from geo_patrol.access.scope import Scope
from geo_patrol.core.catalog import msg
from geo_patrol.core.errors import ImportFileError, InvalidInput
from geo_patrol.core.settings import Settings
from geo_patrol.core.sheets import RowError
from geo_patrol.core.vocabulary import Datum
from geo_patrol.incidents.bulk_import_file import MAX_ERRORS, ReportFile, ReportRow, read_reports
from geo_patrol.incidents.bulk_import_places import (
    Categories,
    Place,
    load_categories,
    load_gazetteer,
    parse_mapping,
)
from geo_patrol.incidents.bulk_import_store import Routed, store_many
from geo_patrol.incidents.reports import IncidentReport
from geo_patrol.incidents.routing import Routing, route_points

log = logging.getLogger(__name__)
SOURCE = "import"  # the channel, in incidents.source; the platform is external_source

STORED = """
SELECT s.source, s.id, i.id AS incident_id
FROM unnest(CAST(:sources AS text[]), CAST(:ids AS text[])) AS s(source, id)
JOIN incidents i ON i.external_source = s.source AND i.external_id = s.id
"""


@dataclass(frozen=True)
class ImportOptions:
    """How to read a file: the defaults for rows without a source or datum column, the
    category table, whether to store, and whether refused rows stop the rest."""

    source: str | None = None
    datum: Datum = Datum.WGS84
    categories: str | None = None
    dry_run: bool = False
    skip_errors: bool = False
    filename: str | None = None


@dataclass
class RowResult:
    """What became (or would become) of one row, and how it was routed."""

    row: int
    outcome: str  # stored | would_store | already_imported | refused
    external_source: str | None = None
    external_id: str | None = None
    incident_id: int | None = None
    category: str | None = None
    tier: str | None = None
    lon: float | None = None
    lat: float | None = None
    placed_by: str | None = None
    place_name: str | None = None
    jurisdiction: str | None = None
    responsible: list[str] = field(default_factory=list)
    joint: bool = False
    zone_id: int | None = None
    unrouted: bool = False
    errors: list[dict[str, object]] = field(default_factory=list)


@dataclass
class ImportReport:
    """Counts of an import (or of what a dry run would store), and each row's result."""

    dry_run: bool
    filename: str | None
    sha256: str
    rows: int = 0
    stored: int = 0
    would_store: int = 0
    already_imported: int = 0
    refused: int = 0
    results: list[RowResult] = field(default_factory=list)

    def summary(self) -> str:
        """One line for the log and the command line (never a phone number)."""
        return (
            f"incident import {self.filename or '-'} sha256={self.sha256} rows={self.rows} "
            f"stored={self.stored} would_store={self.would_store} "
            f"already_imported={self.already_imported} refused={self.refused} "
            f"dry_run={self.dry_run}"
        )


class ImportRejected(ImportFileError):
    """A file with refused rows and no `skip_errors`: nothing stored; `errors` lists them."""

    def __init__(self, report: ImportReport, errors: list[RowError]) -> None:
        rows = len({error.row for error in errors})
        truncated = len(errors) > MAX_ERRORS
        super().__init__(
            msg("problem.incidents.import_rejected", rows=rows),
            errors=[error.as_dict() for error in errors[:MAX_ERRORS]],
            truncated=truncated,
            sha256=report.sha256,
        )
        self.report = report


@dataclass
class _Row:
    """A good row on its way: where it is and what it is."""

    row: ReportRow
    place: Place
    category: str
    result: RowResult
    routing: Routing = field(default_factory=Routing)


def import_incidents(
    session: Session,
    *,
    data: bytes,
    options: ImportOptions,
    scope: Scope,
    principal: Principal,
    settings: Settings,
) -> ImportReport:
    """Check, route and (unless a dry run) store every row of an export; ImportRejected with
    every refused row, and nothing stored, unless `skip_errors`."""
    report = ImportReport(options.dry_run, options.filename, hashlib.sha256(data).hexdigest())
    try:
        parsed = read_reports(data, source=options.source, datum=options.datum)
        categories = load_categories(session, mapping=parse_mapping(options.categories))
    except (ImportFileError, InvalidInput) as error:
        log.warning("%s refused: %s", report.summary(), error.detail)
        raise
    report.rows = parsed.data_rows
    refused: dict[int, list[RowError]] = {}
    for bad in parsed.errors:
        refused.setdefault(bad.row, []).append(bad)
    good = _checked(session, parsed, categories, refused, report)
    _route(session, good, settings, scope, refused, parsed)
    accepted = [item for item in good if item.result.row not in refused]
    report.results += [item.result for item in accepted]
    report.results += [
        RowResult(number, "refused", errors=[_in_english(error) for error in errors])
        for number, errors in refused.items()
    ]
    report.results.sort(key=lambda result: result.row)
    report.refused = len(refused)
    _finish(session, accepted, refused, options, principal, settings, report)
    log.info("%s", report.summary())
    return report


def _finish(
    session: Session,
    accepted: list[_Row],
    refused: dict[int, list[RowError]],
    options: ImportOptions,
    principal: Principal,
    settings: Settings,
    report: ImportReport,
) -> None:
    """Say what would be stored (a dry run), refuse the file, or store the accepted rows."""
    if options.dry_run:
        report.would_store = len(accepted)
        for item in accepted:
            item.result.outcome = "would_store"
    elif refused and not options.skip_errors:
        errors = sorted((e for found in refused.values() for e in found), key=lambda e: e.row)
        log.warning("%s rejected: nothing stored", report.summary())
        raise ImportRejected(report, errors)
    else:
        _store(session, accepted, principal, settings, report)
        _audit(session, principal, report)


def _checked(
    session: Session,
    parsed: ReportFile,
    categories: Categories,
    refused: dict[int, list[RowError]],
    report: ImportReport,
) -> list[_Row]:
    """Rows with a place and a category that are not stored already (those are reported
    as already imported; the others refused)."""
    stored = {
        (found.source, found.id): int(found.incident_id)
        for found in session.execute(
            text(STORED),
            {
                "sources": [row.source for row in parsed.rows],
                "ids": [row.external_id for row in parsed.rows],
            },
        )
    }
    gazetteer = load_gazetteer(session, rows=parsed.rows)
    good: list[_Row] = []
    for row in parsed.rows:
        result = RowResult(row.row, "", row.source, row.external_id)
        incident_id = stored.get((row.source, row.external_id))
        if incident_id is not None:
            result.outcome, result.incident_id = "already_imported", incident_id
            report.already_imported += 1
            report.results.append(result)
            continue
        errors: list[RowError] = []
        place = _place(gazetteer.place_of, row, parsed, errors)
        try:
            category = categories.code_of(row.category)
        except InvalidInput as error:
            errors.append(RowError(row.row, parsed.column("category"), error.message))
        if errors or place is None:
            refused[row.row] = errors
            continue
        result.category = category
        result.tier = categories.tiers.get((category, row.severity))
        if result.tier is None:
            detail = msg(
                "problem.incidents.import_no_tier_rule", category=category, severity=row.severity
            )
            refused[row.row] = [RowError(row.row, parsed.column("category"), detail)]
            continue
        result.lon, result.lat = place.lon, place.lat
        result.placed_by, result.place_name = place.how, place.name
        good.append(_Row(row, place, category, result))
    return good


def _place(
    place_of: Callable[[ReportRow], Place],
    row: ReportRow,
    parsed: ReportFile,
    errors: list[RowError],
) -> Place | None:
    """The row's place, or an error naming the column it came from."""
    try:
        return place_of(row)
    except InvalidInput as error:
        name = str(error.extra.get("field", "address"))
        column = parsed.columns.get(name) or parsed.columns.get("address") or name
        errors.append(RowError(row.row, column, error.message))
        return None


def _route(
    session: Session,
    good: list[_Row],
    settings: Settings,
    scope: Scope,
    refused: dict[int, list[RowError]],
    parsed: ReportFile,
) -> None:
    """Route every good row at once, and refuse those the caller may not report."""
    if not good:
        return
    routings = route_points(
        session,
        lons=[item.place.lon for item in good],
        lats=[item.place.lat for item in good],
        ats=[item.row.reported_at for item in good],
        segment_distance_m=settings.incident_segment_distance_m,
    )
    for item, routing in zip(good, routings, strict=True):
        item.routing = routing
        _describe(item.result, routing)
        if not _may_report(scope, routing):
            where = item.result.jurisdiction
            column = parsed.columns.get("lon") or parsed.columns.get("address") or "place"
            detail = (
                msg("problem.incidents.import_not_your_jurisdiction", where=where)
                if where
                else msg("problem.incidents.import_outside_jurisdictions")
            )
            refused.setdefault(item.row.row, []).append(RowError(item.row.row, column, detail))


def _in_english(error: RowError) -> dict[str, object]:
    """A refused row's error as the report lists it (the report is plain JSON: its detail
    in English, with the code a client matches)."""
    return {**error.as_dict(), "detail": error.detail}


def _describe(result: RowResult, routing: Routing) -> None:
    """How a row is routed, as the answer shows it."""
    result.jurisdiction = routing.lead[0].code if routing.lead else None
    result.responsible = [chain[0].code for chain in [routing.lead, *routing.co] if chain]
    result.joint, result.zone_id, result.unrouted = routing.joint, routing.zone_id, routing.unrouted


def _may_report(scope: Scope, routing: Routing) -> bool:
    """Whether the caller could act on a report routed so (see the module docstring)."""
    if scope.everything:
        return True
    codes = {ref.code for chain in [routing.lead, *routing.co] for ref in chain}
    if codes & scope.writable_codes:
        return True
    return routing.joint and routing.zone_id in scope.zones


def _store(
    session: Session,
    accepted: list[_Row],
    principal: Principal,
    settings: Settings,
    report: ImportReport,
) -> None:
    """Store the rows in one savepoint (all or none), each as a single report is stored."""
    batch = [
        Routed(
            IncidentReport(
                category=item.category,
                severity=item.row.severity,
                lon=item.place.lon,
                lat=item.place.lat,
                source=SOURCE,
                datum=item.row.datum if item.place.how == "coordinates" else Datum.WGS84,
                description=item.row.description,
                reported_at=item.row.reported_at,
                reporter_contact=item.row.phone,
                address=item.row.address,
                external_source=item.row.source,
                external_id=item.row.external_id,
            ),
            item.routing,
            item.place.lon,
            item.place.lat,
            item.row.reported_at,
        )
        for item in accepted
    ]
    with session.begin_nested():
        ids = store_many(session, batch=batch, principal=principal, settings=settings)
    for item, incident_id in zip(accepted, ids, strict=True):
        if incident_id is None:  # stored meanwhile by an import of the same rows
            item.result.outcome = "already_imported"
            report.already_imported += 1
        else:
            item.result.outcome, item.result.incident_id = "stored", incident_id
            report.stored += 1


def _audit(session: Session, principal: Principal, report: ImportReport) -> None:
    """One audit entry for the batch (its incidents' histories say how each was made)."""
    audit.record(
        session,
        action="incident.import",
        principal=principal,
        target=report.filename,
        detail={
            "sha256": report.sha256,
            "rows": report.rows,
            "stored": report.stored,
            "already_imported": report.already_imported,
            "refused": report.refused,
        },
    )
