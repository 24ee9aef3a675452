"""A real streaming replica of the test cluster, for the read-replica tests.

`Standby.of(url)` takes a base backup of the test cluster (the server of `url`) with
`pg_basebackup -R` (which writes standby.signal and primary_conninfo: streaming replication
over the primary's Unix socket, as its superuser; the embedded cluster's pg_hba trusts local
replication connections, and PostgreSQL's defaults give wal_level=replica and 10 WAL
senders), then starts it as a hot standby on a port and socket of its own. Every server
program runs as the postgres user (as the embedded cluster's do); `remove` stops only this
standby, by its data folder, and deletes it.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy.engine import make_url

from geo_patrol.db.embedded import (
    SERVER_USER,
    SUPERUSER,
    find_server_binaries,
    free_port,
    running_as_root,
)

DEADLINE_S = 120


def _as_server(
    args: list[str], *, check: bool = True, password: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a server program, as the postgres user when we are root."""
    if running_as_root():
        args = ["runuser", "-u", SERVER_USER, "--", *args]
    env = {**os.environ, "PGPASSWORD": password} if password else None
    done = subprocess.run(args, capture_output=True, text=True, timeout=DEADLINE_S, env=env)
    if check and done.returncode != 0:
        raise RuntimeError(f"{Path(args[0]).name} failed: {done.stderr or done.stdout}")
    return done


@dataclass
class Standby:
    """A hot standby of the embedded test cluster, in a folder of its own."""

    root: Path
    port: int

    @property
    def data(self) -> Path:
        """PGDATA of the standby."""
        return self.root / "data"

    @classmethod
    def of(cls, primary_url: str) -> Standby:
        """Base-back-up the server of `primary_url` (the test cluster) into a new standby and
        start it."""
        primary = make_url(primary_url)
        # Under /var/tmp: the server user must reach it, and the socket path must stay short.
        root = Path(tempfile.mkdtemp(prefix="gp-replica-", dir="/var/tmp"))
        if running_as_root():
            entry = pwd.getpwnam(SERVER_USER)
            os.chown(root, entry.pw_uid, entry.pw_gid)
        standby = cls(root=root, port=free_port())
        bins = find_server_binaries()
        _as_server(
            [
                bins.program("pg_basebackup"),
                f"--host={primary.query.get('host') or primary.host}",
                f"--port={primary.query.get('port') or primary.port or 5432}",
                f"--username={primary.username or SUPERUSER}",
                f"--pgdata={standby.data}",
                "--write-recovery-conf",
                "--wal-method=stream",
                "--checkpoint=fast",
                "--no-sync",
            ],
            password=primary.password,
        )
        standby.start()
        return standby

    def start(self) -> None:
        """Start the standby (pg_ctl waits until it accepts read-only connections)."""
        options = f"-p {self.port} -k {self.root} -c listen_addresses='' -c hot_standby=on"
        _as_server(
            [
                find_server_binaries().program("pg_ctl"),
                "start",
                "-D",
                str(self.data),
                "-w",
                "-t",
                str(DEADLINE_S),
                "-l",
                str(self.root / "server.log"),
                "-o",
                options,
            ]
        )

    def stop(self) -> None:
        """Stop the standby (this one only: by its data folder)."""
        pg_ctl = find_server_binaries().program("pg_ctl")
        _as_server([pg_ctl, "stop", "-D", str(self.data), "-m", "fast", "-w"])

    def remove(self) -> None:
        """Stop the standby if it runs, and delete its folder."""
        if (self.data / "postmaster.pid").exists():
            pg_ctl = find_server_binaries().program("pg_ctl")
            _as_server([pg_ctl, "stop", "-D", str(self.data), "-m", "immediate", "-w"])
        shutil.rmtree(self.root, ignore_errors=True)

    def url(self, database: str) -> str:
        """SQLAlchemy URL of `database` on the standby, over its Unix socket."""
        return f"postgresql+psycopg://{SUPERUSER}@/{database}?host={self.root}&port={self.port}"

    def sql(self, query: str) -> Any:
        """The first column of the first row of `query` run on the standby."""
        with psycopg.connect(
            host=str(self.root), port=self.port, user=SUPERUSER, dbname="postgres", autocommit=True
        ) as conn:
            row = conn.execute(query).fetchone()
            return row[0] if row else None

    def pause(self) -> None:
        """Pause WAL replay (what arrives from the primary waits), until `resume`."""
        self.sql("SELECT pg_wal_replay_pause()")

    def resume(self) -> None:
        """Resume WAL replay."""
        self.sql("SELECT pg_wal_replay_resume()")

    def wait_replayed(self, position: str) -> None:
        """Wait until the standby has replayed the primary's WAL up to `position`."""
        deadline = time.monotonic() + DEADLINE_S
        query = f"SELECT pg_last_wal_replay_lsn() >= '{position}'::pg_lsn"
        while not self.sql(query):
            assert time.monotonic() < deadline, f"the standby did not reach {position}"
            time.sleep(0.05)
