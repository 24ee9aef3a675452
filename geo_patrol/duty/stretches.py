"""A chief's stretch as whole river segments, however the appointment names it.

A whole river is all its segments; a list names segments by their order along the river
(seq); two points are each snapped to the nearest segment of the river (within
`SNAP_LIMIT_M`) and the stretch is those two and every segment between them. Segments are
the unit coverage is counted in (about a kilometre), so a stretch between two points is
rounded out to the segments they fall on.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_patrol.core.catalog import msg
from geo_patrol.core.errors import InvalidInput
from geo_patrol.core.vocabulary import StretchKind

SNAP_LIMIT_M = 500.0

ALL_SEGMENTS = "SELECT id FROM river_segments WHERE river_id = :river_id ORDER BY seq"
SEGMENTS_BY_SEQ = """
SELECT seq, id FROM river_segments WHERE river_id = :river_id AND seq = ANY(:seqs) ORDER BY seq
"""
NEAREST_SEGMENT = """
SELECT s.seq, ST_Distance(s.geom::geography, p.geom::geography) AS metres
FROM river_segments s,
     (SELECT ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) AS geom) p
WHERE s.river_id = :river_id
ORDER BY s.geom <-> p.geom, s.seq
LIMIT 1
"""
SEGMENTS_BETWEEN = """
SELECT id FROM river_segments WHERE river_id = :river_id AND seq BETWEEN :lo AND :hi ORDER BY seq
"""


def stretch_segments(
    session: Session,
    *,
    river_id: int,
    kind: StretchKind,
    seqs: Sequence[int] = (),
    points: Sequence[tuple[float, float]] = (),
) -> list[int]:
    """The ids of the segments of a stretch, in order along the river; InvalidInput naming
    the field when the stretch does not lie on the river."""
    if kind is StretchKind.RIVER:
        ids = list(session.execute(text(ALL_SEGMENTS), {"river_id": river_id}).scalars())
    elif kind is StretchKind.SEGMENTS:
        ids = _by_seq(session, river_id=river_id, seqs=seqs)
    else:
        ids = _between(session, river_id=river_id, points=points)
    if not ids:
        raise InvalidInput(msg("problem.duty.river_without_segments"), field="river")
    return ids


def _by_seq(session: Session, *, river_id: int, seqs: Sequence[int]) -> list[int]:
    """Segments named by their seq; every one must exist on the river."""
    if not seqs:
        raise InvalidInput(msg("problem.duty.no_segment_named"), field="segments")
    rows: dict[int, int] = dict(
        session.execute(
            text(SEGMENTS_BY_SEQ), {"river_id": river_id, "seqs": sorted(set(seqs))}
        ).all()
    )
    missing = sorted(set(seqs) - set(rows))
    if missing:
        raise InvalidInput(
            msg("problem.duty.no_such_segments", missing=", ".join(map(str, missing))),
            field="segments",
        )
    return [rows[seq] for seq in sorted(rows)]


def _between(
    session: Session, *, river_id: int, points: Sequence[tuple[float, float]]
) -> list[int]:
    """The segments from the one nearest the first point to the one nearest the second."""
    if len(points) != 2:
        raise InvalidInput(msg("problem.duty.points_need_two"), field="points")
    seqs = []
    for n, (lon, lat) in enumerate(points, start=1):
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            raise InvalidInput(msg("problem.duty.point_not_position", n=n), field="points")
        row = session.execute(
            text(NEAREST_SEGMENT), {"river_id": river_id, "lon": lon, "lat": lat}
        ).first()
        if row is None:
            return []
        if row.metres > SNAP_LIMIT_M:
            raise InvalidInput(
                msg(
                    "problem.duty.point_far_from_river",
                    n=n,
                    metres=row.metres,
                    snap_limit_m=SNAP_LIMIT_M,
                ),
                field="points",
            )
        seqs.append(int(row.seq))
    lo, hi = min(seqs), max(seqs)
    return list(
        session.execute(
            text(SEGMENTS_BETWEEN), {"river_id": river_id, "lo": lo, "hi": hi}
        ).scalars()
    )
