"""A synthetic province of river chiefs and a year of their patrols, for `bench duty`.

The province is a rectangle split into grids: 10 cities (5 x 2), 10 counties each (2 x 5),
10 towns each (5 x 2), 25 villages each (5 x 5). Every town has two rivers of 50 segments
(about a kilometre each) running through its villages, two segments per village. A town
has 60 chiefs: one village chief per river in each village (50), per river a town chief of
the whole river and three town deputies of a third each (8), and a county chief of each of
its rivers (2): 60,000 chiefs in 1,000 towns. A town's chiefs make 1,000 patrols over the
365 days before the reference day (80 % by village chiefs, 15 % town, 5 % county; each
chief's activity drawn from a gamma distribution, so some meet their duty and some miss);
each patrol covers a contiguous run of its chief's stretch (a quarter of them under the 30 %
share), 3 % are too fast and 0.5 % mocked. `--scale` keeps the first scale x 1,000 towns.

The year is written with COPY, not through the upload path (which parses, cleans and
attributes every track: a year of a province would take days here). Coverage rows are made
in the database from (patrol, segment, from, to) fractions, so covered_m, fraction, ranges
and the covered geometry agree. Triggers and foreign-key checks are off during the fill
(`session_replication_role = replica`): the jurisdictions' subdivided parts and leaves,
which the duty assessment does not read, are not built; patrols have no track, fixes or
length (it reads none of them).
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
import pyproj
from numpy.typing import NDArray
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from geo_patrol.access.secrets import hash_password
from geo_patrol.db import bulk, migrate
from geo_patrol.db.embedded import fresh_database
from geo_patrol.db.engine import make_engine

# Bump when the generated data changes: a cached database of another version is rebuilt.
GENERATOR_VERSION = 1
CHIEFS_PER_TOWN = 60
SEGMENTS_PER_RIVER = 50
VILLAGES_PER_TOWN = 25
PATROLS_PER_TOWN = 1000
ADMIN_LOGIN = "bench.admin"
PASSWORD = "geo-patrol-bench"
GEOD = pyproj.Geod(ellps="WGS84")
# The province's south-west corner and size in degrees (inland, away from the demo region).
ORIGIN = (115.0, 28.0)
SIZE = (5.0, 2.5)
GRIDS = ((5, 2), (2, 5), (5, 2), (5, 5))  # cities, counties, towns, villages: columns x rows
LEVEL_SHARE = {"village": 0.80, "town": 0.15, "county": 0.05}
FLAGS = {1: "too_fast", 2: "mocked", 3: "long_gap"}

BUILD_TABLE = """
CREATE TABLE bench_duty_build (key text, reference_day date, fill_seconds float8, rows jsonb)
"""
COVERAGE = """
INSERT INTO patrol_coverage (patrol_id, segment_id, covered_m, fraction, ranges, covered)
SELECT c.patrol_id, c.segment_id, (c.hi - c.lo) * s.length_m, c.hi - c.lo,
       nummultirange(numrange(round(c.lo::numeric, 6), round(c.hi::numeric, 6))),
       ST_Multi(ST_LineSubstring(s.geom, c.lo, c.hi))
FROM bench_coverage c JOIN river_segments s ON s.id = c.segment_id
ORDER BY c.patrol_id, c.segment_id
"""
FLAGGED = """
UPDATE patrols p SET quality_flags = jsonb_build_array(
    (ARRAY['too_fast', 'mocked', 'long_gap'])[f.flag])
FROM bench_flags f WHERE p.id = f.patrol_id
"""
INCIDENTS = """
INSERT INTO incidents (source, category, severity, reported_at, geom, status, tier, segment_id,
                       deadline_at)
SELECT 'api', (SELECT min(code) FROM incident_categories), 'low', x.at,
       ST_LineInterpolatePoint(x.geom, 0.5), x.status, 'village', x.id, x.at + interval '7 days'
FROM (SELECT s.id, s.geom,
             CAST(:reference AS timestamptz) - random() * interval '365 days' AS at,
             (ARRAY['reported', 'assigned', 'in_progress', 'resolved', 'verified'])
                 [1 + floor(random() * 5)::int] AS status
      FROM river_segments s ORDER BY random() LIMIT :count) x
