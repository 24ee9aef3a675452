"""Benchmark of the supervisor map and the meeting pack at 10k, 1M and 10M track points.

    python -m bench maps [--quick] [--sizes 10000,1000000,10000000]

For each size the benchmark database holds a month of patrols along the demo region's
rivers (5,000 fixes each, GPS noise of a few metres), and measures, in the same run:

- ours: the /map page (HTML bytes; time to interactive in headless Chromium: from
  navigation to the tracks drawn from vector tiles and the network idle), the track tiles
  (every tile of zoom 10 and 12 over the data, 60 sampled at 14 and 16; p50/p95 over HTTP),
  and the meeting pack of the zone for the month (seconds, bytes);
- naive: every track put into one Folium map as GeoJSON (the page an analyst would write
  first): HTML bytes, build seconds, time to interactive of the file in Chromium.

Patrols are written straight into `patrols` (track, counts, times), with their county in
`patrol_jurisdictions` for scoping and their overviews (`store_overviews`, as the write
paths make them: the tiles up to zoom 13 draw those); the map never reads `patrol_points`,
so those are not made. Tiles and the page are asked for by a county supervisor
(wujiang.sup), the way a supervisor uses them; the meeting pack by an administrator (the
command line).
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import folium
import httpx
import numpy as np
import psycopg
import pyproj
import shapely
from playwright.sync_api import Browser, sync_playwright
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from bench.database import create, drop
from bench.report import size_label, table
from bench.service import running_service
from geo_patrol.access.principal import command_line_principal
from geo_patrol.access.scope import scope_of
from geo_patrol.core.local_time import LOCAL
from geo_patrol.db.engine import make_engine
from geo_patrol.patrols.overviews import store_overviews
from geo_patrol.patrols.partitions import ensure_months
from geo_patrol.web.assets import inline, localise
from geo_patrol.web.map.filters import MapFilters
from geo_patrol.web.pack.page import meeting_pack

NAME = "geo_patrol_bench_maps"
CHROMIUM = "/usr/bin/chromium"
POINTS_PER_PATROL = 5_000
STEP_M = 1.4  # one fix a second on foot
NOISE_M = 4.0
PASSWORD = "geo-patrol-demo"
SUPERVISOR = "wujiang.sup"
ZONE = "ZONE-SZ-WJJ"
GEOD = pyproj.Geod(ellps="WGS84")
NAIVE_LIMIT_POINTS = 2_000_000  # beyond this the naive page is estimated, not built
TTI_TIMEOUT_MS = 120_000

RIVERS = "SELECT ST_AsBinary(geom) FROM river_segments ORDER BY id"
TEAMS = "SELECT id FROM teams ORDER BY id"
COUNTY_OF_START = """
INSERT INTO patrol_jurisdictions (patrol_id, jurisdiction_id, code, level, length_m, duration_s)
SELECT p.id, j.id, j.code, j.level, p.length_m, p.duration_s
FROM patrols p JOIN jurisdictions j
  ON j.level = 'county' AND j.valid_to IS NULL AND ST_Intersects(j.geom, ST_StartPoint(p.track))
