"""River chiefs (appointments, joint appointments, their stretches) and duty rules.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06
Introduced in: geo-patrol 0.3.0
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LEVELS = "('county', 'town', 'village')"
PERIODS = "('week', 'dekad', 'month', 'quarter')"
# The common rules of river-chief offices: village chiefs weekly, town chiefs every ten days
# (每旬), county chiefs monthly; joint chiefs patrol together once a month. A patrol counts
# when it covers at least 30 % of the stretch and was neither too fast nor mocked.
DEFAULT_RULES = """
INSERT INTO duty_rules (joint, level, period, required, min_share)
VALUES (false, 'village', 'week', 1, 0.3), (false, 'town', 'dekad', 1, 0.3),
       (false, 'county', 'month', 1, 0.3), (true, NULL, 'month', 1, 0.3)
"""


def _created_at() -> sa.Column[Any]:
    """A creation time column."""
    return sa.Column(
        "created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
    )


def upgrade() -> None:
    """Apply this migration."""
    op.create_table(
        "joint_appointments",
        sa.Column("id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("zone_id", sa.Integer(), nullable=True),
        _created_at(),
        sa.ForeignKeyConstraint(
            ["zone_id"],
            ["cooperation_zones.id"],
            name=op.f("fk_joint_appointments_zone_id_cooperation_zones"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_joint_appointments")),
    )
    op.create_index(op.f("ix_joint_appointments_zone_id"), "joint_appointments", ["zone_id"])
    op.create_table(
        "chief_appointments",
        sa.Column("id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("jurisdiction_code", sa.String(length=32), nullable=False),
        sa.Column("river_id", sa.Integer(), nullable=False),
        sa.Column("stretch_kind", sa.String(length=16), nullable=False),
        sa.Column("stretch_label", sa.Text(), nullable=True),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("joint_id", sa.Integer(), nullable=True),
        sa.Column("replaces_id", sa.Integer(), nullable=True),
        sa.Column("source", sa.Text(), nullable=True),
        _created_at(),
        sa.CheckConstraint(f"level IN {LEVELS}", name=op.f("ck_chief_appointments_level")),
        sa.CheckConstraint(
            "stretch_kind IN ('river', 'segments', 'between')",
            name=op.f("ck_chief_appointments_stretch_kind"),
        ),
        sa.CheckConstraint(
            "valid_to IS NULL OR valid_to >= valid_from",
            name=op.f("ck_chief_appointments_validity"),
        ),
        sa.ForeignKeyConstraint(
            ["joint_id"],
            ["joint_appointments.id"],
            name=op.f("fk_chief_appointments_joint_id_joint_appointments"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_chief_appointments_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["river_id"],
            ["rivers.id"],
            name=op.f("fk_chief_appointments_river_id_rivers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chief_appointments")),
    )
    for column in ("member_id", "river_id", "joint_id", "jurisdiction_code"):
        op.create_index(f"ix_chief_appointments_{column}", "chief_appointments", [column])
    op.create_table(
        "chief_stretches",
        sa.Column("appointment_id", sa.Integer(), nullable=False),
        sa.Column("segment_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["chief_appointments.id"],
            name=op.f("fk_chief_stretches_appointment_id_chief_appointments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["segment_id"],
            ["river_segments.id"],
            name=op.f("fk_chief_stretches_segment_id_river_segments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("appointment_id", "segment_id", name=op.f("pk_chief_stretches")),
    )
    op.create_index(op.f("ix_chief_stretches_segment_id"), "chief_stretches", ["segment_id"])
    op.create_table(
        "duty_rules",
        sa.Column("id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column("joint", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=True),
        sa.Column("zone_id", sa.Integer(), nullable=True),
        sa.Column("appointment_id", sa.Integer(), nullable=True),
        sa.Column("joint_id", sa.Integer(), nullable=True),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("required", sa.Integer(), nullable=False),
        sa.Column("min_share", sa.Float(), server_default=sa.text("0.3"), nullable=False),
        sa.Column("min_length_m", sa.Float(), nullable=True),
        sa.Column(
            "disqualifying_flags",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text('\'["too_fast", "mocked"]\'::jsonb'),
            nullable=False,
        ),
        sa.CheckConstraint(f"level IS NULL OR level IN {LEVELS}", name=op.f("ck_duty_rules_level")),
        sa.CheckConstraint(f"period IN {PERIODS}", name=op.f("ck_duty_rules_period")),
        sa.CheckConstraint("required >= 0", name=op.f("ck_duty_rules_required")),
        sa.CheckConstraint(
            "min_share >= 0 AND min_share <= 1", name=op.f("ck_duty_rules_min_share")
        ),
        sa.CheckConstraint(
            "min_length_m IS NULL OR min_length_m > 0", name=op.f("ck_duty_rules_min_length")
        ),
        sa.CheckConstraint(
            "(NOT joint AND joint_id IS NULL AND level IS NOT NULL AND appointment_id IS NULL)"
            " OR (NOT joint AND joint_id IS NULL AND level IS NULL AND zone_id IS NULL"
            " AND appointment_id IS NOT NULL)"
            " OR (joint AND level IS NULL AND appointment_id IS NULL"
            " AND (zone_id IS NULL OR joint_id IS NULL))",
            name=op.f("ck_duty_rules_target"),
        ),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["chief_appointments.id"],
            name=op.f("fk_duty_rules_appointment_id_chief_appointments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["joint_id"],
            ["joint_appointments.id"],
            name=op.f("fk_duty_rules_joint_id_joint_appointments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["zone_id"],
            ["cooperation_zones.id"],
            name=op.f("fk_duty_rules_zone_id_cooperation_zones"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_duty_rules")),
    )
    op.create_index(
        "ix_duty_rules_target",
        "duty_rules",
        [
            sa.text("coalesce(level, '')"),
            sa.text("coalesce(zone_id, 0)"),
            sa.text("coalesce(appointment_id, 0)"),
            sa.text("coalesce(joint_id, 0)"),
            "joint",
        ],
        unique=True,
    )
    op.execute(DEFAULT_RULES)
    # A chief's patrols are found by member and by the device that recorded them.
    op.create_index(op.f("ix_patrol_members_member_id"), "patrol_members", ["member_id"])
    op.create_index("ix_patrols_device_started", "patrols", ["device_id", "started_at"])
    # The incidents of each chief's stretch in a period (without it, one scan of every
    # incident per chief: a province's assessment read the table 60,000 times).
    op.create_index("ix_incidents_segment_reported", "incidents", ["segment_id", "reported_at"])


def downgrade() -> None:
    """Revert this migration (appointments and duty rules are dropped)."""
    op.drop_index("ix_incidents_segment_reported", table_name="incidents")
    op.drop_index("ix_patrols_device_started", table_name="patrols")
    op.drop_index(op.f("ix_patrol_members_member_id"), table_name="patrol_members")
    op.drop_index("ix_duty_rules_target", table_name="duty_rules")
    op.drop_table("duty_rules")
    op.drop_index(op.f("ix_chief_stretches_segment_id"), table_name="chief_stretches")
    op.drop_table("chief_stretches")
    for column in ("jurisdiction_code", "joint_id", "river_id", "member_id"):
        op.drop_index(f"ix_chief_appointments_{column}", table_name="chief_appointments")
    op.drop_table("chief_appointments")
    op.drop_index(op.f("ix_joint_appointments_zone_id"), table_name="joint_appointments")
    op.drop_table("joint_appointments")
