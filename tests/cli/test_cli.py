"""The geo-patrol command against a real database: imports, idempotent demo, serve."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from geo_patrol.access.principal import from_bearer
from geo_patrol.access.secrets import verify_password
from geo_patrol.cli.app import app
from geo_patrol.db.embedded import free_port
from geo_patrol.db.engine import Base, make_engine
from tests.support.database import fresh_database

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "vector"
runner = CliRunner()


@pytest.fixture(scope="module")
def cli_database() -> Iterator[str]:
    """A database of its own: the command commits for real."""
    url = fresh_database("geo_patrol_cli")
    previous = os.environ.get("GEO_PATROL_DATABASE_URL")
    os.environ["GEO_PATROL_DATABASE_URL"] = url
    yield url
    if previous is None:
        del os.environ["GEO_PATROL_DATABASE_URL"]
    else:
        os.environ["GEO_PATROL_DATABASE_URL"] = previous


def row_versions(url: str, table: str) -> list[tuple[object, ...]]:
    """Every row's id and xmin: an UPDATE or INSERT changes this."""
    engine = make_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(text(f"SELECT id, xmin::text FROM {table} ORDER BY id")).all()
    engine.dispose()
    return [tuple(row) for row in rows]


def stored_password_works(url: str, login: str, password: str) -> bool:
    """Whether `password` matches the member's stored hash."""
    engine = make_engine(url)
    with engine.connect() as conn:
        stored = conn.execute(
            text("SELECT password_hash FROM members WHERE login = :l"), {"l": login}
        ).scalar_one()
    engine.dispose()
    return verify_password(stored, password)


def bearer_login(url: str, token: str) -> str | None:
    """The login a bearer token signs in as now (None: refused)."""
    engine = make_engine(url)
    with Session(engine) as session:
        principal = from_bearer(session, token=token)
    engine.dispose()
    return None if principal is None else principal.login


def test_import_twice_changes_nothing(cli_database: str) -> None:
    args = ["import", "jurisdictions", str(FIXTURES / "boundaries.geojson"), "--level", "county"]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    assert "2 added" in first.output
    before = row_versions(cli_database, "jurisdictions")
    second = runner.invoke(app, args)
    assert second.exit_code == 0, second.output
    assert "0 added" in second.output and "2 unchanged" in second.output
    assert row_versions(cli_database, "jurisdictions") == before


def test_bad_file_exits_with_the_feature_and_field(cli_database: str) -> None:
    before = row_versions(cli_database, "jurisdictions")
    result = runner.invoke(
        app,
        ["import", "jurisdictions", str(FIXTURES / "missing_code.geojson"), "--level", "county"],
    )
    assert result.exit_code == 2
    assert result.output == (
        "error: missing_code.geojson: required field 'code' not found; "
        "the file has columns: name, remark\n"
    )
    assert row_versions(cli_database, "jurisdictions") == before


def test_a_bare_geometry_imports_with_code_and_name(cli_database: str) -> None:
    bare = str(FIXTURES / "wujiang_bare.geojson")
    refused = runner.invoke(app, ["import", "jurisdictions", bare, "--level", "county"])
    assert refused.exit_code == 2
    assert "bare GeoJSON geometry (MultiPolygon)" in refused.output
    assert refused.output.rstrip().endswith("give --code and --name")
    given = ["--code", "320509", "--name", "吴江区"]
    result = runner.invoke(app, ["import", "jurisdictions", bare, "--level", "county", *given])
    assert result.exit_code == 0, result.output
    assert "1 unchanged" in result.output or "1 added" in result.output


