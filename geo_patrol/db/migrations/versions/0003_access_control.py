"""Access control: logins and roles, API tokens, web sessions, hashed device tokens, audit log.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
Introduced in: geo-patrol 0.1.0
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this migration."""
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column(
            "at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("device_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.Text(), nullable=True),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("target", sa.Text(), nullable=True),
        sa.Column("address", sa.String(length=64), nullable=True),
        sa.Column("detail", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index("ix_audit_log_action_at", "audit_log", ["action", "at"], unique=False)
    op.create_index("ix_audit_log_address_at", "audit_log", ["address", "at"], unique=False)
    op.create_index("ix_audit_log_at", "audit_log", ["at"], unique=False)
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("label", sa.Text(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_api_tokens_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    op.create_index(op.f("ix_api_tokens_member_id"), "api_tokens", ["member_id"], unique=False)
    op.create_table(
        "web_sessions",
        sa.Column("id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_web_sessions_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_web_sessions_token_hash")),
    )
    op.create_index(op.f("ix_web_sessions_member_id"), "web_sessions", ["member_id"], unique=False)
    op.create_table(
        "member_roles",
        sa.Column("id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("jurisdiction_code", sa.String(length=32), nullable=True),
        sa.Column("zone_id", sa.Integer(), nullable=True),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "(role = 'admin' AND jurisdiction_code IS NULL AND zone_id IS NULL AND team_id IS NULL) OR (role = 'supervisor' AND jurisdiction_code IS NOT NULL) OR (role = 'zone_coordinator' AND zone_id IS NOT NULL) OR (role IN ('team_lead', 'patrol_member') AND team_id IS NOT NULL) OR (role = 'observer' AND (jurisdiction_code IS NOT NULL OR zone_id IS NOT NULL))",
            name=op.f("ck_member_roles_scope"),
        ),
        sa.CheckConstraint(
            "role IN ('patrol_member', 'team_lead', 'supervisor', 'zone_coordinator', 'observer', 'admin')",
            name=op.f("ck_member_roles_role"),
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_member_roles_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["teams.id"],
            name=op.f("fk_member_roles_team_id_teams"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["zone_id"],
            ["cooperation_zones.id"],
            name=op.f("fk_member_roles_zone_id_cooperation_zones"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_member_roles")),
    )
    op.create_index(op.f("ix_member_roles_member_id"), "member_roles", ["member_id"], unique=False)
    # Device identifiers were stored in clear: keep working devices by hashing them in place.
    op.add_column("devices", sa.Column("token_hash", sa.String(length=64), nullable=True))
    op.add_column("devices", sa.Column("token_hint", sa.String(length=8), nullable=True))
    op.execute(
        "UPDATE devices SET token_hash = encode(sha256(convert_to(identifier, 'UTF8')), 'hex'), "
        "token_hint = right(identifier, 4)"
    )
    op.alter_column("devices", "token_hash", nullable=False)
    op.alter_column("devices", "token_hint", nullable=False)
    op.drop_constraint(op.f("uq_devices_identifier"), "devices", type_="unique")
    op.create_unique_constraint(op.f("uq_devices_token_hash"), "devices", ["token_hash"])
    op.drop_column("devices", "identifier")
    op.add_column("members", sa.Column("login", sa.String(length=64), nullable=True))
    op.add_column("members", sa.Column("password_hash", sa.Text(), nullable=True))
    op.add_column(
        "members",
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
    )
    op.create_unique_constraint(op.f("uq_members_login"), "members", ["login"])


def downgrade() -> None:
    """Revert this migration."""
    op.drop_constraint(op.f("uq_members_login"), "members", type_="unique")
    op.drop_column("members", "is_active")
    op.drop_column("members", "password_hash")
    op.drop_column("members", "login")
    # A hash cannot give the identifier back: such devices come back revoked.
    op.add_column("devices", sa.Column("identifier", sa.VARCHAR(length=128), nullable=True))
    op.execute(
        "UPDATE devices SET identifier = 'revoked-' || id, revoked_at = coalesce(revoked_at, now())"
    )
    op.alter_column("devices", "identifier", nullable=False)
    op.drop_constraint(op.f("uq_devices_token_hash"), "devices", type_="unique")
    op.create_unique_constraint(op.f("uq_devices_identifier"), "devices", ["identifier"])
    op.drop_column("devices", "token_hint")
    op.drop_column("devices", "token_hash")
    op.drop_index(op.f("ix_member_roles_member_id"), table_name="member_roles")
    op.drop_table("member_roles")
    op.drop_index(op.f("ix_web_sessions_member_id"), table_name="web_sessions")
    op.drop_table("web_sessions")
    op.drop_index(op.f("ix_api_tokens_member_id"), table_name="api_tokens")
    op.drop_table("api_tokens")
    op.drop_index("ix_audit_log_at", table_name="audit_log")
    op.drop_index("ix_audit_log_address_at", table_name="audit_log")
    op.drop_index("ix_audit_log_action_at", table_name="audit_log")
    op.drop_table("audit_log")
