"""The rows of each exported list, read through the JSON list's own query, in batches.

Each function returns a `Table` whose batches are produced lazily: a writer pulls one batch,
writes it and drops it, so a list of any length is written in the memory of one batch.
Words (statuses, tiers, severities, categories, duty levels) are put in the reader's
language here; times stay instants and each writer shows them in China Standard Time.
Geometries leave in WGS84, or in GCJ-02 / BD-09 when asked (`datum`): Chinese map apps
(Amap, Baidu, 奥维互动地图) draw their base maps in those and would show WGS84 points
hundreds of metres off.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from itertools import islice
from typing import Any, TypeVar

import numpy as np
import shapely
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_patrol.access.principal import Principal
from geo_patrol.access.scope import Scope
from geo_patrol.core import catalog
from geo_patrol.core.coords import wgs84_to_bd09, wgs84_to_gcj02
from geo_patrol.core.vocabulary import Datum
from geo_patrol.duty.assessment import ChiefDuty
from geo_patrol.duty.map_layer import stretch_geometries
from geo_patrol.exports.columns import COLUMNS, Batch, Row, Table
from geo_patrol.exports.writers import ShpEncoding
from geo_patrol.incidents import queries as incident_queries
from geo_patrol.meetings.decisions import Decision, list_decisions
from geo_patrol.patrols import queries as patrol_queries
from geo_patrol.patrols.coverage import uncovered_stretches
from geo_patrol.water import queries as water_queries

T = TypeVar("T")

# Rows per batch: what one writer call holds in memory (a few MB at most).
BATCH_ROWS = 2000

# The tracks of a batch of patrols, by id (the list's own query chose and ordered them).
TRACKS = (
    "SELECT id, ST_AsBinary(track) AS track FROM patrols WHERE id = ANY(CAST(:ids AS bigint[]))"
)


def chunks(items: Iterable[T], size: int | None = None) -> Iterator[list[T]]:
    """`items` in lists of `size` (default BATCH_ROWS; the last may be shorter)."""
    size = size or BATCH_ROWS
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield chunk


def in_datum(geometries: Sequence[bytes | None], datum: Datum) -> list[bytes | None]:
    """WKB geometries (WGS84) as WKB in `datum` (wgs84 and cgcs2000 unchanged)."""
    if datum not in (Datum.GCJ02, Datum.BD09):
        return list(geometries)
    convert = wgs84_to_gcj02 if datum is Datum.GCJ02 else wgs84_to_bd09

    def shift(coords: np.ndarray) -> np.ndarray:
        lon, lat = convert(coords[:, 0], coords[:, 1])
        return np.column_stack([lon, lat])

    shapes = shapely.from_wkb(np.array(geometries, dtype=object))
    moved = shapely.transform(shapes, shift)
    return [None if g is None else bytes(g) for g in shapely.to_wkb(moved)]


def word(prefix: str, code: object, lang: str) -> str | None:
    """The catalog word `prefix + code` in `lang` (the code itself if the catalog has none)."""
    if code is None:
        return None
    key = f"{prefix}{code}"
    return catalog.text(key, lang) if key in catalog.catalog() else str(code)


def flag_words(flags: Sequence[str] | None, lang: str) -> str:
    """Quality flags in words, `;`-separated."""
    return ";".join(word("duty.flag_", flag, lang) or "" for flag in flags or [])


class ExportDatum(StrEnum):
    """The datums coordinates leave in: WGS84 (stored), GCJ-02 (Amap, Tencent), BD-09 (Baidu)."""

    WGS84 = "wgs84"
    GCJ02 = "gcj02"
    BD09 = "bd09"

    @property
    def datum(self) -> Datum:
        """The same datum in core.coords' words."""
        return Datum(self.value)


@dataclass(frozen=True)
class Options:
    """What a reader may choose about the file: language, datum, Shapefile encoding."""

    lang: str = "zh"
    datum: ExportDatum = ExportDatum.WGS84
    encoding: ShpEncoding = ShpEncoding.UTF8


@dataclass(frozen=True)
class Request:
    """Who asks, in which language and datum."""

    scope: Scope
    principal: Principal
    lang: str = "zh"
    datum: Datum = Datum.WGS84
    geometry: bool = True  # False: the file has no geometry (CSV, XLSX): tracks are not read


def _table(name: str, geometry_type: str | None, batches: Iterator[Batch], lang: str) -> Table:
    """A Table of the list `name` with its columns."""
    return Table(name, COLUMNS[name], geometry_type, batches, lang)


