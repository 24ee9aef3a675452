"""Reports exported by other systems (a river-chief platform, a 12345 hotline), read into
checked rows; nothing here touches the database (`bulk_import` resolves and stores them).

The file is a spreadsheet as `core.sheets` reads it. One header row names the columns in
Chinese or English, in any order, with the words such exports use (工单编号, 诉求内容...).
Each row: the platform's id for the report (kept, so the same row again changes nothing),
the platform (a column, or the request's `source`), the time (China time unless the cell
gives an offset), a place (lon/lat in a stated datum, or an address, village or town name),
the category (mapped to ours by a table), an optional severity, description and phone.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo

from geo_patrol.core import sheets
from geo_patrol.core.catalog import Message, msg
from geo_patrol.core.errors import ImportFileError, InvalidInput
from geo_patrol.core.local_time import LOCAL
from geo_patrol.core.sheets import Cell, Limits, RowError, Table, header_key, read_table, text_of
from geo_patrol.core.values import FIRST_YEAR, LAST_YEAR, unstorable
from geo_patrol.core.vocabulary import Datum, Severity

LIMITS = Limits(name=msg("problem.incidents.import_kind"), max_rows=10_000)
MAX_ERRORS = 500
HEADER_SEARCH_ROWS = 10
MAX_TEXT = 4000  # as a report's description through the API
MAX_SHORT = 200

FIELDS = (
    "external_id", "source", "time", "lon", "lat", "datum", "address", "village", "town",
    "category", "severity", "description", "phone",
)  # fmt: skip
# The Chinese header of each field (messages name a missing column so).
CHINESE = {
    "external_id": "外部编号",
    "source": "来源",
    "time": "时间",
    "lon": "经度",
    "lat": "纬度",
    "datum": "坐标系",
    "address": "地址",
    "village": "村",
    "town": "镇",
    "category": "类别",
    "severity": "严重程度",
    "description": "描述",
    "phone": "电话",
}
# Header words, lower-cased without spaces, to the field they name; hotline and river-chief
# platform exports use the longer words.
HEADERS = {
    **{word: name for name, word in CHINESE.items()},
    **{name.replace("_", ""): name for name in FIELDS},
    **dict.fromkeys(
        ("工单编号", "工单号", "事件编号", "案件编号", "编号", "id", "ticket", "ticketid"),
        "external_id",
    ),
    **dict.fromkeys(("来源平台", "平台", "信息来源", "platform"), "source"),
    **dict.fromkeys(
        ("上报时间", "发生时间", "受理时间", "来电时间", "反映时间", "登记时间", "reportedat"),
        "time",
    ),
    **dict.fromkeys(("lng", "longitude", "x坐标"), "lon"),
    **dict.fromkeys(("latitude", "y坐标"), "lat"),
    **dict.fromkeys(("坐标类型", "crs"), "datum"),
    **dict.fromkeys(("事发地址", "详细地址", "事发地点", "地点", "位置", "location"), "address"),
    **dict.fromkeys(("村名", "所属村", "村社区", "村(社区)", "社区"), "village"),
    **dict.fromkeys(("乡镇", "镇街", "所属镇街", "街道", "乡镇街道", "所属乡镇"), "town"),
    **dict.fromkeys(("类型", "事件类型", "问题类型", "诉求类型", "工单类型", "type"), "category"),
    **dict.fromkeys(("等级", "紧急程度", "级别"), "severity"),
    **dict.fromkeys(
        ("问题描述", "内容", "诉求内容", "来电内容", "事件描述", "content", "details"),
        "description",
    ),
    **dict.fromkeys(("手机", "联系电话", "来电号码", "反映人电话", "mobile", "tel"), "phone"),
}
REQUIRED = ("external_id", "time", "category")
SEVERITIES = {
    **{severity.value: severity for severity in Severity},
    **dict.fromkeys(("轻微", "低", "较轻"), Severity.LOW),
    **dict.fromkeys(("一般", "中", "普通"), Severity.MEDIUM),
    **dict.fromkeys(("较重", "较大", "严重", "高", "紧急"), Severity.HIGH),
    **dict.fromkeys(("重大", "特别严重", "特大", "特急"), Severity.CRITICAL),
}
DATUMS = {
    **{datum.value: datum for datum in Datum},
    "wgs-84": Datum.WGS84,
    "epsg:4326": Datum.WGS84,
    "gps": Datum.WGS84,
    "cgcs-2000": Datum.CGCS2000,
    "epsg:4490": Datum.CGCS2000,
    "国家2000": Datum.CGCS2000,
    "gcj-02": Datum.GCJ02,
    "火星坐标": Datum.GCJ02,
    "高德": Datum.GCJ02,
    "bd-09": Datum.BD09,
    "bd09ll": Datum.BD09,
    "百度": Datum.BD09,
}
MOMENT = re.compile(
    r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
    r"(?:(?:\s*|T)(\d{1,2})\s*[:时]\s*(\d{1,2})(?:\s*[:分]\s*(\d{1,2})(?:\.\d+)?\s*秒?|\s*分)?)?"
    r"\s*(Z|[+-]\d{2}:?\d{2})?"
)
EXCEL_EPOCH = datetime(1899, 12, 30)
EXCEL_DAYS = (20090, 73051)


@dataclass(frozen=True)
class ReportRow:
    """One report as the file gives it (place and category not yet resolved)."""

    row: int
    external_id: str
    source: str
    reported_at: datetime
    category: str
    severity: Severity
    lon: float | None = None
    lat: float | None = None
    datum: Datum = Datum.WGS84
    address: str | None = None
    village: str | None = None
    town: str | None = None
    description: str | None = None
    phone: str | None = None


@dataclass(frozen=True)
class ReportFile:
    """The good rows, the bad cells, and each field's header as the file writes it."""

    rows: list[ReportRow]
    errors: list[RowError]
    columns: dict[str, str] = field(default_factory=dict)
    data_rows: int = 0

    def column(self, name: str) -> str:
        """The header the file gives a field (the field's name when it has no column)."""
        return self.columns.get(name, name)


