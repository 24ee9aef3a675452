"""Incident routing: batch lead codes against a GeoPandas sjoin, and one report over HTTP.

    .venv/bin/python -m bench routing [--quick]

(a) Batch: uniform random points over the bounding box of the two demo counties (plus a
    0.05 degree margin), each given its lowest-level jurisdiction by `lead_codes_batch` on a
    fresh database with the demo region, and by a GeoPandas `sjoin` on the same polygons read
    from the GeoJSON (then the lowest level per point, tie-break by code, as an analyst
    would). Both clocks start from the coordinate arrays and stop at the code per point: ours
    covers the whole call (COPY, index, join), the peer's building the GeoDataFrame too.
(b) API: the real service (`geo-patrol serve`) on loopback ports; clients POST
    /api/v1/incidents at random points inside the demo counties for a fixed time.

The database is the benchmark's own (not bench.database's, which another run may be using):
made fresh with the demo region, dropped at the end. Prints Markdown tables.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import geopandas as gpd  # type: ignore[import-untyped]  # no stubs
import httpx
import numpy as np
import pandas as pd  # type: ignore[import-untyped]
import shapely
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from bench.database import create, drop
from bench.service import Server, running_service
from geo_patrol.db.engine import make_engine
from geo_patrol.db.tables import LEVEL_RANK
from geo_patrol.demo.load import DEMO_DATA
from geo_patrol.incidents.routing import lead_codes_batch

NAME = "geo_patrol_bench_routing"
COUNTIES = ("320509", "330411")  # Wujiang, Xiuzhou
MARGIN_DEG = 0.05
SEED = 20261127
NOW = datetime.now(UTC)
WARM_UP_POINTS = 1_000

LOGIN, PASSWORD = "admin", "geo-patrol-demo"
CLIENT_ID = "bench-routing"
REQUEST_TIMEOUT_S = 30.0
API_POINTS = 50_000
PACED_RATE = 50.0  # reports/s of the fixed-arrival run

T = TypeVar("T")
Points = tuple[np.ndarray, np.ndarray]


# -- the database ------------------------------------------------------------------------


def postgis_version(engine: Engine) -> str:
    """PostgreSQL and PostGIS versions of the bench server."""
    with engine.connect() as conn:
        pg = conn.execute(text("SHOW server_version")).scalar_one()
        gis = conn.execute(text("SELECT postgis_lib_version()")).scalar_one()
    return f"PostgreSQL {pg}, PostGIS {gis}"


# -- the points --------------------------------------------------------------------------


def demo_polygons() -> gpd.GeoDataFrame:
    """Every demo jurisdiction from the GeoJSON, with the rank of its level (grid lowest)."""
    frame = gpd.read_file(DEMO_DATA / "jurisdictions.geojson")[["code", "level", "geometry"]]
    return frame.assign(rank=frame["level"].map(LEVEL_RANK))


def counties(polygons: gpd.GeoDataFrame) -> shapely.Geometry:
    """The two demo counties as one geometry."""
    return shapely.union_all(polygons.loc[polygons["code"].isin(COUNTIES), "geometry"].to_numpy())


def box_points(area: shapely.Geometry, count: int, seed: int = SEED) -> Points:
    """Uniform points over the bounding box of `area` plus the margin."""
    minx, miny, maxx, maxy = area.bounds
    rng = np.random.default_rng(seed)
    lons = rng.uniform(minx - MARGIN_DEG, maxx + MARGIN_DEG, count)
    lats = rng.uniform(miny - MARGIN_DEG, maxy + MARGIN_DEG, count)
    return lons, lats


def inside_points(area: shapely.Geometry, count: int, seed: int = SEED + 1) -> Points:
    """Uniform points inside `area` (rejection sampling over its bounding box)."""
    minx, miny, maxx, maxy = area.bounds
    rng = np.random.default_rng(seed)
    lons, lats = np.empty(0), np.empty(0)
    while lons.size < count:
        x, y = rng.uniform(minx, maxx, count), rng.uniform(miny, maxy, count)
        keep = shapely.contains_xy(area, x, y)
        lons, lats = np.concatenate([lons, x[keep]]), np.concatenate([lats, y[keep]])
    return lons[:count], lats[:count]


# -- (a) batch routing -------------------------------------------------------------------


def timed(function: Callable[[], T]) -> tuple[float, T]:
    """Wall seconds of one call, and its result."""
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


def route_ours(engine: Engine, lons: np.ndarray, lats: np.ndarray) -> dict[int, str]:
    """Lowest-level code per point index by `lead_codes_batch` (its temp table rolled back)."""
    with Session(engine) as session:
        codes = lead_codes_batch(session, lons=lons, lats=lats, at=NOW)
        session.rollback()
    return codes


def route_peer(polygons: gpd.GeoDataFrame, lons: np.ndarray, lats: np.ndarray) -> pd.Series:
    """Points from the arrays, sjoin with every polygon, keep the lowest level per point."""
    points = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lons, lats), crs=polygons.crs)
    joined = gpd.sjoin(points, polygons, how="inner", predicate="within")
    ordered = joined.sort_values(["rank", "code"], ascending=[False, True])
    return ordered.loc[~ordered.index.duplicated(), "code"]


def on_boundaries(polygons: gpd.GeoDataFrame, lons: np.ndarray, lats: np.ndarray) -> np.ndarray:
    """Whether each point lies exactly on some jurisdiction's boundary (on a shared edge, say)."""
    tree = shapely.STRtree(shapely.points(lons, lats))
    _, hits = tree.query(polygons.boundary.to_numpy(), predicate="intersects")
    edge = np.zeros(len(lons), dtype=bool)
    edge[hits] = True
    return edge


