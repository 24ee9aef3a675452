"""A list of monitoring sections (监测断面) as offices keep it, read into checked rows;
nothing here touches the database (`sections` snaps and stores them).

The file is a spreadsheet (`core.sheets`: XLSX, or CSV in UTF-8 or GB18030) with one header
row in Chinese or English, or a GeoJSON FeatureCollection of points whose properties use
the same words. Each row: the section's code (断面编码) and name, its kind (国控, 省控, 市控,
县控 or 交界), the water it samples (河流 or 湖库), its target class (水质目标: I..V, Ⅲ,
"III类", 3), where it is (经度/纬度 in a stated datum; a GeoJSON's point), and optionally
the river it lies on (code or name; else the nearest) and the side it belongs to (所属: a
jurisdiction code).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from geo_patrol.core import sheets
from geo_patrol.core.catalog import msg
from geo_patrol.core.coords import to_wgs84
from geo_patrol.core.errors import InvalidInput
from geo_patrol.core.sheets import Cell, Limits, RowError, header_key, text_of
from geo_patrol.core.vocabulary import Datum, SectionKind, WaterBody
from geo_patrol.incidents.bulk_import_file import parse_coordinate, parse_datum, parse_latitude
from geo_patrol.water.files import Columns, find_header, read_rows, text_cell

LIMITS = Limits(name=msg("problem.water.sections_kind"), max_rows=5_000)

FIELDS = (
    "code", "name", "name_en", "kind", "water_body", "target_class", "lon", "lat", "datum",
    "river", "side",
)  # fmt: skip
CHINESE = {
    "code": "断面编码",
    "name": "断面名称",
    "name_en": "英文名",
    "kind": "断面类型",
    "water_body": "水体",
    "target_class": "水质目标",
    "lon": "经度",
    "lat": "纬度",
    "datum": "坐标系",
    "river": "河流",
    "side": "所属",
}
REQUIRED = ("code", "name", "kind", "target_class", "lon", "lat")
# Header words, lower-cased without spaces, to the field they name.
HEADERS = {
    **{header_key(word): name for name, word in CHINESE.items()},
    **{name.replace("_", ""): name for name in FIELDS},
    **dict.fromkeys(("断面代码", "断面编号", "sectioncode", "编码", "代码"), "code"),
    **dict.fromkeys(("断面", "sectionname", "名称", "section"), "name"),
    **dict.fromkeys(("英文名称", "englishname"), "name_en"),
    **dict.fromkeys(("类型", "断面性质", "断面级别", "控制级别", "type"), "kind"),
    **dict.fromkeys(("水体类型", "waterbody"), "water_body"),
    **dict.fromkeys(("目标", "水质目标类别", "目标水质", "target", "targetclass"), "target_class"),
    **dict.fromkeys(("lng", "longitude", "x"), "lon"),
    **dict.fromkeys(("latitude", "y"), "lat"),
    **dict.fromkeys(("坐标类型", "crs"), "datum"),
    **dict.fromkeys(("所在河流", "河流名称", "河流编码", "rivercode"), "river"),
    **dict.fromkeys(
        ("所属辖区", "所属地区", "辖区", "行政区", "jurisdiction", "sidecode"), "side"
    ),
}
KINDS = {
    **{kind.value: kind for kind in SectionKind},
    **dict.fromkeys(("国控", "国家控制", "国考"), SectionKind.NATIONAL),
    **dict.fromkeys(("省控", "省考"), SectionKind.PROVINCIAL),
    **dict.fromkeys(("市控", "市考"), SectionKind.MUNICIPAL),
    **dict.fromkeys(("县控", "区控", "县考"), SectionKind.COUNTY),
    **dict.fromkeys(("交界", "跨界", "跨界交界", "省界", "市界", "县界"), SectionKind.BORDER),
}
WATER_BODIES = {
    **{body.value: body for body in WaterBody},
    **dict.fromkeys(("河流", "河", "河道", "rivers", "stream"), WaterBody.RIVER),
    **dict.fromkeys(
        ("湖库", "湖泊", "水库", "湖", "库", "湖泊水库", "lakes", "reservoir"), WaterBody.LAKE
    ),
}
# Target classes as offices write them: roman numerals (ASCII or the Unicode ones), digits,
# with or without 类 ("III类", "Ⅲ类水").
ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4, "v": 5}
UNICODE_ROMAN = {"Ⅰ": 1, "Ⅱ": 2, "Ⅲ": 3, "Ⅳ": 4, "Ⅴ": 5, "ⅰ": 1, "ⅱ": 2, "ⅲ": 3, "ⅳ": 4, "ⅴ": 5}


@dataclass(frozen=True)
class SectionRow:
    """One section as the file gives it; `lon`/`lat` in WGS84 (converted from its datum)."""

    row: int
    code: str
    name: str
    kind: SectionKind
    water_body: WaterBody
    target_class: int
    lon: float
    lat: float
    name_en: str | None = None
    river: str | None = None
    side: str | None = None


@dataclass(frozen=True)
class SectionFile:
    """The good rows, the bad cells, each field's column, and how many data rows there were."""

    rows: list[SectionRow]
    errors: list[RowError]
    columns: Columns
    data_rows: int = 0


