"""Writing patrols out: GPX 1.1, KML 2.2 and CSV (GeoJSON is the API's own answer)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import datetime
from typing import Any
from xml.sax.saxutils import escape


def _iso(when: datetime | None) -> str | None:
    """ISO 8601 in UTC with Z."""
    return when.strftime("%Y-%m-%dT%H:%M:%SZ") if when else None


def to_gpx(*, name: str, points: Iterable[Any]) -> str:
    """A GPX 1.1 document with one track of the cleaned fixes."""
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<gpx version="1.1" creator="geo-patrol" xmlns="http://www.topografix.com/GPX/1/1">',
        f"<trk><name>{escape(name)}</name><trkseg>",
    ]
    for p in points:
        inner = f"<ele>{p.ele:.1f}</ele>" if p.ele is not None else ""
        inner += f"<time>{_iso(p.time)}</time>" if p.time else ""
        lines.append(f'<trkpt lat="{p.lat:.7f}" lon="{p.lon:.7f}">{inner}</trkpt>')
    lines.append("</trkseg></trk></gpx>")
    return "\n".join(lines) + "\n"


def to_kml(*, name: str, points: Iterable[Any]) -> str:
    """A KML 2.2 document with the track as a gx:Track (times kept)."""
    whens, coords = [], []
    for p in points:
        whens.append(f"<when>{_iso(p.time) or ''}</when>")
        coords.append(f"<gx:coord>{p.lon:.7f} {p.lat:.7f} {p.ele or 0:.1f}</gx:coord>")
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<kml xmlns="http://www.opengis.net/kml/2.2" xmlns:gx="http://www.google.com/kml/ext/2.2">'
        f"<Document><name>{escape(name)}</name><Placemark><name>{escape(name)}</name>"
        f"<gx:Track>{''.join(whens)}{''.join(coords)}</gx:Track></Placemark></Document></kml>\n"
    )


def to_csv(rows: list[dict[str, Any]]) -> str:
    """Rows as CSV with a header (UTF-8 with BOM so spreadsheet programs read Chinese)."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    if rows:
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: _cell(v) for k, v in row.items()})
    return buffer.getvalue()


def _cell(value: Any) -> Any:
    """Datetimes as ISO, lists joined."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    return value