def read_reports(data: bytes, *, source: str | None, datum: Datum) -> ReportFile:
    """Read an export into rows and row errors; `source` and `datum` apply to rows whose
    file has no such column (or an empty cell). ImportFileError if it cannot be read."""
    table = read_table(data, LIMITS)
    header, index, written = _find_header(table)
    rows: list[ReportRow] = []
    errors: list[RowError] = []
    seen: dict[tuple[str, str], int] = {}
    data_rows = 0
    for number, cells in table.rows:
        if number <= header:
            continue
        data_rows += 1
        values, row_errors = _cells(number, cells, index, written, table.formulas)
        parsed = None if row_errors else _row(number, values, written, source, datum, row_errors)
        if parsed is not None:
            first = seen.setdefault((parsed.source, parsed.external_id), number)
            if first != number:
                detail = msg("problem.incidents.import_same_id", first=first)
                row_errors.append(RowError(number, written["external_id"], detail))
                parsed = None
        errors.extend(row_errors)
        if parsed is not None:
            rows.append(parsed)
    return ReportFile(rows, errors, written, data_rows)


def _find_header(table: Table) -> tuple[int, dict[str, int], dict[str, str]]:
    """The header row (the first of the first rows naming three fields or more)."""
    for seen, (number, cells) in enumerate(table.rows, start=1):
        named = [(HEADERS.get(header_key(cell)), n) for n, cell in enumerate(cells)]
        if sum(1 for name, _ in named if name) >= 3:
            return _columns(number, cells, named)
        if seen >= HEADER_SEARCH_ROWS:
            break
    expected = ", ".join(f"{name} {CHINESE[name]}" for name in REQUIRED)
    raise ImportFileError(
        msg("problem.incidents.import_no_header", expected=expected), row=1, field="file"
    )


