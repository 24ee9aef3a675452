"""A river-chief roster (河长名录) as an office keeps it, read into checked rows.

Offices keep the roster in Excel: saved as XLSX, or as CSV in UTF-8 (with or without the BOM
Excel adds) or, from Excel on Chinese Windows, in GB18030. One header row names the columns,
in English or Chinese, in any order (a title row above it is skipped); blank rows are
skipped. Every bad cell is reported with its row as Excel numbers it (the header row of a
file without a title is row 1) and its column as the file names it. Nothing here touches the
database: `geo_patrol.duty.roster` resolves rivers, sides and members and stores the rows.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import cast

from geo_patrol.core import sheets
from geo_patrol.core.catalog import msg
from geo_patrol.core.errors import ImportFileError, InvalidInput
from geo_patrol.core.sheets import Cell as Cell
from geo_patrol.core.sheets import Limits
from geo_patrol.core.sheets import RowError as RowError
from geo_patrol.core.sheets import Table as Table
from geo_patrol.core.sheets import text_of as text_of
from geo_patrol.core.values import FIRST_YEAR, LAST_YEAR, unstorable
from geo_patrol.core.vocabulary import ChiefLevel, StretchKind

MAX_FILE_BYTES = sheets.MAX_FILE_BYTES
MAX_UNPACKED_BYTES = sheets.MAX_UNPACKED_BYTES
MAX_ROWS = 10_000  # rows of chiefs; a county's roster has a few thousand at most
MAX_ERRORS = 100  # reported per file; past it the office has a wrong file, not wrong rows
MAX_CELL_CHARS = 500
MAX_SEQS = 5_000
HEADER_SEARCH_ROWS = 10

FIELDS = ("name", "phone", "level", "river", "stretch", "side", "from", "to", "joint")
REQUIRED = ("name", "phone", "level", "river", "side", "from")
# The Chinese header of each field, as the roster template writes it (and messages name it).
CHINESE = {
    "name": "姓名",
    "phone": "手机",
    "level": "级别",
    "river": "河道",
    "stretch": "河段",
    "side": "行政区",
    "from": "起始日期",
    "to": "截止日期",
    "joint": "联合河长",
}
# Header words offices use, lower-cased without spaces, to the field they name.
HEADERS = {
    **{word: name for name, word in CHINESE.items()},
    **{name: name for name in FIELDS},
    "河长": "name",
    "河长姓名": "name",
    "手机号": "phone",
    "手机号码": "phone",
    "联系电话": "phone",
    "电话": "phone",
    "mobile": "phone",
    "河长级别": "level",
    "河道名称": "river",
    "河流": "river",
    "河流名称": "river",
    "rivercode": "river",
    "负责河段": "stretch",
    "行政区划": "side",
    "所属行政区": "side",
    "jurisdiction": "side",
    "开始日期": "from",
    "任职日期": "from",
    "validfrom": "from",
    "结束日期": "to",
    "validto": "to",
    "联合河长组": "joint",
}
LEVELS = {
    **{level.value: level for level in ChiefLevel},
    "县级": ChiefLevel.COUNTY,
    "区级": ChiefLevel.COUNTY,
    "县": ChiefLevel.COUNTY,
    "区": ChiefLevel.COUNTY,
    "镇级": ChiefLevel.TOWN,
    "乡级": ChiefLevel.TOWN,
    "乡镇级": ChiefLevel.TOWN,
    "街道级": ChiefLevel.TOWN,
    "镇": ChiefLevel.TOWN,
    "乡": ChiefLevel.TOWN,
    "村级": ChiefLevel.VILLAGE,
    "社区级": ChiefLevel.VILLAGE,
    "村": ChiefLevel.VILLAGE,
}
WHOLE_RIVER = frozenset({"", "全河", "全段", "全河段", "whole", "all"})
DATE = re.compile(
    r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?"
)
COMPACT_DATE = re.compile(r"(\d{4})(\d{2})(\d{2})")
SEQ_ITEM = re.compile(r"(\d{1,6})(?:\s*[-~～—–至]\s*(\d{1,6}))?")
PHONE = re.compile(r"1\d{10}")
# Excel's day numbers (1900 date system) of 1955 to 2099: a number in a date column of a
# workbook in that range is a date whose cell lost its format.
EXCEL_EPOCH = date(1899, 12, 30)
EXCEL_DAYS = (20090, 73051)


class RosterRejected(ImportFileError):
    """A roster with bad rows: nothing is stored; `errors` lists each row and field."""

    def __init__(self, errors: list[RowError], *, truncated: bool = False) -> None:
        rows = len({error.row for error in errors})
        more = msg("problem.roster.first_errors", count=MAX_ERRORS) if truncated else ""
        super().__init__(
            msg("problem.roster.rejected", rows=rows, more=more),
            errors=[error.as_dict() for error in errors],
            truncated=truncated,
        )
        self.errors = errors


@dataclass(frozen=True)
class Stretch:
    """A stretch as the roster writes it: the whole river, segment seqs, or two points."""

    kind: StretchKind
    seqs: tuple[int, ...] = ()
    points: tuple[tuple[float, float], ...] = ()
    label: str | None = None


@dataclass(frozen=True)
class RosterRow:
    """One chief's appointment as the roster gives it (river, side and member unresolved)."""

    row: int
    name: str
    phone: str
    level: ChiefLevel
    river: str
    stretch: Stretch
    side: str
    valid_from: date
    valid_to: date | None
    joint: str | None


