"""The real service for the tests here: `python -m geo_patrol serve` in a subprocess.

Bound to free loopback ports, with its log in a file, configured through the environment
as an operator would; stopped (SIGTERM, or SIGKILL by the fault tests) by the test.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text

from bench.service import wait_until_up
from geo_patrol.db.engine import make_engine, make_sessionmaker
from tests.support.paths import ROOT

LOOPBACK = "127.0.0.1"
START_TIMEOUT_S = 60.0


def free_port() -> int:
    """A loopback TCP port nothing listens on now."""
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


@dataclass
class Service:
    """A running `geo-patrol serve`: its two base URLs, process and log file."""

    http: str
    osmand: str
    process: subprocess.Popen[bytes]
    log: Path

    def log_text(self) -> str:
        """What the service has logged so far."""
        return self.log.read_text(errors="replace")

    def wait_until_up(self) -> None:
        """Poll /healthz until it answers 200 (or fail with the end of the log)."""
        wait_until_up(self.http, self.process, self.log, START_TIMEOUT_S)

    def stop(self, sig: signal.Signals = signal.SIGTERM) -> None:
        """Send `sig` and wait for the process (SIGKILL if it does not end in 15 s)."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_service(
    database_url: str,
    folder: Path,
    *,
    name: str = "service",
    ports: tuple[int, int] | None = None,
    settings: dict[str, str] | None = None,
) -> Service:
    """Start the service on `ports` (free ones by default) with `settings` (GEO_PATROL_*
    variables without the prefix). Free ports are chosen before the service binds them:
    when another process (another xdist worker) took one meanwhile, the service is started
    again on others."""
    for attempt in range(PORT_ATTEMPTS):
        try:
            return _start(database_url, folder, name, ports, settings)
        except PortTaken:
            if ports is not None or attempt == PORT_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


PORT_ATTEMPTS = 3


class PortTaken(RuntimeError):
    """The service could not bind a port chosen for it."""


def _start(
    database_url: str,
    folder: Path,
    name: str,
    ports: tuple[int, int] | None,
    settings: dict[str, str] | None,
) -> Service:
    """One attempt of start_service."""
    http_port, osmand_port = ports or (free_port(), free_port())
    environment = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "GEO_PATROL_DATABASE_URL": database_url,
        "GEO_PATROL_DATA_DIR": str(folder / "data"),
        "GEO_PATROL_HOST": LOOPBACK,
        "GEO_PATROL_PORT": str(http_port),
        "GEO_PATROL_OSMAND_PORT": str(osmand_port),
        "GEO_PATROL_MAINTENANCE_SECONDS": "0",
    }
    environment |= {f"GEO_PATROL_{key.upper()}": value for key, value in (settings or {}).items()}
    log = folder / f"{name}.log"
    start = log.stat().st_size if log.exists() else 0
    with log.open("ab") as out:
        command = [sys.executable, "-m", "geo_patrol", "serve"]
        process = subprocess.Popen(
            command, cwd=folder, env=environment, stdout=out, stderr=subprocess.STDOUT
        )
    service = Service(
        f"http://{LOOPBACK}:{http_port}", f"http://{LOOPBACK}:{osmand_port}", process, log
    )
    try:
        service.wait_until_up()
    except BaseException as error:
        service.stop(signal.SIGKILL)
        with log.open("rb") as written:
            written.seek(start)
            if b"address already in use" in written.read().lower():
                raise PortTaken(str(error)) from error
        raise
    return service


@contextmanager
def running_service(database_url: str, folder: Path, **env: str) -> Iterator[Service]:
    """The service for the duration of a `with` block."""
    service = start_service(database_url, folder, settings=env)
    try:
        yield service
    finally:
        service.stop()


def admin_token(url: str) -> str:
    """A bearer token of the demo administrator."""
    from geo_patrol.accounts.members import issue_api_token

    engine = make_engine(url)
    try:
        with make_sessionmaker(engine)() as session, session.begin():
            admin = session.execute(
                text("SELECT id FROM members WHERE login = 'admin'")
            ).scalar_one()
            return issue_api_token(session, member_id=admin, label="metrics", days=1, address=None)
    finally:
        engine.dispose()
