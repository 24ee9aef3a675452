"""Patrols from uploaded files and live positions: store, clean, then attribute and cover."""

from __future__ import annotations

import hashlib
import json
import logging
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import URL, create_engine, text, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from geo_patrol.access import audit
from geo_patrol.access.principal import Principal
from geo_patrol.core.catalog import msg
from geo_patrol.core.coords import leg_metres
from geo_patrol.core.errors import Forbidden, GeoPatrolError, InvalidInput
from geo_patrol.core.settings import Settings
from geo_patrol.db.bulk import copy_rows, ewkb_lines, ewkb_points
from geo_patrol.db.tables import PATROL_MODES, Patrol, Upload
from geo_patrol.patrols.after_track import ComputedTrack, hand_on
from geo_patrol.patrols.attribution import (
    Attribution,
    attribute,
    attribute_patrol,
    store_attribution,
)
from geo_patrol.patrols.coverage import cover_patrol
from geo_patrol.patrols.partitions import day_of
from geo_patrol.patrols.quality import flag_patrol
from geo_patrol.patrols.track.cleaning import MODE_SPEEDS, CleaningRules, clean
from geo_patrol.patrols.track.formats.csv_file import CsvOptions
from geo_patrol.patrols.track.times import as_datetime
from geo_patrol.patrols.track.types import TrackPoints
from geo_patrol.patrols.track.worker import ParseLimits, parse_upload
from geo_patrol.patrols.track_pieces import store_track_pieces

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class UploadRequest:
    """What came with an uploaded file."""

    team_id: int
    filename: str
    data: bytes
    datum: str = "wgs84"
    mode: str = "foot"
    member_ids: tuple[int, ...] = ()
    client_upload_id: str | None = None
    title: str | None = None
    csv: CsvOptions | None = None


@dataclass(frozen=True)
class UploadResult:
    """The patrol an upload made, or the one it had already made (a retry)."""

    patrol_id: int
    created: bool


EXISTING = """
SELECT patrol_id FROM uploads
WHERE team_id = :team_id AND patrol_id IS NOT NULL
  AND (sha256 = :sha256 OR client_upload_id = :client_upload_id)
ORDER BY (client_upload_id = :client_upload_id) DESC NULLS LAST LIMIT 1
"""


def patrol_team_ids(principal: Principal) -> set[int]:
    """The teams a principal patrols with (as a member or lead); admins upload for any."""
    return {
        g.team_id
        for g in principal.grants
        if g.role in ("patrol_member", "team_lead") and g.team_id is not None
    }


def check_team_access(principal: Principal, team_id: int) -> None:
    """Patrol members and leads upload for their own teams; admins for any."""
    if not principal.is_admin and team_id not in patrol_team_ids(principal):
        raise Forbidden(msg("problem.patrols.not_own_team"), field="team_id")


def upload_patrol(
    session: Session,
    *,
    request: UploadRequest,
    principal: Principal,
    settings: Settings,
    address: str | None,
    isolated: bool = False,
) -> UploadResult:
    """Store an uploaded track as a patrol, once: a retry returns the first patrol. Every
    outcome is logged with the file, its upload id, team, sender and address, so that an
    operator can find what became of a phone's upload (a refusal with its reason).
    `isolated`: read the file in a worker process (the service does; see patrols.track.worker)."""
    try:
        return _store_upload(
            session,
            request=request,
            principal=principal,
            settings=settings,
            address=address,
            isolated=isolated,
        )
    except GeoPatrolError as error:
        log.warning(
            "upload %s from %s refused (%d %s): %s",
            _described(request, principal),
            address or "?",
            error.status,
            error.title,
            error.detail,
        )
        raise


def _described(request: UploadRequest, principal: Principal, sha256: str | None = None) -> str:
    """An upload as the log names it (never a credential)."""
    checksum = f", {sha256[:12]}" if sha256 else ""
    return (
        f"{request.filename} ({len(request.data)} bytes{checksum}, upload id "
        f"{request.client_upload_id or '-'}) for team {request.team_id} by {principal.label}"
    )


