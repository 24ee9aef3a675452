"""Indexes for the keyset order of the two big lists: patrols newest first (by start, an
untimed track by when it was stored) and incidents newest first, each with its id to make
the order unique, so a page after a cursor is one index range scan however deep it is.

The other lists are ordered by keys their tables already index (ids, codes, the audit log's
id) or are small enough per scope (chiefs, duty rules) to sort.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06
Introduced in: geo-patrol 0.4.0
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this migration."""
    op.create_index(
        "ix_patrols_list_order",
        "patrols",
        [sa.text("coalesce(started_at, created_at)"), "id"],
    )
    op.create_index("ix_incidents_list_order", "incidents", ["reported_at", "id"])


def downgrade() -> None:
    """Revert this migration."""
    op.drop_index("ix_incidents_list_order", table_name="incidents")
    op.drop_index("ix_patrols_list_order", table_name="patrols")
