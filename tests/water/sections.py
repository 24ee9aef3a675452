"""Sections and readings stored with plain SQL (the importer is water.sections/readings):
a section snapped onto its river's line and nearest segment, readings classed by the
standard's single-factor method."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_patrol.water.standard import classify


def add_section(
    session: Session,
    *,
    code: str,
    river_code: str,
    lon: float,
    lat: float,
    kind: str = "border",
    target: int = 3,
) -> int:
    """A section at the point of river `river_code` nearest (lon, lat); its id."""
    return int(
        session.execute(
            text(
                "INSERT INTO water_sections (code, name, kind, target_class, river_id,"
                " segment_id, geom, given_geom, snap_distance_m)"
                " SELECT :code, :name, :kind, :target, r.id,"
                " (SELECT s.id FROM river_segments s WHERE s.river_id = r.id"
                "  ORDER BY s.geom <-> ST_ClosestPoint(r.geom, g) LIMIT 1),"
                " ST_ClosestPoint(r.geom, g), g, ST_Distance(r.geom::geography, g::geography)"
                " FROM rivers r, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) AS g"
                " WHERE r.code = :river RETURNING id"
            ),
            {
                "code": code,
                "name": f"{code}断面",
                "kind": kind,
                "target": target,
                "river": river_code,
                "lon": lon,
                "lat": lat,
            },
        ).scalar_one()
    )


def add_reading(
    session: Session, *, section_id: int, at: datetime, measured: Mapping[str, float]
) -> int:
    """A reading of `section_id` classed against the section's target; its id."""
    target = session.execute(
        text("SELECT target_class FROM water_sections WHERE id = :id"), {"id": section_id}
    ).scalar_one()
    classed = classify(measured, target=target)
    return int(
        session.execute(
            text(
                "INSERT INTO water_readings (section_id, sampled_at, measured, class, deciding,"
                " factors, target_class) VALUES (:section, :at, CAST(:measured AS jsonb), :class,"
                " CAST(:deciding AS jsonb), CAST(:factors AS jsonb), :target) RETURNING id"
            ),
            {
                "section": section_id,
                "at": at,
                "measured": json.dumps(dict(measured)),
                "class": classed.water_class,
                "deciding": json.dumps(list(classed.deciding)),
                "factors": json.dumps(dict(classed.factors)),
                "target": target,
            },
        ).scalar_one()
    )
