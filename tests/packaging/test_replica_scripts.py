"""docker/initdb-replication.sh and docker/replica.sh on real clusters, as the containers run them.

A throwaway primary is made with initdb and the compose file's WAL settings; its pg_hba.conf is
what the postgis image gives a connection from another container (no line for replication).
initdb-replication.sh runs as the image runs it (as postgres, with POSTGRES_USER, POSTGRES_DB,
PGDATA); replica.sh then runs as root with `gosu` and the image's `docker-entrypoint.sh`
stood in for by two small scripts. The copy it made is started as a standby, and a row written
on the primary must arrive on it by streaming, as the replication role, with the password
from the environment that no script printed.
"""

from __future__ import annotations

import os
import pwd
import secrets
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
    free_port,
    running_as_root,
)
from tests.support.compose import COMPOSE, compose_file, server_settings

DOCKER = COMPOSE.parent
DEADLINE_S = 60
# What the postgis image's pg_hba.conf says to another container: trust on the socket, a
# password over TCP for every database, and nothing about replication connections.
IMAGE_HBA = "local all all trust\nlocal replication all trust\nhost all all all scram-sha-256\n"
GOSU = '#!/bin/sh\nuser=$1\nshift\nexec runuser -u "$user" -- "$@"\n'
ENTRYPOINT = '#!/bin/sh\necho "$@" > "$ENTRYPOINT_ARGS"\n'

pytestmark = pytest.mark.skipif(
    not running_as_root(), reason="the scripts run as root in their containers (install -o, gosu)"
)


