"""Live positions from phones (OsmAnd / Traccar Client) grouped into patrols.

Phones buffer positions while offline and replay them later, late, twice and out of
order. Each position goes into the patrol of its device whose time span it falls in
(within the silence gap), otherwise into a new one; a repeated (device, time) is stored
once. Statistics are recomputed on the time-ordered track when a patrol is read, closed,
or refreshed in the background, never on arrival order.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_patrol.access.principal import Principal, from_device_identifier
from geo_patrol.errors import GeoPatrolError
from geo_patrol.ingest.osmand import LivePosition
from geo_patrol.settings import Settings

log = logging.getLogger(__name__)


class UnknownDevice(GeoPatrolError):
    """The identifier is not a device of ours, or it was revoked."""

    status = 400
    title = "Unknown device"


# The device's patrol whose span, widened by the silence gap, holds this time; the position
# goes into it (a repeated time is stored once) and widens its span. One statement: the
# patrol id is NULL when none fits.
ADD_POINT = """
WITH patrol AS (
    SELECT p.id FROM patrols p
    WHERE p.device_id = :device_id AND p.source = 'live'
      AND :at BETWEEN coalesce(p.started_at, p.created_at) - :silence
                  AND coalesce(p.ended_at, p.created_at) + :silence
    ORDER BY p.closed_at IS NULL DESC, p.id DESC
    LIMIT 1
),
added AS (
    INSERT INTO patrol_points (patrol_id, seq, time, geom, ele, accuracy_m, live, mock)
    SELECT patrol.id,
           (SELECT coalesce(max(seq), -1) + 1 FROM patrol_points WHERE patrol_id = patrol.id),
           :at, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), :altitude, :accuracy, true, :mock
    FROM patrol
    ON CONFLICT (patrol_id, time) WHERE live DO NOTHING
    RETURNING patrol_id
),
widened AS (
    UPDATE patrols SET stale = true,
           started_at = least(coalesce(started_at, :at), :at),
           ended_at = greatest(coalesce(ended_at, :at), :at)
    WHERE id IN (SELECT patrol_id FROM added)
)
SELECT (SELECT id FROM patrol) AS patrol_id, EXISTS (SELECT 1 FROM added) AS added
"""


def device_principal(session: Session, *, identifier: str) -> Principal:
    """The device behind an OsmAnd identifier, or UnknownDevice."""
    principal = from_device_identifier(session, identifier=identifier)
    if principal is None:
        raise UnknownDevice("unknown or revoked device", field="id")
    return principal


def device_team(session: Session, principal: Principal) -> int:
    """The team a device patrols for: its member's joint team first, else the first team."""
    teams = [g.team_id for g in principal.grants if g.team_id is not None]
    if not teams:
        raise UnknownDevice("the device's member is in no team", field="id")
    row = session.execute(
        text("SELECT id FROM teams WHERE id = ANY(:ids) ORDER BY zone_id IS NULL, id LIMIT 1"),
        {"ids": teams},
    ).scalar_one()
    return int(row)


def record_positions(session: Session, *, positions: list[LivePosition], settings: Settings) -> int:
    """Store positions (each once) in their device's patrols; returns how many were new."""
    silence = timedelta(minutes=settings.live_silence_minutes)
    stored = 0
    principals: dict[str, Principal] = {}
    for position in sorted(positions, key=lambda p: p.time):
        principal = principals.get(position.device_id)
        if principal is None:
            principal = device_principal(session, identifier=position.device_id)
            principals[position.device_id] = principal
            # One request at a time per phone: a replayed buffer and a live fix arriving
            # together must not both open a patrol or take the same sequence number. (A
            # statement of its own: the next one must see what the lock waited for.)
            session.execute(text("SELECT pg_advisory_xact_lock(7211, :d)"),
                            {"d": principal.device_id})  # fmt: skip
        point = {"device_id": principal.device_id, "at": position.time, "silence": silence,
                 "lon": position.lon, "lat": position.lat, "altitude": position.altitude,
                 "accuracy": position.accuracy_m, "mock": position.mock}  # fmt: skip
        row = session.execute(text(ADD_POINT), point).one()
        if row.patrol_id is None:
            _open_patrol(session, principal, position.time)
            row = session.execute(text(ADD_POINT), point).one()
        stored += bool(row.added)
    return stored


def _open_patrol(session: Session, principal: Principal, at: datetime) -> int:
    """A new live patrol for the device (closing its open one): no patrol fits `at`."""
    session.execute(
        text("UPDATE patrols SET closed_at = now() WHERE device_id = :d AND source = 'live' "
             "AND closed_at IS NULL"), {"d": principal.device_id},
    )  # fmt: skip
    patrol_id = session.execute(
        text(
            "INSERT INTO patrols (team_id, source, mode, device_id, started_at, ended_at) "
            "VALUES (:team, 'live', 'foot', :device, :at, :at) RETURNING id"
        ),
        {"team": device_team(session, principal), "device": principal.device_id, "at": at},
    ).scalar_one()
    session.execute(
        text("INSERT INTO patrol_members (patrol_id, member_id) VALUES (:p, :m)"),
        {"p": patrol_id, "m": principal.member_id},
    )
    log.info("live patrol %s opened for device %s", patrol_id, principal.device_id)
    return int(patrol_id)


def close_silent_patrols(
    session: Session, *, settings: Settings, now: datetime | None = None
) -> int:
    """Close live patrols whose last position is older than the silence gap."""
    cutoff = (now or datetime.now(UTC)) - timedelta(minutes=settings.live_silence_minutes)
    closed = session.execute(
        text("UPDATE patrols SET closed_at = now(), stale = true WHERE source = 'live' "
             "AND closed_at IS NULL AND ended_at < :cutoff RETURNING id"), {"cutoff": cutoff},
    ).scalars().all()  # fmt: skip
    return len(closed)


def refresh_stale_patrols(session: Session, *, settings: Settings, limit: int = 50) -> int:
    """Recompute statistics of patrols that received positions since the last computation."""
    from geo_patrol.patrols import finish_patrol

    ids = session.execute(
        text("SELECT id FROM patrols WHERE stale ORDER BY id LIMIT :n FOR UPDATE SKIP LOCKED"),
        {"n": limit},
    ).scalars().all()  # fmt: skip
    for patrol_id in ids:
        finish_patrol(session, patrol_id=patrol_id, settings=settings)
        session.execute(text("UPDATE patrols SET stale = false WHERE id = :id"), {"id": patrol_id})
    return len(ids)
