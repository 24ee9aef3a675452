"""docker/compose.yaml: the PostGIS server archives its WAL into a volume of its own."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]  # PyYAML comes with schemathesis (tests)

COMPOSE = Path(__file__).resolve().parents[2] / "docker" / "compose.yaml"


def _settings(command: list[str]) -> dict[str, str]:
    """The server's `-c name=value` settings."""
    pairs = [command[i + 1] for i, arg in enumerate(command) if arg == "-c"]
    return dict(pair.split("=", 1) for pair in pairs)


def _compose() -> dict[str, Any]:
    """The compose file, parsed."""
    return dict(yaml.safe_load(COMPOSE.read_text()))


def test_the_database_archives_wal_into_a_mounted_volume() -> None:
    compose = _compose()
    db = compose["services"]["db"]
    settings = _settings(db["command"])
    assert db["command"][0] == "postgres"
    assert settings["wal_level"] == "replica" and settings["archive_mode"] == "on"
    # %p is the segment's path, %f its name; never overwrite an archived segment.
    archive = settings["archive_command"]
    target = re.fullmatch(r"test ! -f (\S+)/%f && cp %p \1/%f", archive)
    assert target is not None, archive
    mounts = {mount.split(":")[1]: mount.split(":")[0] for mount in db["volumes"]}
    assert "/archive" in mounts and target.group(1).startswith("/archive/")
    assert mounts["/archive"] in compose["volumes"]
    assert mounts["/archive"] != mounts["/var/lib/postgresql/data"]
    # The entrypoint wrapper creates the folder for postgres, then runs the image's own.
    script = db["entrypoint"][2]
    assert target.group(1) in shlex.split(script)
    assert 'exec docker-entrypoint.sh "$$@"' in script
