"""The private local PostgreSQL + PostGIS cluster used when no database URL is configured.

The cluster lives in a data folder (default ./var/pg) and is made from the PostgreSQL server
binaries already on the machine. It listens on a Unix socket inside that folder and on
127.0.0.1 only. The service connects over the socket with no password (only the owner of the
folder can reach it); TCP connections need the generated password kept beside the data.

PostgreSQL refuses to run as root, so when we are root every server command runs as the
unprivileged `postgres` system user, who must own the data folder and be able to reach it.
A checkout under a 0700 home folder is not reachable for that user: then the cluster is placed
under /var/tmp instead, keyed by the requested folder, and `geo-patrol db status` says where.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import pwd
import secrets
import shutil
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

from geo_patrol.core.catalog import msg
from geo_patrol.core.errors import EmbeddedDatabaseError

log = logging.getLogger(__name__)

SERVER_USER = "postgres"
DATABASE = "geo_patrol"
SUPERUSER = "geo_patrol"
# Unix socket paths are limited to 107 bytes; leave room for "/.s.PGSQL.NNNNN".
MAX_SOCKET_DIR = 90


@dataclass(frozen=True)
class ServerBinaries:
    """Where the PostgreSQL server programs and the PostGIS extension files are."""

    bindir: Path
    major: int

    def program(self, name: str) -> str:
        """Full path of one server program (initdb, pg_ctl, postgres)."""
        return str(self.bindir / name)


def find_server_binaries() -> ServerBinaries:
    """Find the newest PostgreSQL server with PostGIS installed, or say which package is missing."""
    candidates = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
        reverse=True,
    )
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(on_path).resolve())
    if not candidates:
        raise EmbeddedDatabaseError(msg("problem.db.server_programs_missing"))
    bindir = candidates[0].parent
    major = _server_major(bindir)
    if not _postgis_installed(bindir, major):
        raise EmbeddedDatabaseError(msg("problem.db.postgis_missing", major=major))
    return ServerBinaries(bindir=bindir, major=major)


def _server_major(bindir: Path) -> int:
    """Major version reported by `postgres --version`."""
    out = subprocess.run(
        [str(bindir / "postgres"), "--version"], capture_output=True, text=True, check=True
    ).stdout
    return int(out.split()[-1].split(".")[0])


def _postgis_installed(bindir: Path, major: int) -> bool:
    """True when postgis.control is in one of the server's extension folders."""
    folders = [
        Path(f"/usr/share/postgresql/{major}/extension"),
        bindir.parent / "share" / "extension",
        bindir.parent / "share" / "postgresql" / "extension",
    ]
    return any((folder / "postgis.control").exists() for folder in folders)


def running_as_root() -> bool:
    """True when this process is root, so server commands must change user."""
    return os.geteuid() == 0


def fallback_root(requested: Path) -> Path:
    """A reachable place for a cluster whose requested folder the server user cannot reach."""
    key = hashlib.sha256(str(requested.resolve()).encode()).hexdigest()[:12]
    return Path("/var/tmp") / f"geo-patrol-{key}" / "pg"


def server_user_can_reach(folder: Path) -> bool:
    """True when the postgres system user can enter and write `folder`."""
    probe = subprocess.run(
        ["runuser", "-u", SERVER_USER, "--", "test", "-w", str(folder), "-a", "-x", str(folder)],
        capture_output=True,
    )
    return probe.returncode == 0


