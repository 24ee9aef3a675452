"""The duty map layer on a hand-built case (tests/support/duty_case.py): one stretch per set
of chiefs, coloured by the worst of their statuses, its geometry the union of its segments
(checked with shapely on the segments' own GeoJSON), and only the chiefs the caller may see."""

from __future__ import annotations

import json
from datetime import datetime
from types import SimpleNamespace

import shapely
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from geo_patrol.access.principal import Principal, load_member
from geo_patrol.access.scope import Scope, scope_of
from geo_patrol.core.vocabulary import DutyStatus
from geo_patrol.duty.map_layer import DutyStretch, duty_stretches, group_by_chiefs, worst_status
from geo_patrol.web.map.page import DUTY_COLOUR
from tests.support.duty_case import R01, R02, DutyCase, make_duty_case, segment_lines
from tests.support.principals import headers_for, member_id

MET, IN_PROGRESS, MISSED, NOT_DUE = (
    DutyStatus.MET,
    DutyStatus.IN_PROGRESS,
    DutyStatus.MISSED,
    DutyStatus.NOT_DUE,
)


def principal(session: Session, login: str) -> Principal:
    """A demo login's principal (signed in with a personal token)."""
    found = load_member(session, member_id=member_id(session, login), via="token")
    assert found is not None
    return found


def drawn(stretches: list[DutyStretch]) -> dict[tuple[str, ...], DutyStatus]:
    """Each stretch as the names of its chiefs and its colour's status."""
    return {tuple(sorted(c.member_name for c in s.chiefs)): s.status for s in stretches}


def layer(
    session: Session, case: DutyCase, scope: Scope, member: int | None, now: datetime
) -> list[DutyStretch]:
    """The layer on the case's day, assessed at `now`."""
    return duty_stretches(session, scope=scope, member_id=member, day=case.day, now=now)


def test_stretches_are_coloured_by_the_worst_status_of_their_chiefs(
    demo_client: TestClient, demo_session: Session
) -> None:
    headers = headers_for(demo_session)
    case = make_duty_case(demo_client, demo_session, headers)
    everything = Scope(everything=True)
    # 吴永明 = sz.patrol, 陆晓燕 = wjj.patrol, 徐志强 = sz.lead (demo names).
    during = drawn(layer(demo_session, case, everything, None, case.during))
    assert during == {
        ("吴永明", "陆晓燕"): MET,  # R01 seq 0-2: both counted the joint patrol
        ("钱美芳", "陆晓燕"): IN_PROGRESS,  # R01 seq 3-5: 钱美芳's 300 m was too little
        ("沈丽华",): NOT_DUE,  # R02 seq 0-2: in force one day of the week
        ("徐志强",): IN_PROGRESS,  # R02 seq 3-5: no patrol yet
    }
    after = drawn(layer(demo_session, case, everything, None, case.after))
    assert after == {**during, ("钱美芳", "陆晓燕"): MISSED, ("徐志强",): MISSED}
    stretches = layer(demo_session, case, everything, None, case.after)
    # The worst is drawn last (on top), and each chief's figures are the assessment's.
    assert [s.status for s in stretches] == [NOT_DUE, MET, MISSED, MISSED]
    chiefs = {c.member_name: (c.done, c.required) for s in stretches for c in s.chiefs}
    assert chiefs == {
        "吴永明": (1, 1),
        "陆晓燕": (1, 1),
        "钱美芳": (0, 1),
        "沈丽华": (0, 0),
        "徐志强": (0, 1),
    }
    assert set(DUTY_COLOUR) == set(DutyStatus)
    assert worst_status([MET, NOT_DUE, IN_PROGRESS]) is IN_PROGRESS
    assert worst_status([]) is NOT_DUE