def patrols(session: Session, request: Request, filters: dict[str, Any]) -> Table:
    """Every patrol of the patrol list's query, with its track."""
    rows = patrol_queries.each_patrol(session, scope=request.scope, **filters)

    def batches() -> Iterator[Batch]:
        for chunk in chunks(rows):
            if not request.geometry:
                yield Batch([_patrol_row(row, request.lang) for row in chunk], None)
                continue
            ids = [row["id"] for row in chunk]
            found = session.execute(text(TRACKS), {"ids": ids})
            tracks = {r.id: (bytes(r.track) if r.track is not None else None) for r in found}
            geometries = in_datum([tracks.get(i) for i in ids], request.datum)
            yield Batch([_patrol_row(row, request.lang) for row in chunk], geometries)

    return _table("patrols", "LineString", batches(), request.lang)


def _patrol_row(row: dict[str, Any], lang: str) -> Row:
    """One patrol as export values."""
    flags = flag_words(row["quality_flags"], lang)
    return (
        *(row[k] for k in ("id", "team_id", "team_name", "source", "mode", "title")),
        *(row[k] for k in ("started_at", "ended_at", "closed_at", "length_m", "duration_s")),
        row["points_raw"],
        row["points_kept"],
        flags,
        row["stale"],
    )


def incidents(session: Session, request: Request, filters: dict[str, Any]) -> Table:
    """Every incident of the incident list's query, as points."""
    lang = catalog.lang_of(request.lang)
    names = {
        c["code"]: (c["name_en"] or c["name"]) if lang == "en" else c["name"]
        for c in incident_queries.categories(session, retired=True)
    }
    rows = incident_queries.each_incident(
        session, scope=request.scope, principal=request.principal, **filters
    )

    def batches() -> Iterator[Batch]:
        for chunk in chunks(rows):
            lon = np.array([r["geometry"]["coordinates"][0] for r in chunk], dtype=np.float64)
            lat = np.array([r["geometry"]["coordinates"][1] for r in chunk], dtype=np.float64)
            if request.datum is Datum.GCJ02:
                lon, lat = wgs84_to_gcj02(lon, lat)
            elif request.datum is Datum.BD09:
                lon, lat = wgs84_to_bd09(lon, lat)
            points = shapely.to_wkb(shapely.points(lon, lat))
            values = [
                _incident_row(r, names, lang, float(x), float(y))
                for r, x, y in zip(chunk, lon, lat, strict=True)
            ]
            yield Batch(values, [bytes(p) for p in points])

    return _table("incidents", "Point", batches(), lang)


def _incident_row(
    row: dict[str, Any], names: dict[str, str], lang: str, lon: float, lat: float
) -> Row:
    """One incident as export values (lon and lat in the asked datum)."""
    return (
        row["id"],
        row["category"],
        names.get(row["category"], row["category_name"]),
        word("map.severity_", row["severity"], lang),
        word("map.status_", row["status"], lang),
        word("map.tier_", row["tier"], lang),
        row["deadline_at"],
        row["overdue"],
        row["lead_code"],
        ";".join(row["co_codes"] or []),
        row["is_joint"],
        row["zone_id"],
        row["unrouted"],
        row["duplicate_of"],
        row["segment_id"],
        row["source"],
        row["description"],
        row["address"],
        row["reported_at"],
        row["received_at"],
        row["resolved_at"],
        row["reopen_count"],
        round(lon, 7),
        round(lat, 7),
    )


def effort(session: Session, request: Request, filters: dict[str, Any]) -> Table:
    """The effort table (no geometry: one row per group and period)."""
    rows = patrol_queries.effort(session, scope=request.scope, **filters).items

    def batches() -> Iterator[Batch]:
        for chunk in chunks(rows):
            yield Batch([_effort_row(row) for row in chunk])

    return _table("effort", None, batches(), request.lang)


def _effort_row(row: dict[str, Any]) -> Row:
    """One group in one period (its local first day)."""
    period = row["period"]
    day = period.date() if isinstance(period, datetime) else period
    return (day, row["key"], row["name"], row["patrols"], row["length_m"], row["duration_s"])


