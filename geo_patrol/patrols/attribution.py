"""Patrol attribution: metres and seconds in every jurisdiction, and confirmed crossings.

Read top to bottom:
1. The kept fixes, in time order, go to the database as short lines of CHUNK_LEGS legs
   ("chunks"). A chunk that lies wholly inside every leaf piece it touches, with those
   pieces' boundary versions in force over its whole time span, belongs to that leaf whole:
   each of its fixes would have found exactly those pieces. Away from borders that is
   nearly every chunk, so most fixes are never looked at one by one.
2. The fixes of the other chunks each get their leaf: the lowest-level jurisdiction whose
   boundary in force at the fix's time contains it (one point-in-polygon probe on the leaf
   pieces). Its jurisdiction at every other level is the leaf's ancestor there (boundaries
   nest: a town lies within its county), so six spatial joins become one and a join on the
   hierarchy.
3. Metres are measured on the ellipsoid. A leg (consecutive kept fixes) with the same leaf
   at both ends counts whole for it: those are summed per leaf before anything is sent
   (`leg_metres`). A leg whose ends differ goes to the database with its line and is cut
   by the jurisdictions at its ends, each getting the metres inside it. Seconds follow
   metres (a leg that does not move counts none, nor does one without times). Both sides
   of a joint patrol get their own metres: effort is never lost at the line.
4. Crossings: GPS fixes along a border hop from side to side within a few metres. A change
   of side counts only once the track is firmly on the new side (hysteresis): it stayed
   there for `long_run_m` metres, or for `min_run_m` metres with a fix at least `margin_m`
   from every other jurisdiction of that level (every fix of the run is looked at). A run's
   metres go from its first fix to the first fix after it. The side the patrol starts on
   is firm from its first fix (nothing came before it to jitter from; a patrol starting
   outside every jurisdiction of a level has no starting side there); every later side,
   the last included, must be firm to count. A walk along the border gives no crossings;
   a real crossing gives one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

import numpy as np
import pyproj
from numpy.typing import NDArray
from sqlalchemy import delete, text
from sqlalchemy.orm import Session

from geo_patrol.core.coords import leg_metres, utm_crs_for
from geo_patrol.db.bulk import copy_rows, ewkb_lines, ewkb_points, fetch_rows
from geo_patrol.db.tables import PatrolCrossing, PatrolJurisdiction
from geo_patrol.geography.levels import level_rank
from geo_patrol.geography.pieces import BoundaryPieces, lowest_level_pieces
from geo_patrol.patrols.partitions import day_of
from geo_patrol.patrols.track.times import as_datetime, epoch_millis, from_epoch_millis
from geo_patrol.patrols.track.types import TrackPoints
from geo_patrol.patrols.track_pieces import Pieces

# Legs per chunk: shorter chunks sit inside one leaf more often near borders, longer ones
# mean fewer rows. (On the benchmark walk, which hugs a border, 8 to 32 were within the
# noise of one another on this machine.)
CHUNK_LEGS = 16

KEPT = """
SELECT ST_X(geom), ST_Y(geom), extract(epoch FROM time) * 1000
FROM patrol_points
WHERE patrol_id = %(patrol_id)s AND patrol_day = %(patrol_day)s AND ord IS NOT NULL ORDER BY ord
"""

CHUNKS = """
CREATE TEMP TABLE chunks (
    k int PRIMARY KEY, lo timestamptz, hi timestamptz, untimed bool,
    geom geometry(LineString, 4326)
) ON COMMIT DROP
"""


# The leaf of each chunk lying wholly inside every piece it touches (in force throughout);
# a fix without a time is taken at the present, as in FIX_LEAVES. Each piece finds its
# chunks through the chunks' index, so consecutive tests share the piece's prepared form
# (ST_Covers(piece, chunk): PostGIS prepares the first argument; ST_CoveredBy(chunk, piece)
# was ten times slower).
def _chunk_leaves_sql(pieces: BoundaryPieces) -> str:
    """The chunk leaves over one table of boundary pieces."""
    return f"""
