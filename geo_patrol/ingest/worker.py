"""Uploaded track files parsed in a short-lived worker process, a few at a time.

Why a process: whatever a file costs to read (a 50 MB GeoJSON is ~500 MB of Python objects
before it becomes arrays), that memory belongs to a process that exits when the file is read,
so it comes back to the machine at once; the service keeps only the compact arrays it gets
back. The worker runs with a data-size limit (GEO_PATROL_PARSE_MEMORY_MB) and a time limit;
past either, the upload is refused with 413, never a crashed service. Workers are forked
from a forkserver that has the parsers imported already, so one starts in milliseconds.

Why slots: each service process parses at most GEO_PATROL_PARSE_SLOTS uploads at once (one
per CPU core by default). Uploads beyond that wait for a slot — with their bodies spooled to
disk, not in memory — for up to GEO_PATROL_PARSE_WAIT_SECONDS, then get 503 with
Retry-After, so forty parallel uploads cannot exhaust the machine.
"""

from __future__ import annotations

import asyncio
import io
import logging
import multiprocessing
import os
import resource
import threading
import traceback
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from multiprocessing import forkserver, popen_forkserver, reduction, spawn, util
from multiprocessing.connection import Connection
from multiprocessing.context import ForkServerProcess, set_spawning_popen
from typing import Any

from geo_patrol import errors
from geo_patrol.errors import FileTooLarge, GeoPatrolError, ImportFileError, ServiceBusy
from geo_patrol.ingest.track_csv import CsvOptions
from geo_patrol.ingest.tracks import TrackFile, parse_track
from geo_patrol.settings import Settings

__all__ = ["ParseLimits", "ParseSlots", "parse_upload", "peak_rss_kb"]

log = logging.getLogger(__name__)
RETRY_AFTER_S = 10
_CONTEXT_LOCK = threading.Lock()
# Imported by the forkserver once, so that a worker forked from it starts ready.
_PARSERS = [
    f"geo_patrol.ingest.{name}" for name in ("gpx", "gpx_fast", "kml", "track_geojson", "cleaning")
]


@dataclass(frozen=True)
class ParseLimits:
    """What reading one uploaded file may cost."""

    max_unpacked_bytes: int  # what a KMZ may unpack to
    memory_bytes: int  # data-size limit of the worker process
    timeout_s: float  # the worker is stopped after this long

    @classmethod
    def of(cls, settings: Settings) -> ParseLimits:
        """The limits the settings give."""
        return cls(
            max_unpacked_bytes=settings.unpacked_limit,
            memory_bytes=settings.parse_memory_mb * 1024 * 1024,
            timeout_s=settings.parse_timeout_seconds,
        )


