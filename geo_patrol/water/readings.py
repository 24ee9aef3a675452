"""Readings of monitoring sections imported from station exports (`reading_file`), each
classed by GB 3838-2002 (`standard.classify`, with the section's water body and target) and
stored with what was measured, its class, the deciding parameters, the exceedance factors
against the target and the target itself (as it was at import).

A section has one reading per sampling time. The same row again stores nothing
("unchanged"); a row with other values at a stored time is refused, naming the parameters
that differ, unless `replace` (then the stored reading is updated in place, keeping its id
and any case it opened, and the replacement is logged and audited). Rows are judged one by
one: good rows are stored, refused ones listed; a dry run stores nothing.

Who may import: administrators any reading; supervisors the readings of sections of a side
they supervise: the section's own side (所属), or a side sharing the river segment it lies
on (a border section's readings concern both sides).

The ids of the readings stored (new or replaced) are returned: the rule that opens a joint
case when a border section worsens (`water.rule.open_cases`) runs on them.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_patrol.access import audit
from geo_patrol.access.principal import Principal
from geo_patrol.access.scope import Scope
from geo_patrol.core.catalog import Lang, Message, msg
from geo_patrol.core.errors import ImportFileError, InvalidInput, localized
from geo_patrol.core.settings import Settings
from geo_patrol.core.sheets import RowError
from geo_patrol.core.vocabulary import WaterBody
from geo_patrol.water.reading_file import ReadingFile, ReadingRow, read_readings
from geo_patrol.water.rule import open_cases
from geo_patrol.water.sections import may_import
from geo_patrol.water.standard import CLASS_NAMES, Classified, classify

log = logging.getLogger(__name__)

SECTIONS = """
SELECT w.id, w.code, w.name, w.water_body, w.target_class, w.side_code,
       ARRAY(SELECT x.jurisdiction_code FROM river_segment_sides x
             WHERE x.segment_id = w.segment_id) AS segment_sides
FROM water_sections w
WHERE w.code = ANY(:keys) OR w.name = ANY(:keys)
"""
STORED = """
SELECT r.id, r.section_id, r.sampled_at, r.measured
FROM unnest(CAST(:section_ids AS int[]), CAST(:ats AS timestamptz[])) AS u(section_id, at)
JOIN water_readings r ON r.section_id = u.section_id AND r.sampled_at = u.at
"""
COLUMNS = "measured, class, deciding, factors, target_class"
ARRAYS = """
unnest(CAST(:section_ids AS int[]), CAST(:ats AS timestamptz[]), CAST(:measured AS text[]),
       CAST(:classes AS int[]), CAST(:deciding AS text[]), CAST(:factors AS text[]),
       CAST(:targets AS int[]), CAST(:ids AS bigint[]))
AS u(section_id, at, measured, class, deciding, factors, target_class, id)
"""
INSERT = f"""
INSERT INTO water_readings (section_id, sampled_at, {COLUMNS}, source)
SELECT u.section_id, u.at, u.measured::jsonb, u.class, u.deciding::jsonb, u.factors::jsonb,
       u.target_class, :source
FROM {ARRAYS}
ON CONFLICT (section_id, sampled_at) DO NOTHING
RETURNING id, section_id, sampled_at
"""
REPLACE = f"""
UPDATE water_readings r
SET measured = u.measured::jsonb, class = u.class, deciding = u.deciding::jsonb,
    factors = u.factors::jsonb, target_class = u.target_class, source = :source,
    imported_at = now()
FROM {ARRAYS}
WHERE r.id = u.id
RETURNING r.id
"""


@dataclass(frozen=True)
class ReadingOptions:
    """Whether to store, whether a different value replaces a stored one, the file's name."""

    dry_run: bool = False
    replace: bool = False
    filename: str | None = None


@dataclass
class ReadingResult:
    """What became (or would become) of one row, and its class."""

    row: int
    outcome: str  # stored | replaced | unchanged | would_store | would_replace | refused
    section: str | None = None
    section_id: int | None = None
    reading_id: int | None = None
    sampled_at: datetime | None = None
    water_class: int | None = None
    class_name: str | None = None
    target_class: int | None = None
    deciding: list[str] = field(default_factory=list)
    over_target: list[str] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


