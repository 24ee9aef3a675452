"""Streaming replicas for read-only work: which replica a read goes to, and when none may.

GEO_PATROL_READ_DATABASE_URL names one or more PostgreSQL hot standbys (streaming replication
of the primary). A read goes to the next healthy replica in turn (round robin); when none is
healthy, or none has replayed the caller's own last write, it goes to the primary: losing a
replica never fails a read.

Health is checked every `replica_check_s` by `ReadReplicas.check` (in a worker thread, never
inside a request): a replica is healthy when it answers, is in recovery (a promoted or
misconfigured server is not a copy of the primary any more), and its replay lag is within
`replica_max_lag_s`. The lag is measured against what the primary has: each check samples the
primary's WAL position (pg_current_wal_lsn) and the replica's replayed one
(pg_last_wal_replay_lsn); the lag is how long ago the oldest sampled primary position that
the replica has not yet replayed was taken (0 when it has replayed everything sampled).
pg_last_xact_replay_timestamp alone would call an idle system's replica hours behind (its
last transaction is old), so it is only logged. A request that finds a replica unreachable
drops it at once; a dropped replica is taken back by the first check that finds it well.

Read-your-writes: after a write, the service hands the client the primary's WAL insert
position (`written_position`, pg_current_wal_insert_lsn after the commit); a read carrying it
goes to a replica only if that replica's pg_last_wal_replay_lsn is at or past it, otherwise
to the primary (docs/operators/replicas.md).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import psycopg
from sqlalchemy import Engine, exc, text
from sqlalchemy.orm import Session, sessionmaker

from geo_patrol.core.settings import Settings
from geo_patrol.db.engine import UNREACHABLE, Timeouts, make_engine, make_sessionmaker
from geo_patrol.db.outages import short_error

log = logging.getLogger(__name__)

# A WAL position as PostgreSQL writes a pg_lsn: two hexadecimal numbers, "16/B374D848".
LSN = re.compile(r"[0-9A-Fa-f]{1,8}/[0-9A-Fa-f]{1,8}")
# Samples of the primary's position kept per lagging replica (one per check: over half an
# hour at the default 2 s); past it the second oldest goes, the oldest still dates the lag.
MAX_SAMPLES = 1000
FAILED: tuple[type[Exception], ...] = (*UNREACHABLE, psycopg.Error)

PRIMARY_POSITION = text("SELECT pg_current_wal_lsn()::text")
WRITTEN_POSITION = text("SELECT pg_current_wal_insert_lsn()::text")
REPLICA_STATE = text(
    "SELECT pg_is_in_recovery() AS recovering, pg_last_wal_replay_lsn()::text AS replayed, "
    "extract(epoch FROM now() - pg_last_xact_replay_timestamp()) AS last_replayed_s"
)
REPLAYED_PAST = text("SELECT coalesce(pg_last_wal_replay_lsn() >= CAST(:lsn AS pg_lsn), false)")


def lsn_value(lsn: str) -> int:
    """A pg_lsn's text as a number (positions compare as numbers, not as text)."""
    high, _, low = lsn.partition("/")
    return (int(high, 16) << 32) + int(low, 16)


def valid_position(marker: str | None) -> str | None:
    """The WAL position a client sent back, or None when it is not one."""
    if marker is None or LSN.fullmatch(marker.strip()) is None:
        return None
    return marker.strip().upper()


def written_position(session: Session) -> str:
    """The primary's WAL insert position: after a commit, at or past that commit's record."""
    return str(session.execute(WRITTEN_POSITION).scalar_one())


@dataclass
class Replica:
    """One replica: its engine, and what the last check or request found."""

    name: str
    engine: Engine
    sessions: sessionmaker[Session]
    healthy: bool = False
    dropped: str | None = None  # why it is out of use, once it has been
    lag_s: float = 0.0
    behind: list[tuple[float, int]] = field(default_factory=list)  # (when, primary position)


