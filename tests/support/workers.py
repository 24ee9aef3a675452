"""What each pytest-xdist worker keeps to itself, and what the workers of one run share.

`./run test` runs the suite on two workers (processes gw0 and gw1; tests/conftest.py sends
each test file to one of them). They share the embedded cluster, whose start is guarded by a
file lock, and databases that are built once per run and copied (template databases); each
keeps its own databases (every name a test gives is suffixed with the worker's id) and its
own data folder. Without xdist (`-n 0`, `GEO_PATROL_TEST_WORKERS=0`) nothing is suffixed.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from tests.support.paths import ROOT

# Lock files and the record of what this run built once, beside the test cluster.
STATE = ROOT / "var" / "test"


def worker_id() -> str:
    """This process's xdist worker ('gw0', 'gw1' ...), or '' when the suite runs serially."""
    return os.environ.get("PYTEST_XDIST_WORKER", "")


def run_id() -> str:
    """The id every worker of one xdist run shares ('' when the suite runs serially)."""
    return os.environ.get("PYTEST_XDIST_TESTRUNUID", "") if worker_id() else ""


def worker_name(name: str) -> str:
    """`name` as this worker's own: 'geo_patrol_test_gw1' under xdist, `name` serially."""
    worker = worker_id()
    if not worker or name.endswith(f"_{worker}"):
        return name
    return f"{name}_{worker}"


@contextmanager
def run_lock(name: str) -> Iterator[None]:
    """Hold the lock file var/test/NAME.lock (the workers of a run, and other runs in the same
    checkout, wait for each other here); released when the process ends, whatever happens."""
    STATE.mkdir(parents=True, exist_ok=True)
    with (STATE / f"{name}.lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


_BUILT: dict[str, str] = {}


def once_per_run(key: str, build: Callable[[], str]) -> str:
    """The value `build` returns, computed by one worker of this run (the first to ask) while
    the others wait for it, then read by them from var/test/KEY.json; serially, once per
    process. `build` must return something every worker can use: a template's URL."""
    if key in _BUILT:
        return _BUILT[key]
    run = run_id()
    if not run:
        _BUILT[key] = build()
        return _BUILT[key]
    record = STATE / f"{key}.json"
    with run_lock(key):
        built = json.loads(record.read_text()) if record.exists() else {}
        if built.get("run") != run:
            built = {"run": run, "value": build()}
            record.write_text(json.dumps(built))
    _BUILT[key] = str(built["value"])
    return _BUILT[key]