def _store_upload(
    session: Session,
    *,
    request: UploadRequest,
    principal: Principal,
    settings: Settings,
    address: str | None,
    isolated: bool,
) -> UploadResult:
    """upload_patrol's work."""
    check_team_access(principal, request.team_id)
    if request.mode not in PATROL_MODES:
        raise InvalidInput(
            msg("problem.patrols.mode_choice", modes=", ".join(PATROL_MODES)), field="mode"
        )
    sha256 = hashlib.sha256(request.data).hexdigest()
    key = {
        "team_id": request.team_id,
        "sha256": sha256,
        "client_upload_id": request.client_upload_id,
    }
    existing = session.execute(text(EXISTING), key).scalar()
    if existing is not None:
        log.info(
            "upload %s is a retry of patrol %s", _described(request, principal, sha256), existing
        )
        return UploadResult(patrol_id=int(existing), created=False)
    track = parse_upload(
        request.data,
        filename=request.filename,
        datum=request.datum,
        csv_options=request.csv,
        limits=ParseLimits.of(settings),
        isolated=isolated,
    )
    try:
        with session.begin_nested():
            upload_id = _record_upload(session, request, track.format, sha256, principal)
    except IntegrityError:  # the same upload raced in through another request
        again = session.execute(text(EXISTING), key).scalar()
        if again is None:
            raise
        return UploadResult(patrol_id=int(again), created=False)
    patrol_id = _new_patrol(
        session,
        team_id=request.team_id,
        source="upload",
        mode=request.mode,
        title=request.title or track.name,
        upload_id=upload_id,
        device_id=principal.device_id,
    )
    session.execute(update(Upload).where(Upload.id == upload_id).values(patrol_id=patrol_id))
    _add_members(session, patrol_id, (*request.member_ids, principal.member_id))
    # Cleaned before storing, so that each fix is written once, with its place in the file's
    # order (never re-sorted: see geo_patrol.patrols.track.cleaning).
    rules = cleaning_rules(settings, request.mode)
    cleaned = clean(track.points, rules=rules, now=datetime.now(UTC), order="file")
    kept = cleaned.select(track.points)
    apart = attribute_apart(session, kept=kept, settings=settings)
    store_points(session, patrol_id=patrol_id, points=track.points, order=cleaned.order)
    finish_patrol(
        session,
        patrol_id=patrol_id,
        settings=settings,
        dropped=cleaned.dropped,
        kept=kept,
        attribution=apart,
        reordered=cleaned.reordered,
    )
    _keep_original(settings.uploads_dir, sha256, request.data)
    detail = {
        "file": request.filename,
        "sha256": sha256,
        "bytes": len(request.data),
        "points": len(track.points.lon),
    }
    audit.record(
        session,
        action="patrol.upload",
        principal=principal,
        target=f"patrol:{patrol_id}",
        address=address,
        detail=detail,
    )
    log.info(
        "upload %s from %s -> patrol %s (%d fixes, %d kept)",
        _described(request, principal, sha256),
        address or "?",
        patrol_id,
        len(track.points.lon),
        len(kept.lon),
    )
    return UploadResult(patrol_id=patrol_id, created=True)


def _record_upload(
    session: Session, request: UploadRequest, fmt: str, sha256: str, principal: Principal
) -> int:
    """The uploads row (unique per team by checksum and by client id)."""
    return int(
        session.execute(
            text(
                "INSERT INTO uploads (team_id, client_upload_id, sha256, size_bytes, format, "
                "filename, datum, member_id, device_id) VALUES (:team_id, :client_upload_id, "
                ":sha256, :size, :format, :filename, :datum, :member_id, :device_id) RETURNING id"
            ),
            {
                "team_id": request.team_id,
                "client_upload_id": request.client_upload_id,
                "sha256": sha256,
                "size": len(request.data),
                "format": fmt,
                "filename": request.filename,
                "datum": request.datum,
                "member_id": principal.member_id,
                "device_id": principal.device_id,
            },
        ).scalar_one()
    )


