"""Duty rules: how many patrols per period, and what makes a patrol count.

A rule per chief level is the default (the migration seeds village weekly, town every ten
days, county monthly, joint pairs monthly; 30 % of the stretch; too_fast and mocked patrols
never count). A rule for a level in a cooperation zone overrides it for the chiefs of the
zone's sides (a side is in a zone when it or a jurisdiction above it is a member); a rule of
one appointment overrides both. Joint pairs have their own rules, per zone or per pair. The
most specific rule applies whole: its period, number, share, length and flags.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_patrol.access import audit
from geo_patrol.access.principal import Principal
from geo_patrol.core.catalog import msg
from geo_patrol.core.errors import InvalidInput
from geo_patrol.core.paging import Page
from geo_patrol.core.vocabulary import ChiefLevel, DutyPeriod
from geo_patrol.db.clauses import all_of, statement
from geo_patrol.db.keyset import Keyset, read_limit

# The flags a patrol may carry (patrols.quality): only these can disqualify.
KNOWN_FLAGS = frozenset(
    {
        "too_short",
        "too_fast",
        "long_gap",
        "mocked",
        "too_regular",
        "one_side_only",
        "clock_constant",
        "clock_backwards",
        "partly_timed",
        "reordered",
    }
)

# The zones of each side of the chiefs in `chiefs` (a CTE with jurisdiction_code): zones one
# of whose members is the side or a jurisdiction above it. Used inside the assessment.
SIDE_ZONES = """
ancestry AS (
    SELECT DISTINCT jurisdiction_code AS side, jurisdiction_code AS code, 0 AS depth FROM chiefs
    UNION
    SELECT an.side, j.parent_code, an.depth + 1 FROM ancestry an
    JOIN jurisdictions j ON j.code = an.code AND j.valid_to IS NULL
    WHERE j.parent_code IS NOT NULL AND an.depth < 8
),
side_zones AS (
    SELECT DISTINCT an.side, zm.zone_id FROM ancestry an
    JOIN cooperation_zone_members zm ON zm.jurisdiction_code = an.code
)"""

# The rule of each chief: its appointment's, else its level's in one of its side's zones
# (the lowest zone id when several), else its level's.
CHIEF_RULE = """
SELECT r.id AS rule_id, r.period, r.required, r.min_share, r.min_length_m,
       r.disqualifying_flags
FROM duty_rules r
WHERE NOT r.joint AND (
    r.appointment_id = c.id
    OR (r.level = c.level AND r.zone_id IS NULL)
    OR (r.level = c.level AND r.zone_id IN
        (SELECT sz.zone_id FROM side_zones sz WHERE sz.side = c.jurisdiction_code)))
ORDER BY r.appointment_id IS NOT NULL DESC, r.zone_id IS NOT NULL DESC, r.zone_id
LIMIT 1
"""

# The rule of each joint pair (`jp` with id and zone_id): its own, else its zone's, else
# the joint default.
JOINT_RULE = """
SELECT r.id AS rule_id, r.period, r.required, r.min_share, r.min_length_m,
       r.disqualifying_flags
FROM duty_rules r
WHERE r.joint AND (
    r.joint_id = jp.id
    OR (r.zone_id = jp.zone_id AND r.joint_id IS NULL)
    OR (r.zone_id IS NULL AND r.joint_id IS NULL))
ORDER BY r.joint_id IS NOT NULL DESC, r.zone_id IS NOT NULL DESC
LIMIT 1
"""


@dataclass(frozen=True)
class RuleSpec:
    """A rule as a supervisor sets it."""

    period: DutyPeriod
    required: int
    min_share: float = 0.3
    min_length_m: float | None = None
    disqualifying_flags: tuple[str, ...] = ("too_fast", "mocked")


def check_rule(spec: RuleSpec) -> None:
    """Refuse a rule that cannot be right, naming the field."""
    if spec.required < 0 or spec.required > 100:
        raise InvalidInput(msg("problem.duty.required_range"), field="required")
    if not 0 <= spec.min_share <= 1:
        raise InvalidInput(msg("problem.duty.min_share_range"), field="min_share")
    if spec.min_length_m is not None and spec.min_length_m <= 0:
        raise InvalidInput(msg("problem.duty.min_length_positive"), field="min_length_m")
    unknown = sorted(set(spec.disqualifying_flags) - KNOWN_FLAGS)
    if unknown:
        raise InvalidInput(
            msg("problem.duty.unknown_flag", flag=unknown[0], known=", ".join(sorted(KNOWN_FLAGS))),
            field="disqualifying_flags",
        )


REPLACED = """
DELETE FROM duty_rules
WHERE joint = :joint AND level IS NOT DISTINCT FROM :level
  AND zone_id IS NOT DISTINCT FROM :zone_id
  AND appointment_id IS NOT DISTINCT FROM :appointment_id
  AND joint_id IS NOT DISTINCT FROM :joint_id
