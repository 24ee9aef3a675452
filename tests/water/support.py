"""Water import test helpers: rivers of the test's own, files as offices write them, and
the snapping oracle (shapely in the UTM zone, distances by pyproj.Geod)."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass

import numpy as np
import openpyxl
import pyproj
import shapely
from shapely.ops import nearest_points
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_patrol.access.principal import command_line_principal
from geo_patrol.access.scope import Scope
from geo_patrol.core.settings import Settings
from geo_patrol.geography.segments import rebuild_segments
from geo_patrol.water.readings import ReadingImport, ReadingOptions, import_readings
from geo_patrol.water.sections import SectionImport, SectionOptions, import_sections

GEOD = pyproj.Geod(ellps="WGS84")
ADMIN = Scope(everything=True)
SETTINGS = Settings()
# Two rivers of the test's own near 31 N (no such codes in the test database): a bent one,
# and a straight one half a kilometre north of its bend.
RIVERS = {
    "T-BENT": shapely.LineString([(120.60, 30.90), (120.62, 30.91), (120.64, 30.905)]),
    "T-NORTH": shapely.LineString([(120.60, 30.915), (120.64, 30.915)]),
}


def add_rivers(session: Session, rivers: dict[str, shapely.LineString] = RIVERS) -> dict[str, int]:
    """Store the rivers (named 弯河 and 北河) and cut them into 500 m segments; ids by code."""
    names = {"T-BENT": "弯河", "T-NORTH": "北河"}
    ids = {}
    for code, line in rivers.items():
        ids[code] = int(
            session.execute(
                text(
                    "INSERT INTO rivers (code, name, geom, geom_hash) VALUES (:c, :n, "
                    "ST_Multi(ST_GeomFromText(:w, 4326)), md5(:w)) RETURNING id"
                ),
                {"c": code, "n": names.get(code, code), "w": line.wkt},
            ).scalar_one()
        )
    rebuild_segments(session, river_ids=list(ids.values()), segment_length_m=500)
    return ids


def utm(lon: float, lat: float) -> pyproj.Transformer:
    """WGS84 to the point's UTM zone (the test's own zone arithmetic)."""
    zone = int((lon + 180) // 6) + 1
    return pyproj.Transformer.from_crs(4326, (32600 if lat >= 0 else 32700) + zone, always_xy=True)


@dataclass(frozen=True)
class Expected:
    """Where the oracle snaps a point on a line, and how far on the ellipsoid it moves."""

    lon: float
    lat: float
    distance_m: float


def snapped(line: shapely.LineString, lon: float, lat: float) -> Expected:
    """The line's closest point to (lon, lat) in the UTM zone, and the geodesic distance."""
    forward = utm(lon, lat)
    back = pyproj.Transformer.from_crs(forward.target_crs, 4326, always_xy=True)
    plane_line = shapely.transform(
        line, lambda xy: np.column_stack(forward.transform(xy[:, 0], xy[:, 1]))
    )
    plane_point = shapely.Point(forward.transform(lon, lat))
    near = nearest_points(plane_line, plane_point)[0]
    near_lon, near_lat = back.transform(near.x, near.y)
    _, _, distance = GEOD.inv(lon, lat, near_lon, near_lat)
    return Expected(near_lon, near_lat, distance)


def offset(line: shapely.LineString, fraction: float, metres: float) -> tuple[float, float]:
    """A point `metres` to the left of the line at `fraction` of its length (geodesic)."""
    point = line.interpolate(fraction, normalized=True)
    ahead = line.interpolate(min(1.0, fraction + 0.01), normalized=True)
    azimuth, _, _ = GEOD.inv(point.x, point.y, ahead.x, ahead.y)
    lon, lat, _ = GEOD.fwd(point.x, point.y, azimuth - 90, metres)
    return lon, lat


def csv_of(header: str, *rows: str, encoding: str = "utf-8-sig") -> bytes:
    """A list as Excel saves it as CSV."""
    return "\r\n".join([header, *rows, ""]).encode(encoding)


def xlsx_of(header: list[str], *rows: list[object]) -> bytes:
    """A list as a workbook (openpyxl writes it)."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def geojson_of(*features: tuple[tuple[float, float] | None, dict[str, object]]) -> bytes:
    """A FeatureCollection of points (None: a line, which is refused)."""
    made = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": list(point)}
            if point
            else {"type": "LineString", "coordinates": [[120.6, 30.9], [120.61, 30.9]]},
            "properties": properties,
        }
        for point, properties in features
    ]
    return json.dumps({"type": "FeatureCollection", "features": made}).encode()


def sections(session: Session, data: bytes, **options: object) -> SectionImport:
    """A section import by the command line (an administrator)."""
    return import_sections(
        session,
        data=data,
        options=SectionOptions(**options),  # type: ignore[arg-type]
        scope=ADMIN,
        principal=command_line_principal(),
        settings=SETTINGS,
    )


def readings(session: Session, data: bytes, **options: object) -> ReadingImport:
    """A reading import by the command line (an administrator)."""
    return import_readings(
        session,
        data=data,
        options=ReadingOptions(**options),  # type: ignore[arg-type]
        scope=ADMIN,
        principal=command_line_principal(),
        settings=SETTINGS,
    )


def stored_sections(session: Session) -> dict[str, dict[str, object]]:
    """The stored sections by code, as plain values."""
    rows = session.execute(
        text(
            "SELECT w.code, w.name, w.kind, w.water_body, w.target_class, w.side_code, "
            "r.code AS river, w.segment_id, ST_X(w.geom) AS lon, ST_Y(w.geom) AS lat, "
            "ST_X(w.given_geom) AS given_lon, ST_Y(w.given_geom) AS given_lat, "
            "w.snap_distance_m FROM water_sections w JOIN rivers r ON r.id = w.river_id"
        )
    ).mappings()
    return {row["code"]: dict(row) for row in rows}


def segment_under(session: Session, river_id: int, lon: float, lat: float) -> int:
    """The segment of the river the point lies on, by shapely (segments read as WKT)."""
    rows = session.execute(
        text("SELECT id, ST_AsText(geom) FROM river_segments WHERE river_id = :r ORDER BY seq"),
        {"r": river_id},
    ).all()
    point = shapely.Point(lon, lat)
    distances = [(shapely.from_wkt(wkt).distance(point), int(id_)) for id_, wkt in rows]
    return min(distances)[1]
