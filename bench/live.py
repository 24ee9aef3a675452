"""Live positions over HTTP: the real service, phones sending OsmAnd query-form requests.

The service runs as `geo-patrol serve` in a subprocess bound to free loopback ports. Each
simulated phone is one task that sends its positions one after the other (as OsmAnd does:
the next request once the previous one is answered), one second apart in GPS time.
"""

from __future__ import annotations

import asyncio
import gc
import os
import resource
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np

from bench.service import LOOPBACK
from bench.tracks import synthetic_track

REQUEST_TIMEOUT_S = 10.0  # a phone gives up on a request after this long


@dataclass
class LoadResult:
    """What the phones saw during one run."""

    mode: str
    seconds: float
    latencies_s: list[float] = field(default_factory=list)  # of the 200 answers
    statuses: Counter[str] = field(default_factory=Counter)  # "200", "503", "TimeoutError", ...

    @property
    def ok(self) -> int:
        return self.statuses["200"]

    def percentile_ms(self, q: float) -> float:
        """Latency percentile of the accepted positions, in milliseconds."""
        return (
            float(np.percentile(self.latencies_s, q)) * 1000 if self.latencies_s else float("nan")
        )


@dataclass(frozen=True)
class LiveRun:
    """One load run with what was stored and what it cost in CPU."""

    result: LoadResult
    phones: int
    rate: float | None
    stored: int | None  # None: the generator's ceiling run, against a server storing nothing
    server_cpu_pct: float
    client_cpu_pct: float


def cpu_seconds(pid: int | None = None) -> float:
    """User + system CPU seconds of a process (this one by default) and its child processes
    (the service's workers, when it runs several)."""
    if pid is None:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    own = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    children = Path(f"/proc/{pid}/task/{pid}/children")
    kids = children.read_text().split() if children.exists() else []
    return own + sum(cpu_seconds(int(kid)) for kid in kids)


class Phone:
    """One device walking the border: one fix per GPS second, times never repeating."""

    def __init__(self, token: str, seed: int, positions: int = 3600) -> None:
        track = synthetic_track(positions, seed=seed)
        self.token = token
        self.lon, self.lat = track.lon.tolist(), track.lat.tolist()
        self.first_epoch = int(track.time[0].astype("datetime64[s]").astype(np.int64))
        self.sent = 0

    def next_request(self, host: str) -> bytes:
        """The OsmAnd GET request of the next position (the walk loops, time goes on)."""
        i = self.sent % len(self.lon)
        epoch = self.first_epoch + self.sent
        self.sent += 1
        return (
            f"GET /?id={self.token}&lat={self.lat[i]:.7f}&lon={self.lon[i]:.7f}"
            f"&timestamp={epoch}&accuracy=5.0&altitude=3.0&speed=1.3&batt=87 HTTP/1.1\r\n"
            f"Host: {host}\r\n\r\n"
        ).encode()


class Connection:
    """One phone's keep-alive HTTP/1.1 connection, spoken by hand over asyncio streams.

    An HTTP client library spends more CPU per request than the service under test: httpx
    reached 1,650 requests/s against a server that answers at once. Only what the service
    and the ceiling server answer is understood: a status line, headers, a Content-Length
    (or chunked) body; `Connection: close` or any error drops the connection.
    """

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def send(self, request: bytes) -> str:
        """Send one request and read the answer; returns its status code."""
        if self.streams is None:
            self.streams = await asyncio.open_connection(self.host, self.port)
        reader, writer = self.streams
        writer.write(request)
        head = (await reader.readuntil(b"\r\n\r\n")).lower()
        status = head[9:12].decode()
        length = _header_value(head, b"content-length")
        if length:
            await reader.readexactly(int(length))
        elif _header_value(head, b"transfer-encoding") == b"chunked":
            await reader.readuntil(b"0\r\n\r\n")  # the bodies answered here are tiny
        if _header_value(head, b"connection") == b"close":
            self.close()
        return status

    def close(self) -> None:
        """Drop the connection (the next request opens a new one)."""
        if self.streams is not None:
            self.streams[1].close()
            self.streams = None


def _header_value(head: bytes, name: bytes) -> bytes | None:
    """A header's value in a lower-cased response head, or None."""
    at = head.find(b"\r\n" + name + b":")
    if at < 0:
        return None
    start = at + len(name) + 3
    return head[start : head.index(b"\r\n", start)].strip()


async def _phone_loop(
    address: tuple[str, int],
    phone: Phone,
    deadline: float,
    interval_s: float | None,
    result: LoadResult,
) -> None:
    """Send positions until the deadline; paced at `interval_s` when given, else flat out."""
    loop = asyncio.get_running_loop()
    host = f"{address[0]}:{address[1]}"
    connection = Connection(*address)
    if interval_s:
        await asyncio.sleep(interval_s * (hash(phone.token) % 1000) / 1000)  # spread the phones
    next_at = loop.time()
    try:
        while loop.time() < deadline:
            start = loop.time()
            try:
                async with asyncio.timeout(REQUEST_TIMEOUT_S):
                    outcome = await connection.send(phone.next_request(host))
            except (
                OSError,
                TimeoutError,
                asyncio.IncompleteReadError,
                asyncio.LimitOverrunError,
            ) as error:
                outcome = type(error).__name__
                connection.close()
            result.statuses[outcome] += 1
            if outcome == "200":
                result.latencies_s.append(loop.time() - start)
            if interval_s:
                next_at += interval_s
                await asyncio.sleep(max(0.0, next_at - loop.time()))
    finally:
        connection.close()


async def drive(
    base_url: str, phones: list[Phone], *, seconds: float, rate: float | None, mode: str
) -> LoadResult:
    """All phones at once for `seconds`; `rate` positions/s in total, or None for flat out.

    Each phone has a connection of its own, as real phones do.
    """
    result = LoadResult(mode=mode, seconds=seconds)
    interval = len(phones) / rate if rate else None
    url = urlsplit(base_url)
    address = (url.hostname or LOOPBACK, url.port or 80)
    loop = asyncio.get_running_loop()
    begin = loop.time()
    deadline = begin + seconds
    await asyncio.gather(
        *(_phone_loop(address, phone, deadline, interval, result) for phone in phones)
    )
    result.seconds = loop.time() - begin  # includes the requests still in flight at the end
    return result


def run_load(
    base_url: str, phones: list[Phone], *, seconds: float, rate: float | None, mode: str
) -> LoadResult:
    """`drive` on uvloop when available (less client CPU per request), with what this process
    holds already out of the garbage collector's full collections (as the service does)."""
    coroutine = drive(base_url, phones, seconds=seconds, rate=rate, mode=mode)
    gc.collect()
    gc.freeze()
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coroutine)
    else:
        return uvloop.run(coroutine)
    finally:
        gc.unfreeze()
