"""Benchmark of the duty assessment (巡河考核) on a province: a county's period, the whole
province's, and /duty for a county over HTTP.

    python -m bench duty [--scale 1] [--runs 5] [--requests 50] [--rebuild] [--explain]

The province (bench/duty_province.py: 60,000 chiefs, 1M patrols over a year at scale 1) is
built once per scale and seed in its own database on the test server and kept: a later run
reuses it when the migrations, the generator, the scale and the seed are the same (its
patrols are moved by whole days so that the year still ends yesterday). Measured in the
same run, medians of --runs:

- ours: `duty.assessment.assess_chiefs` as an administrator for the current periods of
  the reference day (every chief in the period of their rule's kind: week, 旬, month),
  for one county (`DutyFilter(side=county)`) and for the whole province;
- floor: the same `done` per chief by one plain GROUP BY over the same tables and indexes
  (chiefs' rules, their patrols by member or device in the period, coverage of the stretch
  summed, flags and the share tested), without reasons, candidates, coverage union, last
  patrol or incidents: the least any implementation reading these rows pays. Its counts
  must equal ours (the `agree` column);
- HTTP: p50/p95 of GET /api/v1/duty?side=<county> and /duty?side=<county> through a real
  `geo-patrol serve`, signed in as an administrator (skipped, with a message, while the
  route answers 404).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import date, datetime
from functools import partial
from pathlib import Path

import httpx
import psycopg
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from bench.database import server_url
from bench.duty_province import ADMIN_LOGIN, PASSWORD, Built, build, cached
from bench.report import number, table
from bench.service import running_service
from geo_patrol.access.scope import Scope
from geo_patrol.core.local_time import LOCAL
from geo_patrol.db.clauses import statement
from geo_patrol.db.embedded import drop_database
from geo_patrol.db.engine import make_engine
from geo_patrol.db.tables import OPEN_STATUSES
from geo_patrol.duty.appointments import chief_visibility
from geo_patrol.duty.assessment import (
    CHIEF_DUTIES,
    DutyFilter,
    _where,
    assess_chiefs,
    current_periods,
    windows_params,
)

RESULTS = Path(__file__).resolve().parent / "results"
TARGETS = {"county": 2.0, "province": 30.0, "http_p95_ms": 200.0}

# The floor: `done` per chief, one GROUP BY, no reasons (see the module docstring).
FLOOR = """
WITH RECURSIVE windows AS (
    SELECT * FROM unnest(CAST(:kinds AS text[]), CAST(:firsts AS date[]),
                         CAST(:lasts AS date[]), CAST(:starts AS timestamptz[]),
                         CAST(:ends AS timestamptz[]))
        AS w(kind, first_day, last_day, starts, ends)
),
under AS (
    SELECT code FROM jurisdictions WHERE code = :side AND valid_to IS NULL
    UNION SELECT j.code FROM jurisdictions j JOIN under u ON j.parent_code = u.code
    WHERE j.valid_to IS NULL
),
chiefs AS (
    SELECT a.id, a.member_id, a.valid_from, a.valid_to, r.min_share, r.min_length_m,
           ARRAY(SELECT jsonb_array_elements_text(r.disqualifying_flags)) AS flags,
           w.starts, w.ends
    FROM chief_appointments a
    JOIN duty_rules r ON NOT r.joint AND r.level = a.level AND r.zone_id IS NULL
    JOIN windows w ON w.kind = r.period
    WHERE a.valid_from <= w.last_day AND coalesce(a.valid_to, w.last_day) >= w.first_day
      AND (CAST(:side AS text) IS NULL OR a.jurisdiction_code IN (SELECT code FROM under))
),
theirs AS (
    SELECT c.id, pm.patrol_id FROM chiefs c JOIN patrol_members pm ON pm.member_id = c.member_id
    UNION
    SELECT c.id, p.id FROM chiefs c JOIN devices d ON d.member_id = c.member_id
    JOIN patrols p ON p.device_id = d.id AND p.started_at >= c.starts AND p.started_at < c.ends
),
covered AS (
    SELECT t.id, t.patrol_id, sum(pc.covered_m) AS covered_m
    FROM theirs t JOIN chiefs c ON c.id = t.id
    JOIN patrols p ON p.id = t.patrol_id AND p.started_at >= c.starts AND p.started_at < c.ends
    JOIN patrol_coverage pc ON pc.patrol_id = p.id
    JOIN chief_stretches cs ON cs.appointment_id = t.id AND cs.segment_id = pc.segment_id
    WHERE (p.started_at AT TIME ZONE 'Asia/Shanghai')::date
          BETWEEN c.valid_from AND coalesce(c.valid_to, 'infinity')
      AND NOT coalesce(p.quality_flags, '[]') ?| c.flags
    GROUP BY t.id, t.patrol_id
),
stretch AS (
    SELECT cs.appointment_id, sum(s.length_m) AS length_m
    FROM chief_stretches cs JOIN river_segments s ON s.id = cs.segment_id
    WHERE cs.appointment_id IN (SELECT id FROM chiefs) GROUP BY cs.appointment_id
)
SELECT c.id, count(cv.patrol_id) FILTER (
    WHERE cv.covered_m >= c.min_share * st.length_m OR cv.covered_m >= c.min_length_m) AS done
