"""The patrols of a period as one file: GPX 1.1 (a trk per patrol), KML 2.2 (a Placemark
per patrol) or a GeoPackage (a `tracks` layer, the patrol list's columns).

The patrols are those of the patrol list's query (every one, through a server-side cursor);
each patrol's cleaned fixes are read a block at a time and written to the file as they come,
so the file grows on disk while memory holds one block. Coordinates are WGS84, or GCJ-02 /
BD-09 (`datum`) for Amap, Baidu and 奥维互动地图, converted by core.coords.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import IO, Any
from xml.sax.saxutils import escape

import numpy as np
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_patrol.core.coords import wgs84_to_bd09, wgs84_to_gcj02
from geo_patrol.core.local_time import local_minute
from geo_patrol.core.vocabulary import Datum
from geo_patrol.exports import sources
from geo_patrol.exports.writers import write_gpkg
from geo_patrol.patrols import queries as patrol_queries
from geo_patrol.patrols.exports import FIXES_OF
from geo_patrol.patrols.partitions import day_of


class TrackFormat(StrEnum):
    """The formats of a period's tracks."""

    GPX = "gpx"
    KML = "kml"
    GPKG = "gpkg"


MEDIA_TYPES = {
    TrackFormat.GPX: "application/gpx+xml",
    TrackFormat.KML: "application/vnd.google-earth.kml+xml",
    TrackFormat.GPKG: "application/geopackage+sqlite3",
}

FIXES_PER_BLOCK = 20_000

# A patrol's cleaned fixes in order (the rows behind its track), block by block.
FIXES = f"""
SELECT ST_X(geom) AS lon, ST_Y(geom) AS lat, ele, time
FROM {FIXES_OF} ORDER BY ord
"""

GPX_HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<gpx version="1.1" creator="geo-patrol" xmlns="http://www.topografix.com/GPX/1/1">\n'
)
KML_HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<kml xmlns="http://www.opengis.net/kml/2.2"><Document><name>{name}</name>\n'
)


def fixes(
    session: Session, *, patrol_id: int, datum: Datum
) -> Iterator[tuple[np.ndarray, np.ndarray, list[Any], list[datetime | None]]]:
    """A patrol's cleaned fixes in blocks: lon, lat (in `datum`), elevations, times."""
    query = text(FIXES).execution_options(stream_results=True, yield_per=FIXES_PER_BLOCK)
    day = day_of(session, patrol_id=patrol_id)
    rows = session.execute(query, {"patrol_id": patrol_id, "patrol_day": day})
    for block in rows.partitions(FIXES_PER_BLOCK):
        lon = np.array([r.lon for r in block], dtype=np.float64)
        lat = np.array([r.lat for r in block], dtype=np.float64)
        if datum is Datum.GCJ02:
            lon, lat = wgs84_to_gcj02(lon, lat)
        elif datum is Datum.BD09:
            lon, lat = wgs84_to_bd09(lon, lat)
        yield lon, lat, [r.ele for r in block], [r.time for r in block]


def _name(patrol: dict[str, Any]) -> str:
    """A patrol's name in the file: its title, else team and local start."""
    if patrol["title"]:
        return str(patrol["title"])
    if "team_name" not in patrol:
        return f"patrol {patrol['id']}"
    return f"{patrol['team_name']} {local_minute(patrol['started_at'])}"


def _gpx_track(out: IO[str], session: Session, patrol: dict[str, Any], datum: Datum) -> None:
    """One patrol as a GPX trk."""
    out.write(
        f"<trk><name>{escape(_name(patrol))}</name><number>{patrol['id']}</number>"
        + (f"<type>{escape(str(patrol['mode']))}</type>" if "mode" in patrol else "")
        + "<trkseg>\n"
    )
    for lon, lat, ele, times in fixes(session, patrol_id=patrol["id"], datum=datum):
        out.write(
            "".join(
                f'<trkpt lat="{y:.7f}" lon="{x:.7f}">'
                + ("" if z is None else f"<ele>{z:.1f}</ele>")
                + ("" if t is None else f"<time>{_utc_text(t)}</time>")
                + "</trkpt>\n"
                for x, y, z, t in zip(lon, lat, ele, times, strict=True)
            )
        )
    out.write("</trkseg></trk>\n")


def _utc_text(moment: datetime) -> str:
    """An aware time as ISO 8601 in UTC (Z)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _kml_track(out: IO[str], session: Session, patrol: dict[str, Any], datum: Datum) -> None:
    """One patrol as a KML Placemark with a LineString (a time span when it has times)."""
    out.write(f"<Placemark><name>{escape(_name(patrol))}</name>")
    if patrol["started_at"] and patrol.get("ended_at"):
        out.write(
            f"<TimeSpan><begin>{_utc_text(patrol['started_at'])}</begin>"
            f"<end>{_utc_text(patrol['ended_at'])}</end></TimeSpan>"
        )
    out.write(f'<ExtendedData><Data name="id"><value>{patrol["id"]}</value></Data>')
    if "team_name" in patrol:
        team = escape(str(patrol["team_name"]))
        out.write(f'<Data name="team"><value>{team}</value></Data>')
    out.write("</ExtendedData><LineString><coordinates>\n")
    for lon, lat, ele, _ in fixes(session, patrol_id=patrol["id"], datum=datum):
        out.write(
            "".join(
                f"{x:.7f},{y:.7f},{0.0 if z is None else z:.1f}\n"
                for x, y, z in zip(lon, lat, ele, strict=True)
            )
        )
    out.write("</coordinates></LineString></Placemark>\n")


def write_tracks(
    session: Session,
    *,
    request: sources.Request,
    filters: dict[str, Any],
    fmt: TrackFormat,
    folder: Path,
) -> Path:
    """Every patrol of the list's query as one GPX, KML or GeoPackage in `folder`."""
    if fmt is TrackFormat.GPKG:
        table = sources.patrols(session, request, filters)
        return write_gpkg(dataclasses.replace(table, name="tracks"), folder)
    path = folder / f"tracks.{fmt}"
    patrols = patrol_queries.each_patrol(session, scope=request.scope, **filters)
    with path.open("w", encoding="utf-8") as out:
        if fmt is TrackFormat.GPX:
            out.write(GPX_HEAD)
            for patrol in patrols:
                _gpx_track(out, session, patrol, request.datum)
            out.write("</gpx>\n")
        else:
            out.write(KML_HEAD.format(name="geo-patrol"))
            for patrol in patrols:
                _kml_track(out, session, patrol, request.datum)
            out.write("</Document></kml>\n")
    return path


def write_patrol(
    session: Session, *, patrol: dict[str, Any], fmt: TrackFormat, datum: Datum, folder: Path
) -> Path:
    """One patrol (its id, title and start at least) as GPX or KML in `datum`, in `folder`."""
    path = folder / f"patrol-{patrol['id']}.{fmt}"
    with path.open("w", encoding="utf-8") as out:
        if fmt is TrackFormat.GPX:
            out.write(GPX_HEAD)
            _gpx_track(out, session, patrol, datum)
            out.write("</gpx>\n")
        else:
            out.write(KML_HEAD.format(name=escape(_name(patrol))))
            _kml_track(out, session, patrol, datum)
            out.write("</Document></kml>\n")
    return path
