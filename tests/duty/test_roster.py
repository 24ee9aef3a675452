"""Reading a roster file, without a database: headers in Chinese or English, the encodings
Excel writes (UTF-8, UTF-8 with BOM, GB18030) and real XLSX workbooks, stretches, dates;
whatever bytes or cell texts come in, only our own errors come out."""

from __future__ import annotations

import contextlib
import io
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geo_patrol.core.errors import FileTooLarge, ImportFileError, InvalidInput
from geo_patrol.core.vocabulary import ChiefLevel, StretchKind
from geo_patrol.duty.roster_file import (
    FIELDS,
    MAX_ROWS,
    RosterRejected,
    Table,
    parse_date,
    parse_level,
    parse_phone,
    parse_stretch,
    parse_table,
    read_roster,
)

ZH = "姓名,手机,级别,河道,河段,行政区,起始日期,截止日期,联合河长"
EN = "name,phone,level,river,stretch,side,from,to,joint"
ROWS = [
    "沈建明,13900000001,村级,小天圩河,,320509100202,2026-01-01,,小天圩河联合",
    "钱国强,139 0000 0002,镇级,R-01,3-7,王江泾镇,2026/1/1,2026-12-31,小天圩河联合",
]


def write(tmp_path: Path, name: str, content: bytes) -> bytes:
    """Write a real file and read it back, as an upload arrives."""
    path = tmp_path / name
    path.write_bytes(content)
    return path.read_bytes()


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
@pytest.mark.parametrize("header", [ZH, EN])
def test_csv_in_each_encoding_excel_writes(tmp_path: Path, encoding: str, header: str) -> None:
    data = write(tmp_path, "roster.csv", "\r\n".join([header, *ROWS, ""]).encode(encoding))
    roster = read_roster(data)
    assert roster.errors == []
    first, second = roster.rows
    assert (first.row, first.name, first.phone, first.level) == (
        2,
        "沈建明",
        "13900000001",
        ChiefLevel.VILLAGE,
    )
    assert (first.stretch.kind, first.valid_to, first.joint) == (
        StretchKind.RIVER,
        None,
        "小天圩河联合",
    )
    assert (second.phone, second.side, second.stretch.seqs) == (
        "13900000002",
        "王江泾镇",
        (3, 4, 5, 6, 7),
    )
    assert (second.valid_from, second.valid_to) == (date(2026, 1, 1), date(2026, 12, 31))
    assert roster.column("from") == header.split(",")[6]


def test_tab_delimited_text_as_excel_saves_it() -> None:
    data = "\n".join([ZH.replace(",", "\t"), ROWS[0].replace(",", "\t")]).encode("gb18030")
    roster = read_roster(data)
    assert (roster.errors, roster.rows[0].side) == ([], "320509100202")


def test_gb18030_is_not_taken_for_utf8() -> None:
    """GB18030 bytes of Chinese text are not valid UTF-8: the fallback reads them."""
    data = "\n".join([ZH, ROWS[0]]).encode("gb18030")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    assert read_roster(data).rows[0].name == "沈建明"


def test_a_real_xlsx_with_dates_numbers_a_title_and_a_formula(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["2026年河长名录"])
    sheet.append(ZH.split(","))
    sheet.append(
        ["沈建明", 13900000001, "村级", "小天圩河", None, "320509100202", datetime(2026, 1, 1)]
    )
    sheet.append(
        [
            "钱国强",
            13900000002.0,
            "town",
            "R-01",
            "1,3",
            "330411100",
            "2026-02-01",
            date(2026, 3, 1),
        ]
    )
    sheet.append([None] * 9)
    sheet.append(["孙", 13900000003, "county", "R-01", None, "330411", "=TODAY()"])
    sheet.append(["李", 13900000004, "county", "R-01", None, "330411", 45292])
    buffer = io.BytesIO()
    book.save(buffer)
    roster = read_roster(write(tmp_path, "名录.xlsx", buffer.getvalue()))
    assert [(row.row, row.phone) for row in roster.rows][:2] == [
        (3, "13900000001"),
        (4, "13900000002"),
    ]
    assert roster.rows[0].valid_from == date(2026, 1, 1)
    assert roster.rows[1].stretch.seqs == (1, 3) and roster.rows[1].valid_to == date(2026, 3, 1)
    assert [(error.row, error.field) for error in roster.errors] == [(6, "起始日期")]
    assert (roster.rows[2].row, roster.rows[2].valid_from) == (7, date(2024, 1, 1))  # a number
    assert "formula" in roster.errors[0].detail


@pytest.mark.parametrize(
    ("written", "kind", "seqs", "points"),
    [
        ("", StretchKind.RIVER, (), ()),
        ("全河段", StretchKind.RIVER, (), ()),
        ("3-7", StretchKind.SEGMENTS, (3, 4, 5, 6, 7), ()),
        ("3～5", StretchKind.SEGMENTS, (3, 4, 5), ()),
        ("3,4,5", StretchKind.SEGMENTS, (3, 4, 5), ()),
        ("0-1，7、9", StretchKind.SEGMENTS, (0, 1, 7, 9), ()),
        (
            "120.61,30.93;120.64,30.94",
            StretchKind.BETWEEN,
            (),
            ((120.61, 30.93), (120.64, 30.94)),
        ),
        (
            "120.61， 30.93；120.64,30.94",
            StretchKind.BETWEEN,
            (),
            ((120.61, 30.93), (120.64, 30.94)),
        ),
    ],
)
def test_stretches(
    written: str,
    kind: StretchKind,
    seqs: tuple[int, ...],
    points: tuple[tuple[float, float], ...],
) -> None:
    stretch = parse_stretch(written)
    assert (stretch.kind, stretch.seqs, stretch.points) == (kind, seqs, points)