def peak_rss_kb() -> int:
    """This process's peak resident memory (VmHWM) in kB, 0 where /proc is missing."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def parse_upload(
    data: bytes, *, filename: str, datum: str, csv_options: CsvOptions | None,
    limits: ParseLimits, isolated: bool,
) -> TrackFile:  # fmt: skip
    """`parse_track` with the limits, in a worker process if `isolated`, else in this one."""
    if not isolated:
        return parse_track(data, filename=filename, datum=datum, csv_options=csv_options,
                           max_uncompressed_bytes=limits.max_unpacked_bytes)  # fmt: skip
    return _in_worker(data, (filename, datum, csv_options, limits.max_unpacked_bytes), limits)


def _context() -> Any:
    """The forkserver context, its server importing the parsers once (set up once)."""
    with _CONTEXT_LOCK:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload([__name__, *_PARSERS])
        return context


class _Popen(popen_forkserver.Popen):
    """The forkserver's launcher, less the parent's __main__: multiprocessing would run the
    service's main script again in every worker (seconds of imports), which needs only the
    parsers the forkserver has imported. (CPython 3.11's `_launch`, one step added.)"""

    def _launch(self, process_obj: Any) -> None:
        """Send the worker's preparation data (without __main__) and the process object."""
        prep_data = spawn.get_preparation_data(process_obj._name)
        prep_data.pop("init_main_from_path", None)
        prep_data.pop("init_main_from_name", None)
        buf = io.BytesIO()
        set_spawning_popen(self)
        try:
            reduction.dump(prep_data, buf)
            reduction.dump(process_obj, buf)
        finally:
            set_spawning_popen(None)
        self.sentinel, w = forkserver.connect_to_new_process(self._fds)  # type: ignore[attr-defined]
        parent_w = os.dup(w)
        close = util.close_fds  # type: ignore[attr-defined]
        self.finalizer = util.Finalize(self, close, (parent_w, self.sentinel))
        with open(w, "wb", closefd=True) as f:
            f.write(buf.getbuffer())
        self.pid = forkserver.read_signed(self.sentinel)


class _Worker(ForkServerProcess):
    """A worker process forked by the forkserver through `_Popen`."""

    @staticmethod
    def _Popen(process_obj: Any) -> _Popen:
        """Launch it."""
        return _Popen(process_obj)


def _in_worker(data: bytes, args: tuple[Any, ...], limits: ParseLimits) -> TrackFile:
    """Send the file to a new worker process and rebuild what it answers."""
    filename = args[0]
    context = _context()
    ours, theirs = context.Pipe()
    process = _Worker(target=_work, args=(theirs, limits.memory_bytes), daemon=True)
    process.start()
    theirs.close()
    try:
        ours.send(args)
        ours.send_bytes(data)
        if not ours.poll(limits.timeout_s):
            raise FileTooLarge(
                f"{filename}: reading the file took longer than {limits.timeout_s:g} s; "
                "refused (GEO_PATROL_PARSE_TIMEOUT_SECONDS)",
                file=filename,
            )
        answer = ours.recv()
    except (EOFError, BrokenPipeError, ConnectionResetError):
        answer = ("died",)  # the worker ended without an answer
    finally:
        ours.close()
        if process.is_alive():
            process.kill()
        process.join()
    if answer == ("died",):
        log.error("%s: the parse worker ended without an answer (exit code %s)", filename,
                  process.exitcode)  # fmt: skip
        # Killed (by the kernel's OOM killer, or a signal): the file needed too much.
        answer = ("memory",) if (process.exitcode or 0) < 0 else ("crash", "no answer")
    return _outcome(answer, filename, limits)


def _outcome(answer: tuple[Any, ...], filename: str, limits: ParseLimits) -> TrackFile:
    """The TrackFile of a worker's answer, or its error raised again here."""
    kind = answer[0]
    if kind == "ok":
        log.debug("%s parsed in a worker, peak %d kB", filename, answer[2])
        track: TrackFile = answer[1]
        return track
    if kind == "error":
        error_type = getattr(errors, answer[1], ImportFileError)
        if not (isinstance(error_type, type) and issubclass(error_type, GeoPatrolError)):
            error_type = ImportFileError
        raise error_type(answer[2], **answer[3])
    if kind == "memory":
        raise FileTooLarge(
            f"{filename}: reading the file needs more than {limits.memory_bytes // 2**20:,} MB "
            "of memory; refused (GEO_PATROL_PARSE_MEMORY_MB)",
            file=filename,
        )
    raise RuntimeError(f"{filename}: the parse worker failed:\n{answer[1]}")


def _work(conn: Connection, memory_bytes: int) -> None:
    """The worker: limit its memory, read one file, answer, exit."""
    resource.setrlimit(resource.RLIMIT_DATA, (memory_bytes, memory_bytes))
    try:
        filename, datum, csv_options, max_unpacked = conn.recv()
        data = conn.recv_bytes()
        track = parse_track(data, filename=filename, datum=datum, csv_options=csv_options,
                            max_uncompressed_bytes=max_unpacked)  # fmt: skip
        del data
        answer: tuple[Any, ...] = ("ok", track, peak_rss_kb())
    except GeoPatrolError as error:
        answer = ("error", type(error).__name__, error.detail, error.extra)
    except MemoryError:
        answer = ("memory",)
    except Exception:  # reported to the service, which logs it
        answer = ("crash", traceback.format_exc())
    with suppress(OSError, MemoryError):
        conn.send(answer)
    conn.close()


class ParseSlots:
    """At most `size` uploads parsed at once in a service process; the others wait up to
    `wait_s` seconds, then ServiceBusy (503 with Retry-After)."""

    def __init__(self, size: int, wait_s: float) -> None:
        """`size` slots (0: one per CPU core)."""
        self.size = size or os.cpu_count() or 1
        self.wait_s = wait_s
        self.in_use = 0
        self.peak = 0  # most slots ever in use at once
        self._semaphore: asyncio.Semaphore | None = None

    @classmethod
    def of(cls, settings: Settings) -> ParseSlots:
        """Slots as the settings say."""
        return cls(settings.parse_slots, settings.parse_wait_seconds)

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold one slot for the body of the `async with`."""
        if self._semaphore is None:
            self._semaphore = asyncio.Semaphore(self.size)
        semaphore = self._semaphore
        if semaphore.locked():
            try:
                await asyncio.wait_for(semaphore.acquire(), self.wait_s)
            except TimeoutError:
                log.warning("upload refused (503): all %d parse slots busy for %g s",
                            self.size, self.wait_s)  # fmt: skip
                raise ServiceBusy(
                    f"{self.size} uploads are being read already; try again in {RETRY_AFTER_S} s",
                    retry_after=RETRY_AFTER_S,
                ) from None
        else:
            await semaphore.acquire()
        self.in_use += 1
        self.peak = max(self.peak, self.in_use)
        try:
            yield
        finally:
            self.in_use -= 1
            semaphore.release()
