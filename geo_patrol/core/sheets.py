"""Spreadsheets as offices send them (XLSX, or CSV from Excel), read into numbered rows.

A file is XLSX (told by its content, not its name) read with openpyxl in read-only mode,
formulas marked and never evaluated, or CSV text in UTF-8 (with or without the BOM Excel
adds) or, from Excel on Chinese Windows, GB18030; commas or tabs. Blank rows are skipped,
and each row keeps the number Excel shows for it, so a message can name it. Limits on the
file, what an XLSX unpacks to and the rows keep a wrong file from using the service up.
Used by the river-chief roster (duty) and the incident import (incidents).
"""

from __future__ import annotations

import csv
import io
import math
import re
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time

import openpyxl

from geo_patrol.core.catalog import Message, msg
from geo_patrol.core.errors import FileTooLarge, ImportFileError, InvalidInput

MAX_FILE_BYTES = 5_000_000
MAX_UNPACKED_BYTES = 50_000_000  # an XLSX is a zip: what its parts unpack to
MAX_ROWS = 10_000
MAX_COLUMNS = 64
# What a spreadsheet cell holds once read (openpyxl gives numbers, dates and times).
Cell = str | int | float | bool | date | datetime | time | None


@dataclass(frozen=True)
class Table:
    """A sheet as read: each row with the number Excel shows for it; formula cells marked."""

    rows: list[tuple[int, list[Cell]]]
    formulas: frozenset[tuple[int, int]] = frozenset()  # (row number, column index)


@dataclass(frozen=True)
class RowError:
    """One bad cell (or row): its Excel row number, its column as the file names it, why."""

    row: int
    field: str
    message: Message

    @property
    def detail(self) -> str:
        """Why, in English (logs, the command line)."""
        return str(self.message)

    def as_dict(self) -> dict[str, object]:
        """As the problem+json lists it (the detail in the reader's language, by its code)."""
        return {
            "row": self.row,
            "field": self.field,
            "code": self.message.code,
            "detail": self.message,
        }


@dataclass(frozen=True)
class Limits:
    """How big a file of one kind may be; `name` says what it is in messages (a catalog
    message: "roster", "河长名册")."""

    name: Message
    max_bytes: int = MAX_FILE_BYTES
    max_rows: int = MAX_ROWS


def read_table(data: bytes, limits: Limits) -> Table:
    """The cells of a spreadsheet file, by its content (not its name)."""
    if len(data) > limits.max_bytes:
        raise FileTooLarge(
            msg("problem.sheets.file_too_large", what=limits.name, max_bytes=limits.max_bytes),
            field="file",
        )
    if data.startswith(b"PK\x03\x04"):
        return _read_xlsx(data, limits)
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise ImportFileError(msg("problem.sheets.xls_not_read"), field="file")
    return _read_csv(decode(data), limits)


