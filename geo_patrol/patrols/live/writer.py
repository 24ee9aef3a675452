"""Group commit of live positions: one writer per process stores all concurrent requests.

A hundred phones each waiting for their own transaction spend the database's time on
commits (one WAL flush each) and the process's on threads. Instead every request hands its
positions to the process's writer and waits; the writer stores whatever has gathered in one
transaction (`live.store.store_batch`), and while that runs the next batch gathers. A
request is answered only once its batch is committed, so a 200 always means durable; a
request of an unknown device is refused alone, and a failed batch fails all of its
requests (5xx: the phones keep their positions and send them again). A database outage is
logged as one (`geo_patrol.db.outages`): one line per failed batch with its counts, the
traceback once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager

from sqlalchemy.orm import Session

from geo_patrol.core.catalog import msg
from geo_patrol.core.errors import GeoPatrolError
from geo_patrol.core.settings import Settings
from geo_patrol.db.engine import UNREACHABLE
from geo_patrol.db.outages import Outage
from geo_patrol.patrols.live.osmand import LivePosition
from geo_patrol.patrols.live.store import REFUSED_DEVICE, BatchOutcome, UnknownDevice, store_batch

log = logging.getLogger(__name__)

Pending = tuple[list[LivePosition], asyncio.Future[bool]]  # a request and its answer
# Told of every batch: its positions, seconds to store and commit, and whether it was stored.
BatchObserver = Callable[[int, float, bool], None]


class StoreFailed(GeoPatrolError):
    """The batch holding the request could not be stored; the phone should send it again."""

    status = 503
    title_key = "error.positions_not_stored"


class LiveWriter:
    """Collects the positions of concurrent requests and stores them one batch at a time."""

    def __init__(
        self,
        sessions: Callable[[], AbstractContextManager[Session]],
        settings: Settings,
        *,
        outage: Outage | None = None,
        observer: BatchObserver | None = None,
    ) -> None:
        self._sessions = sessions
        self._settings = settings
        self._outage = outage or Outage(log, "database")
        self._failing = Outage(log, "live batch")  # other failures, a bug perhaps: same care
        self._observer = observer
        self._pending: list[Pending] = []
        self._flushing: asyncio.Task[None] | None = None
        # One thread: batches of this process never run at once, so a phone's positions are
        # stored in the order their batches formed (and tests can share one session).
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="live-writer")

    async def store(self, positions: list[LivePosition]) -> None:
        """Return once the positions are committed; UnknownDevice or StoreFailed otherwise."""
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._pending.append((positions, future))
        if self._flushing is None:
            self._flushing = asyncio.create_task(self._flush())
        if not await future:
            raise UnknownDevice(REFUSED_DEVICE, field="id")

    def close(self) -> None:
        """Stop the writer thread (after the batch it is storing, if any)."""
        self._thread.shutdown(wait=True)

    async def _flush(self) -> None:
        """Store batches until no request is waiting."""
        loop = asyncio.get_running_loop()
        limit = self._settings.live_batch_positions
        try:
            while self._pending:
                batch = self._take(limit)
                requests = [positions for positions, _ in batch]
                positions = sum(map(len, requests))
                started = time.perf_counter()
                try:
                    outcome = await loop.run_in_executor(self._thread, self._store, requests)
                except Exception as error:
                    self._observe(positions, time.perf_counter() - started, stored=False)
                    outage = self._outage if isinstance(error, UNREACHABLE) else self._failing
                    outage.failed(
                        error,
                        "live batch of %d requests (%d positions) not stored; "
                        "answered 503, the phones will send them again",
                        len(batch),
                        positions,
                    )
                    self._fail(batch)
                    continue
                self._observe(positions, time.perf_counter() - started, stored=True)
                self._outage.succeeded()
                self._failing.succeeded()
                self._answer(batch, outcome, time.perf_counter() - started)
        finally:
            self._flushing = None

    def _observe(self, positions: int, seconds: float, *, stored: bool) -> None:
        """Tell the observer (the metrics) of a batch."""
        if self._observer is not None:
            self._observer(positions, seconds, stored)

    @staticmethod
    def _fail(batch: list[Pending]) -> None:
        """Answer the requests of a batch that was not stored with 503."""
        for _, future in batch:
            if not future.done():
                future.set_exception(StoreFailed(msg("problem.live.positions_not_stored")))

    def _take(self, limit: int) -> list[Pending]:
        """The oldest waiting requests, up to `limit` positions (at least one request)."""
        count, positions = 0, 0
        for requests, _ in self._pending:
            if count and positions + len(requests) > limit:
                break
            count, positions = count + 1, positions + len(requests)
        batch, self._pending = self._pending[:count], self._pending[count:]
        return batch

    def _store(self, requests: list[list[LivePosition]]) -> BatchOutcome:
        """Store one batch and commit it (in the writer thread)."""
        with self._sessions() as session:
            outcome = store_batch(session, requests=requests, settings=self._settings)
            session.commit()
        return outcome

    @staticmethod
    def _answer(batch: list[Pending], outcome: BatchOutcome, seconds: float) -> None:
        """Wake the requests of a committed batch (a request gone meanwhile is skipped)."""
        for number, (_, future) in enumerate(batch):
            if not future.done():
                future.set_result(number not in outcome.refused)
        log.debug("live batch of %d requests committed in %.1f ms", len(batch), seconds * 1000)
