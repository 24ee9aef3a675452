"""Live positions from phones (OsmAnd / Traccar Client) grouped into patrols.

Phones buffer positions while offline and replay them later, late, twice and out of
order. Each position goes into the patrol of its device whose time span it falls in
(within the silence gap), otherwise into a new one; a repeated (device, time) is stored
once. Statistics are recomputed on the time-ordered track when a patrol is read, closed,
or refreshed in the background, never on arrival order.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text, update
from sqlalchemy.orm import Session

from geo_patrol.access.principal import DEVICE_ROLES
from geo_patrol.access.secrets import DEVICE_PREFIX, token_hash
from geo_patrol.core.catalog import msg
from geo_patrol.core.errors import GeoPatrolError
from geo_patrol.core.settings import Settings
from geo_patrol.db.tables import Patrol
from geo_patrol.patrols.live.osmand import LivePosition
from geo_patrol.patrols.upload import finish_patrol

log = logging.getLogger(__name__)


REFUSED_DEVICE = msg("problem.live.unknown_device")


class UnknownDevice(GeoPatrolError):
    """The identifier is not a device of ours, or it was revoked."""

    status = 400
    title_key = "error.unknown_device"


# The devices behind a batch's identifiers, checked in the batch's own transaction (so a
# revocation committed before it is seen at once), with the team a new patrol is for: the
# member's joint team first, else the first team of a patrol role, among the teams the
# device was issued for. At most once a minute a device's last-seen time is touched, never
# waiting for a row another batch is touching.
RESOLVE = """
WITH found AS (
    SELECT d.id, d.member_id, d.token_hash FROM devices d
    JOIN members m ON m.id = d.member_id AND m.is_active
    WHERE d.token_hash = ANY(CAST(:hashes AS text[])) AND d.revoked_at IS NULL
),
touched AS (
    UPDATE devices SET last_seen_at = now()
    WHERE id IN (SELECT d.id FROM devices d JOIN found f ON f.id = d.id
                 WHERE d.last_seen_at IS NULL OR d.last_seen_at < now() - interval '1 minute'
                 FOR UPDATE OF d SKIP LOCKED)
)
SELECT f.token_hash, f.id AS device_id, f.member_id,
       (SELECT t.id FROM member_roles r JOIN teams t ON t.id = r.team_id
        JOIN device_teams dt ON dt.team_id = t.id AND dt.device_id = f.id
        WHERE r.member_id = f.member_id AND r.role = ANY(CAST(:roles AS text[]))
        ORDER BY t.zone_id IS NULL, t.id LIMIT 1) AS team_id
FROM found f
"""

# The batch's positions that fit a patrol of their device as it stands (the usual case: a
# phone walking on), in one statement: a repeated (patrol, time) is stored once, sequence
# numbers continue each patrol's, spans widen. Returns the positions that fit no patrol.
# The open patrol is preferred, then the newest closed one; the closed ones are only looked
# at when the open one does not fit (a late replay), each search on an index of its own.
ADD_BATCH = """
WITH batch AS (
    SELECT * FROM unnest(CAST(:devices AS bigint[]), CAST(:times AS timestamptz[]),
                         CAST(:lons AS float8[]), CAST(:lats AS float8[]),
                         CAST(:altitudes AS float8[]), CAST(:accuracies AS float8[]),
                         CAST(:mocks AS boolean[])) WITH ORDINALITY
        AS b(device_id, time, lon, lat, ele, accuracy_m, mock, i)
),
fitted AS (
    SELECT b.*, coalesce(
        (SELECT p.id FROM patrols p
         WHERE p.device_id = b.device_id AND p.source = 'live' AND p.closed_at IS NULL
           AND b.time BETWEEN coalesce(p.started_at, p.created_at) - :silence
                          AND coalesce(p.ended_at, p.created_at) + :silence),
        (SELECT p.id FROM patrols p
         WHERE p.device_id = b.device_id AND p.source = 'live' AND p.closed_at IS NOT NULL
           AND b.time BETWEEN coalesce(p.started_at, p.created_at) - :silence
                          AND coalesce(p.ended_at, p.created_at) + :silence
         ORDER BY p.id DESC LIMIT 1)
    ) AS patrol_id
    FROM batch b
),
once AS (
    SELECT DISTINCT ON (patrol_id, time) * FROM fitted WHERE patrol_id IS NOT NULL
    ORDER BY patrol_id, time, i
),
added AS (
    INSERT INTO patrol_points (patrol_id, seq, time, geom, ele, accuracy_m, live, mock,
                               patrol_day)
    SELECT o.patrol_id, last.seq + row_number() OVER (PARTITION BY o.patrol_id ORDER BY o.time),
           o.time, ST_SetSRID(ST_MakePoint(o.lon, o.lat), 4326), o.ele, o.accuracy_m, true, o.mock,
           p.patrol_day
    FROM once o
    JOIN patrols p ON p.id = o.patrol_id
    CROSS JOIN LATERAL (SELECT coalesce(max(seq), -1) AS seq FROM patrol_points
                        WHERE patrol_id = o.patrol_id AND patrol_day = p.patrol_day) last
    ON CONFLICT (patrol_id, time, patrol_day) WHERE live DO NOTHING
    RETURNING patrol_id, time
),
widened AS (
    UPDATE patrols p SET stale = true,
           started_at = least(coalesce(p.started_at, a.first), a.first),
           ended_at = greatest(coalesce(p.ended_at, a.last), a.last)
    FROM (SELECT patrol_id, min(time) AS first, max(time) AS last FROM added
          GROUP BY patrol_id) a
    WHERE p.id = a.patrol_id
)
SELECT coalesce((SELECT array_agg(i - 1) FROM fitted WHERE patrol_id IS NULL), '{}') AS unfitted,
       (SELECT count(*) FROM added) AS added
