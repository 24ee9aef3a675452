"""Reading a hotline or platform export, without a database: headers in either language,
encodings, times, limits and the refusals that need no lookup."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from geo_patrol.core.errors import FileTooLarge, ImportFileError, InvalidInput
from geo_patrol.core.vocabulary import Datum, Severity
from geo_patrol.incidents.bulk_import_file import LIMITS, ReportFile, parse_moment, read_reports

EN = "external id,source,time,lon,lat,datum,category,severity,description,phone"
ROW = "A-1,river platform,2026-11-03 09:15,120.6,30.9,gcj02,illegal_discharge,high,oil,139"


def read(text: str, encoding: str = "utf-8") -> ReportFile:
    """Rows of a CSV export (no source option, WGS84)."""
    return read_reports(text.encode(encoding), source=None, datum=Datum.WGS84)


def test_english_headers_any_order() -> None:
    header = ",".join(reversed(EN.split(",")))
    row = ",".join(reversed(ROW.split(",")))
    found = read_reports(f"{header}\n{row}\n".encode(), source=None, datum=Datum.WGS84)
    assert found.errors == []
    [parsed] = found.rows
    assert (parsed.external_id, parsed.source, parsed.datum) == ("A-1", "river platform", "gcj02")
    assert parsed.severity is Severity.HIGH and parsed.phone == "139"
    assert parsed.reported_at == datetime(2026, 11, 3, 1, 15, tzinfo=UTC)


def test_gb18030_hotline_with_title_row_and_source_option() -> None:
    text = (
        "12345热线工单导出\n"  # a title row above the header
        "工单编号,受理时间,事发地址,诉求类型,诉求内容\n"
        "H-9,2026/11/3 9:15,盛泽镇,偷排,排污\n"
    )
    found = read_reports(text.encode("gb18030"), source="12345", datum=Datum.BD09)
    assert found.errors == [] and found.rows[0].row == 3
    assert (found.rows[0].source, found.rows[0].address) == ("12345", "盛泽镇")
    assert found.columns["category"] == "诉求类型"


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("2026-11-03 09:15", datetime(2026, 11, 3, 1, 15, tzinfo=UTC)),
        ("2026年11月3日 9时15分", datetime(2026, 11, 3, 1, 15, tzinfo=UTC)),
        ("2026-11-03T09:15:30+00:00", datetime(2026, 11, 3, 9, 15, 30, tzinfo=UTC)),
        ("2026-11-03 09:15 -0500", datetime(2026, 11, 3, 14, 15, tzinfo=UTC)),
        ("2026-11-03T01:15Z", datetime(2026, 11, 3, 1, 15, tzinfo=UTC)),
        (46000.5, datetime(2025, 12, 9, 4, 0, tzinfo=UTC)),  # Excel's day number, noon CST
    ],
)
def test_times(written: object, expected: datetime) -> None:
    assert parse_moment(written) == expected  # type: ignore[arg-type]
    assert parse_moment(written).utcoffset() is not None  # type: ignore[arg-type]


@pytest.mark.parametrize("written", ["yesterday", "2026-13-01", "2026-11-03 25:00", "1899-01-01"])
def test_bad_times(written: str) -> None:
    with pytest.raises(InvalidInput):
        parse_moment(written)


def test_naive_datetime_cell_is_china_time() -> None:
    cst = timezone(timedelta(hours=8))
    assert parse_moment(datetime(2026, 11, 3, 9, 15)) == datetime(2026, 11, 3, 9, 15, tzinfo=cst)


def test_header_without_place_or_required_columns() -> None:
    with pytest.raises(ImportFileError) as caught:
        read("external id,source,time,category,description\nA,b,2026-11-03,c,d\n")
    assert "no place" in caught.value.detail
    with pytest.raises(ImportFileError) as caught:
        read("source,lon,lat,description\nb,1,2,d\n")
    assert "external_id" in caught.value.detail and "time" in caught.value.detail


def test_no_source_anywhere_refused() -> None:
    found = read("id,time,lon,lat,category\nA,2026-11-03 09:15,120.6,30.9,x\n")
    assert [(e.row, e.field) for e in found.errors] == [(2, "source")]


def test_too_many_rows() -> None:
    rows = "".join(f"A{n},s,2026-11-03 09:15,120.6,30.9,x\n" for n in range(LIMITS.max_rows + 2))
    with pytest.raises(FileTooLarge):
        read("id,source,time,lon,lat,category\n" + rows)


def test_utf16_refused() -> None:
    with pytest.raises(ImportFileError):
        read(EN + "\n" + ROW + "\n", encoding="utf-16")
