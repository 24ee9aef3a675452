"""Prometheus metrics of the service, and the middleware that times requests.

Each app has its own registry (tests build many apps); `GET /metrics` (administrators)
exposes it. With several worker processes (`geo-patrol serve --workers N`), the parent sets
PROMETHEUS_MULTIPROC_DIR before any worker imports prometheus_client: every worker then
writes its counts to files there, and the one that answers a scrape adds them all up (the
pool gauges are the answering worker's own).
"""

from __future__ import annotations

import time
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from prometheus_client.values import MutexValue, ValueClass
from sqlalchemy import Engine
from sqlalchemy.pool import QueuePool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Uploads: the track upload; its outcome follows from the status it was answered with.
UPLOAD_ROUTE = ("POST", "/api/v1/patrols")
BATCH_SIZES = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000)
SLOW_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)


def upload_outcome(status: int) -> str:
    """What became of an upload answered with `status`."""
    if status == 201:
        return "stored"
    if status == 200:
        return "retry"  # the same file or upload id again: the first patrol is returned
    return "refused" if status < 500 else "failed"


class PoolCollector(Collector):
    """The connection pool's use, read when scraped."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterator[Metric]:
        """Pool size, connections in use and overflow connections open."""
        pool = self.engine.pool
        if not isinstance(pool, QueuePool):
            return
        for name, doc, value in (
            ("size", "Connections the pool keeps.", pool.size()),
            ("checked_out", "Connections in use.", pool.checkedout()),
            (
                "overflow",
                "Connections open beyond the pool size (negative: not yet opened).",
                pool.overflow(),
            ),
        ):
            yield GaugeMetricFamily(f"geo_patrol_db_pool_{name}", doc, value=value)


class Metrics:
    """The figures an operator scrapes: requests, live batches, uploads, pool, maintenance."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.pool: PoolCollector | None = None
        self._series: dict[tuple[str, str, int], Histogram] = {}
        r = self.registry
        self.requests = Histogram(
            "geo_patrol_http_request_duration_seconds",
            "HTTP requests by method, route template and status, and how long they took.",
            ["method", "route", "status"],
            registry=r,
        )
        self.batch_positions = Histogram(
            "geo_patrol_live_batch_positions",
            "Positions in each live batch (group commit).",
            buckets=BATCH_SIZES,
            registry=r,
        )
        self.batch_seconds = Histogram(
            "geo_patrol_live_batch_seconds",
            "Time to store and commit a live batch, by outcome (stored, failed).",
            ["outcome"],
            registry=r,
        )
        self.uploads = Histogram(
            "geo_patrol_upload_seconds",
            "Track uploads by outcome (stored, retry, refused, failed) and their duration.",
            ["outcome"],
            buckets=SLOW_BUCKETS,
            registry=r,
        )
        self.pool_wait = Histogram(
            "geo_patrol_db_pool_wait_seconds",
            "Time to get a working connection from the pool (waiting, connecting, pinging).",
            registry=r,
        )
        self.maintenance = Histogram(
            "geo_patrol_maintenance_seconds",
            "Background maintenance runs by outcome (ok, failed) and their duration.",
            ["outcome"],
            buckets=SLOW_BUCKETS,
            registry=r,
        )
        self.maintained = Counter(
            "geo_patrol_maintenance_items",
            "What maintenance did: live patrols closed and refreshed, incidents escalated.",
            ["action"],
            registry=r,
        )

    def watch_pool(self, engine: Engine) -> None:
        """Report the pool's use and each checkout's wait."""
        self.pool = PoolCollector(engine)
        self.registry.register(self.pool)
        pool = engine.pool
        if hasattr(pool, "observer"):
            pool.observer = self.pool_wait.observe

    def exposition(self) -> bytes:
        """The text a scrape reads: this process's figures, or all workers' together."""
        if not shared_between_workers():
            return bytes(generate_latest(self.registry))
        merged = CollectorRegistry()
        MultiProcessCollector(merged)  # type: ignore[no-untyped-call]
        if self.pool is not None:
            merged.register(self.pool)
        return bytes(generate_latest(merged))

    def live_batch(self, positions: int, seconds: float, stored: bool) -> None:
        """One live batch (the LiveWriter's observer)."""
        self.batch_positions.observe(positions)
        self.batch_seconds.labels("stored" if stored else "failed").observe(seconds)

    def maintenance_run(self, seconds: float, counts: dict[str, int] | None) -> None:
        """One maintenance run; `counts` None when it failed."""
        self.maintenance.labels("failed" if counts is None else "ok").observe(seconds)
        for action, count in (counts or {}).items():
            self.maintained.labels(action).inc(count)

    def request(self, method: str, route: str, status: int, seconds: float) -> None:
        """One HTTP request, by its route template (never its raw path: ids would make a new
        series per patrol)."""
        key = (method, route, status)
        series = self._series.get(key)
        if series is None:  # (labels() costs more than observe(): once per series)
            series = self._series[key] = self.requests.labels(method, route, str(status))
        series.observe(seconds)
        if (method, route) == UPLOAD_ROUTE:
            self.uploads.labels(upload_outcome(status)).observe(seconds)


def shared_between_workers() -> bool:
    """Whether the figures go to PROMETHEUS_MULTIPROC_DIR (set before the import)."""
    return ValueClass is not MutexValue


def route_template(scope: Scope) -> str:
    """The template of the route that answered, the mount for static files, or "unmatched"."""
    route = getattr(scope.get("route"), "path", None)
    if isinstance(route, str):
        return route
    mount = scope.get("root_path", "")
    return f"{mount}/{{path}}" if mount else "unmatched"


class RequestMetrics:
    """Time every HTTP request and count it by route and status (pure ASGI, streams through)."""

    def __init__(self, app: ASGIApp, *, metrics: Metrics, route: str | None = None) -> None:
        self.app = app
        self.metrics = metrics
        self.route = route  # for an app without routes (the 5055 listener)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request through, noting its status and duration."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started, status = time.perf_counter(), 500

        async def noting_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, noting_send)
        finally:
            route = self.route or route_template(scope)
            self.metrics.request(scope["method"], route, status, time.perf_counter() - started)
