"""A year and a province: the same calls timed at 1x, 10x and 100x of a stated base, and the
growth of each fitted (issue 17, item 3).

    python -m bench year [--scale 1,10,100] [--runs 3] [--live-seconds 5] [--keep]

The base (1x) is 1 % of a county zone's year (bench/county_year.py: 20 teams, 2 patrols a
team a day, 1-3 h at a fix a second, 20 incidents a day): 146 patrols over 365 days, about
a million raw fixes, 73 incidents. 100x is the whole year (14,600 patrols, about 105M
fixes). Beside it, the province sample of bench/duty_province.py at scale/100 (1x: one
county of 600 chiefs and 10,000 patrols; 100x: 60,000 chiefs, a million patrols).

Each size gets a database of its own (`geo_patrol_bench_year_<scale>`), filled, vacuumed,
then measured (medians of --runs): live ingest (100 phones flat out through `geo-patrol
serve`), one upload of a 2-hour walk (`upload_patrol`), /map and track tiles z8-z16 (the
default 30 days and the whole year), effort, uncovered stretches and duty, the meeting pack,
OGC API paging (patrols and incidents), the CSV exports of patrols and incidents, backup and
restore (`geo_patrol.db.backup`/`restore`), and last the retention drop of the oldest month
(`patrols.partitions.retire`, when patrol_points is partitioned). Then, per measure, the
log-log slope of seconds against size.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import partial
from importlib import import_module
from pathlib import Path

import httpx
import numpy as np
import psycopg
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from bench import database, live
from bench.county_year import CountyYear, Filled, network, walk
from bench.duty import backend_cpu
from bench.report import number, table
from bench.service import running_service
from bench.tracks import Track, gpx_bytes
from geo_patrol.access.principal import command_line_principal
from geo_patrol.core.local_time import LOCAL
from geo_patrol.core.settings import Settings
from geo_patrol.db.backup import backup
from geo_patrol.db.embedded import drop_database, fresh_database
from geo_patrol.db.engine import make_engine
from geo_patrol.db.restore import restore
from geo_patrol.patrols.upload import UploadRequest, upload_patrol

RESULTS = Path(__file__).resolve().parent / "results"
PASSWORD = "geo-patrol-demo"
ZONE = "ZONE-SZ-WJJ"
CENTRE = (120.66, 30.88)  # the Shengze-Wangjiangjing border, where the demo rivers meet
ZOOMS = (8, 10, 12, 14, 16)
PHONES = 100
SEED = 17
FLAT, GROWS = 0.2, 0.7  # slope bounds: flat below, about linear above


@dataclass
class Size:
    """One size's fill and measures (seconds per run; None where not measured)."""

    scale: float
    filled: Filled | None = None
    rows: dict[str, int] = field(default_factory=dict)
    database_mb: float = 0.0
    seconds: dict[str, list[float]] = field(default_factory=dict)
    cpu: dict[str, list[float]] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)
    load: str = ""

    def median(self, name: str, cpu: bool = False) -> float | None:
        values = (self.cpu if cpu else self.seconds).get(name)
        return statistics.median(values) if values else None

    def record(self, name: str, measured: tuple[list[float], list[float]], per: int = 1) -> None:
        self.seconds[name] = [t / per for t in measured[0]]
        if measured[1]:
            self.cpu[name] = [t / per for t in measured[1]]


def today() -> date:
    """Today in China time (the product's days)."""
    return datetime.now(LOCAL).date()


def database_name(scale: float) -> str:
    return f"geo_patrol_bench_year_{str(scale).replace('.', '_')}"


