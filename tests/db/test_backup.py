"""`geo-patrol db backup` / `db restore`: the demo with originals and photos survives a wipe.

Everything is real: the commands run through the CLI against a database of their own, pg_dump
and pg_restore are the PostgreSQL programs, the stored files are on disk. What is compared
after the restore comes from the database and the files themselves (every row of every table
as text, every sequence, every file's SHA-256), not from the backup's own manifest.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import stat
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from typer.testing import CliRunner, Result

from geo_patrol.access.principal import load_member
from geo_patrol.cli.app import app
from geo_patrol.core.settings import Settings
from geo_patrol.db import migrate
from geo_patrol.db.embedded import find_server_binaries
from geo_patrol.db.engine import make_engine, make_sessionmaker
from geo_patrol.incidents.photos import add_photo
from geo_patrol.patrols.upload import UploadRequest, upload_patrol
from tests.support.database import fresh_database

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
PHOTOS = ("exif_full.jpg", "no_exif.jpg", "with_text.png", "exif_full.heic")
# The record that must survive: each must have rows before the backup.
RECORD = ("patrols", "patrol_points", "uploads", "incidents", "incident_events", "incident_photos")
SOURCE = "geo_patrol_backup"
OTHER = "geo_patrol_backup_other"
runner = CliRunner()


@dataclass(frozen=True)
class State:
    """Every row of every table as text, every sequence's position, every stored file's hash."""

    rows: dict[str, list[str]]
    sequences: dict[str, tuple[int | None, bool]]
    files: dict[str, str]


def _libpq(url: str) -> str:
    """A libpq URL from a SQLAlchemy one."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def state_of(url: str, data_dir: Path) -> State:
    """Read the whole state back from the database and the data folder."""
    with psycopg.connect(_libpq(url)) as conn:
        conn.execute("SET TIME ZONE 'UTC'")
        tables = [
            name
            for (name,) in conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' "
                "AND table_type = 'BASE TABLE' AND table_name <> 'spatial_ref_sys' ORDER BY 1"
            )
        ]
        rows = {
            table: [row for (row,) in conn.execute(f'SELECT t::text FROM "{table}" t ORDER BY 1')]
            for table in tables
        }
        sequences = {
            name: (last, called)
            for name, last, called in conn.execute(
                "SELECT s.relname, (pg_sequence_last_value(s.oid)), "
                "pg_sequence_last_value(s.oid) IS NOT NULL FROM pg_class s "
                "WHERE s.relkind = 'S' AND s.relnamespace = 'public'::regnamespace"
            )
        }
    return State(rows, sequences, stored_file_hashes(data_dir))


def stored_file_hashes(data_dir: Path) -> dict[str, str]:
    """Relative path -> SHA-256 of every file under the data folder's uploads/ and photos/."""
    return {
        path.relative_to(data_dir).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for folder in ("uploads", "photos")
        for path in sorted((data_dir / folder).rglob("*"))
        if path.is_file()
    }


def drop_database(url: str) -> None:
    """DROP DATABASE, ending its sessions."""
    name = make_url(url).database
    admin = _libpq(make_url(url).set(database="postgres").render_as_string(hide_password=False))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run_cli(args: list[str], *, url: str, data_dir: Path, **env: str) -> Result:
    """Invoke geo-patrol with the database and data folder in its environment."""
    environment = {"GEO_PATROL_DATABASE_URL": url, "GEO_PATROL_DATA_DIR": str(data_dir), **env}
    return runner.invoke(app, args, env=environment)


def _load(url: str, data_dir: Path) -> None:
    """The demo (through the command), a real device's GPX, and photos on four incidents."""
    result = run_cli(["demo"], url=url, data_dir=data_dir)
    assert result.exit_code == 0, result.output
    settings = Settings(database_url=url, data_dir=data_dir)
    engine = make_engine(url)
    with make_sessionmaker(engine)() as session, session.begin():
        member = session.execute(text("SELECT id FROM members WHERE login = 'sz.patrol'"))
        principal = load_member(session, member_id=int(member.scalar_one()), via="token")
        assert principal is not None
        team = session.execute(text("SELECT id FROM teams WHERE name = '盛泽巡河队'")).scalar_one()
        data = (FIXTURES / "tracks" / "osmand_1_1.gpx").read_bytes()
        request = UploadRequest(team_id=int(team), filename="osmand_1_1.gpx", data=data)
        upload_patrol(
            session, request=request, principal=principal, settings=settings, address="test"
        )
        incidents = session.execute(text("SELECT id FROM incidents ORDER BY id LIMIT 4")).all()
        for (incident_id,), name in zip(incidents, PHOTOS, strict=True):
            photo = (FIXTURES / "photos" / name).read_bytes()
            add_photo(session, incident_id=incident_id, data=photo, settings=settings)
    engine.dispose()


