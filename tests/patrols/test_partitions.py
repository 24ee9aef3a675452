"""Raw fixes by month (geo_patrol.patrols.partitions, migration 0020): every read of a
patrol's fixes searches its month only, months are made ahead, and retention drops old
months while patrols keep their cleaned tracks."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import pytest
import shapely
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_patrol.api.app import run_maintenance
from geo_patrol.core.local_time import LOCAL
from geo_patrol.core.settings import Settings
from geo_patrol.core.vocabulary import Datum
from geo_patrol.db import locks, migrate
from geo_patrol.db.bulk import fetch_rows
from geo_patrol.db.engine import make_engine, make_sessionmaker
from geo_patrol.exports import tracks
from geo_patrol.patrols import attribution, exports, partitions, quality, upload
from geo_patrol.patrols.live import store
from geo_patrol.patrols.track.cleaning import CleaningRules, clean
from geo_patrol.patrols.track.types import TrackPoints

TODAY = date(2026, 12, 6)
MONTHS = [date(2026, 7, 14), date(2026, 9, 2), date(2026, 11, 30), date(2026, 12, 1)]


def test_month_arithmetic_against_the_calendar() -> None:
    assert partitions.month_start(date(2026, 12, 31)) == date(2026, 12, 1)
    assert partitions.add_months(date(2026, 12, 1), 1) == date(2027, 1, 1)
    assert partitions.add_months(date(2026, 1, 1), -1) == date(2025, 12, 1)
    assert partitions.add_months(date(2026, 3, 1), -27) == date(2023, 12, 1)
    assert partitions.add_months(date(2026, 3, 1), 0) == date(2026, 3, 1)
    assert partitions.month_name(date(2027, 2, 1)) == "patrol_points_2027_02"


def walk(n: int, start: datetime) -> TrackPoints:
    """A straight walk north, a fix a second."""
    times = np.datetime64(start.replace(tzinfo=None), "us") + np.arange(n) * np.timedelta64(1, "s")
    return TrackPoints.from_arrays(
        120.6 + np.zeros(n), 30.9 + np.arange(n) * 1e-5, time=times.astype("datetime64[us]")
    )


def patrol_on(session: Session, day: date, team: int) -> int:
    """An upload patrol of `day` with 50 stored fixes and its summary (its cleaned track)."""
    patrol = int(
        session.execute(
            text(
                "INSERT INTO patrols (team_id, source, patrol_day) VALUES (:t, 'upload', :d) "
                "RETURNING id"
            ),
            {"t": team, "d": day},
        ).scalar_one()
    )
    points = walk(50, datetime(day.year, day.month, day.day, 2, tzinfo=UTC))
    cleaned = clean(points, rules=CleaningRules(), now=datetime.now(UTC))
    upload.store_points(session, patrol_id=patrol, points=points, order=cleaned.order)
    kept = cleaned.select(points)
    upload.summarize_kept(session, patrol_id=patrol, dropped={}, kept=kept)
    return patrol


@pytest.fixture
def patrols(session: Session) -> dict[date, int]:
    """A patrol in each of four months (July, September, November, December 2026)."""
    partitions.ensure_months(session, first=date(2026, 6, 1), last=date(2027, 1, 1))
    team = session.execute(
        text("INSERT INTO teams (name) VALUES ('by month') RETURNING id")
    ).scalar_one()
    return {day: patrol_on(session, day, int(team)) for day in MONTHS}


def plan_of(session: Session, sql: str, params: dict[str, Any], *, analyze: bool) -> Any:
    """The JSON plan of `sql` (run, in a savepoint rolled back, when `analyze`)."""
    options = "ANALYZE, FORMAT JSON" if analyze else "FORMAT JSON"
    with session.begin_nested() as savepoint:
        if "%(" in sql:
            (row,) = fetch_rows(session, f"EXPLAIN ({options}) {sql}", params)
        else:
            row = session.execute(text(f"EXPLAIN ({options}) {sql}"), params).one()
        savepoint.rollback()
    plan = row[0]
    return json.loads(plan) if isinstance(plan, str) else plan


def partitions_in(node: Any, *, executed: bool) -> set[str]:
    """Partitions of patrol_points a plan scans (`executed`: only those it really ran)."""
    found: set[str] = set()
    if isinstance(node, dict):
        name = node.get("Relation Name", "")
        ran = node.get("Actual Loops", 1) > 0
        if name.startswith("patrol_points_") and (ran or not executed):
            found.add(name)
        for value in node.values():
            found |= partitions_in(value, executed=executed)
    elif isinstance(node, list):
        for value in node:
            found |= partitions_in(value, executed=executed)
    return found


def test_every_read_of_fixes_searches_the_patrols_month_only(
    session: Session, patrols: dict[date, int]
) -> None:
    day = date(2026, 9, 2)
    patrol = patrols[day]
    month = {"patrol_points_2026_09"}
    params = {"patrol_id": patrol, "patrol_day": day}
    reads: dict[str, tuple[str, dict[str, Any]]] = {
        "upload.LOAD": (upload.LOAD, params),
        "upload.WRITE_ORDER": (upload.WRITE_ORDER, {**params, "seqs": [0, 1], "ords": [0, 1]}),
        "attribution.KEPT": (attribution.KEPT, params),
        "exports.BLOCKS": (
            exports.BLOCKS_OF[exports.FixText.GPX_POINT],
            {**params, "per_block": 100},
        ),
        "exports.tracks.FIXES": (tracks.FIXES, params),
        "quality.FLAGS": (
            quality.FLAGS,
            {
                **params,
                "speed_mps": 1.0,
                "max_gap_s": 1.0,
                "read_mock": True,
                "steps": 49,
                "length_cv": 0.5,
                "interval_cv": 0.5,
                "clock_constant": False,
                "clock_backwards": False,
                "partly_timed": False,
                "reordered": False,
            },
        ),
        "exports.RAW_KEPT": (exports.RAW_KEPT, params),
    }
    for name, (sql, values) in reads.items():
        planned = partitions_in(plan_of(session, sql, values, analyze=False), executed=False)
        assert planned == month, name
        ran = partitions_in(plan_of(session, sql, values, analyze=True), executed=True)
        assert ran == month, name


def test_live_positions_search_their_patrols_month_only(
    session: Session, patrols: dict[date, int]
) -> None:
    """The live batch finds each patrol's last fix in its month, when it runs (the day comes
    from the patrol, row by row): the other months are never scanned."""
    session.execute(
        text("UPDATE patrols SET source = 'live', device_id = 1 WHERE id = :p"),
        {"p": patrols[date(2026, 11, 30)]},
    )
    batch = {
        "devices": [1],
        "times": [datetime(2026, 11, 30, 2, 5, tzinfo=UTC)],
        "lons": [120.6],
        "lats": [30.9],
        "altitudes": [None],
        "accuracies": [None],
        "mocks": [False],
        "silence": timedelta(minutes=30),
    }
    plan = plan_of(session, store.ADD_BATCH, batch, analyze=True)
    assert partitions_in(plan, executed=True) == {"patrol_points_2026_11"}


def test_retiring_drops_old_months_and_patrols_keep_their_tracks(
    session: Session, patrols: dict[date, int]
) -> None:
    before = {
        day: session.execute(
            text("SELECT ST_AsText(track), length_m FROM patrols WHERE id = :p"), {"p": p}
        ).one()
        for day, p in patrols.items()
    }
    # Keep two months before December: October and later stay, July and September go.
    done = partitions.retire(session, keep_months=2, today=TODAY)
    assert done.cutoff == date(2026, 10, 1)
    assert set(done.dropped) == {
        "patrol_points_2026_06",
        "patrol_points_2026_07",
        "patrol_points_2026_08",
        "patrol_points_2026_09",
    }
    names = {month.name for month in partitions.months(session)}
    assert "patrol_points_2026_09" not in names and "patrol_points_2026_10" in names
    counts = {
        day: session.execute(
            text("SELECT count(*) FROM patrol_points WHERE patrol_id = :p"), {"p": p}
        ).scalar_one()
        for day, p in patrols.items()
    }
    assert counts == {
        date(2026, 7, 14): 0,
        date(2026, 9, 2): 0,
        date(2026, 11, 30): 50,
        date(2026, 12, 1): 50,
    }
    for day, patrol in patrols.items():
        after = session.execute(
            text("SELECT ST_AsText(track), length_m FROM patrols WHERE id = :p"), {"p": patrol}
        ).one()
        assert after == before[day]
    # A retired patrol's export is its cleaned track's vertices (no times left to give).
    retired = patrols[date(2026, 7, 14)]
    exported = [
        (lon, lat)
        for block in tracks.fixes(session, patrol_id=retired, datum=Datum.WGS84)
        for lon, lat in zip(block[0].tolist(), block[1].tolist(), strict=True)
    ]
    line = shapely.from_wkt(before[date(2026, 7, 14)][0])
    assert exported == [tuple(xy) for xy in shapely.get_coordinates(line).tolist()]
    gpx = "".join(exports.gpx_text(session.connection(), name="old", patrol_id=retired))
    assert gpx.count("<trkpt") == len(exported) and "<time>" not in gpx
    kml = "".join(exports.kml_text(session.connection(), name="old", patrol_id=retired))
    assert "<LineString>" in kml and "<when>" not in kml


def test_a_month_made_late_takes_its_rows_from_the_default_partition(session: Session) -> None:
    """A patrol of a day no month was made for lands in the default partition; making its
    month later moves its fixes in, and retention deletes old rows of the default."""
    team = session.execute(text("INSERT INTO teams (name) VALUES ('late') RETURNING id"))
    team_id = int(team.scalar_one())
    old = patrol_on(session, date(2019, 5, 3), team_id)
    where = "SELECT tableoid::regclass::text FROM patrol_points WHERE patrol_id = :p LIMIT 1"
    assert session.execute(text(where), {"p": old}).scalar_one() == "patrol_points_default"
    made = partitions.ensure_months(session, first=date(2019, 5, 1), last=date(2019, 5, 31))
    assert made == ["patrol_points_2019_05"]
    assert session.execute(text(where), {"p": old}).scalar_one() == "patrol_points_2019_05"
    count = "SELECT count(*) FROM patrol_points WHERE patrol_id = :p"
    assert session.execute(text(count), {"p": old}).scalar_one() == 50
    older = patrol_on(session, date(2018, 1, 9), team_id)
    done = partitions.retire(session, keep_months=60, today=TODAY)
    assert done.default_rows == 50 and "patrol_points_2019_05" in done.dropped
    assert session.execute(text(count), {"p": older}).scalar_one() == 0


def test_maintenance_makes_months_ahead_on_one_node_only(
    new_database: Callable[[str], str],
) -> None:
    """Two nodes: while one holds the maintenance's locks, the other's round skips; alone,
    a round makes the months ahead and a second round makes nothing. (On a database of its
    own: the rounds commit.)"""
    engine = make_engine(new_database("geo_patrol_maintenance_months"))
    migrate.upgrade(engine)
    sessions = make_sessionmaker(engine)
    settings = Settings(partitions_ahead=3, raw_fix_months=0)
    with sessions() as other, other.begin():
        assert locks.try_lock(other, locks.MAINTENANCE)
        assert locks.try_lock(other, locks.PARTITIONS)
        counts = run_maintenance(sessions, settings)
        assert counts["skipped"] == 1 and counts["months"] == 0
    first = run_maintenance(sessions, settings)
    again = run_maintenance(sessions, settings)
    assert again["months"] == 0 and again["skipped"] == 0
    with sessions() as session:
        have = {m.first_day for m in partitions.months(session)}
    this_month = datetime.now(LOCAL).date().replace(day=1)
    assert {partitions.add_months(this_month, k) for k in range(4)} <= have
    assert first["months"] >= 1  # the migration made two months ahead, this round a third
    engine.dispose()