@dataclass
class ReadingImport:
    """Counts of a reading import, each row's result, and the ids of the readings stored
    (new or replaced: what the water rule looks at)."""

    dry_run: bool
    filename: str | None
    sha256: str
    rows: int = 0
    stored: int = 0
    replaced: int = 0
    unchanged: int = 0
    refused: int = 0
    reading_ids: list[int] = field(default_factory=list)
    cases: list[int] = field(default_factory=list)  # the water cases opened (water.rule)
    results: list[ReadingResult] = field(default_factory=list)

    def summary(self) -> str:
        """One line for the log and the command line."""
        return (
            f"reading import {self.filename or '-'} sha256={self.sha256} rows={self.rows} "
            f"stored={self.stored} replaced={self.replaced} unchanged={self.unchanged} "
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


ANSWER_FIELDS: tuple[str, ...] = ("dry_run", "filename", "sha256", "rows", "stored")
ANSWER_FIELDS += ("replaced", "unchanged", "refused", "reading_ids", "cases")
RESULT_FIELDS: tuple[str, ...] = ("row", "outcome", "section", "section_id", "reading_id")
RESULT_FIELDS += ("sampled_at", "water_class", "class_name", "target_class", "deciding")
RESULT_FIELDS += ("over_target",)


@dataclass
class _Row:
    """A good row on its way: its section, its class, what is stored at its time."""

    row: ReadingRow
    section: Any
    classified: Classified
    result: ReadingResult
    stored_id: int | None = None


def import_readings(
    session: Session,
    *,
    data: bytes,
    options: ReadingOptions,
    scope: Scope,
    principal: Principal,
    settings: Settings,
) -> ReadingImport:
    """Check, class and (unless a dry run) store every row of a station export, then open
    the joint cases the stored readings call for (water.rule)."""
    report = ReadingImport(options.dry_run, options.filename, hashlib.sha256(data).hexdigest())
    may_import(scope)
    try:
        parsed = read_readings(data)
    except (ImportFileError, InvalidInput) as error:
        log.warning("%s refused: %s", report.summary(), error.detail)
        raise
    report.rows = parsed.data_rows
    refused: dict[int, list[RowError]] = {}
    for bad in parsed.errors:
        refused.setdefault(bad.row, []).append(bad)
    good = _placed(session, parsed, scope, refused)
    good = _against_stored(session, good, parsed, options.replace, refused)
    if not options.dry_run:
        _store(session, good, options.filename, report)
    for item in good:
        outcome = item.result.outcome
        if options.dry_run and outcome != "unchanged":
            item.result.outcome = f"would_{'replace' if outcome == 'replaced' else 'store'}"
        setattr(report, outcome, getattr(report, outcome) + 1)
    report.results = [item.result for item in good] + [
        ReadingResult(number, "refused", errors=errors) for number, errors in refused.items()
    ]
    report.results.sort(key=lambda result: result.row)
    report.refused = len(refused)
    log.info("%s", report.summary())
    if not options.dry_run:
        _audit(session, principal, report)
        report.cases = open_cases(session, reading_ids=report.reading_ids, settings=settings)
    return report


def _placed(
    session: Session, parsed: ReadingFile, scope: Scope, refused: dict[int, list[RowError]]
) -> list[_Row]:
    """The rows whose section is known (by code, else by its one name) and the caller's,
    classed against that section; the others refused."""
    keys = sorted({str(row.section or row.section_name) for row in parsed.rows})
    found: list[Any] = list(session.execute(text(SECTIONS), {"keys": keys}))
    by_code = {hit.code: hit for hit in found}
    by_name: dict[str, list[Any]] = {}
    for hit in found:
        by_name.setdefault(hit.name, []).append(hit)
    good: list[_Row] = []
    for row in parsed.rows:
        column = parsed.columns.written.get("section") or parsed.columns.column("section_name")
        section: Any = None
        problem: Message | None = None
        if row.section:
            section = by_code.get(row.section)
            problem = None if section else msg("problem.water.no_section", section=row.section)
        else:
            named = by_name.get(str(row.section_name), [])
            section = named[0] if len(named) == 1 else None
            if len(named) > 1:
                problem = msg(
                    "problem.water.section_ambiguous", section=row.section_name, count=len(named)
                )
            elif not named:
                problem = msg("problem.water.no_section", section=row.section_name)
        if problem is None and not _may_write(scope, section):
            problem = msg("problem.water.not_your_section", section=section.code)
        if problem is not None:
            refused.setdefault(row.row, []).append(RowError(row.row, column, problem))
            continue
        classified = classify(
            row.measured, water_body=WaterBody(section.water_body), target=section.target_class
        )
        result = ReadingResult(
            row.row,
            "stored",
            section.code,
            int(section.id),
            None,
            row.sampled_at,
            classified.water_class,
            CLASS_NAMES.get(classified.water_class or 0),
            int(section.target_class),
            list(classified.deciding),
            list(classified.over_target),
        )
        good.append(_Row(row, section, classified, result))
    return good


def _may_write(scope: Scope, section: Any) -> bool:
    """Whether the caller may import this section's readings (see the module's text)."""
    if scope.everything:
        return True
    sides = {section.side_code, *(section.segment_sides or ())}
    return bool(sides & scope.writable_codes)


def _key(item: _Row) -> tuple[int, datetime]:
    """A reading's identity: its section and its time (in UTC, so offsets compare)."""
    return int(item.section.id), item.row.sampled_at.astimezone(UTC)


def _against_stored(
    session: Session,
    good: list[_Row],
    parsed: ReadingFile,
    replace: bool,
    refused: dict[int, list[RowError]],
) -> list[_Row]:
    """Each row against what is stored at its time and earlier rows of the file: unchanged,
    new, replacing (when asked) or refused."""
    found = session.execute(
        text(STORED),
        {"section_ids": [_key(i)[0] for i in good], "ats": [_key(i)[1] for i in good]},
    )
    stored = {
        (int(r.section_id), r.sampled_at.astimezone(UTC)): (int(r.id), _plain(r.measured))
        for r in found
    }
    column = parsed.columns.column("sampled_at")
    firsts: dict[tuple[int, datetime], _Row] = {}
    kept: list[_Row] = []
    for item in good:
        key = _key(item)
        first = firsts.setdefault(key, item)
        if first is not item:
            if first.row.measured == item.row.measured:
                item.result.outcome = "unchanged"
                kept.append(item)
            else:
                detail = msg("problem.water.same_time", first=first.row.row)
                refused[item.row.row] = [RowError(item.row.row, column, detail)]
            continue
        if key in stored:
            reading_id, measured = stored[key]
            item.stored_id = item.result.reading_id = reading_id
            if measured == item.row.measured:
                item.result.outcome = "unchanged"
            elif replace:
                item.result.outcome = "replaced"
            else:
                differ = sorted(
                    set(measured) ^ set(item.row.measured)
                    | {
                        p
                        for p in set(measured) & set(item.row.measured)
                        if measured[p] != item.row.measured[p]
                    }
                )
                detail = msg("problem.water.differs_from_stored", changed=", ".join(differ))
                refused[item.row.row] = [RowError(item.row.row, column, detail)]
                continue
        kept.append(item)
    return kept


def _plain(measured: Any) -> dict[str, float]:
    """A stored `measured` as the file's rows hold it (numbers as floats)."""
    return {str(name): float(value) for name, value in dict(measured).items()}


def _arrays(items: Sequence[_Row]) -> dict[str, list[Any]]:
    """The rows as the statements' arrays."""
    return {
        "section_ids": [_key(i)[0] for i in items],
        "ats": [_key(i)[1] for i in items],
        "measured": [json.dumps(i.row.measured) for i in items],
        "classes": [i.classified.water_class for i in items],
        "deciding": [json.dumps(list(i.classified.deciding)) for i in items],
        "factors": [json.dumps(dict(i.classified.factors)) for i in items],
        "targets": [int(i.section.target_class) for i in items],
        "ids": [i.stored_id for i in items],
    }


def _store(session: Session, good: list[_Row], source: str | None, report: ReadingImport) -> None:
    """Insert the new readings and update the replaced ones, one statement each."""
    new = [item for item in good if item.result.outcome == "stored"]
    if new:
        made = session.execute(text(INSERT), {**_arrays(new), "source": source})
        ids = {(int(r.section_id), r.sampled_at.astimezone(UTC)): int(r.id) for r in made}
        for item in new:
            item.result.reading_id = ids.get(_key(item))
            if item.result.reading_id is None:  # stored meanwhile by the same rows' import
                item.result.outcome = "unchanged"
    replacing = [item for item in good if item.result.outcome == "replaced"]
    if replacing:
        session.execute(text(REPLACE), {**_arrays(replacing), "source": source})
        for item in replacing:
            log.info(
                "reading %s of section %s at %s replaced from %s",
                item.stored_id,
                item.section.code,
                item.row.sampled_at.isoformat(),
                source,
            )
    report.reading_ids = sorted(
        int(item.result.reading_id)
        for item in good
        if item.result.outcome in ("stored", "replaced") and item.result.reading_id is not None
    )


def _audit(session: Session, principal: Principal, report: ReadingImport) -> None:
    """One audit entry for the file (the replaced readings named)."""
    replaced = [r.reading_id for r in report.results if r.outcome == "replaced"]
    audit.record(
        session,
        action="water.readings.import",
        principal=principal,
        target=report.filename,
        detail={
            "sha256": report.sha256,
            "rows": report.rows,
            "stored": report.stored,
            "replaced": replaced,
            "unchanged": report.unchanged,
            "refused": report.refused,
        },
    )
