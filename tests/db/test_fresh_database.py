"""geo_patrol.db.embedded.fresh_database / drop_database (what the benchmarks make their
databases with) on the test server."""

from __future__ import annotations

import psycopg
import pytest
from sqlalchemy.engine import make_url

from geo_patrol.db.embedded import drop_database, fresh_database

NAME = "geo_patrol_fresh_probe"


def _plain(url: str) -> str:
    """The URL as libpq takes it."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _databases(server: str) -> set[str]:
    """Names of the server's databases."""
    with psycopg.connect(_plain(server)) as conn:
        return {row[0] for row in conn.execute("SELECT datname FROM pg_database")}


def test_fresh_database_is_empty_each_time_and_drop_removes_it(database_url: str) -> None:
    url = fresh_database(database_url, NAME)
    assert make_url(url).database == NAME
    # A table and an open connection: the next fresh_database still starts empty.
    holder = psycopg.connect(_plain(url), autocommit=True)
    holder.execute("CREATE TABLE kept (x int)")
    try:
        again = fresh_database(database_url, NAME)
    finally:
        holder.close()
    assert again == url
    with psycopg.connect(_plain(url)) as conn:
        tables = conn.execute(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
        ).fetchone()
    assert tables == (0,)
    assert NAME in _databases(database_url)
    drop_database(url)
    assert NAME not in _databases(database_url)


@pytest.mark.parametrize("name", ['x"; DROP DATABASE postgres; --', "Upper", "a-b", ""])
def test_only_plain_names_are_spliced_into_sql(database_url: str, name: str) -> None:
    with pytest.raises(ValueError, match="not a plain database name"):
        fresh_database(database_url, name)