@dataclass(frozen=True)
class Roster:
    """The good rows, the bad cells, and each field's column header as written."""

    rows: list[RosterRow]
    errors: list[RowError]
    columns: dict[str, str] = field(default_factory=dict)
    truncated: bool = False

    def column(self, name: str) -> str:
        """The header the file gives a field (the field's name when it has no column)."""
        return self.columns.get(name, name)


def read_roster(data: bytes) -> Roster:
    """Read a roster file (XLSX, or CSV in UTF-8 or GB18030) into rows and row errors; a
    file that cannot be read at all raises ImportFileError (FileTooLarge over the limits)."""
    return parse_table(read_table(data))


def read_table(data: bytes) -> Table:
    """The cells of a roster file, by its content (not its name)."""
    return sheets.read_table(data, Limits(msg("problem.roster.kind"), MAX_FILE_BYTES, MAX_ROWS))


def _header_key(cell: Cell) -> str:
    """A header cell as looked up in HEADERS."""
    return sheets.header_key(cell)


def _find_header(table: Table) -> tuple[int, dict[str, int], dict[str, str]]:
    """The header row (the first of the first rows naming three fields or more): its number,
    each field's column index, and each field's header as written."""
    for seen, (number, cells) in enumerate(table.rows, start=1):
        named = [(HEADERS.get(_header_key(cell)), index) for index, cell in enumerate(cells)]
        if sum(1 for name, _ in named if name) >= 3:
            return _columns(number, cells, named)
        if seen >= HEADER_SEARCH_ROWS:
            break
    expected = ", ".join(f"{name} {CHINESE[name]}" for name in REQUIRED)
    raise ImportFileError(msg("problem.roster.no_header", expected=expected), row=1, field="file")


def _columns(
    number: int, cells: list[Cell], named: list[tuple[str | None, int]]
) -> tuple[int, dict[str, int], dict[str, str]]:
    """Each field's column; every missing or doubled column is a row error of the header."""
    index: dict[str, int] = {}
    written: dict[str, str] = {}
    errors: list[RowError] = []
    for name, position in named:
        if name is None:
            continue  # a column the roster does not need (序号, 备注...) is left alone
        header = text_of(cells[position])
        if name in index:
            errors.append(RowError(number, header, msg("problem.roster.second_column", name=name)))
            continue
        index[name], written[name] = position, header
    for name in REQUIRED:
        if name not in index:
            errors.append(
                RowError(
                    number, name, msg("problem.roster.no_column", name=name, chinese=CHINESE[name])
                )
            )
    if errors:
        raise RosterRejected(errors)
    return number, index, written


