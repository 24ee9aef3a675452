"""Backups: one tar archive holding a pg_dump of the database and the stored files, with checksums.

The archive (plain tar) holds, in this order:

- ``database.dump``: ``pg_dump --format=custom`` of the whole database;
- ``uploads/<sha[:2]>/<sha>`` and ``photos/<sha[:2]>/<sha>``: the original uploaded track files
  and incident photos exactly as stored under the data folder (named by their SHA-256);
- ``manifest.json`` (last): format, time, server version, schema revision, row counts, and the
  size and SHA-256 of every other member. `geo_patrol.db.restore` refuses an archive that does not
  match it.

The dump and the row counts come from one exported snapshot. Stored files are written before
the row that names them is committed and are never changed or removed, so copying the folders
after the snapshot was taken finds every file the dump refers to (and perhaps a few newer ones,
which are harmless). The client programs are those of the server's major version; a password
is handed to them in PGPASSWORD, never on a command line.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Final

import psycopg
from psycopg import sql
from sqlalchemy.engine import URL, make_url

from geo_patrol.core.catalog import msg
from geo_patrol.core.errors import GeoPatrolError
from geo_patrol.core.settings import Settings
from geo_patrol.db.embedded import find_server_binaries

ARCHIVE_FORMAT: Final = "geo-patrol-backup"
FORMAT_VERSION: Final = 1
MANIFEST: Final = "manifest.json"
DUMP: Final = "database.dump"
# Folders of the data folder whose files are named by their SHA-256: <folder>/<sha[:2]>/<sha>.
FILE_FOLDERS: Final = ("uploads", "photos")
STORED_NAME: Final = re.compile(r"(uploads|photos)/([0-9a-f]{2})/(\2[0-9a-f]{62})")
# Tables whose row counts the manifest and the reports show (the record that must survive).
COUNTED: Final = (
    "patrols",
    "patrol_points",
    "uploads",
    "incidents",
    "incident_events",
    "incident_photos",
    "members",
    "devices",
)
_CHUNK: Final = 1 << 20


class BackupError(GeoPatrolError):
    """A backup cannot be written or an archive cannot be restored; the detail says why."""

    status = 500
    title_key = "error.backup_failed"


@dataclass(frozen=True)
class PgTarget:
    """A database as libpq client programs reach it: a URI without the password, and the
    password apart (for PGPASSWORD / psycopg's keyword), so it never shows in a process list."""

    uri: str
    password: str | None
    database: str

    @classmethod
    def from_url(cls, url: str) -> PgTarget:
        """From a SQLAlchemy or libpq URL."""
        parsed = make_url(url)
        if not parsed.database:
            raise BackupError(msg("problem.db.url_without_database"))
        query = dict(parsed.query)
        password = parsed.password or query.pop("password", None)
        # URL.set(password=None) would keep the password: build the URL without it instead.
        bare = URL.create(
            "postgresql",
            username=parsed.username,
            host=parsed.host,
            port=parsed.port,
            database=parsed.database,
            query=query,
        )
        plain = None if password is None else str(password)
        return cls(bare.render_as_string(hide_password=False), plain, parsed.database)

    def on(self, database: str) -> PgTarget:
        """The same server, another database."""
        uri = make_url(self.uri).set(database=database).render_as_string(hide_password=False)
        return PgTarget(uri, self.password, database)

    def env(self) -> dict[str, str]:
        """Environment of a client program: ours, plus the password when the URL has one."""
        env = dict(os.environ)
        if self.password is not None:
            env["PGPASSWORD"] = self.password
        return env

    def connect(self, *, autocommit: bool = False) -> psycopg.Connection[Any]:
        """A psycopg connection (the password passed as a keyword, not in the URI)."""
        if self.password is None:
            return psycopg.connect(self.uri, autocommit=autocommit)
        return psycopg.connect(self.uri, autocommit=autocommit, password=self.password)


@contextmanager
def database_errors(target: PgTarget) -> Iterator[None]:
    """Database errors (unreachable server, missing rights) as a BackupError naming the database."""
    try:
        yield
    except psycopg.Error as exc:
        raise BackupError(
            msg("problem.db.database_error", database=target.database, error=str(exc).strip())
        ) from exc


def server_major(target: PgTarget) -> int:
    """The server's major version (15 for 15.4)."""
    with target.connect(autocommit=True) as conn:
        row = conn.execute("SHOW server_version_num").fetchone()
    assert row is not None
    return int(row[0]) // 10000


def client_program(settings: Settings, name: str, *, major: int) -> str:
    """pg_dump or pg_restore of the server's major version, or a clear error.

    The embedded cluster's own server binaries are used for it; for an external database the
    folder GEO_PATROL_PG_BINDIR, else the program on PATH."""
    if settings.pg_bindir is not None:
        program: str | None = str(settings.pg_bindir / name)
    elif settings.database_url is None:
        program = find_server_binaries().program(name)
    else:
        program = shutil.which(name)
    if program is None or not Path(program).is_file():
        raise BackupError(msg("problem.db.client_not_found", name=name, major=major))
    found = program_major(program)
    if found != major:
        raise BackupError(
            msg("problem.db.client_version_mismatch", program=program, found=found, major=major)
        )
    return program


def program_major(program: str) -> int:
    """Major version that `program --version` reports ("pg_dump (PostgreSQL) 15.18 (...)")."""
    out = subprocess.run([program, "--version"], capture_output=True, text=True, check=False)
    match = re.search(r"\)\s+(\d+)", out.stdout)
    if out.returncode != 0 or match is None:
        raise BackupError(
            msg(
                "problem.db.client_version_unknown",
                program=program,
                output=out.stdout or out.stderr,
            )
        )
    return int(match.group(1))


def run_client(args: list[str], *, target: PgTarget) -> None:
    """Run a client program (no password in `args`); its stderr becomes the error."""
    done = subprocess.run(args, env=target.env(), capture_output=True, text=True, check=False)
    if done.returncode != 0:
        message = (done.stderr or done.stdout).strip()[-2000:]
        raise BackupError(
            msg("problem.db.program_failed", name=Path(args[0]).name, message=message)
        )


def table_counts(conn: psycopg.Connection[Any]) -> dict[str, int]:
    """Rows of each COUNTED table that exists."""
    present = {
        row[0]
        for row in conn.execute(
            "SELECT relname FROM pg_class WHERE relkind IN ('r', 'p') AND relname = ANY(%s) "
            "AND pg_table_is_visible(oid)",
            [list(COUNTED)],
        )
    }
    counts = {}
    for name in (table for table in COUNTED if table in present):
        row = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(name)))
        counts[name] = int(row.fetchone()[0])  # type: ignore[index]
    return counts


