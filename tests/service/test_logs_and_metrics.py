"""The real service's log and metrics: timestamps and levels on every line, the main port's
access log with device tokens blanked, port 5055 silent, and what /metrics reports."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.support.principals import SZ_PHONE_TOKEN
from tests.support.service import Service, admin_token, running_service, start_service

LINE = re.compile(
    r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (DEBUG|INFO|WARNING|ERROR|CRITICAL) \S+: "
)


@pytest.fixture(scope="module")
def service(demo_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """The service, with maintenance every second."""
    service = start_service(
        demo_url, tmp_path_factory.mktemp("logs"), settings={"maintenance_seconds": "1"}
    )
    yield service
    service.stop()


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a Prometheus text exposition, by name and labels."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_main_port_logs_requests_without_tokens_and_5055_stays_silent(service: Service) -> None:
    assert httpx.get(f"{service.http}/healthz").status_code == 200
    main = httpx.get(
        f"{service.http}/osmand", params={"id": "gpd_secret-main", "lat": "30.9", "lon": "120.6"}
    )
    assert main.status_code == 400  # an unknown device, still a request to log
    secret = {"id": "gpd_secret-5055", "lat": "30.9", "lon": "120.6", "mark": "fivezerofive"}
    listener = httpx.get(service.osmand, params=secret)
    assert listener.status_code == 400
    time.sleep(0.5)
    log = service.log_text()
    assert '"GET /healthz HTTP/1.1" 200' in log
    assert '"GET /osmand?id=…&lat=30.9&lon=120.6 HTTP/1.1" 400' in log
    assert "gpd_secret" not in log and "fivezerofive" not in log
    lines = log.splitlines()
    assert lines and all(LINE.match(line) for line in lines), [
        line for line in lines if not LINE.match(line)
    ][:5]


def test_metrics_are_for_admins_and_count_what_happened(service: Service, demo_url: str) -> None:
    assert httpx.get(f"{service.http}/metrics").status_code == 401
    now = int(time.time())
    for second in range(5):
        position = {
            "id": SZ_PHONE_TOKEN,
            "lat": "30.9",
            "lon": f"{120.6 + second * 1e-5:.5f}",
            "timestamp": str(now - 60 + second),
        }
        assert httpx.get(service.osmand, params=position).status_code == 200
    token = {"Authorization": f"Bearer {admin_token(demo_url)}"}
    bad_file = {"file": ("a.gpx", b"not a track")}
    refused = httpx.post(
        f"{service.http}/api/v1/patrols", headers=token, data={"team_id": "1"}, files=bad_file
    )
    assert 400 <= refused.status_code < 500
    time.sleep(1.5)  # a maintenance run
    response = httpx.get(f"{service.http}/metrics", headers=token)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    found = samples(response.text)
    live = ("route", "osmand listener")
    assert found[("geo_patrol_live_batch_positions_count", ())] >= 5
    assert found[("geo_patrol_live_batch_seconds_count", (("outcome", "stored"),))] >= 1
    assert (
        found[
            (
                "geo_patrol_http_request_duration_seconds_count",
                (("method", "GET"), live, ("status", "200")),
            )
        ]
        == 5
    )
    assert (
        found[
            (
                "geo_patrol_http_request_duration_seconds_count",
                (("method", "GET"), ("route", "/healthz"), ("status", "200")),
            )
        ]
        >= 1
    )
    assert found[("geo_patrol_upload_seconds_count", (("outcome", "refused"),))] == 1
    assert found[("geo_patrol_db_pool_size", ())] == 10
    assert found[("geo_patrol_db_pool_wait_seconds_count", ())] >= 1
    assert found[("geo_patrol_maintenance_seconds_count", (("outcome", "ok"),))] >= 1
    assert not any("/api/v1/patrols/" in str(key) for key in found)  # templates, not paths


def _healthz_count(service: Service, token: dict[str, str]) -> float:
    """The /healthz 200s counted so far, as a scrape reads them."""
    response = httpx.get(f"{service.http}/metrics", headers=token)
    key = (
        "geo_patrol_http_request_duration_seconds_count",
        (("method", "GET"), ("route", "/healthz"), ("status", "200")),
    )
    return samples(response.text)[key]


def test_metrics_add_up_every_worker(demo_url: str, tmp_path: Path) -> None:
    token = {"Authorization": f"Bearer {admin_token(demo_url)}"}
    with running_service(demo_url, tmp_path, workers="2") as service:
        before = _healthz_count(service, token)
        for _ in range(30):  # a new connection each: the kernel spreads them over the workers
            assert httpx.get(f"{service.http}/healthz").status_code == 200
        counts = {_healthz_count(service, token) for _ in range(6)}
    assert counts == {before + 30}  # whichever worker answered the scrape
