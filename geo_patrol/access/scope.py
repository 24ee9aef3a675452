"""What a principal may see: the scope, and the one SQL filter every query uses.

A supervisor reads what lies in their jurisdiction's subtree. A zone coordinator reads the
joint (cross-border) matters of their zone, and its teams. Team leads and patrol members
read their own teams. An observer reads like a supervisor or coordinator but never writes.
An administrator reads everything. Joint cases list every responsible side, so each side's
supervisor sees them through the subtree rule without seeing the other side's own cases.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_patrol.access.principal import Principal
from geo_patrol.db.clauses import TRUE, Clause, any_of

# Every jurisdiction in force below (and including) the given roots.
SUBTREE = """
WITH RECURSIVE tree AS (
    SELECT code, 0 AS depth FROM jurisdictions WHERE valid_to IS NULL AND code = ANY(:roots)
    UNION
    SELECT j.code, t.depth + 1 FROM jurisdictions j JOIN tree t ON j.parent_code = t.code
    WHERE j.valid_to IS NULL AND t.depth < 10
)
SELECT DISTINCT code FROM tree
"""

ZONE_CODES = "SELECT jurisdiction_code FROM cooperation_zone_members WHERE zone_id = ANY(:zones)"
ZONE_TEAMS = "SELECT id FROM teams WHERE zone_id = ANY(:zones)"


@dataclass(frozen=True)
class Scope:
    """The rows a principal may read, as sets of jurisdiction codes, zones and teams."""

    everything: bool = False
    codes: frozenset[str] = field(default_factory=frozenset)
    writable_codes: frozenset[str] = field(default_factory=frozenset)
    zones: frozenset[int] = field(default_factory=frozenset)
    teams: frozenset[int] = field(default_factory=frozenset)
    led_teams: frozenset[int] = field(default_factory=frozenset)


def scope_of(session: Session, principal: Principal) -> Scope:
    """Compute the scope of a principal from their grants."""
    if principal.is_admin:
        return Scope(everything=True)
    roots = {g.jurisdiction_code for g in principal.grants if g.jurisdiction_code}
    writable_roots = {
        g.jurisdiction_code
        for g in principal.grants
        if g.role == "supervisor" and g.jurisdiction_code
    }
    zones = {g.zone_id for g in principal.grants if g.zone_id is not None}
    teams = {g.team_id for g in principal.grants if g.team_id is not None}
    led = {g.team_id for g in principal.grants if g.role == "team_lead" and g.team_id is not None}
    if zones:
        teams |= set(session.execute(text(ZONE_TEAMS), {"zones": list(zones)}).scalars())
    return Scope(
        codes=_subtree(session, roots),
        writable_codes=_subtree(session, writable_roots),
        zones=frozenset(zones),
        teams=frozenset(teams),
        led_teams=frozenset(led),
    )


def _subtree(session: Session, roots: set[str]) -> frozenset[str]:
    """Codes of the roots and everything under them."""
    if not roots:
        return frozenset()
    return frozenset(session.execute(text(SUBTREE), {"roots": sorted(roots)}).scalars())


_EXPRESSION = re.compile(
    r"^[a-z_][a-z0-9_.]*$|^ARRAY\[[a-z0-9_.]+\]$|^\(SELECT [A-Za-z0-9_.() =]+\)$"
)


def visible(
    scope: Scope,
    *,
    codes: str | None = None,
    teams: str | None = None,
    zones: str | None = None,
    joint: str | None = None,
) -> Clause:
    """The condition (with its parameters) that a row is visible within `scope`.

    Each argument is a SQL expression over the row, written by our own query code (checked
    against a narrow pattern, never user input): `codes` the row's jurisdiction codes
    (text[]), `teams` its team ids (int[]), `zones` its zone ids (int[]), and `joint` whether
    it is a cross-border matter, which is what zone coordinators see of their zone.
    """
    if scope.everything:
        return TRUE
    for expression in (codes, teams, zones, joint):
        if expression is not None and not _EXPRESSION.match(expression):
            raise ValueError(f"not an allowed scope expression: {expression!r}")
    terms: list[Clause | None] = []
    if codes:
        terms.append(
            Clause(
                f"CAST({codes} AS text[]) && CAST(:scope_codes AS text[])",
                {"scope_codes": sorted(scope.codes)},
            )
        )
    if teams:
        terms.append(
            Clause(
                f"CAST({teams} AS int[]) && CAST(:scope_teams AS int[])",
                {"scope_teams": sorted(scope.teams)},
            )
        )
    if zones:
        zone_term = f"CAST({zones} AS int[]) && CAST(:scope_zones AS int[])"
        terms.append(
            Clause(
                f"{joint} AND {zone_term}" if joint else zone_term,
                {"scope_zones": sorted(scope.zones)},
            )
        )
    return any_of(*terms)
