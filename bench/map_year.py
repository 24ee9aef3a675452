"""Benchmark of the supervisor map at a county's year: about 36,500 patrols, 110M fixes.

    python -m bench map-year [--days 365] [--teams 50] [--fixes 3000] [--keep] [--reuse]

The map page and its track tiles read `patrols` (the cleaned line `track`, counts, times),
`patrol_jurisdictions` (the scope), `teams` and, for the rivers' recency, `patrol_coverage`
of the last 30 days; never `patrol_points` (`--explain` prints the plans of the tile and
page statements to show it). So the year is written straight into those tables with COPY:

- 50 teams (`--teams`), each with a home area inside Wujiang (320509) and four routes of
  about 6 km there, stored as rivers with 1 km segments (a county's patrolled rivers: the
  page draws them);
- two patrols a day per team over the `--days` days up to yesterday (local mornings and
  afternoons), each `--fixes` fixes a second apart (1.4 m/s) along one of its team's routes
  from a random place, turning back at the route's ends, with GPS noise drifting as a
  receiver's does: 36,500 patrols and 109.5M fixes by default;
- the county of every patrol in `patrol_jurisdictions`, the covered stretch of its route in
  `patrol_coverage`, its overviews (`store_overviews`, as the write paths do).
  Raw fixes are not written (`patrol_points` stays empty: the map never reads it).

Then, in the same run, as the county's supervisor (wujiang.sup), with the tiles drawn from
the full tracks ("before": `geo-patrol serve` with `overview_level` patched to None, as the
tiles were before migration 0021) and from the overviews ("after"), alternating: the /map
page (HTML bytes, bytes transferred, time to interactive in headless Chromium, as
`bench.maps` measures it) for the default period (the last 30 days) and for the whole year;
and the track tiles of zooms 8 to 16 under both periods, one by one over HTTP: every tile at
zoom 8 to 11 over the tracks' box, and at 12 to 16 the tiles under 40 fixes drawn at random
from the tracks (where a supervisor looks), p50 / p95 per zoom.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import math
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import shapely
from playwright.sync_api import sync_playwright
from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from bench.database import create, drop, server_url
from bench.maps import CHROMIUM, SUPERVISOR, sign_in, time_to_interactive
from bench.report import table
from bench.service import running_service
from geo_patrol.access.principal import load_member
from geo_patrol.access.scope import scope_of
from geo_patrol.core.local_time import LOCAL
from geo_patrol.db.bulk import copy_rows, ewkb_lines
from geo_patrol.db.engine import make_engine
from geo_patrol.patrols.overviews import store_overviews
from geo_patrol.patrols.partitions import ensure_months
from geo_patrol.patrols.queries import patrol_filter
from geo_patrol.patrols.tiles import track_tile
from geo_patrol.web.map.filters import MapFilters
from geo_patrol.web.map.layers import map_data, patrol_filters

NAME = "geo_patrol_bench_map_year"
COUNTY = "320509"  # Wujiang
STEP_M = 1.4  # one fix a second on foot
NOISE_M = 4.0
ROUTES_PER_TEAM = 4
ROUTE_M = 6_000.0
ROUTE_STEP_M = 50.0
SEGMENT_M = 1_000.0
TEAM_RADIUS_M = 3_000.0
BATCH = 500  # patrols a COPY
ZOOMS = tuple(range(8, 17))
ALL_TILES_UP_TO = 11  # every tile with data up to this zoom; a sample above
SAMPLE_FIXES = 40
M_PER_DEG_LAT = 110_574.0
M_PER_DEG_LON_EQ = 111_320.0
YEAR_DAYS = 365


@dataclass(frozen=True)
class Route:
    """A team's route: its vertices (lon, lat) and the metres along it at each."""

    team: int
    lonlat: np.ndarray
    along: np.ndarray


def county_polygon(session: Session) -> shapely.Geometry:
    """Wujiang's current boundary."""
    wkb = session.execute(
        text("SELECT ST_AsBinary(geom) FROM jurisdictions WHERE code = :c AND valid_to IS NULL"),
        {"c": COUNTY},
    ).scalar_one()
    return shapely.from_wkb(bytes(wkb))


