"""Writing one patrol out: GPX 1.1 and KML 2.2 (GeoJSON is the API's own answer; the
patrol list as a file is geo_patrol.exports)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import date
from enum import Enum
from xml.sax.saxutils import escape

from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

# A patrol's cleaned fixes as GPX or KML text, written by PostgreSQL one block of fixes at a
# time and sent on as it comes: a million-fix track goes out in constant memory instead of
# as a million row objects and a 100 MB string (and in about a quarter of the time).
FIXES_PER_BLOCK = 20_000

# Coordinates to 7 decimals (~1 cm), elevation to 0.1 m, times in UTC to the second.
ISO_UTC = """to_char(time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')"""
LAT, LON = "round(ST_Y(geom)::numeric, 7)", "round(ST_X(geom)::numeric, 7)"

# A patrol's cleaned fixes (geom, ele, time, ord) from its month of raw fixes; once that
# month was retired (geo_patrol.patrols.partitions.retire), the vertices of its cleaned
# track, which stays, without elevations or times.
FIXES_OF = """(
    SELECT geom, ele, time, ord FROM patrol_points
    WHERE patrol_id = :patrol_id AND patrol_day = :patrol_day AND ord IS NOT NULL
    UNION ALL
    SELECT d.geom, CAST(NULL AS float8), CAST(NULL AS timestamptz), d.path[1] - 1
    FROM patrols p CROSS JOIN LATERAL ST_DumpPoints(p.track) AS d
    WHERE p.id = :patrol_id AND NOT EXISTS (
        SELECT 1 FROM patrol_points WHERE patrol_id = :patrol_id AND patrol_day = :patrol_day)
) AS fixes"""

# Whether the patrol's raw fixes are still stored (its day given: one month is searched).
RAW_KEPT = """
SELECT EXISTS (SELECT 1 FROM patrol_points
               WHERE patrol_id = :patrol_id AND patrol_day = :patrol_day)
"""
DAY = "SELECT patrol_day FROM patrols WHERE id = :patrol_id"

# Each block: the text of FIXES_PER_BLOCK fixes in time order; blocks in time order.
BLOCKS = f"""
SELECT string_agg({{item}}, E'\\n' ORDER BY ord)
FROM {FIXES_OF}
GROUP BY ord / :per_block ORDER BY ord / :per_block
"""

GPX_POINT = f"""concat('<trkpt lat="', {LAT}, '" lon="', {LON}, '">',
    '<ele>' || round(ele::numeric, 1) || '</ele>', '<time>' || {ISO_UTC} || '</time>',
    '</trkpt>')"""
# gx:Track holds all its <when> elements, then all its <gx:coord> elements: two passes.
KML_WHEN = f"concat('<when>', {ISO_UTC}, '</when>')"
KML_COORD = f"""concat('<gx:coord>', {LON}, ' ', {LAT}, ' ',
    round(coalesce(ele, 0)::numeric, 1), '</gx:coord>')"""

GPX_HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<gpx version="1.1" creator="geo-patrol" xmlns="http://www.topografix.com/GPX/1/1">
<trk><name>{name}</name><trkseg>
"""
GPX_TAIL = "</trkseg></trk></gpx>\n"
# A track without times is a plain LineString (a gx:Track's <when> must hold a time).
KML_LINE_COORD = f"concat({LON}, ',', {LAT}, ',', round(coalesce(ele, 0)::numeric, 1))"
KML_HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<kml xmlns="http://www.opengis.net/kml/2.2" xmlns:gx="http://www.google.com/kml/ext/2.2">'
    "<Document><name>{name}</name><Placemark><name>{name}</name>{open}\n"
)
KML_TAIL = "{close}</Placemark></Document></kml>\n"
KML_TRACK = ("<gx:Track>", "</gx:Track>")
KML_LINE = ("<LineString><coordinates>", "</coordinates></LineString>")


class FixText(Enum):
    """How one fix is written out: the SQL expression giving its text."""

    GPX_POINT = GPX_POINT
    KML_WHEN = KML_WHEN
    KML_COORD = KML_COORD
    KML_LINE_COORD = KML_LINE_COORD


# The blocks statement of each way of writing a fix, made once.
BLOCKS_OF = {kind: BLOCKS.format(item=kind.value) for kind in FixText}


def raw_fixes(connection: Connection, *, patrol_id: int) -> tuple[date | None, bool]:
    """The patrol's day (None: no such patrol) and whether its raw fixes are still kept."""
    day = connection.execute(text(DAY), {"patrol_id": patrol_id}).scalar_one_or_none()
    if day is None:
        return None, False
    kept = connection.execute(text(RAW_KEPT), {"patrol_id": patrol_id, "patrol_day": day})
    return day, bool(kept.scalar_one())


def _blocks(connection: Connection, item: FixText, patrol_id: int) -> Iterator[str]:
    """The fixes' text, block by block, through a server-side cursor."""
    day, _ = raw_fixes(connection, patrol_id=patrol_id)
    query = text(BLOCKS_OF[item]).execution_options(stream_results=True, yield_per=1)
    params = {"patrol_id": patrol_id, "patrol_day": day, "per_block": FIXES_PER_BLOCK}
    rows = connection.execute(query, params)
    for (block,) in rows:
        yield block + "\n"


def gpx_text(connection: Connection, *, name: str, patrol_id: int) -> Iterator[str]:
    """A GPX 1.1 document with one track of the patrol's cleaned fixes, in pieces."""
    yield GPX_HEAD.format(name=escape(name))
    yield from _blocks(connection, FixText.GPX_POINT, patrol_id)
    yield GPX_TAIL


def kml_text(
    connection: Connection, *, name: str, patrol_id: int, timed: bool = True
) -> Iterator[str]:
    """A KML 2.2 document with the track as a gx:Track (times kept), or as a LineString
    when the track has no times (or its raw fixes were retired), in pieces."""
    timed = timed and raw_fixes(connection, patrol_id=patrol_id)[1]
    opening, closing = KML_TRACK if timed else KML_LINE
    yield KML_HEAD.format(name=escape(name), open=opening)
    if timed:
        yield from _blocks(connection, FixText.KML_WHEN, patrol_id)
        yield from _blocks(connection, FixText.KML_COORD, patrol_id)
    else:
        yield from _blocks(connection, FixText.KML_LINE_COORD, patrol_id)
    yield KML_TAIL.format(close=closing)


def track_text(
    sessions: Callable[[], AbstractContextManager[Session]],
    *,
    fmt: str,
    name: str,
    patrol_id: int,
    timed: bool,
) -> Iterator[str]:
    """A patrol's track as GPX (`fmt` "gpx") or KML, block by block, read on a session of
    its own (a streamed answer outlives the request's session)."""
    with sessions() as own:
        connection = own.connection()
        if fmt == "gpx":
            yield from gpx_text(connection, name=name, patrol_id=patrol_id)
        else:
            yield from kml_text(connection, name=name, patrol_id=patrol_id, timed=timed)
