# mypy: disable-error-code="attr-defined"
# (GeoAlchemy2 registers create_geospatial_table & co. on alembic.op at import time.)
"""Patrols: uploads, cleaned tracks, raw points, attribution, crossings, river coverage.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
Introduced in: geo-patrol 0.1.0
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this migration."""
    op.create_geospatial_table(
        "patrols",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("mode", sa.String(length=8), server_default=sa.text("'foot'"), nullable=False),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("device_id", sa.Integer(), nullable=True),
        sa.Column("upload_id", sa.BigInteger(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("points_raw", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("points_kept", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("dropped", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("length_m", sa.Float(), nullable=True),
        sa.Column("duration_s", sa.Float(), nullable=True),
        sa.Column("quality_flags", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("stale", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column(
            "track",
            Geometry(
                geometry_type="LINESTRING",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
            ),
            nullable=True,
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("mode IN ('foot', 'boat', 'car')", name=op.f("ck_patrols_mode")),
        sa.CheckConstraint("source IN ('upload', 'live')", name=op.f("ck_patrols_source")),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_patrols_team_id_teams"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patrols")),
    )
    op.create_index(
        "ix_patrols_open_device",
        "patrols",
        ["device_id"],
        unique=True,
        postgresql_where=sa.text("closed_at IS NULL AND source = 'live'"),
    )
    op.create_index("ix_patrols_team_started", "patrols", ["team_id", "started_at"], unique=False)
    op.create_geospatial_index(
        "ix_patrols_track",
        "patrols",
        ["track"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_table(
        "uploads",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("client_upload_id", sa.String(length=128), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("format", sa.String(length=16), nullable=False),
        sa.Column("filename", sa.Text(), nullable=False),
        sa.Column("datum", sa.String(length=16), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("device_id", sa.Integer(), nullable=True),
        sa.Column(
            "received_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("patrol_id", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_uploads_team_id_teams"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_uploads")),
        sa.UniqueConstraint("team_id", "sha256", name=op.f("uq_uploads_team_id_sha256")),
    )
    op.create_index(
        "ix_uploads_team_client_id",
        "uploads",
        ["team_id", "client_upload_id"],
        unique=True,
        postgresql_where=sa.text("client_upload_id IS NOT NULL"),
    )
    op.create_geospatial_table(
        "patrol_coverage",
        sa.Column("patrol_id", sa.BigInteger(), nullable=False),
        sa.Column("segment_id", sa.Integer(), nullable=False),
        sa.Column("covered_m", sa.Float(), nullable=False),
        sa.Column("fraction", sa.Float(), nullable=False),
        sa.Column("ranges", postgresql.NUMMULTIRANGE(), nullable=False),
        sa.Column(
            "covered",
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
        sa.ForeignKeyConstraint(
            ["patrol_id"],
            ["patrols.id"],
            name=op.f("fk_patrol_coverage_patrol_id_patrols"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["segment_id"],
            ["river_segments.id"],
            name=op.f("fk_patrol_coverage_segment_id_river_segments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("patrol_id", "segment_id", name=op.f("pk_patrol_coverage")),
    )
    op.create_geospatial_index(
        "ix_patrol_coverage_geom",
        "patrol_coverage",
        ["covered"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_geospatial_table(
        "patrol_crossings",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("patrol_id", sa.BigInteger(), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("from_code", sa.String(length=32), nullable=False),
        sa.Column("to_code", sa.String(length=32), nullable=False),
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
        sa.ForeignKeyConstraint(
            ["patrol_id"],
            ["patrols.id"],
            name=op.f("fk_patrol_crossings_patrol_id_patrols"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patrol_crossings")),
    )
    op.create_index(
        op.f("ix_patrol_crossings_patrol_id"), "patrol_crossings", ["patrol_id"], unique=False
    )
    op.create_table(
        "patrol_jurisdictions",
        sa.Column("patrol_id", sa.BigInteger(), nullable=False),
        sa.Column("jurisdiction_id", sa.BigInteger(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("length_m", sa.Float(), nullable=False),
        sa.Column("duration_s", sa.Float(), nullable=False),
        sa.Column("entered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("exited_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["jurisdiction_id"],
            ["jurisdictions.id"],
            name=op.f("fk_patrol_jurisdictions_jurisdiction_id_jurisdictions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["patrol_id"],
            ["patrols.id"],
            name=op.f("fk_patrol_jurisdictions_patrol_id_patrols"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "patrol_id", "jurisdiction_id", name=op.f("pk_patrol_jurisdictions")
        ),
    )
    op.create_index(
        op.f("ix_patrol_jurisdictions_code"), "patrol_jurisdictions", ["code"], unique=False
    )
    op.create_table(
        "patrol_members",
        sa.Column("patrol_id", sa.BigInteger(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_patrol_members_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["patrol_id"],
            ["patrols.id"],
            name=op.f("fk_patrol_members_patrol_id_patrols"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("patrol_id", "member_id", name=op.f("pk_patrol_members")),
    )
    op.create_geospatial_table(
        "patrol_points",
        sa.Column("patrol_id", sa.BigInteger(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("ord", sa.Integer(), nullable=True),
        sa.Column("time", sa.DateTime(timezone=True), nullable=True),
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
        sa.Column("ele", sa.Float(), nullable=True),
        sa.Column("accuracy_m", sa.Float(), nullable=True),
        sa.Column("live", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("mock", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("drop_reason", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["patrol_id"],
            ["patrols.id"],
            name=op.f("fk_patrol_points_patrol_id_patrols"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("patrol_id", "seq", name=op.f("pk_patrol_points")),
    )
    op.create_geospatial_index(
        "ix_patrol_points_geom",
        "patrol_points",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(
        "ix_patrol_points_live_time",
        "patrol_points",
        ["patrol_id", "time"],
        unique=True,
        postgresql_where=sa.text("live"),
    )
    op.create_index(
        "ix_patrol_points_patrol_ord", "patrol_points", ["patrol_id", "ord"], unique=False
    )


def downgrade() -> None:
    """Revert this migration."""
    op.drop_index("ix_patrol_points_patrol_ord", table_name="patrol_points")
    op.drop_index(
        "ix_patrol_points_live_time", table_name="patrol_points", postgresql_where=sa.text("live")
    )
    op.drop_geospatial_index(
        "ix_patrol_points_geom",
        table_name="patrol_points",
        postgresql_using="gist",
        column_name="geom",
    )
    op.drop_geospatial_table("patrol_points")
    op.drop_table("patrol_members")
    op.drop_index(op.f("ix_patrol_jurisdictions_code"), table_name="patrol_jurisdictions")
    op.drop_table("patrol_jurisdictions")
    op.drop_index(op.f("ix_patrol_crossings_patrol_id"), table_name="patrol_crossings")
    op.drop_geospatial_table("patrol_crossings")
    op.drop_geospatial_index(
        "ix_patrol_coverage_geom",
        table_name="patrol_coverage",
        postgresql_using="gist",
        column_name="covered",
    )
    op.drop_geospatial_table("patrol_coverage")
    op.drop_index(
        "ix_uploads_team_client_id",
        table_name="uploads",
        postgresql_where=sa.text("client_upload_id IS NOT NULL"),
    )
    op.drop_table("uploads")
    op.drop_geospatial_index(
        "ix_patrols_track", table_name="patrols", postgresql_using="gist", column_name="track"
    )
    op.drop_index("ix_patrols_team_started", table_name="patrols")
    op.drop_index(
        "ix_patrols_open_device",
        table_name="patrols",
        postgresql_where=sa.text("closed_at IS NULL AND source = 'live'"),
    )
    op.drop_geospatial_table("patrols")
