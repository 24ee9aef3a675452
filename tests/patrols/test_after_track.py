"""patrols.after_track: incidents' verification is registered in every process that
finishes patrols, though patrols never import incidents.

Each entry point is imported in a fresh interpreter (a registration made by this test
process would prove nothing), and patrols alone must register nothing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.support.paths import ROOT

VERIFY = "geo_patrol.incidents.workflow.verify_passed_incidents"


def registered_after_importing(module: str) -> list[str]:
    """The followers registered once a fresh interpreter has imported `module`."""
    script = (
        f"import json, {module}\n"
        "from geo_patrol.patrols.after_track import followers\n"
        "print(json.dumps(followers()))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    found: list[str] = json.loads(done.stdout.strip().splitlines()[-1])
    return found


@pytest.mark.parametrize(
    "entry",
    [
        "geo_patrol.api.app",  # the service: uploads and live patrols
        "geo_patrol.demo.simulate",  # `geo-patrol demo`
        "bench.upload",
        "bench.export",
    ],
)
def test_every_entry_that_finishes_patrols_verifies_incidents(entry: str) -> None:
    """Importing the entry registers incidents' verification, exactly once."""
    assert registered_after_importing(entry) == [VERIFY]


def test_patrols_alone_register_nothing() -> None:
    """The upload path by itself knows no follower: the registration is incidents' own."""
    assert registered_after_importing("geo_patrol.patrols.upload") == []
