"""Members' e-mail addresses, and the log of the daily duty digests sent to supervisors.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06
Introduced in: geo-patrol 0.3.0
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this migration."""
    op.add_column("members", sa.Column("email", sa.Text(), nullable=True))
    # One row per local day, recipient and channel: the unique key is what makes a digest go
    # out at most once a day per supervisor, whichever node sends and however often it tries.
    op.create_table(
        "duty_digests",
        sa.Column("id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("chiefs", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("last_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("channel IN ('smtp', 'webhook')", name=op.f("ck_duty_digests_channel")),
        sa.CheckConstraint(
            "status IN ('pending', 'sent', 'failed', 'skipped')",
            name=op.f("ck_duty_digests_status"),
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_duty_digests_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_duty_digests")),
        sa.UniqueConstraint(
            "day", "member_id", "channel", name=op.f("uq_duty_digests_day_member_id_channel")
        ),
    )
    op.create_index(op.f("ix_duty_digests_member_id"), "duty_digests", ["member_id"])


def downgrade() -> None:
    """Revert this migration (the digest log and the e-mail addresses are dropped)."""
    op.drop_index(op.f("ix_duty_digests_member_id"), table_name="duty_digests")
    op.drop_table("duty_digests")
    op.drop_column("members", "email")