def every_table_rows(url: str) -> dict[str, list[tuple[str, str]]]:
    """Every row of every declared table as (partition and ctid, xmin): an INSERT, UPDATE or
    DELETE anywhere changes this."""
    import geo_patrol.db.tables  # noqa: F401  (declares the tables on Base.metadata)

    engine = make_engine(url)
    with engine.connect() as conn:
        present = conn.execute(
            text(
                "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition "
                "AND c.relname NOT IN ('alembic_version', 'spatial_ref_sys')"
            )
        ).scalars()
        assert set(present) == set(Base.metadata.tables)  # every table, none left out
        rows = {
            table.name: [
                (str(ctid), str(xmin))
                for ctid, xmin in conn.execute(
                    text(
                        f"SELECT tableoid::regclass::text || ctid::text, xmin::text "
                        f"FROM {table.name} ORDER BY 1"
                    )
                )
            ]
            for table in Base.metadata.sorted_tables
        }
    engine.dispose()
    return rows


def test_demo_twice_changes_no_row(cli_database: str) -> None:
    first = runner.invoke(app, ["demo"])
    assert first.exit_code == 0, first.output
    # The demo's phones send their week again, and a phone that sends is marked seen at most
    # once a minute (patrols/live/store.py): mark them seen ahead, so that however long the
    # second run takes (over a minute on a loaded machine) that touch is not what we see.
    engine = make_engine(cli_database)
    with engine.begin() as conn:
        conn.execute(text("UPDATE devices SET last_seen_at = now() + interval '1 day'"))
    engine.dispose()
    before = every_table_rows(cli_database)
    filled = ["jurisdictions", "rivers", "villages", "cooperation_zones", "teams", "members"]
    filled += ["incidents", "patrols", "uploads"]
    assert all(before[table] for table in filled)  # the demo fills these: compares something
    second = runner.invoke(app, ["demo"])
    assert second.exit_code == 0, second.output
    after = every_table_rows(cli_database)
    changed = {t for t in before if before[t] != after[t]}
    assert changed == set(), {t: (len(before[t]), len(after[t])) for t in changed}


@pytest.mark.parametrize("workers", [1, 2])
def test_serve_answers_health_and_lookup(cli_database: str, workers: int) -> None:
    runner.invoke(app, ["demo"])
    port, osmand_port = free_port(), free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "geo_patrol",
            "serve",
            "--port",
            str(port),
            "--workers",
            str(workers),
        ],
        env={
            **os.environ,
            "GEO_PATROL_DATABASE_URL": cli_database,
            "GEO_PATROL_LOG_LEVEL": "warning",
            "GEO_PATROL_OSMAND_PORT": str(osmand_port),
        },
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                health = httpx.get(f"{base}/healthz", timeout=2)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.2)
        assert health.json()["status"] == "ok"
        anonymous = httpx.get(
            f"{base}/api/v1/jurisdictions/at", params={"lon": 120.6, "lat": 30.93}
        )
        assert anonymous.status_code == 401
        token = httpx.post(
            f"{base}/api/v1/auth/tokens", json={"login": "admin", "password": "geo-patrol-demo"}
        ).json()["token"]
        chain = httpx.get(
            f"{base}/api/v1/jurisdictions/at",
            params={"lon": 120.60, "lat": 30.93},
            headers={"Authorization": f"Bearer {token}"},
        ).json()["chain"]
        assert chain[-1]["code"] == "320000" and "320509" in [ref["code"] for ref in chain]
        # The OsmAnd listener on its own port takes the demo phone, refuses a stranger.
        phone = {"id": "gpd_demo-sz-patrol-phone", "lat": "30.9", "lon": "120.65"}
        listener = f"http://127.0.0.1:{osmand_port}/"
        assert httpx.get(listener, params=phone).status_code == 200
        assert httpx.post(listener, data={**phone, "id": "stranger"}).status_code == 400
    finally:
        server.terminate()
        # uvicorn re-raises the signal it caught; the parent of workers waits for them first.
        assert server.wait(timeout=20) in (0, -signal.SIGTERM)


