"""Who sees which chiefs: a supervisor their subtree's, a zone coordinator the joint pairs of
the zone, a chief their own; appointing needs the right to write for the side; history."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_patrol.access.principal import Principal, command_line_principal, load_member
from geo_patrol.access.scope import Scope, scope_of
from geo_patrol.core.errors import Forbidden, InvalidInput
from geo_patrol.core.vocabulary import ChiefLevel, StretchKind
from geo_patrol.duty.appointments import (
    AppointmentSpec,
    create_appointment,
    create_joint,
    list_appointments,
    replace_appointment,
)
from geo_patrol.duty.assessment import assess_chiefs, assess_joint, current_periods
from tests.support.duty_case import clear_chiefs
from tests.support.principals import member_id

BORDER_RIVER = "R-320509-330411-01"
ADMIN = Scope(everything=True)


def _principal(session: Session, login: str) -> Principal:
    """A demo login's principal (as by a personal token)."""
    principal = load_member(session, member_id=member_id(session, login), via="token")
    assert principal is not None
    return principal


def _appoint(session: Session, login: str, level: ChiefLevel, side: str) -> int:
    """Appoint a demo member chief of the border river for a side, from 1 Jan 2026."""
    spec = AppointmentSpec(
        member_id=member_id(session, login),
        level=level,
        jurisdiction_code=side,
        river_code=BORDER_RIVER,
        valid_from=date(2026, 1, 1),
    )
    return create_appointment(session, spec=spec, scope=ADMIN, by=command_line_principal())


@pytest.fixture
def chiefs(demo_session: Session) -> dict[str, int]:
    """Three chiefs: a village chief on each side paired as joint chiefs of the demo zone,
    and a town chief on the Xiuzhou side alone (the demo's own chiefs removed)."""
    clear_chiefs(demo_session)
    made = {
        "sz": _appoint(demo_session, "sz.patrol", ChiefLevel.VILLAGE, "320509100202"),
        "wjj": _appoint(demo_session, "wjj.patrol", ChiefLevel.VILLAGE, "330411100202"),
        "wjj_town": _appoint(demo_session, "wjj.lead", ChiefLevel.TOWN, "330411100"),
    }
    zone = demo_session.execute(
        text("SELECT id FROM cooperation_zones WHERE code = 'ZONE-SZ-WJJ'")
    ).scalar_one()
    create_joint(
        demo_session,
        scope=ADMIN,
        by=command_line_principal(),
        name="小天圩河联合河长",
        zone_id=zone,
        appointment_ids=[made["sz"], made["wjj"]],
    )
    return made


@pytest.mark.parametrize(
    ("login", "expected", "pairs"),
    [
        ("admin", {"sz", "wjj", "wjj_town"}, 1),
        ("wujiang.sup", {"sz"}, 1),
        ("xiuzhou.sup", {"wjj", "wjj_town"}, 1),
        ("wjj.sup", {"wjj", "wjj_town"}, 1),
        ("zone.coord", {"sz", "wjj"}, 1),
        ("meeting.room", {"sz", "wjj"}, 1),
        ("sz.patrol", {"sz"}, 1),
        ("wjj.lead", {"wjj_town"}, 0),
        ("joint.lead", set(), 0),
    ],
)
def test_each_role_sees_its_chiefs(
    demo_session: Session, chiefs: dict[str, int], login: str, expected: set[str], pairs: int
) -> None:
    """Appointments, assessments and joint pairs are filtered by the same rule."""
    principal = _principal(demo_session, login)
    scope = scope_of(demo_session, principal)
    ids = {chiefs[name] for name in expected}
    listed = list_appointments(demo_session, scope=scope, member_id=principal.member_id)
    assert {a.id for a in listed} == ids
    periods = current_periods(date(2026, 12, 6))
    assessed = assess_chiefs(
        demo_session, scope=scope, member_id=principal.member_id, periods=periods
    )
    assert {d.appointment_id for d in assessed} == ids
    joint = assess_joint(demo_session, scope=scope, member_id=principal.member_id, periods=periods)
    assert len(joint) == pairs


def test_a_supervisor_appoints_only_on_their_side(demo_session: Session) -> None:
    """Wujiang's supervisor may appoint for a Wujiang village, not for a Xiuzhou one."""
    principal = _principal(demo_session, "wujiang.sup")
    scope = scope_of(demo_session, principal)
    spec = AppointmentSpec(
        member_id=member_id(demo_session, "sz.patrol"),
        level=ChiefLevel.VILLAGE,
        jurisdiction_code="320509100202",
        river_code=BORDER_RIVER,
        valid_from=date(2026, 1, 1),
    )
    assert create_appointment(demo_session, spec=spec, scope=scope, by=principal) > 0
    other = AppointmentSpec(**{**spec.__dict__, "jurisdiction_code": "330411100202"})
    with pytest.raises(Forbidden) as refused:
        create_appointment(demo_session, spec=other, scope=scope, by=principal)
    assert refused.value.extra["field"] == "side"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"jurisdiction_code": "999999"}, "side"),
        ({"river_code": "no such river"}, "river"),
        ({"valid_to": date(2025, 12, 31)}, "valid_to"),
        ({"member_id": 10**8}, "member_id"),
        ({"stretch_kind": StretchKind.SEGMENTS, "seqs": (1, 999)}, "segments"),
        ({"stretch_kind": StretchKind.BETWEEN, "points": ((0.0, 0.0), (1.0, 1.0))}, "points"),
    ],
)
def test_bad_appointments_name_the_field(
    demo_session: Session, change: dict[str, object], field: str
) -> None:
    """Each wrong part of an appointment is refused naming its field; nothing is stored."""
    spec = AppointmentSpec(
        member_id=member_id(demo_session, "sz.patrol"),
        level=ChiefLevel.VILLAGE,
        jurisdiction_code="320509100202",
        river_code=BORDER_RIVER,
        valid_from=date(2026, 1, 1),
    )
    bad = AppointmentSpec(**{**spec.__dict__, **change})
    before = demo_session.execute(text("SELECT count(*) FROM chief_appointments")).scalar_one()
    with pytest.raises(InvalidInput) as refused:
        create_appointment(demo_session, spec=bad, scope=ADMIN, by=command_line_principal())
    assert refused.value.extra["field"] == field
    after = demo_session.execute(text("SELECT count(*) FROM chief_appointments")).scalar_one()
    assert after == before


def test_a_replaced_chief_stays_in_the_history(
    demo_session: Session, chiefs: dict[str, int]
) -> None:
    """Replacing ends the old appointment the day before and keeps the stretch and the
    joint pair for the successor."""
    new_id = replace_appointment(
        demo_session,
        scope=ADMIN,
        by=command_line_principal(),
        appointment_id=chiefs["sz"],
        member_id=member_id(demo_session, "sz.lead"),
        valid_from=date(2026, 12, 11),
    )
    history = {
        a.id: a
        for a in list_appointments(demo_session, scope=ADMIN, member_id=None, side="320509100202")
    }
    old, new = history[chiefs["sz"]], history[new_id]
    assert old.valid_to == date(2026, 12, 10)
    assert new.valid_from == date(2026, 12, 11) and new.valid_to is None
    assert new.replaces_id == old.id and new.joint_id == old.joint_id is not None
    assert new.segment_ids == old.segment_ids
    in_force = list_appointments(
        demo_session, scope=ADMIN, member_id=None, side="320509100202", on=date(2026, 12, 20)
    )
    assert [a.id for a in in_force] == [new_id]
