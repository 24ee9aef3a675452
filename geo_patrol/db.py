"""Declarative base with a naming convention, and the engine/session factories."""

from __future__ import annotations

from sqlalchemy import Engine, MetaData, create_engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from geo_patrol.embedded import EmbeddedCluster
from geo_patrol.settings import Settings

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


def make_engine(url: str) -> Engine:
    """An engine for a PostgreSQL URL (psycopg 3 driver)."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """Session factory bound to an engine."""
    return sessionmaker(engine, expire_on_commit=False)
