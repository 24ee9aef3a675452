"""Restore an archive written by `db.backup`: verify everything first, then change things.

1. The whole archive is read once into a staging folder inside the data folder, every member's
   size and SHA-256 compared with the manifest. A damaged, truncated or foreign archive is
   refused here, before the database or the stored files are touched.
2. The database must hold no tables of its own (those of extensions such as PostGIS's
   spatial_ref_sys do not count), else the restore is refused. With `force`, the dump is
   restored into a new database beside it, which then replaces the old one (dropped, its
   sessions ended): a restore that fails leaves the old database as it was.
3. The stored files are moved into place (content-addressed, so a file already there with the
   right bytes is kept), then pg_restore runs in one transaction: a failure leaves the database
   empty again, and at most some extra stored files that nothing refers to.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Final

import psycopg
from psycopg import sql

from geo_patrol.core.catalog import msg
from geo_patrol.core.settings import Settings
from geo_patrol.db.backup import (
    ARCHIVE_FORMAT,
    DUMP,
    FORMAT_VERSION,
    MANIFEST,
    STORED_NAME,
    BackupError,
    PgTarget,
    client_program,
    database_errors,
    file_entries,
    run_client,
    server_major,
    table_counts,
)

_CHUNK: Final = 1 << 20
_MAX_MANIFEST_BYTES: Final = 256 << 20
# Tables, views and materialized views that belong to no extension.
_OWN_TABLES: Final = """
SELECT n.nspname || '.' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'v', 'm') AND n.nspname <> 'information_schema'
  AND n.nspname NOT LIKE 'pg\\_%'
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                  AND d.objid = c.oid AND d.deptype = 'e')
ORDER BY 1
"""


@dataclass(frozen=True)
class RestoreReport:
    """What a restore brought back."""

    archive: Path
    manifest: dict[str, Any]
    counts: dict[str, int]
    files_placed: int
    files_present: int

    def summary(self) -> str:
        """A few lines for the terminal."""
        counts = ", ".join(f"{n} {table}" for table, n in self.counts.items())
        same = self.counts == self.manifest["counts"]
        check = "as in the archive" if same else f"the archive had {self.manifest['counts']}"
        return (
            f"restored {self.archive} (backup of {self.manifest['database']} made "
            f"{self.manifest['created_at']}, schema {self.manifest['schema_revision']}): "
            f"{counts} ({check}); stored files: {self.files_placed} written, "
            f"{self.files_present} already there"
        )


def restore(settings: Settings, *, url: str, archive: Path, force: bool = False) -> RestoreReport:
    """Restore `archive` into the database at `url` and the data folder (see the module doc)."""
    target = PgTarget.from_url(url)
    with database_errors(target):
        return _restore(settings, target, archive=archive, force=force)


def _restore(settings: Settings, target: PgTarget, *, archive: Path, force: bool) -> RestoreReport:
    """restore() with the target parsed."""
    major = _server_major(target.on("postgres") if force else target)
    pg_restore = client_program(settings, "pg_restore", major=major)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=settings.data_dir, prefix=".restore-"))
    try:
        manifest = unpack_verified(archive, staging)
        if int(manifest["server_major"]) > major:
            raise BackupError(
                msg(
                    "problem.db.dump_newer_server",
                    archive=archive,
                    server_major=manifest["server_major"],
                    major=major,
                )
            )
        if not force:
            _refuse_unless_empty(target)
        listing = _restore_list(pg_restore, staging)
        placed, present = _place_files(staging, settings.data_dir, manifest)
        restore_into = _restore_replacing if force else _restore_into
        restore_into(target, pg_restore, staging / DUMP, listing)
        with target.connect() as conn:
            counts = table_counts(conn)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return RestoreReport(archive, manifest, counts, placed, present)


def _server_major(target: PgTarget) -> int:
    """The server's major version, or a clear error when it cannot be reached."""
    try:
        return server_major(target)
    except psycopg.OperationalError as exc:
        hint = "" if target.database == "postgres" else msg("problem.db.force_creates")
        raise BackupError(
            msg("problem.db.restore_unreachable", database=target.database, error=exc, hint=hint)
        ) from exc


