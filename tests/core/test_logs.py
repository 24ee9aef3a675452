"""Log lines: a UTC timestamp and a level on each, as text or JSON lines; outages logged once."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator

import pytest
import uvicorn

from geo_patrol.core.logs import configure_logging
from geo_patrol.core.settings import Settings
from geo_patrol.db.outages import Outage


@pytest.fixture
def restore_root() -> Iterator[None]:
    """Put the root logger back as pytest had it."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    logging.captureWarnings(False)


def test_text_lines_carry_time_and_level(restore_root: None) -> None:
    stream = io.StringIO()
    configure_logging(Settings(log_level="info"), stream)
    logging.getLogger("geo_patrol.test").warning("disk %s", "full")
    logging.getLogger("uvicorn.access").info('%s - "%s"', "127.0.0.1:5", "GET /healthz")
    logging.getLogger("geo_patrol.test").debug("not at info")
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2
    stamp = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"
    assert re.fullmatch(stamp + " WARNING geo_patrol.test: disk full", lines[0])
    assert lines[1].endswith('INFO uvicorn.access: 127.0.0.1:5 - "GET /healthz"')


def test_a_previous_uvicorn_configuration_does_not_silence_the_access_log(
    restore_root: None,
) -> None:
    """An earlier uvicorn.Config in the process (a quiet test server, a second listener) sets
    uvicorn.access's level, handlers and propagation; configure_logging undoes all of it."""
    uvicorn.Config("geo_patrol.api.app:create_app", log_level="warning", access_log=False)
    stream = io.StringIO()
    configure_logging(Settings(log_level="info"), stream)
    logging.getLogger("uvicorn.access").info('%s - "%s"', "127.0.0.1:5", "GET /healthz")
    assert stream.getvalue().rstrip().endswith('uvicorn.access: 127.0.0.1:5 - "GET /healthz"')


def test_json_lines_parse_and_keep_the_traceback(restore_root: None) -> None:
    stream = io.StringIO()
    configure_logging(Settings(log_format="json"), stream)
    try:
        raise ValueError("bad fix")
    except ValueError:
        logging.getLogger("geo_patrol.test").exception("upload failed for 中文")
    line = json.loads(stream.getvalue())
    assert line["level"] == "ERROR" and line["logger"] == "geo_patrol.test"
    assert line["message"] == "upload failed for 中文"
    assert "ValueError: bad fix" in line["traceback"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", line["time"])


def test_an_outage_logs_its_traceback_once_and_its_end(caplog: pytest.LogCaptureFixture) -> None:
    outage = Outage(logging.getLogger("geo_patrol.test"), "database")
    with caplog.at_level(logging.INFO):
        for batch in range(50):
            try:
                raise ConnectionError("connection refused\nsecond line with details")
            except ConnectionError as error:
                outage.failed(error, "live batch %d not stored", batch)
        outage.succeeded()
        outage.succeeded()  # nothing more to say
    records = caplog.records
    assert len(records) == 51
    assert [r.exc_info is not None for r in records].count(True) == 1
    assert "ConnectionError: connection refused; failure 50 of this database outage" in (
        records[49].getMessage()
    )
    assert "second line" not in records[49].getMessage()
    assert re.search(r"database is back after [\d.]+ s and 50 failures", records[50].getMessage())