CREATE TEMP TABLE chunk_leaves ON COMMIT DROP AS
WITH spans AS (
    SELECT k, geom,
           CASE WHEN untimed THEN least(coalesce(lo, now()), now()) ELSE lo END AS lo,
           CASE WHEN untimed THEN greatest(coalesce(hi, now()), now()) ELSE hi END AS hi
    FROM chunks
),
touching AS (
    SELECT c.k, j.id, j.code, {level_rank("j.level")} AS rank,
           ST_Covers(jp.geom, c.geom)
               AND j.valid_from <= c.lo AND (j.valid_to IS NULL OR j.valid_to > c.hi) AS covers
    FROM {pieces} jp
    JOIN spans c ON c.geom && jp.geom AND ST_Intersects(jp.geom, c.geom)
    JOIN jurisdictions j ON j.id = jp.jurisdiction_id
    WHERE j.valid_from <= c.hi AND (j.valid_to IS NULL OR j.valid_to > c.lo)
),
judged AS (
    SELECT k, id, code, rank, bool_and(covers) OVER (PARTITION BY k) AS inside FROM touching
)
SELECT DISTINCT ON (k) k, id AS leaf_id FROM judged WHERE inside
ORDER BY k, rank DESC, code
"""


CHUNK_LEAVES = {pieces: _chunk_leaves_sql(pieces) for pieces in BoundaryPieces}

# The fixes of the other chunks on their own, indexed: each piece then finds its fixes
# through one index scan (the shape's prepared form reused), much cheaper than one probe
# per fix.
FIXES = """
CREATE TEMP TABLE fixes (
    ord int PRIMARY KEY, time timestamptz, geom geometry(Point, 4326)
) ON COMMIT DROP
"""


def _fix_leaves_sql(pieces: BoundaryPieces) -> str:
    """The fix leaves over one table of boundary pieces."""
    return f"""
CREATE TEMP TABLE fix_leaves ON COMMIT DROP AS
SELECT DISTINCT ON (p.ord) p.ord, j.id AS leaf_id
FROM fixes p
JOIN {pieces} jp ON ST_Intersects(jp.geom, p.geom)
JOIN jurisdictions j ON j.id = jp.jurisdiction_id
 AND j.valid_from <= coalesce(p.time, now())
 AND (j.valid_to IS NULL OR j.valid_to > coalesce(p.time, now()))
ORDER BY p.ord, {level_rank("j.level")} DESC, j.code
"""


FIX_LEAVES = {pieces: _fix_leaves_sql(pieces) for pieces in BoundaryPieces}

# Every leaf (of a fix, or crossed by a leg) with itself and its ancestors in force
# when the patrol started: one row a level.
CHAINS = """
CREATE TEMP TABLE chains ON COMMIT DROP AS
WITH RECURSIVE chain AS (
    SELECT j.id AS leaf_id, j.id, j.code, j.level, j.parent_code, 0 AS depth
    FROM jurisdictions j
    WHERE j.id IN (SELECT leaf_id FROM whole UNION SELECT leaf0 FROM legs
                   UNION SELECT leaf1 FROM legs UNION SELECT jurisdiction_id FROM splits)
    UNION ALL
    SELECT c.leaf_id, p.id, p.code, p.level, p.parent_code, c.depth + 1
    FROM chain c JOIN jurisdictions p ON p.code = c.parent_code
     AND p.valid_from <= :started AND (p.valid_to IS NULL OR p.valid_to > :started)
    WHERE c.depth < 10
)
SELECT leaf_id, level, id AS jurisdiction_id, code FROM chain
"""

# Legs whose ends have different leaves (NULL: none), with their line; and, per leaf, the
# metres, seconds and first and last time of the legs with that leaf at both ends.
LEGS = """
CREATE TEMP TABLE legs (
    ord int PRIMARY KEY, t0 timestamptz, t1 timestamptz, leaf0 bigint, leaf1 bigint,
    length_m float8, geom geometry(LineString, 4326)
) ON COMMIT DROP;
CREATE TEMP TABLE whole (
    leaf_id bigint, inside_m float8, seconds float8, t0 timestamptz, t1 timestamptz
) ON COMMIT DROP
"""


# Each leg between two leaves, cut by the pieces it crosses: metres in each piece's owner.
# (Also where the leg enters each piece, for the place of a crossing.) Pieces find their
# legs through the legs' index, as chunks are found in CHUNK_LEAVES.
def _splits_sql(pieces: BoundaryPieces) -> str:
    """The leg splits over one table of boundary pieces."""
    return f"""
CREATE TEMP TABLE splits ON COMMIT DROP AS
SELECT l.ord, jp.jurisdiction_id, ST_Length(inside.geom::geography) AS m,
       ST_StartPoint(ST_GeometryN(inside.geom, 1)) AS entry