def unpack_verified(archive: Path, staging: Path) -> dict[str, Any]:
    """Unpack the archive's members into `staging` and check them against its manifest."""
    seen: dict[str, tuple[int, str]] = {}
    manifest_bytes: bytes | None = None
    try:
        with tarfile.open(archive, "r|*") as tar:
            for member in tar:
                source = _member_file(tar, member, seen, archive)
                if member.name == MANIFEST:
                    manifest_bytes = source.read(_MAX_MANIFEST_BYTES)
                else:
                    seen[member.name] = _copy_hashed(source, staging / member.name)
    except (tarfile.TarError, EOFError, zlib.error) as exc:
        raise BackupError(msg("problem.db.backup_unreadable", archive=archive, error=exc)) from exc
    except OSError as exc:
        raise BackupError(
            msg("problem.db.backup_unpack_failed", archive=archive, staging=staging, error=exc)
        ) from exc
    if manifest_bytes is None:
        raise BackupError(msg("problem.db.backup_no_manifest", archive=archive, manifest=MANIFEST))
    manifest = _parse_manifest(manifest_bytes, archive)
    _compare(seen, manifest, archive)
    return manifest


def _member_file(
    tar: tarfile.TarFile, member: tarfile.TarInfo, seen: dict[str, Any], archive: Path
) -> IO[bytes]:
    """The data of a member we expect (a regular file with a known name, once)."""
    name = member.name
    known = name in (DUMP, MANIFEST) or STORED_NAME.fullmatch(name) is not None
    if not known or not member.isreg():
        raise BackupError(msg("problem.db.backup_foreign_member", archive=archive, name=name))
    if name in seen:
        raise BackupError(msg("problem.db.backup_member_twice", archive=archive, name=name))
    source = tar.extractfile(member)
    assert source is not None  # a regular file always has data
    return source


def _copy_hashed(source: IO[bytes], path: Path) -> tuple[int, str]:
    """Copy to `path` (synced); its size and SHA-256."""
    path.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    with path.open("wb") as out:
        while chunk := source.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
            out.write(chunk)
        out.flush()
        os.fsync(out.fileno())
    return size, digest.hexdigest()


def _parse_manifest(data: bytes, archive: Path) -> dict[str, Any]:
    """The manifest, checked to be one of ours."""
    try:
        manifest = json.loads(data)
        ours = manifest["format"] == ARCHIVE_FORMAT
        version = int(manifest["version"])
        file_entries(manifest)
        int(manifest["server_major"]), dict(manifest["counts"])
    except (ValueError, KeyError, TypeError) as exc:
        raise BackupError(
            msg("problem.db.backup_manifest_damaged", archive=archive, manifest=MANIFEST, error=exc)
        ) from exc
    if not ours or version > FORMAT_VERSION:
        raise BackupError(
            msg(
                "problem.db.backup_format",
                archive=archive,
                format_version=FORMAT_VERSION,
                format=manifest["format"],
                version=version,
            )
        )
    return dict(manifest)


def _compare(seen: dict[str, tuple[int, str]], manifest: dict[str, Any], archive: Path) -> None:
    """Refuse unless the members are exactly the manifest's, byte for byte."""
    expected = file_entries(manifest)
    problems = [f"{name}: missing" for name in sorted(expected.keys() - seen.keys())]
    problems += [f"{name}: not in the manifest" for name in sorted(seen.keys() - expected.keys())]
    problems += [
        f"{name}: {seen[name][0]} bytes with SHA-256 {seen[name][1][:12]}…, the manifest says "
        f"{expected[name][0]} bytes, {expected[name][1][:12]}…"
        for name in sorted(expected.keys() & seen.keys())
        if seen[name] != expected[name]
    ]
    if DUMP not in expected:
        problems.append(f"{DUMP}: not in the manifest")
    if problems:
        shown = "; ".join(problems[:5]) + (
            f"; and {len(problems) - 5} more" if len(problems) > 5 else ""
        )
        raise BackupError(msg("problem.db.backup_checksum", archive=archive, shown=shown))


def own_tables(conn: psycopg.Connection[Any]) -> list[str]:
    """Tables and views of the database that no extension owns."""
    return [str(row[0]) for row in conn.execute(_OWN_TABLES)]


def _refuse_unless_empty(target: PgTarget) -> None:
    """Refuse to restore over a database that holds tables."""
    with target.connect() as conn:
        tables = own_tables(conn)
    if tables:
        shown = ", ".join(tables[:5]) + (", ..." if len(tables) > 5 else "")
        raise BackupError(
            msg(
                "problem.db.restore_target_not_empty",
                database=target.database,
                count=len(tables),
                shown=shown,
            )
        )