def _columns(
    number: int, cells: list[Cell], named: list[tuple[str | None, int]]
) -> tuple[int, dict[str, int], dict[str, str]]:
    """Each field's column; a missing or doubled column refuses the file."""
    index: dict[str, int] = {}
    written: dict[str, str] = {}
    problems: list[Message] = []
    for name, position in named:
        if name is None:
            continue  # a column we do not need (序号, 处理结果...) is left alone
        if name in index:
            header = text_of(cells[position])
            problems.append(msg("problem.incidents.import_second_column", name=name, header=header))
            continue
        index[name], written[name] = position, text_of(cells[position])
    problems += [
        msg("problem.roster.no_column", name=name, chinese=CHINESE[name])
        for name in REQUIRED
        if name not in index
    ]
    if ("lon" in index) != ("lat" in index):
        problems.append(msg("problem.incidents.import_lon_lat_together"))
    if "lon" not in index and not {"address", "village", "town"} & set(index):
        problems.append(msg("problem.incidents.import_no_place"))
    if problems:
        raise ImportFileError(_joined(problems), row=number, field="file")
    return number, index, written


def _joined(problems: list[Message]) -> Message:
    """Several problems as one message, in the order found ("a; b; c")."""
    joined = problems[-1]
    for problem in reversed(problems[:-1]):
        joined = msg("problem.incidents.import_problems", first=problem, rest=joined)
    return joined


def _cells(
    number: int,
    cells: list[Cell],
    index: dict[str, int],
    written: dict[str, str],
    formulas: frozenset[tuple[int, int]],
) -> tuple[dict[str, object], list[RowError]]:
    """Each cell of a row parsed by its field's parser; each bad one an error."""
    return sheets.parse_cells(
        number, cells, index=index, written=written, formulas=formulas, parsers=PARSERS
    )


def _row(
    number: int,
    values: dict[str, object],
    written: dict[str, str],
    source: str | None,
    datum: Datum,
    errors: list[RowError],
) -> ReportRow | None:
    """A row's values checked against each other (a place, a source)."""
    lon, lat = values.get("lon"), values.get("lat")
    place = any(values.get(name) for name in ("address", "village", "town"))
    if (lon is None) != (lat is None):
        missing = "lat" if lat is None else "lon"
        detail = msg("problem.incidents.import_lon_lat_empty")
        errors.append(RowError(number, written[missing], detail))
        return None
    if lon is None and not place:
        column = written.get("lon") or written.get("address") or "place"
        detail = msg("problem.incidents.import_no_place")
        errors.append(RowError(number, column, detail))
        return None
    row_source = values.get("source") or source
    if not row_source:
        column = written.get("source", "source")
        errors.append(RowError(number, column, msg("problem.incidents.import_no_source")))
        return None
    return ReportRow(
        row=number,
        external_id=str(values["external_id"]),
        source=str(row_source),
        reported_at=values["time"],  # type: ignore[arg-type]
        category=str(values["category"]),
        severity=values.get("severity") or Severity.MEDIUM,  # type: ignore[arg-type]
        lon=lon,  # type: ignore[arg-type]
        lat=lat,  # type: ignore[arg-type]
        datum=values.get("datum") or datum,  # type: ignore[arg-type]
        address=values.get("address"),  # type: ignore[arg-type]
        village=values.get("village"),  # type: ignore[arg-type]
        town=values.get("town"),  # type: ignore[arg-type]
        description=values.get("description"),  # type: ignore[arg-type]
        phone=values.get("phone"),  # type: ignore[arg-type]
    )


def _text(cell: Cell, *, required: bool = False, limit: int = MAX_SHORT) -> str | None:
    """A text cell PostgreSQL can store, of reasonable length (None when empty)."""
    value = text_of(cell)
    if not value:
        if required:
            raise InvalidInput(msg("problem.roster.empty"))
        return None
    if len(value) > limit:
        raise InvalidInput(msg("problem.roster.cell_too_long", max_cell_chars=limit))
    if problem := unstorable(value):
        raise InvalidInput(problem)
    return value


def parse_external_id(cell: Cell) -> str:
    """The platform's id for the report (what makes a retry safe)."""
    return str(_text(cell, required=True, limit=128))


