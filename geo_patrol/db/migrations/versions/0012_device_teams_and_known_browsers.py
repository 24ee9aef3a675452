"""Devices carry the teams they were issued for; browsers that signed in are remembered.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06
Introduced in: geo-patrol 0.1.0
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A device used to act with every patrol role of its member, so a lead of one team who
# issued a phone for a member of two teams handed out rights over the other team too. A
# device now acts only for the teams it was issued for. Devices issued before keep what
# they had: their member's patrol teams (patrol_member and team_lead roles).
BACKFILL = """
INSERT INTO device_teams (device_id, team_id)
SELECT DISTINCT d.id, r.team_id FROM devices d
JOIN member_roles r ON r.member_id = d.member_id
WHERE r.role IN ('patrol_member', 'team_lead') AND r.team_id IS NOT NULL
"""


def upgrade() -> None:
    """Apply this migration."""
    op.create_table(
        "device_teams",
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["device_id"],
            ["devices.id"],
            name=op.f("fk_device_teams_device_id_devices"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["teams.id"],
            name=op.f("fk_device_teams_team_id_teams"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("device_id", "team_id", name=op.f("pk_device_teams")),
    )
    op.create_index(op.f("ix_device_teams_team_id"), "device_teams", ["team_id"])
    op.execute(BACKFILL)
    # A browser that signed in once gets a long-lived random cookie (stored hashed): with it,
    # its member's sign-in is not slowed down by failures of strangers on the account or
    # the address, so throttling cannot lock a real user out.
    op.create_table(
        "known_browsers",
        sa.Column("id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_known_browsers_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_known_browsers")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_known_browsers_token_hash")),
    )
    op.create_index(op.f("ix_known_browsers_member_id"), "known_browsers", ["member_id"])


def downgrade() -> None:
    """Revert this migration (devices act with all their member's patrol roles again)."""
    op.drop_index(op.f("ix_known_browsers_member_id"), table_name="known_browsers")
    op.drop_table("known_browsers")
    op.drop_index(op.f("ix_device_teams_team_id"), table_name="device_teams")
    op.drop_table("device_teams")
