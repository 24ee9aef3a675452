"""A county zone's year of patrols, fixes and incidents, for `bench year`.

The base (100 %) is one county zone's year at realistic rates: 20 teams (the demo's 3 and
17 more), 2 patrols per team per day, each 1-3 h on foot at one fix a second along the demo
region's rivers: 14,600 patrols and about 105M raw fixes; 20 incidents a day (7,300). A
size is a share of that year (`share`, 1.0 = the whole year): the patrols are a sample of
the year's, still spread over its 365 days, so 1 % is 146 patrols and about a million fixes.

How rows are made:

- **templates, through the real upload path**: `min(TEMPLATES, patrols)` walks (the same at
  every size: a random stream of their own) are made as
  GPX files and stored by `geo_patrol.patrols.upload.upload_patrol` (parse, COPY, clean,
  attribution at every level, crossings, river coverage, quality flags). Their seconds per
  patrol are what filling the whole year through that path would cost.
- **the rest, cloned in SQL from the templates**: every other patrol copies one template's
  rows (`patrols`, `patrol_points`, `patrol_jurisdictions`, `patrol_crossings`,
  `patrol_coverage`) with its own id, team, `created_at` and `patrol_day`, every time moved
  by the same shift. Attribution and coverage are thus the product's own answers for that
  track (a patrol repeats a route another walked); one INSERT ... SELECT per table and
  batch instead of a parse and an attribution per patrol. `patrol_day` is set when the
  column exists (migration 0020) and `partitions.ensure_months` is called first.
- **one member per patrol** in `patrol_members`: a demo river chief, so that duty counts them.
- **incidents, through the real bulk import** (`incidents.bulk_import.import_incidents`:
  routing, tiers, responsible sides): a hotline CSV of points near the rivers, reported
  over the year.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from importlib import import_module
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray
from sqlalchemy import text
from sqlalchemy.orm import Session

from bench.tracks import Track, gpx_bytes
from geo_patrol.access.principal import command_line_principal
from geo_patrol.access.scope import Scope
from geo_patrol.core.local_time import LOCAL
from geo_patrol.core.settings import Settings
from geo_patrol.db import bulk
from geo_patrol.incidents.bulk_import import ImportOptions, import_incidents
from geo_patrol.patrols.upload import UploadRequest, upload_patrol

TEAMS = 20
PATROLS_PER_TEAM_DAY = 2
DAYS = 365
YEAR_PATROLS = TEAMS * PATROLS_PER_TEAM_DAY * DAYS  # 14,600
INCIDENTS_PER_DAY = 20
TEMPLATES = 40
STEP_M = 1.3  # metres a second on foot
NOISE_M = 3.0
METRES_PER_DEGREE = 111_000.0
CLONE_BATCH = 200  # patrols per INSERT ... SELECT (about 1.4M fixes)
IMPORT_BATCH = 2000  # incident rows per import
CLONED_TABLES = (
    "patrols",
    "patrol_points",
    "patrol_jurisdictions",
    "patrol_crossings",
    "patrol_coverage",
    "patrol_overviews",  # the map's low zooms draw these (migration 0021)
)
RIVERS = "SELECT ST_AsBinary(geom) FROM river_segments ORDER BY id"
CHIEF_MEMBERS = "SELECT DISTINCT member_id FROM chief_appointments ORDER BY member_id"
COLUMNS = """
SELECT column_name, data_type, is_identity = 'YES' OR is_generated = 'ALWAYS'
FROM information_schema.columns
WHERE table_schema = current_schema() AND table_name = :t ORDER BY ordinal_position
"""
SUPERUSER = "SELECT rolsuper FROM pg_roles WHERE rolname = current_user"
CLONES_TABLE = """
CREATE UNLOGGED TABLE bench_clones (id int8 PRIMARY KEY, template int8, shift_us int8,
                                    team_id int4, created_at timestamptz)
