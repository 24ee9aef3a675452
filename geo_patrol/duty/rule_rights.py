"""Who may set which duty rule.

A rule per level, or per level in a cooperation zone, or the joint pairs' default or zone
rule, applies to the chiefs of many sides at once: only an administrator sets those (the
river-chief office of the level above, in the field). The rule of one appointment is set by
whoever may appoint that chief (a supervisor of the side); the rule of one joint pair by
whoever may pair those chiefs (the supervisors of both sides, the zone's coordinator).
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_patrol.access.principal import Principal
from geo_patrol.access.scope import Scope
from geo_patrol.core.catalog import msg
from geo_patrol.core.errors import Forbidden, NotFound
from geo_patrol.core.vocabulary import ChiefLevel
from geo_patrol.duty.appointments import get_appointment
from geo_patrol.duty.rules import RuleSpec, set_rule

JOINT_SIDES = """
SELECT j.zone_id, array_remove(array_agg(DISTINCT a.jurisdiction_code), NULL) AS sides
FROM joint_appointments j LEFT JOIN chief_appointments a ON a.joint_id = j.id
WHERE j.id = :joint_id
GROUP BY j.id, j.zone_id
"""


def set_rule_in_scope(
    session: Session,
    *,
    scope: Scope,
    by: Principal,
    spec: RuleSpec,
    level: ChiefLevel | None = None,
    zone_id: int | None = None,
    appointment_id: int | None = None,
    joint: bool = False,
    joint_id: int | None = None,
) -> int:
    """Set one rule if the caller may (see the module); the id of the rule."""
    if joint and joint_id is not None:
        _check_joint(session, scope=scope, by=by, joint_id=joint_id)
    elif not joint and appointment_id is not None:
        chief = get_appointment(
            session, scope=scope, member_id=by.member_id, appointment_id=appointment_id
        )
        if not scope.everything and chief.jurisdiction_code not in scope.writable_codes:
            raise Forbidden(
                msg("problem.duty.may_not_set_duty", jurisdiction_code=chief.jurisdiction_code),
                field="appointment_id",
            )
    elif not scope.everything:
        raise Forbidden(
            msg("problem.duty.rule_for_admins"),
            field="joint_id" if joint else "level",
        )
    return set_rule(
        session,
        spec=spec,
        by=by,
        level=level,
        zone_id=zone_id,
        appointment_id=appointment_id,
        joint=joint,
        joint_id=joint_id,
    )


def _check_joint(session: Session, *, scope: Scope, by: Principal, joint_id: int) -> None:
    """The caller may set a joint pair's rule: both sides' supervisor, its zone's
    coordinator, or an administrator."""
    row = session.execute(text(JOINT_SIDES), {"joint_id": joint_id}).first()
    if row is None:
        raise NotFound(
            msg("problem.duty.no_joint_appointment", joint_id=joint_id), field="joint_id"
        )
    if scope.everything:
        return
    coordinator = "zone_coordinator" in by.roles and row.zone_id in scope.zones
    both_sides = bool(row.sides) and set(row.sides) <= scope.writable_codes
    if not (coordinator or both_sides):
        raise Forbidden(
            msg("problem.duty.joint_rule_rights"),
            field="joint_id",
        )
