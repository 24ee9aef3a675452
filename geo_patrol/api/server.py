"""`geo-patrol serve`: the HTTP service and the OsmAnd/Traccar listener, in one or more processes.

One Python process tops out at about one core of request handling. With `workers` above 1,
the parent binds the two listening sockets, then forks that many workers that each run both
servers on the same sockets (the kernel spreads connections over them), as uvicorn's own
`--workers` does; only the first worker runs the background maintenance. The parent stops
its workers on SIGINT or SIGTERM.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import re
import shutil
import signal
import socket
import sys
import tempfile

import uvicorn
from starlette.types import ASGIApp

from geo_patrol.api.connections import ConnectionGuard, protocol_for
from geo_patrol.core.settings import Settings

log = logging.getLogger(__name__)
# A device identifier in a query string (OsmAnd `id`, Traccar `deviceid`): the token itself.
DEVICE_TOKEN = re.compile(r"([?&](?:id|deviceid)=)[^&\s]*", re.IGNORECASE)


def listening_socket(host: str, port: int) -> socket.socket:
    """A bound, listening TCP socket (IPv6 when the host is an IPv6 address)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted connections inherit this: without it, a small answer waits for the client's
    # delayed ACK (about 40 ms a request on Linux).
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def hide_device_tokens(record: logging.LogRecord) -> bool:
    """Blank the device token in an access-log line of `/osmand?id=TOKEN&...` (kept: the line)."""
    if isinstance(record.args, tuple):
        record.args = tuple(
            DEVICE_TOKEN.sub(r"\1…", arg) if isinstance(arg, str) else arg for arg in record.args
        )
    return True


def run_worker(settings: Settings, sockets: list[socket.socket]) -> None:
    """Both servers of one process on already bound sockets, until they are told to stop."""
    from geo_patrol.api.app import create_app
    from geo_patrol.api.metrics import RequestMetrics
    from geo_patrol.api.routes.osmand import create_osmand_app

    main = create_app(settings)
    guard = ConnectionGuard.of(settings)
    configs = [_config(main, settings, guard, quiet=False)]
    if len(sockets) > 1:
        # No access log on 5055: a line per position would be most of the log (the batches
        # log their devices and counts), and the request line holds the device's token.
        listener = RequestMetrics(
            create_osmand_app(main), metrics=main.state.metrics, route="osmand listener"
        )
        configs.append(_config(listener, settings, guard, quiet=True))
    logging.getLogger("uvicorn.access").addFilter(hide_device_tokens)
    servers = [uvicorn.Server(config) for config in configs]
    # The modules, the app and its routes are here for good: out of the collector's sight, a
    # full collection no longer walks them. Triggered every few seconds by the objects that
    # thousands of requests a second make, it stalled every request for over 0.1 s.
    gc.collect()
    gc.freeze()

    async def run_all() -> None:
        pairs = zip(servers, sockets, strict=True)
        await asyncio.gather(*(server.serve(sockets=[sock]) for server, sock in pairs))

    asyncio.run(run_all())


def _config(
    app: ASGIApp, settings: Settings, guard: ConnectionGuard, *, quiet: bool
) -> uvicorn.Config:
    """One listener's uvicorn configuration.

    `log_config=None`: the logging is geo_patrol.core.logs's (set up by the command). The access
    log is switched off in the quiet listener's protocol, not with uvicorn's access_log=False,
    which clears the handlers of the `uvicorn.access` logger that both listeners share.
    """
    return uvicorn.Config(
        app,
        http=protocol_for(guard, quiet=quiet),
        log_config=None,
        log_level=settings.log_level,
        timeout_keep_alive=settings.http_keepalive_s,
        lifespan="off" if quiet else "auto",
    )


def serve(settings: Settings, *, host: str, port: int) -> None:
    """Bind the sockets, then run one worker here or fork `settings.workers` of them."""
    sockets = [listening_socket(host, port)]
    if settings.osmand_port:
        sockets.append(listening_socket(host, settings.osmand_port))
    if settings.workers == 1:
        run_worker(settings, sockets)
        return
    # Before any worker imports prometheus_client: their figures go to files there, added up
    # by whichever worker answers a scrape (geo_patrol.api.metrics).
    figures = tempfile.mkdtemp(prefix="geo-patrol-metrics-")
    os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", figures)
    children = []
    for number in range(settings.workers):
        pid = os.fork()
        if pid == 0:
            quiet = {} if number == 0 else {"maintenance_seconds": 0.0}
            run_worker(settings.model_copy(update=quiet), sockets)
            sys.exit(0)
        children.append(pid)
    log.info("serving with %d worker processes: %s", len(children), children)
    try:
        _wait_for(children)
    finally:
        shutil.rmtree(figures, ignore_errors=True)


def _wait_for(children: list[int]) -> None:
    """Forward SIGINT/SIGTERM to the workers and wait until every one has exited."""

    def forward(signum: int, _frame: object) -> None:
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM if signum == signal.SIGTERM else signal.SIGINT)

    signal.signal(signal.SIGINT, forward)
    signal.signal(signal.SIGTERM, forward)
    for pid in children:
        os.waitpid(pid, 0)
