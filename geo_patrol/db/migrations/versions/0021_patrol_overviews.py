# mypy: disable-error-code="attr-defined"
# (GeoAlchemy2 registers create_geospatial_table & co. on alembic.op at import time.)
"""Track overviews for the map's low zooms: each patrol's track simplified at a quarter
pixel of zooms 9, 11 and 13 (geo_patrol/patrols/overviews.py), written for the patrols
already stored.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06
Introduced in: geo-patrol 0.6.0
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The levels and tolerances of geo_patrol/patrols/overviews.py as they were at this
# revision (a migration does not import the application: it may change later).
ZOOMS = (9, 11, 13)


def tolerance(z: int) -> float:
    """A quarter pixel at zoom z at 55 N, in degrees of latitude."""
    return float(40075016.685578488 / 2**z / 256 / 4 * math.cos(math.radians(55.0)) / 111_320.0)


def upgrade() -> None:
    """Apply this migration."""
    op.create_geospatial_table(
        "patrol_overviews",
        sa.Column("patrol_id", sa.BigInteger(), nullable=False),
        sa.Column("max_zoom", sa.SmallInteger(), nullable=False),
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
        sa.ForeignKeyConstraint(
            ["patrol_id"],
            ["patrols.id"],
            name=op.f("fk_patrol_overviews_patrol_id_patrols"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("patrol_id", "max_zoom", name=op.f("pk_patrol_overviews")),
    )
    op.create_geospatial_index(
        "ix_patrol_overviews_geom",
        "patrol_overviews",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    levels = ", ".join(f"({z}, {tolerance(z)!r})" for z in ZOOMS)
    op.execute(
        "INSERT INTO patrol_overviews (patrol_id, max_zoom, geom) "
        "SELECT p.id, l.max_zoom, ST_Simplify(p.track, l.tolerance, true) "
        f"FROM patrols p, (VALUES {levels}) AS l(max_zoom, tolerance) "
        "WHERE p.track IS NOT NULL"
    )


def downgrade() -> None:
    """Revert this migration."""
    op.drop_geospatial_index(
        "ix_patrol_overviews_geom",
        table_name="patrol_overviews",
        postgresql_using="gist",
        column_name="geom",
    )
    op.drop_geospatial_table("patrol_overviews")
