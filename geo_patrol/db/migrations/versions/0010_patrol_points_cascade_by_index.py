"""Deleting patrols deletes their fixes through the primary key's index.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-27
Introduced in: geo-patrol 0.1.0

The statement-level cascade of 0008 deleted with `patrol_id IN (SELECT id FROM old_patrols)`:
the planner cannot know how many rows the transition table holds and may join it with a
sequential scan of all of patrol_points, the table that grows by millions of rows a day. On
the benchmark database (a million fixes inserted and deleted per run, vacuum behind) one
such delete of a single patrol ran for 12 minutes and had to be cancelled. The built-in
foreign key deleted with one index probe per deleted patrol; here the ids go in as an array,
`patrol_id = ANY(...)`, which the primary key's index on (patrol_id, seq) answers.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CASCADE = """
CREATE OR REPLACE FUNCTION patrols_delete_points() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM patrol_points WHERE patrol_id = ANY(ARRAY(SELECT id FROM old_patrols));
    RETURN NULL;
END $$
"""

PREVIOUS = """
CREATE OR REPLACE FUNCTION patrols_delete_points() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM patrol_points WHERE patrol_id IN (SELECT id FROM old_patrols);
    RETURN NULL;
END $$
"""


def upgrade() -> None:
    """Apply this migration."""
    op.execute(CASCADE)


def downgrade() -> None:
    """Revert this migration."""
    op.execute(PREVIOUS)