FROM {pieces} jp
JOIN legs l ON l.geom && jp.geom AND ST_Intersects(jp.geom, l.geom)
CROSS JOIN LATERAL ST_Intersection(l.geom, jp.geom) AS inside(geom)
WHERE l.geom IS NOT NULL
"""


SPLITS = {pieces: _splits_sql(pieces) for pieces in BoundaryPieces}

# Which jurisdictions the metres of a piece count for: a leaf piece for the leaf and its
# ancestors, a part for its own jurisdiction.
CREDIT = """
CREATE TEMP TABLE credit ON COMMIT DROP AS
SELECT leaf_id AS owner_id, jurisdiction_id, code FROM chains WHERE :by_leaves
UNION ALL
SELECT DISTINCT s.jurisdiction_id, s.jurisdiction_id, j.code
FROM splits s JOIN jurisdictions j ON j.id = s.jurisdiction_id WHERE NOT :by_leaves
"""

# Metres, seconds, first and last time per jurisdiction: legs within one leaf count whole
# for the leaf and its ancestors; a leg between leaves counts whole for a jurisdiction at
# both of its ends, and is cut by one at only one end: the metres of its splits in the
# pieces credited to that jurisdiction.
ATTRIBUTE = """
WITH ends AS (
    SELECT l.ord, c.jurisdiction_id, count(*) AS n
    FROM legs l
    CROSS JOIN LATERAL (VALUES (l.leaf0), (l.leaf1)) AS e(leaf_id)
    JOIN chains c ON c.leaf_id = e.leaf_id
    GROUP BY l.ord, c.jurisdiction_id
),
split_m AS (
    SELECT s.ord, c.jurisdiction_id, sum(s.m) AS m
    FROM splits s JOIN credit c ON c.owner_id = s.jurisdiction_id
    GROUP BY s.ord, c.jurisdiction_id
),
cut AS (
    SELECT e.jurisdiction_id, l.t0, l.t1, l.length_m AS leg_m,
           CASE WHEN e.n = 2 THEN l.length_m ELSE coalesce(m.m, 0) END AS inside_m
    FROM ends e JOIN legs l ON l.ord = e.ord
    LEFT JOIN split_m m ON m.ord = e.ord AND m.jurisdiction_id = e.jurisdiction_id
),
pieces AS (
    SELECT c.jurisdiction_id, w.inside_m, w.seconds, w.t0, w.t1
    FROM whole w JOIN chains c ON c.leaf_id = w.leaf_id
    UNION ALL
    SELECT jurisdiction_id, inside_m,
           CASE WHEN leg_m > 0 THEN greatest(extract(epoch FROM t1 - t0), 0) * inside_m / leg_m
                ELSE 0 END,
           t0, t1
    FROM cut
)
SELECT j.id, j.code, j.level, sum(p.inside_m), sum(p.seconds), min(p.t0), max(p.t1)
FROM pieces p JOIN jurisdictions j ON j.id = p.jurisdiction_id
GROUP BY j.id, j.code, j.level
"""

STORE_JURISDICTIONS = """
INSERT INTO patrol_jurisdictions
    (patrol_id, jurisdiction_id, code, level, length_m, duration_s, entered_at, exited_at)
SELECT :patrol_id, * FROM unnest(
    CAST(:ids AS bigint[]), CAST(:codes AS text[]), CAST(:levels AS text[]),
    CAST(:metres AS float8[]), CAST(:seconds AS float8[]), CAST(:entered AS timestamptz[]),
    CAST(:exited AS timestamptz[]))
"""

# Where the leg into the new side meets it: the first place along the leg where it enters a
# piece credited to the new jurisdiction (its end if none); its time interpolated along the
# leg. (The ends of such a leg have different leaves, so it lies in a chunk looked at fix by
# fix, and has its line and splits.)
CROSSING = """
SELECT x.level, l.t0 + (l.t1 - l.t0) * ST_LineLocatePoint(l.geom, entry.geom),
       x.from_code, x.to_code, ST_AsEWKB(entry.geom)
FROM unnest(CAST(:levels AS text[]), CAST(:legs AS int[]), CAST(:from_codes AS text[]),
            CAST(:to_codes AS text[])) AS x(level, leg_ord, from_code, to_code)
JOIN legs l ON l.ord = x.leg_ord
CROSS JOIN LATERAL (
    SELECT coalesce(
        (SELECT s.entry FROM splits s JOIN credit c ON c.owner_id = s.jurisdiction_id
         WHERE s.ord = l.ord AND c.code = x.to_code
         ORDER BY ST_LineLocatePoint(l.geom, s.entry) LIMIT 1),
        ST_EndPoint(l.geom)) AS geom
) AS entry
"""

STORE_CROSSINGS = """
INSERT INTO patrol_crossings (patrol_id, level, at, from_code, to_code, geom)
SELECT :patrol_id, level, at, from_code, to_code, ST_GeomFromEWKB(geom)
FROM unnest(CAST(:levels AS text[]), CAST(:at AS timestamptz[]), CAST(:from_codes AS text[]),
            CAST(:to_codes AS text[]), CAST(:geoms AS bytea[]))
     AS x(level, at, from_code, to_code, geom)
