"""Several app nodes start at once (docker/compose.yaml's app1 and app2), and `geo-patrol
serve` migrates the schema first on each: the migrations take an advisory lock, so the
second node waits for the first and then finds nothing to do, instead of failing on tables
the first one is creating."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable

from geo_patrol.db import migrate
from geo_patrol.db.engine import make_engine
from tests.support.paths import ROOT

MIGRATE = """
import sys
from geo_patrol.db import migrate
from geo_patrol.db.engine import make_engine
migrate.upgrade(make_engine(sys.argv[1]), sys.argv[2])
"""


def test_two_nodes_migrating_a_new_database_at_once_both_succeed(
    new_database: Callable[[str], str],
) -> None:
    url = new_database("geo_patrol_two_nodes_migrate")
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    # What `geo-patrol serve` does first, in two processes (alembic's `op` is one per process);
    # two revisions are enough to race (the extensions, alembic_version, the first tables).
    command = [sys.executable, "-c", MIGRATE, url, "0002"]
    nodes = [
        subprocess.Popen(command, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        for _ in range(2)
    ]
    outputs = [node.communicate(timeout=300)[0].decode(errors="replace") for node in nodes]
    assert [node.returncode for node in nodes] == [0, 0], [out[-2000:] for out in outputs]
    engine = make_engine(url)
    try:
        assert migrate.current_revision(engine) == "0002"
    finally:
        engine.dispose()
