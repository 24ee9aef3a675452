"""docker/Caddyfile as Caddy itself reads it (`caddy adapt`: its JSON configuration)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tests.support.compose import COMPOSE

CADDYFILE = COMPOSE.parent / "Caddyfile"


def caddy() -> str:
    """The caddy program (`./run test` installs Debian's package)."""
    found = shutil.which("caddy")
    assert found, "caddy is not installed: apt-get install caddy (./run test does it)"
    return found


def adapt(environment: dict[str, str], home: Path) -> dict[str, Any]:
    """The Caddyfile as Caddy itself reads it (its JSON), with these variables set."""
    done = subprocess.run(
        [caddy(), "adapt", "--config", str(CADDYFILE), "--adapter", "caddyfile"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
        env={"PATH": os.environ["PATH"], "HOME": str(home), **environment},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    config: dict[str, Any] = json.loads(done.stdout)
    return config


def walk(node: object) -> Iterator[dict[str, Any]]:
    """Every JSON object in `node`, depth first."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from walk(value)