"""


class JurisdictionShare(NamedTuple):
    """How far and how long a track went in one jurisdiction (a row of ATTRIBUTE)."""

    jurisdiction_id: int
    code: str
    level: str
    metres: float
    seconds: float | None
    entered: datetime | None
    exited: datetime | None


class CrossingRow(NamedTuple):
    """A confirmed crossing as stored (a row of CROSSING): where the track entered the side."""

    level: str
    at: datetime | None
    from_code: str
    to_code: str
    ewkb: bytes


@dataclass(frozen=True)
class Attribution:
    """What attribution found for a track: its share of each jurisdiction, and the
    confirmed crossings."""

    jurisdictions: list[JurisdictionShare]
    crossings: list[CrossingRow]


@dataclass(frozen=True)
class Crossing:
    """A confirmed change of side: the fix that starts the new side, and the two codes."""

    first_ord: int
    from_code: str
    to_code: str


class Run(NamedTuple):
    """A maximal stretch of consecutive kept fixes in one jurisdiction of a level."""

    code: str | None  # None: outside every jurisdiction of the level
    first: int  # index of its first fix
    last: int  # index of its last fix
    metres: float


def confirmed_crossings(runs: list[Run], *, firm: set[int]) -> list[Crossing]:
    """Crossings between consecutive firm runs (indices into `runs`) of different codes."""
    crossings: list[Crossing] = []
    firm_runs = [(i, run) for i, run in enumerate(runs) if i in firm and run.code is not None]
    if not firm_runs:
        return crossings
    current_index, current = firm_runs[0]
    for index, run in firm_runs[1:]:
        if run.code != current.code:
            # The crossing happened where the track last left the current side.
            last_current = max(
                i for i in range(current_index, index) if runs[i].code == current.code
            )
            first_ord = runs[last_current + 1].first
            crossings.append(Crossing(first_ord, str(current.code), str(run.code)))
        current_index, current = index, run
    return crossings


def firm_runs(runs: list[Run], *, long_run_m: float) -> set[int]:
    """Runs firm whatever their fixes: the first (the side the patrol started on: there was
    no side before it to have jittered from) and those of `long_run_m` metres or more."""
    return {i for i, run in enumerate(runs) if run.code and (i == 0 or run.metres >= long_run_m)}


def candidate_runs(runs: list[Run], *, min_run_m: float, long_run_m: float) -> list[int]:
    """Runs long enough to count but too short to be firm by length alone."""
    return [i for i, run in enumerate(runs) if min_run_m <= run.metres < long_run_m and run.code]


def runs_of(
    ids: NDArray[np.int64], next_m: NDArray[np.float64], codes: dict[int, str]
) -> list[Run]:
    """Maximal runs of equal jurisdiction ids (-1: none), with the code of each run."""
    if not len(ids):
        return []
    starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])
    lasts = np.r_[starts[1:], len(ids)] - 1
    metres = np.add.reduceat(next_m, starts)
    return [
        Run(codes.get(jid), first, last, m)
        for jid, first, last, m in zip(
            ids[starts].tolist(), starts.tolist(), lasts.tolist(), metres.tolist(), strict=True
        )
    ]


def kept_fixes(session: Session, *, patrol_id: int, kept: TrackPoints | None) -> TrackPoints:
    """The kept fixes in time order (index = ord): the caller's, or read from patrol_points."""
    if kept is not None:
        return kept
    day = day_of(session, patrol_id=patrol_id)
    rows = np.array(
        fetch_rows(session, KEPT, {"patrol_id": patrol_id, "patrol_day": day}), np.float64
    )
    rows = rows.reshape(-1, 3)
    return TrackPoints.from_arrays(rows[:, 0], rows[:, 1], time=from_epoch_millis(rows[:, 2]))


def _store_chunks(session: Session, fixes: TrackPoints, chunks: Pieces) -> None:
    """COPY the chunks (line, time span, whether a fix has no time) and index them."""
    millis = epoch_millis(fixes.time)
    times = [millis[index] for index in chunks.groups]  # NaN: no time (fmin/fmax skip it)
    session.execute(text(CHUNKS))
    chunks.copy(
        session,
        table="chunks",
        lon=fixes.lon,
        lat=fixes.lat,
        columns={
            "lo": from_epoch_millis(np.concatenate([np.fmin.reduce(t, axis=1) for t in times])),
            "hi": from_epoch_millis(np.concatenate([np.fmax.reduce(t, axis=1) for t in times])),
            "untimed": np.concatenate([np.isnan(t).any(axis=1) for t in times]).astype(bool),
        },
    )
    session.execute(text("CREATE INDEX ON chunks USING gist (geom); ANALYZE chunks"))