"""
INSERT = """
INSERT INTO duty_rules (joint, level, zone_id, appointment_id, joint_id, period, required,
    min_share, min_length_m, disqualifying_flags)
VALUES (:joint, :level, :zone_id, :appointment_id, :joint_id, :period, :required, :min_share,
    :min_length_m, CAST(:flags AS jsonb))
RETURNING id
"""


def set_rule(
    session: Session,
    *,
    spec: RuleSpec,
    by: Principal,
    level: ChiefLevel | None = None,
    zone_id: int | None = None,
    appointment_id: int | None = None,
    joint: bool = False,
    joint_id: int | None = None,
) -> int:
    """Set the rule of one target (a level, a level in a zone, an appointment; or for joint
    pairs: all, a zone, one pair), replacing the one it had."""
    check_rule(spec)
    if not joint and (level is None) == (appointment_id is None):
        raise InvalidInput(msg("problem.duty.rule_target"), field="level")
    if appointment_id is not None and zone_id is not None:
        raise InvalidInput(msg("problem.duty.appointment_rule_zone"), field="zone_id")
    values: dict[str, Any] = {
        "joint": joint,
        "level": None if joint or level is None else str(level),
        "zone_id": zone_id,
        "appointment_id": None if joint else appointment_id,
        "joint_id": joint_id if joint else None,
        "period": str(spec.period),
        "required": spec.required,
        "min_share": spec.min_share,
        "min_length_m": spec.min_length_m,
        "flags": json.dumps(sorted(set(spec.disqualifying_flags))),
    }
    session.execute(text(REPLACED), values)
    rule_id = int(session.execute(text(INSERT), values).scalar_one())
    audit.record(
        session,
        action="duty.rule",
        principal=by,
        target=f"rule:{rule_id}",
        detail={k: v for k, v in values.items() if k != "flags"},
    )
    return rule_id


RULES = """
SELECT id, joint, level, zone_id, appointment_id, joint_id, period, required, min_share,
       min_length_m, disqualifying_flags,
       coalesce(appointment_id, 0) AS order_appointment, coalesce(zone_id, 0) AS order_zone,
       coalesce(level, '') AS order_level
FROM duty_rules WHERE {after} ORDER BY {order} LIMIT :limit
"""
# Defaults first: per level, then per zone, appointment and pair (a NULL target is 0 or '':
# only the ids of real targets are positive, and a level is set only where the others are
# not, so this is the order of `joint, appointment_id NULLS FIRST, zone_id NULLS FIRST,
# level, id`). The rules are a few per level, zone and appointment.
RULE_ORDER = Keyset(
    ("joint", "coalesce(appointment_id, 0)", "coalesce(zone_id, 0)", "coalesce(level, '')", "id"),
    ("joint", "order_appointment", "order_zone", "order_level", "id"),
    ("bool", "int", "int", "text", "int"),
)
ORDER_FIELDS = ("order_appointment", "order_zone", "order_level")


def rule_page(
    session: Session, *, limit: int | None, cursor: str | None = None
) -> Page[dict[str, Any]]:
    """A page of the rules, defaults first (every rule when `limit` is None)."""
    sql = statement(RULES, after=all_of(RULE_ORDER.after(cursor)), order=RULE_ORDER.order_by())
    rows = [dict(row._mapping) for row in session.execute(sql, {"limit": read_limit(limit)})]
    page = RULE_ORDER.page(rows, limit)
    for row in page.items:
        for name in ORDER_FIELDS:
            del row[name]
    return page


def list_rules(session: Session) -> list[dict[str, Any]]:
    """Every rule, defaults first."""
    return rule_page(session, limit=None).items