def port_is_free(port: int) -> bool:
    """True when nothing listens on 127.0.0.1:port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class ClusterStatus:
    """What `geo-patrol db status` reports."""

    root: Path
    initialised: bool
    running: bool
    port: int | None
    url: str | None


class EmbeddedCluster:
    """One private cluster in a folder: create, start, stop, and the URL to reach it."""

    def __init__(self, requested_root: Path, *, preferred_port: int = 54329) -> None:
        self.requested_root = requested_root.absolute()
        self.preferred_port = preferred_port
        self.root = self._choose_root()

    @property
    def data(self) -> Path:
        """PGDATA."""
        return self.root / "data"

    @property
    def socket_dir(self) -> Path:
        """Folder of the Unix socket."""
        return self.root / "run"

    @property
    def meta_file(self) -> Path:
        """Our own record of the cluster: port and server version."""
        return self.root / "cluster.json"

    @property
    def log_file(self) -> Path:
        """Server log (where to look when start fails)."""
        return self.root / "server.log"

    def _choose_root(self) -> Path:
        """The requested folder, or a reachable stand-in when it cannot be used."""
        requested = self.requested_root
        too_long = len(str(requested / "run")) > MAX_SOCKET_DIR
        if not too_long and (not running_as_root() or _reachable_for_server(requested)):
            return requested
        root = fallback_root(requested)
        log.info("embedded cluster for %s placed at %s", requested, root)
        return root

    def initialised(self) -> bool:
        """True when the data folder holds a cluster."""
        return (self.data / "PG_VERSION").exists() and self.meta_file.exists()

    def _meta(self) -> dict[str, int]:
        """Read cluster.json."""
        return dict(json.loads(self.meta_file.read_text()))

    def port(self) -> int | None:
        """The TCP port recorded for the cluster."""
        return self._meta()["port"] if self.meta_file.exists() else None

    def url(self) -> str:
        """SQLAlchemy URL over the Unix socket (no password needed)."""
        port = self.port()
        if port is None:
            raise EmbeddedDatabaseError(msg("problem.db.no_embedded_cluster", root=self.root))
        return f"postgresql+psycopg://{SUPERUSER}@/{DATABASE}?host={self.socket_dir}&port={port}"

    def _run(self, args: list[str], *, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run a server program, as the postgres user when we are root."""
        program = Path(args[0]).name
        if running_as_root():
            args = ["runuser", "-u", SERVER_USER, "--", *args]
        done = subprocess.run(args, capture_output=True, text=True)
        if check and done.returncode != 0:
            raise EmbeddedDatabaseError(
                msg(
                    "problem.db.embedded_program_failed",
                    program=program,
                    output=(done.stderr or done.stdout).strip()[-2000:],
                    log_file=self.log_file,
                )
            )
        return done

    def running(self) -> bool:
        """True when the server of this data folder is up."""
        if not self.initialised():
            return False
        pg_ctl = find_server_binaries().program("pg_ctl")
        return self._run([pg_ctl, "status", "-D", str(self.data)], check=False).returncode == 0

    def status(self) -> ClusterStatus:
        """Where the cluster is, whether it runs, and its URL."""
        initialised = self.initialised()
        return ClusterStatus(
            root=self.root,
            initialised=initialised,
            running=self.running(),
            port=self.port(),
            url=self.url() if initialised else None,
        )

    def up(self) -> str:
        """Create the cluster if needed, start it if stopped, and return its URL."""
        binaries = find_server_binaries()
        if not self.initialised():
            self._create(binaries)
        if not self.running():
            self._start(binaries)
        return self.url()

    def down(self) -> bool:
        """Stop the server cleanly; False when it was not running."""
        if not self.running():
            return False
        pg_ctl = find_server_binaries().program("pg_ctl")
        self._run([pg_ctl, "stop", "-D", str(self.data), "-m", "fast", "-w", "-t", "60"])
        return True

    def _prepare_folders(self) -> None:
        """Make the folders, owned by the server user when we are root."""
        for folder in (self.root, self.socket_dir):
            folder.mkdir(parents=True, exist_ok=True)
            folder.chmod(0o700)
        if running_as_root():
            entry = pwd.getpwnam(SERVER_USER)
            for folder in (self.root, self.socket_dir):
                os.chown(folder, entry.pw_uid, entry.pw_gid)

    def _create(self, binaries: ServerBinaries) -> None:
        """initdb a new cluster, then create the database with PostGIS."""
        if self.data.exists() and any(self.data.iterdir()):
            raise EmbeddedDatabaseError(msg("problem.db.data_dir_not_empty", data=self.data))
        self._prepare_folders()
        password = secrets.token_urlsafe(24)
        pwfile = self.root / "password"
        pwfile.write_text(password + "\n")
        pwfile.chmod(0o600)
        if running_as_root():
            entry = pwd.getpwnam(SERVER_USER)
            os.chown(pwfile, entry.pw_uid, entry.pw_gid)
        self._run(
            [
                binaries.program("initdb"),
                "-D",
                str(self.data),
                "-U",
                SUPERUSER,
                "--pwfile",
                str(pwfile),
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                "-E",
                "UTF8",
                "--no-locale",
                "--no-sync",
            ]
        )
        self.meta_file.write_text(json.dumps({"port": self._pick_port(), "major": binaries.major}))
        self._start(binaries)
        self._create_database()

    def _pick_port(self) -> int:
        """The preferred port when free, else any free one."""
        return self.preferred_port if port_is_free(self.preferred_port) else free_port()

    def _start(self, binaries: ServerBinaries) -> None:
        """Start the server on its recorded port (moving to a free one when that is taken)."""
        port = self.port() or self.preferred_port
        if not port_is_free(port):
            port = free_port()
            self.meta_file.write_text(json.dumps({**self._meta(), "port": port}))
            log.warning("port of the embedded cluster was taken; now using %s", port)
        options = f"-p {port} -k {self.socket_dir} -c listen_addresses=127.0.0.1"
        self._run(
            [
                binaries.program("pg_ctl"),
                "start",
                "-D",
                str(self.data),
                "-w",
                "-t",
                "60",
                "-l",
                str(self.log_file),
                "-o",
                options,
            ]
        )

    def _create_database(self) -> None:
        """Create the application database and enable PostGIS in it."""
        conninfo = f"host={self.socket_dir} port={self.port()} user={SUPERUSER} dbname=postgres"
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{DATABASE}"')
        with psycopg.connect(conninfo.replace("dbname=postgres", f"dbname={DATABASE}")) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")


def fresh_database(server_url: str, name: str) -> str:
    """Drop database `name` on the server of `server_url` (closing its connections), create it
    empty, and return its URL: a benchmark's or a test run's own database on a cluster."""
    if not name.isidentifier() or not name.isascii() or name != name.lower():
        raise ValueError(f"not a plain database name: {name!r}")
    url = make_url(server_url)
    with psycopg.connect(_maintenance(server_url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return url.set(database=name).render_as_string(hide_password=False)


def drop_database(url: str) -> None:
    """Drop the database of `url` (closing whatever is still connected to it)."""
    parsed = make_url(url)
    name = parsed.database or ""
    if not name.isidentifier() or not name.isascii():
        raise ValueError(f"not a plain database name: {name!r}")
    with psycopg.connect(_maintenance(url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _maintenance(url: str) -> str:
    """The libpq URL of the `postgres` database on the server of `url`."""
    maintenance = make_url(url).set(drivername="postgresql", database="postgres")
    return maintenance.render_as_string(hide_password=False)


def _reachable_for_server(folder: Path) -> bool:
    """Create `folder` (and the log file's parent) and check the server user can use it."""
    folder.mkdir(parents=True, exist_ok=True)
    os.chown(folder, pwd.getpwnam(SERVER_USER).pw_uid, pwd.getpwnam(SERVER_USER).pw_gid)
    return server_user_can_reach(folder)