def _restore_list(pg_restore: str, staging: Path) -> Path:
    """The dump's table of contents minus COMMENT ON EXTENSION (only an extension's owner may
    run it, so it would fail a restore by anyone else), as a --use-list file."""
    listing = subprocess.run(
        [pg_restore, "--list", str(staging / DUMP)], capture_output=True, text=True, check=False
    )
    if listing.returncode != 0:
        raise BackupError(msg("problem.db.dump_unreadable", output=listing.stderr.strip()))
    kept = [line for line in listing.stdout.splitlines() if " COMMENT - EXTENSION " not in line]
    path = staging / "restore.list"
    path.write_text("\n".join(kept) + "\n")
    return path


def _place_files(staging: Path, data_dir: Path, manifest: dict[str, Any]) -> tuple[int, int]:
    """Move the staged stored files into the data folder; (written, already there)."""
    placed = present = 0
    for name, (_size, sha) in file_entries(manifest).items():
        if name == DUMP:
            continue
        target = data_dir / name
        if target.is_file() and _sha256(target) == sha:
            present += 1
            continue
        _move_into_place(staging / name, target)
        placed += 1
    return placed, present


def _move_into_place(staged: Path, target: Path) -> None:
    """Rename the staged file to `target`; across file systems, copy to a temporary file beside
    it and rename that, so a stored file is never seen half written."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.replace(staged, target)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
        temp = target.with_name(f".{target.name}.part")
        with staged.open("rb") as source, temp.open("wb") as out:
            shutil.copyfileobj(source, out, _CHUNK)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, target)


def _sha256(path: Path) -> str:
    """SHA-256 of a file."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _pg_restore(pg_restore: str, target: PgTarget, dump: Path, listing: Path) -> None:
    """pg_restore in one transaction; objects owned by the restoring user, no grants."""
    run_client(
        [
            pg_restore,
            "--single-transaction",
            "--exit-on-error",
            "--no-owner",
            "--no-privileges",
            f"--use-list={listing}",
            f"--dbname={target.uri}",
            str(dump),
        ],
        target=target,
    )


def _restore_into(target: PgTarget, pg_restore: str, dump: Path, listing: Path) -> None:
    """Restore into the (empty) database itself."""
    _pg_restore(pg_restore, target, dump, listing)


def _restore_replacing(target: PgTarget, pg_restore: str, dump: Path, listing: Path) -> None:
    """Restore into a new database, then let it replace the old one (kept if anything fails)."""
    admin = target.on("postgres")
    fresh = target.on(re.sub(r"^(.{0,50}).*$", r"\1", target.database) + "_restoring")
    with admin.connect(autocommit=True) as conn:
        conn.execute(_drop(fresh.database))
        conn.execute(_create_like(conn, fresh.database, like=target.database))
    try:
        _pg_restore(pg_restore, fresh, dump, listing)
    except BaseException:
        with admin.connect(autocommit=True) as conn:
            conn.execute(_drop(fresh.database))
        raise
    with admin.connect(autocommit=True) as conn:
        conn.execute(_drop(target.database))
        conn.execute(
            sql.SQL("ALTER DATABASE {} RENAME TO {}").format(
                sql.Identifier(fresh.database), sql.Identifier(target.database)
            )
        )


def _drop(database: str) -> sql.Composed:
    """DROP DATABASE IF EXISTS, ending its sessions."""
    return sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database))


def _create_like(conn: psycopg.Connection[Any], database: str, *, like: str) -> sql.Composed:
    """CREATE DATABASE with the owner, encoding and locale of `like` (when it exists)."""
    row = conn.execute(
        "SELECT pg_get_userbyid(datdba), pg_encoding_to_char(encoding), datcollate, datctype "
        "FROM pg_database WHERE datname = %s",
        [like],
    ).fetchone()
    create = sql.SQL("CREATE DATABASE {} TEMPLATE template0").format(sql.Identifier(database))
    if row is None:
        return create
    return sql.SQL("{} OWNER {} ENCODING {} LC_COLLATE {} LC_CTYPE {}").format(
        create,
        sql.Identifier(row[0]),
        sql.Literal(row[1]),
        sql.Literal(row[2]),
        sql.Literal(row[3]),
    )
