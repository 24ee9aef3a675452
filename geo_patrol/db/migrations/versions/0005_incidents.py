# mypy: disable-error-code="attr-defined"
# (GeoAlchemy2 registers create_geospatial_table & co. on alembic.op at import time.)
"""Incidents: categories and the three-tier rules, reports, responsible sides, history, photos.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27
Introduced in: geo-patrol 0.1.0
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# The defaults of the three-tier rule (简单事件联村快速办, 复杂事件联乡镇会商办, 疑难事件联县协作办):
# the tier a report starts at by category and severity, and each tier's deadline in hours.
CATEGORIES = (
    (
        "illegal_discharge",
        "偷排/非法排污",
        "Illegal discharge",
        ("town", "town", "county", "county"),
        (12, 48, 120),
    ),
    (
        "aquaculture_pollution",
        "养殖污染",
        "Aquaculture pollution",
        ("village", "town", "town", "county"),
        (24, 72, 168),
    ),
    (
        "floating_waste",
        "水面漂浮物",
        "Floating waste",
        ("village", "village", "town", "town"),
        (24, 72, 168),
    ),
    (
        "black_odorous_water",
        "黑臭水体",
        "Black or odorous water",
        ("village", "town", "county", "county"),
        (24, 72, 168),
    ),
    (
        "illegal_fishing",
        "非法捕捞",
        "Illegal fishing",
        ("village", "village", "town", "town"),
        (24, 72, 168),
    ),
    (
        "bank_damage",
        "河岸损毁",
        "Bank damage",
        ("village", "town", "town", "county"),
        (48, 120, 240),
    ),
    (
        "border_dispute",
        "边界纠纷",
        "Border dispute",
        ("town", "town", "county", "county"),
        (48, 120, 240),
    ),
    ("other", "其他", "Other", ("village", "village", "town", "county"), (48, 120, 240)),
)
SEVERITIES = ("low", "medium", "high", "critical")
TIERS = ("village", "town", "county")

# The history of an incident is evidence: rows are appended, never changed or removed.
APPEND_ONLY = (
    """
    CREATE FUNCTION incident_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'incident history is append-only';
    END $$
    """,
    """
    CREATE TRIGGER incident_events_append_only BEFORE UPDATE OR DELETE ON incident_events
    FOR EACH ROW EXECUTE FUNCTION incident_events_append_only()
    """,
)


def seed() -> None:
    """Insert the default categories, tier rules and deadlines."""
    for code, name, name_en, tiers, hours in CATEGORIES:
        op.execute(
            sa.text(
                "INSERT INTO incident_categories (code, name, name_en) VALUES (:c, :n, :e)"
            ).bindparams(c=code, n=name, e=name_en)
        )
        for severity, tier in zip(SEVERITIES, tiers, strict=True):
            op.execute(
                sa.text(
                    "INSERT INTO tier_rules (category, severity, tier) VALUES (:c, :s, :t)"
                ).bindparams(c=code, s=severity, t=tier)
            )
        for tier, limit in zip(TIERS, hours, strict=True):
            op.execute(
                sa.text(
                    "INSERT INTO tier_deadlines (category, tier, hours) VALUES (:c, :t, :h)"
                ).bindparams(c=code, t=tier, h=limit)
            )


def upgrade() -> None:
    """Apply this migration."""
    op.create_table(
        "incident_categories",
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("name_en", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_incident_categories")),
    )
    op.create_geospatial_table(
        "incidents",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("client_id", sa.String(length=128), nullable=True),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("reporter_member_id", sa.Integer(), nullable=True),
        sa.Column("reporter_name", sa.Text(), nullable=True),
        sa.Column("reporter_contact", sa.Text(), nullable=True),
        sa.Column("address", sa.Text(), nullable=True),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "received_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("datum", sa.String(length=16), server_default=sa.text("'wgs84'"), nullable=False),
        sa.Column(
            "status", sa.String(length=16), server_default=sa.text("'reported'"), nullable=False
        ),
        sa.Column("tier", sa.String(length=16), nullable=False),
        sa.Column("deadline_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lead_code", sa.String(length=32), nullable=True),
        sa.Column("is_joint", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("zone_id", sa.Integer(), nullable=True),
        sa.Column("unrouted", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("segment_id", sa.Integer(), nullable=True),
        sa.Column("duplicate_of", sa.BigInteger(), nullable=True),
        sa.Column("patrol_id", sa.BigInteger(), nullable=True),
        sa.Column("reopen_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "severity IN ('low', 'medium', 'high', 'critical')", name=op.f("ck_incidents_severity")
        ),
        sa.CheckConstraint(
            "status IN ('reported', 'assigned', 'accepted', 'in_progress', 'resolved', 'verified', 'closed', 'reopened', 'rejected')",
            name=op.f("ck_incidents_status"),
        ),
        sa.CheckConstraint("tier IN ('village', 'town', 'county')", name=op.f("ck_incidents_tier")),
        sa.ForeignKeyConstraint(
            ["category"],
            ["incident_categories.code"],
            name=op.f("fk_incidents_category_incident_categories"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incidents")),
    )
    op.create_index(
        "ix_incidents_client_id",
        "incidents",
        ["source", "client_id"],
        unique=True,
        postgresql_where=sa.text("client_id IS NOT NULL"),
    )
    op.create_index(op.f("ix_incidents_duplicate_of"), "incidents", ["duplicate_of"], unique=False)
    op.create_geospatial_index(
        "ix_incidents_geom",
        "incidents",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(op.f("ix_incidents_lead_code"), "incidents", ["lead_code"], unique=False)
    op.create_index(
        "ix_incidents_status_deadline", "incidents", ["status", "deadline_at"], unique=False
    )
    op.create_table(
        "tier_deadlines",
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("tier", sa.String(length=16), nullable=False),
        sa.Column("hours", sa.Float(), nullable=False),
        sa.CheckConstraint(
            "tier IN ('village', 'town', 'county')", name=op.f("ck_tier_deadlines_tier")
        ),
        sa.ForeignKeyConstraint(
            ["category"],
            ["incident_categories.code"],
            name=op.f("fk_tier_deadlines_category_incident_categories"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("category", "tier", name=op.f("pk_tier_deadlines")),
    )
    op.create_table(
        "tier_rules",
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("tier", sa.String(length=16), nullable=False),
        sa.CheckConstraint(
            "severity IN ('low', 'medium', 'high', 'critical')", name=op.f("ck_tier_rules_severity")
        ),
        sa.CheckConstraint(
            "tier IN ('village', 'town', 'county')", name=op.f("ck_tier_rules_tier")
        ),
        sa.ForeignKeyConstraint(
            ["category"],
            ["incident_categories.code"],
            name=op.f("fk_tier_rules_category_incident_categories"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("category", "severity", name=op.f("pk_tier_rules")),
    )
    op.create_table(
        "incident_events",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("incident_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.Text(), nullable=True),
        sa.Column("from_status", sa.String(length=16), nullable=True),
        sa.Column("to_status", sa.String(length=16), nullable=True),
        sa.Column("from_tier", sa.String(length=16), nullable=True),
        sa.Column("to_tier", sa.String(length=16), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incidents.id"], name=op.f("fk_incident_events_incident_id_incidents")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident_events")),
    )
    op.create_index(
        op.f("ix_incident_events_incident_id"), "incident_events", ["incident_id"], unique=False
    )
    op.create_table(
        "incident_photos",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("incident_id", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("media_type", sa.String(length=32), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_incident_photos_incident_id_incidents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident_photos")),
    )
    op.create_index(
        op.f("ix_incident_photos_incident_id"), "incident_photos", ["incident_id"], unique=False
    )
    op.create_table(
        "incident_responsibles",
        sa.Column("incident_id", sa.BigInteger(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("role", sa.String(length=8), nullable=False),
        sa.Column("direct", sa.Boolean(), nullable=False),
        sa.CheckConstraint("role IN ('lead', 'co')", name=op.f("ck_incident_responsibles_role")),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_incident_responsibles_incident_id_incidents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("incident_id", "code", name=op.f("pk_incident_responsibles")),
    )
    op.create_table(
        "incident_verifications",
        sa.Column("incident_id", sa.BigInteger(), nullable=False),
        sa.Column("patrol_id", sa.BigInteger(), nullable=False),
        sa.Column("passed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("distance_m", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_incident_verifications_incident_id_incidents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["patrol_id"],
            ["patrols.id"],
            name=op.f("fk_incident_verifications_patrol_id_patrols"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("incident_id", "patrol_id", name=op.f("pk_incident_verifications")),
    )
    seed()
    for statement in APPEND_ONLY:
        op.execute(statement)


def downgrade() -> None:
    """Revert this migration."""
    op.execute("DROP FUNCTION incident_events_append_only() CASCADE")
    op.drop_table("incident_verifications")
    op.drop_table("incident_responsibles")
    op.drop_index(op.f("ix_incident_photos_incident_id"), table_name="incident_photos")
    op.drop_table("incident_photos")
    op.drop_index(op.f("ix_incident_events_incident_id"), table_name="incident_events")
    op.drop_table("incident_events")
    op.drop_table("tier_rules")
    op.drop_table("tier_deadlines")
    op.drop_index("ix_incidents_status_deadline", table_name="incidents")
    op.drop_index(op.f("ix_incidents_lead_code"), table_name="incidents")
    op.drop_geospatial_index(
        "ix_incidents_geom", table_name="incidents", postgresql_using="gist", column_name="geom"
    )
    op.drop_index(op.f("ix_incidents_duplicate_of"), table_name="incidents")
    op.drop_index(
        "ix_incidents_client_id",
        table_name="incidents",
        postgresql_where=sa.text("client_id IS NOT NULL"),
    )
    op.drop_geospatial_table("incidents")
    op.drop_table("incident_categories")
