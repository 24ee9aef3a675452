"""Uploaded track files parsed in a short-lived worker process, a few at a time.

Why a process: whatever a file costs to read (a 50 MB GeoJSON is ~500 MB of Python objects
before it becomes arrays), that memory belongs to a process that exits when the file is read,
so it comes back to the machine at once; the service keeps only the compact arrays it gets
back. The worker runs with a data-size limit (GEO_PATROL_PARSE_MEMORY_MB) and a time limit;
past either, the upload is refused with 413, never a crashed service. Workers are forked
from a multiprocessing forkserver (public API only) that has the parsers imported already,
and what the service's main script imports (see `_main_needs`), so one starts in about
13 ms under `python -m geo_patrol serve`, 22 ms under the `geo-patrol` script (median of 20,
`python -m bench.worker_start`; importing the parsers in a fresh process takes 300 ms).
A program that reads uploads in workers needs the usual `if __name__ == "__main__":` guard.

Why slots: each service process parses at most GEO_PATROL_PARSE_SLOTS uploads at once (one
per CPU core by default). Uploads beyond that wait for a slot — with their bodies spooled to
disk, not in memory — for up to GEO_PATROL_PARSE_WAIT_SECONDS, then get 503 with
Retry-After, so forty parallel uploads cannot exhaust the machine.
"""

from __future__ import annotations

import ast
import asyncio
import functools
import logging
import multiprocessing
import os
import resource
import sys
import threading
import traceback
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from geo_patrol.core import errors
from geo_patrol.core.catalog import Message, msg
from geo_patrol.core.errors import FileTooLarge, GeoPatrolError, ImportFileError, ServiceBusy
from geo_patrol.core.settings import Settings
from geo_patrol.patrols.track.formats.csv_file import CsvOptions
from geo_patrol.patrols.track.read import parse_track
from geo_patrol.patrols.track.types import TrackFile

__all__ = ["ParseLimits", "ParseSlots", "parse_upload", "peak_rss_kb"]

log = logging.getLogger(__name__)
RETRY_AFTER_S = 10
EXIT_WAIT_S = 5.0  # how long a worker that closed its end without answering may take to exit
_OUT_OF_MEMORY = 3  # exit code of a worker out of memory before it could answer
_CONTEXT_LOCK = threading.Lock()
# Imported by the forkserver once, so that a worker forked from it starts ready.
_PARSERS = [
    "geo_patrol.patrols.track.formats.gpx",
    "geo_patrol.patrols.track.formats.gpx_lxml",
    "geo_patrol.patrols.track.formats.gpx_fast",
    "geo_patrol.patrols.track.formats.kml",
    "geo_patrol.patrols.track.formats.geojson_file",
    "geo_patrol.patrols.track.cleaning",
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
    data: bytes,
    *,
    filename: str,
    datum: str,
    csv_options: CsvOptions | None,
    limits: ParseLimits,
    isolated: bool,
) -> TrackFile:
    """`parse_track` with the limits, in a worker process if `isolated`, else in this one."""
    if not isolated:
        return parse_track(
            data,
            filename=filename,
            datum=datum,
            csv_options=csv_options,
            max_uncompressed_bytes=limits.max_unpacked_bytes,
        )
    return _in_worker(data, (filename, datum, csv_options, limits.max_unpacked_bytes), limits)


def _context() -> Any:
    """The forkserver context, its server importing once what every worker needs (set up
    once: the preload list is read when the server starts, at the first upload)."""
    with _CONTEXT_LOCK:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload([*_main_needs(), __name__, *_PARSERS])
        return context


@functools.cache
def _main_needs() -> list[str]:
    """What a worker would import again when multiprocessing prepares it by running the
    parent's main module, so that the forkserver imports it once instead.

    `python -m geo_patrol` (a package's __main__): nothing, multiprocessing leaves those
    alone. A main script (the `geo-patrol` console script, `pytest`): each worker runs it
    again as __mp_main__, which is cheap only if what it imports is imported already, so
    the forkserver imports its top-level imports (those this process imported too);
    "__main__" also has the forkserver run the script itself on Pythons that pass it the
    script's path (not 3.11-3.13.0). Another main module (`python -m bench.x`): that one."""
    main = sys.modules["__main__"]
    name = getattr(getattr(main, "__spec__", None), "name", None)
    if name is not None:
        return [] if name == "__main__" or name.endswith(".__main__") else [name]
    path = getattr(main, "__file__", None)
    return ["__main__", *_imports_of(path)] if path else []