WHERE p.id > :after
"""


def rivers(session: Session) -> shapely.MultiLineString:
    """The demo river network as one geometry to walk along."""
    lines = [shapely.from_wkb(bytes(row[0])) for row in session.execute(text(RIVERS))]
    return shapely.line_merge(shapely.MultiLineString(lines))


def walks(network: shapely.Geometry, patrols: int, seed: int) -> list[np.ndarray]:
    """`patrols` walks of POINTS_PER_PATROL fixes along random rivers, with GPS noise."""
    rng = np.random.default_rng(seed)
    parts = list(getattr(network, "geoms", [network]))
    lengths_deg = np.array([p.length for p in parts])
    chosen = rng.choice(len(parts), size=patrols, p=lengths_deg / lengths_deg.sum())
    metres_per_degree = 111_000.0
    out = []
    for index in chosen:
        line = parts[index]
        length_m = line.length * metres_per_degree
        start = rng.uniform(0, length_m)
        along = start + np.arange(POINTS_PER_PATROL) * STEP_M
        along = np.abs((along + length_m) % (2 * length_m) - length_m)  # walk back at the ends
        points = shapely.line_interpolate_point(line, along / metres_per_degree)
        xy = shapely.get_coordinates(points)
        noise = rng.normal(0, NOISE_M / metres_per_degree, size=(POINTS_PER_PATROL // 60 + 2, 2))
        smooth = np.repeat(noise, 60, axis=0)[:POINTS_PER_PATROL]  # receiver error drifts
        out.append(xy + smooth)
    return out


def add_patrols(url: str, count: int, seed: int) -> None:
    """Write `count` patrols of the past month into `patrols` with COPY."""
    engine = make_engine(url)
    with Session(engine) as session:
        network = rivers(session)
        teams = list(session.execute(text(TEAMS)).scalars())
        after = session.execute(text("SELECT coalesce(max(id), 0) FROM patrols")).scalar_one()
        # The months of raw fixes these patrols' days need (none are written), as a bulk
        # load must make them (docs/partitioning.md).
        today = datetime.now(LOCAL).date()
        ensure_months(session, first=today - timedelta(days=31), last=today)
        session.commit()
    engine.dispose()
    rng = np.random.default_rng(seed + 1)
    now = datetime.now(UTC)
    buffer = io.StringIO()
    for walk in walks(network, count, seed):
        line = shapely.LineString(walk)
        length = GEOD.geometry_length(line)
        started = now - timedelta(days=float(rng.uniform(0.1, 29.5)))
        ended = started + timedelta(seconds=POINTS_PER_PATROL)
        team = teams[int(rng.integers(len(teams)))]
        buffer.write(
            f"{team}\tupload\tfoot\t{started.isoformat()}\t{ended.isoformat()}\t"
            f"{ended.isoformat()}\t{POINTS_PER_PATROL}\t{POINTS_PER_PATROL}\t{length:.1f}\t"
            f"{POINTS_PER_PATROL}\tSRID=4326;{shapely.to_wkb(line, hex=True)}\t"
            f"{started.astimezone(LOCAL).date().isoformat()}\n"
        )
    conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo) as conn:
        columns = (
            "team_id, source, mode, started_at, ended_at, closed_at, points_raw, "
            "points_kept, length_m, duration_s, track, patrol_day"
        )
        with conn.cursor().copy(f"COPY patrols ({columns}) FROM STDIN") as copy:
            copy.write(buffer.getvalue())
        conn.execute(COUNTY_OF_START.replace(":after", str(int(after))))
        conn.commit()
    engine = make_engine(url)
    with Session(engine) as session:  # the low zooms' overviews, as the write paths make them
        ids = session.execute(text("SELECT id FROM patrols WHERE id > :a"), {"a": after})
        store_overviews(session, patrol_ids=list(ids.scalars()))
        session.commit()
    engine.dispose()
    with psycopg.connect(conninfo) as conn:
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE patrols")
        conn.execute("ANALYZE patrol_jurisdictions")
        conn.execute("ANALYZE patrol_overviews")


def sign_in(base: str, login: str) -> httpx.Client:
    """An HTTP client holding a session of `login`."""
    client = httpx.Client(base_url=base, timeout=120)
    response = client.post("/api/v1/auth/login", json={"login": login, "password": PASSWORD})
    response.raise_for_status()
    return client


def tiles_over_data(url: str, z: int) -> list[tuple[int, int]]:
    """The tiles at zoom z that some track crosses."""
    engine = make_engine(url)
    with Session(engine) as session:
        rows = session.execute(
            text(
                "SELECT DISTINCT t.x, t.y FROM (SELECT ST_Extent(track) AS e FROM patrols) b, "
                "LATERAL (SELECT x, y FROM generate_series("
                "  floor((ST_XMin(b.e) + 180) / 360 * 2 ^ :z)::int,"
                "  floor((ST_XMax(b.e) + 180) / 360 * 2 ^ :z)::int) x,"
                " generate_series("
                "  floor((1 - ln(tan(radians(ST_YMax(b.e))) + 1 / cos(radians(ST_YMax(b.e))))"
                "   / pi()) / 2 * 2 ^ :z)::int,"
                "  floor((1 - ln(tan(radians(ST_YMin(b.e))) + 1 / cos(radians(ST_YMin(b.e))))"
                "   / pi()) / 2 * 2 ^ :z)::int) y) t "
                "WHERE EXISTS (SELECT 1 FROM patrols p WHERE p.track && "
                "  ST_Transform(ST_TileEnvelope(:z, t.x, t.y), 4326))"
            ),
            {"z": z},
        ).all()
    engine.dispose()
    return [(int(x), int(y)) for x, y in rows]


def measure_tiles(client: httpx.Client, url: str, sample: int) -> dict[int, list[float]]:
    """Milliseconds per tile request, by zoom."""
    rng = np.random.default_rng(3)
    result: dict[int, list[float]] = {}
    for z in (10, 12, 14, 16):
        tiles = tiles_over_data(url, z)
        if len(tiles) > sample:
            tiles = [tiles[i] for i in rng.choice(len(tiles), size=sample, replace=False)]
        times = []
        for x, y in tiles:
            started = time.perf_counter()
            response = client.get(f"/tiles/tracks/{z}/{x}/{y}.pbf")
            times.append((time.perf_counter() - started) * 1000)
            response.raise_for_status()
        result[z] = times
    return result


def time_to_interactive(browser: Browser, base: str | None, target: str) -> tuple[float, int]:
    """(ms from navigation to the page loaded and the last tile received, with the tracks
    drawn; bytes transferred)."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    if base is not None:
        page.goto(f"{base}/login")
        page.fill("input[name=login]", SUPERVISOR)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_load_state("networkidle")
    page.goto(target, wait_until="load", timeout=TTI_TIMEOUT_MS)
    drawn = (
        "() => document.querySelectorAll('.leaflet-gp-tracks-pane path').length > 0"
        if base is not None
        else "() => document.querySelectorAll('.leaflet-overlay-pane canvas').length > 0"
    )
    page.wait_for_function(drawn, timeout=TTI_TIMEOUT_MS)
    page.wait_for_load_state("networkidle", timeout=TTI_TIMEOUT_MS)
    # Interactive: the page loaded and the last tile arrived (the idle wait itself not counted).
    ms = page.evaluate(
        "() => Math.max(performance.getEntriesByType('navigation')[0].loadEventEnd, "
        "...performance.getEntriesByType('resource').map(e => e.responseEnd))"
    )
    transferred = page.evaluate(
        "() => performance.getEntriesByType('navigation').concat("
        "performance.getEntriesByType('resource')).reduce((a, e) => a + (e.transferSize || "
        "e.decodedBodySize || 0), 0)"
    )
    context.close()
    return float(ms), int(transferred)


