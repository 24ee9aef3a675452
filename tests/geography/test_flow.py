"""Rivers' flow and their segments' place along it, against pyproj's geodesic lengths of the
fixture lines (parts of a MultiLineString taken in drawing order, gaps between them not
river)."""

from __future__ import annotations

import json
from pathlib import Path

import pyproj
import pytest
import shapely
from shapely.ops import substring
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_patrol.core.errors import ImportFileError, NotFound
from geo_patrol.core.vocabulary import RiverFlow
from geo_patrol.geography.flow import set_river_flow
from geo_patrol.geography.imports.features import FeatureImportOptions, import_rivers

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "vector"
GEOD = pyproj.Geod(ellps="WGS84")
OPTIONS = FeatureImportOptions(segment_length_m=500.0)


def rivers_with(tmp_path: Path, flows: dict[str, object]) -> Path:
    """The fixture rivers with a `flow` property on those named."""
    data = json.loads((FIXTURES / "rivers.geojson").read_text(encoding="utf-8"))
    for feature in data["features"]:
        if feature["properties"]["code"] in flows:
            feature["properties"]["flow"] = flows[feature["properties"]["code"]]
    path = tmp_path / "rivers.geojson"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def above(line: shapely.Geometry, point: shapely.Point, flow: str) -> float:
    """Geodesic metres of river above `point` (on `line`), parts in drawing order."""
    parts = list(getattr(line, "geoms", [line]))
    if flow == "reversed":
        parts = [part.reverse() for part in reversed(parts)]
    total = 0.0
    for part in parts:
        if part.distance(point) < 1e-9:
            return total + GEOD.geometry_length(substring(part, 0, part.project(point)))
        total += GEOD.geometry_length(part)
    raise AssertionError("point not on the river")


def stored(session: Session) -> list[tuple[str, int, int | None, float | None, shapely.Geometry]]:
    """(river code, seq, flow order, flow start, upstream end) of every segment."""
    rows = session.execute(
        text(
            "SELECT r.code, s.seq, s.flow_order, s.flow_start_m, ST_AsBinary(CASE WHEN r.flow ="
            " 'reversed' THEN ST_EndPoint(s.geom) ELSE ST_StartPoint(s.geom) END) AS top"
            " FROM river_segments s JOIN rivers r ON r.id = s.river_id ORDER BY r.code, s.seq"
        )
    ).all()
    return [
        (r.code, r.seq, r.flow_order, r.flow_start_m, shapely.from_wkb(bytes(r.top))) for r in rows
    ]


def test_segments_are_ordered_along_the_flow(session: Session, tmp_path: Path) -> None:
    flows = {"R-TPH": "reversed", "R-HQT": "as_drawn"}  # R-HQT is a MultiLineString
    import_rivers(session, path=rivers_with(tmp_path, flows), options=OPTIONS)
    data = json.loads((FIXTURES / "rivers.geojson").read_text(encoding="utf-8"))
    lines = {
        f["properties"]["code"]: shapely.geometry.shape(f["geometry"]) for f in data["features"]
    }
    assert isinstance(lines["R-HQT"], shapely.MultiLineString)
    rows = stored(session)
    for code, flow in flows.items():
        mine = [r for r in rows if r[0] == code]
        assert len(mine) > 2
        for _, _, _, start, top in mine:
            assert start == pytest.approx(above(lines[code], top, flow), abs=0.5)
        by_order = sorted(mine, key=lambda r: r[2])
        assert [r[2] for r in by_order] == list(range(len(mine)))
        assert [r[3] for r in by_order] == sorted(r[3] for r in mine)
        seqs = [r[1] for r in by_order]
        assert seqs == (sorted(seqs, reverse=True) if flow == "reversed" else sorted(seqs))


def test_a_flow_only_change_reorders_without_recutting(session: Session, tmp_path: Path) -> None:
    import_rivers(session, path=FIXTURES / "rivers.geojson", options=OPTIONS)
    ids = session.execute(text("SELECT array_agg(id ORDER BY id) FROM river_segments")).scalar()
    assert {r[2] for r in stored(session)} == {None}  # not known yet
    options = FeatureImportOptions(segment_length_m=500.0, flow=RiverFlow.REVERSED)
    report = import_rivers(
        session, path=rivers_with(tmp_path, {"R-HQT": "as_drawn"}), options=options
    )
    assert (report.added, report.updated, report.unchanged) == (0, 2, 0)
    assert (
        session.execute(text("SELECT array_agg(id ORDER BY id) FROM river_segments")).scalar()
        == ids
    )
    flows = dict(session.execute(text("SELECT code, flow FROM rivers")).all())
    assert flows == {"R-TPH": "reversed", "R-HQT": "as_drawn"}
    assert None not in {r[2] for r in stored(session)}
    # A file that says nothing keeps the flow; saying it again changes nothing.
    again = import_rivers(session, path=FIXTURES / "rivers.geojson", options=OPTIONS)
    assert (again.updated, again.unchanged) == (0, 2)
    assert dict(session.execute(text("SELECT code, flow FROM rivers")).all()) == flows


def test_a_bad_flow_is_refused_naming_the_feature(session: Session, tmp_path: Path) -> None:
    with pytest.raises(ImportFileError) as refused:
        import_rivers(session, path=rivers_with(tmp_path, {"R-HQT": "uphill"}), options=OPTIONS)
    assert refused.value.extra == {"feature": 2, "field": "flow"}
    assert "uphill" in refused.value.detail and "as_drawn" in refused.value.detail


def test_set_river_flow(session: Session) -> None:
    import_rivers(session, path=FIXTURES / "rivers.geojson", options=OPTIONS)
    assert set_river_flow(session, code="R-TPH", flow=RiverFlow.AS_DRAWN) is True
    assert set_river_flow(session, code="R-TPH", flow=RiverFlow.AS_DRAWN) is False
    first = session.execute(
        text(
            "SELECT s.seq FROM river_segments s JOIN rivers r ON r.id = s.river_id"
            " WHERE r.code = 'R-TPH' AND s.flow_order = 0"
        )
    ).scalar()
    assert first == 0
    set_river_flow(session, code="R-TPH", flow=None)
    assert {r[2] for r in stored(session) if r[0] == "R-TPH"} == {None}
    with pytest.raises(NotFound):
        set_river_flow(session, code="R-NONE", flow=RiverFlow.REVERSED)
