"""Readings as monitoring stations export them, read into checked rows; nothing here touches
the database (`readings` finds the sections, classes and stores them).

One row per section and sampling time: the section's code (断面编码) or name (断面名称),
when it was sampled (采样时间 or 监测时间: a date, or a date and time, China time unless the
cell gives an offset), and the parameters of GB 3838-2002 table 1 in mg/L (faecal coliform
in counts per litre), with the headers stations use in either language and with or without
their unit ("氨氮", "氨氮(mg/L)", "NH3-N", "NH3N"). A column in another unit (μg/L) refuses
the file rather than be read a thousand times too high.

A value is a number, empty (not measured), or below the detection limit as labs write it:
"<0.01", "0.01L" (the limit followed by L, as Chinese reports write it), "ND" or "未检出"
(the limit not given). Such a value counts as half its detection limit, the convention for
statistics of monitoring data (环办监测函〔2020〕82号, SL 219-2013; HJ/T 91-2002 only says
to report the limit followed by "L"), and as 0 when no limit is written:
either way it meets every limit its detection limit lets it meet, and is stored as that
number. Below detection means little dissolved oxygen, so "<0.5" for DO counts as 0.25
(劣V), as it should. pH has no detection limit: only a number 0..14 is a pH.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from geo_patrol.core import sheets
from geo_patrol.core.catalog import msg
from geo_patrol.core.errors import ImportFileError, InvalidInput
from geo_patrol.core.sheets import Cell, Limits, RowError, header_key, read_table, text_of
from geo_patrol.incidents.bulk_import_file import parse_moment
from geo_patrol.water.files import Columns, find_header, text_cell
from geo_patrol.water.standard import LIMITS as STANDARD

LIMITS = Limits(name=msg("problem.water.readings_kind"), max_rows=10_000)
# In the order of the standard's table 1 (the order a reading's parameters are kept in).
PARAMETERS = ("pH", *STANDARD)
CHINESE = {"section": "断面编码", "section_name": "断面名称", "sampled_at": "采样时间"}
EXPECTED = (
    "断面编码 or 断面名称 (section), 采样时间 (sampled_at), 溶解氧 (DO), 氨氮 (NH3-N), 总磷 (TP)..."
)
WORDS = {
    "DO": ("溶解氧", "dissolvedoxygen"),
    "CODMn": ("高锰酸盐指数", "高锰酸钾指数", "permanganateindex", "imn"),
    "COD": ("化学需氧量", "codcr", "化学需氧量(cod)"),
    "BOD5": ("五日生化需氧量", "生化需氧量", "bod"),
    "NH3-N": ("氨氮", "nh3", "nh4n", "nh4+n", "ammonia", "ammonianitrogen", "氨氮(nh3n)"),
    "TP": ("总磷", "totalphosphorus", "总磷(以p计)"),
    "TN": ("总氮", "totalnitrogen", "总氮(以n计)", "总氮(湖、库,以n计)"),
    "pH": ("ph值",),
    "Cu": ("铜", "copper"),
    "Zn": ("锌", "zinc"),
    "F": ("氟化物", "fluoride", "氟化物(以f计)"),
    "Se": ("硒", "selenium"),
    "As": ("砷", "arsenic"),
    "Hg": ("汞", "mercury"),
    "Cd": ("镉", "cadmium"),
    "Cr6": ("六价铬", "铬(六价)", "铬（六价）", "cr6+", "crvi", "cr(vi)", "hexavalentchromium"),
    "Pb": ("铅", "lead"),
    "CN": ("氰化物", "cyanide"),
    "phenol": ("挥发酚", "phenols", "volatilephenol"),
    "oil": ("石油类", "petroleum"),
    "LAS": ("阴离子表面活性剂", "anionicsurfactant"),
    "S2": ("硫化物", "sulfide", "sulphide"),
    "FC": ("粪大肠菌群", "faecalcoliform", "fecalcoliform", "faecalcoliforms"),
}
HEADERS = {
    **{header_key(word): name for name, word in CHINESE.items()},
    **dict.fromkeys(
        ("断面代码", "断面编号", "站点编码", "sectioncode", "code", "section"), "section"
    ),
    **dict.fromkeys(("断面", "站点名称", "sectionname", "name"), "section_name"),
    **dict.fromkeys(
        (
            "监测时间",
            "采样日期",
            "监测日期",
            "时间",
            "日期",
            "sampledat",
            "samplingtime",
            "time",
            "date",
            "datetime",
        ),
        "sampled_at",
    ),
    **{header_key(name): name for name in PARAMETERS},
    **{header_key(word): name for name, words in WORDS.items() for word in words},
}
# What may follow a parameter's name in a header: its unit ("氨氮(mg/L)", "总磷 mg/L",
# "粪大肠菌群（个/L）") or its symbol ("高锰酸盐指数(CODMn)"), dropped to look it up.
UNIT = r"(?:mg/l|毫克/升|个/l|mpn/l|cfu/l|无量纲)"
# Units other than mg/L: such a column is refused, not read a thousand times too high.
OTHER_UNIT = r"(?:μg/l|µg/l|ug/l|微克/升|ng/l|纳克/升|(?<![mμµun])g/l)"
TAIL = re.compile(rf"(?:[(（\[【][^()（）\[\]【】]*[)）\]】]|/?{UNIT}|/?{OTHER_UNIT})$")
NUMBER = r"(\d+(?:\.\d*)?|\.\d+)(?:e[-+]?\d+)?"
BELOW = re.compile(rf"[<＜]\s*({NUMBER})|({NUMBER})\s*l")
NOT_DETECTED = frozenset({"nd", "n.d.", "n.d", "未检出", "未检测出"})


def lookup(cell: Cell) -> str | None:
    """The field a header names (a unit or symbol after it is allowed; a unit other than
    mg/L refuses the file)."""
    key = header_key(cell)
    if key in HEADERS:
        return HEADERS[key]
    bare = key
    while (shorter := TAIL.sub("", bare)) != bare:
        bare = shorter
    found = HEADERS.get(bare)
    if found in PARAMETERS and re.search(OTHER_UNIT, key):
        raise ImportFileError(
            msg("problem.water.not_mg_per_litre", header=text_of(cell)), field="file"
        )
    return found


@dataclass(frozen=True)
class ReadingRow:
    """One sample as the file gives it: which section, when, and what was measured."""

    row: int
    section: str | None
    section_name: str | None
    sampled_at: datetime
    measured: dict[str, float]


@dataclass(frozen=True)
class ReadingFile:
    """The good rows, the bad cells, each field's column and how many data rows there were."""

    rows: list[ReadingRow]
    errors: list[RowError]
    columns: Columns
    data_rows: int = 0