@pytest.mark.parametrize(
    "written",
    ["7-3", "a-b", "3;4", "120.6,30.9;200,30.9", "1,2,x", "120.6;30.9", "0-99999", "1;2;3"],
)
def test_stretches_that_are_refused(written: str) -> None:
    with pytest.raises(InvalidInput):
        parse_stretch(written)


@pytest.mark.parametrize(
    ("written", "day"),
    [
        ("2026-01-05", date(2026, 1, 5)),
        ("2026/1/5", date(2026, 1, 5)),
        ("2026.01.05", date(2026, 1, 5)),
        ("2026年1月5日", date(2026, 1, 5)),
        ("20260105", date(2026, 1, 5)),
        ("2026-01-05 00:00:00", date(2026, 1, 5)),
        (datetime(2026, 1, 5), date(2026, 1, 5)),
    ],
)
def test_dates_as_offices_write_them(written: str | datetime, day: date) -> None:
    assert parse_date(written) == day


@pytest.mark.parametrize("written", ["2026-02-30", "05/01/2026", "1800-01-01", "明年", "45292"])
def test_dates_that_are_refused(written: str) -> None:
    with pytest.raises(InvalidInput):
        parse_date(written)


def test_levels_and_phones() -> None:
    assert [parse_level(word) for word in ("县级", "区级", "镇级", "街道级", "村级", "Town")] == [
        ChiefLevel.COUNTY,
        ChiefLevel.COUNTY,
        ChiefLevel.TOWN,
        ChiefLevel.TOWN,
        ChiefLevel.VILLAGE,
        ChiefLevel.TOWN,
    ]
    assert parse_phone("+86 139-0000-0001") == parse_phone(13900000001.0) == "13900000001"
    for wrong in ("0512-63000000", "1390000000", "河长"):
        with pytest.raises(InvalidInput):
            parse_phone(wrong)


def test_missing_and_doubled_columns_are_named_on_the_header_row() -> None:
    data = "姓名,手机,级别,河道,姓名\n张,13900000001,村级,R,张\n".encode()
    with pytest.raises(RosterRejected) as refused:
        read_roster(data)
    assert [(e.row, e.field) for e in refused.value.errors] == [
        (1, "姓名"),
        (1, "side"),
        (1, "from"),
    ]


def test_rows_that_contradict_each_other() -> None:
    roster = read_roster(
        "\n".join(
            [
                ZH,
                ROWS[0],
                ROWS[0],
                ROWS[0].replace("沈建明", "沈建民").replace("2026-01-01", "2026-02-01"),
            ]
        ).encode()
    )
    assert [(e.row, e.field) for e in roster.errors] == [(3, "手机"), (4, "姓名")]


def test_files_that_cannot_be_rosters() -> None:
    for data in (
        b"",
        b"\xff\xfe1\x002\x00",
        b"\xd0\xcf\x11\xe0rest",
        b"PK\x03\x04broken",
        b"a,b\n",
    ):
        with pytest.raises(ImportFileError):
            read_roster(data)
    many = "\n".join(
        [EN, *[ROWS[0].replace("13900000001", f"139{n:08d}") for n in range(MAX_ROWS + 5)]]
    )
    with pytest.raises(FileTooLarge):
        read_roster(many.encode())


def test_errors_are_capped() -> None:
    roster = read_roster("\n".join([ZH, *["x,1,x,,,,x,x,"] * 200]).encode())
    assert roster.truncated and len(roster.errors) == 100


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000))
def test_any_bytes_raise_only_our_errors(data: bytes) -> None:
    with contextlib.suppress(ImportFileError, InvalidInput):
        read_roster(data)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.lists(
            st.one_of(st.none(), st.text(max_size=40), st.integers(), st.floats()), max_size=12
        ),
        max_size=8,
    )
)
def test_any_cells_raise_only_our_errors(cells: list[list[object]]) -> None:
    """Arbitrary cells under a real header (as a sheet gives them) and as CSV text."""
    rows = [(1, list(FIELDS))] + [(n, row) for n, row in enumerate(cells, start=2)]
    with contextlib.suppress(ImportFileError, InvalidInput):
        parse_table(Table(rows))  # type: ignore[arg-type]
    text = "\n".join(",".join("" if c is None else str(c) for c in row) for _, row in rows)
    with contextlib.suppress(ImportFileError, InvalidInput):
        read_roster(text.encode("utf-8", "surrogatepass"))


def _workbook() -> bytes:
    """A small real workbook: a header and one chief."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(ZH.split(","))
    sheet.append(ROWS[0].split(","))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


WORKBOOK = _workbook()


@settings(max_examples=200, deadline=None)
@given(st.integers(0, len(WORKBOOK) - 1), st.binary(min_size=1, max_size=16))
def test_a_damaged_workbook_raises_only_our_errors(at: int, junk: bytes) -> None:
    """A real XLSX with some bytes overwritten (a truncated download, a bad disk)."""
    damaged = WORKBOOK[:at] + junk + WORKBOOK[at + len(junk) :]
    with contextlib.suppress(ImportFileError, InvalidInput):
        read_roster(damaged)


def test_a_workbook_claiming_a_zip_version_python_cannot_read_is_refused() -> None:
    """A damaged header may claim zip version 6.4 (found by the property above): Python's
    zipfile raises NotImplementedError, which used to escape as a 500."""
    header = WORKBOOK.index(b"PK\x01\x02")  # the first central directory entry
    damaged = bytearray(WORKBOOK)
    damaged[header + 6] = 64  # "version needed to extract": 6.4
    local = WORKBOOK.index(b"PK\x03\x04")
    damaged[local + 4] = 64
    with pytest.raises(ImportFileError) as refused:
        read_roster(bytes(damaged))
    assert refused.value.extra["field"] == "file"
