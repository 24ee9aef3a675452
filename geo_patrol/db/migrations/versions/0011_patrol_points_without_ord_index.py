"""Patrol fixes: no index on (patrol_id, ord).

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-27
Introduced in: geo-patrol 0.1.0
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Every read of fixes in time order selects one patrol first, which the primary key
# (patrol_id, seq) finds, then sorts its fixes by ord: a live patrol's few thousand, or an
# export's million once. Uploads no longer read their fixes back at all (they pass the kept
# fixes on in memory). Keeping this second B-tree up to date cost about 0.4 s of a
# million-fix upload's COPY, and work on every live position.


def upgrade() -> None:
    """Apply this migration."""
    op.drop_index("ix_patrol_points_patrol_ord", table_name="patrol_points")


def downgrade() -> None:
    """Revert this migration."""
    op.create_index("ix_patrol_points_patrol_ord", "patrol_points", ["patrol_id", "ord"])