def read_readings(data: bytes) -> ReadingFile:
    """Read a station export into rows and row errors; ImportFileError if it cannot be read."""
    table = read_table(data, LIMITS)
    columns = find_header(
        table, lookup=lookup, required=("sampled_at",), chinese=CHINESE, expected=EXPECTED
    )
    _check_columns(columns)
    rows: list[ReadingRow] = []
    errors: list[RowError] = []
    data_rows = 0
    for number, cells in table.rows:
        if number <= columns.header_row:
            continue
        data_rows += 1
        values, row_errors = sheets.parse_cells(
            number,
            cells,
            index=columns.index,
            written=columns.written,
            formulas=table.formulas,
            parsers=PARSERS,
        )
        measured = {
            p: float(values[p])  # type: ignore[arg-type]
            for p in PARAMETERS
            if values.get(p) is not None
        }
        section = values.get("section") or values.get("section_name")
        if not row_errors and not section:
            column = columns.written.get("section") or columns.column("section_name")
            row_errors.append(RowError(number, column, msg("problem.roster.empty")))
        if not row_errors and not measured:
            column = columns.column("sampled_at")
            row_errors.append(RowError(number, column, msg("problem.water.nothing_measured")))
        errors.extend(row_errors)
        if not row_errors:
            rows.append(
                ReadingRow(
                    number,
                    values.get("section"),  # type: ignore[arg-type]
                    values.get("section_name"),  # type: ignore[arg-type]
                    values["sampled_at"],  # type: ignore[arg-type]
                    measured,
                )
            )
    return ReadingFile(rows, errors, columns, data_rows)


def _check_columns(columns: Columns) -> None:
    """A section column (code or name) and at least one parameter, or the file is refused."""
    if "section" not in columns.index and "section_name" not in columns.index:
        raise ImportFileError(
            msg("problem.roster.no_column", name="section", chinese="断面编码/断面名称"),
            row=columns.header_row,
            field="file",
        )
    if not set(PARAMETERS) & set(columns.index):
        raise ImportFileError(
            msg("problem.water.no_parameters", expected=", ".join(PARAMETERS)),
            row=columns.header_row,
            field="file",
        )


def parse_value(parameter: str) -> Callable[[Cell], float | None]:
    """The parser of one parameter's cells (see the module's text for the rules)."""

    def parsed(cell: Cell) -> float | None:
        if isinstance(cell, int | float) and not isinstance(cell, bool):
            return _checked(parameter, float(cell), text_of(cell))
        written = text_cell(cell)
        if written is None:
            return None
        word = re.sub(r"[\s\u3000]", "", written).lower()
        if parameter != "pH":
            if word in NOT_DETECTED:
                return 0.0
            below = BELOW.fullmatch(word)
            if below is not None:
                limit = _number(below.group(1) or below.group(3), written)
                return _checked(parameter, limit, written) / 2
        return _checked(parameter, _number(word, written), written)

    return parsed


def _number(word: str, written: str) -> float:
    """A decimal number written as text."""
    if re.fullmatch(rf"[-+]?{NUMBER}", word) is None:
        raise InvalidInput(msg("problem.water.not_value", value=written[:20]))
    return float(word)


def _checked(parameter: str, value: float, written: str) -> float:
    """A finite, non-negative value (a pH: 0..14)."""
    if not math.isfinite(value):
        raise InvalidInput(msg("problem.water.not_value", value=written[:20]))
    if value < 0:
        raise InvalidInput(msg("problem.water.negative", value=written[:20]))
    if parameter == "pH" and value > 14:
        raise InvalidInput(msg("problem.water.not_ph", value=written[:20]))
    return value


PARSERS: dict[str, Callable[[Cell], object]] = {
    "section": lambda cell: text_cell(cell, limit=64),
    "section_name": text_cell,
    "sampled_at": parse_moment,
    **{parameter: parse_value(parameter) for parameter in PARAMETERS},
}