FROM chiefs c JOIN stretch st ON st.appointment_id = c.id
LEFT JOIN covered cv ON cv.id = c.id
GROUP BY c.id
"""
SHIFT = """
UPDATE patrols SET started_at = started_at + :days * interval '1 day',
    ended_at = ended_at + :days * interval '1 day',
    closed_at = closed_at + :days * interval '1 day';
UPDATE incidents SET reported_at = reported_at + :days * interval '1 day',
    deadline_at = deadline_at + :days * interval '1 day';
UPDATE bench_duty_build SET reference_day = reference_day + :days
"""


def today() -> date:
    """The local (China Standard Time) day now."""
    return datetime.now(LOCAL).date()


def province(*, scale: float, seed: int, rebuild: bool) -> Built:
    """The cached province of this scale and seed, else a new one; its year ends yesterday."""
    server = server_url()
    found = None if rebuild else cached(server, scale=scale, seed=seed)
    if found is None:
        print(f"building the province at scale {scale} (seed {seed})...", flush=True)
        return build(server, scale=scale, seed=seed, reference_day=today())
    days = (today() - found.reference_day).days
    if days:
        print(f"moving the cached province's patrols {days} days on...", flush=True)
        engine = make_engine(found.url)
        with Session(engine) as session:
            for part in SHIFT.split(";"):
                session.execute(text(part), {"days": days})
            session.commit()
        engine.dispose()
        plain = make_url(found.url).set(drivername="postgresql")
        with psycopg.connect(plain.render_as_string(hide_password=False), autocommit=True) as c:
            c.execute("VACUUM ANALYZE patrols")
            c.execute("VACUUM ANALYZE incidents")
    return Built(found.url, today(), found.fill_seconds, found.rows, True)


def a_county(url: str) -> str:
    """The county in the middle of the province's list (every county is alike)."""
    engine = make_engine(url)
    with Session(engine) as session:
        codes = list(
            session.execute(
                text("SELECT code FROM jurisdictions WHERE level = 'county' ORDER BY code")
            ).scalars()
        )
    engine.dispose()
    return str(codes[len(codes) // 2])


def ours(session: Session, *, side: str | None, day: date) -> dict[int, int]:
    """`done` per appointment by the assessment (admin scope, current periods)."""
    duties = assess_chiefs(
        session,
        scope=Scope(everything=True),
        member_id=None,
        periods=current_periods(day),
        selected=DutyFilter(side=side),
    )
    return {duty.appointment_id: duty.done for duty in duties}


def floor(session: Session, *, side: str | None, day: date) -> dict[int, int]:
    """`done` per appointment by the plain GROUP BY."""
    rows = session.execute(text(FLOOR), {**windows_params(current_periods(day)), "side": side})
    return {int(row.id): int(row.done) for row in rows}


def timed(
    url: str, runs: int, work: Callable[[Session], dict[int, int]]
) -> tuple[list[float], list[float | None], dict[int, int]]:
    """Wall seconds of each run (a session of its own each), the CPU seconds its database
    backend and this process spent (None when the server is not on this machine), and the
    last run's answer."""
    engine = make_engine(url)
    seconds, cpu, answer = [], [], {}
    for _ in range(runs):
        with Session(engine) as session:
            backend = session.execute(text("SELECT pg_backend_pid()")).scalar_one()
            before, client = backend_cpu(backend), time.process_time()
            started = time.perf_counter()
            answer = work(session)
            seconds.append(time.perf_counter() - started)
            after, client = backend_cpu(backend), time.process_time() - client
            cpu.append(None if before is None or after is None else after - before + client)
    engine.dispose()
    return seconds, cpu, answer


def backend_cpu(pid: int) -> float | None:
    """User + system CPU seconds of a local process (a PostgreSQL backend), from /proc."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def explain(url: str, *, side: str | None, day: date) -> str:
    """EXPLAIN (ANALYZE, BUFFERS) of the assessment's statement for `side`."""
    sql = statement(
        CHIEF_DUTIES,
        visible=chief_visibility(Scope(everything=True), member_id=None),
        where=_where(DutyFilter(side=side)),
    )
    params = {**windows_params(current_periods(day)), "open_statuses": list(OPEN_STATUSES)}
    engine = make_engine(url)
    with Session(engine) as session:
        session.execute(text("SET LOCAL jit = off"))  # as assess_chiefs runs it
        plan = session.execute(
            text("EXPLAIN (ANALYZE, BUFFERS) " + sql.text).bindparams(**sql.compile().params),
            params,
        )
        lines = [str(row[0]) for row in plan]
    engine.dispose()
    return "\n".join(lines)


def http_latency(url: str, *, county: str, requests: int, workers: int) -> list[list[str]]:
    """p50/p95 of the duty API and page for a county; rows saying "skipped" on 404."""
    paths = [f"/api/v1/duty?side={county}", f"/duty?side={county}"]
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        with running_service(url, work / "data", work / "serve.log", workers, quiet=True) as srv:
            client = httpx.Client(base_url=srv.http, timeout=120)
            signed = client.post(
                "/api/v1/auth/login", json={"login": ADMIN_LOGIN, "password": PASSWORD}
            )
            signed.raise_for_status()
            for path in paths:
                rows.append(_latency_row(client, path, requests))
            client.close()
    return rows


def _latency_row(client: httpx.Client, path: str, requests: int) -> list[str]:
    """One path asked `requests` times one after the other (after two warm-up requests)."""
    first = client.get(path)
    if first.status_code == 404:
        print(f"GET {path}: 404, the route is not in this tree yet; skipped", flush=True)
        return [f"GET {path}", "skipped: 404", "—", "—", "—", "—"]
    first.raise_for_status()
    client.get(path)
    millis = []
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get(path)
        millis.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
    p95 = statistics.quantiles(millis, n=20)[-1] if len(millis) > 1 else millis[0]
    verdict = "yes" if p95 < TARGETS["http_p95_ms"] else "no"
    size = f"{len(first.content) / 1000:,.0f} kB"
    return [
        f"GET {path}",
        str(requests),
        number(statistics.median(millis), 0),
        number(p95, 0),
        size,
        verdict,
    ]


def disagreements(a: dict[int, int], b: dict[int, int]) -> int:
    """Chiefs whose `done` differs between two answers (or who are in only one)."""
    return sum(1 for key in a.keys() | b.keys() if a.get(key) != b.get(key))


def assessment_rows(
    url: str, *, county: str, day: date, runs: int, province_runs: int
) -> list[list[str]]:
    """Ours and the floor for the county and the province: medians, ratio, agreement."""
    rows = []
    for label, side, count, target in (
        (f"county {county}", county, runs, TARGETS["county"]),
        ("province", None, province_runs, TARGETS["province"]),
    ):
        mine, cpu, answer = timed(url, count, partial(ours, side=side, day=day))
        base, _, peer = timed(url, count, partial(floor, side=side, day=day))
        differ = disagreements(answer, peer)
        spent = [c for c in cpu if c is not None]
        rows.append(
            [
                label,
                f"{len(answer):,}",
                number(statistics.median(mine), 2),
                number(max(mine), 2),
                number(statistics.median(spent), 2) if spent else "—",
                number(statistics.median(base), 2),
                f"{statistics.median(mine) / statistics.median(base):.1f}×",
                "yes" if differ == 0 else f"{differ} differ",
                "yes" if statistics.median(mine) < target else "no",
            ]
        )
        print(table(ASSESSMENT_HEADERS, rows[-1:]), flush=True)
    return rows


ASSESSMENT_HEADERS = (
    "assessed",
    "chiefs",
    "ours s (median)",
    "ours s (max)",
    "ours CPU s (db + client)",
    "floor s (median)",
    "ours/floor",
    "agree",
    "target met",
)
HTTP_HEADERS = ("request", "requests", "p50 ms", "p95 ms", "size", "p95 < 200 ms")


def build_rows(built: Built, scale: float) -> list[list[str]]:
    """What the province holds and how long its fill took."""
    rows = built.rows
    return [
        [
            str(scale),
            f"{rows['chief_appointments']:,}",
            f"{rows['patrols']:,}",
            f"{rows['patrol_members']:,}",
            f"{rows['patrol_coverage']:,}",
            f"{rows['chief_stretches']:,}",
            number(built.fill_seconds, 0) + (" (cached)" if built.reused else ""),
        ]
    ]


BUILD_HEADERS = (
    "scale",
    "chiefs",
    "patrols",
    "patrol_members",
    "patrol_coverage",
    "chief_stretches",
    "fill s",
)


def main(argv: Sequence[str] | None = None) -> None:
    """Build or reuse the province, measure, print the tables (and keep them in results/)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="share of the province")
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--runs", type=int, default=5, help="runs of the county (median)")
    parser.add_argument("--province-runs", type=int, default=3, help="runs of the province")
    parser.add_argument("--requests", type=int, default=50, help="HTTP requests per path")
    parser.add_argument("--workers", type=int, default=1, help="worker processes of serve")
    parser.add_argument("--rebuild", action="store_true", help="do not reuse a cached province")
    parser.add_argument("--skip-http", action="store_true")
    parser.add_argument("--explain", action="store_true", help="print the county's plan")
    parser.add_argument("--drop", action="store_true", help="drop the province's database after")
    args = parser.parse_args(argv)
    built = province(scale=args.scale, seed=args.seed, rebuild=args.rebuild)
    try:
        out = [table(BUILD_HEADERS, build_rows(built, args.scale))]
        print(out[0], flush=True)
        county, day = a_county(built.url), built.reference_day
        if args.explain:
            print(explain(built.url, side=county, day=day), flush=True)
        rows = assessment_rows(
            built.url, county=county, day=day, runs=args.runs, province_runs=args.province_runs
        )
        out.append(table(ASSESSMENT_HEADERS, rows))
        if not args.skip_http:
            out.append(
                table(
                    HTTP_HEADERS,
                    http_latency(
                        built.url, county=county, requests=args.requests, workers=args.workers
                    ),
                )
            )
            print(out[-1], flush=True)
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / "duty.md").write_text("\n\n".join(out) + "\n")
    finally:
        if args.drop:
            drop_database(built.url)
