"""Every migration upgrades and downgrades, and the models match the migrated schema."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from geoalchemy2 import alembic_helpers
from sqlalchemy import inspect

from geo_patrol import migrate
from geo_patrol.db import Base, make_engine
from tests.conftest import fresh_database


def revisions() -> list[str]:
    """All revisions, oldest first."""
    script = ScriptDirectory.from_config(migrate.alembic_config())
    return [rev.revision for rev in reversed(list(script.walk_revisions()))]


def test_each_migration_upgrades_and_downgrades() -> None:
    engine = make_engine(fresh_database("geo_patrol_migrations"))
    try:
        steps = revisions()
        assert steps[0] == "0001"
        for previous, revision in zip(["base", *steps], steps, strict=False):
            migrate.upgrade(engine, revision)
            assert migrate.current_revision(engine) == revision
            migrate.downgrade(engine, previous)
            assert migrate.current_revision(engine) == (None if previous == "base" else previous)
            migrate.upgrade(engine, revision)
        migrate.downgrade(engine, "base")
        tables = set(inspect(engine).get_table_names()) - {"alembic_version", "spatial_ref_sys"}
        assert tables == set()
    finally:
        engine.dispose()


def test_models_match_migrated_schema(engine: object) -> None:
    from sqlalchemy import Engine

    assert isinstance(engine, Engine)
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={"include_object": alembic_helpers.include_object, "compare_type": True},
        )
        differences = compare_metadata(context, Base.metadata)
    assert differences == []
