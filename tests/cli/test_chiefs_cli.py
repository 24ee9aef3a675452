"""geo-patrol chiefs and duty-rules against a real database with the demo region: a roster
imported (a dry run first, then twice), a bad one refused row by row, listed, ended; rules."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from geo_patrol.cli.app import app
from geo_patrol.db.engine import make_engine
from tests.support.database import fresh_demo_database

runner = CliRunner()
ROSTER = (
    "姓名,手机,级别,河道,河段,行政区,起始日期,截止日期,联合河长\r\n"
    "沈村长,13700000001,村级,小天圩河（演示）,,320509100202,2026-01-01,,小天圩河联合河长\r\n"
    "钱村长,13700000002,村级,小天圩河（演示）,1-3,双桥村,2026-01-01,,小天圩河联合河长\r\n"
)


@pytest.fixture(scope="module")
def chiefs_database() -> Iterator[str]:
    """A database of its own with the demo region but none of the demo's chiefs: the
    command commits for real."""
    url = fresh_demo_database("geo_patrol_cli_chiefs")
    engine = make_engine(url)
    with engine.begin() as connection:
        for table in ("chief_stretches", "chief_appointments", "joint_appointments"):
            connection.execute(text(f"DELETE FROM {table}"))
    engine.dispose()
    previous = os.environ.get("GEO_PATROL_DATABASE_URL")
    os.environ["GEO_PATROL_DATABASE_URL"] = url
    yield url
    if previous is None:
        del os.environ["GEO_PATROL_DATABASE_URL"]
    else:
        os.environ["GEO_PATROL_DATABASE_URL"] = previous


def count(url: str, table: str) -> int:
    """Rows of a table."""
    engine = make_engine(url)
    with engine.connect() as connection:
        found = int(connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())
    engine.dispose()
    return found


def test_import_a_roster_dry_run_then_for_real_then_again(
    chiefs_database: str, tmp_path: Path
) -> None:
    roster = tmp_path / "名录.csv"
    roster.write_bytes(ROSTER.encode("gb18030"))
    dry = runner.invoke(app, ["chiefs", "import", str(roster), "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "2 created" in dry.output and "would be stored" in dry.output
    assert count(chiefs_database, "chief_appointments") == 0
    first = runner.invoke(app, ["chiefs", "import", str(roster)])
    assert first.exit_code == 0, first.output
    assert "2 created" in first.output and "1 joint appointments created" in first.output
    again = runner.invoke(app, ["chiefs", "import", str(roster)])
    assert "0 created, 2 unchanged" in again.output, again.output
    assert count(chiefs_database, "chief_appointments") == 2
    assert count(chiefs_database, "joint_appointments") == 1


def test_a_bad_roster_lists_each_row_and_stores_nothing(
    chiefs_database: str, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.csv"
    rows = ROSTER.replace("小天圩河联合河长", "").replace("13700000002", "1390000")
    bad.write_text(rows + "孙村长,13700000009,乡长,小天圩河（演示）,,盛泽镇,2026-01-01,,\r\n")
    before = count(chiefs_database, "chief_appointments")
    refused = runner.invoke(app, ["chiefs", "import", str(bad)])
    assert refused.exit_code == 2
    assert "row 3, 手机" in refused.output and "row 4, 级别" in refused.output
    assert count(chiefs_database, "chief_appointments") == before


def test_list_and_end(chiefs_database: str, tmp_path: Path) -> None:
    roster = tmp_path / "r.csv"
    roster.write_text(ROSTER, encoding="utf-8-sig")
    runner.invoke(app, ["chiefs", "import", str(roster)])
    listed = runner.invoke(app, ["chiefs", "list", "--river", "R-320509-330411-01"])
    assert listed.exit_code == 0, listed.output
    first = listed.output.splitlines()[0]
    assert "沈村长" in listed.output and "2 appointments" in listed.output
    ended = runner.invoke(app, ["chiefs", "end", first.split()[0], "--last-day", "2026-06-30"])
    assert ended.exit_code == 0, ended.output
    in_force = runner.invoke(app, ["chiefs", "list", "--on", "2026-07-01"])
    assert "1 appointments" in in_force.output
    wrong = runner.invoke(app, ["chiefs", "end", first.split()[0], "--last-day", "2025-01-01"])
    assert wrong.exit_code == 2 and "before the appointment began" in wrong.output


def test_duty_rules_set_and_list(chiefs_database: str) -> None:
    made = runner.invoke(
        app,
        [
            "duty-rules",
            *("set", "--level", "village", "--period", "dekad", "--required", "2"),
            *("--zone", "ZONE-SZ-WJJ", "--min-share", "0.5", "--flags", "too_fast,mocked,long_gap"),
        ],
    )
    assert made.exit_code == 0, made.output
    listed = runner.invoke(app, ["duty-rules", "list"])
    line = next(line for line in listed.output.splitlines() if "zone" in line)
    assert "village" in line and "2 per dekad" in line and "50%" in line and "long_gap" in line
    wrong = runner.invoke(
        app,
        [
            *("duty-rules", "set", "--level", "town", "--period", "week", "--required", "1"),
            *("--flags", "too_slow"),
        ],
    )
    assert wrong.exit_code == 2 and "unknown flag too_slow" in wrong.output