def parse_table(table: Table) -> Roster:
    """The rows of a read sheet, checked cell by cell and against each other."""
    header, index, written = _find_header(table)
    rows: list[RosterRow] = []
    errors: list[RowError] = []
    for number, cells in table.rows:
        if number <= header:
            continue
        row_errors, parsed = _parse_row(number, cells, index, written, table.formulas)
        errors.extend(row_errors)
        if parsed is not None:
            rows.append(parsed)
        if len(errors) >= MAX_ERRORS:
            return Roster(rows, errors[:MAX_ERRORS], written, truncated=True)
    errors.extend(_across_rows(rows, written))
    errors.sort(key=lambda error: error.row)
    truncated = len(errors) > MAX_ERRORS
    return Roster(rows, errors[:MAX_ERRORS], written, truncated)


def _parse_row(
    number: int,
    cells: list[Cell],
    index: dict[str, int],
    written: dict[str, str],
    formulas: frozenset[tuple[int, int]],
) -> tuple[list[RowError], RosterRow | None]:
    """One row's cells checked; each bad one is an error naming its column."""
    values, errors = sheets.parse_cells(
        number, cells, index=index, written=written, formulas=formulas, parsers=PARSERS
    )
    if errors:
        return errors, None
    valid_to, valid_from = values.get("to"), cast(date, values["from"])
    if isinstance(valid_to, date) and valid_to < valid_from:
        return [RowError(number, written["to"], msg("problem.roster.end_before_start"))], None
    return [], RosterRow(
        row=number,
        name=cast(str, values["name"]),
        phone=cast(str, values["phone"]),
        level=cast(ChiefLevel, values["level"]),
        river=cast(str, values["river"]),
        stretch=cast(Stretch, values.get("stretch", Stretch(StretchKind.RIVER))),
        side=cast(str, values["side"]),
        valid_from=cast(date, values["from"]),
        valid_to=cast(date | None, values.get("to")),
        joint=cast(str | None, values.get("joint")),
    )


def _across_rows(rows: list[RosterRow], written: dict[str, str]) -> Iterator[RowError]:
    """A phone given two names, and a chief's appointment written twice."""
    names: dict[str, tuple[str, int]] = {}
    appointments: dict[tuple[object, ...], int] = {}
    for row in rows:
        name, first = names.setdefault(row.phone, (row.name, row.row))
        if name != row.name:
            yield RowError(
                row.row,
                written["name"],
                msg("problem.roster.phone_two_names", first=first, name=name, other=row.name),
            )
        key = (row.phone, row.side, row.river, row.stretch, row.valid_from)
        earlier = appointments.setdefault(key, row.row)
        if earlier != row.row:
            yield RowError(
                row.row, written["phone"], msg("problem.roster.same_appointment", earlier=earlier)
            )


def _short_text(cell: Cell, *, required: bool = True) -> str:
    """A text cell PostgreSQL can store, of reasonable length."""
    value = text_of(cell)
    if required and not value:
        raise InvalidInput(msg("problem.roster.empty"))
    if len(value) > MAX_CELL_CHARS:
        raise InvalidInput(msg("problem.roster.cell_too_long", max_cell_chars=MAX_CELL_CHARS))
    if problem := unstorable(value):
        raise InvalidInput(problem)
    return value


def parse_name(cell: Cell) -> str:
    """A chief's name."""
    value = _short_text(cell)
    if len(value) > 100:
        raise InvalidInput(msg("problem.roster.name_too_long"))
    return value


def parse_phone(cell: Cell) -> str:
    """A mainland mobile number as 11 digits (spaces, dashes and +86 dropped)."""
    value = re.sub(r"[\s\-()（）]", "", _short_text(cell))
    for prefix in ("+86", "0086", "86"):
        if value.startswith(prefix) and len(value) == len(prefix) + 11:
            value = value.removeprefix(prefix)
    if not PHONE.fullmatch(value):
        raise InvalidInput(msg("problem.roster.not_mobile", value=value[:20]))
    return value


def parse_level(cell: Cell) -> ChiefLevel:
    """county/town/village, or 县级/镇级/村级 (and the words offices use for them)."""
    value = _short_text(cell)
    level = LEVELS.get(value.lower())
    if level is None:
        raise InvalidInput(msg("problem.roster.not_level", value=value[:20]))
    return level