class ReadReplicas:
    """The configured replicas, their health, and the choice of one for a read."""

    def __init__(
        self,
        primary: Engine,
        urls: list[str],
        timeouts: Timeouts | None = None,
        *,
        max_lag_s: float,
        check_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.primary = primary
        self.max_lag_s = max_lag_s
        self.check_s = check_s
        self.clock = clock
        self.replicas = [_replica(url, timeouts) for url in urls]
        self._turn = itertools.count()
        self._lock = threading.Lock()

    @classmethod
    def of(cls, settings: Settings, primary: Engine) -> ReadReplicas | None:
        """The replicas `settings` name (with the primary's timeouts), or None without any."""
        urls = settings.read_database_urls
        if not urls:
            return None
        return cls(
            primary,
            urls,
            Timeouts.of(settings),
            max_lag_s=settings.replica_max_lag_s,
            check_s=settings.replica_check_s,
        )

    def healthy(self) -> list[str]:
        """Names of the replicas in use now."""
        with self._lock:
            return [replica.name for replica in self.replicas if replica.healthy]

    def session(self, *, after: str | None = None) -> Session | None:
        """A session on the next healthy replica (its connection checked out) that has replayed
        the WAL position `after` when given; None when no replica can serve the read."""
        with self._lock:
            healthy = [replica for replica in self.replicas if replica.healthy]
            start = next(self._turn)
        for offset in range(len(healthy)):
            replica = healthy[(start + offset) % len(healthy)]
            session = replica.sessions()
            try:
                session.connection()
                if after is None or session.execute(REPLAYED_PAST, {"lsn": after}).scalar_one():
                    return session
            except exc.TimeoutError:
                pass  # its pool is busy, not the replica lost: this read goes elsewhere
            except FAILED as error:
                self._drop(replica, f"unreachable ({short_error(error)})")
            session.close()
        return None

    def check(self) -> None:
        """Check every replica's reachability and replay lag against the primary's position."""
        now = self.clock()
        try:
            with self.primary.connect() as connection:
                position = lsn_value(str(connection.execute(PRIMARY_POSITION).scalar_one()))
        except FAILED as error:
            # Reads still go to the replicas; their lag is unknown until the primary is back.
            log.warning(
                "replica check: the primary's WAL position unknown (%s)", short_error(error)
            )
            position = None
        for replica in self.replicas:
            self._check(replica, now=now, position=position)

    def _check(self, replica: Replica, *, now: float, position: int | None) -> None:
        """Probe one replica; take it into use or drop it."""
        try:
            with replica.engine.connect() as connection:
                state = connection.execute(REPLICA_STATE).one()
        except FAILED as error:
            self._drop(replica, f"unreachable ({short_error(error)})")
            return
        if not state.recovering:
            self._drop(replica, "not in recovery: it is no replica of the primary")
            return
        with self._lock:
            if position is not None and (not replica.behind or position > replica.behind[-1][1]):
                replica.behind.append((now, position))
                if len(replica.behind) > MAX_SAMPLES:
                    del replica.behind[1]
            replayed = lsn_value(state.replayed)
            replica.behind = [(when, lsn) for when, lsn in replica.behind if lsn > replayed]
            replica.lag_s = now - replica.behind[0][0] if replica.behind else 0.0
            lag_s = replica.lag_s
        if lag_s > self.max_lag_s:
            self._drop(replica, f"{lag_s:.1f} s behind the primary (bound {self.max_lag_s:g} s)")
        else:
            self._take(replica, lag_s=lag_s, last_replayed_s=state.last_replayed_s)

    def _drop(self, replica: Replica, why: str) -> None:
        """Stop sending reads to `replica`; logged once, when it happens (or at the first
        check, when it cannot be used from the start)."""
        with self._lock:
            news = replica.healthy or replica.dropped is None
            replica.healthy, replica.dropped = False, why
        if news:
            log.warning("replica %s dropped: %s; its reads go to the primary", replica.name, why)

    def _take(self, replica: Replica, *, lag_s: float, last_replayed_s: float | None) -> None:
        """Send reads to `replica` again; logged once, when it happens."""
        with self._lock:
            was, why = replica.healthy, replica.dropped
            replica.healthy = True
        if was:
            return
        last = "never" if last_replayed_s is None else f"{float(last_replayed_s):.1f} s ago"
        log.info(
            "replica %s %s: %.1f s behind the primary (last transaction replayed %s)",
            replica.name,
            "in use" if why is None else f"taken back (it was {why})",
            lag_s,
            last,
        )

    async def watch(self) -> None:
        """Check the replicas now and every `check_s` (until cancelled)."""
        while True:
            try:
                await asyncio.to_thread(self.check)
            except Exception:
                log.exception("replica check failed; next in %g s", self.check_s)
            await asyncio.sleep(self.check_s)

    def dispose(self) -> None:
        """Close every replica's connections."""
        for replica in self.replicas:
            replica.engine.dispose()


def _replica(url: str, timeouts: Timeouts | None) -> Replica:
    """A replica's engine and sessions; named by host, port and database (no password)."""
    engine = make_engine(url, timeouts)
    parsed = engine.url
    host = parsed.host or parsed.query.get("host") or "localhost"
    name = f"{host}:{parsed.port or parsed.query.get('port') or 5432}/{parsed.database}"
    return Replica(name=name, engine=engine, sessions=make_sessionmaker(engine))