def test_each_stretch_is_the_union_of_its_segments(
    demo_client: TestClient, demo_session: Session
) -> None:
    case = make_duty_case(demo_client, demo_session, headers_for(demo_session))
    stretches = layer(demo_session, case, Scope(everything=True), None, case.after)
    lines = {
        **segment_lines(demo_session, R01, range(6)),
        **segment_lines(demo_session, R02, range(6)),
    }
    assert len(stretches) == 4
    for stretch in stretches:
        assert stretch.geometry is not None and len(stretch.segment_ids) == 3
        expected = shapely.union_all([lines[i] for i in stretch.segment_ids])
        shown = shapely.from_geojson(json.dumps(stretch.geometry))
        assert shown.geom_type in ("LineString", "MultiLineString")
        assert (
            shapely.equals_exact(
                shapely.normalize(shapely.line_merge(expected)), shapely.normalize(shown), 1e-9
            )
            or shapely.symmetric_difference(expected, shown).length < 1e-9
        )
        assert abs(shown.length - expected.length) < 1e-9
    # The segments of the whole case: R01 and R02 each drawn once.
    assert sorted(i for s in stretches for i in s.segment_ids) == sorted(lines)


def test_a_county_supervisor_sees_only_the_chiefs_of_their_side(
    demo_client: TestClient, demo_session: Session
) -> None:
    headers = headers_for(demo_session)
    case = make_duty_case(demo_client, demo_session, headers)
    wujiang = principal(demo_session, "wujiang.sup")
    seen = layer(demo_session, case, scope_of(demo_session, wujiang), wujiang.member_id, case.after)
    assert drawn(seen) == {("吴永明",): MET, ("钱美芳",): MISSED, ("徐志强",): MISSED}
    assert {c.side_code[:6] for s in seen for c in s.chiefs} == {"320509"}
    # A chief with no supervisor's rights sees their own stretch only.
    wjj = principal(demo_session, "wjj.patrol")
    own = layer(demo_session, case, scope_of(demo_session, wjj), wjj.member_id, case.after)
    assert drawn(own) == {("陆晓燕",): MET}
    assert sorted(own[0].segment_ids) == sorted(segment_lines(demo_session, R01, range(6)))


def test_the_map_page_draws_the_layer_in_scope_with_its_popups(
    demo_client: TestClient, demo_session: Session
) -> None:
    headers = headers_for(demo_session)
    case = make_duty_case(demo_client, demo_session, headers)
    # The map's duty period is the one holding its last day: the case's (its patrols start
    # two hours ago, which is last week in the first two hours of a Monday in China).
    page = demo_client.get(f"/map?date_to={case.day}", headers=headers["wujiang.sup"]).text
    assert "河长履职" in page and "吴永明" in page and "徐志强" in page
    assert "陆晓燕" not in page and "沈丽华" not in page  # the other side's chiefs
    assert "1 / 1" in page and "0 / 1" in page
    for status in ("met", "missed", "in_progress", "not_due"):
        assert DUTY_COLOUR[status] in page  # the legend, at least
    english = demo_client.get("/map?lang=en&jurisdiction=320509100", headers=headers["admin"]).text
    assert "River chiefs&#39; duty" in english or "River chiefs' duty" in english
    assert "徐志强" in english and "陆晓燕" not in english  # the chosen side only


def test_segments_are_grouped_by_the_set_of_chiefs_holding_them() -> None:
    """Without a database: a county chief's whole river (1-6), a town chief's 1-4, a village
    chief's 3-4 (named twice: counted once) make three stretches, by hand."""
    county, town, village = (
        SimpleNamespace(member_name=name, segment_ids=ids)
        for name, ids in (("c", [1, 2, 3, 4, 5, 6]), ("t", [1, 2, 3, 4]), ("v", [3, 4, 4]))
    )
    grouped = group_by_chiefs([county, town, village])  # type: ignore[list-item]
    assert [(segments, [c.member_name for c in chiefs]) for segments, chiefs in grouped] == [
        ([5, 6], ["c"]),
        ([1, 2], ["c", "t"]),
        ([3, 4], ["c", "t", "v"]),
    ]