def naive_page(url: str, work: Path) -> tuple[Path, float]:
    """Every track as GeoJSON in one Folium map (scripts inlined so the file opens alone)."""
    started = time.perf_counter()
    engine = make_engine(url)
    with Session(engine) as session:
        rows = session.execute(text("SELECT ST_AsGeoJSON(track, 6)::json FROM patrols"))
        features = [{"type": "Feature", "geometry": g, "properties": {}} for (g,) in rows]
    engine.dispose()
    m = folium.Map(tiles=None, prefer_canvas=True)
    m.options["maxZoom"] = 19
    folium.GeoJson({"type": "FeatureCollection", "features": features}).add_to(m)
    m.fit_bounds([[30.75, 120.45], [31.05, 120.85]])
    localise(m)
    page = inline(m.get_root().render(), leave_out=("@fortawesome/",))
    path = work / "naive.html"
    path.write_text(page, encoding="utf-8")
    return path, time.perf_counter() - started


def pack_seconds(url: str) -> tuple[float, int]:
    """Seconds to make the month's meeting pack of the zone, and its bytes."""
    engine = make_engine(url)
    principal = command_line_principal()
    with Session(engine) as session:
        started = time.perf_counter()
        page = meeting_pack(
            session,
            scope=scope_of(session, principal),
            principal=principal,
            filters=MapFilters.default(zone=ZONE),
            generated_at=datetime.now(LOCAL),
        )
        seconds = time.perf_counter() - started
    engine.dispose()
    return seconds, len(page.encode())