def _imports_of(path: str) -> list[str]:
    """The modules a script imports at its top level that this process has imported."""
    try:
        tree = ast.parse(Path(path).read_bytes())
    except (OSError, SyntaxError, ValueError):
        return []
    names: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.append(node.module)
    return [name for name in dict.fromkeys(names) if name in sys.modules]


def _in_worker(data: bytes, args: tuple[Any, ...], limits: ParseLimits) -> TrackFile:
    """Send the file to a new worker process and rebuild what it answers."""
    filename = args[0]
    context = _context()
    ours, theirs = context.Pipe()
    process = context.Process(target=_work, args=(theirs, limits.memory_bytes), daemon=True)
    process.start()
    theirs.close()
    try:
        with suppress(BrokenPipeError, ConnectionResetError):  # it stopped reading: it says why
            ours.send(args)
            ours.send_bytes(data)
        if not ours.poll(limits.timeout_s):
            raise FileTooLarge(
                msg("problem.track.parse_timeout", filename=filename, timeout_s=limits.timeout_s),
                file=filename,
            )
        answer = ours.recv()
    except (EOFError, BrokenPipeError, ConnectionResetError):
        answer = ("died",)  # the worker ended without an answer
        process.join(EXIT_WAIT_S)  # for its own exit code, not that of the kill below
    finally:
        ours.close()
        if process.is_alive():
            process.kill()
        process.join()
    if answer == ("died",):
        log.error(
            "%s: the parse worker ended without an answer (exit code %s)",
            filename,
            process.exitcode,
        )
        # Out of memory before it could answer, or killed (by the kernel's OOM killer, or a
        # signal): the file needed too much.
        code = process.exitcode or 0
        answer = ("memory",) if code < 0 or code == _OUT_OF_MEMORY else ("crash", "no answer")
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
            msg(
                "problem.track.parse_memory",
                filename=filename,
                megabytes=limits.memory_bytes // 2**20,
            ),
            file=filename,
        )
    raise RuntimeError(f"{filename}: the parse worker failed:\n{answer[1]}")


def _work(conn: Connection, memory_bytes: int) -> None:
    """The worker: limit its memory, read one file, answer, exit (with _OUT_OF_MEMORY when
    even the answer cannot be sent)."""
    resource.setrlimit(resource.RLIMIT_DATA, (memory_bytes, memory_bytes))
    answer = _read(conn)  # what reading needed is freed on return
    try:
        conn.send(answer)
    except MemoryError:
        sys.exit(_OUT_OF_MEMORY)
    except OSError:
        pass  # the service stopped waiting
    finally:
        conn.close()


def _portable(message: Message) -> Message:
    """`message` with fields that surely cross to the service: numbers and text as they are
    (their format specs still apply), nested messages likewise, anything else (an exception
    of a library) as its text."""
    fields: dict[str, object] = {}
    for name, value in message.fields.items():
        if isinstance(value, Message):
            fields[name] = _portable(value)
        elif isinstance(value, bool | int | float | str) or value is None:
            fields[name] = value
        elif hasattr(value, "item") and callable(value.item):  # a numpy scalar
            fields[name] = value.item()
        else:
            fields[name] = str(value)
    return Message(message.key, fields)


def _read(conn: Connection) -> tuple[Any, ...]:
    """Read the file the service sends; the worker's answer."""
    try:
        filename, datum, csv_options, max_unpacked = conn.recv()
        data = conn.recv_bytes()
        track = parse_track(
            data,
            filename=filename,
            datum=datum,
            csv_options=csv_options,
            max_uncompressed_bytes=max_unpacked,
        )
        del data
        return ("ok", track, peak_rss_kb())
    except GeoPatrolError as error:
        return ("error", type(error).__name__, _portable(error.message), error.extra)
    except MemoryError:
        return ("memory",)
    except Exception:  # reported to the service, which logs it
        return ("crash", traceback.format_exc())


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
                log.warning(
                    "upload refused (503): all %d parse slots busy for %g s", self.size, self.wait_s
                )
                raise ServiceBusy(
                    msg("problem.track.parse_busy", size=self.size, retry_after_s=RETRY_AFTER_S),
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
