"""`python -m bench duty` at a tiny scale (one town: 60 chiefs, 1,000 patrols), so the
benchmark of the duty assessment cannot rot: it builds its province, measures ours and the
floor (which must agree on every chief's count), asks /duty over HTTP (or says why not)
and drops its database."""

from __future__ import annotations

import os
import subprocess
import sys

import psycopg
from sqlalchemy.engine import make_url

from tests.support.paths import ROOT

SEED = 9001  # its own database name, apart from a benchmark run by hand


def test_the_duty_benchmark_runs_at_a_tiny_scale(database_url: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "GEO_PATROL_TEST_DATABASE_URL": database_url}
    options = ["--runs", "1", "--province-runs", "1", "--requests", "2", "--rebuild", "--drop"]
    done = subprocess.run(
        [sys.executable, "-m", "bench", "duty", "--scale", "0.001", "--seed", str(SEED), *options],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.splitlines()
    built = next(line for line in lines if line.startswith("| 0.001 |"))
    assert built.split("|")[2].strip() == "60"  # chiefs
    assert built.split("|")[3].strip() == "1,000"  # patrols
    assessed = [line for line in lines if line.startswith(("| county ", "| province "))]
    assert {line.split("|")[1].split()[0] for line in assessed} == {"county", "province"}
    for line in assessed:
        assert line.split("|")[8].strip() == "yes", line  # ours and the floor agree
    requests = [line for line in lines if line.startswith("| GET /")]
    assert len(requests) == 2
    for line in requests:
        cells = [cell.strip() for cell in line.split("|")]
        assert cells[2] == "skipped: 404" or float(cells[4].replace(",", "")) > 0, line
    maintenance = make_url(database_url).set(drivername="postgresql", database="postgres")
    with psycopg.connect(maintenance.render_as_string(hide_password=False)) as conn:
        left = conn.execute(
            "SELECT count(*) FROM pg_database WHERE datname = %s",
            (f"geo_patrol_bench_duty_0_001_{SEED}",),
        ).fetchone()
    assert left == (0,)