def decode(data: bytes) -> str:
    """CSV text: UTF-8 (a BOM dropped), else GB18030 as Excel on Chinese Windows saves."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ImportFileError(msg("problem.sheets.utf16_not_read"), field="file")
    try:
        text = data.removeprefix(b"\xef\xbb\xbf").decode("utf-8")
    except UnicodeDecodeError:
        try:
            text = data.decode("gb18030")
        except UnicodeDecodeError as error:
            raise ImportFileError(msg("problem.sheets.unknown_encoding"), field="file") from error
    if "\x00" in text:
        raise ImportFileError(msg("problem.sheets.nul_characters"), field="file")
    return text


def _read_csv(text: str, limits: Limits) -> Table:
    """Records of CSV text (commas, or tabs), numbered as Excel numbers them (a quoted line
    break stays in its cell, so record n is row n)."""
    rows: list[tuple[int, list[Cell]]] = []
    first = next((line for line in text.splitlines() if line.strip()), "")
    # Excel's "Text (tab delimited)" is a CSV with tabs: told by a header without commas.
    delimiter = "\t" if "\t" in first and "," not in first else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    number = 0
    try:
        for number, record in enumerate(reader, start=1):
            _keep(rows, number, list(record[:MAX_COLUMNS]), limits)
    except csv.Error as error:
        raise ImportFileError(
            msg("problem.sheets.row_not_csv", row=number + 1, error=str(error)),
            row=number + 1,
            field="file",
        ) from error
    return Table(rows)


def _keep(
    rows: list[tuple[int, list[Cell]]], number: int, cells: list[Cell], limits: Limits
) -> None:
    """Add a row unless it is blank; refuse a sheet longer than the kind of file can be
    (counting a title and the header)."""
    if not any(text_of(cell) for cell in cells):
        return
    if len(rows) >= limits.max_rows + 2:
        raise FileTooLarge(
            msg("problem.sheets.too_many_rows", what=limits.name, max_rows=limits.max_rows),
            field="file",
        )
    rows.append((number, cells))


def _read_xlsx(data: bytes, limits: Limits) -> Table:
    """The first sheet of an XLSX workbook, read without evaluating anything."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    # NotImplementedError: a zip feature Python cannot read (a newer version, a compression
    # method it lacks), as a damaged header can also claim.
    except (zipfile.BadZipFile, ValueError, OSError, NotImplementedError) as error:
        raise ImportFileError(
            msg("problem.sheets.xlsx_damaged", error=str(error)), field="file"
        ) from error
    if unpacked > MAX_UNPACKED_BYTES:
        raise FileTooLarge(
            msg("problem.sheets.xlsx_too_large", max_unpacked_bytes=MAX_UNPACKED_BYTES),
            field="file",
        )
    try:
        return _first_sheet(data, limits)
    except (FileTooLarge, ImportFileError):
        raise
    # openpyxl raises whatever its zip, XML and cell readers raise on a damaged workbook
    # (KeyError, ValueError, TypeError, IndexError, XML errors...): all mean "cannot read".
    except Exception as error:
        raise ImportFileError(
            msg("problem.sheets.xlsx_unreadable", error=repr(error)), field="file"
        ) from error


def _first_sheet(data: bytes, limits: Limits) -> Table:
    """Cells of the first sheet (values as stored; formula cells marked, never evaluated)."""
    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    try:
        sheet = book.worksheets[0] if book.worksheets else None
        if sheet is None or not hasattr(sheet, "iter_rows"):
            raise ImportFileError(msg("problem.sheets.empty_sheet"), field="file")
        rows: list[tuple[int, list[Cell]]] = []
        formulas: set[tuple[int, int]] = set()
        for number, cells in enumerate(sheet.iter_rows(max_col=MAX_COLUMNS), start=1):
            values: list[Cell] = []
            for index, cell in enumerate(cells):
                if getattr(cell, "data_type", None) == "f":
                    formulas.add((number, index))
                value = cell.value
                plain = isinstance(value, str | int | float | date | time) or value is None
                values.append(value if plain else str(value))  # type: ignore[arg-type]
            _keep(rows, number, values, limits)
        return Table(rows, frozenset(formulas))
    finally:
        book.close()


def header_key(cell: Cell) -> str:
    """A header cell as looked up in a table of header words (no spaces, lower case)."""
    return re.sub(r"[\s_\-\u3000]", "", text_of(cell)).lower()


def text_of(cell: Cell) -> str:
    """A cell as text, trimmed (whole numbers without '.0': Excel stores phones as numbers)."""
    if cell is None:
        return ""
    if isinstance(cell, bool):
        return "TRUE" if cell else "FALSE"
    if isinstance(cell, float):
        if math.isfinite(cell) and cell.is_integer() and abs(cell) < 1e15:
            return str(int(cell))
        return repr(cell)
    if isinstance(cell, datetime):
        return cell.date().isoformat() if cell.time() == time() else cell.isoformat(" ")
    if isinstance(cell, date | time):
        return cell.isoformat()
    return str(cell).replace("\u3000", " ").strip()


def parse_cells(
    number: int,
    cells: list[Cell],
    *,
    index: Mapping[str, int],
    written: Mapping[str, str],
    formulas: frozenset[tuple[int, int]],
    parsers: Mapping[str, Callable[[Cell], object]],
) -> tuple[dict[str, object], list[RowError]]:
    """Each cell of row `number` read by its field's parser (a parser refuses a bad cell with
    InvalidInput); a formula is refused; each bad cell an error naming its column as the
    file writes it."""
    values: dict[str, object] = {}
    errors: list[RowError] = []
    for name, position in index.items():
        cell = cells[position] if position < len(cells) else None
        try:
            if (number, position) in formulas:
                raise InvalidInput(msg("problem.roster.formula"))
            values[name] = parsers[name](cell)
        except InvalidInput as error:
            errors.append(RowError(number, written[name], error.message))
    return values, errors