def read_sections(data: bytes, *, datum: Datum = Datum.WGS84) -> SectionFile:
    """Read a section list into rows and row errors; `datum` applies to rows without a
    datum column (or an empty cell). ImportFileError if it cannot be read."""
    table, errors = read_rows(data, LIMITS)
    columns = find_header(
        table, lookup=lambda cell: HEADERS.get(header_key(cell)), required=REQUIRED,
        chinese=CHINESE,
    )  # fmt: skip
    rows: list[SectionRow] = []
    seen: dict[str, int] = {}
    data_rows = len(errors)
    for number, cells in table.rows:
        if number <= columns.header_row:
            continue
        data_rows += 1
        values, row_errors = sheets.parse_cells(
            number, cells, index=columns.index, written=columns.written,
            formulas=table.formulas, parsers=PARSERS,
        )  # fmt: skip
        if not row_errors:
            first = seen.setdefault(str(values["code"]), number)
            if first != number:
                detail = msg("problem.water.same_code", first=first)
                row_errors.append(RowError(number, columns.column("code"), detail))
        errors.extend(row_errors)
        if not row_errors:
            rows.append(_row(number, values, datum))
    errors.sort(key=lambda error: error.row)
    return SectionFile(rows, errors, columns, data_rows)


def _row(number: int, values: dict[str, object], datum: Datum) -> SectionRow:
    """A row's values as a section, its point in WGS84."""
    given = values.get("datum") or datum
    lons, lats = to_wgs84(
        np.array([values["lon"]], dtype=float), np.array([values["lat"]], dtype=float),
        datum=str(given),
    )  # fmt: skip
    return SectionRow(
        row=number,
        code=str(values["code"]),
        name=str(values["name"]),
        name_en=values.get("name_en"),  # type: ignore[arg-type]
        kind=values["kind"],  # type: ignore[arg-type]
        water_body=values.get("water_body") or WaterBody.RIVER,  # type: ignore[arg-type]
        target_class=int(values["target_class"]),  # type: ignore[call-overload]
        lon=float(lons[0]),
        lat=float(lats[0]),
        river=values.get("river"),  # type: ignore[arg-type]
        side=values.get("side"),  # type: ignore[arg-type]
    )


def _word(cell: Cell) -> str | None:
    """A vocabulary cell as looked up: lower case, no spaces, without a trailing 断面."""
    written = text_cell(cell)
    if written is None:
        return None
    return re.sub(r"[\s\u3000]", "", written).lower().removesuffix("断面")


def parse_kind(cell: Cell) -> SectionKind:
    """国控, 省控, 市控, 县控, 交界 (with or without 断面), or national ... border."""
    word = _word(cell)
    if word is None:
        raise InvalidInput(msg("problem.roster.empty"))
    kind = KINDS.get(word)
    if kind is None:
        raise InvalidInput(msg("problem.water.not_kind", value=text_of(cell)[:20]))
    return kind


def parse_water_body(cell: Cell) -> WaterBody | None:
    """河流 or 湖库 (湖泊, 水库), river or lake; empty: a river."""
    word = _word(cell)
    if word is None:
        return None
    body = WATER_BODIES.get(word)
    if body is None:
        raise InvalidInput(msg("problem.water.not_water_body", value=text_of(cell)[:20]))
    return body


def parse_target(cell: Cell) -> int:
    """A target class 1..5: I..V, Ⅰ..Ⅴ, 1..5, "III类" ("劣V" is no target)."""
    if isinstance(cell, int | float) and not isinstance(cell, bool):
        if float(cell) in (1, 2, 3, 4, 5):
            return int(cell)
        raise InvalidInput(msg("problem.water.not_target", value=text_of(cell)[:20]))
    written = text_cell(cell)
    if written is None:
        raise InvalidInput(msg("problem.roster.empty"))
    word = re.sub(r"[\s\u3000]", "", written).removesuffix("水").removesuffix("类")
    found = UNICODE_ROMAN.get(word) or ROMAN.get(word.lower())
    if found is None and word in ("1", "2", "3", "4", "5"):
        found = int(word)
    if found is None:
        raise InvalidInput(msg("problem.water.not_target", value=written[:20]))
    return found


def _required(cell: Cell) -> str:
    """A text cell that must be there."""
    return str(text_cell(cell, required=True))


def _code(cell: Cell) -> str:
    """A section's code (at most 64 characters, as stored)."""
    return str(text_cell(cell, required=True, limit=64))


def _position(parse: Callable[[Cell], float | None]) -> Callable[[Cell], float]:
    """A coordinate parser that refuses an empty cell."""

    def parsed(cell: Cell) -> float:
        value = parse(cell)
        if value is None:
            raise InvalidInput(msg("problem.roster.empty"))
        return value

    return parsed


PARSERS: dict[str, Callable[[Cell], object]] = {
    "code": _code,
    "name": _required,
    "name_en": text_cell,
    "kind": parse_kind,
    "water_body": parse_water_body,
    "target_class": parse_target,
    "lon": _position(parse_coordinate),
    "lat": _position(parse_latitude),
    "datum": parse_datum,
    "river": text_cell,
    "side": lambda cell: text_cell(cell, limit=32),
}
