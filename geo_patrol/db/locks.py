"""Work that one node of several must do alone: transaction-level advisory locks.

Several app nodes (docker/compose.yaml runs two) share one database, and each runs the
background maintenance. The maintenance takes a lock that PostgreSQL holds until its
transaction ends, without waiting: the node that gets it works, the others skip the round.
A node that dies mid-round loses its connection, and with it the lock.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

# pg_try_advisory_xact_lock keys, eight ASCII bytes each (the digest's is in duty.digest).
MAINTENANCE = int.from_bytes(b"gpmaint1", "big") & 0x7FFF_FFFF_FFFF_FFFF
PARTITIONS = int.from_bytes(b"gpmonths", "big") & 0x7FFF_FFFF_FFFF_FFFF
# Held (waiting) by every migration run until it commits: nodes that start at once migrate
# one after the other (geo_patrol.db.migrate).
MIGRATIONS = int.from_bytes(b"gpmigrat", "big") & 0x7FFF_FFFF_FFFF_FFFF

TRY_LOCK = "SELECT pg_try_advisory_xact_lock(:key)"


def try_lock(session: Session, key: int) -> bool:
    """Take the lock `key` until the transaction ends; False when another session has it."""
    return bool(session.execute(text(TRY_LOCK), {"key": key}).scalar_one())