def _as_server(args: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """Run a program as the postgres user."""
    return subprocess.run(
        ["runuser", "-u", SERVER_USER, "--", *args],
        capture_output=True,
        text=True,
        timeout=DEADLINE_S,
        check=True,
        **kwargs,
    )


@pytest.fixture(scope="module")
def root() -> Iterator[Path]:
    """A folder the server user owns; the clusters in it are stopped afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="geo-patrol-replica-", dir="/var/tmp"))
    entry = pwd.getpwnam(SERVER_USER)
    os.chown(folder, entry.pw_uid, entry.pw_gid)
    yield folder
    pg_ctl = find_server_binaries().program("pg_ctl")
    for data in (folder / "primary", folder / "replica" / "pgdata"):
        if (data / "postmaster.pid").exists():
            subprocess.run(
                [
                    "runuser",
                    "-u",
                    SERVER_USER,
                    "--",
                    pg_ctl,
                    "stop",
                    "-D",
                    str(data),
                    "-m",
                    "immediate",
                ],
                capture_output=True,
                check=False,
            )
    shutil.rmtree(folder)


def _start(bins: ServerBinaries, data: Path, root: Path, port: int, options: str = "") -> None:
    """Start a cluster on 127.0.0.1:port (its socket in root)."""
    _as_server(
        [
            bins.program("pg_ctl"),
            "start",
            "-D",
            str(data),
            "-w",
            "-t",
            str(DEADLINE_S),
            "-l",
            str(root / f"{data.parent.name}-{data.name}.log"),
            "-o",
            f"-p {port} -k {root} -c listen_addresses=127.0.0.1 {options}",
        ]
    )


def _sql(root: Path, port: int, query: str) -> list[tuple[Any, ...]]:
    """One statement on the cluster at `port`, over its socket; its rows."""
    with psycopg.connect(
        host=str(root), port=port, user="geo_patrol", dbname="postgres", autocommit=True
    ) as conn:
        cursor = conn.execute(query)
        return cursor.fetchall() if cursor.description else []


@pytest.fixture(scope="module")
def primary(root: Path) -> int:
    """The primary, with the compose file's WAL settings; its port."""
    bins = find_server_binaries()
    data = root / "primary"
    _as_server(["install", "-d", "-m", "0700", str(root / "archive" / "wal")])
    initdb = [bins.program("initdb"), "-D", str(data), "-U", "geo_patrol", "-E", "UTF8"]
    _as_server([*initdb, "--no-locale", "--no-sync", "--auth-local=trust"])
    (data / "pg_hba.conf").write_text(IMAGE_HBA)
    compose = server_settings(compose_file()["services"]["db"]["command"])
    settings = {
        name: value.replace("/archive/", f"{root}/archive/") for name, value in compose.items()
    }
    port = free_port()
    _start(bins, data, root, port, " ".join(f"-c {k}='{v}'" for k, v in settings.items()))
    return port


def test_the_replica_copies_the_primary_and_follows_it(root: Path, primary: int) -> None:
    bins = find_server_binaries()
    password = secrets.token_urlsafe(16)
    replication = {"REPLICATION_USER": "replicator", "REPLICATION_PASSWORD": password}
    made = _as_server(
        ["bash", str(DOCKER / "initdb-replication.sh")],
        env={
            **os.environ,
            **replication,
            "POSTGRES_USER": "geo_patrol",
            "POSTGRES_DB": "postgres",
            "PGDATA": str(root / "primary"),
            "PGHOST": str(root),
            "PGPORT": str(primary),
        },
    )
    assert password not in made.stdout + made.stderr
    _sql(root, primary, "SELECT pg_reload_conf()")
    _sql(root, primary, "CREATE TABLE record (i int PRIMARY KEY)")
    _sql(root, primary, "INSERT INTO record VALUES (1)")

    shims = root / "shims"
    shims.mkdir()
    for name, text in (("gosu", GOSU), ("docker-entrypoint.sh", ENTRYPOINT)):
        (shims / name).write_text(text)
        (shims / name).chmod(0o755)
    pgdata = root / "replica" / "pgdata"
    environment = {
        **os.environ,
        **replication,
        "PATH": f"{shims}:{Path(bins.program('pg_basebackup')).parent}:{os.environ['PATH']}",
        "PGDATA": str(pgdata),
        "PRIMARY_HOST": "127.0.0.1",
        "PRIMARY_PORT": str(primary),
        "ENTRYPOINT_ARGS": str(root / "entrypoint-args"),
    }
    command = ["bash", str(DOCKER / "replica.sh"), "postgres", "-c", "hot_standby=on"]
    copied = subprocess.run(
        command, env=environment, capture_output=True, text=True, timeout=DEADLINE_S, check=False
    )
    assert copied.returncode == 0, copied.stderr[-2000:]
    assert password not in copied.stdout + copied.stderr
    # The image's entrypoint is handed the command; the copy is complete and is a standby.
    assert (root / "entrypoint-args").read_text() == "postgres -c hot_standby=on\n"
    assert (pgdata / "standby.signal").exists()
    assert not (root / "replica" / "pgdata.partial").exists()
    assert pwd.getpwuid(pgdata.stat().st_uid).pw_name == SERVER_USER
    auto = (pgdata / "postgresql.auto.conf").read_text()
    assert "user=replicator" in auto and "application_name=replica" in auto
    assert "restore_command = 'cp /archive/wal/%f %p'" in auto

    port = free_port()
    _start(bins, pgdata, root, port)
    _sql(root, primary, "INSERT INTO record VALUES (2)")  # after the copy: streamed
    deadline = time.monotonic() + DEADLINE_S
    while _sql(root, port, "SELECT count(*) FROM record") != [(2,)]:
        assert time.monotonic() < deadline, "the row did not reach the replica"
        time.sleep(0.1)
    assert _sql(root, port, "SELECT pg_is_in_recovery()") == [(True,)]
    streaming = "SELECT usename, application_name, state FROM pg_stat_replication"
    assert _sql(root, primary, streaming) == [("replicator", "replica", "streaming")]

    # Started again, the replica keeps its cluster: no copy, no wait for the primary.
    (root / "entrypoint-args").unlink()
    again = subprocess.run(
        command,
        env={**environment, "PRIMARY_PORT": "1", "REPLICATION_PASSWORD": ""},
        capture_output=True,
        text=True,
        timeout=10,
        check=False,
    )
    assert again.returncode == 0, again.stderr[-2000:]
    assert (root / "entrypoint-args").read_text() == "postgres -c hot_standby=on\n"