def _new_patrol(session: Session, **values: object) -> int:
    """A new patrol row."""
    return int(
        session.execute(
            text(
                "INSERT INTO patrols (team_id, source, mode, title, upload_id, device_id) "
                "VALUES (:team_id, :source, :mode, :title, :upload_id, :device_id) RETURNING id"
            ),
            values,
        ).scalar_one()
    )


def _add_members(session: Session, patrol_id: int, member_ids: tuple[int, ...]) -> None:
    """Record who was on the patrol (unknown ids are ignored)."""
    session.execute(
        text(
            "INSERT INTO patrol_members (patrol_id, member_id) SELECT :p, id FROM members "
            "WHERE id = ANY(:ids) ON CONFLICT DO NOTHING"
        ),
        {"p": patrol_id, "ids": sorted(set(member_ids))},
    )


def store_points(
    session: Session,
    *,
    patrol_id: int,
    points: TrackPoints,
    order: NDArray[np.int64],
    patrol_day: date | None = None,
) -> None:
    """Copy the raw fixes into patrol_points, and their number into the patrol's points_raw.

    `order` (the kept fixes in the patrol's order) sets ord; the others are marked dropped."""
    ords = np.ma.MaskedArray(np.zeros(len(points), np.int32), mask=np.ones(len(points), bool))
    ords[order] = np.arange(len(order), dtype=np.int32)  # unmasks the kept fixes
    # A fix without finite coordinates cannot be a geometry (cleaning counted it as invalid).
    finite = np.flatnonzero(np.isfinite(points.lon) & np.isfinite(points.lat))
    kept = ~np.ma.getmaskarray(ords)[finite]
    day = patrol_day or day_of(session, patrol_id=patrol_id)
    copy_rows(
        session,
        table="patrol_points",
        columns={
            "patrol_id": np.full(len(finite), patrol_id, np.int64),
            "patrol_day": np.full(len(finite), np.datetime64(day, "D")),
            "seq": finite.astype(np.int32),
            "ord": ords[finite],
            "time": points.time[finite],
            "geom": ewkb_points(points.lon[finite], points.lat[finite]),
            "ele": points.ele[finite],
            "accuracy_m": points.accuracy_m[finite],
            "drop_reason": np.ma.MaskedArray(np.full(len(finite), DROPPED), mask=kept),
        },
    )
    session.execute(update(Patrol).where(Patrol.id == patrol_id).values(points_raw=len(finite)))
    # No ANALYZE here: nothing later in an upload reads patrol_points (the steps after it
    # take the kept fixes from the caller); autovacuum keeps the table's statistics.


def _keep_original(folder: Path, sha256: str, data: bytes) -> None:
    """Keep the file exactly as sent, named by its checksum."""
    target = folder / sha256[:2] / sha256
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(".part")
        partial.write_bytes(data)
        partial.replace(target)


LOAD = """
SELECT seq, ST_X(geom) AS lon, ST_Y(geom) AS lat, time, ele, accuracy_m
FROM patrol_points WHERE patrol_id = :patrol_id AND patrol_day = :patrol_day ORDER BY seq
"""

DROPPED = b"dropped"  # drop_reason of a fix that cleaning left out

WRITE_ORDER = """
UPDATE patrol_points p SET ord = u.ord,
       drop_reason = CASE WHEN u.ord IS NULL THEN 'dropped' END
FROM unnest(CAST(:seqs AS int[]), CAST(:ords AS int[])) AS u(seq, ord)
WHERE p.patrol_id = :patrol_id AND p.patrol_day = :patrol_day AND p.seq = u.seq
"""

# A patrol's summary from its kept fixes in time order: their line comes as EWKB, the
# length is measured in Python on the ellipsoid (points_raw: an upload's was set by
# store_points, a live patrol's is given).
SUMMARY_KEPT = """
UPDATE patrols SET
    track = t.line,
    started_at = CAST(:first_at AS timestamptz), ended_at = CAST(:last_at AS timestamptz),
    points_kept = :n, points_raw = coalesce(CAST(:points_raw AS int), points_raw),
    length_m = :length_m,
    duration_s = extract(epoch FROM CAST(:last_at AS timestamptz) - CAST(:first_at AS timestamptz)),
    dropped = CAST(:dropped AS jsonb)
FROM (SELECT ST_GeomFromEWKB(CAST(:line AS bytea)) AS line) AS t
WHERE patrols.id = :patrol_id
"""


