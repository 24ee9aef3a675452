"""Load on `POST /api/v1/incidents`: closed loop (throughput) and open loop (latency).

The HTTP/1.1 is spoken by hand (`bench.live.Connection`, keep-alive), as the live benchmark
does: httpx spent more CPU per request than a bare FastAPI endpoint, and the client shares
the 2 cores with the servers it measures.

- **closed loop**: `clients` connections, each sending its next report once the previous one
  is answered, for `seconds`: the most the server takes (requests/s of 201 answers).
- **open loop**: reports sent on a fixed schedule (`rate` per second, the n-th at
  start + n / rate) whether or not earlier ones were answered, each on an idle keep-alive
  connection or a new one; latency is counted from the *scheduled* time, so a server (or a
  generator) that falls behind shows it in the latency, not as a lower rate (no coordinated
  omission). `late_ms` is how far behind its schedule the generator itself sent.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from bench.live import Connection

REQUEST_TIMEOUT_S = 10.0
PATH = "/api/v1/incidents"
ERRORS = (OSError, TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError)


@dataclass
class ApiLoad:
    """What the clients saw during one run."""

    name: str
    mode: str  # "closed, 32 clients" / "open, 100/s"
    seconds: float = 0.0
    latencies_s: list[float] = field(default_factory=list)  # of the 201 answers
    late_s: list[float] = field(default_factory=list)  # open loop: send time - scheduled time
    statuses: Counter[str] = field(default_factory=Counter)

    @property
    def created(self) -> int:
        return self.statuses["201"]

    @property
    def errors(self) -> int:
        return sum(self.statuses.values()) - self.created

    @property
    def rate(self) -> float:
        """201 answers per second."""
        return self.created / self.seconds if self.seconds else 0.0

    def percentile_ms(self, q: float, values: list[float] | None = None) -> float:
        """A latency percentile of the 201 answers (or of `values`), in milliseconds."""
        data = self.latencies_s if values is None else values
        return float(np.percentile(data, q)) * 1000 if data else float("nan")


def report_request(host: str, token: str | None, body: dict[str, object]) -> bytes:
    """The POST request of one report."""
    payload = json.dumps(body).encode()
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    head = (
        f"POST {PATH} HTTP/1.1\r\nHost: {host}\r\n{auth}Content-Type: application/json\r\n"
        f"Content-Length: {len(payload)}\r\n\r\n"
    )
    return head.encode() + payload


Bodies = Callable[[int], dict[str, object]]  # request number -> JSON body


async def _send(connection: Connection, request: bytes) -> str:
    """One request on a connection: its status, or the error's name (connection dropped)."""
    try:
        async with asyncio.timeout(REQUEST_TIMEOUT_S):
            return await connection.send(request)
    except ERRORS as error:
        connection.close()
        return type(error).__name__


async def closed_loop(
    address: tuple[str, int],
    tokens: list[str | None],
    bodies: Bodies,
    seconds: float,
    load: ApiLoad,
) -> ApiLoad:
    """One client per token, flat out, each on its own keep-alive connection."""
    loop = asyncio.get_running_loop()
    host = f"{address[0]}:{address[1]}"
    counter = iter(range(10**9))
    deadline = loop.time() + seconds

    async def client(token: str | None) -> None:
        connection = Connection(*address)
        try:
            while loop.time() < deadline:
                start = loop.time()
                status = await _send(connection, report_request(host, token, bodies(next(counter))))
                load.statuses[status] += 1
                if status == "201":
                    load.latencies_s.append(loop.time() - start)
        finally:
            connection.close()

    begin = loop.time()
    await asyncio.gather(*(client(token) for token in tokens))
    load.seconds = loop.time() - begin
    return load


async def open_loop(
    address: tuple[str, int],
    tokens: list[str | None],
    bodies: Bodies,
    *,
    rate: float,
    seconds: float,
    load: ApiLoad,
) -> ApiLoad:
    """`rate` reports a second on a fixed schedule for `seconds`, whatever the answers."""
    loop = asyncio.get_running_loop()
    host = f"{address[0]}:{address[1]}"
    idle: list[Connection] = []

    async def one(number: int, scheduled: float) -> None:
        load.late_s.append(loop.time() - scheduled)
        connection = idle.pop() if idle else Connection(*address)
        token = tokens[number % len(tokens)]
        status = await _send(connection, report_request(host, token, bodies(number)))
        load.statuses[status] += 1
        if status == "201":
            load.latencies_s.append(loop.time() - scheduled)
        if connection.streams is not None:
            idle.append(connection)

    begin = loop.time() + 0.01
    tasks = []
    for number in range(round(rate * seconds)):
        scheduled = begin + number / rate
        await asyncio.sleep(max(0.0, scheduled - loop.time()))
        tasks.append(asyncio.create_task(one(number, scheduled)))
    await asyncio.gather(*tasks)
    load.seconds = loop.time() - begin
    for connection in idle:
        connection.close()
    return load


def run(coroutine_factory: Callable[[], Coroutine[Any, Any, ApiLoad]]) -> ApiLoad:
    """Run a load on uvloop when it is there (less client CPU per request)."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coroutine_factory())
    return uvloop.run(coroutine_factory())