def parse_stretch(cell: Cell) -> Stretch:
    """Empty (the whole river), segment seqs ("3-7", "3,4,5", "1-3,8") or two points
    ("lon,lat;lon,lat")."""
    value = _short_text(cell, required=False)
    label = value or None
    if value.lower() in WHOLE_RIVER:
        return Stretch(StretchKind.RIVER, label=label)
    if ";" in value or "；" in value:
        return Stretch(StretchKind.BETWEEN, points=_points(value), label=label)
    seqs: list[int] = []
    for item in re.split(r"\s*[,，、]\s*", value):
        found = SEQ_ITEM.fullmatch(item)
        if found is None:
            raise InvalidInput(msg("problem.roster.not_stretch", value=value[:40]))
        low, high = int(found.group(1)), int(found.group(2) or found.group(1))
        if high < low:
            raise InvalidInput(msg("problem.roster.segments_backwards", low=low, high=high))
        if len(seqs) + high - low + 1 > MAX_SEQS:
            raise InvalidInput(msg("problem.roster.too_many_segments", max_seqs=MAX_SEQS))
        seqs.extend(range(low, high + 1))
    return Stretch(StretchKind.SEGMENTS, seqs=tuple(sorted(set(seqs))), label=label)


def _points(value: str) -> tuple[tuple[float, float], ...]:
    """Two lon,lat points."""
    parts = [part.strip() for part in re.split(r"[;；]", value)]
    if len(parts) != 2:
        raise InvalidInput(msg("problem.roster.points_need_two"))
    points = []
    for n, part in enumerate(parts, start=1):
        numbers = re.split(r"\s*[,，]\s*", part)
        try:
            lon, lat = (float(number) for number in numbers)
        except ValueError as error:
            raise InvalidInput(msg("problem.roster.point_not_lon_lat", n=n)) from error
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            raise InvalidInput(msg("problem.roster.point_not_position", n=n))
        points.append((lon, lat))
    return tuple(points)


def parse_date(cell: Cell, *, required: bool = True) -> date | None:
    """A day: a date cell, or text as 2026-01-01, 2026/1/1, 2026.1.1, 2026年1月1日, 20260101."""
    if isinstance(cell, datetime):
        cell = cell.date()
    if isinstance(cell, date):
        return _plausible(cell)
    if (day := _excel_day(cell)) is not None:
        return day
    value = _short_text(cell, required=False)
    if not value:
        if required:
            raise InvalidInput(msg("problem.roster.empty"))
        return None
    found = DATE.fullmatch(value) or COMPACT_DATE.fullmatch(value)
    if found is None:
        raise InvalidInput(msg("problem.roster.not_date", value=value[:20]))
    try:
        day = date(int(found.group(1)), int(found.group(2)), int(found.group(3)))
    except ValueError as error:
        raise InvalidInput(msg("problem.roster.not_calendar_day", value=value[:20])) from error
    return _plausible(day)


def _excel_day(cell: Cell) -> date | None:
    """A workbook cell holding a date without a date format: Excel's day number."""
    if isinstance(cell, bool) or not isinstance(cell, int | float):
        return None
    if not EXCEL_DAYS[0] <= cell < EXCEL_DAYS[1]:
        return None
    return EXCEL_EPOCH + timedelta(days=int(cell))


def _plausible(day: date) -> date:
    """A day in the years a roster can mean."""
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise InvalidInput(
            msg(
                "problem.roster.year_out_of_range",
                day=day.isoformat(),
                first_year=FIRST_YEAR,
                last_year=LAST_YEAR,
            )
        )
    return day


def _optional_date(cell: Cell) -> date | None:
    """The end date: empty means in force."""
    return parse_date(cell, required=False)


def _optional_text(cell: Cell) -> str | None:
    """An optional text (the joint group)."""
    return _short_text(cell, required=False) or None


PARSERS = {
    "name": parse_name,
    "phone": parse_phone,
    "level": parse_level,
    "river": _short_text,
    "stretch": parse_stretch,
    "side": _short_text,
    "from": parse_date,
    "to": _optional_date,
    "joint": _optional_text,
}