def schema_revision(conn: psycopg.Connection[Any]) -> str | None:
    """Alembic revision of the schema, None when there is none."""
    if conn.execute("SELECT to_regclass('alembic_version')").fetchone() == (None,):
        return None
    row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    return str(row[0]) if row else None


def stored_files(data_dir: Path) -> Iterator[tuple[str, Path]]:
    """(archive name, path) of every stored upload and photo, in name order.

    Temporary files of writes in progress (".<random>.part") are not stored files."""
    for folder in FILE_FOLDERS:
        root = data_dir / folder
        if not root.is_dir():
            continue
        for path in sorted(root.glob("??/*")):
            name = path.relative_to(data_dir).as_posix()
            if path.is_file() and STORED_NAME.fullmatch(name):
                yield name, path


class HashingReader:
    """A file wrapper that hashes what is read through it."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.sha256 = hashlib.sha256()
        self.size = 0

    def read(self, size: int = -1) -> bytes:
        """Read and hash."""
        data = self.raw.read(size)
        self.sha256.update(data)
        self.size += len(data)
        return data


@dataclass
class BackupReport:
    """What went into an archive, and what a person should know about."""

    path: Path
    manifest: dict[str, Any]
    warnings: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """A few lines for the terminal."""
        files = self.manifest["files"]
        stored = [entry for entry in files if entry["name"] != DUMP]
        counts = ", ".join(f"{n} {table}" for table, n in self.manifest["counts"].items())
        total = self.path.stat().st_size
        return (
            f"backup {self.path}: database {self.manifest['database']} (PostgreSQL "
            f"{self.manifest['server_version']}, schema {self.manifest['schema_revision']}): "
            f"{counts}; {len(stored)} stored files "
            f"({sum(entry['bytes'] for entry in stored)} bytes); {total} bytes in all"
        )


def backup(settings: Settings, *, url: str, archive: Path) -> BackupReport:
    """Write `archive`: the dump, the stored files and the manifest (atomically: a failed backup
    leaves no file under that name)."""
    target = PgTarget.from_url(url)
    archive = archive.absolute()
    with database_errors(target):
        pg_dump = client_program(settings, "pg_dump", major=server_major(target))
        archive.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=archive.parent, prefix=".geo-patrol-backup-") as tmp:
            dump = Path(tmp) / DUMP
            manifest = _dump(target, pg_dump, dump)
            part = Path(tmp) / "archive.tar"
            warnings = _write_archive(part, dump, settings.data_dir, manifest)
            os.replace(part, archive)
    _fsync_folder(archive.parent)
    return BackupReport(archive, manifest, warnings)


def _dump(target: PgTarget, pg_dump: str, dump: Path) -> dict[str, Any]:
    """pg_dump into `dump` from one snapshot, and the manifest's facts from the same snapshot."""
    # autocommit: psycopg sends no BEGIN of its own, so this one sets the isolation level.
    with target.connect(autocommit=True) as conn:
        conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        snapshot = conn.execute("SELECT pg_export_snapshot()").fetchone()[0]  # type: ignore[index]
        facts: dict[str, Any] = {
            "format": ARCHIVE_FORMAT,
            "version": FORMAT_VERSION,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "database": target.database,
            "server_version": conn.execute("SHOW server_version").fetchone()[0],  # type: ignore[index]
            "server_major": conn.info.server_version // 10000,
            "schema_revision": schema_revision(conn),
            "counts": table_counts(conn),
            "referenced": _referenced_files(conn),
        }
        run_client(
            [
                pg_dump,
                "--format=custom",
                f"--snapshot={snapshot}",
                f"--file={dump}",
                f"--dbname={target.uri}",
            ],
            target=target,
        )
        conn.execute("ROLLBACK")
    return facts


