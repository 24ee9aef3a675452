"""geo-patrol rivers flow and geo-patrol import rivers --flow, against a database of their own."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from geo_patrol.cli.app import app
from geo_patrol.db.engine import make_engine
from tests.support.database import fresh_database

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "vector"
runner = CliRunner()


@pytest.fixture(scope="module")
def rivers_database() -> Iterator[str]:
    """A database of its own: the command commits for real."""
    url = fresh_database("geo_patrol_rivers_cli")
    previous = os.environ.get("GEO_PATROL_DATABASE_URL")
    os.environ["GEO_PATROL_DATABASE_URL"] = url
    yield url
    if previous is None:
        del os.environ["GEO_PATROL_DATABASE_URL"]
    else:
        os.environ["GEO_PATROL_DATABASE_URL"] = previous


def flows(url: str) -> dict[str, tuple[str | None, int | None]]:
    """Each river's flow and the seq of its most upstream segment."""
    engine = make_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT r.code, r.flow, (SELECT s.seq FROM river_segments s"
                " WHERE s.river_id = r.id AND s.flow_order = 0) FROM rivers r"
            )
        ).all()
    engine.dispose()
    return {code: (flow, seq) for code, flow, seq in rows}


def test_import_with_a_flow_then_turn_one_round(rivers_database: str) -> None:
    rivers = str(FIXTURES / "rivers.geojson")
    refused = runner.invoke(app, ["import", "rivers", rivers, "--flow", "uphill"])
    assert refused.exit_code == 2 and "uphill" in refused.output
    done = runner.invoke(app, ["import", "rivers", rivers, "--flow", "as_drawn"])
    assert done.exit_code == 0, done.output
    assert flows(rivers_database) == {"R-TPH": ("as_drawn", 0), "R-HQT": ("as_drawn", 0)}
    turned = runner.invoke(app, ["rivers", "flow", "R-TPH", "reversed"])
    assert turned.exit_code == 0 and "R-TPH: flow reversed" in turned.output
    after = flows(rivers_database)
    assert after["R-TPH"][0] == "reversed" and after["R-TPH"][1] != 0
    again = runner.invoke(app, ["rivers", "flow", "R-TPH", "reversed"])
    assert "(unchanged)" in again.output
    unknown = runner.invoke(app, ["rivers", "flow", "R-TPH", "unknown"])
    assert unknown.exit_code == 0 and flows(rivers_database)["R-TPH"] == (None, None)
    missing = runner.invoke(app, ["rivers", "flow", "R-NONE", "reversed"])
    assert missing.exit_code == 2 and "R-NONE" in missing.output
