"""Positions along the flow and the upstream stretch of a point, against shapely on the demo
file's line in a local azimuthal equidistant frame (tests/water/along_flow.py): the stretch
is the same line, to within a metre, on a river that flows as drawn and on one that flows
against its drawing, near a segment's end and near the river's top."""

from __future__ import annotations

import pytest
import shapely
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_patrol.core.vocabulary import RiverFlow
from geo_patrol.geography.flow import set_river_flow
from geo_patrol.water.upstream import Place, StretchPart, place_on_river, upstream_stretch
from tests.water.along_flow import Along, river_line

BORDER_RIVER = "R-320509-330411-01"  # 小天圩河, flows against its drawing (reversed)
TAIPU = "R-320509-01"  # 太浦河, flows as drawn
TOLERANCE_M = 1.0


def river_id(session: Session, code: str) -> int:
    """A river's id by code."""
    return int(session.execute(text("SELECT id FROM rivers WHERE code = :c"), {"c": code}).one()[0])


def pieces(session: Session, parts: list[StretchPart]) -> list[shapely.Geometry]:
    """Our stretch as lon/lat lines, cut from the stored segments by their fractions."""
    return [
        shapely.from_wkb(
            bytes(
                session.execute(
                    text(
                        "SELECT ST_AsBinary(ST_LineSubstring(geom, :a, :b))"
                        " FROM river_segments WHERE id = :id"
                    ),
                    {"id": part.segment_id, "a": part.from_fraction, "b": part.to_fraction},
                ).scalar_one()
            )
        )
        for part in parts
    ]


def check_stretch(
    session: Session, code: str, position_m: float, distance_m: float, flow: str | None = None
) -> Place:
    """Our place and stretch at `position_m` along the flow (the file's, unless `flow`)
    against the oracle's."""
    line, drawn_flow = river_line(code)
    flow = flow or drawn_flow
    first = Along(line, flow, *line.interpolate(0.5, normalized=True).coords[0])
    lon, lat = first.point_at(position_m)
    oracle = Along(line, flow, lon, lat)  # centred on the section itself
    place = place_on_river(session, river_id=river_id(session, code), lon=lon, lat=lat)
    assert place is not None
    assert place.position_m == pytest.approx(oracle.position(lon, lat), abs=TOLERANCE_M)
    parts = upstream_stretch(session, place=place, distance_m=distance_m)
    expected = oracle.stretch(oracle.position(lon, lat), distance_m)
    ours = [oracle.metres(piece) for piece in pieces(session, parts)]
    assert sum(p.length for p in ours) == pytest.approx(expected.length, abs=TOLERANCE_M)
    # Every piece lies on the oracle's stretch, and together they reach both of its ends.
    for piece in ours:
        assert piece.difference(expected.buffer(TOLERANCE_M)).length < 0.01
    ends = shapely.MultiPoint([c for p in ours for c in (p.coords[0], p.coords[-1])])
    for end in (expected.coords[0], expected.coords[-1]):
        assert shapely.Point(end).distance(ends) < TOLERANCE_M
    return place


def test_stretch_on_a_river_flowing_against_its_drawing(demo_session: Session) -> None:
    place = check_stretch(demo_session, BORDER_RIVER, position_m=5200.0, distance_m=5000.0)
    assert place.position_m > 5000


def test_stretch_on_a_river_flowing_as_drawn(demo_session: Session) -> None:
    check_stretch(demo_session, TAIPU, position_m=9000.0, distance_m=5000.0)


def test_stretch_is_cut_at_the_river_top(demo_session: Session) -> None:
    check_stretch(demo_session, TAIPU, position_m=1200.0, distance_m=5000.0)


def test_stretch_from_just_below_a_segment_end_spans_two_segments(demo_session: Session) -> None:
    line, flow = river_line(BORDER_RIVER)
    oracle = Along(line, flow, *line.interpolate(0.5, normalized=True).coords[0])
    # The third segment's upstream end, from the stored segments (data, not our answer).
    third = demo_session.execute(
        text(
            "SELECT ST_X(p), ST_Y(p) FROM river_segments s JOIN rivers r ON r.id = s.river_id,"
            " LATERAL (SELECT CASE WHEN r.flow = 'reversed' THEN ST_EndPoint(s.geom)"
            " ELSE ST_StartPoint(s.geom) END) AS e(p)"
            " WHERE r.code = :c ORDER BY s.seq DESC OFFSET 2 LIMIT 1"
        ),
        {"c": BORDER_RIVER},
    ).one()
    boundary = oracle.position(*third)
    check_stretch(demo_session, BORDER_RIVER, position_m=boundary + 20.0, distance_m=300.0)
    line_m = oracle.line
    assert 0 < boundary < line_m.length


def test_flow_turned_round_moves_the_stretch_to_the_other_side(demo_session: Session) -> None:
    set_river_flow(demo_session, code=BORDER_RIVER, flow=RiverFlow.AS_DRAWN)
    line, _ = river_line(BORDER_RIVER)
    oracle = Along(line, "as_drawn", *line.interpolate(0.5, normalized=True).coords[0])
    place = place_on_river(
        demo_session,
        river_id=river_id(demo_session, BORDER_RIVER),
        lon=line.coords[-1][0],
        lat=line.coords[-1][1],
    )
    assert place is not None
    assert place.position_m == pytest.approx(oracle.line.length, abs=TOLERANCE_M)
    check_stretch(demo_session, BORDER_RIVER, position_m=800.0, distance_m=5000.0, flow="as_drawn")
    check_stretch(demo_session, BORDER_RIVER, position_m=5900.0, distance_m=400.0, flow="as_drawn")


def test_no_place_while_the_flow_is_not_known(demo_session: Session) -> None:
    set_river_flow(demo_session, code=TAIPU, flow=None)
    line, _ = river_line(TAIPU)
    lon, lat = line.interpolate(0.5, normalized=True).coords[0]
    assert (
        place_on_river(demo_session, river_id=river_id(demo_session, TAIPU), lon=lon, lat=lat)
        is None
    )
