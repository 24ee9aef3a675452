"""Live patrols: an index on their device, for positions replayed into closed patrols.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27
Introduced in: geo-patrol 0.1.0
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A live position goes into its device's open patrol (the unique partial index finds it),
# or, when it falls outside that one's span, into a closed patrol of the device: without
# this index that search read every patrol ever stored, for each such position. Device ids
# never change, so the index does not keep patrol updates (a span widening every batch)
# from being heap-only.


def upgrade() -> None:
    """Apply this migration."""
    op.create_index(
        "ix_patrols_live_device",
        "patrols",
        ["device_id"],
        postgresql_where=sa.text("source = 'live'"),
    )


def downgrade() -> None:
    """Revert this migration."""
    op.drop_index("ix_patrols_live_device", table_name="patrols")
