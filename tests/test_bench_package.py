"""bench/ is a package run as `python -m bench <name>`: no sys.path edits, nothing imported
from tests/, every listed name a module with `main(argv)`."""

from __future__ import annotations

import ast
import os
import subprocess
import sys

from bench.__main__ import BENCHMARKS
from tests.support.paths import ROOT

BENCH = ROOT / "bench"


def test_bench_imports_nothing_from_tests_and_edits_no_path() -> None:
    modules = sorted(BENCH.glob("*.py"))
    assert len(modules) > 15
    for path in modules:
        source = path.read_text()
        assert "sys.path" not in source, path.name
        for node in ast.walk(ast.parse(source)):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            assert not [n for n in names if n.split(".")[0] == "tests"], path.name


def test_every_benchmark_name_has_a_main_taking_its_arguments() -> None:
    """Read, not imported: the bench extra (GeoPandas, Playwright) need not be installed."""
    for name in BENCHMARKS:
        tree = ast.parse((BENCH / f"{name}.py").read_text())
        mains = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "main"]
        assert len(mains) == 1, name
        assert [a.arg for a in mains[0].args.args] == ["argv"], name
        assert mains[0].args.defaults, f"bench.{name}.main(argv) needs a default (None)"


def test_python_m_bench_runs_a_benchmark() -> None:
    """The dispatcher from a shell, on a benchmark small enough for a test (2,000 fixes)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "bench", "cleaning", "2000"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "| track (2,000 fixes) | clean (s) | speed jumps |"
    assert len(lines) == 6  # header, rule, four tracks
    listing = subprocess.run(
        [sys.executable, "-m", "bench"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert listing.returncode == 0
    assert [line.split()[0] for line in listing.stdout.splitlines()[2:]] == list(BENCHMARKS)
    unknown = subprocess.run(
        [sys.executable, "-m", "bench", "nope"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert unknown.returncode == 2 and "unknown benchmark 'nope'" in unknown.stderr
