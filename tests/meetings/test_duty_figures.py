"""The meeting pack's duty section on the hand-built case of tests/support/duty_case.py:
each side's chiefs met or missed and the joint pair, worked out by hand from the case's
appointments and patrols; then the same in the pack itself (HTML)."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from geo_patrol.access.principal import load_member
from geo_patrol.access.scope import Scope, scope_of
from geo_patrol.core.vocabulary import DutyStatus
from geo_patrol.meetings.duty_figures import duty_figures
from tests.support.duty_case import make_duty_case
from tests.support.principals import headers_for, member_id

MET, MISSED, NOT_DUE = DutyStatus.MET, DutyStatus.MISSED, DutyStatus.NOT_DUE


def test_each_sides_chiefs_and_the_joint_pair(
    demo_client: TestClient, demo_session: Session
) -> None:
    case = make_duty_case(demo_client, demo_session, headers_for(demo_session))
    figures = duty_figures(
        demo_session,
        scope=Scope(everything=True),
        member_id=None,
        zone_id=case.zone_id,
        day=case.day,
        now=case.after,
    )
    sides = {
        side.code: {c.member_name: (c.level, c.done, c.required, c.status) for c in side.chiefs}
        for side in figures.sides
    }
    assert sides == {
        "320509": {
            "吴永明": ("village", 1, 1, MET),
            "钱美芳": ("village", 0, 1, MISSED),
            "徐志强": ("town", 0, 1, MISSED),
        },
        "330411": {
            "陆晓燕": ("village", 1, 1, MET),
            "沈丽华": ("village", 0, 0, NOT_DUE),
        },
    }
    wujiang, xiuzhou = figures.sides
    assert (wujiang.met, wujiang.missed, wujiang.owing) == (1, 2, 3)
    assert (xiuzhou.met, xiuzhou.missed, xiuzhou.owing) == (1, 0, 1)
    (pair,) = figures.joints
    assert (pair.joint_id, pair.name, pair.done, pair.required, pair.status) == (
        case.joint_id,
        "小天圩河联合河长",
        1,
        1,
        MET,
    )
    assert sorted(c["name"] for c in pair.chiefs) == ["吴永明", "陆晓燕"]
    assert [k.patrol_id for k in pair.candidates if k.counted] == [case.joint_patrol]


def test_a_county_supervisor_sees_their_own_sides_chiefs(
    demo_client: TestClient, demo_session: Session
) -> None:
    case = make_duty_case(demo_client, demo_session, headers_for(demo_session))
    principal = load_member(
        demo_session, member_id=member_id(demo_session, "xiuzhou.sup"), via="token"
    )
    assert principal is not None
    figures = duty_figures(
        demo_session,
        scope=scope_of(demo_session, principal),
        member_id=principal.member_id,
        zone_id=case.zone_id,
        day=case.day,
        now=case.after,
    )
    assert [side.code for side in figures.sides] == ["330411"]
    assert sorted(c.member_name for c in figures.sides[0].chiefs) == ["沈丽华", "陆晓燕"]
    # The pair has a chief on this side: its supervisor sees it.
    assert [pair.joint_id for pair in figures.joints] == [case.joint_id]


def test_the_pack_has_the_section(demo_client: TestClient, demo_session: Session) -> None:
    headers = headers_for(demo_session)
    case = make_duty_case(demo_client, demo_session, headers)
    day = case.day.isoformat()
    for lang, heading in (("zh", "河长履职"), ("en", "River chiefs&#39; duty")):
        answer = demo_client.get(
            f"/api/v1/meeting-pack?zone=ZONE-SZ-WJJ&from={day}&to={day}&lang={lang}",
            headers=headers["zone.coord"],
        )
        assert answer.status_code == 200, answer.text[:300]
        section = answer.text.split('<section id="gp-duty">', 1)[1].split("</section>", 1)[0]
        assert heading in section
        for name in ("吴永明", "陆晓燕", "小天圩河联合河长"):
            assert name in section, name
        assert section.count('class="gp-duty-met"') >= 3  # the two chiefs and the pair