"""
IDENTITIES = (
    "jurisdictions",
    "rivers",
    "river_segments",
    "teams",
    "members",
    "devices",
    "patrols",
    "chief_appointments",
)


@dataclass(frozen=True)
class Built:
    """A built province database: its URL, reference day, fill time and row counts."""

    url: str
    reference_day: date
    fill_seconds: float
    rows: dict[str, int]
    reused: bool


def database_name(scale: float, seed: int) -> str:
    """One cached database per scale and seed."""
    return f"geo_patrol_bench_duty_{str(scale).replace('.', '_')}_{seed}"


def build_key(scale: float, seed: int) -> str:
    """What a cached database must match: the migrations' text, the generator, scale, seed."""
    digest = hashlib.sha256(f"{GENERATOR_VERSION} {scale} {seed}".encode())
    for path in sorted(Path(migrate.MIGRATIONS, "versions").glob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def cached(server_url: str, *, scale: float, seed: int) -> Built | None:
    """The cached database of this scale and seed when it was built with this key."""
    url = make_url(server_url).set(database=database_name(scale, seed))
    plain = url.set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        with psycopg.connect(plain) as conn:
            row = conn.execute(
                "SELECT key, reference_day, fill_seconds, rows FROM bench_duty_build"
            ).fetchone()
    except psycopg.Error:
        return None
    if row is None or row[0] != build_key(scale, seed):
        return None
    return Built(url.render_as_string(hide_password=False), row[1], row[2], row[3], True)


def build(server_url: str, *, scale: float, seed: int, reference_day: date) -> Built:
    """Make the province database afresh (migrated, filled, vacuumed and analysed)."""
    url = fresh_database(server_url, database_name(scale, seed))
    engine = make_engine(url)
    migrate.upgrade(engine)
    started = time.monotonic()
    with Session(engine) as session:
        superuser = session.execute(
            text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        ).scalar_one()
        if superuser:
            session.execute(text("SET session_replication_role = replica"))
        province = Province(scale=scale, seed=seed, reference_day=reference_day)
        rows = province.fill(session)
        session.execute(text(BUILD_TABLE))
        session.commit()
    engine.dispose()
    _vacuum(url)
    seconds = time.monotonic() - started
    engine = make_engine(url)
    with Session(engine) as session:
        session.execute(
            text("INSERT INTO bench_duty_build VALUES (:k, :d, :s, CAST(:r AS jsonb))"),
            {"k": build_key(scale, seed), "d": reference_day, "s": seconds, "r": json.dumps(rows)},
        )
        session.commit()
    engine.dispose()
    return Built(url, reference_day, seconds, rows, False)


def _vacuum(url: str) -> None:
    """VACUUM ANALYZE (the visibility map lets the indexes answer alone)."""
    plain = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


def _copy_text(session: Session, table: str, columns: str, rows: list[tuple[Any, ...]]) -> None:
    """A text COPY of a few thousand rows (names, codes, geometry as EWKT)."""
    raw = session.connection().connection.driver_connection
    assert raw is not None
    with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _rect_wkt(x0: float, y0: float, w: float, h: float) -> str:
    """A rectangle as an EWKT multipolygon."""
    ring = f"{x0} {y0},{x0 + w} {y0},{x0 + w} {y0 + h},{x0} {y0 + h},{x0} {y0}"
    return f"SRID=4326;MULTIPOLYGON((({ring})))"


class Province:
    """The generator: jurisdictions, rivers, chiefs, patrols (numpy, one seeded generator)."""

    def __init__(self, *, scale: float, seed: int, reference_day: date) -> None:
        self.towns = max(1, round(1000 * scale))
        self.rng = np.random.default_rng(seed)
        self.reference_day = reference_day

    def fill(self, session: Session) -> dict[str, int]:
        """Write everything; returns the rows per table."""
        self.jurisdictions(session)
        self.rivers(session)
        self.people(session)
        self.appointments(session)
        patrols = self.patrols(session)
        self.coverage(session, patrols)
        session.execute(
            text(INCIDENTS),
            {"reference": self.reference_day.isoformat(), "count": 20 * self.towns},
        )
        for table in IDENTITIES:
            session.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) FROM {table}"
                )
            )
        counted = {}
        for table in (
            "jurisdictions",
            "river_segments",
            "members",
            "chief_appointments",
            "chief_stretches",
            "patrols",
            "patrol_members",
            "patrol_coverage",
            "incidents",
        ):
            counted[table] = int(
                session.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
            )
        return counted

    def cell(self, town: int) -> tuple[str, str, str, float, float]:
        """The codes of a town's city and county, its own code, and its south-west corner."""
        county, city = town // 10, town // 100
        city_code = f"99{city + 1:02d}00"
        county_code = f"99{city + 1:02d}{county % 10 + 1:02d}"
        return city_code, county_code, f"{county_code}{town % 10 + 1:03d}", *self._corner(town, 2)

    @staticmethod
    def cell_size(level: int) -> tuple[float, float]:
        """Width and height in degrees of a cell at a level (0 city ... 3 village)."""
        w, h = SIZE
        for cols, rows in GRIDS[: level + 1]:
            w, h = w / cols, h / rows
        return w, h

    def jurisdictions(self, session: Session) -> None:
        """The province, its cities, counties, towns and villages (rectangles)."""
        rows: dict[str, tuple[Any, ...]] = {}

        def add(code: str, name: str, level: str, parent: str | None, wkt: str) -> None:
            rows.setdefault(
                code, (code, name, level, parent, wkt, code, "2020-01-01T00:00:00+08:00", "bench")
            )

        add("990000", "模拟省", "province", None, _rect_wkt(*ORIGIN, *SIZE))
        for town in range(self.towns):
            city, county, code, x, y = self.cell(town)
            for level, own, parent, name in (
                (0, city, "990000", "市"),
                (1, county, city, "县"),
                (2, code, county, "镇"),
            ):
                corner = self._corner(town, level)
                add(
                    own,
                    f"{own}{name}",
                    ("city", "county", "town")[level],
                    parent,
                    _rect_wkt(*corner, *self.cell_size(level)),
                )
            vw, vh = self.cell_size(3)
            for v in range(VILLAGES_PER_TOWN):
                vx, vy = x + (v % 5) * vw, y + (v // 5) * vh
                add(
                    f"{code}{v + 1:03d}",
                    f"{code}{v + 1:03d}村",
                    "village",
                    code,
                    _rect_wkt(vx, vy, vw, vh),
                )
        _copy_text(
            session,
            "jurisdictions",
            "code, name, level, parent_code, geom, geom_hash, valid_from, source",
            list(rows.values()),
        )

    def _corner(self, town: int, level: int) -> tuple[float, float]:
        """South-west corner of the town's city (0), county (1) or the town (2)."""
        x, y = ORIGIN
        for step, index in enumerate((town // 100, (town // 10) % 10, town % 10)[: level + 1]):
            cols = GRIDS[step][0]
            w, h = self.cell_size(step)
            x, y = x + (index % cols) * w, y + (index // cols) * h
        return x, y

    def segment_ends(self) -> tuple[NDArray[np.float64], ...]:
        """Both ends of every segment, in id order: river A of a town runs west-east through
        each village's lower third, river B south-north through its western third."""
        vw, vh = self.cell_size(3)
        towns = np.arange(self.towns)
        corners = np.array([self._corner(int(t), 2) for t in towns])
        i = np.arange(SEGMENTS_PER_RIVER)
        village, half = i // 2, i % 2
        vx = corners[:, None, 0] + (village % 5) * vw
        vy = corners[:, None, 1] + (village // 5) * vh
        a = (vx + half * vw / 2, vy + vh / 3, vx + (half + 1) * vw / 2, vy + vh / 3)
        b = (vx + vw / 3, vy + half * vh / 2, vx + vw / 3, vy + (half + 1) * vh / 2)
        # Segment ids: town t, river r (0 A, 1 B), seq i -> (2t + r) * 50 + i + 1.
        return tuple(np.stack([pa, pb], axis=1).ravel() for pa, pb in zip(a, b, strict=True))

    def rivers(self, session: Session) -> None:
        """Two rivers per town and their segments (lengths on the ellipsoid)."""
        x0, y0, x1, y1 = self.segment_ends()
        _, _, length = GEOD.inv(x0, y0, x1, y1)
        self.segment_length = np.asarray(length)
        pieces = [f"({a} {b},{c} {d})" for a, b, c, d in zip(x0, y0, x1, y1, strict=True)]
        rivers = []
        for river in range(2 * self.towns):
            code = self.cell(river // 2)[2]
            own = pieces[river * SEGMENTS_PER_RIVER : (river + 1) * SEGMENTS_PER_RIVER]
            rivers.append(
                (
                    river + 1,
                    f"R{code}{'AB'[river % 2]}",
                    f"{code}{'甲乙'[river % 2]}河",
                    f"SRID=4326;MULTILINESTRING({','.join(own)})",
                    f"r{river}",
                    "bench",
                )
            )
        _copy_text(session, "rivers", "id, code, name, geom, geom_hash, source", rivers)
        segments = [
            (
                k + 1,
                k // SEGMENTS_PER_RIVER + 1,
                k % SEGMENTS_PER_RIVER + 1,
                f"SRID=4326;LINESTRING{piece}",
                float(self.segment_length[k]),
            )
            for k, piece in enumerate(pieces)
        ]
        _copy_text(session, "river_segments", "id, river_id, seq, geom, length_m", segments)

    def roster(self) -> dict[str, NDArray[Any]]:
        """A town's 60 chiefs (the same layout in every town): level, river (0 A, 1 B),
        first segment (0-based seq) and number of segments of the stretch, village index."""
        level: list[str] = []
        river: list[int] = []
        first: list[int] = []
        count: list[int] = []
        village: list[int] = []
        for j in range(CHIEFS_PER_TOWN):
            if j < 2 * VILLAGES_PER_TOWN:
                row = ("village", j % 2, 2 * (j // 2), 2, j // 2)
            elif j < 58:
                q = (j - 50) % 4
                start = 0 if q == 0 else (q - 1) * 17
                end = SEGMENTS_PER_RIVER if q == 0 else min(SEGMENTS_PER_RIVER, q * 17)
                row = ("town", (j - 50) // 4, start, end - start, -1)
            else:
                row = ("county", j - 58, 0, SEGMENTS_PER_RIVER, -1)
            level.append(row[0])
            for values, value in zip((river, first, count, village), row[1:], strict=True):
                values.append(value)
        return {
            "level": np.array(level),
            "river": np.array(river),
            "first": np.array(first),
            "count": np.array(count),
            "village": np.array(village),
        }

    def side(self, town: int, j: int, level: str, village: int) -> str:
        """The jurisdiction a chief is appointed for."""
        _, county, code, _, _ = self.cell(town)
        return {"village": f"{code}{village + 1:03d}", "town": code, "county": county}[level]

    def people(self, session: Session) -> None:
        """A member, a device and a team membership per chief; a team per town; an admin."""
        members: list[tuple[Any, ...]] = []
        devices: list[tuple[Any, ...]] = []
        teams: list[tuple[Any, ...]] = []
        team_members: list[tuple[Any, ...]] = []
        roster = self.roster()
        for town in range(self.towns):
            teams.append((town + 1, f"{self.cell(town)[2]}巡河队"))
            for j in range(CHIEFS_PER_TOWN):
                g = town * CHIEFS_PER_TOWN + j + 1
                home = self.side(town, j, str(roster["level"][j]), int(roster["village"][j]))
                members.append((g, f"河长{g}", f"199{g:08d}", home, None, None))
                devices.append((g, g, f"chief {g}", f"{g:064x}", f"{g % 10000:04d}"))
                team_members.append((town + 1, g))
        admin = self.towns * CHIEFS_PER_TOWN + 1
        members.append((admin, "bench admin", None, "990000", ADMIN_LOGIN, hash_password(PASSWORD)))
        columns = "id, name, phone, home_jurisdiction_code, login, password_hash"
        _copy_text(session, "members", columns, members)
        _copy_text(session, "teams", "id, name", teams)
        _copy_text(session, "team_members", "team_id, member_id", team_members)
        _copy_text(session, "devices", "id, member_id, label, token_hash, token_hint", devices)
        _copy_text(session, "member_roles", "member_id, role", [(admin, "admin")])

    def appointments(self, session: Session) -> None:
        """One appointment per chief (5 % of them appointed during the year) and its stretch."""
        roster = self.roster()
        rows: list[tuple[Any, ...]] = []
        appointment: list[int] = []
        segment: list[int] = []
        late = self.rng.random(self.towns * CHIEFS_PER_TOWN) < 0.05
        since = self.rng.integers(10, 200, self.towns * CHIEFS_PER_TOWN)
        for town in range(self.towns):
            for j in range(CHIEFS_PER_TOWN):
                g = town * CHIEFS_PER_TOWN + j
                level, river = str(roster["level"][j]), 2 * town + int(roster["river"][j])
                first, count = int(roster["first"][j]), int(roster["count"][j])
                whole = count == SEGMENTS_PER_RIVER
                start = self.reference_day - timedelta(days=int(since[g]))
                rows.append(
                    (
                        g + 1,
                        g + 1,
                        level,
                        self.side(town, j, level, int(roster["village"][j])),
                        river + 1,
                        "river" if whole else "segments",
                        None if whole else f"{first + 1}-{first + count}",
                        start if late[g] else date(2024, 1, 1),
                        "bench",
                    )
                )
                appointment += [g + 1] * count
                segment += range(
                    river * SEGMENTS_PER_RIVER + first + 1,
                    river * SEGMENTS_PER_RIVER + first + count + 1,
                )
        columns = (
            "id, member_id, level, jurisdiction_code, river_id, stretch_kind, stretch_label, "
            "valid_from, source"
        )
        _copy_text(session, "chief_appointments", columns, rows)
        bulk.copy_rows(
            session,
            table="chief_stretches",
            columns={
                "appointment_id": np.array(appointment, np.int32),
                "segment_id": np.array(segment, np.int32),
            },
        )

    def chosen_chiefs(self) -> NDArray[np.int64]:
        """Which chief (global index) made each patrol: a town's patrols shared by level,
        then by each chief's activity (gamma distributed)."""
        roster = self.roster()
        per_level = {lv: int((roster["level"] == lv).sum()) for lv in LEVEL_SHARE}
        base = np.array([LEVEL_SHARE[lv] / per_level[lv] for lv in roster["level"]])
        weight = base[None, :] * self.rng.gamma(2.0, 0.5, (self.towns, CHIEFS_PER_TOWN))
        cumulative = np.cumsum(weight / weight.sum(axis=1, keepdims=True), axis=1)
        cumulative[:, -1] = 1.0
        towns = np.arange(self.towns)
        draws = self.rng.random((self.towns, PATROLS_PER_TOWN)) + towns[:, None]
        found = np.searchsorted((cumulative + towns[:, None]).ravel(), draws.ravel())
        return np.minimum(
            found,
            (towns[:, None] * CHIEFS_PER_TOWN + CHIEFS_PER_TOWN - 1)
            .repeat(PATROLS_PER_TOWN, axis=1)
            .ravel(),
        )

    def patrols(self, session: Session) -> dict[str, NDArray[Any]]:
        """The year's patrols, their members and flags; returns what coverage needs."""
        chief = self.chosen_chiefs()
        n = len(chief)
        rng = self.rng
        day = np.datetime64(self.reference_day, "us") - rng.integers(1, 366, n) * np.timedelta64(
            1, "D"
        )
        # Local (UTC+8) start between 07:00 and 17:00.
        minutes = (7 * 60 + rng.random(n) * 600 - 8 * 60).astype(np.int64)
        started = day + minutes * np.timedelta64(1, "m")
        duration = 20 * 60 + rng.gamma(2.0, 1500.0, n)
        ended = started + (duration * 1e6).astype(np.int64) * np.timedelta64(1, "us")
        on_patrol = rng.random(n) < 0.9
        by_device = (rng.random(n) < 0.7) | ~on_patrol
        ids = np.arange(1, n + 1, dtype=np.int64)
        bulk.copy_rows(
            session,
            table="patrols",
            columns={
                "id": ids,
                "team_id": (chief // CHIEFS_PER_TOWN + 1).astype(np.int32),
                "source": np.full(n, b"upload", "S6"),
                "device_id": np.ma.masked_array((chief + 1).astype(np.int32), mask=~by_device),
                "started_at": started,
                "ended_at": ended,
                "closed_at": ended,
                "duration_s": duration,
            },
        )
        self.patrol_members(session, ids, chief, on_patrol)
        self.flags(session, ids)
        return {"ids": ids, "chief": chief}

    def patrol_members(
        self, session: Session, ids: NDArray[np.int64], chief: NDArray[np.int64], on: NDArray[Any]
    ) -> None:
        """The chief (when not only the device's owner), and for a fifth of the village
        chiefs' patrols the village's other chief (who covers none of their own river)."""
        village = (chief % CHIEFS_PER_TOWN) < 2 * VILLAGES_PER_TOWN
        companion = village & (self.rng.random(len(ids)) < 0.2)
        patrol = np.concatenate([ids[on], ids[companion]])
        member = np.concatenate([chief[on] + 1, (chief[companion] ^ 1) + 1]).astype(np.int32)
        order = np.lexsort((member, patrol))
        bulk.copy_rows(
            session,
            table="patrol_members",
            columns={"patrol_id": patrol[order], "member_id": member[order]},
        )

    def flags(self, session: Session, ids: NDArray[np.int64]) -> None:
        """3 % too fast, 0.5 % mocked (both disqualify), 2.5 % a long gap (does not)."""
        draw = self.rng.random(len(ids))
        flag = np.select([draw < 0.03, draw < 0.035, draw < 0.06], [1, 2, 3], 0)
        session.execute(text("CREATE UNLOGGED TABLE bench_flags (patrol_id int8, flag int4)"))
        bulk.copy_rows(
            session,
            table="bench_flags",
            columns={"patrol_id": ids[flag > 0], "flag": flag[flag > 0].astype(np.int32)},
        )
        session.execute(text(FLAGGED))
        session.execute(text("DROP TABLE bench_flags"))

    def coverage(self, session: Session, patrols: dict[str, NDArray[Any]]) -> None:
        """Each patrol covers a contiguous run of its chief's stretch: three quarters at
        least 30 % of it, a quarter less; made in the database from the fractions."""
        roster = self.roster()
        chief, ids = patrols["chief"], patrols["ids"]
        j, town = chief % CHIEFS_PER_TOWN, chief // CHIEFS_PER_TOWN
        count = roster["count"][j].astype(np.float64)
        first_id = (2 * town + roster["river"][j]) * SEGMENTS_PER_RIVER + roster["first"][j] + 1
        rng = self.rng
        share = np.where(
            rng.random(len(ids)) < 0.75,
            rng.uniform(0.3, 1.0, len(ids)),
            rng.uniform(0.02, 0.3, len(ids)),
        )
        length = share * count
        start = rng.random(len(ids)) * (count - length)
        i0 = np.floor(start).astype(np.int64)
        k = np.maximum(np.ceil(start + length).astype(np.int64) - i0, 1)
        rep = np.repeat(np.arange(len(ids)), k)
        i = i0[rep] + np.arange(len(rep)) - np.repeat(np.cumsum(k) - k, k)
        lo = np.round(np.clip(start[rep] - i, 0, 1), 6)
        hi = np.round(np.clip(start[rep] + length[rep] - i, 0, 1), 6)
        keep = hi - lo > 1e-6
        session.execute(
            text(
                "CREATE UNLOGGED TABLE bench_coverage "
                "(patrol_id int8, segment_id int4, lo float8, hi float8)"
            )
        )
        bulk.copy_rows(
            session,
            table="bench_coverage",
            columns={
                "patrol_id": ids[rep][keep],
                "segment_id": (first_id[rep] + i)[keep].astype(np.int32),
                "lo": lo[keep],
                "hi": hi[keep],
            },
        )
        session.execute(text("DROP INDEX ix_patrol_coverage_geom"))
        session.execute(text(COVERAGE))
        session.execute(text("DROP TABLE bench_coverage"))
        session.execute(
            text("CREATE INDEX ix_patrol_coverage_geom ON patrol_coverage USING gist (covered)")
        )