@dataclass(frozen=True)
class Source:
    """The loaded database, its data folder, the archive and the state it was taken in."""

    url: str
    data_dir: Path
    archive: Path
    before: State


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Source]:
    """A database of its own with the demo, originals and photos, backed up once."""
    url = fresh_database(SOURCE)
    data_dir = tmp_path_factory.mktemp("data")
    _load(url, data_dir)
    archive = tmp_path_factory.mktemp("backups") / "patrol.tar"
    result = run_cli(["db", "backup", str(archive)], url=url, data_dir=data_dir)
    assert result.exit_code == 0, result.output
    assert "warning" not in result.output
    yield Source(url, data_dir, archive, state_of(url, data_dir))
    drop_database(url)


@pytest.fixture
def other(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """An empty database and an empty data folder to restore into."""
    url = fresh_database(OTHER)
    yield url, tmp_path / "data"
    drop_database(url)


def test_backup_wipe_restore_gives_everything_back(source: Source) -> None:
    before = source.before
    for table in RECORD:
        assert before.rows[table], f"nothing in {table} to back up"
    photos_and_originals = {name.split("/")[0] for name in before.files}
    assert photos_and_originals == {"uploads", "photos"}
    assert sum(name.startswith("photos/") for name in before.files) == len(PHOTOS)

    drop_database(source.url)
    shutil.rmtree(source.data_dir)
    with psycopg.connect(_libpq(fresh_database(SOURCE))) as conn:
        # As `geo-patrol db up` makes it on a wiped data folder: PostGIS's own table only.
        conn.execute("CREATE EXTENSION postgis")
    result = run_cli(
        ["db", "restore", str(source.archive)], url=source.url, data_dir=source.data_dir
    )
    assert result.exit_code == 0, result.output
    assert "as in the archive" in result.output

    after = state_of(source.url, source.data_dir)
    assert after.rows.keys() == before.rows.keys()
    for table, rows in before.rows.items():
        assert after.rows[table] == rows, f"{table} differs after the restore"
    assert after.sequences == before.sequences
    assert after.files == before.files
    _files_match_their_rows(source.url, source.data_dir)
    engine = make_engine(source.url)
    assert migrate.current_revision(engine) == _head()
    engine.dispose()


def _files_match_their_rows(url: str, data_dir: Path) -> None:
    """Every upload and photo row has its file, and the file's bytes hash to the row's sha256."""
    with psycopg.connect(_libpq(url)) as conn:
        wanted = [
            (f"uploads/{sha[:2]}/{sha}", sha)
            for (sha,) in conn.execute("SELECT sha256 FROM uploads")
        ]
        wanted += [
            (f"photos/{sha[:2]}/{sha}", sha)
            for (sha,) in conn.execute("SELECT sha256 FROM incident_photos")
        ]
    for name, sha in wanted:
        assert hashlib.sha256((data_dir / name).read_bytes()).hexdigest() == sha, name


def _head() -> str:
    """The newest migration."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(migrate.alembic_config()).get_current_head()
    assert head is not None
    return head


def test_restore_refuses_a_database_that_is_not_empty_unless_forced(
    source: Source, other: tuple[str, Path]
) -> None:
    url, data_dir = other
    restore = ["db", "restore", str(source.archive)]
    assert run_cli(restore, url=url, data_dir=data_dir).exit_code == 0
    installed = state_of(url, data_dir)
    engine = make_engine(url)
    with engine.begin() as conn:  # a change after the restore, that --force must undo
        conn.execute(text("DELETE FROM incident_photos"))
    engine.dispose()
    changed = state_of(url, data_dir)

    refused = run_cli(restore, url=url, data_dir=data_dir)
    assert refused.exit_code == 2
    name = make_url(url).database
    assert f"database {name} is not empty" in refused.output and "--force" in refused.output
    assert state_of(url, data_dir) == changed

    forced = run_cli([*restore, "--force"], url=url, data_dir=data_dir)
    assert forced.exit_code == 0, forced.output
    assert state_of(url, data_dir) == installed

    drop_database(url)  # --force also creates a database that is gone
    again = run_cli([*restore, "--force"], url=url, data_dir=data_dir)
    assert again.exit_code == 0, again.output
    assert state_of(url, data_dir).rows == installed.rows


def _flip_byte(archive: Path, member: str, copy: Path) -> Path:
    """A copy of the archive with one byte inside `member`'s data changed."""
    with tarfile.open(archive) as tar:
        info = tar.getmember(member)
    data = bytearray(archive.read_bytes())
    data[info.offset_data + info.size // 2] ^= 0x01
    copy.write_bytes(bytes(data))
    return copy


def _damaged(source: Source, folder: Path) -> dict[str, Path]:
    """The archive damaged in several ways."""
    data = source.archive.read_bytes()
    photo = next(name for name in source.before.files if name.startswith("photos/"))
    (folder / "truncated.tar").write_bytes(data[: len(data) // 2])
    with tarfile.open(source.archive) as tar:  # the last member's data cut short
        manifest = tar.getmember("manifest.json")
    (folder / "cut_at_the_end.tar").write_bytes(data[: manifest.offset_data + manifest.size - 10])
    shutil.copy(source.archive, folder / "extra.tar")
    with tarfile.open(folder / "extra.tar", "a") as tar:
        tar.add(FIXTURES / "photos" / "no_exif.jpg", arcname="../../outside.jpg")
    return {
        "dump": _flip_byte(source.archive, "database.dump", folder / "dump.tar"),
        "photo": _flip_byte(source.archive, photo, folder / "photo.tar"),
        "manifest": _flip_byte(source.archive, "manifest.json", folder / "manifest.tar"),
        "truncated": folder / "truncated.tar",
        "cut_at_the_end": folder / "cut_at_the_end.tar",
        "extra": folder / "extra.tar",
    }


@pytest.mark.parametrize(
    ("damage", "says"),
    [
        ("dump", "database.dump: "),
        ("photo", "does not match its checksums"),
        ("manifest", "manifest"),
        ("truncated", "truncated"),
        ("cut_at_the_end", "truncated"),
        ("extra", "'../../outside.jpg'"),
    ],
)
def test_a_damaged_archive_is_refused_and_nothing_changes(
    source: Source, other: tuple[str, Path], tmp_path: Path, damage: str, says: str
) -> None:
    url, data_dir = other
    archive = _damaged(source, tmp_path)[damage]
    result = run_cli(["db", "restore", str(archive)], url=url, data_dir=data_dir)
    assert result.exit_code == 2
    assert says in result.output and "Nothing was changed." in result.output
    with psycopg.connect(_libpq(url)) as conn:
        assert conn.execute(
            "SELECT count(*) FROM pg_class WHERE relkind = 'r' AND "
            "relnamespace = 'public'::regnamespace"
        ).fetchone() == (0,)
    assert list(data_dir.rglob("*")) == []  # no stored file, no staging folder left behind
    assert not (tmp_path / "outside.jpg").exists()


def _databases(url: str) -> set[str]:
    """Names of the server's databases."""
    admin = make_url(url).set(database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(_libpq(admin)) as conn:
        return {name for (name,) in conn.execute("SELECT datname FROM pg_database")}


def test_a_failing_pg_restore_leaves_the_database_as_it_was(
    source: Source, other: tuple[str, Path], tmp_path: Path
) -> None:
    url, data_dir = other
    with psycopg.connect(_libpq(url), autocommit=True) as conn:
        # No table, so the database counts as empty; but the dump creates this function too.
        conn.execute(
            "CREATE FUNCTION jurisdiction_parts_on_insert() RETURNS trigger "
            "LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$"
        )
    restore = ["db", "restore", str(source.archive)]
    failed = run_cli(restore, url=url, data_dir=data_dir)
    assert failed.exit_code == 2
    assert "pg_restore failed" in failed.output and "already exists" in failed.output
    with psycopg.connect(_libpq(url)) as conn:  # one transaction: nothing of it stayed
        assert conn.execute("SELECT to_regclass('patrols')").fetchone() == (None,)

    with psycopg.connect(_libpq(url), autocommit=True) as conn:
        conn.execute("DROP FUNCTION jurisdiction_parts_on_insert()")
    assert run_cli(restore, url=url, data_dir=data_dir).exit_code == 0
    installed = state_of(url, data_dir)
    failing = tmp_path / "bin"
    failing.mkdir()
    real = find_server_binaries().bindir / "pg_restore"
    (failing / "pg_restore").write_text(
        "#!/bin/sh\n"
        f'case "$1" in --version|--list) exec "{real}" "$@";; esac\n'
        'echo "pg_restore: error: the disk is full (injected)" >&2\nexit 1\n'
    )
    (failing / "pg_restore").chmod(0o755)
    forced = run_cli(
        [*restore, "--force"], url=url, data_dir=data_dir, GEO_PATROL_PG_BINDIR=str(failing)
    )
    assert forced.exit_code == 2 and "injected" in forced.output
    assert state_of(url, data_dir) == installed
    assert f"{make_url(url).database}_restoring" not in _databases(url)


def _recording_bindir(folder: Path, log: Path) -> Path:
    """A bin folder whose pg_dump/pg_restore record their argv and PGPASSWORD's presence, then
    run the real programs."""
    real = find_server_binaries().bindir
    for name in ("pg_dump", "pg_restore"):
        script = folder / name
        script.write_text(
            "#!/bin/sh\n"
            f'echo "$0 $* password-in-env=${{PGPASSWORD:+yes}}" >> "{log}"\n'
            f'exec "{real / name}" "$@"\n'
        )
        script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return folder


def _with_password(url: str) -> tuple[str, str]:
    """The URL over TCP with a password: as given, or the embedded test cluster's."""
    parsed = make_url(url)
    if parsed.password:
        return url, str(parsed.password)
    cluster = Path(str(parsed.query["host"])).parent
    password = (cluster / "password").read_text().strip()
    tcp = parsed.set(password=password, host="127.0.0.1", port=int(str(parsed.query["port"])))
    return tcp.difference_update_query(["host", "port"]).render_as_string(False), password


def test_the_password_goes_in_the_environment_never_on_the_command_line(
    source: Source, other: tuple[str, Path], tmp_path: Path
) -> None:
    url, data_dir = other
    tcp, password = _with_password(url)
    log = tmp_path / "argv.log"
    bindir = _recording_bindir(tmp_path, log)
    env = {"GEO_PATROL_PG_BINDIR": str(bindir), "PGPASSWORD": ""}

    restored = run_cli(["db", "restore", str(source.archive)], url=tcp, data_dir=data_dir, **env)
    assert restored.exit_code == 0, restored.output
    again = run_cli(["db", "backup", str(tmp_path / "b.tar")], url=tcp, data_dir=data_dir, **env)
    assert again.exit_code == 0, again.output

    calls = log.read_text().splitlines()
    assert any("pg_dump --format=custom" in call for call in calls)
    assert any("pg_restore --single-transaction" in call for call in calls)
    for call in calls:
        assert password not in call
        if "--version" not in call and "--list" not in call:
            assert call.endswith("password-in-env=yes"), call
    assert password not in restored.output + again.output


def test_client_programs_of_another_major_version_are_refused(
    source: Source, other: tuple[str, Path], tmp_path: Path
) -> None:
    url, data_dir = other
    server = find_server_binaries().major
    fake = tmp_path / "pg_dump"
    fake.write_text(f"#!/bin/sh\necho 'pg_dump (PostgreSQL) {server + 1}.0'\n")
    fake.chmod(0o755)
    archive = tmp_path / "b.tar"
    env = {"GEO_PATROL_PG_BINDIR": str(tmp_path)}
    result = run_cli(["db", "backup", str(archive)], url=url, data_dir=data_dir, **env)
    assert result.exit_code == 2
    assert f"is PostgreSQL {server + 1} but the server is PostgreSQL {server}" in result.output
    assert not archive.exists()
    missing = run_cli(["db", "restore", str(source.archive)], url=url, data_dir=data_dir, **env)
    assert missing.exit_code == 2 and "pg_restore not found" in missing.output


def test_a_missing_database_is_a_clear_error(source: Source, tmp_path: Path) -> None:
    url = make_url(source.url).set(database="geo_patrol_no_such_db")
    missing = url.render_as_string(hide_password=False)
    archive = tmp_path / "b.tar"
    backup = run_cli(["db", "backup", str(archive)], url=missing, data_dir=tmp_path)
    assert backup.exit_code == 2, backup.output  # 2: a message, not a traceback (1)
    assert 'database "geo_patrol_no_such_db" does not exist' in backup.output
    assert not archive.exists()
    restore = run_cli(["db", "restore", str(source.archive)], url=missing, data_dir=tmp_path)
    assert restore.exit_code == 2
    assert "--force creates a missing database" in restore.output


def test_a_dump_from_a_newer_server_is_refused(
    source: Source, other: tuple[str, Path], tmp_path: Path
) -> None:
    url, data_dir = other
    newer = tmp_path / "newer.tar"
    with tarfile.open(source.archive) as old, tarfile.open(newer, "w") as new:
        for member in old.getmembers():
            data = old.extractfile(member)
            assert data is not None
            body = data.read()
            if member.name == "manifest.json":
                manifest = json.loads(body)
                manifest["server_major"] += 1
                body = json.dumps(manifest).encode()
                member.size = len(body)
            new.addfile(member, io.BytesIO(body))
    result = run_cli(["db", "restore", str(newer)], url=url, data_dir=data_dir)
    assert result.exit_code == 2
    assert "dump; this server is PostgreSQL" in result.output
    assert "Nothing was changed." in result.output
    assert list(data_dir.rglob("*")) == []
