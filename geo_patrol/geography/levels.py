"""The order of jurisdiction levels in SQL: province 0 ... grid 5 (higher is lower down)."""

from __future__ import annotations

from geo_patrol.db.tables import LEVELS


def level_rank(column: str) -> str:
    """A SQL expression ranking `column` (a whitelisted column name) by level."""
    whens = " ".join(f"WHEN '{level}' THEN {rank}" for rank, level in enumerate(LEVELS))
    return f"CASE {column} {whens} END"
