"""Every river chief and joint pair of the demo (its roster and simulated quarter of
patrols, geo_patrol.demo.quarter) assessed by the product and by the independent oracle of
tests/support/duty_oracle.py, which reads every input back from the database."""

from __future__ import annotations

import importlib
import importlib.util
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from geo_patrol.core.settings import Settings
from tests.support.duty_checks import agree_on_everything
from tests.support.duty_oracle import KINDS, SHANGHAI, windows_over

# The quarter is geo_patrol.demo.quarter's (item 5 of issue 14), merged apart from this file.
pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("geo_patrol.demo.quarter") is None,
    reason="this tree has no simulated quarter of the chiefs' patrols",
)


def test_everything_on_the_demo_agrees(demo_session: Session, tmp_path: Path) -> None:
    """Every chief and joint pair of the demo over its simulated quarter (the demo's roster
    and geo_patrol.demo.quarter), in every period of the last 100 days."""
    quarter = importlib.import_module("geo_patrol.demo.quarter")
    now = datetime.now(UTC)
    quarter.simulate_quarter(demo_session, settings=Settings(data_dir=tmp_path), now=now)
    today = now.astimezone(SHANGHAI).date()
    windows = [w for kind in KINDS for w in windows_over(kind, today - timedelta(days=100), today)]
    assert agree_on_everything(demo_session, windows=windows, now=now) > 30
