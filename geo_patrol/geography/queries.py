"""Read queries over boundaries, rivers, segments and zones, returning GeoJSON-ready dicts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_patrol.core.catalog import msg
from geo_patrol.core.errors import NotFound
from geo_patrol.core.paging import Page
from geo_patrol.db.clauses import all_of, equals, statement
from geo_patrol.db.kept import KeptAnswers
from geo_patrol.db.keyset import Keyset, read_limit
from geo_patrol.geography.levels import level_rank

JURISDICTIONS = """
SELECT j.id, j.code, j.name, j.name_en, j.level, j.parent_code, j.valid_from, j.valid_to,
       j.source, ST_AsGeoJSON(j.geom, 6)::json AS geometry
FROM jurisdictions j
WHERE j.valid_from <= :at AND (j.valid_to IS NULL OR j.valid_to > :at) AND {where}
ORDER BY j.code
LIMIT :limit
"""
# One version of a code is in force at a time: the code is the key (its unique index on the
# versions in force, and the (code, valid_from) one, serve it).
JURISDICTION_ORDER = Keyset(("j.code",), ("code",), ("text",))

VERSIONS = """
SELECT j.id, j.code, j.name, j.name_en, j.level, j.parent_code, j.valid_from, j.valid_to,
       j.source, ST_AsGeoJSON(j.geom, 6)::json AS geometry
FROM jurisdictions j WHERE j.code = :code AND {after} ORDER BY j.valid_from LIMIT :limit
"""
VERSION_ORDER = Keyset(("j.valid_from",), ("valid_from",), ("time",))

RIVERS = """
SELECT r.id, r.code, r.name, r.name_en, r.source,
       (SELECT coalesce(sum(s.length_m), 0) FROM river_segments s WHERE s.river_id = r.id)
           AS length_m,
       ST_AsGeoJSON(r.geom, 6)::json AS geometry
FROM rivers r WHERE {after} ORDER BY r.code LIMIT :limit
"""
RIVER_ORDER = Keyset(("r.code",), ("code",), ("text",))

SEGMENTS = """
SELECT s.id, r.code AS river_code, r.name AS river_name, s.seq, s.length_m, s.is_border,
       coalesce(array_agg(x.jurisdiction_code ORDER BY x.jurisdiction_code)
                FILTER (WHERE x.jurisdiction_code IS NOT NULL), '{{}}') AS sides,
       ST_AsGeoJSON(s.geom, 6)::json AS geometry
FROM river_segments s
JOIN rivers r ON r.id = s.river_id
LEFT JOIN river_segment_sides x ON x.segment_id = s.id
WHERE {where}
GROUP BY s.id, r.code, r.name
ORDER BY r.code, s.seq
LIMIT :limit
"""
# A river's code and the segment's place along it are unique together.
SEGMENT_ORDER = Keyset(("r.code", "s.seq"), ("river_code", "seq"), ("text", "int"))

ZONES = """
SELECT z.id, z.code, z.name, z.description, z.border_zone_width_m,
       coalesce((SELECT array_agg(m.jurisdiction_code ORDER BY m.jurisdiction_code)
                 FROM cooperation_zone_members m WHERE m.zone_id = z.id), '{{}}') AS members,
       coalesce((SELECT json_agg(json_build_object('title', a.title, 'signed_on', a.signed_on,
                                                   'summary', a.summary) ORDER BY a.id)
                 FROM zone_agreements a WHERE a.zone_id = z.id), '[]') AS agreements
FROM cooperation_zones z WHERE {after} ORDER BY z.code LIMIT :limit
"""
ZONE_ORDER = Keyset(("z.code",), ("code",), ("text",))


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


def jurisdiction_page(
    session: Session,
    *,
    at: datetime,
    level: str | None = None,
    parent: str | None = None,
    code: str | None = None,
    limit: int | None,
    cursor: str | None = None,
) -> Page[Any]:
    """A page of the features of the jurisdictions in force at `at` by code, filtered by
    level, parent and code."""
    where = all_of(
        equals("j.level", "level", level),
        equals("j.parent_code", "parent", parent),
        equals("j.code", "code", code),
        JURISDICTION_ORDER.after(cursor),
    )
    params = {"at": at, "limit": read_limit(limit)}
    rows = session.execute(statement(JURISDICTIONS, where=where), params).all()
    return _features(JURISDICTION_ORDER.page(rows, limit))


def _features(page: Page[Any], *, id_field: str = "code") -> Page[dict[str, Any]]:
    """The page's rows as GeoJSON Features."""
    return Page([feature(row, id_field=id_field) for row in page.items], page.next_cursor)


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
    page = jurisdiction_page(session, at=at, level=level, parent=parent, code=code, limit=limit)
    return collection(page.items)


