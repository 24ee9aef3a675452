"""Upstream on a river: a point's place along the flow, and the stretch of river above it.

A river's segments carry their place along the flow (geography.flow: `flow_start_m`, the
metres of river above a segment's upstream end). A point on the river is at
`flow_start_m + m` metres from the river's top, where `m` is how far into its segment it lies
going with the water: the ellipsoidal length of the segment from its drawn start to the point,
or from the point to its drawn end when the river flows against its drawing.

The upstream stretch of a point is the river between (position − distance) and position, cut
at the river's top. It is given as segments with ranges of fractions along their drawn lines,
as patrol coverage stores what was patrolled (patrols.coverage) and as ST_LineSubstring cuts
them, so leads are range arithmetic on the same numbers. A fraction of a drawn line is a share
of its length in degrees, not in metres: metres become a fraction through the segment's line in
the UTM zone of the point (its shares of length there equal those on the ellipsoid to about a
millionth over a kilometre), and a fraction becomes metres through the ellipsoidal length of
the line up to it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_patrol.core.coords import utm_crs_for


@dataclass(frozen=True)
class Place:
    """Where a point lies on its river: its segment, the fraction along the segment's drawn
    line, and the metres from the river's top along the flow; `srid` is the UTM zone that
    metric steps near it are taken in."""

    river_id: int
    segment_id: int
    fraction: float
    position_m: float
    srid: int


@dataclass(frozen=True)
class StretchPart:
    """A piece of river: a segment between two fractions of its drawn line (from < to)."""

    segment_id: int
    from_fraction: float
    to_fraction: float


def metres_at(alias: str, fraction: str) -> str:
    """SQL: the metres from the river's top along the flow at `fraction` of segment `alias`
    (a row with geom, length_m, flow_start_m and the river's flow)."""
    into = f"ST_Length(ST_LineSubstring({alias}.geom, 0, ({fraction})::float8)::geography)"
    return (
        f"({alias}.flow_start_m + CASE WHEN {alias}.flow = 'reversed'"
        f" THEN {alias}.length_m - {into} ELSE {into} END)"
    )


def fraction_at(alias: str, metres: str) -> str:
    """SQL: the fraction of segment `alias`'s drawn line `metres` from its drawn start."""
    return (
        f"CASE WHEN {metres} <= 0 THEN 0.0 WHEN {metres} >= {alias}.length_m THEN 1.0"
        f" ELSE ST_LineLocatePoint({alias}.geom, ST_Transform(ST_LineInterpolatePoint("
        f"ST_Transform({alias}.geom, :srid), {metres} / {alias}.length_m), 4326)) END"
    )


# The segment of the river nearest the point (a section is snapped onto its river's line),
# and the fraction of it where the point is; NULL position while the flow is not known.
PLACE = f"""
SELECT s.river_id, s.id AS segment_id, s.fraction, {metres_at("s", "s.fraction")} AS position_m
FROM (
    SELECT s.*, r.flow, ST_LineLocatePoint(s.geom, p.g) AS fraction
    FROM river_segments s JOIN rivers r ON r.id = s.river_id,
         ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) AS p(g)
    WHERE s.river_id = :river_id
    ORDER BY s.geom <-> p.g, s.id
    LIMIT 1
) s
"""

# The segments overlapping [position − distance, position] along the flow, each cut to its
# part inside (metres into it along the flow: lo_m..hi_m), turned into fractions of its
# drawn line (counted from the other end when the river flows against the drawing).
STRETCH = f"""
WITH seg AS (
    SELECT s.id, s.geom, s.length_m, s.flow_order, r.flow,
           greatest(s.flow_start_m, :position - :distance) - s.flow_start_m AS lo_m,
           least(s.flow_start_m + s.length_m, :position) - s.flow_start_m AS hi_m
    FROM river_segments s JOIN rivers r ON r.id = s.river_id
    WHERE s.river_id = :river_id AND s.length_m > 0
      AND s.flow_start_m < :position AND s.flow_start_m + s.length_m > :position - :distance
),
drawn AS (
    SELECT seg.*,
           CASE WHEN flow = 'reversed' THEN length_m - hi_m ELSE lo_m END AS a,
           CASE WHEN flow = 'reversed' THEN length_m - lo_m ELSE hi_m END AS b
    FROM seg
)
SELECT d.id, {fraction_at("d", "d.a")} AS lo, {fraction_at("d", "d.b")} AS hi
FROM drawn d
ORDER BY d.flow_order
"""


def place_on_river(session: Session, *, river_id: int, lon: float, lat: float) -> Place | None:
    """The place of a point (on or next to river `river_id`) along the flow; None when the
    river has no segments or its flow is not known."""
    row = session.execute(text(PLACE), {"river_id": river_id, "lon": lon, "lat": lat}).first()
    if row is None or row.position_m is None:
        return None
    srid = int(utm_crs_for(lon, lat).to_epsg() or 0)
    return Place(
        river_id=int(row.river_id),
        segment_id=int(row.segment_id),
        fraction=float(row.fraction),
        position_m=float(row.position_m),
        srid=srid,
    )


def upstream_stretch(session: Session, *, place: Place, distance_m: float) -> list[StretchPart]:
    """The river from `distance_m` above `place` down to it, as segment pieces from the top
    down (fewer metres where the river's top is nearer)."""
    rows = session.execute(
        text(STRETCH),
        {
            "river_id": place.river_id,
            "position": place.position_m,
            "distance": distance_m,
            "srid": place.srid,
        },
    ).all()
    parts = []
    for row in rows:
        low, high = float(row.lo), float(row.hi)
        if row.id == place.segment_id:  # the point's own end exactly, not a round trip
            low, high = (
                (place.fraction, high) if low > place.fraction - 1e-6 else (low, place.fraction)
            )
        if high > low:
            parts.append(StretchPart(int(row.id), low, high))
    return parts
