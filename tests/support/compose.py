"""docker/compose.yaml, read as the tests of its PostgreSQL settings need it."""

from __future__ import annotations

from typing import Any

import yaml  # type: ignore[import-untyped]  # PyYAML comes with schemathesis (tests)

from tests.support.paths import ROOT

COMPOSE = ROOT / "docker" / "compose.yaml"


def server_settings(command: list[str]) -> dict[str, str]:
    """The server's `-c name=value` settings."""
    pairs = [command[i + 1] for i, arg in enumerate(command) if arg == "-c"]
    return dict(pair.split("=", 1) for pair in pairs)


def compose_file() -> dict[str, Any]:
    """The compose file, parsed."""
    return dict(yaml.safe_load(COMPOSE.read_text()))
