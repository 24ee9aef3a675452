"""Each vocabulary equals the words of the CHECK constraints that hold its column, both as the
tables declare them and as the migrations made them in the database."""

from __future__ import annotations

import re
from enum import StrEnum

from sqlalchemy import CheckConstraint, text
from sqlalchemy.orm import Session

from geo_patrol.core.vocabulary import (
    IncidentStatus,
    Level,
    PatrolMode,
    PatrolSource,
    ResponsibleRole,
    Role,
    Severity,
    Tier,
    WorkflowAction,
    values,
)
from geo_patrol.db import tables  # also declares the tables on Base.metadata
from geo_patrol.db.engine import Base

# (table, CHECK constraint name) -> the vocabulary of its column
CHECKS: dict[tuple[str, str], type[StrEnum]] = {
    ("jurisdictions", "level"): Level,
    ("member_roles", "role"): Role,
    ("patrols", "mode"): PatrolMode,
    ("patrols", "source"): PatrolSource,
    ("tier_rules", "severity"): Severity,
    ("tier_rules", "tier"): Tier,
    ("tier_deadlines", "tier"): Tier,
    ("incidents", "status"): IncidentStatus,
    ("incidents", "tier"): Tier,
    ("incidents", "severity"): Severity,
    ("incident_responsibles", "role"): ResponsibleRole,
}


def _words(sql: str) -> tuple[str, ...]:
    """The quoted words of a constraint's SQL, in order."""
    return tuple(re.findall(r"'([^']*)'", sql))


def test_the_declared_constraints_name_exactly_the_words_of_their_vocabulary() -> None:
    declared = {
        (table.name, str(constraint.name).removeprefix(f"ck_{table.name}_")): str(
            constraint.sqltext
        )
        for table in Base.metadata.tables.values()
        for constraint in table.constraints
        if isinstance(constraint, CheckConstraint)
    }
    for (table, name), vocabulary in CHECKS.items():
        column = name
        assert declared[(table, name)] == f"{column} IN {values(vocabulary)!r}"
        assert _words(declared[(table, name)]) == values(vocabulary)


def test_the_migrated_constraints_name_exactly_the_words_of_their_vocabulary(
    session: Session,
) -> None:
    """From pg_constraint: what the migrations created, whatever the declarations say."""
    rows = session.execute(
        text(
            "SELECT conrelid::regclass::text AS tab, conname, pg_get_constraintdef(oid) AS sql"
            " FROM pg_constraint WHERE contype = 'c' AND connamespace = 'public'::regnamespace"
        )
    ).all()
    migrated = {(row.tab, row.conname): row.sql for row in rows}
    for (table, name), vocabulary in CHECKS.items():
        (sql,) = [
            sql for (tab, con), sql in migrated.items() if (tab, con[-len(name) :]) == (table, name)
        ]
        assert _words(sql) == values(vocabulary), (table, name, sql)


def test_the_workflow_moves_between_statuses_by_its_actions() -> None:
    """The request model's actions are exactly the workflow's, and every state it names is a
    status (the incident page's steps use the same table)."""
    from geo_patrol.incidents.workflow import TRANSITIONS

    assert tuple(TRANSITIONS) == values(WorkflowAction)
    named = {target for _, target in TRANSITIONS.values()}
    named |= {source for sources, _ in TRANSITIONS.values() for source in sources}
    assert named <= set(values(IncidentStatus))
    assert set(tables.OPEN_STATUSES) < set(values(IncidentStatus))
