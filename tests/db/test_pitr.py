"""Point-in-time recovery as docs/operators/backups.md describes it, with docker/compose.yaml's
WAL settings.

A throwaway PostgreSQL cluster runs with the compose file's wal_level, archive_mode and
archive_command (its /archive folder moved into a temporary one); a base backup is taken with
pg_basebackup, rows are added on either side of a moment, the cluster is wiped, the base backup
unpacked, and recovery with restore_command and recovery_target_time must give back exactly the
rows committed up to that moment.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from geo_patrol.db.embedded import (
    SERVER_USER,
    ServerBinaries,
    find_server_binaries,
    running_as_root,
)
from tests.support.compose import compose_file, server_settings

DEADLINE_S = 60


def _as_server(args: list[str], *, check: bool = True) -> None:
    """Run a server program, as the postgres user when we are root."""
    if running_as_root():
        args = ["runuser", "-u", SERVER_USER, "--", *args]
    subprocess.run(args, check=check, capture_output=True, timeout=DEADLINE_S)


@pytest.fixture
def root() -> Iterator[Path]:
    """A folder the server user owns (under /var/tmp: pytest's own is private to root)."""
    folder = Path(tempfile.mkdtemp(prefix="geo-patrol-pitr-", dir="/var/tmp"))
    if running_as_root():
        entry = pwd.getpwnam(SERVER_USER)
        os.chown(folder, entry.pw_uid, entry.pw_gid)
    yield folder
    pg_ctl = find_server_binaries().program("pg_ctl")
    for data in folder.glob("data*"):
        if (data / "postmaster.pid").exists():
            _as_server([pg_ctl, "stop", "-D", str(data), "-m", "immediate", "-w"], check=False)
    shutil.rmtree(folder)


def _start(bins: ServerBinaries, root: Path, settings: dict[str, str]) -> None:
    """Start the cluster in root/data on a Unix socket only, with these settings."""
    options = " ".join(f"-c {name}='{value}'" for name, value in settings.items())
    _as_server(
        [
            bins.program("pg_ctl"),
            "start",
            "-D",
            str(root / "data"),
            "-w",
            "-t",
            str(DEADLINE_S),
            "-l",
            str(root / "server.log"),
            "-o",
            f"-p 5432 -k {root} -c listen_addresses='' {options}",
        ]
    )


def _sql(root: Path, query: str) -> list[tuple[Any, ...]]:
    """Run one statement on the cluster; its rows."""
    with psycopg.connect(
        host=str(root), port=5432, user="geo_patrol", dbname="postgres", autocommit=True
    ) as conn:
        cursor = conn.execute(query)
        return cursor.fetchall() if cursor.description else []


def _wait_for(root: Path, query: str) -> None:
    """Poll until the query answers true."""
    deadline = time.monotonic() + DEADLINE_S
    while _sql(root, query) != [(True,)]:
        assert time.monotonic() < deadline, f"not true within {DEADLINE_S} s: {query}"
        time.sleep(0.2)


def test_recovery_to_a_moment_from_the_compose_files_wal_archive(root: Path) -> None:
    bins = find_server_binaries()
    archive = root / "archive"
    for folder in (archive, archive / "wal", archive / "base"):
        _as_server(["install", "-d", "-m", "0700", str(folder)])
    compose = server_settings(compose_file()["services"]["db"]["command"])
    settings = {name: value.replace("/archive/", f"{archive}/") for name, value in compose.items()}
    _as_server(
        [
            bins.program("initdb"),
            "-D",
            str(root / "data"),
            "-U",
            "geo_patrol",
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-locale",
            "--no-sync",
        ]
    )
    _start(bins, root, settings)
    _sql(root, "CREATE TABLE record (i int PRIMARY KEY)")
    _sql(root, "INSERT INTO record VALUES (1)")
    base = archive / "base" / "b1"
    _as_server(
        [
            bins.program("pg_basebackup"),
            "-h",
            str(root),
            "-p",
            "5432",
            "-U",
            "geo_patrol",
            "-D",
            str(base),
            "-Ft",
            "-z",
            "-Xs",
            "--checkpoint=fast",
        ]
    )
    _sql(root, "INSERT INTO record VALUES (2)")
    (moment,) = _sql(root, "SELECT clock_timestamp()::text")[0]
    _sql(root, "INSERT INTO record VALUES (3)")  # committed after the moment: must not come back
    (segment,) = _sql(root, "SELECT pg_walfile_name(pg_switch_wal())")[0]
    _wait_for(root, f"SELECT last_archived_wal >= '{segment}' FROM pg_stat_archiver")
    _as_server([bins.program("pg_ctl"), "stop", "-D", str(root / "data"), "-m", "immediate"])

    # The steps of docs/operators/backups.md: keep the damaged cluster aside, unpack the base
    # backup, recover.
    os.rename(root / "data", root / "data.damaged")
    _as_server(["install", "-d", "-m", "0700", str(root / "data")])
    _as_server(["tar", "-xzf", str(base / "base.tar.gz"), "-C", str(root / "data")])
    _as_server(["tar", "-xzf", str(base / "pg_wal.tar.gz"), "-C", str(root / "data" / "pg_wal")])
    recovery = {
        "restore_command": f"cp {archive}/wal/%f %p",
        "recovery_target_time": moment,
        "recovery_target_action": "promote",
    }
    with (root / "data" / "postgresql.auto.conf").open("a") as conf:
        conf.writelines(f"{name} = '{value}'\n" for name, value in recovery.items())
    (root / "data" / "recovery.signal").touch()
    _start(bins, root, settings)
    _wait_for(root, "SELECT NOT pg_is_in_recovery()")
    assert _sql(root, "SELECT i FROM record ORDER BY i") == [(1,), (2,)]
