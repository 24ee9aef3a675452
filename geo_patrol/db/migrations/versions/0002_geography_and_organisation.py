# mypy: disable-error-code="attr-defined"
# (GeoAlchemy2 registers create_geospatial_table & co. on alembic.op at import time.)
"""Jurisdictions (versioned) with subdivided parts, zones, rivers, villages, teams, members.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
Introduced in: geo-patrol 0.1.0
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Keep jurisdiction_parts in step with jurisdictions: statement-level triggers, so a bulk
# import subdivides all its rows in one set-based statement. Parts of a row whose geometry
# did not change (same geom_hash) are left alone.
PARTS_TRIGGER = (
    """
    CREATE FUNCTION jurisdiction_parts_on_insert() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO jurisdiction_parts (jurisdiction_id, geom)
        SELECT n.id, (ST_Dump(ST_Subdivide(n.geom, 255))).geom FROM new_rows n;
        RETURN NULL;
    END $$
    """,
    """
    CREATE FUNCTION jurisdiction_parts_on_update() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        DELETE FROM jurisdiction_parts p USING new_rows n, old_rows o
        WHERE p.jurisdiction_id = n.id AND o.id = n.id AND o.geom_hash <> n.geom_hash;
        INSERT INTO jurisdiction_parts (jurisdiction_id, geom)
        SELECT n.id, (ST_Dump(ST_Subdivide(n.geom, 255))).geom
        FROM new_rows n JOIN old_rows o ON o.id = n.id
        WHERE o.geom_hash <> n.geom_hash;
        RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER jurisdiction_parts_insert AFTER INSERT ON jurisdictions
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION jurisdiction_parts_on_insert()
    """,
    """
    CREATE TRIGGER jurisdiction_parts_update AFTER UPDATE ON jurisdictions
    REFERENCING NEW TABLE AS new_rows OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION jurisdiction_parts_on_update()
    """,
)


def upgrade() -> None:
    """Apply this migration."""
    op.create_table(
        "cooperation_zones",
        sa.Column("id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("border_zone_width_m", sa.Float(), server_default=sa.text("200"), nullable=False),
        sa.CheckConstraint("border_zone_width_m >= 0", name=op.f("ck_cooperation_zones_width")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cooperation_zones")),
        sa.UniqueConstraint("code", name=op.f("uq_cooperation_zones_code")),
    )
    op.create_geospatial_table(
        "jurisdictions",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("name_en", sa.Text(), nullable=True),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("parent_code", sa.String(length=32), nullable=True),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="MULTIPOLYGON",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("geom_hash", sa.String(length=32), nullable=False),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_to", sa.DateTime(timezone=True), nullable=True),
        sa.Column("source", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "level IN ('province', 'city', 'county', 'town', 'village', 'grid')",
            name=op.f("ck_jurisdictions_level"),
        ),
        sa.CheckConstraint(
            "valid_to IS NULL OR valid_to > valid_from", name=op.f("ck_jurisdictions_validity")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jurisdictions")),
        sa.UniqueConstraint("code", "valid_from", name=op.f("uq_jurisdictions_code_valid_from")),
    )
    op.create_index(
        "ix_jurisdictions_code_in_force",
        "jurisdictions",
        ["code"],
        unique=True,
        postgresql_where=sa.text("valid_to IS NULL"),
    )
    op.create_geospatial_index(
        "ix_jurisdictions_geom",
        "jurisdictions",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index("ix_jurisdictions_parent_code", "jurisdictions", ["parent_code"], unique=False)
    # Two versions of one code may never be in force at the same moment.
    op.execute(
        "ALTER TABLE jurisdictions ADD CONSTRAINT ex_jurisdictions_one_version_at_a_time "
        "EXCLUDE USING gist (code WITH =, tstzrange(valid_from, valid_to) WITH &&)"
    )
    op.create_table(
        "members",
        sa.Column("id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("home_jurisdiction_code", sa.String(length=32), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_members")),
        sa.UniqueConstraint("phone", name=op.f("uq_members_phone")),
    )
    op.create_index(
        op.f("ix_members_home_jurisdiction_code"),
        "members",
        ["home_jurisdiction_code"],
        unique=False,
    )
    op.create_geospatial_table(
        "rivers",
        sa.Column("id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("name_en", sa.Text(), nullable=True),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="MULTILINESTRING",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("geom_hash", sa.String(length=32), nullable=False),
        sa.Column("source", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rivers")),
        sa.UniqueConstraint("code", name=op.f("uq_rivers_code")),
    )
    op.create_geospatial_index(
        "ix_rivers_geom",
        "rivers",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_geospatial_table(
        "villages",
        sa.Column("id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("village_code", sa.String(length=32), nullable=True),
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
        sa.PrimaryKeyConstraint("id", name=op.f("pk_villages")),
        sa.UniqueConstraint("code", name=op.f("uq_villages_code")),
    )
    op.create_geospatial_index(
        "ix_villages_geom",
        "villages",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_table(
        "cooperation_zone_members",
        sa.Column("zone_id", sa.Integer(), nullable=False),
        sa.Column("jurisdiction_code", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["zone_id"],
            ["cooperation_zones.id"],
            name=op.f("fk_cooperation_zone_members_zone_id_cooperation_zones"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "zone_id", "jurisdiction_code", name=op.f("pk_cooperation_zone_members")
        ),
    )
    op.create_table(
        "devices",
        sa.Column("id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("label", sa.Text(), nullable=False),
        sa.Column("identifier", sa.String(length=128), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_devices_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_devices")),
        sa.UniqueConstraint("identifier", name=op.f("uq_devices_identifier")),
    )
    op.create_index(op.f("ix_devices_member_id"), "devices", ["member_id"], unique=False)
    op.create_geospatial_table(
        "jurisdiction_parts",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("jurisdiction_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="POLYGON",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["jurisdiction_id"],
            ["jurisdictions.id"],
            name=op.f("fk_jurisdiction_parts_jurisdiction_id_jurisdictions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jurisdiction_parts")),
    )
    op.create_geospatial_index(
        "ix_jurisdiction_parts_geom",
        "jurisdiction_parts",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(
        op.f("ix_jurisdiction_parts_jurisdiction_id"),
        "jurisdiction_parts",
        ["jurisdiction_id"],
        unique=False,
    )
    for statement in PARTS_TRIGGER:
        op.execute(statement)
    op.create_geospatial_table(
        "river_segments",
        sa.Column("id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column("river_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="LINESTRING",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("length_m", sa.Float(), nullable=False),
        sa.Column("is_border", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.ForeignKeyConstraint(
            ["river_id"],
            ["rivers.id"],
            name=op.f("fk_river_segments_river_id_rivers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_river_segments")),
        sa.UniqueConstraint("river_id", "seq", name=op.f("uq_river_segments_river_id_seq")),
    )
    op.create_geospatial_index(
        "ix_river_segments_geom",
        "river_segments",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_table(
        "teams",
        sa.Column("id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("zone_id", sa.Integer(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["zone_id"],
            ["cooperation_zones.id"],
            name=op.f("fk_teams_zone_id_cooperation_zones"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_teams")),
        sa.UniqueConstraint("name", name=op.f("uq_teams_name")),
    )
    op.create_table(
        "zone_agreements",
        sa.Column("id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column("zone_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("signed_on", sa.Date(), nullable=True),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["zone_id"],
            ["cooperation_zones.id"],
            name=op.f("fk_zone_agreements_zone_id_cooperation_zones"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_zone_agreements")),
    )
    op.create_index(
        op.f("ix_zone_agreements_zone_id"), "zone_agreements", ["zone_id"], unique=False
    )
    op.create_table(
        "river_segment_sides",
        sa.Column("segment_id", sa.Integer(), nullable=False),
        sa.Column("jurisdiction_code", sa.String(length=32), nullable=False),
        sa.Column("river_chief", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["segment_id"],
            ["river_segments.id"],
            name=op.f("fk_river_segment_sides_segment_id_river_segments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "segment_id", "jurisdiction_code", name=op.f("pk_river_segment_sides")
        ),
    )
    op.create_table(
        "team_members",
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=16), server_default=sa.text("'member'"), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_team_members_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["teams.id"],
            name=op.f("fk_team_members_team_id_teams"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("team_id", "member_id", name=op.f("pk_team_members")),
    )


def downgrade() -> None:
    """Revert this migration."""
    op.drop_table("team_members")
    op.drop_table("river_segment_sides")
    op.drop_index(op.f("ix_zone_agreements_zone_id"), table_name="zone_agreements")
    op.drop_table("zone_agreements")
    op.drop_table("teams")
    op.drop_geospatial_index(
        "ix_river_segments_geom",
        table_name="river_segments",
        postgresql_using="gist",
        column_name="geom",
    )
    op.drop_geospatial_table("river_segments")
    op.drop_index(op.f("ix_jurisdiction_parts_jurisdiction_id"), table_name="jurisdiction_parts")
    op.drop_geospatial_index(
        "ix_jurisdiction_parts_geom",
        table_name="jurisdiction_parts",
        postgresql_using="gist",
        column_name="geom",
    )
    op.drop_geospatial_table("jurisdiction_parts")
    op.execute("DROP FUNCTION jurisdiction_parts_on_insert() CASCADE")
    op.execute("DROP FUNCTION jurisdiction_parts_on_update() CASCADE")
    op.drop_index(op.f("ix_devices_member_id"), table_name="devices")
    op.drop_table("devices")
    op.drop_table("cooperation_zone_members")
    op.drop_geospatial_index(
        "ix_villages_geom", table_name="villages", postgresql_using="gist", column_name="geom"
    )
    op.drop_geospatial_table("villages")
    op.drop_geospatial_index(
        "ix_rivers_geom", table_name="rivers", postgresql_using="gist", column_name="geom"
    )
    op.drop_geospatial_table("rivers")
    op.drop_index(op.f("ix_members_home_jurisdiction_code"), table_name="members")
    op.drop_table("members")
    op.drop_index("ix_jurisdictions_parent_code", table_name="jurisdictions")
    op.drop_geospatial_index(
        "ix_jurisdictions_geom",
        table_name="jurisdictions",
        postgresql_using="gist",
        column_name="geom",
    )
    op.drop_index(
        "ix_jurisdictions_code_in_force",
        table_name="jurisdictions",
        postgresql_where=sa.text("valid_to IS NULL"),
    )
    op.drop_geospatial_table("jurisdictions")
    op.drop_table("cooperation_zones")
