"""The border zone of each cooperation zone, as an area to draw.

The routing rule (spatial/routing.py, 3a) makes a report a joint case when it lies within
the zone's border-zone width of another member's jurisdiction. The area where that holds
is, for every pair of members (a, b) at the same level, the part of a within the width of
b (a town and its own county are one side, not a pair): drawn here on
the boundaries in force at `at`, simplified to about 5 m for the screen.

Drawing them buffers and unions whole boundaries: over a second on the demo region, on
every map page and every read of the OGC `border_zones` collection, though they change only
when a zone or one of its members' boundaries does. So each answer is kept, in the process,
under a fingerprint of everything it is made from (the zones, their widths and members, and
the id and geometry hash of each member's boundary in force at `at`): the fingerprint is
one indexed query; a changed zone or boundary gives a new fingerprint, so a kept answer is
never stale (geo_patrol.db.kept).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_patrol.db.kept import KeptAnswers

SIMPLIFY_DEG = 0.00005

ZONES = f"""
WITH members AS (
    SELECT m.zone_id, j.code, j.level, j.geom
    FROM cooperation_zone_members m
    JOIN jurisdictions j ON j.code = m.jurisdiction_code
     AND j.valid_from <= :at AND (j.valid_to IS NULL OR j.valid_to > :at)
    WHERE CAST(:zone_id AS int) IS NULL OR m.zone_id = :zone_id
),
bands AS (
    SELECT a.zone_id,
           ST_Intersection(a.geom,
                           ST_Buffer(b.geom::geography, z.border_zone_width_m)::geometry)
               AS band
    FROM members a
    JOIN members b ON b.zone_id = a.zone_id AND b.level = a.level AND b.code <> a.code
    JOIN cooperation_zones z ON z.id = a.zone_id
    WHERE ST_DWithin(a.geom::geography, b.geom::geography, z.border_zone_width_m)
)
SELECT z.id, z.code, z.name, z.border_zone_width_m,
       (SELECT array_agg(code ORDER BY code) FROM members m WHERE m.zone_id = z.id) AS members,
       ST_AsGeoJSON(ST_SimplifyPreserveTopology(
           (SELECT ST_Union(geom) FROM members m WHERE m.zone_id = z.id), {SIMPLIFY_DEG}), 6)::json
           AS outline,
       ST_AsGeoJSON(ST_SimplifyPreserveTopology(
           (SELECT ST_Union(band) FROM bands b WHERE b.zone_id = z.id), {SIMPLIFY_DEG}), 6)::json
           AS border_zone
FROM cooperation_zones z
WHERE CAST(:zone_id AS int) IS NULL OR z.id = :zone_id
ORDER BY z.code
"""


# What the answer is made from: the zones (all, or one) and the boundaries of their members in
# force at `at`.
FINGERPRINT = """
SELECT md5(coalesce(string_agg(
           concat_ws('|', z.id, z.code, z.name, z.border_zone_width_m, m.jurisdiction_code,
                     j.id, j.level, j.geom_hash),
           ',' ORDER BY z.id, m.jurisdiction_code, j.id), ''))
FROM cooperation_zones z
LEFT JOIN cooperation_zone_members m ON m.zone_id = z.id
LEFT JOIN jurisdictions j ON j.code = m.jurisdiction_code
     AND j.valid_from <= :at AND (j.valid_to IS NULL OR j.valid_to > :at)
WHERE CAST(:zone_id AS int) IS NULL OR z.id = :zone_id
"""

_kept = KeptAnswers(FINGERPRINT)


def zones_with_border_zone(
    session: Session, *, at: datetime, zone_id: int | None = None
) -> list[dict[str, Any]]:
    """Each zone (or one) with its outline and its border-zone area as GeoJSON geometries
    (kept while what they are made from is unchanged; each caller gets its own copy)."""
    params = {"at": at, "zone_id": zone_id}

    def draw() -> list[dict[str, Any]]:
        return [dict(row._mapping) for row in session.execute(text(ZONES), params)]

    answer: list[dict[str, Any]] = _kept.get(session, params, draw, key=zone_id)
    return answer
