"""Releases: one version (geo_patrol/__init__.py) that pyproject.toml, the changelog and every
migration agree with; `alembic revision` writes the version into a new migration."""

from __future__ import annotations

import re
import shutil
import tomllib
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

from geo_patrol import __version__
from geo_patrol.db import migrate
from tests.support.paths import ROOT

INTRODUCED = re.compile(r"^Introduced in: geo-patrol (\d+\.\d+\.\d+)$", re.M)


def _version(text: str) -> tuple[int, ...]:
    """A version string as a comparable tuple."""
    return tuple(int(part) for part in text.split("."))


def _released() -> list[str]:
    """The versions the changelog has a section for, newest first."""
    text = (ROOT / "CHANGELOG.md").read_text()
    return re.findall(r"^## \[(\d+\.\d+\.\d+)\] - \d{4}-\d{2}-\d{2}$", text, re.M)


def test_pyproject_reads_the_version_from_the_package() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "version" not in pyproject["project"]
    assert pyproject["project"]["dynamic"] == ["version"]
    dynamic = pyproject["tool"]["setuptools"]["dynamic"]["version"]
    assert dynamic == {"attr": "geo_patrol.__version__"}


def test_the_changelog_names_the_version() -> None:
    released = _released()
    assert released[0] == __version__
    assert released == sorted(released, key=_version, reverse=True)
    assert "## [Unreleased]" in (ROOT / "CHANGELOG.md").read_text()


def test_every_migration_says_which_version_introduced_it() -> None:
    """One `Introduced in:` line per migration docstring, a version of the changelog, never
    decreasing from one revision to the next."""
    script = ScriptDirectory.from_config(migrate.alembic_config())
    revisions = list(reversed(list(script.walk_revisions())))
    assert len(revisions) >= 12
    versions = []
    for revision in revisions:
        assert revision.module.__doc__ is not None, revision.path
        found = INTRODUCED.findall(revision.module.__doc__)
        assert len(found) == 1, revision.path
        versions.append(found[0])
    assert set(versions) <= set(_released())
    assert versions == sorted(versions, key=_version)


def test_a_new_revision_says_the_current_version(tmp_path: Path) -> None:
    """script.py.mako writes geo_patrol.__version__ (on a copy of the migrations)."""
    copy = tmp_path / "migrations"
    shutil.copytree(migrate.MIGRATIONS, copy, ignore=shutil.ignore_patterns("__pycache__"))
    config = Config()
    config.set_main_option("script_location", str(copy))
    command.revision(config, message="probe", rev_id="9999")
    (made,) = (copy / "versions").glob("9999_*.py")
    text = made.read_text()
    assert INTRODUCED.findall(text) == [__version__]
    assert text.startswith('"""probe\n')