def make_routes(county: shapely.Geometry, teams: list[int], seed: int) -> list[Route]:
    """ROUTES_PER_TEAM smooth wandering routes a team, within its home area in the county."""
    rng = np.random.default_rng(seed)
    shrunk = county.buffer(-0.03)  # keep home areas about 3 km inside the boundary
    west, south, east, north = shrunk.bounds
    routes = []
    for team in teams:
        while True:
            centre = shapely.Point(rng.uniform(west, east), rng.uniform(south, north))
            if shrunk.contains(centre):
                break
        lat0 = centre.y
        m_lon = M_PER_DEG_LON_EQ * math.cos(math.radians(lat0))
        for _ in range(ROUTES_PER_TEAM):
            steps = int(ROUTE_M / ROUTE_STEP_M)
            start = rng.uniform(-TEAM_RADIUS_M / 2, TEAM_RADIUS_M / 2, size=2)
            heading = rng.uniform(0, 2 * math.pi) + np.cumsum(rng.normal(0, 0.12, steps))
            xy = np.vstack(
                [start, start + np.cumsum(np.c_[np.cos(heading), np.sin(heading)], 0) * 50]
            )
            lonlat = np.c_[centre.x + xy[:, 0] / m_lon, centre.y + xy[:, 1] / M_PER_DEG_LAT]
            along = np.r_[0, np.cumsum(np.hypot(*np.diff(xy, axis=0).T))]
            routes.append(Route(team, lonlat, along))
    return routes


def store_routes(session: Session, routes: list[Route]) -> list[list[int]]:
    """The routes as rivers cut into SEGMENT_M segments; each route's segment ids in order."""
    ids = []
    for n, route in enumerate(routes):
        line = shapely.LineString(route.lonlat)
        river = session.execute(
            text(
                "INSERT INTO rivers (code, name, name_en, geom, geom_hash, source) VALUES "
                "(:code, :name, :name, ST_Multi(ST_GeomFromText(:wkt, 4326)), md5(:wkt), "
                "'bench') RETURNING id"
            ),
            {"code": f"BENCH-{n:04d}", "name": f"巡河线路 {n}", "wkt": line.wkt},
        ).scalar_one()
        total = float(route.along[-1])
        cuts = np.linspace(0, total, max(1, round(total / SEGMENT_M)) + 1)
        segment_ids = []
        for seq, (a, b) in enumerate(itertools.pairwise(cuts)):
            segment_ids.append(
                session.execute(
                    text(
                        "INSERT INTO river_segments (river_id, seq, geom, length_m) "
                        "SELECT :river, :seq, g, ST_Length(g::geography) FROM ("
                        " SELECT ST_LineSubstring(ST_GeomFromText(:wkt, 4326), :a, :b) AS g) x "
                        "RETURNING id"
                    ),
                    {"river": river, "seq": seq, "wkt": line.wkt, "a": a / total, "b": b / total},
                ).scalar_one()
            )
        ids.append(segment_ids)
    return ids