def _store_legs(
    session: Session, fixes: TrackPoints, leaves: NDArray[np.int64], leg_m: NDArray[np.float64]
) -> None:
    """COPY the legs between leaves, and the legs within each leaf summed per leaf."""
    millis = epoch_millis(fixes.time)
    # A leg that does not move counts no seconds, nor does one without times at both ends,
    # nor one whose time goes back (a device clock stepping back: the file's order stays).
    moved = (np.diff(fixes.lon) != 0) | (np.diff(fixes.lat) != 0)
    seconds = np.nan_to_num(np.where(moved, np.diff(millis) / 1000, 0.0)).clip(min=0.0)
    session.execute(text(LEGS))
    cut = np.flatnonzero(leaves[:-1] != leaves[1:])
    outside = np.ma.masked_less
    copy_rows(
        session,
        table="legs",
        columns={
            "ord": cut.astype(np.int32),
            "t0": fixes.time[cut],
            "t1": fixes.time[cut + 1],
            "leaf0": outside(leaves[cut], 0),
            "leaf1": outside(leaves[cut + 1], 0),
            "length_m": leg_m[cut],
            "geom": ewkb_lines(fixes.lon, fixes.lat, np.column_stack([cut, cut + 1])),
        },
    )
    within = np.flatnonzero((leaves[:-1] == leaves[1:]) & (leaves[:-1] >= 0))
    by_leaf = within[np.argsort(leaves[within], kind="stable")]
    starts = np.flatnonzero(np.diff(leaves[by_leaf], prepend=-2) != 0)
    copy_rows(
        session,
        table="whole",
        columns={
            "leaf_id": leaves[by_leaf][starts],
            "inside_m": _sums(leg_m[by_leaf], starts),
            "seconds": _sums(seconds[by_leaf], starts),
            "t0": from_epoch_millis(_reduce(np.fmin, millis[by_leaf], starts)),
            "t1": from_epoch_millis(_reduce(np.fmax, millis[by_leaf + 1], starts)),
        },
    )
    # Temporary tables are never analysed automatically; without statistics the planner
    # picks plans made for empty tables.
    session.execute(text("CREATE INDEX ON legs USING gist (geom); ANALYZE legs; ANALYZE whole"))


def _sums(values: NDArray[np.float64], starts: NDArray[np.int64]) -> NDArray[np.float64]:
    """Sums of the groups of `values` starting at `starts` (none: none)."""
    return _reduce(np.add, values, starts)


def _reduce(
    ufunc: np.ufunc, values: NDArray[np.float64], starts: NDArray[np.int64]
) -> NDArray[np.float64]:
    """`ufunc` over the groups of `values` starting at `starts` (none: none)."""
    return ufunc.reduceat(values, starts) if len(starts) else values[:0]


def _store_fixes(session: Session, fixes: TrackPoints, ords: NDArray[np.int64]) -> None:
    """COPY the fixes looked at one by one, indexed."""
    session.execute(text(FIXES))
    copy_rows(
        session,
        table="fixes",
        columns={
            "ord": ords.astype(np.int32),
            "time": fixes.time[ords],
            "geom": ewkb_points(fixes.lon[ords], fixes.lat[ords]),
        },
    )
    session.execute(text("CREATE INDEX ON fixes USING gist (geom); ANALYZE fixes"))


def _fix_leaves(
    session: Session, fixes: TrackPoints, chunks: Pieces, pieces: BoundaryPieces
) -> NDArray[np.int64]:
    """The leaf of every fix (-1: none): whole chunks first, then the rest one by one."""
    session.execute(text(CHUNK_LEAVES[pieces]))
    inside = np.array(fetch_rows(session, "SELECT k, leaf_id FROM chunk_leaves", {}), np.int64)
    inside = inside.reshape(-1, 2)
    chunk_leaf = np.full(chunks.count, -1, np.int64)
    chunk_leaf[inside[:, 0]] = inside[:, 1]
    one_by_one = chunks.fixes_of(np.setdiff1d(np.arange(chunks.count), inside[:, 0]))
    _store_fixes(session, fixes, one_by_one)
    session.execute(text(FIX_LEAVES[pieces]))
    leaves = chunk_leaf[chunks.piece_of_fix()]
    leaves[one_by_one] = -1
    found = np.array(fetch_rows(session, "SELECT ord, leaf_id FROM fix_leaves", {}), np.int64)
    found = found.reshape(-1, 2)
    leaves[found[:, 0]] = found[:, 1]
    return leaves


TEMP_TABLES = (
    "chunks",
    "chunk_leaves",
    "fixes",
    "fix_leaves",
    "legs",
    "whole",
    "splits",
    "chains",
    "credit",
    "borders",
    "probes",
    "asked",
)


def attribute_patrol(
    session: Session,
    *,
    patrol_id: int,
    kept: TrackPoints | None = None,
    min_run_m: float = 25.0,
    margin_m: float = 15.0,
    long_run_m: float = 300.0,
) -> int:
    """Recompute a patrol's jurisdictions and crossings; returns the number of crossings.

    `kept`: the kept fixes in time order when the caller has them, else they are read."""
    fixes = kept_fixes(session, patrol_id=patrol_id, kept=kept)
    rules = {"min_run_m": min_run_m, "margin_m": margin_m, "long_run_m": long_run_m}
    found = attribute(session, fixes, **rules)
    store_attribution(session, patrol_id=patrol_id, found=found)
    return len(found.crossings)


