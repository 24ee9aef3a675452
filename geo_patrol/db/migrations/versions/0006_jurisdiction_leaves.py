# mypy: disable-error-code="attr-defined"
# (GeoAlchemy2 registers create_geospatial_table & co. on alembic.op at import time.)
"""Leaf pieces: the area of each jurisdiction in force that none of its children covers.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28
Introduced in: geo-patrol 0.1.0
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A point lies in about one leaf piece instead of one part per level (six in the demo), so
# "the lowest-level jurisdiction containing each point" becomes one index probe per point.
# Only versions in force (valid_to IS NULL) have leaves; lookups at an earlier moment use
# jurisdiction_parts. Statement-level triggers rebuild the leaves of the changed rows and
# of their parents (a new, moved or removed child changes its parent's leaf area).
# The level order is frozen here as it was when this migration was written.
LEAVES_TRIGGER = (
    """
    CREATE FUNCTION jurisdiction_leaves_rebuild(codes text[]) RETURNS void
    LANGUAGE plpgsql AS $$
    DECLARE
        levels CONSTANT text[] := ARRAY['province', 'city', 'county', 'town', 'village', 'grid'];
    BEGIN
        DELETE FROM jurisdiction_leaves l USING jurisdictions j
        WHERE j.id = l.jurisdiction_id AND j.code = ANY(codes);
        INSERT INTO jurisdiction_leaves (jurisdiction_id, geom)
        SELECT j.id, (ST_Dump(ST_Subdivide(ST_CollectionExtract(
                   coalesce(ST_Difference(j.geom, c.geom), j.geom), 3), 255))).geom
        FROM jurisdictions j
        LEFT JOIN LATERAL (
            SELECT ST_Union(k.geom) AS geom FROM jurisdictions k
            WHERE k.parent_code = j.code AND k.valid_to IS NULL
              AND array_position(levels, k.level::text) > array_position(levels, j.level::text)
        ) c ON true
        WHERE j.code = ANY(codes) AND j.valid_to IS NULL;
    END $$
    """,
    """
    CREATE FUNCTION jurisdiction_leaves_on_insert() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM jurisdiction_leaves_rebuild(ARRAY(
            SELECT code FROM new_rows UNION SELECT parent_code FROM new_rows));
        RETURN NULL;
    END $$
    """,
    """
    CREATE FUNCTION jurisdiction_leaves_on_update() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM jurisdiction_leaves_rebuild(ARRAY(
            SELECT code FROM new_rows UNION SELECT parent_code FROM new_rows
            UNION SELECT code FROM old_rows UNION SELECT parent_code FROM old_rows));
        RETURN NULL;
    END $$
    """,
    """
    CREATE FUNCTION jurisdiction_leaves_on_delete() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM jurisdiction_leaves_rebuild(ARRAY(SELECT parent_code FROM old_rows));
        RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER jurisdiction_leaves_insert AFTER INSERT ON jurisdictions
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION jurisdiction_leaves_on_insert()
    """,
    """
    CREATE TRIGGER jurisdiction_leaves_update AFTER UPDATE ON jurisdictions
    REFERENCING NEW TABLE AS new_rows OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION jurisdiction_leaves_on_update()
    """,
    """
    CREATE TRIGGER jurisdiction_leaves_delete AFTER DELETE ON jurisdictions
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION jurisdiction_leaves_on_delete()
    """,
)


def upgrade() -> None:
    """Apply this migration."""
    op.create_geospatial_table(
        "jurisdiction_leaves",
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
            name=op.f("fk_jurisdiction_leaves_jurisdiction_id_jurisdictions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jurisdiction_leaves")),
    )
    op.create_geospatial_index(
        "ix_jurisdiction_leaves_geom",
        "jurisdiction_leaves",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(
        op.f("ix_jurisdiction_leaves_jurisdiction_id"),
        "jurisdiction_leaves",
        ["jurisdiction_id"],
        unique=False,
    )
    for statement in LEAVES_TRIGGER:
        op.execute(statement)
    op.execute("SELECT jurisdiction_leaves_rebuild(ARRAY(SELECT DISTINCT code FROM jurisdictions))")


def downgrade() -> None:
    """Revert this migration."""
    op.drop_index(op.f("ix_jurisdiction_leaves_jurisdiction_id"), table_name="jurisdiction_leaves")
    op.drop_geospatial_index(
        "ix_jurisdiction_leaves_geom",
        table_name="jurisdiction_leaves",
        postgresql_using="gist",
        column_name="geom",
    )
    op.drop_geospatial_table("jurisdiction_leaves")
    for function in ("on_insert()", "on_update()", "on_delete()", "rebuild(text[])"):
        op.execute(f"DROP FUNCTION jurisdiction_leaves_{function} CASCADE")
