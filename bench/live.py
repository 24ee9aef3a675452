"""Live positions over HTTP: the real service, phones sending OsmAnd query-form requests.

The service runs as `geo-patrol serve` in a subprocess bound to free loopback ports. Each
simulated phone is one task that sends its positions one after the other (as OsmAnd does:
the next request once the previous one is answered), one second apart in GPS time.
"""

from __future__ import annotations

import asyncio
import os
import resource
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np

from bench.tracks import synthetic_track

REQUEST_TIMEOUT_S = 10.0  # a phone gives up on a request after this long


@dataclass
class LoadResult:
    """What the phones saw during one run."""

    mode: str
    seconds: float
    latencies_s: list[float] = field(default_factory=list)  # of the 200 answers
    statuses: Counter[str] = field(default_factory=Counter)  # "200", "500", "ReadTimeout", ...

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
    stored: int
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

    def next_url(self, base_url: str) -> str:
        """The OsmAnd request of the next position (the walk loops, time goes on).

        Built as one string: the token is URL-safe and the rest are numbers, and letting
        httpx merge a params dict costs the client more CPU than the server spends.
        """
        i = self.sent % len(self.lon)
        epoch = self.first_epoch + self.sent
        self.sent += 1
        return (
            f"{base_url}/?id={self.token}&lat={self.lat[i]:.7f}&lon={self.lon[i]:.7f}"
            f"&timestamp={epoch}&accuracy=5.0&altitude=3.0&speed=1.3&batt=87"
        )


async def _phone_loop(
    client: httpx.AsyncClient, base_url: str, phone: Phone, deadline: float,
    interval_s: float | None,
    result: LoadResult,
) -> None:  # fmt: skip
    """Send positions until the deadline; paced at `interval_s` when given, else flat out."""
    loop = asyncio.get_running_loop()
    if interval_s:
        await asyncio.sleep(interval_s * (hash(phone.token) % 1000) / 1000)  # spread the phones
    next_at = loop.time()
    while loop.time() < deadline:
        start = loop.time()
        try:
            response = await client.get(phone.next_url(base_url))
            outcome = str(response.status_code)
        except httpx.HTTPError as error:
            outcome = type(error).__name__
        result.statuses[outcome] += 1
        if outcome == "200":
            result.latencies_s.append(loop.time() - start)
        if interval_s:
            next_at += interval_s
            await asyncio.sleep(max(0.0, next_at - loop.time()))


async def drive(
    base_url: str, phones: list[Phone], *, seconds: float, rate: float | None, mode: str
) -> LoadResult:  # fmt: skip
    """All phones at once for `seconds`; `rate` positions/s in total, or None for flat out.

    Each phone has a client of its own (one keep-alive connection), as real phones do: one
    AsyncClient shared by 100 connections spends so much CPU on its pool that it could not
    send 200 requests/s to a server that answers instantly.
    """
    result = LoadResult(mode=mode, seconds=seconds)
    interval = len(phones) / rate if rate else None
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    clients = [httpx.AsyncClient(limits=limits, timeout=REQUEST_TIMEOUT_S) for _ in phones]
    try:
        loop = asyncio.get_running_loop()
        begin = loop.time()
        deadline = begin + seconds
        await asyncio.gather(
            *(
                _phone_loop(client, base_url, phone, deadline, interval, result)
                for client, phone in zip(clients, phones, strict=True)
            )
        )
        result.seconds = loop.time() - begin  # includes the requests still in flight at the end
    finally:
        await asyncio.gather(*(client.aclose() for client in clients))
    return result


def run_load(
    base_url: str, phones: list[Phone], *, seconds: float, rate: float | None, mode: str
) -> LoadResult:  # fmt: skip
    """`drive` on uvloop when available (less client CPU per request)."""
    coroutine = drive(base_url, phones, seconds=seconds, rate=rate, mode=mode)
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coroutine)
    return uvloop.run(coroutine)