def store_attribution(session: Session, *, patrol_id: int, found: Attribution) -> None:
    """Replace a patrol's jurisdictions and crossings by what attribution found."""
    params = {"patrol_id": patrol_id}
    plain = {"synchronize_session": False}  # no ORM objects of these are ever loaded
    for model in (PatrolJurisdiction, PatrolCrossing):
        gone = delete(model).where(model.patrol_id == patrol_id)
        session.execute(gone, execution_options=plain)
    tables = (
        (STORE_JURISDICTIONS, found.jurisdictions, JURISDICTION_COLUMNS),
        (STORE_CROSSINGS, found.crossings, CROSSING_COLUMNS),
    )
    for sql, rows, names in tables:
        if rows:
            columns = zip(*rows, strict=True)
            session.execute(
                text(sql), {**params, **dict(zip(names, map(list, columns), strict=True))}
            )


JURISDICTION_COLUMNS = ("ids", "codes", "levels", "metres", "seconds", "entered", "exited")
CROSSING_COLUMNS = ("levels", "at", "from_codes", "to_codes", "geoms")


def attribute(
    session: Session,
    fixes: TrackPoints,
    *,
    min_run_m: float = 25.0,
    margin_m: float = 15.0,
    long_run_m: float = 300.0,
) -> Attribution:
    """Jurisdictions and crossings of the kept fixes. It reads only boundaries, and writes
    only temporary tables, so it may run on a connection of its own (see patrols)."""
    if len(fixes) < 2:
        return Attribution([], [])
    for table in TEMP_TABLES:
        session.execute(text(f"DROP TABLE IF EXISTS {table}"))
    # The planner's guesses for these joins are far off; compiling them (JIT) took longer
    # than running them.
    session.execute(
        text("SELECT set_config('work_mem', '256MB', true), set_config('jit', 'off', true)")
    )
    timed = fixes.time[~np.isnat(fixes.time)]
    started = as_datetime(timed.min()) if len(timed) else _now(session)
    pieces = lowest_level_pieces(session, at=started)
    chunks = Pieces.of(len(fixes), CHUNK_LEGS)
    _store_chunks(session, fixes, chunks)
    leaves = _fix_leaves(session, fixes, chunks, pieces)
    leg_m = leg_metres(fixes.lon, fixes.lat)
    _store_legs(session, fixes, leaves, leg_m)
    session.execute(text(SPLITS[pieces]))
    session.execute(text("CREATE INDEX ON splits (ord); ANALYZE splits"))
    session.execute(text(CHAINS), {"started": started})
    session.execute(text(CREDIT), {"by_leaves": pieces is BoundaryPieces.LEAVES})
    session.execute(text("ANALYZE chains; ANALYZE credit"))
    jurisdictions = [JurisdictionShare(*row) for row in session.execute(text(ATTRIBUTE))]
    centre = (fixes.lon.min() + fixes.lon.max()) / 2, (fixes.lat.min() + fixes.lat.max()) / 2
    utm = int(utm_crs_for(*centre).to_epsg() or 0)  # always a WGS 84 / UTM zone
    rules = {"min_run_m": min_run_m, "margin_m": margin_m, "long_run_m": long_run_m}
    levels = _levels(session, leaves, leg_m)
    crossings = _crossings(session, levels, fixes, utm=utm, started=started, **rules)
    return Attribution(jurisdictions, crossings)


def _now(session: Session) -> Any:
    """The database's transaction time."""
    return session.execute(text("SELECT now()")).scalar_one()


# The lines between jurisdictions of each level near the patrol (the versions in force when
# it started, as in CHAINS), in metres (the patrol's UTM zone), in short pieces: "how far is
# this fix from every other jurisdiction of the level" is then an index probe for lines
# within the margin.
BORDERS = """
CREATE TEMP TABLE borders ON COMMIT DROP AS
SELECT j.id AS jurisdiction_id, j.level,
       ST_Subdivide(ST_Transform(ST_Boundary(j.geom), :utm), 32) AS geom
FROM jurisdictions j
WHERE j.valid_from <= :started AND (j.valid_to IS NULL OR j.valid_to > :started)
  AND j.geom && ST_MakeEnvelope(:west - :pad, :south - :pad, :east + :pad, :north + :pad, 4326)
"""

# The fixes probed (in the patrol's UTM zone), and the rows asked: (fix, level) pairs with
# the fix's jurisdiction at that level (levels by their number in :levels), numbered k.
ASKED = """
CREATE TEMP TABLE probes (ord int, x float8, y float8) ON COMMIT DROP;
CREATE TEMP TABLE asked (k int, ord int, level_no int, jurisdiction_id bigint) ON COMMIT DROP
"""

# Of the rows asked, those within `margin_m` of a boundary of another jurisdiction of the
# level, with the distance to the nearest; the others are clear. One probe of the index a
# fix finds the boundaries near it at every level.
CLEARANCES = """
WITH near AS MATERIALIZED (
    SELECT p.ord, array_position(CAST(:levels AS text[]), b.level::text) AS level_no,
           b.jurisdiction_id, ST_Distance(b.geom, ST_SetSRID(ST_MakePoint(p.x, p.y), :utm)) AS m
    FROM probes p
    JOIN borders b ON ST_DWithin(b.geom, ST_SetSRID(ST_MakePoint(p.x, p.y), :utm), :margin_m)
)
SELECT a.k, min(n.m) FROM asked a
JOIN near n ON n.ord = a.ord AND n.level_no = a.level_no AND n.jurisdiction_id <> a.jurisdiction_id
GROUP BY a.k
"""