def _column(rows: list[Any], name: str) -> NDArray[np.float64]:
    """One numeric column of the rows as floats (None becomes NaN)."""
    values = [getattr(row, name) for row in rows]
    return np.array([np.nan if v is None else v for v in values], dtype=np.float64).reshape(-1)


def load_points(session: Session, *, patrol_id: int) -> tuple[list[int], TrackPoints]:
    """The stored raw fixes of a patrol (seq numbers and arrays)."""
    day = day_of(session, patrol_id=patrol_id)
    rows = list(session.execute(text(LOAD), {"patrol_id": patrol_id, "patrol_day": day}).all())
    times = np.array(
        [r.time.astimezone(UTC).replace(tzinfo=None) if r.time else None for r in rows],
        dtype="datetime64[ms]",
    ).reshape(-1)
    points = TrackPoints(
        lon=_column(rows, "lon"),
        lat=_column(rows, "lat"),
        time=times,
        ele=_column(rows, "ele"),
        accuracy_m=_column(rows, "accuracy_m"),
        hdop=np.full(len(rows), np.nan),
        segment=np.zeros(len(rows), dtype=np.int32),
    )
    return [int(r.seq) for r in rows], points


def cleaning_rules(settings: Settings, mode: str) -> CleaningRules:
    """Rules for a patrol's mode of travel."""
    return CleaningRules(
        max_speed_mps=MODE_SPEEDS[mode],
        max_accuracy_m=settings.max_accuracy_m,
        future_tolerance_s=settings.future_tolerance_s,
    )


def clean_stored(
    session: Session, *, patrol_id: int, settings: Settings
) -> tuple[dict[str, int], TrackPoints, int]:
    """Clean a patrol's stored raw fixes (live positions) and write their ord: the counts
    dropped, the kept fixes in time order, and how many raw fixes there are. Live positions
    come in batches, a late one after newer ones, so their order is their times'."""
    mode = session.execute(text("SELECT mode FROM patrols WHERE id = :id"), {"id": patrol_id})
    seqs, points = load_points(session, patrol_id=patrol_id)
    rules = cleaning_rules(settings, mode.scalar_one())
    cleaned = clean(points, rules=rules, now=datetime.now(UTC), order="time")
    ords: list[int | None] = [None] * len(seqs)
    for rank, index in enumerate(cleaned.order.tolist()):
        ords[index] = rank
    session.execute(
        text(WRITE_ORDER),
        {
            "patrol_id": patrol_id,
            "patrol_day": day_of(session, patrol_id=patrol_id),
            "seqs": seqs,
            "ords": ords,
        },
    )
    return cleaned.dropped, cleaned.select(points), len(seqs)


def summarize_kept(
    session: Session,
    *,
    patrol_id: int,
    dropped: dict[str, int],
    kept: TrackPoints,
    points_raw: int | None = None,
) -> None:
    """The patrol's track, times, counts and length from its kept fixes in time order; the
    length is the sum of their legs on the ellipsoid (`leg_metres`, as attribution sums
    them: within micrometres of PostGIS's ST_Length on the geography)."""
    timed = kept.time[~np.isnat(kept.time)]
    first, last = (timed.min(), timed.max()) if len(timed) else (None, None)
    everything = np.arange(len(kept))[None, :]  # one line through all the kept fixes
    line = ewkb_lines(kept.lon, kept.lat, everything)[0].tobytes() if len(kept) >= 2 else None
    session.execute(
        text(SUMMARY_KEPT),
        {
            "patrol_id": patrol_id,
            "line": line,
            "n": len(kept),
            "points_raw": points_raw,
            "first_at": as_datetime(first),
            "last_at": as_datetime(last),
            "dropped": json.dumps(dropped),
            "length_m": float(leg_metres(kept.lon, kept.lat).sum()) if len(kept) >= 2 else 0.0,
        },
    )