def pct(values: list[float], q: float) -> str:
    """A percentile in ms."""
    return f"{np.percentile(values, q):,.0f}" if values else "—"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="10k and 1M points only")
    parser.add_argument("--sizes", default="", help="comma-separated point counts")
    parser.add_argument("--runs", type=int, default=3, help="page loads per size (median)")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--workers", type=int, default=1, help="service worker processes")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s] or (
        [10_000, 1_000_000] if args.quick else [10_000, 1_000_000, 10_000_000]
    )
    url = create(NAME, resolved_incidents=0)
    page_rows, tile_rows, pack_rows = [], [], []
    have = 0
    naive_per_point = 0.0  # bytes of the naive page per track point, from the last built
    try:
        with tempfile.TemporaryDirectory() as tmp, sync_playwright() as driver:
            work = Path(tmp)
            browser = driver.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            for points in sizes:
                add_patrols(url, (points - have) // POINTS_PER_PATROL, seed=points)
                have = points
                label = size_label(points)
                print(f"{label}: patrols written", file=sys.stderr, flush=True)
                log = work / f"serve-{label}.log"
                with running_service(url, work / "data", log, args.workers) as server:
                    client = sign_in(server.http, SUPERVISOR)
                    html = client.get("/map")
                    html.raise_for_status()
                    loads = [
                        time_to_interactive(browser, server.http, f"{server.http}/map")
                        for _ in range(args.runs)
                    ]
                    tiles = measure_tiles(client, url, sample=60)
                    client.close()
                every = [ms for values in tiles.values() for ms in values]
                tti = statistics.median(ms for ms, _ in loads)
                if points <= NAIVE_LIMIT_POINTS:
                    naive_file, build_s = naive_page(url, work)
                    naive_bytes = naive_file.stat().st_size
                    try:
                        ms, _ = time_to_interactive(browser, None, naive_file.as_uri())
                        naive_tti = f"{ms:,.0f}"
                    except Exception as error:  # a timeout is a result here
                        naive_tti = f"> {TTI_TIMEOUT_MS:,} ({type(error).__name__})"
                    naive_per_point = naive_bytes / points
                    naive = (f"{naive_bytes / 1e6:,.1f}", f"{build_s:,.1f}", naive_tti)
                else:
                    naive_bytes = int(naive_per_point * points)
                    naive = (f"~{naive_bytes / 1e6:,.0f} (est.)", "not built", "not attempted")
                page_rows.append(
                    [
                        label,
                        f"{len(html.content) / 1e6:,.2f}",
                        f"{tti:,.0f}",
                        f"{statistics.median(b for _, b in loads) / 1e6:,.2f}",
                        *naive,
                        f"{naive_bytes / len(html.content):,.0f}×",
                    ]
                )
                tile_rows.append(
                    [
                        label,
                        str(len(every)),
                        pct(every, 50),
                        pct(every, 95),
                        *(f"{pct(tiles[z], 50)} / {pct(tiles[z], 95)}" for z in (10, 12, 14, 16)),
                    ]
                )
                seconds, size = pack_seconds(url)
                pack_rows.append([label, f"{seconds:,.1f}", f"{size / 1e6:,.2f}"])
                print(page_rows[-1], tile_rows[-1], pack_rows[-1], file=sys.stderr, flush=True)
            browser.close()
    finally:
        if args.keep:
            print(f"kept: {url}", file=sys.stderr)
        else:
            drop(url)
    print("\n### Supervisor map: ours (vector tiles) vs naive (all tracks inlined)\n")
    print(
        table(
            [
                "track points",
                "HTML MB",
                "time to interactive ms (median)",
                "transferred MB",
                "naive HTML MB",
                "naive build s",
                "naive interactive ms",
                "naive/ours HTML",
            ],
            page_rows,
        )
    )
    print("\n### Track tiles over HTTP (ms; per zoom p50 / p95)\n")
    print(table(["track points", "tiles", "p50", "p95", "z10", "z12", "z14", "z16"], tile_rows))
    print("\n### Meeting pack of the zone for the month\n")
    print(table(["track points", "seconds", "MB"], pack_rows))


if __name__ == "__main__":
    main(sys.argv[1:])