def walk(route: Route, start_m: float, fixes: int, rng: np.random.Generator) -> np.ndarray:
    """`fixes` positions (lon, lat) a second apart along `route` from `start_m`, turning back
    at its ends, with GPS noise that drifts over about a minute."""
    total = float(route.along[-1])
    along = start_m + np.arange(fixes) * STEP_M
    along = np.abs((along + total) % (2 * total) - total)
    lon = np.interp(along, route.along, route.lonlat[:, 0])
    lat = np.interp(along, route.along, route.lonlat[:, 1])
    noise = rng.normal(0, NOISE_M, size=(fixes // 60 + 2, 2))
    drift = np.repeat(noise, 60, axis=0)[:fixes]
    m_lon = M_PER_DEG_LON_EQ * math.cos(math.radians(float(lat[0])))
    out: np.ndarray = np.c_[lon + drift[:, 0] / m_lon, lat + drift[:, 1] / M_PER_DEG_LAT]
    return out


def fill(url: str, *, days: int, teams_n: int, fixes: int, seed: int = 17) -> dict[str, float]:
    """Write the county's year; returns counts and seconds."""
    started = time.perf_counter()
    engine = make_engine(url)
    rng = np.random.default_rng(seed)
    today = datetime.now(LOCAL).date()
    first_day = today - timedelta(days=days)
    with Session(engine) as session:
        county = county_polygon(session)
        county_id = session.execute(
            text("SELECT id FROM jurisdictions WHERE code = :c AND valid_to IS NULL"),
            {"c": COUNTY},
        ).scalar_one()
        team_ids = [
            session.execute(
                text("INSERT INTO teams (name) VALUES (:n) RETURNING id"), {"n": f"吴江巡河{i}队"}
            ).scalar_one()
            for i in range(teams_n)
        ]
        routes = make_routes(county, team_ids, seed)
        segments = store_routes(session, routes)
        # The months of raw fixes these patrols' days need (none are written: the map never
        # reads them; made as a bulk load must, docs/partitioning.md).
        ensure_months(session, first=first_day, last=today)
        after = session.execute(text("SELECT coalesce(max(id), 0) FROM patrols")).scalar_one()
        session.commit()
        # One patrol a morning and one an afternoon per team per day (local time).
        plan_day = np.repeat(np.arange(days), teams_n * 2)
        plan_team = np.tile(np.repeat(np.arange(teams_n), 2), days)
        plan_half = np.tile([0, 1], days * teams_n)
        n = len(plan_day)
        hours = np.where(plan_half == 0, 8.0, 14.0) + rng.uniform(0, 2, n)
        local_starts = [
            datetime.combine(first_day + timedelta(days=int(d)), datetime.min.time(), LOCAL)
            + timedelta(hours=float(h))
            for d, h in zip(plan_day, hours, strict=True)
        ]
        starts = np.array(
            [s.astimezone(UTC).replace(tzinfo=None) for s in local_starts], "datetime64[us]"
        )
        route_of = plan_team * ROUTES_PER_TEAM + rng.integers(0, ROUTES_PER_TEAM, n)
        start_m = rng.uniform(0, 1, n) * np.array([routes[r].along[-1] for r in route_of])
        coverage: list[tuple[int, int, float, float]] = []
        index = np.arange(fixes)[None, :]
        for begin in range(0, n, BATCH):
            rows = range(begin, min(n, begin + BATCH))
            lines, lengths = [], []
            for i in rows:
                xy = walk(routes[route_of[i]], float(start_m[i]), fixes, rng)
                lines.append(ewkb_lines(xy[:, 0], xy[:, 1], index)[0])
                m_lon = M_PER_DEG_LON_EQ * math.cos(math.radians(float(xy[0, 1])))
                lengths.append(
                    float(
                        np.hypot(np.diff(xy[:, 0]) * m_lon, np.diff(xy[:, 1]) * M_PER_DEG_LAT).sum()
                    )
                )
                coverage += covered(
                    routes[route_of[i]], segments[route_of[i]], i, start_m[i], fixes
                )
            count = len(rows)
            s = starts[begin : begin + count]
            e = s + np.timedelta64(fixes - 1, "s")
            columns = {
                "team_id": np.array(
                    [team_ids[t] for t in plan_team[begin : begin + count]], np.int32
                ),
                "source": np.array([b"upload"] * count),
                "mode": np.array([b"foot"] * count),
                "started_at": s,
                "ended_at": e,
                "closed_at": e,
                "points_raw": np.full(count, fixes, np.int32),
                "points_kept": np.full(count, fixes, np.int32),
                "length_m": np.array(lengths),
                "duration_s": np.full(count, float(fixes - 1)),
                "track": np.vstack(lines),
            }
            # The local day each was made (the day it started: written the day it was walked).
            columns["patrol_day"] = np.array(
                [first_day + timedelta(days=int(d)) for d in plan_day[begin : begin + count]],
                "datetime64[D]",
            )
            copy_rows(session, table="patrols", columns=columns)
            first_id = after + begin + 1
            store_overviews(session, patrol_ids=list(range(first_id, first_id + count)))
            session.commit()
            print(f"  patrols {begin + count:,} / {n:,}", file=sys.stderr, flush=True)
        ids = session.execute(
            text("SELECT min(id), max(id), count(*) FROM patrols WHERE id > :a"), {"a": after}
        ).one()
        assert ids[2] == n and ids[1] - ids[0] + 1 == n, "patrol ids are not consecutive"
        session.execute(
            text(
                "INSERT INTO patrol_jurisdictions (patrol_id, jurisdiction_id, code, level, "
                "length_m, duration_s, entered_at, exited_at) "
                "SELECT id, :j, :c, 'county', length_m, duration_s, started_at, ended_at "
                "FROM patrols WHERE id > :a"
            ),
            {"j": county_id, "c": COUNTY, "a": after},
        )
        if coverage:
            pid, seg, lo, hi = (list(col) for col in zip(*coverage, strict=True))
            session.execute(
                text(
                    "INSERT INTO patrol_coverage (patrol_id, segment_id, covered_m, fraction, "
                    "ranges, covered) "
                    "SELECT :a + u.i + 1, s.id, s.length_m * (u.hi - u.lo), u.hi - u.lo, "
                    "nummultirange(numrange(u.lo::numeric, u.hi::numeric)), "
                    "ST_Multi(ST_LineSubstring(s.geom, u.lo, u.hi)) "
                    "FROM unnest(CAST(:p AS int[]), CAST(:s AS int[]), CAST(:lo AS float8[]), "
                    "CAST(:hi AS float8[])) AS u(i, seg, lo, hi) "
                    "JOIN river_segments s ON s.id = u.seg"
                ),
                {"a": after, "p": pid, "s": seg, "lo": lo, "hi": hi},
            )
        session.commit()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for table_name in (
            "patrols",
            "patrol_jurisdictions",
            "patrol_coverage",
            "patrol_overviews",
            "river_segments",
        ):
            conn.execute(text(f"VACUUM ANALYZE {table_name}"))
    engine.dispose()
    return {
        "patrols": float(n),
        "fixes": float(n * fixes),
        "coverage rows": float(len(coverage)),
        "seconds": time.perf_counter() - started,
    }


def covered(
    route: Route, segment_ids: list[int], i: int, start_m: float, fixes: int
) -> list[tuple[int, int, float, float]]:
    """(patrol index, segment id, from, to) of the route's segments a walk passed (fractions
    along each segment)."""
    total = float(route.along[-1])
    along = start_m + np.arange(0, fixes, 30) * STEP_M
    along = np.abs((along + total) % (2 * total) - total)
    lo, hi = float(along.min()), float(along.max())
    out = []
    cuts = np.linspace(0, total, len(segment_ids) + 1)
    for seq, segment in enumerate(segment_ids):
        a, b = float(cuts[seq]), float(cuts[seq + 1])
        if hi <= a or lo >= b:
            continue
        out.append((i, segment, (max(lo, a) - a) / (b - a), (min(hi, b) - a) / (b - a)))
    return out


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    """The Web Mercator tile at zoom z holding (lon, lat)."""
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


def tiles_to_measure(url: str, seed: int = 5) -> dict[int, list[tuple[int, int]]]:
    """Per zoom: every tile with a track up to ALL_TILES_UP_TO, the tiles under
    SAMPLE_FIXES random fixes above it."""
    engine = make_engine(url)
    with Session(engine) as session:
        box = session.execute(
            text(
                "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
                "(SELECT ST_Extent(track) AS e FROM patrols) x"
            )
        ).one()
        session.execute(text("SELECT setseed(:s)"), {"s": seed / 100})
        fixes = session.execute(
            text(
                "SELECT ST_X(g), ST_Y(g) FROM (SELECT ST_PointN(track, 1 + (random() * "
                "(ST_NPoints(track) - 1))::int) AS g FROM (SELECT track FROM patrols "
                "ORDER BY random() LIMIT :n) p) x"
            ),
            {"n": SAMPLE_FIXES},
        ).all()
    engine.dispose()
    west, south, east, north = (float(v) for v in box)
    result = {}
    for z in ZOOMS:
        if z <= ALL_TILES_UP_TO:
            x0, y0 = tile_of(west, north, z)
            x1, y1 = tile_of(east, south, z)
            result[z] = [(x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]
        else:
            result[z] = sorted({tile_of(float(lon), float(lat), z) for lon, lat in fixes})
    return result


def measure_tiles(
    clients: dict[str, httpx.Client], tiles: dict[int, list[tuple[int, int]]], query: str
) -> tuple[dict[str, dict[int, list[float]]], dict[str, dict[int, int]]]:
    """Milliseconds per tile request and the largest tile's bytes, by way and zoom; the ways
    take turns tile by tile (the same load on both)."""
    times: dict[str, dict[int, list[float]]] = {way: {} for way in clients}
    largest: dict[str, dict[int, int]] = {way: {} for way in clients}
    for z, coords in tiles.items():
        for way in clients:
            times[way][z], largest[way][z] = [], 0
        for x, y in coords:
            for way, client in clients.items():
                started = time.perf_counter()
                response = client.get(f"/tiles/tracks/{z}/{x}/{y}.pbf{query}")
                times[way][z].append((time.perf_counter() - started) * 1000)
                response.raise_for_status()
                largest[way][z] = max(largest[way][z], len(response.content))
    return times, largest


# The service as it was before the overviews: every tile cut from the full tracks.
FULL_TRACKS = (
    "import sys; import geo_patrol.patrols.tiles as t; t.overview_level = lambda z: None; "
    "from geo_patrol.cli.app import app; sys.argv = ['geo-patrol', 'serve']; app()"
)
WAYS = {"full tracks (before)": [sys.executable, "-c", FULL_TRACKS], "overviews (after)": None}


def relations(plan: object) -> set[str]:
    """Every relation a JSON plan names."""
    found: set[str] = set()
    if isinstance(plan, dict):
        if "Relation Name" in plan:
            found.add(str(plan["Relation Name"]))
        for value in plan.values():
            found |= relations(value)
    elif isinstance(plan, list):
        for value in plan:
            found |= relations(value)
    return found


def explain(url: str) -> list[list[str]]:
    """Every statement the map page and two tiles (zoom 8 from the overviews, zoom 14 from
    the tracks) send for wujiang.sup, with the tables their plans read."""
    engine = make_engine(url)
    sent: list[tuple[str, Any]] = []

    def record(conn: Any, cursor: Any, sql: str, params: Any, context: Any, many: bool) -> None:
        if sql.lstrip().upper().startswith(("SELECT", "WITH")):
            sent.append((sql, params))

    with Session(engine) as session:
        member = session.execute(
            text("SELECT id FROM members WHERE login = :l"), {"l": SUPERVISOR}
        ).scalar_one()
        principal = load_member(session, member_id=member, via="session")
        assert principal is not None
        scope = scope_of(session, principal)
        filters = MapFilters.default()
        event.listen(engine, "before_cursor_execute", record)
        map_data(session, scope=scope, principal=principal, filters=filters)
        for z, x, y in ((8, *tile_of(120.6, 31.0, 8)), (14, *tile_of(120.6, 31.0, 14))):
            track_tile(
                session,
                z=z,
                x=x,
                y=y,
                visible=patrol_filter(scope),
                **patrol_filters(filters, None),
            )
        event.remove(engine, "before_cursor_execute", record)
        raw = session.connection().connection.driver_connection
        assert raw is not None
        rows = []
        for sql, params in sent:
            with raw.cursor() as cursor:
                cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
                plan = cursor.fetchone()
            assert plan is not None
            tables = sorted(relations(plan[0]))
            assert not any(t.startswith("patrol_points") for t in tables), sql
            rows.append([f"`{' '.join(sql.split())[:70]}`", ", ".join(tables) or "—"])
    engine.dispose()
    return rows


def pct(values: list[float], q: float) -> str:
    """A percentile in ms."""
    return f"{np.percentile(values, q):,.0f}" if values else "—"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--days", type=int, default=YEAR_DAYS, help="days of patrols")
    parser.add_argument("--teams", type=int, default=50, help="teams (two patrols a day each)")
    parser.add_argument("--fixes", type=int, default=3000, help="fixes a patrol")
    parser.add_argument("--runs", type=int, default=3, help="page loads per period (median)")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--reuse", action="store_true", help="measure a kept database again")
    parser.add_argument("--workers", type=int, default=1, help="service worker processes")
    parser.add_argument("--database", default=NAME, help="the benchmark database's name")
    parser.add_argument(
        "--explain", action="store_true", help="only list the tables the map's statements read"
    )
    args = parser.parse_args(argv)
    if args.reuse:
        server = make_url(server_url())
        url = server.set(database=args.database).render_as_string(hide_password=False)
        filled = None
    else:
        url = create(args.database, resolved_incidents=0)
        filled = fill(url, days=args.days, teams_n=args.teams, fixes=args.fixes)
        print(f"filled: {filled}", file=sys.stderr, flush=True)
    if args.explain:
        print("\n### What the map's statements read (their plans)\n")
        print(table(["statement", "tables in its plan"], explain(url)))
        return
    today = datetime.now(LOCAL).date()
    periods = {
        "last 30 days (default)": "",
        "the whole year": f"?date_from={today - timedelta(days=YEAR_DAYS)}",
    }
    page_rows, tile_rows, size_rows = [], [], []
    loads_at = [(datetime.now(UTC), os.getloadavg())]
    try:
        tiles = tiles_to_measure(url)
        with (
            tempfile.TemporaryDirectory() as tmp,
            sync_playwright() as driver,
            contextlib.ExitStack() as stack,
        ):
            work = Path(tmp)
            browser = driver.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            servers = {
                way: stack.enter_context(
                    running_service(
                        url, work / "data", work / f"serve-{n}.log", args.workers, command=command
                    )
                )
                for n, (way, command) in enumerate(WAYS.items())
            }
            clients = {way: sign_in(server.http, SUPERVISOR) for way, server in servers.items()}
            for label, query in periods.items():
                for way, client in clients.items():
                    started = time.perf_counter()
                    html = client.get(f"/map{query}")
                    served_ms = (time.perf_counter() - started) * 1000
                    html.raise_for_status()
                    base = servers[way].http
                    loads = [
                        time_to_interactive(browser, base, f"{base}/map{query}")
                        for _ in range(args.runs)
                    ]
                    page_rows.append(
                        [
                            label,
                            way,
                            f"{len(html.content) / 1e6:,.2f}",
                            f"{served_ms:,.0f}",
                            f"{statistics.median(b for _, b in loads) / 1e6:,.2f}",
                            f"{statistics.median(ms for ms, _ in loads):,.0f}",
                            f"{max(ms for ms, _ in loads):,.0f}",
                        ]
                    )
                    print(page_rows[-1], file=sys.stderr, flush=True)
                times, largest = measure_tiles(clients, tiles, query)
                for way in clients:
                    every = [ms for values in times[way].values() for ms in values]
                    tile_rows.append(
                        [label, way, str(len(every)), pct(every, 50), pct(every, 95)]
                        + [f"{pct(times[way][z], 50)} / {pct(times[way][z], 95)}" for z in ZOOMS]
                    )
                    size_rows.append(
                        [label, way] + [f"{largest[way][z] / 1e3:,.0f}" for z in ZOOMS]
                    )
                    print(tile_rows[-1], file=sys.stderr, flush=True)
            for client in clients.values():
                client.close()
            loads_at.append((datetime.now(UTC), os.getloadavg()))
            browser.close()
    finally:
        if args.keep or args.reuse:
            print(f"kept: {url}", file=sys.stderr)
        else:
            drop(url)
    if filled:
        print(
            f"\nData: {filled['patrols']:,.0f} patrols, {filled['fixes']:,.0f} fixes in their "
            f"tracks, {filled['coverage rows']:,.0f} coverage rows; written in "
            f"{filled['seconds']:,.0f} s\n"
        )
    for at, (one, five, fifteen) in loads_at:
        print(f"{at:%Y-%m-%d %H:%M} UTC: load average {one:.1f}, {five:.1f}, {fifteen:.1f}")
    print("\n### The map page at a county's year (wujiang.sup)\n")
    print(
        table(
            [
                "period",
                "tiles from",
                "HTML MB",
                "HTML served ms",
                "transferred MB",
                "interactive ms (median)",
                "slowest ms",
            ],
            page_rows,
        )
    )
    print("\n### Track tiles over HTTP (ms; per zoom p50 / p95)\n")
    headers = ["period", "tiles from", "tiles", "p50", "p95", *(f"z{z}" for z in ZOOMS)]
    print(table(headers, tile_rows))
    print("\n### Largest tile per zoom (kB)\n")
    print(table(["period", "tiles from", *(f"z{z}" for z in ZOOMS)], size_rows))


if __name__ == "__main__":
    main(sys.argv[1:])
