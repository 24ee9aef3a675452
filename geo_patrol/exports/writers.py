"""Writing a `Table` to a file, batch by batch: CSV, XLSX, GeoPackage, zipped Shapefile.

Each writer takes a table and a folder (a temporary directory of the request) and returns
the path of the file it wrote; the route streams it and removes the folder afterwards. The
choice of writers is explained in the package docstring.
"""

from __future__ import annotations

import csv
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

import numpy as np
import xlsxwriter
from pyogrio.raw import write as ogr_write

from geo_patrol.core import catalog
from geo_patrol.core.catalog import msg
from geo_patrol.core.errors import InvalidInput
from geo_patrol.core.local_time import LOCAL
from geo_patrol.duty.listing import formula_safe
from geo_patrol.exports.columns import Batch, Column, Kind, Table


class ListFormat(StrEnum):
    """The file formats of a list export."""

    CSV = "csv"
    XLSX = "xlsx"
    GPKG = "gpkg"
    SHP = "shp"


class ShpEncoding(StrEnum):
    """Text encodings of a Shapefile's attributes (GBK for ArcGIS before 10.2)."""

    UTF8 = "utf-8"
    GBK = "gbk"


MEDIA_TYPES = {
    ListFormat.CSV: "text/csv; charset=utf-8",
    ListFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ListFormat.GPKG: "application/geopackage+sqlite3",
    ListFormat.SHP: "application/zip",
}

# Local times as people read them; Excel shows the same through a number format.
TIME_TEXT = "%Y-%m-%d %H:%M:%S"
EXCEL_TIME = "yyyy-mm-dd hh:mm:ss"
EXCEL_DATE = "yyyy-mm-dd"
# GDAL's time zone flag of a time field: 100 is UTC.
GDAL_UTC = 100
CRS = "EPSG:4326"  # GCJ-02 and BD-09 have no EPSG code: their files say lon/lat too


def local(moment: datetime) -> datetime:
    """An instant as a naive local (CST) time, as Excel stores times."""
    return moment.astimezone(LOCAL).replace(tzinfo=None)


def _utc(moment: datetime) -> datetime:
    """An instant as a naive UTC time."""
    return moment.astimezone(UTC).replace(tzinfo=None)


def yes_no(value: bool, lang: str) -> str:
    """A truth value as a word in `lang`."""
    return catalog.text("export.yes" if value else "export.no", lang)


def text_cell(column: Column, lang: str) -> Callable[[Any], Any]:
    """How a column's values become CSV cells (or Shapefile text), chosen once per column:
    local times, words, formula-safe text, "" for nothing."""
    if column.kind is Kind.TIME:
        return lambda v: "" if v is None else v.astimezone(LOCAL).strftime(TIME_TEXT)
    if column.kind is Kind.DATE:
        return lambda v: "" if v is None else v.isoformat()
    if column.kind is Kind.BOOL:
        words = {True: yes_no(True, lang), False: yes_no(False, lang), None: ""}
        return words.__getitem__
    if column.kind is Kind.TEXT:
        return lambda v: "" if v is None else formula_safe(v)
    return lambda v: "" if v is None else v


def write_csv(table: Table, folder: Path) -> Path:
    """CSV: UTF-8 with a BOM (Excel then reads Chinese), CRLF, the XLSX's headers."""
    path = folder / f"{table.name}.csv"
    cells = [text_cell(column, table.lang) for column in table.columns]
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(table.headers())
        for batch in table.batches:
            lines = [[f(v) for f, v in zip(cells, row, strict=True)] for row in batch.rows]
            writer.writerows(lines)
    return path


@dataclass(frozen=True)
class _Formats:
    """The cell formats of a sheet."""

    header: Any
    time: Any
    date: Any


def write_xlsx(table: Table, folder: Path) -> Path:
    """XLSX in constant memory: a frozen bold header row, widths, autofilter, real dates."""
    path = folder / f"{table.name}.xlsx"
    options = {"constant_memory": True, "tmpdir": str(folder), "strings_to_formulas": False}
    book = xlsxwriter.Workbook(str(path), options)
    sheet = book.add_worksheet(table.layer)
    formats = _Formats(
        header=book.add_format({"bold": True, "bg_color": "#E8EEF4", "border": 1}),
        time=book.add_format({"num_format": EXCEL_TIME}),
        date=book.add_format({"num_format": EXCEL_DATE}),
    )
    headers = table.headers()
    for index, (column, title) in enumerate(zip(table.columns, headers, strict=True)):
        # A Chinese character is about two widths of a Latin one.
        wide = len(title) * (2 if table.lang == "zh" else 1) + 3  # room for the filter button
        sheet.set_column(index, index, max(column.width, wide))
    sheet.write_row(0, 0, headers, formats.header)
    sheet.freeze_panes(1, 0)
    cells = [_xlsx_cell(sheet, column, formats, table.lang) for column in table.columns]
    last = 0
    for batch in table.batches:
        for row in batch.rows:
            last += 1
            for index, (write_cell, value) in enumerate(zip(cells, row, strict=True)):
                if value is not None:
                    write_cell(last, index, value)
    sheet.autofilter(0, 0, max(last, 1), len(table.columns) - 1)
    book.close()
    return path


