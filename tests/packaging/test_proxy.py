"""docker/Caddyfile in front of two real app processes, as compose runs it but on loopback ports.

Caddy reads the Caddyfile itself (`caddy adapt`, GEO_PATROL_SITE=localhost, `tls internal`);
only the addresses change: its ports become free ones, `app1:8000` and `app2:8000` the two
`geo-patrol serve` processes. Requests over https (checked against Caddy's own root
certificate) reach both nodes in turn, the app sees https (it sends HSTS, which it does not
to a plain request) and the client's own address (not one the client claimed), port 80
redirects to https, and with one node stopped every request is answered by the other.
"""

from __future__ import annotations

import json
import os
import re
import signal
import ssl
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.caddy import adapt, caddy, walk
from tests.support.service import Service, free_port, start_service

START_TIMEOUT_S = 30.0


@dataclass
class Proxy:
    """Caddy on `https`/`http` ports in front of `nodes`; the root certificate it made."""

    https: int
    http: int
    nodes: dict[str, Service]
    root_certificate: Path

    def get(
        self, path: str, *, source: str = "127.0.0.1", headers: dict[str, str] | None = None
    ) -> httpx.Response:
        """GET https://localhost:PORT/path through the proxy from the address `source`,
        checking the proxy's certificate."""
        trusted = ssl.create_default_context(cafile=str(self.root_certificate))
        transport = httpx.HTTPTransport(verify=trusted, local_address=source)
        with httpx.Client(transport=transport, timeout=10) as client:
            return client.get(f"https://localhost:{self.https}{path}", headers=headers)


def served(node: Service, marker: str) -> int:
    """How many requests with `marker` in their query the node logged."""
    return len(re.findall(rf'"GET /healthz\?via={marker}-\d+ HTTP', node.log_text()))


def relocated(config: dict[str, Any], dials: dict[str, str], https: int, http: int) -> None:
    """Move the adapted configuration onto these ports and upstream addresses."""
    for node in walk(config):
        if "dial" in node:
            node["dial"] = dials[node["dial"]]
    server = config["apps"]["http"]
    server["http_port"], server["https_port"] = http, https
    for listener in server["servers"].values():
        listener["listen"] = [f":{https}" if a == ":443" else a for a in listener["listen"]]


@pytest.fixture(scope="module")
def proxy(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proxy]:
    """Two app nodes on the test database, and Caddy in front of them."""
    folder = tmp_path_factory.mktemp("nodes")
    nodes: dict[str, Service] = {}
    process = None
    try:
        for name in ("app1", "app2"):
            (folder / name).mkdir()
        # Both at once (each spends seconds importing and checking the schema).
        with ThreadPoolExecutor(2) as pool:
            started = {
                name: pool.submit(start_service, database_url, folder / name, name=name)
                for name in ("app1", "app2")
            }
        for name, future in started.items():
            if future.exception() is None:
                nodes[name] = future.result()
        for future in started.values():
            future.result()  # raises a node's failure; the nodes that did start are stopped
        home = folder / "caddy"
        home.mkdir()
        config = adapt({"GEO_PATROL_SITE": "localhost"}, home)
        https, http = free_port(), free_port()
        dials = {f"{name}:8000": node.http.removeprefix("http://") for name, node in nodes.items()}
        relocated(config, dials, https, http)
        config["admin"] = {"disabled": True}
        config["storage"] = {"module": "file_system", "root": str(home / "data")}
        (home / "caddy.json").write_text(json.dumps(config))
        environment = {"PATH": os.environ["PATH"], "HOME": str(home)}
        with (home / "caddy.log").open("ab") as log:
            process = subprocess.Popen(
                [caddy(), "run", "--config", str(home / "caddy.json")],
                env=environment,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        certificate = home / "data" / "pki" / "authorities" / "local" / "root.crt"
        found = Proxy(https, http, nodes, certificate)
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            assert process.poll() is None, (home / "caddy.log").read_text()[-3000:]
            try:
                if certificate.exists() and found.get("/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, (home / "caddy.log").read_text()[-3000:]
            time.sleep(0.2)
        yield found
    finally:
        if process is not None:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=15)
        for node in nodes.values():
            node.stop()


def test_requests_reach_both_nodes_over_tls_and_the_app_sees_https(proxy: Proxy) -> None:
    answers = [proxy.get(f"/healthz?via=both-{i}") for i in range(6)]
    assert [answer.status_code for answer in answers] == [200] * 6
    assert answers[0].http_version in {"HTTP/1.1", "HTTP/2"}
    # The app sent HSTS: it took the request for https (X-Forwarded-Proto from a trusted
    # address); asked directly over http it does not.
    assert all(a.headers["strict-transport-security"].startswith("max-age=") for a in answers)
    direct = httpx.get(f"{proxy.nodes['app1'].http}/healthz", timeout=10)
    assert direct.status_code == 200 and "strict-transport-security" not in direct.headers
    counts = {name: served(node, "both") for name, node in proxy.nodes.items()}
    assert sum(counts.values()) == 6 and min(counts.values()) >= 1, counts


def test_the_app_sees_the_clients_address_not_one_the_client_made_up(proxy: Proxy) -> None:
    """A phone at 127.0.0.2 (the proxy is at 127.0.0.1, the one address the app trusts)
    claims another address in X-Forwarded-For: the app logs the phone's real one."""
    claimed = {"X-Forwarded-For": "203.0.113.7"}
    assert proxy.get("/healthz?via=address-1", source="127.0.0.2", headers=claimed).is_success
    lines = [
        line
        for node in proxy.nodes.values()
        for line in node.log_text().splitlines()
        if "/healthz?via=address-1 " in line
    ]
    assert len(lines) == 1 and "127.0.0.2:" in lines[0], lines
    assert "203.0.113.7" not in lines[0]


def test_plain_http_is_redirected_to_https(proxy: Proxy) -> None:
    answer = httpx.get(f"http://localhost:{proxy.http}/map?x=1", timeout=10)
    assert answer.status_code in {301, 302, 307, 308}
    # To the https port of production (443: no port in the address), same host and path.
    assert answer.headers["location"] == "https://localhost/map?x=1"


def test_a_stopped_node_gets_no_requests_and_none_fail(proxy: Proxy) -> None:
    proxy.nodes["app2"].stop()
    answers = [proxy.get(f"/healthz?via=one-{i}") for i in range(6)]
    assert [answer.status_code for answer in answers] == [200] * 6
    assert served(proxy.nodes["app1"], "one") == 6
    assert served(proxy.nodes["app2"], "one") == 0