"""


# New live patrols, one per device (each device's open one closed just before: at most one
# is open, and a unique index says so at once, even within one statement).
CLOSE_OPEN = """
UPDATE patrols SET closed_at = now()
WHERE device_id = ANY(CAST(:devices AS int[])) AND source = 'live' AND closed_at IS NULL
"""
OPEN_PATROLS = """
WITH opener AS (
    SELECT * FROM unnest(CAST(:devices AS int[]), CAST(:times AS timestamptz[]),
                         CAST(:teams AS int[]), CAST(:members AS int[]))
        AS o(device_id, at, team_id, member_id)
),
opened AS (
    INSERT INTO patrols (team_id, source, mode, device_id, started_at, ended_at)
    SELECT team_id, 'live', 'foot', device_id, at, at FROM opener
    RETURNING id, device_id
),
joined AS (
    INSERT INTO patrol_members (patrol_id, member_id)
    SELECT opened.id, opener.member_id FROM opened JOIN opener USING (device_id)
)
SELECT id, device_id FROM opened ORDER BY id
"""
LOCK_DEVICES = "SELECT pg_advisory_xact_lock(7211, d) FROM unnest(CAST(:ids AS int[])) d"


@dataclass(frozen=True)
class LiveDevice:
    """A device allowed to report positions, and the team a new patrol of it is for."""

    device_id: int
    member_id: int
    team_id: int


@dataclass(frozen=True)
class BatchOutcome:
    """What became of a batch: the requests refused (unknown device), new positions stored."""

    refused: frozenset[int]
    stored: int


def store_batch(
    session: Session, *, requests: Sequence[Sequence[LivePosition]], settings: Settings
) -> BatchOutcome:
    """Store the positions of many requests at once (each position once, in its patrol).

    A request naming an unknown, revoked or teamless device is refused as a whole and the
    others are stored. The caller commits.
    """
    devices = resolve_devices(session, identifiers={p.device_id for r in requests for p in r})
    refused = frozenset(
        n for n, request in enumerate(requests) if any(p.device_id not in devices for p in request)
    )
    positions = [p for n, r in enumerate(requests) if n not in refused for p in r]
    if not positions:
        return BatchOutcome(refused, 0)
    ids = sorted({devices[p.device_id].device_id for p in positions})
    # One batch at a time per phone (a replayed buffer and a live fix may arrive together in
    # two processes): they must not both open a patrol or take the same sequence number. In
    # id order, so two batches never wait for each other crosswise; a statement of its own,
    # as the next one must see what the lock waited for.
    session.execute(text(LOCK_DEVICES), {"ids": ids})
    try:
        stored = _add_positions(session, positions, devices, settings)
    except Exception as error:
        error.add_note(f"live batch of devices {ids}")  # what an operator needs to find them
        raise
    log.debug(
        "live batch: %d requests (%d refused), %d positions, %d new, devices %s",
        len(requests),
        len(refused),
        len(positions),
        stored,
        ids,
    )
    return BatchOutcome(refused, stored)


def _add_positions(
    session: Session,
    positions: list[LivePosition],
    devices: dict[str, LiveDevice],
    settings: Settings,
) -> int:
    """Store positions of locked, known devices; returns how many were new.

    Usually one round stores them all. Positions that fit no patrol wait for the next round:
    another of the same batch may widen a span to reach them; when none fits any more, the
    earliest of each device opens a new patrol and the rest follow into it.
    """
    silence = timedelta(minutes=settings.live_silence_minutes)
    waiting, stored, opened = positions, 0, False
    while waiting:
        row = session.execute(text(ADD_BATCH), _columns(waiting, devices) | {"silence": silence})
        unfitted, added = row.one()
        stored += int(added)
        stuck = len(unfitted) == len(waiting)
        if stuck and opened:  # an opening position always fits its own patrol
            raise RuntimeError(f"{len(unfitted)} positions fit not even a new patrol")
        if stuck:
            _open_patrols(session, [waiting[n] for n in unfitted], devices)
        waiting, opened = [waiting[n] for n in unfitted], stuck
    return stored


def _open_patrols(
    session: Session, positions: list[LivePosition], devices: dict[str, LiveDevice]
) -> None:
    """A new live patrol for each device at its earliest position (closing its open one)."""
    openers: dict[str, LivePosition] = {}
    for position in sorted(positions, key=lambda p: p.time, reverse=True):
        openers[position.device_id] = position
    chosen = [(devices[i], p.time) for i, p in openers.items()]
    ids = [device.device_id for device, _ in chosen]
    session.execute(text(CLOSE_OPEN), {"devices": ids})
    opened = session.execute(
        text(OPEN_PATROLS),
        {
            "devices": ids,
            "times": [at for _, at in chosen],
            "teams": [d.team_id for d, _ in chosen],
            "members": [d.member_id for d, _ in chosen],
        },
    ).all()
    for patrol_id, device_id in opened:
        log.info("live patrol %s opened for device %s", patrol_id, device_id)


def resolve_devices(session: Session, *, identifiers: set[str]) -> dict[str, LiveDevice]:
    """The usable devices among OsmAnd identifiers (device tokens), by identifier."""
    hashes = {token_hash(i): i for i in identifiers if i.startswith(DEVICE_PREFIX)}
    if not hashes:
        return {}
    rows = session.execute(
        text(RESOLVE), {"hashes": list(hashes), "roles": sorted(DEVICE_ROLES)}
    ).all()
    return {
        hashes[row.token_hash]: LiveDevice(row.device_id, row.member_id, row.team_id)
        for row in rows
        if row.team_id is not None  # a member in no team has no patrol to report for
    }


def _columns(positions: list[LivePosition], devices: dict[str, LiveDevice]) -> dict[str, Any]:
    """The positions as one array per column, for ADD_BATCH."""
    return {
        "devices": [devices[p.device_id].device_id for p in positions],
        "times": [p.time for p in positions],
        "lons": [p.lon for p in positions],
        "lats": [p.lat for p in positions],
        "altitudes": [p.altitude for p in positions],
        "accuracies": [p.accuracy_m for p in positions],
        "mocks": [p.mock for p in positions],
    }


def record_positions(session: Session, *, positions: list[LivePosition], settings: Settings) -> int:
    """Store the positions of one request (each once); returns how many were new."""
    outcome = store_batch(session, requests=[positions], settings=settings)
    if outcome.refused:
        raise UnknownDevice(REFUSED_DEVICE, field="id")
    return outcome.stored


def close_silent_patrols(
    session: Session, *, settings: Settings, now: datetime | None = None
) -> int:
    """Close live patrols whose last position is older than the silence gap."""
    cutoff = (now or datetime.now(UTC)) - timedelta(minutes=settings.live_silence_minutes)
    closed = (
        session.execute(
            text(
                "UPDATE patrols SET closed_at = now(), stale = true WHERE source = 'live' "
                "AND closed_at IS NULL AND ended_at < :cutoff RETURNING id"
            ),
            {"cutoff": cutoff},
        )
        .scalars()
        .all()
    )
    return len(closed)


def refresh_stale_patrols(session: Session, *, settings: Settings, limit: int = 50) -> int:
    """Recompute statistics of patrols that received positions since the last computation."""
    ids = (
        session.execute(
            text("SELECT id FROM patrols WHERE stale ORDER BY id LIMIT :n FOR UPDATE SKIP LOCKED"),
            {"n": limit},
        )
        .scalars()
        .all()
    )
    for patrol_id in ids:
        finish_patrol(session, patrol_id=patrol_id, settings=settings)
        session.execute(update(Patrol).where(Patrol.id == patrol_id).values(stale=False))
    return len(ids)
