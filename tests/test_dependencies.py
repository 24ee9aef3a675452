"""The distributions declared in pyproject.toml are those the code imports: every third-party
import of geo_patrol/ is a declared dependency, every one of bench/ a dependency or in the
`bench` extra, and a declared dependency that is never imported says why it is there."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

from tests.support.paths import ROOT

PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]

# Declared, never imported by name: what they are for.
NOT_IMPORTED = {
    "python-multipart": "FastAPI reads form bodies (sign-in, uploads) with it",
    "tzdata": "the Asia/Shanghai zone where the system has no time zone database",
}
# Imported, deliberately not a dependency: the import is optional and says what to install.
OPTIONAL = {
    "playwright": "`geo-patrol meeting-pack --png` (dev extra; a clear error without it)",
    "uvloop": "bench.live drives its clients on uvloop when available (uvicorn[standard])",
}


def _name(requirement: str) -> str:
    """The normalised distribution name of a requirement string."""
    found = re.match(r"[A-Za-z0-9_.-]+", requirement)
    assert found is not None, requirement
    return re.sub(r"[-_.]+", "-", found.group(0)).lower()


def _imported_modules(folder: Path) -> set[str]:
    """Top-level names of every module imported under `folder` (in functions too)."""
    names: set[str] = set()
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return names


def _third_party(folder: Path, *, installed: bool = True) -> dict[str, set[str]]:
    """Distribution -> the modules of it that `folder` imports (stdlib and our own left out);
    unless `installed`, a module not installed counts as a distribution of its own name."""
    providers = packages_distributions()
    ours = {"geo_patrol", "bench", "tests"}
    found: dict[str, set[str]] = {}
    for module in _imported_modules(folder) - set(sys.stdlib_module_names) - ours:
        if installed:
            assert module in providers, f"{module} (imported in {folder.name}/) is not installed"
        for distribution in providers.get(module, [module]):
            found.setdefault(_name(distribution), set()).add(module)
    return found


def test_geo_patrol_imports_only_declared_dependencies() -> None:
    declared = {_name(r) for r in PROJECT["dependencies"]}
    imported = _third_party(ROOT / "geo_patrol")
    undeclared = set(imported) - declared - set(OPTIONAL)
    assert not undeclared, {d: imported[d] for d in undeclared}
    unused = declared - set(imported) - set(NOT_IMPORTED)
    assert not unused, f"declared but never imported: {unused}"
    assert set(NOT_IMPORTED) <= declared
    # Guard: the scan sees the imports it should (a broken walk would find nothing).
    assert {"sqlalchemy", "folium", "jinja2", "branca", "uvicorn"} <= set(imported)


def test_optional_imports_are_in_an_extra_not_in_the_dependencies() -> None:
    declared = {_name(r) for r in PROJECT["dependencies"]}
    extras = {_name(r) for group in PROJECT["optional-dependencies"].values() for r in group}
    for distribution in OPTIONAL:
        assert distribution not in declared
    assert "playwright" in extras


def test_bench_imports_are_declared_for_the_bench_extra() -> None:
    available = {
        _name(r) for r in PROJECT["dependencies"] + PROJECT["optional-dependencies"]["bench"]
    }
    imported = _third_party(ROOT / "bench", installed=False)  # the bench extra may be absent
    missing = set(imported) - available - {"uvloop"}
    assert not missing, {d: imported[d] for d in missing}
    assert "geopandas" in imported
