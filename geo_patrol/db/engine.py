"""Declarative base with a naming convention, and the engine/session factories.

The service's engine never waits for the database without a bound (`Timeouts`): a new
connection gives up after the connect timeout, a statement is cancelled by the server after
the statement timeout, a server that does not answer at all (paused, or its machine gone) is
given up on the client side, and a request waits for a pooled connection only so long. Each
ends in an OperationalError or a pool TimeoutError, which the API answers with 503.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

import psycopg
from psycopg.abc import PQGen
from psycopg.errors import _WaitTimeout  # what Connection.wait(timeout=) raises
from sqlalchemy import Engine, MetaData, create_engine, event, exc, text
from sqlalchemy.engine.interfaces import DBAPIConnection, Dialect
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry, Pool, PoolProxiedConnection, QueuePool

from geo_patrol.core.catalog import msg
from geo_patrol.core.errors import DatabaseUnavailable
from geo_patrol.core.settings import Settings
from geo_patrol.db.embedded import EmbeddedCluster
from geo_patrol.db.outages import short_error

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Base class of every table; constraint names follow NAMING_CONVENTION."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def embedded_cluster(settings: Settings) -> EmbeddedCluster:
    """The private cluster that settings point at."""
    return EmbeddedCluster(settings.pg_dir, preferred_port=settings.pg_port)


def database_url(settings: Settings, *, start: bool = True) -> str:
    """The configured URL, or the embedded cluster's (started when `start`)."""
    if settings.database_url:
        return settings.database_url
    cluster = embedded_cluster(settings)
    return cluster.up() if start else cluster.url()


@dataclass(frozen=True)
class Timeouts:
    """How long the service waits for the database, in seconds."""

    connect_s: float
    statement_s: float
    pool_s: float
    pool_size: int = 10
    pool_overflow: int = 10

    @classmethod
    def of(cls, settings: Settings) -> Timeouts:
        """The timeouts configured in `settings`."""
        return cls(
            settings.db_connect_timeout_s,
            settings.db_statement_timeout_s,
            settings.db_pool_timeout_s,
            settings.db_pool_size,
            settings.db_pool_overflow,
        )

    @property
    def answer_s(self) -> float:
        """How long a statement may go unanswered before the server counts as gone: the
        server's own cancellation must have had its chance (and a connect timeout's grace)."""
        return self.statement_s + self.connect_s


class NoAnswer(psycopg.OperationalError):
    """The server did not answer within the deadline (the connection was closed)."""


class AnsweringConnection(psycopg.Connection[Any]):
    """A psycopg connection that gives up on a server that does not answer.

    PostgreSQL cancels a long statement itself (statement_timeout), but a paused or vanished
    server answers nothing, and the kernel keeps the socket open: psycopg would wait forever.
    Here every wait has a deadline; past it the connection is closed (its state is unknown)
    and an OperationalError raised, so the pool drops it and the request ends in a 503.
    """

    answer_s: float | None = None

    def wait(self, gen: PQGen[Any], interval: float = 0.1, timeout: float | None = None) -> Any:
        """Consume a generator on the connection within the answer deadline."""
        limit = timeout if timeout is not None else self.answer_s
        try:
            return super().wait(gen, interval, limit)
        except _WaitTimeout:
            self.pgconn.finish()
            raise NoAnswer(f"the database did not answer within {limit:g} s") from None

    def ping(self, seconds: float) -> None:
        """Raise when the server does not answer an empty statement within `seconds`."""
        saved, self.answer_s = self.answer_s, seconds
        try:
            self.execute(";")
        finally:
            self.answer_s = saved


class ObservedPool(QueuePool):
    """A QueuePool that reports how long each checkout took (waiting, connecting, pinging)."""

    # Its log is SQLAlchemy's pool log, under our name: at SQLAlchemy's level (a line for each
    # pooled connection dropped in an outage is not news).
    logging.getLogger(f"{__module__}.ObservedPool").setLevel(logging.WARNING)

    observer: Callable[[float], None] | None = None

    def connect(self) -> PoolProxiedConnection:
        """A connection from the pool; its wait is reported to `observer`."""
        started = time.perf_counter()
        try:
            return super().connect()
        finally:
            if self.observer is not None:
                self.observer(time.perf_counter() - started)


def make_engine(url: str, timeouts: Timeouts | None = None) -> Engine:
    """An engine for a PostgreSQL URL (psycopg 3 driver); bounded waits with `timeouts`
    (the service), the driver's defaults without (command line, migrations, tests)."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    if timeouts is None:
        return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)
    engine = create_engine(
        url,
        poolclass=ObservedPool,
        pool_size=timeouts.pool_size,
        max_overflow=timeouts.pool_overflow,
        pool_timeout=timeouts.pool_s,
        connect_args={
            "connect_timeout": max(2, math.ceil(timeouts.connect_s)),
            # No JIT: it compiled the map's queries for seconds (their estimated cost passes
            # jit_above_cost once a year of patrols is stored) to save milliseconds.
            "options": f"-c statement_timeout={round(timeouts.statement_s * 1000)} -c jit=off",
        },
    )
    _bound_waits(engine, timeouts)
    return engine


def _bound_waits(engine: Engine, timeouts: Timeouts) -> None:
    """Connect with AnsweringConnection and ping each checkout within the connect timeout."""

    @event.listens_for(engine, "do_connect")
    def connect(
        dialect: Dialect, record: ConnectionPoolEntry, cargs: Any, cparams: dict[str, Any]
    ) -> DBAPIConnection:
        connection = AnsweringConnection.connect(*cargs, **cparams)
        connection.answer_s = timeouts.answer_s
        return cast(DBAPIConnection, connection)

    @event.listens_for(engine, "checkout")
    def ping(dbapi: DBAPIConnection, record: ConnectionPoolEntry, proxy: object) -> None:
        # Instead of pool_pre_ping, whose ping would wait as long as any statement. A server
        # that does not answer fails the request at once (the pool drops the connection): a
        # new connection would only wait as long again. A connection the server closed (it
        # restarted) is replaced, and so are all the pool's older ones.
        try:
            cast(AnsweringConnection, dbapi).ping(timeouts.connect_s)
        except NoAnswer:
            raise
        except psycopg.Error as error:
            raise exc.InvalidatePoolError(str(error)) from error


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """Session factory bound to an engine."""
    return sessionmaker(engine, expire_on_commit=False)


VERSIONS = "SELECT current_setting('server_version') AS pg, postgis_lib_version() AS postgis"
# A database that cannot be reached, does not answer, or has no free connection (503).
UNREACHABLE: tuple[type[Exception], ...] = (
    exc.OperationalError,
    exc.InterfaceError,
    exc.DisconnectionError,
    exc.TimeoutError,
)


def database_versions(session: Session, *, pool: Pool) -> dict[str, str]:
    """PostgreSQL's and PostGIS's versions; DatabaseUnavailable saying what is wrong."""
    try:
        row = session.execute(text(VERSIONS)).one()
    except UNREACHABLE as error:
        reason = short_error(error)
        raise DatabaseUnavailable(
            msg("problem.db.unusable", reason=reason), database=reason, pool=pool.status()
        ) from error
    return {"postgresql": row.pg, "postgis": row.postgis}
