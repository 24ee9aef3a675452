"""The service under benchmark: `geo-patrol serve` in a subprocess on free loopback ports."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

LOOPBACK = "127.0.0.1"
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 15.0


@dataclass(frozen=True)
class Server:
    """A running service: its HTTP and OsmAnd listener base URLs, process and log file."""

    http: str
    osmand: str
    process: subprocess.Popen[bytes]
    log: Path


def free_port() -> int:
    """A TCP port on the loopback address that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def wait_until_up(
    http: str, process: subprocess.Popen[bytes], log: Path, timeout_s: float = START_TIMEOUT_S
) -> None:
    """Poll `http`/healthz until the service answers 200, or fail with the end of its log
    (the benchmarks and the tests that start `geo-patrol serve` all wait with this)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log.read_text(errors="replace")[-3000:]
            raise RuntimeError(f"geo-patrol serve exited: {tail}")
        try:
            if httpx.get(f"{http}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    tail = log.read_text(errors="replace")[-3000:]
    raise RuntimeError(f"geo-patrol serve did not answer within {timeout_s:.0f} s: {tail}")


@contextmanager
def running_service(
    database_url: str,
    data_dir: Path,
    log_file: Path,
    workers: int = 1,
    *,
    quiet: bool = False,
    settings: dict[str, str] | None = None,
    command: list[str] | None = None,
    tree: Path | None = None,
) -> Iterator[Server]:
    """`geo-patrol serve` with default settings but the number of worker processes (and, when
    `quiet`, warnings only and no background maintenance; `settings`: more GEO_PATROL_*
    values, names without the prefix); `command` instead of the venv's console script,
    `tree` first on PYTHONPATH (another checkout). Always stopped."""
    http_port, osmand_port = free_port(), free_port()
    env = {
        **os.environ,
        "GEO_PATROL_DATABASE_URL": database_url,
        "GEO_PATROL_DATA_DIR": str(data_dir),
        "GEO_PATROL_HOST": LOOPBACK,
        "GEO_PATROL_PORT": str(http_port),
        "GEO_PATROL_OSMAND_PORT": str(osmand_port),
        "GEO_PATROL_WORKERS": str(workers),
    }
    if quiet:
        env |= {"GEO_PATROL_LOG_LEVEL": "warning", "GEO_PATROL_MAINTENANCE_SECONDS": "0"}
    env |= {f"GEO_PATROL_{name.upper()}": value for name, value in (settings or {}).items()}
    if tree is not None:
        env["PYTHONPATH"] = str(tree.resolve())
    command = command or [str(Path(sys.executable).with_name("geo-patrol")), "serve"]
    with log_file.open("wb") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    server = Server(
        f"http://{LOOPBACK}:{http_port}", f"http://{LOOPBACK}:{osmand_port}", process, log_file
    )
    try:
        wait_until_up(server.http, server.process, server.log)
        yield server
    finally:
        stop(process)


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM (uvicorn shuts down gracefully), then SIGKILL if it does not exit in time."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
