"""Incidents imported from other platforms keep the platform's name and its id for them.

Columns on `incidents` rather than a table of their own: an incident has at most one
external origin, the pair is looked up on every import row (one unique index answers it),
and lists and exports can show it without a join. Partial: reports made here have neither.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06
Introduced in: geo-patrol 0.4.0
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this migration: existing incidents have no external origin."""
    op.add_column("incidents", sa.Column("external_source", sa.Text(), nullable=True))
    op.add_column("incidents", sa.Column("external_id", sa.Text(), nullable=True))
    op.create_check_constraint(
        op.f("ck_incidents_external_pair"),
        "incidents",
        "(external_source IS NULL) = (external_id IS NULL)",
    )
    op.create_index(
        "ix_incidents_external_id",
        "incidents",
        ["external_source", "external_id"],
        unique=True,
        postgresql_where=sa.text("external_id IS NOT NULL"),
    )


def downgrade() -> None:
    """Revert this migration (imported incidents stay, without their platform's id)."""
    op.drop_index(
        "ix_incidents_external_id",
        table_name="incidents",
        postgresql_where=sa.text("external_id IS NOT NULL"),
    )
    op.drop_constraint(op.f("ck_incidents_external_pair"), "incidents", type_="check")
    op.drop_column("incidents", "external_id")
    op.drop_column("incidents", "external_source")