def plain(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def build(scale: float, seed: int, settings: Settings) -> tuple[str, Size]:
    """A fresh database with the demo region and `scale` % of the county zone's year."""
    url = database.create(database_name(scale), resolved_incidents=0)
    size = Size(scale)
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            generator = CountyYear(share=scale / 100, seed=seed, today=today())
            size.filled = generator.fill(session, settings)
    except BaseException:
        engine.dispose()
        drop_database(url)
        raise
    engine.dispose()
    with psycopg.connect(plain(url), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    size.rows = counts(url)
    return url, size


COUNTED = (
    "patrols",
    "patrol_points",
    "patrol_jurisdictions",
    "patrol_crossings",
    "patrol_coverage",
    "patrol_members",
    "incidents",
    "teams",
)


def counts(url: str) -> dict[str, int]:
    """Rows of the tables the year fills, and the database's size in MB."""
    with psycopg.connect(plain(url)) as conn:
        found = {t: int(conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]) for t in COUNTED}  # type: ignore[index]
        found["database_mb"] = int(
            conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]  # type: ignore[index]
            // 1_000_000
        )
    return found


class CpuMeter:
    """CPU seconds of the service (with its workers) and of the database's backends: what a
    call costs on an idle machine, where wall time follows the other work on the 2 cores.
    (Parallel workers of a query, short-lived, are not seen.)"""

    def __init__(self, url: str, pid: int) -> None:
        self.conn = psycopg.connect(plain(url), autocommit=True)
        self.pid = pid

    def read(self) -> dict[int, float]:
        rows = self.conn.execute(
            "SELECT pid FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchall()
        found = {int(pid): backend_cpu(int(pid)) for (pid,) in rows}
        spent = {pid: cpu for pid, cpu in found.items() if cpu is not None}
        spent[0] = live.cpu_seconds(self.pid)
        return spent

    def spent(self, before: dict[int, float]) -> float:
        return sum(cpu - before.get(pid, 0.0) for pid, cpu in self.read().items())

    def close(self) -> None:
        self.conn.close()


def timed_runs(
    runs: int, work: Callable[[], object], meter: CpuMeter | None = None
) -> tuple[list[float], list[float]]:
    """Wall seconds of `runs` calls (after one warm-up call), and their CPU seconds when a
    meter is given."""
    work()
    seconds, cpu = [], []
    for _ in range(runs):
        before = meter.read() if meter else {}
        started = time.perf_counter()
        work()
        seconds.append(time.perf_counter() - started)
        if meter:
            cpu.append(meter.spent(before))
    return seconds, cpu


def get(client: httpx.Client, path: str) -> int:
    """GET `path`, all of its body; its size (raises on an error status)."""
    answer = client.get(path)
    answer.raise_for_status()
    return len(answer.content)


def get_all(client: httpx.Client, paths: list[str]) -> int:
    """GET each path in turn; their bytes."""
    return sum(get(client, path) for path in paths)


def walk_collection(client: httpx.Client, first: str, pages: int | None) -> int:
    """Follow an OGC API collection's next links (at most `pages`); features seen."""
    seen, path, page = 0, first, 0
    while path and (pages is None or page < pages):
        answer = client.get(path)
        answer.raise_for_status()
        body = answer.json()
        seen += len(body["features"])
        path = next((link["href"] for link in body["links"] if link["rel"] == "next"), "")
        page += 1
    return seen


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    """The web-mercator tile holding a point."""
    n = 2**z
    y = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2
    return int((lon + 180) / 360 * n), int(y * n)


def tile_paths(z: int, query: str) -> list[str]:
    """The tile of the centre at zoom z and its east and north neighbours."""
    x, y = tile_of(*CENTRE, z)
    near = [(x, y), (x + 1, y), (x, y - 1)]
    return [f"/tiles/tracks/{z}/{x}/{y}.pbf{query}" for x, y in near]


def http_measures(url: str, size: Size, runs: int, work: Path, live_seconds: float) -> None:
    """Everything asked over HTTP of one `geo-patrol serve` (quiet, one worker), signed in
    as the demo administrator."""
    day = today()
    year = f"date_from={day - timedelta(days=364)}&date_to={day}"
    since = f"since={day - timedelta(days=365)}T00:00:00Z"
    month_ago = day - timedelta(days=30)
    paths = {
        "GET /healthz (control: no data read)": "/healthz",
        "GET /map (30 days)": "/map",
        "GET /map (the year)": f"/map?{year}",
        "effort by town, 30 days": "/api/v1/effort?by=jurisdiction&level=town&period=week",
        "effort by town, the year": f"/api/v1/effort?by=jurisdiction&level=town&period=month"
        f"&{since}",
        "uncovered stretches, 30 days": "/api/v1/coverage/uncovered?days=30",
        "uncovered stretches, the year": "/api/v1/coverage/uncovered?days=365",
        "duty (current periods)": "/api/v1/duty",
        "duty summary": "/api/v1/duty/summary",
        "meeting pack (a month)": f"/api/v1/meeting-pack?zone={ZONE}&from={month_ago}&to={day}",
        "patrols CSV, the year": f"/api/v1/patrols.csv?{since}",
        "incidents CSV, the year": f"/api/v1/incidents.csv?{since}",
    }
    with running_service(url, work / "data", work / "serve.log", 1, quiet=True) as server:
        client = httpx.Client(base_url=server.http, timeout=600)
        client.post(
            "/api/v1/auth/login", json={"login": "admin", "password": PASSWORD}
        ).raise_for_status()
        meter = CpuMeter(url, server.process.pid)
        for name, path in paths.items():
            try:
                size.record(name, timed_runs(runs, partial(get, client, path), meter))
                if any(word in name for word in ("/map", "pack", "CSV")):
                    size.notes[f"{name} kB"] = number(get(client, path) / 1000, 0)
            except httpx.HTTPError as error:
                size.notes[name] = f"failed: {error}"[:120]
        for z in ZOOMS:
            for label, query in (("30 days", ""), ("the year", f"?{year}")):
                tiles = tile_paths(z, query)
                measured = timed_runs(runs, partial(get_all, client, tiles), meter)
                size.record(f"tile z{z} ({label})", measured, per=len(tiles))
        size.record(
            "OGC patrols: 3 pages of 10 (with tracks)",
            timed_runs(
                runs,
                partial(walk_collection, client, "/ogc/collections/patrols/items?limit=10", 3),
                meter,
            ),
        )
        size.record(
            "OGC incidents: every page of 1,000",
            timed_runs(
                runs,
                partial(
                    walk_collection, client, "/ogc/collections/incidents/items?limit=1000", None
                ),
                meter,
            ),
        )
        meter.close()
        client.close()
        devices = database.issue_devices(url, PHONES)
        phones = [live.Phone(token, seed=i) for i, (_, token) in enumerate(devices)]
        rates = []
        for _ in range(runs):
            result = live.run_load(
                server.osmand, phones, seconds=live_seconds, rate=None, mode="flat out"
            )
            rates.append(result.ok / result.seconds)
            size.notes["live p99 ms"] = number(result.percentile_ms(99), 0)
        size.seconds["live ingest (positions/s, higher is better)"] = rates


def one_upload(url: str, settings: Settings, seed: int) -> tuple[float, float | None]:
    """Seconds of one `upload_patrol` of a 2-hour walk (7,200 fixes) along the rivers."""
    engine = make_engine(url)
    with Session(engine) as session:
        rng = np.random.default_rng(seed)
        xy = walk(network(session), 7200, rng)
        end = np.datetime64(datetime.now().replace(microsecond=0), "s")
        times = end - np.arange(len(xy))[::-1].astype("timedelta64[s]")
        data = gpx_bytes(Track(xy[:, 0].copy(), xy[:, 1].copy(), times), f"u{seed}")
        team = session.execute(text("SELECT min(id) FROM teams")).scalar_one()
        backend = session.execute(text("SELECT pg_backend_pid()")).scalar_one()
        cpu_before, own_before = backend_cpu(backend), time.process_time()
        started = time.perf_counter()
        upload_patrol(
            session,
            request=UploadRequest(team_id=int(team), filename=f"u{seed}.gpx", data=data),
            principal=command_line_principal(),
            settings=settings,
            address=None,
        )
        session.commit()
        seconds = time.perf_counter() - started
        cpu_after = backend_cpu(backend)
        cpu = (
            None
            if cpu_before is None or cpu_after is None
            else cpu_after - cpu_before + time.process_time() - own_before
        )
    engine.dispose()
    return seconds, cpu


def backup_restore(url: str, size: Size, settings: Settings, work: Path) -> None:
    """`geo_patrol.db.backup` of the database, and `restore` into a fresh one."""
    archive = work / "year.tar"
    started = time.perf_counter()
    backup(settings, url=url, archive=archive)
    size.seconds["backup"] = [time.perf_counter() - started]
    size.notes["backup MB"] = number(archive.stat().st_size / 1e6, 0)
    target = fresh_database(database.server_url(), database_name(size.scale) + "_restored")
    try:
        started = time.perf_counter()
        restore(
            settings.model_copy(update={"data_dir": work / "restored"}), url=target, archive=archive
        )
        size.seconds["restore"] = [time.perf_counter() - started]
    finally:
        drop_database(target)
        archive.unlink()


def retention(url: str, size: Size) -> None:
    """Drop the oldest month of raw fixes (keep the 11 before this month)."""
    engine = make_engine(url)
    with Session(engine) as session:
        partitioned = session.execute(
            text("SELECT relkind = 'p' FROM pg_class WHERE relname = 'patrol_points'")
        ).scalar_one()
        if not partitioned:
            size.notes["retention: drop a month"] = "not partitioned in this tree"
            engine.dispose()
            return
        partitions = import_module("geo_patrol.patrols.partitions")
        rows = session.execute(text("SELECT count(*) FROM patrol_points")).scalar_one()
        started = time.perf_counter()
        retired = partitions.retire(session, keep_months=11, today=today())
        session.commit()
        size.seconds["retention: drop a month"] = [time.perf_counter() - started]
        left = session.execute(text("SELECT count(*) FROM patrol_points")).scalar_one()
        size.notes["retention: drop a month"] = (
            f"{', '.join(retired.dropped) or 'nothing'}: {rows - left:,} fixes"
        )
    engine.dispose()


def province_duty(scale: float, runs: int, size: Size) -> None:
    """The duty assessment of a county and of the province sample at scale/100."""
    duty = import_module("bench.duty")
    built = duty.province(scale=scale / 100, seed=14, rebuild=False)
    county = duty.a_county(built.url)
    for name, side in (("duty: a county of the province", county), ("duty: the province", None)):
        seconds, cpu, _ = duty.timed(built.url, runs, partial(duty.ours, side=side, day=today()))
        size.seconds[name] = seconds
        if all(c is not None for c in cpu):
            size.cpu[name] = [float(c) for c in cpu if c is not None]
    size.notes["province"] = (
        f"{built.rows['chief_appointments']:,} chiefs, {built.rows['patrols']:,} patrols"
    )


def slope(xs: list[float], ys: list[float | None]) -> float | None:
    """Least-squares slope of log(y) on log(x) over the sizes measured."""
    pairs = [(math.log(x), math.log(y)) for x, y in zip(xs, ys, strict=True) if y and y > 0]
    if len(pairs) < 2:
        return None
    lx, ly = np.array(pairs).T
    return float(np.polyfit(lx, ly, 1)[0])


def verdict(value: float | None) -> str:
    if value is None:
        return "—"
    if abs(value) < FLAT:
        return "flat"
    return "grows ~linearly" if value >= GROWS else ("grows (sublinear)" if value > 0 else "falls")


def report(sizes: list[Size]) -> str:
    """The Markdown tables: the fill, each measure at each size, slope and verdict."""
    head = [
        "size",
        "patrols",
        "raw fixes",
        "jurisdiction rows",
        "coverage rows",
        "incidents",
        "DB MB",
        "templates uploaded (s/patrol)",
        "cloned s",
        "import s",
    ]
    rows = []
    for s in sizes:
        f = s.filled
        assert f is not None
        rows.append([
            f"{s.scale:g}×", f"{s.rows['patrols']:,}", f"{s.rows['patrol_points']:,}",
            f"{s.rows['patrol_jurisdictions']:,}", f"{s.rows['patrol_coverage']:,}",
            f"{s.rows['incidents']:,}", f"{s.rows['database_mb']:,}",
            f"{f.templates} ({number(statistics.median(f.template_seconds), 2)})",
            number(f.clone_seconds, 1), number(f.incident_seconds, 1),
        ])  # fmt: skip
    names: list[str] = []
    for s in sizes:
        names += [n for n in s.seconds if n not in names]
    xs = [s.scale for s in sizes]
    measures = []
    for name in names:
        unit = 1.0 if "positions/s" in name or name in ("backup", "restore") else 1000.0
        row = [name]
        for cpu in (False, True):
            values = [s.median(name, cpu) for s in sizes]
            k = slope(xs, values)
            row += [
                number(v * unit if v is not None else None, 0 if unit == 1.0 else 1) for v in values
            ]
            small = cpu and unit == 1000.0 and all(v is not None and v < 0.02 for v in values)
            row += [
                number(k, 2) if k is not None else "—",
                "flat (under 20 ms)" if small and k is not None else verdict(k),
            ]
        measures.append(row)
    heads = ["measure (ms; backup/restore s)"]
    for kind in ("wall", "CPU"):
        heads += [*[f"{kind} {s:g}×" for s in xs], f"{kind} slope", f"{kind} verdict"]
    notes = [
        f"- {s.scale:g}×: " + "; ".join(f"{k}: {v}" for k, v in s.notes.items()) for s in sizes
    ]
    return "\n\n".join([table(head, rows), table(heads, measures), "\n".join(notes)])


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench year", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--scale", default="1,10", help="sizes, comma separated (1 = 1 %% of a year)"
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--live-seconds", type=float, default=5.0)
    parser.add_argument("--skip-province", action="store_true")
    parser.add_argument("--skip-backup", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the databases")
    return parser.parse_args(argv)


def measure(url: str, size: Size, args: argparse.Namespace, settings: Settings, work: Path) -> None:
    """Every measure of one size (retention last: it removes a month)."""
    size.load = " / ".join(f"{value:.1f}" for value in os.getloadavg())
    uploads = [one_upload(url, settings, seed=1000 + k) for k in range(args.runs)]
    name = "one upload (2 h, 7,200 fixes)"
    size.seconds[name] = [wall for wall, _ in uploads]
    if all(cpu is not None for _, cpu in uploads):
        size.cpu[name] = [float(cpu) for _, cpu in uploads if cpu is not None]
    http_measures(url, size, args.runs, work, args.live_seconds)
    if not args.skip_province:
        province_duty(size.scale, args.runs, size)
    if not args.skip_backup:
        backup_restore(url, size, settings, work)
    retention(url, size)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    sizes = []
    started = datetime.now()
    for scale in (float(s) for s in args.scale.split(",")):
        with tempfile.TemporaryDirectory(prefix="bench-year-") as folder:
            work = Path(folder)
            settings = Settings(data_dir=work / "data")
            print(f"{datetime.now():%H:%M:%S} filling {scale:g}× ...", flush=True)
            url, size = build(scale, args.seed, settings)
            print(f"{datetime.now():%H:%M:%S} filled: {size.rows}", flush=True)
            try:
                measure(url, size, args, settings, work)
            finally:
                if not args.keep:
                    drop_database(url)
            sizes.append(size)
            print(report(sizes), flush=True)
    text_out = (
        f"`python -m bench year --scale {args.scale} --runs {args.runs}`, "
        f"started {started:%Y-%m-%d %H:%M} UTC, load averages at each size's measures: "
        + ", ".join(f"{s.scale:g}× {s.load}" for s in sizes)
        + "\n\n"
        + report(sizes)
    )
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "year.md").write_text(text_out + "\n")
    print(text_out)
