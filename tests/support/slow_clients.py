"""Clients that send their request a byte at a time, and requests timed beside them."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

SLOW_HEAD = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 10_000


@dataclass(frozen=True)
class SlowResult:
    """What one slow client saw: refused at once (503), closed after so long, or never."""

    refused: bool
    closed_after_s: float | None


async def slow_client(
    url: str, source: str, *, byte_every_s: float, give_up_s: float
) -> SlowResult:
    """Send a request head a byte at a time from `source` until the server closes."""
    parts = urlsplit(url)
    reader, writer = await asyncio.open_connection(
        parts.hostname, parts.port, local_addr=(source, 0)
    )
    started = time.monotonic()
    try:
        for byte in SLOW_HEAD:
            writer.write(bytes([byte]))
            try:
                answer = await asyncio.wait_for(reader.read(100), byte_every_s)
            except TimeoutError:
                if time.monotonic() - started > give_up_s:
                    return SlowResult(False, None)
                continue
            return SlowResult(answer.startswith(b"HTTP/1.1 503"), time.monotonic() - started)
    except ConnectionError:
        return SlowResult(False, time.monotonic() - started)
    finally:
        writer.close()
    return SlowResult(False, None)


async def timed_requests(
    client: httpx.AsyncClient, urls: list[tuple[str, dict[str, str]]]
) -> list[tuple[int, float]]:
    """Each request in turn: its status and seconds."""
    results = []
    for url, params in urls:
        started = time.monotonic()
        response = await client.get(url, params=params)
        results.append((response.status_code, time.monotonic() - started))
    return results


def positions(token: str, count: int, start: int) -> list[dict[str, str]]:
    """OsmAnd query strings of one phone walking east, one a second from epoch `start`."""
    return [
        {"id": token, "lat": "30.9", "lon": f"{120.6 + n * 1e-5:.5f}", "timestamp": str(start + n)}
        for n in range(count)
    ]