"""


@dataclass
class Filled:
    """What the fill made and how long each part took."""

    share: float
    patrols: int = 0
    templates: int = 0
    template_seconds: list[float] = field(default_factory=list)
    clone_seconds: float = 0.0
    incidents: int = 0
    incident_seconds: float = 0.0
    partitions_created: int | None = None  # None: patrol_points is not partitioned here
    first_day: date | None = None
    last_day: date | None = None


def has_column(session: Session, table: str, column: str) -> bool:
    """Whether `table` has `column` (patrol_day arrives with migration 0020)."""
    rows = session.execute(text(COLUMNS), {"t": table}).all()
    return any(row[0] == column for row in rows)


def network(session: Session) -> list[shapely.LineString]:
    """The demo rivers, merged into lines to walk along."""
    lines = [shapely.from_wkb(bytes(row[0])) for row in session.execute(text(RIVERS))]
    merged = shapely.line_merge(shapely.MultiLineString(lines))
    return list(getattr(merged, "geoms", [merged]))


def walk(parts: list[shapely.LineString], n: int, rng: np.random.Generator) -> NDArray[Any]:
    """`n` fixes a second along a random river (back at its ends), receiver noise drifting."""
    lengths = np.array([p.length for p in parts])
    line = parts[int(rng.choice(len(parts), p=lengths / lengths.sum()))]
    length_m = line.length * METRES_PER_DEGREE
    along = rng.uniform(0, length_m) + np.arange(n) * STEP_M
    along = np.abs((along + length_m) % (2 * length_m) - length_m)
    xy = shapely.get_coordinates(shapely.line_interpolate_point(line, along / METRES_PER_DEGREE))
    noise = rng.normal(0, NOISE_M / METRES_PER_DEGREE, size=(n // 60 + 2, 2))
    moved: NDArray[np.float64] = xy + np.repeat(noise, 60, axis=0)[:n]
    return moved


class CountyYear:
    """The generator: one seeded numpy generator, sizes as a share of the year."""

    def __init__(self, *, share: float, seed: int, today: date, templates: int = TEMPLATES) -> None:
        self.share = share
        self.seed = seed
        self.templates = templates
        self.patrols = max(1, round(YEAR_PATROLS * share))
        self.incidents = max(1, round(INCIDENTS_PER_DAY * DAYS * share))
        self.rng = np.random.default_rng(seed)
        self.today = today

    def fill(self, session: Session, settings: Settings) -> Filled:
        """Teams, templates (uploaded), clones (SQL), members, incidents (imported)."""
        filled = Filled(self.share, patrols=self.patrols)
        teams = self.teams(session)
        rng = self.rng
        n = self.patrols
        day = rng.integers(1, DAYS + 1, n)  # days before today
        local_start = (7 + 10 * rng.random(n)) * 3600  # 07:00-17:00 China time
        starts = [
            datetime.combine(self.today - timedelta(days=int(d)), datetime.min.time(), LOCAL)
            + timedelta(seconds=float(s))
            for d, s in zip(day, local_start, strict=True)
        ]
        # The templates (walks, lengths) come from a stream of their own: the same 40 at every
        # size, so that sizes differ in how many patrols there are, not in which tracks.
        walks = np.random.default_rng([self.seed, 1])
        duration = walks.integers(
            3600, 3 * 3600 + 1, max(TEMPLATES, self.templates)
        )  # clones take their template's
        team = np.array(teams)[rng.integers(0, len(teams), n)]
        parts = network(session)
        templates = min(self.templates, n)
        template_ids: list[int] = []
        template_starts: list[datetime] = []
        for k in range(templates):
            xy = walk(parts, int(duration[k]), walks)
            begin = np.datetime64(starts[k].astimezone(UTC).replace(tzinfo=None), "s")
            times = begin + np.arange(len(xy)).astype("timedelta64[s]")
            track = Track(xy[:, 0].copy(), xy[:, 1].copy(), times)
            request = UploadRequest(
                team_id=int(team[k]), filename=f"year-{k}.gpx", data=gpx_bytes(track, f"t{k}")
            )
            clock = time.perf_counter()
            result = upload_patrol(
                session,
                request=request,
                principal=command_line_principal(),
                settings=settings,
                address=None,
            )
            session.commit()
            filled.template_seconds.append(time.perf_counter() - clock)
            template_ids.append(result.patrol_id)
            template_starts.append(starts[k])
        filled.templates = templates
        clock = time.perf_counter()
        self.clones(session, filled, template_ids, template_starts, starts, duration, team)
        self.members(session, filled)
        filled.clone_seconds = time.perf_counter() - clock
        clock = time.perf_counter()
        filled.incidents = self.import_incidents(session, parts, settings)
        filled.incident_seconds = time.perf_counter() - clock
        return filled

    def teams(self, session: Session) -> list[int]:
        """The demo's teams and enough more (in the demo zone) to make TEAMS."""
        have = list(session.execute(text("SELECT id FROM teams ORDER BY id")).scalars())
        zone = session.execute(text("SELECT min(id) FROM cooperation_zones")).scalar_one()
        for k in range(TEAMS - len(have)):
            made = session.execute(
                text("INSERT INTO teams (name, zone_id) VALUES (:n, :z) RETURNING id"),
                {"n": f"模拟巡河队{k + 1:02d}", "z": zone},
            )
            have.append(int(made.scalar_one()))
        session.commit()
        return have

    def clones(
        self,
        session: Session,
        filled: Filled,
        template_ids: list[int],
        template_starts: list[datetime],
        starts: list[datetime],
        duration: NDArray[np.int64],
        team: NDArray[Any],
    ) -> None:
        """Every patrol after the templates: one template's rows, moved in time."""
        templates = len(template_ids)
        count = self.patrols - templates
        partitioned = has_column(session, "patrol_points", "patrol_day")
        first = min(starts).astimezone(LOCAL).date()
        if partitioned:
            partitions = import_module("geo_patrol.patrols.partitions")
            made = partitions.ensure_months(session, first=first, last=self.today)
            filled.partitions_created = len(made)
            session.commit()
        filled.first_day, filled.last_day = first, self.today
        if count <= 0:
            return
        base = int(session.execute(text("SELECT max(id) FROM patrols")).scalar_one())
        which = np.arange(count) % templates
        source_start = np.array(
            [
                np.datetime64(template_starts[w].astimezone(UTC).replace(tzinfo=None), "us")
                for w in which
            ]
        )
        own_start = np.array(
            [
                np.datetime64(s.astimezone(UTC).replace(tzinfo=None), "us")
                for s in starts[templates:]
            ]
        )
        shift = (own_start - source_start).astype(np.int64)
        # Uploaded ten minutes after the walk ended: the row's day is that day (China time).
        ends = own_start + duration[which].astype("timedelta64[s]") + np.timedelta64(600, "s")
        session.execute(text(CLONES_TABLE))
        bulk.copy_rows(
            session,
            table="bench_clones",
            columns={
                "id": np.arange(base + 1, base + count + 1, dtype=np.int64),
                "template": np.array(template_ids, np.int64)[which],
                "shift_us": shift,
                "team_id": team[templates:].astype(np.int32),
                "created_at": ends,
            },
        )
        session.execute(text("ANALYZE bench_clones"))
        superuser = session.execute(text(SUPERUSER)).scalar_one()
        statements = [self._clone_sql(session, table, partitioned) for table in CLONED_TABLES]
        # The templates' day: their fixes are read from that month's partition alone.
        days = list(
            session.execute(
                text("SELECT DISTINCT patrol_day FROM patrols WHERE id = ANY(:ids)"),
                {"ids": template_ids},
            ).scalars()
            if partitioned
            else []
        )
        for low in range(base + 1, base + count + 1, CLONE_BATCH):
            if superuser:  # no foreign-key or trigger work per row (as duty_province)
                session.execute(text("SET session_replication_role = replica"))
            for sql in statements:
                session.execute(
                    text(sql), {"low": low, "high": low + CLONE_BATCH - 1, "days": days}
                )
            session.commit()
        session.execute(text("SET session_replication_role = origin"))
        session.execute(text("DROP TABLE bench_clones"))
        session.execute(
            text("SELECT setval(pg_get_serial_sequence('patrols', 'id'), max(id)) FROM patrols")
        )
        session.commit()

    @staticmethod
    def _clone_sql(session: Session, table: str, partitioned: bool) -> str:
        """INSERT ... SELECT of a batch of clones' rows of `table` from their templates."""
        targets, values = [], []
        for name, kind, generated in session.execute(text(COLUMNS), {"t": table}).all():
            own_id = table == "patrols" and name == "id"
            if generated and not own_id:
                continue
            if own_id or name == "patrol_id":
                value = "c.id"
            elif name == "patrol_day":
                value = "(c.created_at AT TIME ZONE 'Asia/Shanghai')::date"
            elif table == "patrols" and name == "created_at":
                value = "c.created_at"
            elif table == "patrols" and name == "team_id":
                value = "c.team_id"
            elif table == "patrols" and name in ("device_id", "upload_id", "title"):
                value = "NULL"
            elif kind == "timestamp with time zone":
                value = f"t.{name} + c.shift_us * interval '1 microsecond'"
            else:
                value = f"t.{name}"
            targets.append(name)
            values.append(value)
        key = "id" if table == "patrols" else "patrol_id"
        order = ", t.seq" if table == "patrol_points" else ""
        day = (
            " AND t.patrol_day = ANY(CAST(:days AS date[]))"
            if partitioned and table == "patrol_points"
            else ""
        )
        return (
            f"INSERT INTO {table} ({', '.join(targets)}) SELECT {', '.join(values)} "
            f"FROM bench_clones c JOIN {table} t ON t.{key} = c.template{day} "
            f"WHERE c.id BETWEEN :low AND :high ORDER BY c.id{order}"
        )

    def members(self, session: Session, filled: Filled) -> None:
        """One demo river chief on each patrol (the duty assessment counts them)."""
        chiefs = np.array(list(session.execute(text(CHIEF_MEMBERS)).scalars()), np.int32)
        ids = np.array(
            list(session.execute(text("SELECT id FROM patrols ORDER BY id")).scalars()), np.int64
        )
        if not len(chiefs) or not len(ids):
            return
        taken = set(
            session.execute(text("SELECT DISTINCT patrol_id FROM patrol_members")).scalars()
        )
        free = np.array([i for i in ids.tolist() if i not in taken], np.int64)
        bulk.copy_rows(
            session,
            table="patrol_members",
            columns={
                "patrol_id": free,
                "member_id": chiefs[self.rng.integers(0, len(chiefs), len(free))],
            },
        )
        session.commit()

    def import_incidents(
        self, session: Session, parts: list[shapely.LineString], settings: Settings
    ) -> int:
        """The year's incidents as hotline CSV files, through the bulk import."""
        rng = self.rng
        n = self.incidents
        lengths = np.array([p.length for p in parts])
        chosen = rng.choice(len(parts), size=n, p=lengths / lengths.sum())
        stored = 0
        for start in range(0, n, IMPORT_BATCH):
            lines = ["工单编号,来源,受理时间,经度,纬度,诉求类型,诉求内容"]
            for k in range(start, min(n, start + IMPORT_BATCH)):
                line = parts[int(chosen[k])]
                point = line.interpolate(float(rng.random()), normalized=True)
                lon = point.x + rng.normal(0, 30 / METRES_PER_DEGREE)
                lat = point.y + rng.normal(0, 30 / METRES_PER_DEGREE)
                moment = datetime.combine(
                    self.today - timedelta(days=int(rng.integers(1, DAYS + 1))),
                    datetime.min.time(),
                ) + timedelta(seconds=float(rng.uniform(6 * 3600, 22 * 3600)))
                lines.append(
                    f"Y{k},bench,{moment:%Y-%m-%d %H:%M},{lon:.6f},{lat:.6f},漂浮物,bench year"
                )
            report = import_incidents(
                session,
                data=("\n".join(lines) + "\n").encode(),
                options=ImportOptions(skip_errors=True, filename="year.csv"),
                scope=Scope(everything=True),
                principal=command_line_principal(),
                settings=settings,
            )
            session.commit()
            stored += report.stored
        return stored