@dataclass
class _Level:
    """One level's jurisdiction (id, -1 for none) at every kept fix in time order, and runs."""

    level: str
    ids: NDArray[np.int64]
    runs: list[Run]


def _levels(
    session: Session, leaves: NDArray[np.int64], leg_m: NDArray[np.float64]
) -> list[_Level]:
    """For each level present, the jurisdiction of every kept fix and its runs."""
    next_m = np.r_[leg_m, 0.0]
    found_leaves, leaf_index = np.unique(leaves, return_inverse=True)
    chains: dict[str, dict[int, tuple[int, str]]] = {}
    for leaf, level, jid, code in session.execute(
        text("SELECT leaf_id, level, jurisdiction_id, code FROM chains")
    ):
        chains.setdefault(level, {})[leaf] = (jid, code)
    found = []
    for level, by_leaf in sorted(chains.items()):
        lookup = [by_leaf.get(leaf, (-1, ""))[0] for leaf in found_leaves.tolist()]
        ids = np.array(lookup, np.int64)[leaf_index.reshape(-1)]
        codes = {jid: code for jid, code in by_leaf.values()}
        found.append(_Level(level, ids, runs_of(ids, next_m, codes)))
    return found


# Every how many fixes of a run the rounds of probes look at (see _clear_runs).
ROUNDS = (16, 4, 1)


def _clear_runs(
    session: Session,
    levels: list[_Level],
    asked: dict[str, list[int]],
    fixes: TrackPoints,
    *,
    utm: int,
    started: Any,
    margin_m: float,
) -> set[tuple[str, int]]:
    """Of the runs asked (per level, indices into its runs), the (level, run) with a fix at
    least `margin_m` from every other jurisdiction of the level.

    Every fix counts, but not every fix needs a probe: a fix's distance to a line changes by
    at most the distance it moved, so a fix `c` metres from the other side proves every fix
    less than `margin_m - c` metres from it short of the margin too. The fixes are probed in
    rounds, every ROUNDS[i]-th fix of each run not yet decided, until each run has a clear
    fix or none is left undecided."""
    rows = _Asked.of(levels, asked, fixes, utm=utm)
    if not len(rows.ords):
        return set()
    _store_borders(session, fixes, rows.ords, utm=utm, started=started, margin_m=margin_m)
    names = [x.level for x in levels]
    params = {"levels": names, "utm": utm, "margin_m": margin_m}
    clearance = np.full(len(rows.ords), np.nan)  # NaN: not probed; inf: clear
    near = np.zeros(len(rows.ords), bool)  # proven short of the margin without a probe
    for stride in ROUNDS:
        firm = np.zeros(len(rows.parts), bool)
        firm[rows.part[np.isinf(clearance)]] = True
        todo = np.isnan(clearance) & ~near & ~firm[rows.part] & (rows.position % stride == 0)
        if todo.any():
            clearance[todo] = np.inf
            for k, metres in _probe(session, rows, np.flatnonzero(todo), params):
                clearance[k] = metres
            near = rows.proven_near(clearance, margin_m)
    clear = np.unique(rows.part[np.isinf(clearance)])
    return {(names[rows.parts[i][0] - 1], rows.parts[i][1]) for i in clear.tolist()}