def _referenced_files(conn: psycopg.Connection[Any]) -> list[str]:
    """Archive names of the stored files that rows refer to."""
    names: list[str] = []
    for folder, table in (("uploads", "uploads"), ("photos", "incident_photos")):
        if conn.execute("SELECT to_regclass(%s)", [table]).fetchone() == (None,):
            continue
        query = sql.SQL("SELECT DISTINCT sha256 FROM {} ORDER BY 1").format(sql.Identifier(table))
        names += [f"{folder}/{sha[:2]}/{sha}" for (sha,) in conn.execute(query)]
    return names


def _write_archive(part: Path, dump: Path, data_dir: Path, manifest: dict[str, Any]) -> list[str]:
    """Write the tar; fill in the manifest's member list; return warnings."""
    referenced = set(manifest.pop("referenced"))
    entries: list[dict[str, Any]] = []
    with tarfile.open(part, "w", format=tarfile.PAX_FORMAT) as tar:
        entries.append(_add_file(tar, DUMP, dump))
        for name, path in stored_files(data_dir):
            entries.append(_add_file(tar, name, path))
        manifest["files"] = entries
        body = json.dumps(manifest, indent=1, ensure_ascii=False).encode()
        _add_bytes(tar, MANIFEST, body)
    with part.open("rb") as written:
        os.fsync(written.fileno())
    return _warnings(entries, referenced, data_dir)


def _warnings(entries: list[dict[str, Any]], referenced: set[str], data_dir: Path) -> list[str]:
    """Files the database names but the data folder lacks, and files whose bytes no longer match
    their name (damaged on disk before this backup; archived as they are)."""
    stored = {entry["name"]: entry["sha256"] for entry in entries if entry["name"] != DUMP}
    warnings = [
        f"{name} is named in the database but missing from {data_dir}"
        for name in sorted(referenced - stored.keys())
    ]
    warnings += [
        f"{name} does not match its checksum (damaged before this backup)"
        for name, sha in stored.items()
        if not name.endswith(sha)
    ]
    return warnings


def _add_file(tar: tarfile.TarFile, name: str, path: Path) -> dict[str, Any]:
    """Add one file, hashing it on the way; its manifest entry."""
    with path.open("rb") as raw:
        info = tarfile.TarInfo(name)
        info.size = os.fstat(raw.fileno()).st_size
        info.mtime = int(os.fstat(raw.fileno()).st_mtime)
        info.mode = 0o644
        reader = HashingReader(raw)
        tar.addfile(info, reader)
    return {"name": name, "bytes": reader.size, "sha256": reader.sha256.hexdigest()}


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    """Add a member from memory."""
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(datetime.now(UTC).timestamp())
    info.mode = 0o644
    tar.addfile(info, io.BytesIO(data))


def _fsync_folder(folder: Path) -> None:
    """Make a rename in `folder` durable."""
    handle = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


def file_entries(manifest: Mapping[str, Any]) -> dict[str, tuple[int, str]]:
    """name -> (bytes, sha256) of the manifest's members."""
    return {
        entry["name"]: (int(entry["bytes"]), str(entry["sha256"])) for entry in manifest["files"]
    }
