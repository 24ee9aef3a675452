"""POST /api/v1/incidents/import through the app: a dry run answers each row's routing and
stores nothing, a refused file is problem+json naming each row, arbitrary cells never give
a 500; the CLI runs the same import."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.orm import Session

URL = "/api/v1/incidents/import"
HEADER = "工单编号,来源,受理时间,经度,纬度,诉求类型,诉求内容,来电号码"
GOOD = "H1,12345,2026-11-03 09:15,120.60,30.90,偷排,河边排污,13812345678"


def post(client: TestClient, headers: dict[str, str], body: bytes, **form: Any) -> Any:
    """Upload a CSV export."""
    files = {"file": ("hotline.csv", body, "text/csv")}
    return client.post(URL, files=files, data=form, headers=headers)


def test_dry_run_answers_routing_and_stores_nothing(
    demo_client: TestClient, headers: dict[str, dict[str, str]], demo_session: Session
) -> None:
    body = f"{HEADER}\n{GOOD}\n".encode()
    answer = post(demo_client, headers["admin"], body, dry_run="true")
    assert answer.status_code == 200, answer.text
    found = answer.json()
    assert (found["would_store"], found["stored"], found["dry_run"]) == (1, 0, True)
    row = found["results"][0]
    assert row["outcome"] == "would_store" and row["jurisdiction"].startswith("320509")
    assert row["responsible"][0] == row["jurisdiction"] and row["tier"]
    imported = "SELECT count(*) FROM incidents WHERE external_id = 'H1'"
    assert demo_session.execute(text(imported)).scalar_one() == 0
    stored = post(demo_client, headers["admin"], body)
    assert stored.status_code == 200 and stored.json()["stored"] == 1
    assert demo_session.execute(text(imported)).scalar_one() == 1
    again = post(demo_client, headers["admin"], body)
    assert again.json()["already_imported"] == 1 and again.json()["stored"] == 0
    assert demo_session.execute(text(imported)).scalar_one() == 1


def test_refused_file_is_problem_json_naming_rows(
    demo_client: TestClient, headers: dict[str, dict[str, str]]
) -> None:
    body = f"{HEADER}\n{GOOD}\nH2,12345,2026-11-03 09:15,120.60,30.90,噪音,,\n".encode()
    answer = post(demo_client, headers["admin"], body)
    assert answer.status_code == 422
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert answer.json()["errors"] == [
        {
            "row": 3,
            "field": "诉求类型",
            "code": "incidents.import_unknown_category",
            "detail": answer.json()["errors"][0]["detail"],
        }
    ]
    assert "噪音" in answer.json()["errors"][0]["detail"]
    chinese = post(demo_client, headers["admin"] | {"Accept-Language": "zh-CN"}, body)
    assert chinese.json()["errors"][0]["detail"].startswith("噪音 不是已知的事件类别")
    assert chinese.json()["detail"].startswith("文件中有 1 行被拒收")
    skipped = post(demo_client, headers["admin"], body, skip_errors="true")
    assert skipped.status_code == 200
    assert (skipped.json()["stored"], skipped.json()["refused"]) == (1, 1)


def test_supervisor_rows_outside_scope_refused(
    demo_client: TestClient, headers: dict[str, dict[str, str]]
) -> None:
    other = "H3,12345,2026-11-03 09:15,120.72,30.85,偷排,,"
    answer = post(demo_client, headers["wujiang.sup"], f"{HEADER}\n{GOOD}\n{other}\n".encode())
    assert answer.status_code == 422
    assert [e["row"] for e in answer.json()["errors"]] == [3]
    assert post(demo_client, headers["sz.patrol"], f"{HEADER}\n{GOOD}\n".encode()).status_code in (
        403,
        422,
    )


def test_unreadable_file_named(demo_client: TestClient, headers: dict[str, dict[str, str]]) -> None:
    answer = post(demo_client, headers["admin"], b"just,some,words\n1,2,3\n")
    assert answer.status_code == 422 and "header" in answer.json()["detail"]
    answer = post(demo_client, headers["admin"], f"{HEADER}\n{GOOD}\n".encode(), datum="mars")
    assert answer.status_code == 422


CELL = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=30)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(cells=st.lists(st.lists(CELL, min_size=8, max_size=8), min_size=1, max_size=3))
def test_arbitrary_cells_never_500(
    demo_client: TestClient, headers: dict[str, dict[str, str]], cells: list[list[str]]
) -> None:
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER.split(","))
    writer.writerows(cells)
    answer = post(demo_client, headers["admin"], out.getvalue().encode(), dry_run="true")
    assert answer.status_code in (200, 413, 422), answer.text


def test_one_log_line_per_batch_without_phones(
    demo_client: TestClient, headers: dict[str, dict[str, str]], caplog: pytest.LogCaptureFixture
) -> None:
    import hashlib
    import logging

    good = f"{HEADER}\n{GOOD}\n".encode()
    bad = f"{HEADER}\n{GOOD}\nH2,12345,2026-11-03 09:15,120.60,30.90,噪音,,13900000000\n".encode()
    with caplog.at_level(logging.INFO, logger="geo_patrol.incidents.bulk_import"):
        post(demo_client, headers["admin"], good)
        post(demo_client, headers["admin"], bad)
    lines = [r.getMessage() for r in caplog.records if r.name.endswith("bulk_import")]
    assert len(lines) == 2
    assert hashlib.sha256(good).hexdigest() in lines[0] and "stored=1" in lines[0]
    assert hashlib.sha256(bad).hexdigest() in lines[1] and "refused=1" in lines[1]
    assert all("hotline.csv" in line for line in lines)
    assert not any("13812345678" in line or "13900000000" in line for line in lines)


XLSX_CELL = st.one_of(
    st.text(st.characters(codec="utf-8", exclude_categories=["Cc", "Cs"]), max_size=30),
    st.floats(allow_nan=False),
    st.integers(min_value=-(10**15), max_value=10**15),
    st.datetimes(),
    st.none(),
)


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(cells=st.lists(st.lists(XLSX_CELL, min_size=8, max_size=8), min_size=1, max_size=3))
def test_arbitrary_workbook_cells_never_500(
    demo_client: TestClient, headers: dict[str, dict[str, str]], cells: list[list[object]]
) -> None:
    import io

    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(HEADER.split(","))
    for row in cells:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    files = {"file": ("hotline.xlsx", out.getvalue(), "application/octet-stream")}
    answer = demo_client.post(URL, files=files, data={"dry_run": "true"}, headers=headers["admin"])
    assert answer.status_code in (200, 413, 422), answer.text
