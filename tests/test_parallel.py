"""The suite on two xdist workers (tests/support/workers.py, scheduling.py): names of each
worker's own, what is built once per run, the cluster started by two processes at once, a
test file at a time on one worker, and a service started again when its port was taken."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from geo_patrol.db.embedded import EmbeddedCluster
from tests.support import service as service_module
from tests.support.paths import ROOT
from tests.support.workers import STATE, worker_name


def test_a_name_is_the_workers_own_under_xdist_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw3")
    assert worker_name("geo_patrol_cli") == "geo_patrol_cli_gw3"
    assert worker_name("geo_patrol_cli_gw3") == "geo_patrol_cli_gw3"
    monkeypatch.delenv("PYTEST_XDIST_WORKER")
    assert worker_name("geo_patrol_cli") == "geo_patrol_cli"


RACER = """
import sys, time
from pathlib import Path
from tests.support.workers import once_per_run

def build() -> str:
    with Path(sys.argv[2]).open("a") as built:
        built.write("built\\n")
    time.sleep(1.0)  # long enough for the other process to ask meanwhile
    return "made once"

print(once_per_run(sys.argv[1], build))
"""


def _racers(script: str, args: list[str], run: str) -> list[subprocess.Popen[str]]:
    """Two processes as the workers gw0 and gw1 of run `run`, started at once."""
    return [
        subprocess.Popen(
            [sys.executable, "-c", script, *args],
            cwd=ROOT,
            env={
                **os.environ,
                "PYTHONPATH": str(ROOT),
                "PYTEST_XDIST_WORKER": worker,
                "PYTEST_XDIST_TESTRUNUID": run,
            },
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for worker in ("gw0", "gw1")
    ]


def test_what_one_run_builds_once_is_built_by_one_worker(tmp_path: Path) -> None:
    key = f"probe-{uuid.uuid4().hex[:8]}"
    log = tmp_path / "built.log"
    try:
        racers = _racers(RACER, [key, str(log)], run=uuid.uuid4().hex)
        outputs = [racer.communicate(timeout=120) for racer in racers]
        assert [racer.returncode for racer in racers] == [0, 0], outputs
        assert [out.strip() for out, _ in outputs] == ["made once", "made once"]
        assert log.read_text() == "built\n"  # one build, the other worker read it
        # The next run builds again.
        again = _racers(RACER, [key, str(log)], run=uuid.uuid4().hex)
        assert [racer.wait(timeout=120) for racer in again] == [0, 0]
        assert log.read_text() == "built\nbuilt\n"
    finally:
        for leftover in (STATE / f"{key}.json", STATE / f"{key}.lock"):
            leftover.unlink(missing_ok=True)


STARTER = """
import sys
from pathlib import Path
from tests.support.database import start_cluster

print(start_cluster(Path(sys.argv[1])))
"""


@pytest.fixture
def cluster_folder(request: pytest.FixtureRequest) -> Iterator[Path]:
    """A folder for a cluster of the test's own under var/test (reachable by the server
    user); the cluster stopped and the folder removed afterwards."""
    folder = ROOT / "var" / "test" / f"race-{worker_name('cluster')}" / "pg"
    yield folder
    cluster = EmbeddedCluster(folder)
    cluster.down()
    subprocess.run(["rm", "-rf", str(cluster.root), str(folder.parent)], check=True)


def test_two_processes_starting_the_cluster_at_once_make_one(cluster_folder: Path) -> None:
    racers = _racers(STARTER, [str(cluster_folder)], run=uuid.uuid4().hex)
    outputs = [racer.communicate(timeout=300) for racer in racers]
    assert [racer.returncode for racer in racers] == [0, 0], outputs
    urls = {out.strip() for out, _ in outputs}
    assert len(urls) == 1, urls
    cluster = EmbeddedCluster(cluster_folder)
    assert cluster.running()
    assert make_url(urls.pop()).query["port"] == str(cluster.port())


CONFTEST = """
import pytest

@pytest.hookimpl(optionalhook=True, tryfirst=True)
def pytest_xdist_make_scheduler(config, log):
    from tests.support.scheduling import FileOrGroupScheduling
    together = {"test_alpha.py": "together", "test_omega.py": "together"}
    return FileOrGroupScheduling(config, log, groups=together)
"""

# Each test records the worker that ran it and the order of its file's tests.
MODULE = """
import json, os, pytest
from pathlib import Path

@pytest.mark.parametrize("n", range(6))
def test_record(n):
    with Path({log!r}).open("a") as log:
        log.write(json.dumps([__name__, os.environ["PYTEST_XDIST_WORKER"], n]) + "\\n")
"""

GROUPED = """
import json, os
from pathlib import Path

def test_{name}():
    with Path({log!r}).open("a") as log:
        log.write(json.dumps(["{name}", os.environ["PYTEST_XDIST_WORKER"], 0]) + "\\n")
"""


def test_two_workers_run_a_test_file_at_a_time(tmp_path: Path) -> None:
    suite = tmp_path / "suite"
    suite.mkdir()
    log = tmp_path / "ran.jsonl"
    (suite / "conftest.py").write_text(CONFTEST)
    for number in range(4):
        (suite / f"test_file{number}.py").write_text(MODULE.format(log=str(log)))
    for name in ("alpha", "omega"):
        (suite / f"test_{name}.py").write_text(GROUPED.format(name=name, log=str(log)))
    command = ["-m", "pytest", "-p", "no:cacheprovider", "-q", "-n", "2", "--dist", "loadgroup"]
    done = subprocess.run(
        [sys.executable, *command, "--rootdir", str(suite), str(suite)],
        cwd=ROOT,
        env={key: value for key, value in os.environ.items() if not key.startswith("PYTEST_")}
        | {"PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    ran = [json.loads(line) for line in log.read_text().splitlines()]
    assert len(ran) == 4 * 6 + 2
    workers: dict[str, set[str]] = {}
    for module, worker, _ in ran:
        workers.setdefault(module, set()).add(worker)
    # Each file on one worker, the two files of the group on the same one, both workers used.
    assert all(len(ran_on) == 1 for ran_on in workers.values()), workers
    assert workers["alpha"] == workers["omega"]
    assert set[str]().union(*workers.values()) == {"gw0", "gw1"}
    for module in (f"test_file{number}" for number in range(4)):
        assert [n for name, _, n in ran if name == module] == list(range(6))


def test_a_service_whose_port_was_taken_meanwhile_starts_on_others(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    taken = socket.create_server(("127.0.0.1", 0))
    held = int(taken.getsockname()[1])
    chosen: list[int] = []
    real_free_port = service_module.free_port

    def first_a_taken_one() -> int:
        chosen.append(held if not chosen else real_free_port())
        return chosen[-1]

    monkeypatch.setattr(service_module, "free_port", first_a_taken_one)
    try:
        service = service_module.start_service(database_url, tmp_path)
    finally:
        taken.close()
    try:
        assert chosen[0] == held and len(chosen) == 4  # two ports, then two others
        assert service.http == f"http://127.0.0.1:{chosen[2]}"
        assert "address already in use" in service.log_text().lower()
    finally:
        service.stop()