@dataclass(frozen=True)
class Agreement:
    """Ours against the peer, point by point."""

    points: int
    routed_ours: int
    routed_peer: int
    outside_both: int
    same: int
    on_edge: int
    differ_on_edge: int
    differ_elsewhere: int

    @property
    def identical(self) -> bool:
        return self.same == self.points


def compare(ours: dict[int, str], peer: pd.Series, edge: np.ndarray) -> Agreement:
    """Same code for every point (outside all: absent in both)?"""
    index = pd.RangeIndex(edge.size)
    mine = pd.Series(ours, dtype=object).reindex(index)
    theirs = peer.reindex(index)
    same = (mine == theirs) | (mine.isna() & theirs.isna())
    return Agreement(
        points=edge.size,
        routed_ours=int(mine.notna().sum()),
        routed_peer=int(theirs.notna().sum()),
        outside_both=int((mine.isna() & theirs.isna()).sum()),
        same=int(same.sum()),
        on_edge=int(edge.sum()),
        differ_on_edge=int((~same & edge).sum()),
        differ_elsewhere=int((~same & ~edge).sum()),
    )


@dataclass(frozen=True)
class BatchRow:
    """Median timings of one size, and the agreement of the last run."""

    points: int
    runs: int
    ours_s: float
    peer_s: float
    agreement: Agreement


def batch(engine: Engine, polygons: gpd.GeoDataFrame, count: int, runs: int) -> BatchRow:
    """Time ours and the peer alternately `runs` times on the same points."""
    lons, lats = box_points(counties(polygons), count)
    ours_s: list[float] = []
    peer_s: list[float] = []
    for _ in range(runs):
        seconds, ours = timed(lambda: route_ours(engine, lons, lats))
        ours_s.append(seconds)
        seconds, peer = timed(lambda: route_peer(polygons, lons, lats))
        peer_s.append(seconds)
    agreement = compare(ours, peer, on_boundaries(polygons, lons, lats))
    return BatchRow(count, runs, statistics.median(ours_s), statistics.median(peer_s), agreement)


def warm_up(engine: Engine, polygons: gpd.GeoDataFrame) -> None:
    """One small untimed call of each (connection, caches, first-use costs)."""
    lons, lats = box_points(counties(polygons), WARM_UP_POINTS, seed=SEED - 1)
    route_ours(engine, lons, lats)
    route_peer(polygons, lons, lats)


