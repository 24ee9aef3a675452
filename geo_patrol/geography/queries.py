"""Read queries over boundaries, rivers, segments and zones, returning GeoJSON-ready dicts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_patrol.core.errors import NotFound

JURISDICTIONS = """
SELECT j.id, j.code, j.name, j.name_en, j.level, j.parent_code, j.valid_from, j.valid_to,
       j.source, ST_AsGeoJSON(j.geom, 6)::json AS geometry
FROM jurisdictions j
WHERE j.valid_from <= :at AND (j.valid_to IS NULL OR j.valid_to > :at)
  AND (CAST(:level AS text) IS NULL OR j.level = :level)
  AND (CAST(:parent AS text) IS NULL OR j.parent_code = :parent)
  AND (CAST(:code AS text) IS NULL OR j.code = :code)
ORDER BY j.code
LIMIT :limit
"""

VERSIONS = """
SELECT j.id, j.code, j.name, j.name_en, j.level, j.parent_code, j.valid_from, j.valid_to,
       j.source, ST_AsGeoJSON(j.geom, 6)::json AS geometry
FROM jurisdictions j WHERE j.code = :code ORDER BY j.valid_from
"""

RIVERS = """
SELECT r.id, r.code, r.name, r.name_en, r.source,
       (SELECT coalesce(sum(s.length_m), 0) FROM river_segments s WHERE s.river_id = r.id)
           AS length_m,
       ST_AsGeoJSON(r.geom, 6)::json AS geometry
FROM rivers r ORDER BY r.code
"""

SEGMENTS = """
SELECT s.id, r.code AS river_code, r.name AS river_name, s.seq, s.length_m, s.is_border,
       coalesce(array_agg(x.jurisdiction_code ORDER BY x.jurisdiction_code)
                FILTER (WHERE x.jurisdiction_code IS NOT NULL), '{}') AS sides,
       ST_AsGeoJSON(s.geom, 6)::json AS geometry
FROM river_segments s
JOIN rivers r ON r.id = s.river_id
LEFT JOIN river_segment_sides x ON x.segment_id = s.id
WHERE (CAST(:river AS text) IS NULL OR r.code = :river)
  AND (CAST(:border AS boolean) IS NULL OR s.is_border = :border)
GROUP BY s.id, r.code, r.name
ORDER BY r.code, s.seq
"""

ZONES = """
SELECT z.id, z.code, z.name, z.description, z.border_zone_width_m,
       coalesce((SELECT array_agg(m.jurisdiction_code ORDER BY m.jurisdiction_code)
                 FROM cooperation_zone_members m WHERE m.zone_id = z.id), '{}') AS members,
       coalesce((SELECT json_agg(json_build_object('title', a.title, 'signed_on', a.signed_on,
                                                   'summary', a.summary) ORDER BY a.id)
                 FROM zone_agreements a WHERE a.zone_id = z.id), '[]') AS agreements
FROM cooperation_zones z ORDER BY z.code
"""


def feature(row: Any, *, id_field: str = "code") -> dict[str, Any]:
    """A GeoJSON Feature from a row with a `geometry` column and plain properties."""
    props = {
        key: value.isoformat() if isinstance(value, datetime) else value
        for key, value in row._mapping.items()
        if key != "geometry"
    }
    return {"type": "Feature", "id": props[id_field], "geometry": row.geometry, "properties": props}


def collection(features: list[dict[str, Any]]) -> dict[str, Any]:
    """A GeoJSON FeatureCollection."""
    return {"type": "FeatureCollection", "features": features}


def list_jurisdictions(
    session: Session,
    *,
    at: datetime,
    level: str | None = None,
    parent: str | None = None,
    code: str | None = None,
    limit: int = 500,
) -> dict[str, Any]:
    """Jurisdictions in force at `at`, filtered by level, parent and code."""
    params = {"at": at, "level": level, "parent": parent, "code": code, "limit": limit}
    rows = session.execute(text(JURISDICTIONS), params).all()
    return collection([feature(row) for row in rows])


def jurisdiction_versions(session: Session, *, code: str) -> dict[str, Any]:
    """Every boundary version of one code, oldest first."""
    rows = session.execute(text(VERSIONS), {"code": code}).all()
    if not rows:
        raise NotFound(f"no jurisdiction with code {code}", field="code")
    return collection([feature(row, id_field="id") for row in rows])


def list_rivers(session: Session) -> dict[str, Any]:
    """All rivers with their length on the ellipsoid."""
    return collection([feature(row) for row in session.execute(text(RIVERS)).all()])


def list_segments(
    session: Session, *, river: str | None = None, border: bool | None = None
) -> dict[str, Any]:
    """River segments with the towns sharing each."""
    rows = session.execute(text(SEGMENTS), {"river": river, "border": border}).all()
    return collection([feature(row, id_field="id") for row in rows])


def list_zones(session: Session) -> list[dict[str, Any]]:
    """Cooperation zones with members and agreements."""
    return [dict(row._mapping) for row in session.execute(text(ZONES)).all()]