def parse_moment(cell: Cell) -> datetime:
    """When: a date-time cell (China time), an Excel day number, or text such as
    2026-11-03 14:20, 2026/11/3 14:20:05, 2026年11月3日 14时20分, or ISO with an offset."""
    if isinstance(cell, datetime):
        moment = cell if cell.tzinfo else cell.replace(tzinfo=LOCAL)
    elif isinstance(cell, date):
        moment = datetime.combine(cell, time(), LOCAL)
    elif isinstance(cell, int | float) and not isinstance(cell, bool):
        if not EXCEL_DAYS[0] <= cell < EXCEL_DAYS[1]:
            raise InvalidInput(msg("problem.incidents.import_not_time", value=text_of(cell)[:20]))
        moment = (EXCEL_EPOCH + timedelta(days=float(cell))).replace(tzinfo=LOCAL)
    else:
        moment = _moment_text(str(_text(cell, required=True)))
    if not FIRST_YEAR <= moment.year <= LAST_YEAR:
        raise InvalidInput(
            msg(
                "problem.incidents.import_year_out_of_range",
                day=moment.date().isoformat(),
                first_year=FIRST_YEAR,
                last_year=LAST_YEAR,
            )
        )
    if moment > datetime.now(UTC) + timedelta(days=1):
        raise InvalidInput(msg("problem.incidents.import_future", moment=moment.isoformat()))
    return moment


def _moment_text(value: str) -> datetime:
    """A time written as text."""
    found = MOMENT.fullmatch(value)
    if found is None:
        raise InvalidInput(msg("problem.incidents.import_not_time_format", value=value[:30]))
    year, month, day, hour, minute, second, offset = found.groups()
    try:
        return datetime(
            int(year), int(month), int(day), int(hour or 0), int(minute or 0),
            int(second or 0), tzinfo=_zone(offset),
        )  # fmt: skip
    except ValueError as error:
        raise InvalidInput(
            msg("problem.incidents.import_not_calendar_time", value=value[:30])
        ) from error


def _zone(offset: str | None) -> tzinfo:
    """China time, or the offset written (Z, +08:00, -0500); ValueError past a day."""
    if not offset:
        return LOCAL
    if offset == "Z":
        return UTC
    sign = -1 if offset.startswith("-") else 1
    digits = offset.lstrip("+-").replace(":", "")
    return timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))


def parse_coordinate(cell: Cell) -> float | None:
    """A longitude or latitude in decimal degrees (empty: None)."""
    if isinstance(cell, int | float) and not isinstance(cell, bool):
        value = float(cell)
    else:
        written = _text(cell)
        if written is None:
            return None
        try:
            value = float(written.replace("°", ""))
        except ValueError as error:
            raise InvalidInput(
                msg("problem.incidents.import_not_degrees", value=written[:20])
            ) from error
    if not -180 <= value <= 180:  # the latitude's narrower range is checked with its pair
        raise InvalidInput(msg("problem.incidents.import_not_coordinate", value=value))
    return value


def parse_latitude(cell: Cell) -> float | None:
    """A latitude: -90..90."""
    value = parse_coordinate(cell)
    if value is not None and not -90 <= value <= 90:
        raise InvalidInput(msg("problem.incidents.import_not_latitude", value=value))
    return value


def parse_datum(cell: Cell) -> Datum | None:
    """wgs84, cgcs2000, gcj02 or bd09 (and the names offices give them); empty: the option."""
    written = _text(cell)
    if written is None:
        return None
    datum = DATUMS.get(written.lower().replace(" ", ""))
    if datum is None:
        raise InvalidInput(msg("problem.incidents.import_not_datum", value=written[:20]))
    return datum


def parse_severity(cell: Cell) -> Severity | None:
    """low/medium/high/critical, or 一般/较重/严重/重大...; empty: medium."""
    written = _text(cell)
    if written is None:
        return None
    severity = SEVERITIES.get(written.lower())
    if severity is None:
        raise InvalidInput(msg("problem.incidents.import_not_severity", value=written[:20]))
    return severity


def parse_description(cell: Cell) -> str | None:
    """Free text, as long as a report's description may be."""
    return _text(cell, limit=MAX_TEXT)


def parse_phone(cell: Cell) -> str | None:
    """The reporter's phone, kept as written (like a report's contact)."""
    return _text(cell, limit=64)


PARSERS: dict[str, Callable[[Cell], object]] = {
    "external_id": parse_external_id,
    "source": _text,
    "time": parse_moment,
    "lon": parse_coordinate,
    "lat": parse_latitude,
    "datum": parse_datum,
    "address": _text,
    "village": _text,
    "town": _text,
    "category": lambda cell: _text(cell, required=True),
    "severity": parse_severity,
    "description": parse_description,
    "phone": parse_phone,
}