def test_account_commands_add_role_reset_issue_revoke(cli_database: str) -> None:
    runner.invoke(app, ["demo"])
    added = runner.invoke(
        app,
        [
            "member",
            "add",
            "river.chief",
            "--name",
            "河长",
            "--home",
            "320509100",
            "--password-stdin",
        ],
        input="a-long-password\n",
    )
    assert added.exit_code == 0, added.output
    role = runner.invoke(
        app,
        ["member", "role", "river.chief", "--role", "supervisor", "--jurisdiction", "320509100"],
    )
    assert role.exit_code == 0, role.output
    bad_role = runner.invoke(app, ["member", "role", "river.chief", "--role", "supervisor"])
    assert bad_role.exit_code == 2 and "jurisdiction_code" in bad_role.output
    assert stored_password_works(cli_database, "river.chief", "a-long-password")
    reset = runner.invoke(app, ["member", "passwd", "river.chief", "--generate"])
    assert reset.exit_code == 0, reset.output
    prefix = "new password for river.chief: "
    (line,) = [line for line in reset.output.splitlines() if line.startswith(prefix)]
    generated = line.removeprefix(prefix)
    assert generated and generated != "a-long-password"
    assert stored_password_works(cli_database, "river.chief", generated)
    assert not stored_password_works(cli_database, "river.chief", "a-long-password")
    issued = runner.invoke(app, ["device", "issue", "river.chief", "--label", "phone"])
    assert issued.exit_code == 0, issued.output
    token = issued.output.strip().splitlines()[-1]
    assert token.startswith("gpd_")
    device_id = issued.output.split()[1]
    assert bearer_login(cli_database, token) == "river.chief"
    revoked = runner.invoke(app, ["device", "revoke", device_id])
    assert revoked.exit_code == 0, revoked.output
    assert bearer_login(cli_database, token) is None
    engine = make_engine(cli_database)
    with engine.connect() as conn:
        actions = (
            conn.execute(text("SELECT action FROM audit_log WHERE actor LIKE 'cli:%' ORDER BY id"))
            .scalars()
            .all()
        )
        grants = conn.execute(
            text(
                "SELECT r.role, r.jurisdiction_code FROM member_roles r "
                "JOIN members m ON m.id = r.member_id WHERE m.login = 'river.chief'"
            )
        ).all()
        revoked_at = conn.execute(
            text("SELECT revoked_at FROM devices WHERE id = :id"), {"id": int(device_id)}
        ).scalar_one()
    engine.dispose()
    assert [tuple(g) for g in grants] == [("supervisor", "320509100")]
    assert revoked_at is not None
    assert actions == [
        "member.create",
        "role.add",
        "member.password",
        "device.issue",
        "device.revoke",
    ]


def test_demo_shows_credentials_on_a_terminal_only(
    cli_database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not a terminal (a service log, a pipe): no password or token in the output, but a file
    only its owner can read; on a real terminal (a pty) they are shown."""
    from geo_patrol.demo.accounts import DEFAULT_PASSWORD

    monkeypatch.setenv("GEO_PATROL_DATA_DIR", str(tmp_path / "data"))
    logged = runner.invoke(app, ["demo"])
    assert logged.exit_code == 0, logged.output
    assert DEFAULT_PASSWORD not in logged.output and "gpd_" not in logged.output
    stored = tmp_path / "data" / "demo-credentials.txt"
    assert str(stored) in logged.output
    assert stored.stat().st_mode & 0o777 == 0o600
    assert (
        DEFAULT_PASSWORD in stored.read_text() and "gpd_demo-sz-patrol-phone" in stored.read_text()
    )
    stored.chmod(0o644)  # a file left readable by others is tightened when written again
    runner.invoke(app, ["demo"])
    assert stored.stat().st_mode & 0o777 == 0o600

    from geo_patrol.cli.app import show_demo_credentials

    leader, follower = os.openpty()
    with os.fdopen(follower, "w") as terminal, os.fdopen(leader, "rb", buffering=0):
        shown = show_demo_credentials(terminal, folder=tmp_path / "unused")
    assert DEFAULT_PASSWORD in shown and "gpd_demo-wjj-patrol-phone" in shown
    assert not (tmp_path / "unused").exists()
