"""Joint meetings of a zone, their attendees and agenda, their decisions (议定事项) with owners,
links and an append-only history, and the packs shown at them.

A decision's history is evidence like an incident's: decision_updates refuses UPDATE and
DELETE (a trigger), and the decision's own `status` is the last step of it, kept for lists.
A pack is kept as its bytes with their SHA-256, so the file shown at a meeting can be shown
again unchanged.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06
Introduced in: geo-patrol 0.5.0
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A decision's history is evidence: rows are appended, never changed or removed.
APPEND_ONLY = (
    """
    CREATE FUNCTION decision_updates_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'decision history is append-only';
    END $$
    """,
    """
    CREATE TRIGGER decision_updates_append_only BEFORE UPDATE OR DELETE ON decision_updates
    FOR EACH ROW EXECUTE FUNCTION decision_updates_append_only()
    """,
)


def upgrade() -> None:
    """Apply this migration."""
    op.create_table(
        "meetings",
        sa.Column("id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column("zone_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("held_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("place", sa.Text(), nullable=True),
        sa.Column("period_from", sa.Date(), nullable=False),
        sa.Column("period_to", sa.Date(), nullable=False),
        sa.Column(
            "status", sa.String(length=16), server_default=sa.text("'planned'"), nullable=False
        ),
        sa.Column("minutes", sa.Text(), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("status IN ('planned', 'held')", name=op.f("ck_meetings_status")),
        sa.CheckConstraint("period_to >= period_from", name=op.f("ck_meetings_period")),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["members.id"],
            name=op.f("fk_meetings_created_by_members"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["zone_id"],
            ["cooperation_zones.id"],
            name=op.f("fk_meetings_zone_id_cooperation_zones"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meetings")),
    )
    op.create_index(op.f("ix_meetings_created_by"), "meetings", ["created_by"], unique=False)
    op.create_index("ix_meetings_zone_held", "meetings", ["zone_id", "held_at"], unique=False)
    op.create_table(
        "meeting_agenda_items",
        sa.Column("id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("target_id", sa.BigInteger(), nullable=True),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column(
            "detail",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "kind IN ('decision', 'incident', 'uncovered', 'chief', 'section', 'other')",
            name=op.f("ck_meeting_agenda_items_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["meetings.id"],
            name=op.f("fk_meeting_agenda_items_meeting_id_meetings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meeting_agenda_items")),
        sa.UniqueConstraint(
            "meeting_id", "position", name=op.f("uq_meeting_agenda_items_meeting_id_position")
        ),
    )
    op.create_table(
        "meeting_attendees",
        sa.Column("id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("side_code", sa.String(length=32), nullable=True),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("post", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "member_id IS NOT NULL OR name IS NOT NULL", name=op.f("ck_meeting_attendees_who")
        ),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["meetings.id"],
            name=op.f("fk_meeting_attendees_meeting_id_meetings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_meeting_attendees_member_id_members"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meeting_attendees")),
    )
    op.create_index(
        op.f("ix_meeting_attendees_meeting_id"), "meeting_attendees", ["meeting_id"], unique=False
    )
    op.create_table(
        "meeting_decisions",
        sa.Column("id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), server_default=sa.text("'open'"), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "status IN ('open', 'in_progress', 'done')", name=op.f("ck_meeting_decisions_status")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["members.id"],
            name=op.f("fk_meeting_decisions_created_by_members"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["meetings.id"],
            name=op.f("fk_meeting_decisions_meeting_id_meetings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meeting_decisions")),
        sa.UniqueConstraint(
            "meeting_id", "position", name=op.f("uq_meeting_decisions_meeting_id_position")
        ),
    )
    op.create_index(
        "ix_meeting_decisions_status_deadline",
        "meeting_decisions",
        ["status", "deadline"],
        unique=False,
    )
    op.create_table(
        "meeting_packs",
        sa.Column("id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("kept_by", sa.Integer(), nullable=True),
        sa.Column(
            "kept_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["kept_by"],
            ["members.id"],
            name=op.f("fk_meeting_packs_kept_by_members"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["meetings.id"],
            name=op.f("fk_meeting_packs_meeting_id_meetings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meeting_packs")),
        sa.UniqueConstraint(
            "meeting_id", "sha256", name=op.f("uq_meeting_packs_meeting_id_sha256")
        ),
    )
    op.create_table(
        "decision_links",
        sa.Column("decision_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("target_id", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('incident', 'segment', 'section', 'chief')",
            name=op.f("ck_decision_links_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["decision_id"],
            ["meeting_decisions.id"],
            name=op.f("fk_decision_links_decision_id_meeting_decisions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("decision_id", "kind", "target_id", name=op.f("pk_decision_links")),
    )
    op.create_table(
        "decision_owners",
        sa.Column("id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column("decision_id", sa.Integer(), nullable=False),
        sa.Column("side_code", sa.String(length=32), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["decision_id"],
            ["meeting_decisions.id"],
            name=op.f("fk_decision_owners_decision_id_meeting_decisions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_decision_owners_member_id_members"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_decision_owners")),
    )
    op.create_index(
        op.f("ix_decision_owners_member_id"), "decision_owners", ["member_id"], unique=False
    )
    op.create_index(
        "ix_decision_owners_unique",
        "decision_owners",
        ["decision_id", "side_code", sa.literal_column("coalesce(member_id, 0)")],
        unique=True,
    )
    op.create_table(
        "decision_updates",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("decision_id", sa.Integer(), nullable=False),
        sa.Column(
            "at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.Text(), nullable=True),
        sa.Column("from_status", sa.String(length=16), nullable=True),
        sa.Column("to_status", sa.String(length=16), nullable=True),
        sa.Column("to_deadline", sa.Date(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "to_status IS NULL OR to_status IN ('open', 'in_progress', 'done')",
            name=op.f("ck_decision_updates_to_status"),
        ),
        sa.ForeignKeyConstraint(
            ["decision_id"],
            ["meeting_decisions.id"],
            name=op.f("fk_decision_updates_decision_id_meeting_decisions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_decision_updates")),
    )
    op.create_index(
        op.f("ix_decision_updates_decision_id"), "decision_updates", ["decision_id"], unique=False
    )
    for statement in APPEND_ONLY:
        op.execute(statement)


def downgrade() -> None:
    """Revert this migration (every meeting, decision and kept pack is dropped)."""
    op.execute("DROP FUNCTION decision_updates_append_only() CASCADE")
    op.drop_index(op.f("ix_decision_updates_decision_id"), table_name="decision_updates")
    op.drop_table("decision_updates")
    op.drop_index("ix_decision_owners_unique", table_name="decision_owners")
    op.drop_index(op.f("ix_decision_owners_member_id"), table_name="decision_owners")
    op.drop_table("decision_owners")
    op.drop_table("decision_links")
    op.drop_table("meeting_packs")
    op.drop_index("ix_meeting_decisions_status_deadline", table_name="meeting_decisions")
    op.drop_table("meeting_decisions")
    op.drop_index(op.f("ix_meeting_attendees_meeting_id"), table_name="meeting_attendees")
    op.drop_table("meeting_attendees")
    op.drop_table("meeting_agenda_items")
    op.drop_index("ix_meetings_zone_held", table_name="meetings")
    op.drop_index(op.f("ix_meetings_created_by"), table_name="meetings")
    op.drop_table("meetings")
