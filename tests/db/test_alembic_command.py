"""The `alembic` command with alembic.ini at the repository root, as a DBA would run it:
online on the settings' database, offline (`--sql`) without one, and `alembic check`."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import psycopg
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, text
from sqlalchemy.engine import make_url

from geo_patrol.db import migrate
from geo_patrol.db.engine import Base, make_engine

ROOT = Path(__file__).resolve().parents[2]
ALEMBIC = [sys.executable, "-m", "alembic", "-c", str(ROOT / "alembic.ini")]


def _alembic(*args: str, database_url: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run the alembic command from a folder outside the checkout (only alembic.ini locates
    the migrations), with GEO_PATROL_DATABASE_URL set to `database_url` or unset."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GEO_PATROL_")}
    env["PYTHONPATH"] = str(ROOT)
    if database_url is not None:
        env["GEO_PATROL_DATABASE_URL"] = database_url
    return subprocess.run(
        [*ALEMBIC, *args], cwd="/", env=env, capture_output=True, text=True, timeout=120
    )


def _head() -> str:
    """The newest revision."""
    head = ScriptDirectory.from_config(migrate.alembic_config()).get_current_head()
    assert head is not None
    return head


def _below_head() -> str:
    """The revision before the newest."""
    script = ScriptDirectory.from_config(migrate.alembic_config())
    below = script.get_revision(_head()).down_revision
    assert isinstance(below, str)
    return below


def _drift(engine: Engine) -> list[object]:
    """What autogenerate finds between geo_patrol.db.tables and the database."""
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts=migrate.COMPARE_OPTIONS)
        return list(compare_metadata(context, Base.metadata))


def _tables(engine: Engine) -> set[str]:
    """The tables of the public schema."""
    return set(inspect(engine).get_table_names())


def test_offline_sql_builds_the_same_schema_as_the_migrations(
    engine: Engine, new_database: Callable[[str], str]
) -> None:
    """`alembic upgrade head --sql` needs no database, and what it writes, run by psql or any
    client on an empty database, gives the schema `geo-patrol migrate` gives."""
    done = _alembic("upgrade", "head", "--sql")
    assert done.returncode == 0, done.stderr
    sql = done.stdout
    for table in ("jurisdictions", "members", "patrols", "patrol_points", "incidents"):
        assert f"\nCREATE TABLE {table} (" in sql, table
    assert sql.rstrip().endswith("COMMIT;")
    url = new_database("geo_patrol_offline_sql")
    conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute(sql.encode())
    offline = make_engine(url)
    try:
        assert migrate.current_revision(offline) == _head()
        assert _tables(offline) == _tables(engine)
        assert _drift(offline) == []
    finally:
        offline.dispose()


def test_alembic_upgrade_head_and_check_on_the_settings_database(
    new_database: Callable[[str], str],
) -> None:
    """`alembic upgrade head` migrates GEO_PATROL_DATABASE_URL's database; `alembic check`
    passes there, and fails on a schema one revision short stamped as head (it compares)."""
    url = new_database("geo_patrol_alembic_command")
    engine = make_engine(url)
    try:
        up = _alembic("upgrade", "head", database_url=url)
        assert up.returncode == 0, up.stderr
        assert migrate.current_revision(engine) == _head()
        check = _alembic("check", database_url=url)
        assert check.returncode == 0, check.stdout + check.stderr
        assert "No new upgrade operations detected" in check.stdout + check.stderr
        # The newest migration undone, the database still says head: check sees the gap.
        migrate.downgrade(engine, _below_head())
        with engine.begin() as connection:
            connection.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": _head()})
        check = _alembic("check", database_url=url)
        assert check.returncode != 0
        assert "New upgrade operations detected" in check.stdout + check.stderr
    finally:
        engine.dispose()


def test_drift_check_sees_a_table_the_migrations_lack(
    new_database: Callable[[str], str],
) -> None:
    """The drift comparison of test_migrations reports a difference when there is one: a
    database one revision below head lacks what the newest migration adds."""
    engine = make_engine(new_database("geo_patrol_drift_guard"))
    try:
        migrate.upgrade(engine, _below_head())
        differences = _drift(engine)
        assert differences, "a database below head compared equal to the tables"
    finally:
        engine.dispose()


def test_no_drift_between_tables_and_migrations(engine: Engine) -> None:
    """geo_patrol/db/tables.py and the migrated test database agree (autogenerate, with the
    options env.py uses): a changed table needs a migration."""
    assert migrate.current_revision(engine) == _head()
    assert _drift(engine) == []
