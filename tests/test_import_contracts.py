"""The import contract of pyproject.toml ([tool.importlinter]), checked by the real
`lint-imports` of this environment: it holds for the package as it is, and it breaks, each
contract on its own, when a copy of the package gets an import that the contract forbids.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.support.paths import ROOT

# The venv's console script, next to the interpreter running the tests (not resolved: the
# interpreter may be a link out of the venv's bin).
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"
CONTRACTS = ("layers", "domains", "acyclic")


def lint_imports(tree: Path, *contracts: str) -> subprocess.CompletedProcess[str]:
    """Run lint-imports on the package in `tree` with its pyproject.toml (only `contracts`,
    if given). PYTHONPATH puts `tree` first, so that the package analysed is that copy and
    not whichever one the environment has installed."""
    chosen = [arg for contract in contracts for arg in ("--contract", contract)]
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", *chosen, str(tree / "pyproject.toml")],
        cwd=tree,
        env={**os.environ, "PYTHONPATH": str(tree), "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_the_contracts_are_declared() -> None:
    """Three contracts by id, over the whole package, every layer listed."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    assert config["root_package"] == "geo_patrol"
    kinds = {c["id"]: c["type"] for c in config["contracts"]}
    assert kinds == {"layers": "layers", "domains": "forbidden", "acyclic": "acyclic_siblings"}
    (layers,) = (c for c in config["contracts"] if c["id"] == "layers")
    assert layers["exhaustive"] is True
    packages = {p.name for p in (ROOT / "geo_patrol").iterdir() if (p / "__init__.py").exists()}
    named = {name.strip() for layer in layers["layers"] for name in layer.split("|")}
    assert named == packages


def test_the_package_keeps_every_contract() -> None:
    """lint-imports passes on the package as it is, having checked all three contracts."""
    done = lint_imports(ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"Contracts: {len(CONTRACTS)} kept, 0 broken." in done.stdout, done.stdout


# An import added to one module of a copy of the package, and the contracts it must break.
BREAKS = {
    # A patrol reaching up to incidents: below the HTTP layer, so only the layers (and the
    # cycle it closes between the top-level packages: incidents import patrols).
    "patrols imports incidents": (
        "geo_patrol/patrols/people.py",
        "import geo_patrol.incidents.queries",
        {"layers", "acyclic"},
    ),
    # A domain reaching the pages (nothing in web is imported back by meetings' imports).
    "geography imports web": (
        "geo_patrol/geography/levels.py",
        "import geo_patrol.web.markup",
        {"layers", "domains", "acyclic"},
    ),
    # A cycle inside one package and nothing else: the XML helpers importing a reader.
    "xml helpers import the gpx reader": (
        "geo_patrol/patrols/track/formats/xml.py",
        "import geo_patrol.patrols.track.formats.gpx",
        {"acyclic"},
    ),
}


@pytest.mark.parametrize("case", sorted(BREAKS))
def test_a_forbidden_import_breaks_its_contracts(case: str, tmp_path: Path) -> None:
    """Each contract is broken by exactly the imports it forbids, in a copy of the package."""
    module, line, broken = BREAKS[case]
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    shutil.copytree(
        ROOT / "geo_patrol", tmp_path / "geo_patrol", ignore=shutil.ignore_patterns("__pycache__")
    )
    assert lint_imports(tmp_path).returncode == 0  # the copy keeps them, as the package does
    target = tmp_path / module
    target.write_text(target.read_text() + f"\n{line}  # added by the test\n")
    for contract in CONTRACTS:
        done = lint_imports(tmp_path, contract)
        assert (done.returncode != 0) == (contract in broken), (contract, done.stdout)
    everything = lint_imports(tmp_path)
    assert everything.returncode != 0
    kept = len(CONTRACTS) - len(broken)
    assert f"{kept} kept, {len(broken)} broken." in everything.stdout