@dataclass
class _Asked:
    """Every fix of every run asked about, one row each (a fix once per level asked): the
    run's number among `parts` ((level number, run index)), the fix, its place in the run,
    its jurisdiction at the level, and its position in metres (UTM)."""

    parts: list[tuple[int, int]]
    part: NDArray[np.int64]
    ords: NDArray[np.int64]
    position: NDArray[np.int64]
    level_no: NDArray[np.int64]
    jurisdiction_id: NDArray[np.int64]
    x: NDArray[np.float64]
    y: NDArray[np.float64]

    @classmethod
    def of(
        cls, levels: list[_Level], asked: dict[str, list[int]], fixes: TrackPoints, *, utm: int
    ) -> _Asked:
        """The rows of the runs asked (per level, indices into its runs)."""
        parts = [(n, i) for n, x in enumerate(levels, start=1) for i in asked[x.level]]
        runs = [levels[n - 1].runs[i] for n, i in parts]
        sizes = np.array([run.last - run.first + 1 for run in runs], np.int64)
        part = np.repeat(np.arange(len(parts)), sizes)
        starts = np.r_[0, np.cumsum(sizes)[:-1]].astype(np.int64)
        position = np.arange(int(sizes.sum())) - starts[part]
        firsts = np.array([run.first for run in runs], np.int64)
        ords = firsts[part] + position
        level_no = np.array([n for n, _ in parts], np.int64)[part]
        jurisdiction = np.empty(len(ords), np.int64)
        for n, x in enumerate(levels, start=1):
            mine = level_no == n
            jurisdiction[mine] = x.ids[ords[mine]]
        xs, ys = pyproj.Transformer.from_crs(4326, utm, always_xy=True).transform(
            fixes.lon[ords], fixes.lat[ords]
        )
        return cls(
            parts, part, ords, position, level_no, jurisdiction, np.asarray(xs), np.asarray(ys)
        )

    def proven_near(self, clearance: NDArray[np.float64], margin_m: float) -> NDArray[np.bool_]:
        """Rows not probed that the nearest probed rows before and after them in their run
        prove short of the margin."""
        n = len(clearance)
        probed = ~np.isnan(clearance)
        index = np.arange(n)
        before = np.maximum.accumulate(np.where(probed, index, -1))
        after = np.minimum.accumulate(np.where(probed, index, n)[::-1])[::-1]
        bound = np.full(n, np.inf)
        for other in (before, after):
            ok = (other >= 0) & (other < n)
            k = np.where(ok, other, 0)
            ok &= self.part[k] == self.part
            reach = clearance[k] + np.hypot(self.x - self.x[k], self.y - self.y[k])
            bound = np.where(ok, np.minimum(bound, reach), bound)
        return ~probed & (bound < margin_m)


def _store_borders(
    session: Session,
    fixes: TrackPoints,
    ords: NDArray[np.int64],
    *,
    utm: int,
    started: Any,
    margin_m: float,
) -> None:
    """The borders near the fixes `ords`, indexed, and the tables of probes."""
    west, east = float(fixes.lon[ords].min()), float(fixes.lon[ords].max())
    south, north = float(fixes.lat[ords].min()), float(fixes.lat[ords].max())
    # Degrees to pad the box by: over the margin anywhere up to 60 N (and 0.01 at least).
    pad = max(0.01, 2 * margin_m / 111_000)
    session.execute(
        text(BORDERS),
        {
            "utm": utm,
            "started": started,
            "west": west,
            "east": east,
            "south": south,
            "north": north,
            "pad": pad,
        },
    )
    session.execute(text("CREATE INDEX ON borders USING gist (geom); ANALYZE borders"))
    session.execute(text(ASKED))


def _probe(
    session: Session, rows: _Asked, todo: NDArray[np.int64], params: dict[str, Any]
) -> list[tuple[int, float]]:
    """(row, metres) of the rows `todo` within the margin of another jurisdiction of their
    level (the others are clear)."""
    session.execute(text("TRUNCATE probes, asked"))
    ords, first = np.unique(rows.ords[todo], return_index=True)
    copy_rows(
        session,
        table="probes",
        columns={
            "ord": ords.astype(np.int32),
            "x": rows.x[todo][first],
            "y": rows.y[todo][first],
        },
    )
    copy_rows(
        session,
        table="asked",
        columns={
            "k": todo.astype(np.int32),
            "ord": rows.ords[todo].astype(np.int32),
            "level_no": rows.level_no[todo].astype(np.int32),
            "jurisdiction_id": rows.jurisdiction_id[todo],
        },
    )
    session.execute(text("ANALYZE probes; ANALYZE asked"))
    return [(int(k), float(m)) for k, m in session.execute(text(CLEARANCES), params)]


def _crossings(
    session: Session,
    levels: list[_Level],
    fixes: TrackPoints,
    *,
    utm: int,
    started: Any,
    min_run_m: float,
    margin_m: float,
    long_run_m: float,
) -> list[CrossingRow]:
    """The confirmed crossings at every level: (level, time, from, to, EWKB of the place)."""
    if not levels:
        return []
    firm = {x.level: firm_runs(x.runs, long_run_m=long_run_m) for x in levels}
    asked = {
        x.level: [
            i
            for i in candidate_runs(x.runs, min_run_m=min_run_m, long_run_m=long_run_m)
            if i not in firm[x.level]
        ]
        for x in levels
    }
    clear = _clear_runs(session, levels, asked, fixes, utm=utm, started=started, margin_m=margin_m)
    found: dict[str, list[str | int]] = {"levels": [], "legs": [], "from_codes": [], "to_codes": []}
    for x in levels:
        firm[x.level] |= {i for i in asked[x.level] if (x.level, i) in clear}
        for crossing in confirmed_crossings(x.runs, firm=firm[x.level]):
            found["levels"].append(x.level)
            found["legs"].append(crossing.first_ord - 1)
            found["from_codes"].append(crossing.from_code)
            found["to_codes"].append(crossing.to_code)
    if not found["levels"]:
        return []
    return [CrossingRow(*row) for row in session.execute(text(CROSSING), found)]
