# mypy: disable-error-code="attr-defined"
# (GeoAlchemy2 registers create_geospatial_table & co. on alembic.op at import time.)
"""Water-quality monitoring sections (交界断面) and their readings, the leads of the cases
they open, and the flow of rivers.

A section is a point snapped to its river and segment; a reading keeps what was measured,
its class by GB 3838-2002 (1..6, 6 = 劣V), the parameters that decided it and their
exceedance factors, and the incident it opened. Rivers learn which way they flow (NULL: not
known) and their segments their order along the flow, so "upstream" can be asked.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06
Introduced in: geo-patrol 0.5.0
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Existing rivers do not know their flow: their segments stay without a flow order until an
# import (or `geo-patrol rivers flow`) says which way they run.

# The category of the cases a section's reading opens (water.rule), tiered like the other
# pollution categories: a town matter unless high, answered within a day to a week.
WATER_CATEGORY = (
    "INSERT INTO incident_categories (code, name, name_en)"
    " VALUES ('water_quality', '断面水质超标', 'Water quality at a section')"
    " ON CONFLICT (code) DO NOTHING",
    "INSERT INTO tier_rules (category, severity, tier) VALUES ('water_quality', 'low', 'town'),"
    " ('water_quality', 'medium', 'town'), ('water_quality', 'high', 'county'),"
    " ('water_quality', 'critical', 'county') ON CONFLICT DO NOTHING",
    "INSERT INTO tier_deadlines (category, tier, hours) VALUES ('water_quality', 'village', 24),"
    " ('water_quality', 'town', 72), ('water_quality', 'county', 168) ON CONFLICT DO NOTHING",
)
# Kept on downgrade while an incident still has it (incidents are never dropped here).
DROP_UNUSED_CATEGORY = (
    "DELETE FROM incident_categories WHERE code = 'water_quality'"
    " AND NOT EXISTS (SELECT 1 FROM incidents WHERE category = 'water_quality')"
)


def upgrade() -> None:
    """Apply this migration."""
    op.create_geospatial_table(
        "water_sections",
        sa.Column("id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("name_en", sa.Text(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column(
            "water_body", sa.String(length=8), server_default=sa.text("'river'"), nullable=False
        ),
        sa.Column("target_class", sa.Integer(), nullable=False),
        sa.Column("side_code", sa.String(length=32), nullable=True),
        sa.Column("river_id", sa.Integer(), nullable=False),
        sa.Column("segment_id", sa.Integer(), nullable=True),
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
        sa.Column(
            "given_geom",
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
        sa.Column("snap_distance_m", sa.Float(), nullable=False),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "kind IN ('national', 'provincial', 'municipal', 'county', 'border')",
            name=op.f("ck_water_sections_kind"),
        ),
        sa.CheckConstraint(
            "water_body IN ('river', 'lake')", name=op.f("ck_water_sections_water_body")
        ),
        sa.CheckConstraint(
            "target_class BETWEEN 1 AND 5", name=op.f("ck_water_sections_target_class")
        ),
        sa.ForeignKeyConstraint(
            ["river_id"],
            ["rivers.id"],
            name=op.f("fk_water_sections_river_id_rivers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["segment_id"],
            ["river_segments.id"],
            name=op.f("fk_water_sections_segment_id_river_segments"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_water_sections")),
        sa.UniqueConstraint("code", name=op.f("uq_water_sections_code")),
    )
    op.create_geospatial_index(
        "ix_water_sections_geom",
        "water_sections",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(
        op.f("ix_water_sections_river_id"), "water_sections", ["river_id"], unique=False
    )
    op.create_index(
        op.f("ix_water_sections_segment_id"), "water_sections", ["segment_id"], unique=False
    )
    op.create_table(
        "water_readings",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("section_id", sa.Integer(), nullable=False),
        sa.Column("sampled_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("measured", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("class", sa.Integer(), nullable=True),
        sa.Column(
            "deciding",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "factors",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("target_class", sa.Integer(), nullable=False),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column(
            "imported_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("incident_id", sa.BigInteger(), nullable=True),
        sa.CheckConstraint(
            "class IS NULL OR class BETWEEN 1 AND 6", name=op.f("ck_water_readings_class")
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_water_readings_incident_id_incidents"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["section_id"],
            ["water_sections.id"],
            name=op.f("fk_water_readings_section_id_water_sections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_water_readings")),
        sa.UniqueConstraint(
            "section_id", "sampled_at", name=op.f("uq_water_readings_section_id_sampled_at")
        ),
    )
    op.create_index(
        op.f("ix_water_readings_incident_id"), "water_readings", ["incident_id"], unique=False
    )
    op.create_table(
        "water_leads",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("incident_id", sa.BigInteger(), nullable=False),
        sa.Column("reading_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("patrol_id", sa.BigInteger(), nullable=True),
        sa.Column("lead_incident_id", sa.BigInteger(), nullable=True),
        sa.Column("segment_id", sa.Integer(), nullable=True),
        sa.Column("from_fraction", sa.Float(), nullable=True),
        sa.Column("to_fraction", sa.Float(), nullable=True),
        sa.Column("upstream_m", sa.Float(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "(kind = 'patrol') = (patrol_id IS NOT NULL) AND (kind = 'incident') = (lead_incident_id IS NOT NULL) AND (kind = 'uncovered') = (segment_id IS NOT NULL)",
            name=op.f("ck_water_leads_target"),
        ),
        sa.CheckConstraint(
            "kind IN ('patrol', 'incident', 'uncovered')", name=op.f("ck_water_leads_kind")
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_water_leads_incident_id_incidents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["lead_incident_id"],
            ["incidents.id"],
            name=op.f("fk_water_leads_lead_incident_id_incidents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["patrol_id"],
            ["patrols.id"],
            name=op.f("fk_water_leads_patrol_id_patrols"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["reading_id"],
            ["water_readings.id"],
            name=op.f("fk_water_leads_reading_id_water_readings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["segment_id"],
            ["river_segments.id"],
            name=op.f("fk_water_leads_segment_id_river_segments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_water_leads")),
    )
    op.create_index(
        op.f("ix_water_leads_incident_id"), "water_leads", ["incident_id"], unique=False
    )
    op.add_column("river_segments", sa.Column("flow_order", sa.Integer(), nullable=True))
    op.add_column("river_segments", sa.Column("flow_start_m", sa.Float(), nullable=True))
    op.add_column("rivers", sa.Column("flow", sa.String(length=16), nullable=True))
    for statement in WATER_CATEGORY:
        op.execute(statement)
    op.create_check_constraint(
        op.f("ck_rivers_flow"), "rivers", "flow IS NULL OR flow IN ('as_drawn', 'reversed')"
    )


def downgrade() -> None:
    """Revert this migration (every section and reading is dropped; rivers forget their flow)."""
    op.drop_constraint(op.f("ck_rivers_flow"), "rivers", type_="check")
    op.execute(DROP_UNUSED_CATEGORY)
    op.drop_column("rivers", "flow")
    op.drop_column("river_segments", "flow_start_m")
    op.drop_column("river_segments", "flow_order")
    op.drop_index(op.f("ix_water_leads_incident_id"), table_name="water_leads")
    op.drop_table("water_leads")
    op.drop_index(op.f("ix_water_readings_incident_id"), table_name="water_readings")
    op.drop_table("water_readings")
    op.drop_index(op.f("ix_water_sections_segment_id"), table_name="water_sections")
    op.drop_index(op.f("ix_water_sections_river_id"), table_name="water_sections")
    op.drop_geospatial_index(
        "ix_water_sections_geom",
        table_name="water_sections",
        postgresql_using="gist",
        column_name="geom",
    )
    op.drop_geospatial_table("water_sections")
