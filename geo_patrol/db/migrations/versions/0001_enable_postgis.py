"""Enable PostGIS (geometry types and functions) and btree_gist (exclusion constraints).

Revision ID: 0001
Revises:
Create Date: 2026-11-27
Introduced in: geo-patrol 0.1.0
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Enable the extensions."""
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")


def downgrade() -> None:
    """Drop the extensions (fails, rather than cascading, if anything else still uses them)."""
    op.execute("DROP EXTENSION IF EXISTS btree_gist")
    op.execute("DROP EXTENSION IF EXISTS postgis")
