"""The load generator's own ceiling: the same phones against a server that answers at once.

    python -m bench ceiling [--seconds 5] [--phones 100] [--quick]

A bare ASGI app (200, empty body, no database) under uvicorn in a subprocess; the phones
of bench.live send it OsmAnd requests flat out. Whatever rate this reaches is the most the
live benchmark can show on this machine, and the latency here is the client's own share.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from collections.abc import Sequence
from typing import Any

import httpx

from bench import live
from bench.service import LOOPBACK, free_port, stop


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Answer every HTTP request with 200 and an empty body."""
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b""})


def measure(seconds: float, phones: int) -> tuple[live.LoadResult, float, float]:
    """One flat-out run against the empty server: result, server and client CPU (% of a core)."""
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "bench.ceiling:app",
            "--host",
            LOOPBACK,
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"http://{LOOPBACK}:{port}/", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        group = [live.Phone(f"gpd_ceiling-{i}", seed=i, positions=600) for i in range(phones)]
        server_cpu, client_cpu = live.cpu_seconds(server.pid), live.cpu_seconds()
        mode = f"{phones} phones, empty server (generator ceiling)"
        result = live.run_load(
            f"http://{LOOPBACK}:{port}", group, seconds=seconds, rate=None, mode=mode
        )
        server_cpu = live.cpu_seconds(server.pid) - server_cpu
        client_cpu = live.cpu_seconds() - client_cpu
    finally:
        stop(server)
    return result, 100 * server_cpu / result.seconds, 100 * client_cpu / result.seconds


def main(argv: Sequence[str] | None = None) -> None:
    """Print one Markdown table row: the generator's rate against the bare server."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--phones", type=int, default=100)
    parser.add_argument("--quick", action="store_true", help="a 2 s run")
    args = parser.parse_args(argv)
    if args.quick:
        args.seconds = 2.0
    result, server_pct, client_pct = measure(args.seconds, args.phones)
    print(
        f"| {result.mode} | {result.ok / result.seconds:,.0f}/s | "
        f"p50 {result.percentile_ms(50):.1f} ms | p99 {result.percentile_ms(99):.1f} ms | "
        f"server CPU {server_pct:.0f}% | client CPU {client_pct:.0f}% |"
    )


if __name__ == "__main__":
    main(sys.argv[1:])