def _xlsx_cell(
    sheet: Any, column: Column, formats: _Formats, lang: str
) -> Callable[[int, int, Any], Any]:
    """How a column's values are written, chosen once per column: numbers as numbers, times
    and days as Excel dates, text as text (never a formula: a name starting with = stays a
    name)."""
    if column.kind is Kind.TIME:
        time = formats.time
        return lambda r, c, v: sheet.write_datetime(r, c, local(v), time)
    if column.kind is Kind.DATE:
        day = formats.date
        return lambda r, c, v: sheet.write_datetime(r, c, v, day)
    if column.kind is Kind.BOOL:
        words = {True: yes_no(True, lang), False: yes_no(False, lang)}
        return lambda r, c, v: sheet.write_string(r, c, words[v])
    if column.kind in (Kind.INT, Kind.REAL):
        return lambda r, c, v: sheet.write_number(r, c, v)
    return lambda r, c, v: sheet.write_string(r, c, str(v))


def _field(column: Column, values: list[Any], *, shp: bool) -> tuple[np.ndarray, Any]:
    """A column of one batch as a numpy array for GDAL, and its null mask (or None)."""
    missing = np.array([v is None for v in values], dtype=bool)
    mask = missing if missing.any() else None
    if column.kind is Kind.INT:
        return np.array([0 if v is None else v for v in values], dtype=np.int64), mask
    if column.kind is Kind.REAL:
        return np.array([np.nan if v is None else v for v in values], dtype=np.float64), None
    if column.kind is Kind.BOOL:
        return np.array([bool(v) for v in values], dtype=bool), mask
    if column.kind is Kind.TIME and shp:  # DBF has no time of day: local time as text
        texts = [None if v is None else local(v).strftime(TIME_TEXT) for v in values]
        return np.array(texts, dtype=object), None
    if column.kind is Kind.TIME:  # GeoPackage times are UTC (its spec: ...Z); QGIS shows them
        stamps = [np.datetime64("NaT") if v is None else np.datetime64(_utc(v)) for v in values]
        return np.array(stamps, dtype="datetime64[ms]"), None
    if column.kind is Kind.DATE:
        days = [np.datetime64("NaT") if v is None else np.datetime64(v) for v in values]
        return np.array(days, dtype="datetime64[D]"), None
    return np.array(values, dtype=object), None


def _write_layer(
    table: Table, path: Path, *, driver: str, shp: bool = False, encoding: str | None = None
) -> None:
    """The table as one layer of `path` (GDAL), appended batch by batch."""
    names = [c.dbf_name if shp else c.key for c in table.columns]
    times = [c.key for c in table.columns if c.kind is Kind.TIME and not shp]
    first = True
    for batch in _nonempty(table):
        fields = [
            _field(c, [row[i] for row in batch.rows], shp=shp) for i, c in enumerate(table.columns)
        ]
        geometry = None
        if table.geometry_type is not None and batch.geometries is not None:
            geometry = np.array(batch.geometries, dtype=object)
        ogr_write(
            str(path),
            geometry,
            [f for f, _ in fields],
            names,
            field_mask=[m for _, m in fields],
            layer=table.layer,
            driver=driver,
            geometry_type=table.geometry_type,
            crs=CRS if table.geometry_type else None,
            encoding=encoding,
            promote_to_multi=table.geometry_type == "MultiLineString" or None,
            append=not first,
            gdal_tz_offsets={
                name: np.full(len(batch.rows), GDAL_UTC, dtype=np.int16) for name in times
            },
        )
        first = False


def _nonempty(table: Table) -> Iterator[Batch]:
    """The table's batches; one empty batch when it has no rows (the layer is still made)."""
    empty = True
    for batch in table.batches:
        empty = False
        yield batch
    if empty:
        yield Batch([], [] if table.geometry_type else None)


def write_gpkg(table: Table, folder: Path) -> Path:
    """A GeoPackage with one layer named after the list (an attribute table without
    geometry for effort); times in UTC as the GeoPackage spec asks, days as dates."""
    path = folder / f"{table.name}.gpkg"
    _write_layer(table, path, driver="GPKG")
    return path


def write_shp(table: Table, folder: Path, encoding: ShpEncoding = ShpEncoding.UTF8) -> Path:
    """A zipped Shapefile (.shp .shx .dbf .prj .cpg), fields by their short DBF names."""
    if table.geometry_type is None:
        raise InvalidInput(
            msg("problem.exports.no_geometry", list=table.name),
            field="fmt",
        )
    inner = folder / "shp"
    inner.mkdir()
    shp = inner / f"{table.layer}.shp"
    gdal_encoding = "CP936" if encoding is ShpEncoding.GBK else "UTF-8"
    _write_layer(table, shp, driver="ESRI Shapefile", shp=True, encoding=gdal_encoding)
    if encoding is ShpEncoding.GBK:
        # The code page number: what ArcGIS reads in a .cpg (and GDAL too).
        (inner / f"{table.layer}.cpg").write_text("936", encoding="ascii")
    path = folder / f"{table.name}.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for part in sorted(inner.iterdir()):
            archive.write(part, part.name)
    return path


WRITERS: dict[ListFormat, Callable[[Table, Path], Path]] = {
    ListFormat.CSV: write_csv,
    ListFormat.XLSX: write_xlsx,
    ListFormat.GPKG: write_gpkg,
}


def write(
    table: Table, folder: Path, fmt: ListFormat, encoding: ShpEncoding = ShpEncoding.UTF8
) -> Path:
    """The table written in `fmt` into `folder`; the file's path."""
    if fmt is ListFormat.SHP:
        return write_shp(table, folder, encoding)
    return WRITERS[fmt](table, folder)