def uncovered(session: Session, request: Request, filters: dict[str, Any]) -> Table:
    """The uncovered stretches of river in the period, as lines."""
    rows = uncovered_stretches(
        session, visible=patrol_queries.patrol_filter(request.scope), **filters
    ).items

    def batches() -> Iterator[Batch]:
        for chunk in chunks(rows):
            shapes = [shapely.geometry.shape(r["geometry"]) for r in chunk]
            wkb = [bytes(g) for g in shapely.to_wkb(np.array(shapes, dtype=object))]
            values = [
                (
                    r["segment_id"],
                    r["seq"],
                    r["river_code"],
                    r["river_name"],
                    r["is_border"],
                    r["length_m"],
                )
                for r in chunk
            ]
            yield Batch(values, in_datum(wkb, request.datum))

    return _table("uncovered", "LineString", batches(), request.lang)


def duty(session: Session, request: Request, duties: list[ChiefDuty]) -> Table:
    """Each chief in each period, with the chief's stretch as (multi)lines."""

    def batches() -> Iterator[Batch]:
        for chunk in chunks(duties):
            shapes = stretch_geometries(session, groups=[d.segment_ids for d in chunk])
            wkb = [None if g is None else shapely.geometry.shape(g).wkb for g in shapes]
            values = [_duty_row(d, request.lang) for d in chunk]
            yield Batch(values, in_datum(wkb, request.datum))

    return _table("duty", "MultiLineString", batches(), request.lang)


def _duty_row(duty: ChiefDuty, lang: str) -> Row:
    """One chief in one period as export values (words in `lang`)."""
    language = catalog.lang_of(lang)
    return (
        catalog.text(f"duty.period_{duty.period.kind}", language),
        duty.period.key,
        duty.period.label(language),
        duty.period.first,
        duty.due,
        duty.appointment_id,
        duty.member_id,
        duty.member_name,
        catalog.text(f"duty.level_{duty.level}", language),
        duty.side_code,
        duty.side_name,
        duty.county_code,
        duty.river_code,
        duty.river_name,
        duty.stretch_label,
        round(duty.stretch_m),
        duty.required,
        duty.done,
        catalog.text(f"duty.status_{duty.status}", language),
        round(duty.covered_share * 100, 1),
        duty.last_patrol_at,
        ";".join(str(c.patrol_id) for c in duty.candidates if c.counted),
        ";".join(f"{c.patrol_id}:{c.reason}" for c in duty.candidates if not c.counted),
        duty.incidents.total,
        duty.incidents.open,
        duty.incidents.overdue,
    )


def decisions(session: Session, request: Request, filters: dict[str, Any], *, today: date) -> Table:
    """The decisions of the decision list's query (by deadline), status as shown that day."""
    rows = list_decisions(
        session,
        scope=request.scope,
        viewer_id=request.principal.member_id,
        today=today,
        limit=None,
        **filters,
    ).items

    def batches() -> Iterator[Batch]:
        for chunk in chunks(rows):
            yield Batch([_decision_row(d, request.lang) for d in chunk])

    return _table("decisions", None, batches(), request.lang)


def _decision_row(decision: Decision, lang: str) -> Row:
    """One decision as export values (its status in `lang`; owners and links as text)."""
    owners = "; ".join(
        f"{o.side_code} {o.member_name}" if o.member_name else o.side_code for o in decision.owners
    )
    return (
        decision.id,
        decision.meeting_id,
        decision.meeting_title,
        decision.meeting_held_at,
        decision.zone_code,
        decision.position,
        decision.body,
        decision.deadline,
        word("decisions.status_", decision.status, lang),
        decision.done_at,
        owners,
        "; ".join(f"{link.kind}:{link.target_id}" for link in decision.links),
    )


def water_readings(session: Session, request: Request, filters: dict[str, Any]) -> Table:
    """Every reading of the visible sections (water.queries), a column per parameter; the
    class and the target as words (I..劣V), the parameters over the target `;`-separated."""
    lang = catalog.lang_of(request.lang)
    rows = water_queries.each_reading(session, scope=request.scope, **filters)

    def batches() -> Iterator[Batch]:
        for chunk in chunks(rows):
            yield Batch([_reading_row(row, lang) for row in chunk])

    return _table("water_readings", None, batches(), lang)


def _reading_row(row: dict[str, Any], lang: str) -> Row:
    """One reading as export values."""
    measured = row["measured"]
    return (
        row["section_code"],
        row["section_name"],
        row["sampled_at"],
        *(_number(measured.get(parameter)) for parameter in water_queries.PARAMETERS),
        word("water.class_", row["water_class"], lang),
        word("water.class_", row["target_class"], lang),
        ";".join(row["over_target"]),
    )


def _number(value: object) -> float | None:
    """A measured value as a number (None when not measured)."""
    return float(value) if isinstance(value, int | float) else None