def print_batch(rows: Sequence[BatchRow]) -> None:
    """Speed and agreement tables."""
    print("### (a) Batch routing: lowest-level jurisdiction per point\n")
    print(
        "| points | runs (median) | ours s | ours points/s | GeoPandas s "
        "| GeoPandas points/s | ours / GeoPandas speed |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        ours, peer = r.points / r.ours_s, r.points / r.peer_s
        print(
            f"| {r.points:,} | {r.runs} | {r.ours_s:.2f} | {ours:,.0f} | {r.peer_s:.2f} "
            f"| {peer:,.0f} | {ours / peer:.2f}x |"
        )
    print(
        "\n| points | routed (ours) | routed (GeoPandas) | outside both | same code "
        "| on a boundary | differ on a boundary | differ elsewhere | identical |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|:--|")
    for r in rows:
        a = r.agreement
        print(
            f"| {a.points:,} | {a.routed_ours:,} | {a.routed_peer:,} | {a.outside_both:,} "
            f"| {a.same:,} | {a.on_edge:,} | {a.differ_on_edge:,} | {a.differ_elsewhere:,} "
            f"| {'yes' if a.identical else 'NO'} |"
        )
    print()


# -- (b) the API -------------------------------------------------------------------------


def api_token(server: Server, label: str = "bench routing") -> str:
    """A personal token for the demo admin, through the API."""
    answer = httpx.post(
        f"{server.http}/api/v1/auth/tokens",
        json={"login": LOGIN, "password": PASSWORD, "label": label, "days": 1},
        timeout=REQUEST_TIMEOUT_S,
    )
    answer.raise_for_status()
    return str(answer.json()["token"])


@dataclass
class Load:
    """What the clients saw during one run."""

    name: str
    clients: int
    tokens: int  # distinct bearer tokens, used round-robin by the clients
    rate: float | None = None  # reports/s of all clients together (None: flat out)
    seconds: float = 0.0
    latencies_s: list[float] = field(default_factory=list)  # of the 201 answers
    statuses: Counter[str] = field(default_factory=Counter)  # "201", "500", "ReadTimeout"...
    stored: int = 0  # incidents in the database with this run's client ids

    @property
    def created(self) -> int:
        return self.statuses["201"]

    @property
    def errors(self) -> int:
        return sum(self.statuses.values()) - self.created

    def percentile_ms(self, q: float) -> float:
        """Latency percentile of the 201 answers, in milliseconds."""
        return float(np.percentile(self.latencies_s, q)) * 1000 if self.latencies_s else np.nan


def _report(lon: float, lat: float, client_id: str) -> dict[str, object]:
    """A floating-waste report at the point."""
    return {
        "category": "floating_waste",
        "severity": "low",
        "lon": lon,
        "lat": lat,
        "client_id": client_id,
    }


async def _client(
    server: Server,
    token: str,
    number: int,
    points: Iterator[tuple[float, float]],
    deadline: float,
    load: Load,
) -> None:
    """One client: the next report once the previous one is answered (flat out), or at its
    share of the fixed rate (at once when it has fallen behind), until the deadline."""
    headers = {"Authorization": f"Bearer {token}"}
    interval = load.clients / load.rate if load.rate else 0.0
    next_at = time.monotonic() + interval * number / load.clients  # spread the clients
    async with httpx.AsyncClient(
        base_url=server.http, headers=headers, timeout=REQUEST_TIMEOUT_S
    ) as client:
        for sent in itertools.count():
            if interval:
                await asyncio.sleep(max(0.0, next_at - time.monotonic()))
                next_at += interval
            if time.monotonic() >= deadline:
                return
            lon, lat = next(points)
            body = _report(lon, lat, f"{CLIENT_ID}-{load.name}-{number}-{sent}")
            start = time.perf_counter()
            try:
                status = str((await client.post("/api/v1/incidents", json=body)).status_code)
            except httpx.HTTPError as error:
                status = type(error).__name__
            load.statuses[status] += 1
            if status == "201":
                load.latencies_s.append(time.perf_counter() - start)


async def _run_load(
    server: Server, tokens: Sequence[str], load: Load, seconds: float, points: Points
) -> None:
    """All clients at once for `seconds` (answers in flight at the deadline still count)."""
    shared = itertools.cycle(zip(points[0].tolist(), points[1].tolist(), strict=True))
    deadline = time.monotonic() + seconds
    start = time.perf_counter()
    await asyncio.gather(
        *(
            _client(server, tokens[n % len(tokens)], n, shared, deadline, load)
            for n in range(load.clients)
        )
    )
    load.seconds = time.perf_counter() - start


def stored_incidents(engine: Engine, name: str) -> int:
    """Incidents in the database whose client id belongs to run `name`."""
    with engine.connect() as conn:
        found = conn.execute(
            text("SELECT count(*) FROM incidents WHERE source = 'api' AND client_id LIKE :p"),
            {"p": f"{CLIENT_ID}-{name}-%"},
        )
        return int(found.scalar_one())


Run = tuple[int, int, float | None, float]  # clients, tokens, rate (None: flat out), seconds


def api_loads(
    engine: Engine, database_url: str, points: Points, runs: Sequence[Run], workers: int
) -> list[Load]:
    """Start the service, warm it up, then each (clients, tokens, rate, seconds) run in turn."""
    loads = []
    with (
        tempfile.TemporaryDirectory(prefix="bench-routing-") as folder,
        running_service(
            database_url, Path(folder), Path(folder) / "serve.log", workers, quiet=True
        ) as server,
    ):
        tokens = [api_token(server, f"bench routing {n}") for n in range(max(r[1] for r in runs))]
        asyncio.run(_run_load(server, tokens, Load("warm", 4, len(tokens)), 1.0, points))
        for clients, count, rate, seconds in runs:
            name = f"c{clients}-t{count}-" + (f"r{rate:.0f}" if rate else "flat")
            load = Load(name, clients, count, rate)
            asyncio.run(_run_load(server, tokens[:count], load, seconds, points))
            loads.append(load)
    for load in loads:
        load.stored = stored_incidents(engine, load.name)
    return loads


def print_api(loads: Sequence[Load]) -> None:
    """Throughput, latency and the stored count per run."""
    print("### (b) POST /api/v1/incidents on the real service (loopback)\n")
    print(
        "| clients | tokens | arrivals | seconds | requests | 201 | errors | requests/s "
        "| median ms | p95 ms | max ms | incidents stored | stored = 201s |"
    )
    print("|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|:--|")
    for x in loads:
        total = sum(x.statuses.values())
        arrivals = f"{x.rate:,.0f}/s" if x.rate else "flat out"
        print(
            f"| {x.clients} | {x.tokens} | {arrivals} | {x.seconds:.1f} | {total:,} "
            f"| {x.created:,} "
            f"| {x.errors:,} | {total / x.seconds:,.0f} | {x.percentile_ms(50):.1f} "
            f"| {x.percentile_ms(95):.1f} | {x.percentile_ms(100):.1f} | {x.stored:,} "
            f"| {'yes' if x.stored == x.created else 'NO'} |"
        )
    errors = Counter({k: v for x in loads for k, v in x.statuses.items() if k != "201"})
    if errors:
        print(f"\nErrors by status: {dict(errors)}")
    print()


# -- the run -----------------------------------------------------------------------------


def print_header(engine: Engine, quick: bool) -> None:
    """What ran where."""
    load1, load5, _ = os.getloadavg()
    print(f"## Incident routing benchmark{' (quick)' if quick else ''}\n")
    print(
        f"- {postgis_version(engine)}; GeoPandas {gpd.__version__}, "
        f"shapely {shapely.__version__}, pandas {pd.__version__}"
    )
    print(
        f"- {os.cpu_count()} CPUs; load average at start {load1:.2f} (1 min), {load5:.2f} (5 min)\n"
    )


def print_targets(rows: Sequence[BatchRow], loads: Sequence[Load]) -> None:
    """The issue's targets, met or not."""
    print("### Targets\n")
    for r in rows:
        verdict = "met" if r.ours_s <= r.peer_s else "NOT met"
        print(
            f"- batch routing at least as fast as GeoPandas, {r.points:,} points: {verdict} "
            f"({r.peer_s / r.ours_s:.2f}x)"
        )
    for x in loads:
        verdict = "met" if x.percentile_ms(95) < 50 else "NOT met"
        arrivals = f"{x.rate:,.0f} reports/s" if x.rate else "flat out"
        print(
            f"- API p95 under 50 ms, {x.clients} clients with {x.tokens} token(s), {arrivals}: "
            f"{verdict} ({x.percentile_ms(95):.1f} ms)"
        )
    load1, load5, _ = os.getloadavg()
    print(f"\nLoad average at the end: {load1:.2f} (1 min), {load5:.2f} (5 min).\n")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100k points only, 5 s runs of load")
    parser.add_argument("--workers", type=int, default=1, help="service worker processes")
    parser.add_argument("--skip-batch", action="store_true", help="only the API runs")
    args = parser.parse_args(argv)
    quick = args.quick
    sizes = [] if args.skip_batch else [(100_000, 3)] if quick else [(100_000, 3), (1_000_000, 1)]
    seconds = 5.0 if quick else 20.0
    # Closed loop (each client sends its next report once answered) shows the most the
    # service takes; a fixed arrival rate below that shows the latency of one report.
    runs: list[Run] = [
        (1, 1, None, seconds / 2),
        (32, 1, None, seconds),
        (32, 32, None, seconds),
        (32, 32, PACED_RATE, seconds),
    ]
    polygons = demo_polygons()
    url = create(NAME, resolved_incidents=0)
    engine = make_engine(url)
    try:
        print_header(engine, quick)
        if sizes:
            warm_up(engine, polygons)
        rows = [batch(engine, polygons, count, repeat) for count, repeat in sizes]
        if rows:
            print_batch(rows)
        points = inside_points(counties(polygons), API_POINTS)
        loads = api_loads(engine, url, points, runs, args.workers)
        print_api(loads)
        print_targets(rows, loads)
    finally:
        engine.dispose()
        drop(url)


if __name__ == "__main__":
    main()
