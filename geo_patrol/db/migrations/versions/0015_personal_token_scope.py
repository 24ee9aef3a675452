"""Personal API tokens get a scope: full (what the member may do) or read (GET and HEAD).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06
Introduced in: geo-patrol 0.4.0
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this migration: existing tokens keep what they could do (full)."""
    op.add_column(
        "api_tokens",
        sa.Column("scope", sa.String(length=16), server_default="full", nullable=False),
    )
    op.create_check_constraint(
        op.f("ck_api_tokens_scope"), "api_tokens", "scope IN ('full', 'read')"
    )


def downgrade() -> None:
    """Revert this migration (read tokens become full tokens: revoke them first if that
    matters)."""
    op.drop_constraint(op.f("ck_api_tokens_scope"), "api_tokens", type_="check")
    op.drop_column("api_tokens", "scope")
