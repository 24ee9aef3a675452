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


# The device's patrol whose span, widened by the silence gap, holds this time.
FIND_PATROL = """
SELECT p.id FROM patrols p
WHERE p.device_id = :device_id AND p.source = 'live'
  AND :at BETWEEN coalesce(p.started_at, p.created_at) - :silence
              AND coalesce(p.ended_at, p.created_at) + :silence
ORDER BY p.closed_at IS NULL DESC, p.id DESC
LIMIT 1
"""

ADD_POINT = """
INSERT INTO patrol_points (patrol_id, seq, time, geom, ele, accuracy_m, live, mock)
VALUES (:patrol_id,
        (SELECT coalesce(max(seq), -1) + 1 FROM patrol_points WHERE patrol_id = :patrol_id),
        :at, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), :altitude, :accuracy, true, :mock)
ON CONFLICT (patrol_id, time) WHERE live DO NOTHING
"""

WIDEN = """
UPDATE patrols SET stale = true,
       started_at = least(coalesce(started_at, :at), :at),
       ended_at = greatest(coalesce(ended_at, :at), :at)
WHERE id = :patrol_id
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
    locked: set[int | None] = set()
    for position in sorted(positions, key=lambda p: p.time):
        principal = device_principal(session, identifier=position.device_id)
        if principal.device_id not in locked:
            # One request at a time per phone: a replayed buffer and a live fix arriving
            # together must not both open a patrol or take the same sequence number.
            session.execute(text("SELECT pg_advisory_xact_lock(7211, :d)"),
                            {"d": principal.device_id})  # fmt: skip
            locked.add(principal.device_id)
        patrol_id = _patrol_for(session, principal, position.time, silence)
        added = session.execute(
            text(ADD_POINT),
            {"patrol_id": patrol_id, "at": position.time, "lon": position.lon,
             "lat": position.lat, "altitude": position.altitude,
             "accuracy": position.accuracy_m, "mock": position.mock},
        ).rowcount  # type: ignore[attr-defined]  # fmt: skip
        if added:
            session.execute(text(WIDEN), {"patrol_id": patrol_id, "at": position.time})
            stored += 1
    return stored


def _patrol_for(session: Session, principal: Principal, at: datetime, silence: timedelta) -> int:
    """The patrol this position belongs to, opening one when none fits."""
    found = session.execute(
        text(FIND_PATROL), {"device_id": principal.device_id, "at": at, "silence": silence}
    ).scalar()
    if found is not None:
        return int(found)
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
