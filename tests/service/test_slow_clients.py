"""Slow clients on both ports: closed after the header or body timeout, capped per address,
and the service stays fast beside 50 of them (generous bounds; figures in bench/)."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest

from bench.slow_clients import SlowResult, positions, slow_client, timed_requests
from tests.support.principals import SZ_PHONE_TOKEN
from tests.support.service import Service, start_service

HEADER_S, BODY_S, PER_CLIENT = 2.0, 2.0, 5
FAST_S = 2.0  # generous: a loopback request takes milliseconds


@pytest.fixture(scope="module")
def service(demo_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """The service with short client timeouts and a small per-address cap."""
    limits = {
        "http_header_timeout_s": str(HEADER_S),
        "http_body_timeout_s": str(BODY_S),
        "http_connections_per_client": str(PER_CLIENT),
    }
    service = start_service(demo_url, tmp_path_factory.mktemp("slow"), settings=limits)
    yield service
    service.stop()


async def _attack_and_measure(
    service: Service,
) -> tuple[list[SlowResult], list[tuple[int, float]]]:
    """50 slow clients (five each from ten addresses, both ports) and, beside them, /healthz
    and live positions from another address."""
    sources = [f"127.0.0.{10 + n // PER_CLIENT}" for n in range(50)]
    targets = [service.http if n % 2 else service.osmand for n in range(50)]
    attack = [
        asyncio.create_task(slow_client(url, source, byte_every_s=0.3, give_up_s=15))
        for url, source in zip(targets, sources, strict=True)
    ]
    await asyncio.sleep(0.5)
    urls: list[tuple[str, dict[str, str]]] = [(f"{service.http}/healthz", {})] * 20
    urls += [(service.osmand, p) for p in positions(SZ_PHONE_TOKEN, 20, int(time.time()) - 600)]
    async with httpx.AsyncClient(timeout=10) as client:
        measured = await timed_requests(client, urls)
    return list(await asyncio.gather(*attack)), measured


def test_slow_heads_are_closed_and_the_service_stays_fast(service: Service) -> None:
    attackers, measured = asyncio.run(_attack_and_measure(service))
    assert [status for status, _ in measured] == [200] * 40
    assert max(seconds for _, seconds in measured) < FAST_S
    closed = [attacker.closed_after_s for attacker in attackers]
    assert all(s is not None and HEADER_S - 0.5 < s < HEADER_S + 3 for s in closed), closed
    assert "connections closed since the last note" in service.log_text()


def _connect(url: str, source: str) -> socket.socket:
    """A TCP connection from `source` that sends nothing."""
    parts = urlsplit(url)
    sock = socket.create_connection((parts.hostname, parts.port), source_address=(source, 0))
    sock.settimeout(5)
    return sock


def test_one_address_holds_only_so_many_connections(service: Service) -> None:
    held = [
        _connect(service.http if n % 2 else service.osmand, "127.0.0.2") for n in range(PER_CLIENT)
    ]
    try:
        time.sleep(0.3)
        extra = _connect(service.osmand, "127.0.0.2")
        assert extra.recv(100).startswith(b"HTTP/1.1 503")
        assert httpx.get(f"{service.http}/healthz").status_code == 200  # other addresses
    finally:
        for sock in held:
            sock.close()
    time.sleep(0.3)
    local = httpx.HTTPTransport(local_address="127.0.0.2")
    with httpx.Client(transport=local) as again:
        assert again.get(f"{service.http}/healthz").status_code == 200


def test_a_stalled_body_is_closed(service: Service) -> None:
    sock = _connect(service.http, "127.0.0.3")
    sock.sendall(
        b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json"
        b'\r\nContent-Length: 100\r\n\r\n{"login":'
    )
    started = time.monotonic()
    sock.settimeout(BODY_S + 5)
    try:
        data = sock.recv(1000)
    except ConnectionError:
        data = b""
    assert not data.startswith(b"HTTP/1.1 2")
    assert BODY_S - 0.5 < time.monotonic() - started < BODY_S + 3