def version_page(
    session: Session, *, code: str, limit: int | None, cursor: str | None = None
) -> Page[dict[str, Any]]:
    """A page of the boundary versions of one code, oldest first; 404 for no version."""
    sql = statement(VERSIONS, after=all_of(VERSION_ORDER.after(cursor)))
    rows = session.execute(sql, {"code": code, "limit": read_limit(limit)}).all()
    if not rows and cursor is None:
        raise NotFound(msg("problem.geography.no_jurisdiction", code=code), field="code")
    return _features(VERSION_ORDER.page(rows, limit), id_field="id")


def jurisdiction_versions(session: Session, *, code: str) -> dict[str, Any]:
    """Every boundary version of one code, oldest first."""
    return collection(version_page(session, code=code, limit=None).items)


def river_page(
    session: Session, *, limit: int | None, cursor: str | None = None
) -> Page[dict[str, Any]]:
    """A page of the rivers by code, with their length on the ellipsoid."""
    sql = statement(RIVERS, after=all_of(RIVER_ORDER.after(cursor)))
    rows = session.execute(sql, {"limit": read_limit(limit)}).all()
    return _features(RIVER_ORDER.page(rows, limit))


def list_rivers(session: Session) -> dict[str, Any]:
    """All rivers with their length on the ellipsoid."""
    return collection(river_page(session, limit=None).items)


def segment_page(
    session: Session,
    *,
    river: str | None = None,
    border: bool | None = None,
    limit: int | None,
    cursor: str | None = None,
) -> Page[dict[str, Any]]:
    """A page of the river segments (by river code and place along it) with the towns
    sharing each."""
    where = all_of(
        equals("r.code", "river", river),
        equals("s.is_border", "border", border),
        SEGMENT_ORDER.after(cursor),
    )
    rows = session.execute(statement(SEGMENTS, where=where), {"limit": read_limit(limit)}).all()
    return _features(SEGMENT_ORDER.page(rows, limit), id_field="id")


def list_segments(
    session: Session, *, river: str | None = None, border: bool | None = None
) -> dict[str, Any]:
    """River segments with the towns sharing each."""
    return collection(segment_page(session, river=river, border=border, limit=None).items)


def zone_page(
    session: Session, *, limit: int | None, cursor: str | None = None
) -> Page[dict[str, Any]]:
    """A page of the cooperation zones by code, with members and agreements."""
    sql = statement(ZONES, after=all_of(ZONE_ORDER.after(cursor)))
    rows = session.execute(sql, {"limit": read_limit(limit)}).all()
    return ZONE_ORDER.page([dict(row._mapping) for row in rows], limit)


def list_zones(session: Session) -> list[dict[str, Any]]:
    """Cooperation zones with members and agreements."""
    return zone_page(session, limit=None).items


# Coarser levels are drawn simpler: about 50 m for provinces, 3 m for villages and grids.
MAP_JURISDICTIONS = f"""
SELECT j.code, j.name, j.level, j.parent_code,
       ST_AsGeoJSON(ST_SimplifyPreserveTopology(j.geom, CASE j.level
           WHEN 'province' THEN 0.0005 WHEN 'city' THEN 0.0003 WHEN 'county' THEN 0.0001
           ELSE 0.00003 END), 6)::json AS geometry
FROM jurisdictions j
WHERE j.valid_from <= :at AND (j.valid_to IS NULL OR j.valid_to > :at)
ORDER BY {level_rank("j.level")}, j.code
"""

VILLAGES = """
SELECT v.code, v.name, ST_X(v.geom) AS lon, ST_Y(v.geom) AS lat FROM villages v ORDER BY v.code
"""

# The box around the given jurisdictions in force at :at (all of them when :codes is NULL).
EXTENT = """
SELECT ST_XMin(e) AS west, ST_YMin(e) AS south, ST_XMax(e) AS east, ST_YMax(e) AS north FROM (
    SELECT ST_Extent(j.geom) AS e FROM jurisdictions j
    WHERE j.valid_from <= :at AND (j.valid_to IS NULL OR j.valid_to > :at)
      AND (CAST(:codes AS text[]) IS NULL OR j.code = ANY(:codes))
) x WHERE e IS NOT NULL
"""

ZONE_BY_CODE = "SELECT id FROM cooperation_zones WHERE code = :code"

CURRENT_NAMES = """
SELECT code, name FROM jurisdictions WHERE code = ANY(:codes) AND valid_to IS NULL
"""

