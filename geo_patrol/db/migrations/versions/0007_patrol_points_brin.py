"""Patrol fixes: a BRIN index on their geometry instead of a GiST one.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28
Introduced in: geo-patrol 0.1.0
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Fixes are the big table (a county: millions a day) and arrive patrol by patrol in time
# order, so neighbouring rows lie near each other: a BRIN index (one bounding box per block
# range) still prunes spatial scans, for almost nothing per insert. Keeping the GiST index
# up to date cost about ten seconds of a million-fix upload; every query today selects one
# patrol first (by its primary key) anyway.


def upgrade() -> None:
    """Apply this migration."""
    op.drop_index("ix_patrol_points_geom", table_name="patrol_points")
    op.create_index("ix_patrol_points_geom", "patrol_points", ["geom"], postgresql_using="brin")


def downgrade() -> None:
    """Revert this migration."""
    op.drop_index("ix_patrol_points_geom", table_name="patrol_points")
    op.create_index("ix_patrol_points_geom", "patrol_points", ["geom"], postgresql_using="gist")