# A track of at least this many kept fixes is attributed on a connection of its own while
# this one stores its fixes, summary and coverage: PostgreSQL then works on both cores (on
# the benchmark's 1M-fix walk the two took 4 s and 5 s one after the other). Attribution
# reads only boundaries, which are committed. Smaller tracks are not worth a connection.
APART_FROM_FIXES = 50_000


def attribute_apart(
    session: Session, *, kept: TrackPoints, settings: Settings
) -> Future[Attribution] | None:
    """Start attributing `kept` on a connection of its own (None: too small to bother)."""
    if len(kept) < APART_FROM_FIXES:
        return None
    url = session.get_bind().engine.url
    rules = _crossing_rules(settings)
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="attribution")
    started = pool.submit(_attribute_on_own_connection, url, kept, rules)
    pool.shutdown(wait=False)  # the thread ends with its one task
    return started


def wait_for_attribution(started: Future[Attribution], *, patrol_id: int) -> Attribution | None:
    """What `attribute_apart` found; None if its connection failed (no free connection, the
    server refused one...): the caller then attributes on its own connection."""
    try:
        return started.result()
    except OperationalError as error:
        log.warning(
            "patrol %s: attribution on its own connection failed (%s); attributing "
            "on the upload's connection",
            patrol_id,
            error.orig or error,
        )
        return None


def _attribute_on_own_connection(
    url: URL, kept: TrackPoints, rules: dict[str, float]
) -> Attribution:
    """`attribute` in a session of a new connection, rolled back (it writes only temporary
    tables), closed at the end."""
    engine = create_engine(url, poolclass=NullPool)
    try:
        with Session(engine) as apart:
            try:
                return attribute(apart, kept, **rules)
            finally:
                apart.rollback()
    finally:
        engine.dispose()


def _crossing_rules(settings: Settings) -> dict[str, float]:
    """The hysteresis of crossings, from the settings."""
    return {"min_run_m": settings.crossing_min_run_m, "margin_m": settings.crossing_margin_m}


def finish_patrol(
    session: Session,
    *,
    patrol_id: int,
    settings: Settings,
    dropped: dict[str, int] | None = None,
    kept: TrackPoints | None = None,
    attribution: Future[Attribution] | None = None,
    reordered: bool = False,
) -> None:
    """Compute the track, attribution, coverage and flags, then hand the track on to the
    followers other domains registered (`after_track`). An upload gives what its cleaning
    dropped, its kept fixes in the patrol's order (store_points set points_raw) and whether
    cleaning put them in time order; a live patrol's stored fixes are cleaned here first.
    `attribution`: what `attribute_apart` started."""
    live = dropped is None or kept is None
    points_raw = None
    if dropped is None or kept is None:  # (live, spelt out for the type checker)
        dropped, kept, points_raw = clean_stored(session, patrol_id=patrol_id, settings=settings)
    summarize_kept(session, patrol_id=patrol_id, dropped=dropped, kept=kept, points_raw=points_raw)
    pieces = store_track_pieces(session, kept=kept)
    cover_patrol(
        session,
        patrol_id=patrol_id,
        pieces=pieces,
        kept=kept,
        distance_m=settings.coverage_distance_m,
    )
    found = wait_for_attribution(attribution, patrol_id=patrol_id) if attribution else None
    if found is None:
        attribute_patrol(session, patrol_id=patrol_id, kept=kept, **_crossing_rules(settings))
    else:
        store_attribution(session, patrol_id=patrol_id, found=found)
    # Only live positions carry the app's mock flag (an uploaded file has none).
    flag_patrol(session, patrol_id=patrol_id, kept=kept, read_mock=live, reordered=reordered)
    # What other domains take from the track (incidents: the resolved cases it passed).
    hand_on(session, ComputedTrack(patrol_id=patrol_id, pieces=pieces, settings=settings))
