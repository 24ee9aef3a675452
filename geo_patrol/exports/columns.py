"""The columns of each exported list: key, type, header words, width, Shapefile name.

A column's key is its stable machine name: the GeoPackage field, the English header (as the
duty spreadsheet always had them), and the catalog key `export.<list>.<key>` of its Chinese
header. A DBF field name holds at most 10 characters, so each longer key has a fixed short
name here (written out in docs/gis/exports.md); a test checks they are unique per list.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from geo_patrol.core import catalog


class Kind(StrEnum):
    """What a column holds, and so how each writer writes it."""

    TEXT = "text"
    INT = "int"
    REAL = "real"
    BOOL = "bool"
    TIME = "time"  # an instant (stored in UTC), written as China Standard Time
    DATE = "date"  # a local calendar day


@dataclass(frozen=True)
class Column:
    """One column of an exported list."""

    key: str
    kind: Kind = Kind.TEXT
    width: int = 12  # XLSX width in characters
    short: str | None = None  # the DBF name when the key is longer than 10 characters

    @property
    def dbf_name(self) -> str:
        """The Shapefile (DBF) field name: at most 10 characters."""
        return self.short or self.key


# A row: one value per column, in column order; its geometry as WKB (None: no geometry).
Row = tuple[Any, ...]


@dataclass(frozen=True)
class Batch:
    """Some rows of a list and their geometries (None when the list has no geometry)."""

    rows: list[Row]
    geometries: list[bytes | None] | None = None


@dataclass(frozen=True)
class Table:
    """A list ready to write: its name, columns, geometry type and its rows in batches."""

    name: str
    columns: tuple[Column, ...]
    geometry_type: str | None  # "Point", "LineString", "MultiLineString" or None
    batches: Iterator[Batch]
    lang: str = "zh"  # the language of the headers and the words in the rows

    @property
    def layer(self) -> str:
        """The name of the layer (GeoPackage, Shapefile) or sheet holding the list."""
        return LAYERS.get(self.name, self.name)

    def headers(self) -> list[str]:
        """The header row: Chinese words (`zh`), or the column keys (`en`)."""
        return [header(self.name, column.key, self.lang) for column in self.columns]


# Layers named as the OGC API names its collections where the list's name differs: the
# duty list's rows carry each chief's stretch.
LAYERS = {"duty": "chief_stretches"}


def header(name: str, key: str, lang: str) -> str:
    """A column's header in `lang` from the catalog (`export.<list>.<key>`)."""
    return catalog.text(f"export.{name}.{key}", lang)


C, K = Column, Kind

PATROLS = (
    C("id", K.INT, 8),
    C("team_id", K.INT, 8),
    C("team_name", K.TEXT, 18),
    C("source", K.TEXT, 10),
    C("mode", K.TEXT, 8),
    C("title", K.TEXT, 24),
    C("started_at", K.TIME, 17),
    C("ended_at", K.TIME, 17),
    C("closed_at", K.TIME, 17),
    C("length_m", K.REAL, 10),
    C("duration_s", K.REAL, 10),
    C("points_raw", K.INT, 10),
    C("points_kept", K.INT, 10, "pts_kept"),
    C("quality_flags", K.TEXT, 24, "flags"),
    C("stale", K.BOOL, 6),
)

INCIDENTS = (
    C("id", K.INT, 8),
    C("category", K.TEXT, 16),
    C("category_name", K.TEXT, 16, "cat_name"),
    C("severity", K.TEXT, 8),
    C("status", K.TEXT, 10),
    C("tier", K.TEXT, 8),
    C("deadline_at", K.TIME, 17, "deadline"),
    C("overdue", K.BOOL, 8),
    C("lead_code", K.TEXT, 12),
    C("co_codes", K.TEXT, 14),
    C("is_joint", K.BOOL, 8),
    C("zone_id", K.INT, 8),
    C("unrouted", K.BOOL, 8),
    C("duplicate_of", K.INT, 8, "dup_of"),
    C("segment_id", K.INT, 8),
    C("source", K.TEXT, 10),
    C("description", K.TEXT, 40, "descr"),
    C("address", K.TEXT, 24),
    C("reported_at", K.TIME, 17, "reported"),
    C("received_at", K.TIME, 17, "received"),
    C("resolved_at", K.TIME, 17, "resolved"),
    C("reopen_count", K.INT, 8, "reopens"),
    C("lon", K.REAL, 12),
    C("lat", K.REAL, 12),
)

EFFORT = (
    C("period", K.DATE, 12),
    C("key", K.TEXT, 12),
    C("name", K.TEXT, 18),
    C("patrols", K.INT, 8),
    C("length_m", K.REAL, 12),
    C("duration_s", K.REAL, 12),
)

UNCOVERED = (
    C("segment_id", K.INT, 8),
    C("seq", K.INT, 6),
    C("river_code", K.TEXT, 20),
    C("river_name", K.TEXT, 16),
    C("is_border", K.BOOL, 8),
    C("length_m", K.REAL, 10),
)

DUTY = (
    C("period_kind", K.TEXT, 8, "kind"),
    C("period", K.TEXT, 12),
    C("period_label", K.TEXT, 18, "label"),
    C("first_day", K.DATE, 12),
    C("due", K.DATE, 12),
    C("appointment_id", K.INT, 8, "appt_id"),
    C("member_id", K.INT, 8),
    C("chief", K.TEXT, 12),
    C("level", K.TEXT, 8),
    C("side_code", K.TEXT, 12),
    C("side", K.TEXT, 14),
    C("county_code", K.TEXT, 10, "county"),
    C("river_code", K.TEXT, 20),
    C("river", K.TEXT, 14),
    C("stretch", K.TEXT, 16),
    C("stretch_m", K.INT, 10),
    C("required", K.INT, 8),
    C("done", K.INT, 8),
    C("status", K.TEXT, 10),
    C("coverage_percent", K.REAL, 10, "cover_pct"),
    C("last_patrol_at", K.TIME, 17, "last_ptrl"),
    C("patrols_counted", K.TEXT, 20, "counted"),
    C("patrols_not_counted", K.TEXT, 24, "not_count"),
    C("incidents_total", K.INT, 8, "inc_total"),
    C("incidents_open", K.INT, 8, "inc_open"),
    C("incidents_overdue", K.INT, 8, "inc_late"),
)

DECISIONS = (
    C("id", K.INT, 8),
    C("meeting_id", K.INT, 8),
    C("meeting_title", K.TEXT, 20, "meeting"),
    C("meeting_held_at", K.TIME, 17, "held_at"),
    C("zone_code", K.TEXT, 14),
    C("position", K.INT, 6),
    C("body", K.TEXT, 40),
    C("deadline", K.DATE, 12),
    C("status", K.TEXT, 10),
    C("done_at", K.TIME, 17),
    C("owners", K.TEXT, 24),
    C("links", K.TEXT, 20),
)

COLUMNS: dict[str, tuple[Column, ...]] = {
    "patrols": PATROLS,
    "incidents": INCIDENTS,
    "effort": EFFORT,
    "uncovered": UNCOVERED,
    "duty": DUTY,
    "decisions": DECISIONS,
}