# Everything inside a box: the given jurisdictions, the others of their levels (the other
# side of the border, outlined), the rivers; in "map units": x = lon·:k, y = lat (so that a
# metre is as long east-west as north-south); ST_AsSVG flips y for SVG.
SHAPES_IN_BOX = """
WITH box AS (SELECT ST_MakeEnvelope(:x0, :y0, :x1, :y1, 4326) AS g),
shapes AS (
    SELECT CASE WHEN j.code = ANY(CAST(:codes AS text[])) THEN 'jurisdiction'
                ELSE 'neighbour' END AS kind,
           j.code, j.name, j.geom,
           CASE WHEN j.code = ANY(CAST(:codes AS text[])) THEN 1 ELSE 0 END AS layer
    FROM jurisdictions j
    WHERE j.valid_to IS NULL AND j.level IN (
        SELECT level FROM jurisdictions WHERE code = ANY(CAST(:codes AS text[])))
    UNION ALL
    SELECT 'river', r.code, r.name, s.geom, 2
    FROM river_segments s JOIN rivers r ON r.id = s.river_id
),
clipped AS (
    SELECT kind, code, name, layer, ST_Scale(ST_ClipByBox2D(geom, box.g), :k, 1) AS part
    FROM shapes, box WHERE shapes.geom && box.g
)
SELECT kind, code, name, ST_AsSVG(part, 0, 6) AS path,
       ST_X(ST_PointOnSurface(part)) AS label_x, -ST_Y(ST_PointOnSurface(part)) AS label_y
FROM clipped WHERE NOT ST_IsEmpty(part)
ORDER BY layer, code
"""


class Extent(NamedTuple):
    """A box in degrees (EPSG:4326)."""

    west: float
    south: float
    east: float
    north: float


class MapShape(NamedTuple):
    """One shape of a small server-drawn map, as an SVG path in map units."""

    kind: str  # jurisdiction, neighbour or river
    code: str
    name: str | None
    path: str | None
    label_x: float | None
    label_y: float | None


# What the map's boundaries are made from: the versions in force at :at.
MAP_JURISDICTIONS_FINGERPRINT = """
SELECT md5(coalesce(string_agg(concat_ws('|', j.id, j.code, j.name, j.level, j.parent_code,
                                         j.geom_hash), ',' ORDER BY j.id), ''))
FROM jurisdictions j
WHERE j.valid_from <= :at AND (j.valid_to IS NULL OR j.valid_to > :at)
"""
_kept_boundaries = KeptAnswers(MAP_JURISDICTIONS_FINGERPRINT)


def map_jurisdictions(session: Session, *, at: datetime | None) -> list[dict[str, Any]]:
    """Every jurisdiction in force at `at`, simplified for the map, coarse levels first
    (simplifying them all took most of a second on every map page: kept while the versions
    in force are the same, geo_patrol.db.kept)."""

    def draw() -> list[dict[str, Any]]:
        return [dict(row._mapping) for row in session.execute(text(MAP_JURISDICTIONS), {"at": at})]

    boundaries: list[dict[str, Any]] = _kept_boundaries.get(session, {"at": at}, draw)
    return boundaries


def list_villages(session: Session) -> list[dict[str, Any]]:
    """Every village point: code, name, lon, lat."""
    return [dict(row._mapping) for row in session.execute(text(VILLAGES))]


def extent_of(
    session: Session, *, at: datetime | None, codes: Sequence[str] | None
) -> Extent | None:
    """The box of the jurisdictions `codes` (all when None) in force at `at`; None if empty."""
    params = {"at": at, "codes": list(codes) if codes is not None else None}
    row = session.execute(text(EXTENT), params).first()
    if row is None or row.west is None:
        return None
    return Extent(row.west, row.south, row.east, row.north)


def zone_id_of(session: Session, code: str | None) -> int | None:
    """The id of the zone with `code` (None for no zone or an unknown code)."""
    if not code:
        return None
    found: int | None = session.execute(text(ZONE_BY_CODE), {"code": code}).scalar()
    return found


def current_names(session: Session, *, codes: Sequence[str]) -> dict[str, str]:
    """The current names of the jurisdictions `codes` (those that exist)."""
    rows = session.execute(text(CURRENT_NAMES), {"codes": sorted(codes)})
    return {row.code: row.name for row in rows}


def shapes_in_box(
    session: Session,
    *,
    box: Extent,
    x_scale: float,
    codes: Sequence[str],
) -> list[MapShape]:
    """The jurisdictions `codes`, their neighbours of the same levels and the rivers inside
    `box`, clipped, as SVG paths with x scaled by `x_scale` (bottom layers first)."""
    params = {
        "x0": box.west,
        "y0": box.south,
        "x1": box.east,
        "y1": box.north,
        "k": x_scale,
        "codes": list(codes),
    }
    return [MapShape(*row) for row in session.execute(text(SHAPES_IN_BOX), params)]
