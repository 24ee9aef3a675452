"""geo-patrol incidents import against a real database with the demo region: a dry run
stores nothing, the import stores every row, the same file again nothing new, a file with a
refused row exits 2 naming it (and stores nothing) unless --skip-errors; a category table
given as a file maps a word."""

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
EXPORT = (
    "工单编号,受理时间,经度,纬度,诉求类型,诉求内容,来电号码\r\n"
    "C-1,2026-11-03 09:15,120.6115,30.9074,偷排,排污,13800000001\r\n"
    "C-2,2026-11-03 09:20,120.7250,30.8500,电鱼,有人电鱼,\r\n"
)


@pytest.fixture(scope="module")
def database() -> Iterator[str]:
    """A database of its own with the demo region: the command commits for real."""
    url = fresh_demo_database("geo_patrol_cli_incidents")
    previous = os.environ.get("GEO_PATROL_DATABASE_URL")
    os.environ["GEO_PATROL_DATABASE_URL"] = url
    yield url
    if previous is None:
        del os.environ["GEO_PATROL_DATABASE_URL"]
    else:
        os.environ["GEO_PATROL_DATABASE_URL"] = previous


def imported(url: str) -> int:
    """Incidents with a platform id."""
    engine = make_engine(url)
    with engine.connect() as connection:
        sql = "SELECT count(*) FROM incidents WHERE external_id IS NOT NULL"
        found = int(connection.execute(text(sql)).scalar_one())
    engine.dispose()
    return found


def test_import_dry_run_then_for_real_then_again(database: str, tmp_path: Path) -> None:
    export = tmp_path / "12345.csv"
    export.write_bytes(EXPORT.encode("gb18030"))
    dry = runner.invoke(app, ["incidents", "import", str(export), "--source", "12345", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "would_store=2" in dry.output and imported(database) == 0
    assert "row 2\twould_store\t320509" in dry.output
    done = runner.invoke(app, ["incidents", "import", str(export), "--source", "12345"])
    assert done.exit_code == 0 and "stored=2" in done.output and imported(database) == 2
    again = runner.invoke(app, ["incidents", "import", str(export), "--source", "12345"])
    assert "already_imported=2" in again.output and imported(database) == 2


def test_refused_row_exits_2_unless_skipped(database: str, tmp_path: Path) -> None:
    export = tmp_path / "bad.csv"
    rows = EXPORT.replace("C-", "B-").replace("电鱼", "噪音")
    export.write_text(rows, encoding="utf-8-sig")
    before = imported(database)
    refused = runner.invoke(app, ["incidents", "import", str(export), "--source", "12345"])
    assert refused.exit_code == 2
    assert "row 3, 诉求类型" in refused.output and imported(database) == before
    skipped = runner.invoke(
        app, ["incidents", "import", str(export), "--source", "12345", "--skip-errors"]
    )
    assert skipped.exit_code == 0 and "stored=1" in skipped.output
    assert imported(database) == before + 1
    table = tmp_path / "map.csv"
    table.write_text("噪音,illegal_discharge\n", encoding="utf-8")
    mapped = runner.invoke(
        app, ["incidents", "import", str(export), "--source", "12345", "--categories", str(table)]
    )
    assert mapped.exit_code == 0 and "already_imported=1" in mapped.output
    assert imported(database) == before + 2
