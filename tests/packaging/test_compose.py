"""docker/compose.yaml on several nodes, read structurally: two app nodes on the same image,
files and databases; a replica that follows the primary; Caddy in front of both app nodes with
TLS (its Caddyfile read by the real `caddy adapt`); no secret written in any file of docker/.

The scripts the database containers run are exercised on real clusters in
test_replica_scripts.py, the proxy in front of two real app processes in test_proxy.py.
"""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from geo_patrol.api.routes.health import router as health_router
from tests.support.caddy import adapt, walk
from tests.support.compose import COMPOSE, compose_file, server_settings

DOCKER = COMPOSE.parent
# ${NAME}, ${NAME:?message} or ${NAME:-default}: a value compose takes from the environment.
VARIABLE = re.compile(r"\$\{[A-Z][A-Z0-9_]*(?::[?-][^}]*)?\}")
SECRET_NAME = re.compile(r"PASSWORD|SECRET|TOKEN|KEY", re.IGNORECASE)


def reverse_proxies(config: dict[str, Any]) -> list[dict[str, Any]]:
    """The reverse_proxy handlers of an adapted configuration."""
    return [node for node in walk(config) if node.get("handler") == "reverse_proxy"]


def app_services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The services built from docker/Dockerfile (the app nodes)."""
    return {
        name: service
        for name, service in compose["services"].items()
        if service.get("build", {}).get("dockerfile") == "docker/Dockerfile"
    }


def mounts(service: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """Container path -> (source, options) of a service's volumes."""
    found = {}
    for volume in service.get("volumes", []):
        source, target, *options = volume.split(":")
        found[target] = (source, ",".join(options))
    return found


def networks(service: dict[str, Any]) -> set[str]:
    """The networks a service is on."""
    return set(service.get("networks", ["default"]))


def test_two_app_nodes_share_the_image_the_files_and_the_databases() -> None:
    compose = compose_file()
    apps = app_services(compose)
    assert sorted(apps) == ["app1", "app2"]
    first, second = apps.values()
    assert first == second  # the same image, settings, volumes and networks
    assert first["image"] and first["build"]["context"] == ".."
    assert mounts(first)["/var/lib/geo-patrol"][0] in compose["volumes"]
    # Reached through the proxy only: nothing published on the host.
    assert "ports" not in first
    environment = first["environment"]
    primary = urlsplit(environment["GEO_PATROL_DATABASE_URL"])
    assert primary.hostname == "db" and primary.scheme == "postgresql+psycopg"
    readers = [urlsplit(url) for url in environment["GEO_PATROL_READ_DATABASE_URL"].split(",")]
    assert [url.hostname for url in readers] == ["replica"]
    assert all(url.path == primary.path for url in readers)  # the same database, replicated
    assert first["depends_on"]["db"]["condition"] == "service_healthy"


def test_the_replica_is_a_copy_of_the_primary_that_follows_it() -> None:
    compose = compose_file()
    db, replica = compose["services"]["db"], compose["services"]["replica"]
    assert replica["image"] == db["image"]  # the same PostgreSQL and PostGIS
    assert replica["depends_on"]["db"]["condition"] == "service_healthy"
    # The replica's entrypoint is replica.sh, mounted from docker/; it copies PRIMARY_HOST.
    entrypoint = replica["entrypoint"][0]
    script, _ = mounts(replica)[entrypoint]
    assert (DOCKER / script).resolve() == DOCKER / "replica.sh"
    environment = replica["environment"]
    assert environment["PRIMARY_HOST"] == "db"
    assert environment["PRIMARY_PORT"] == "5432"
    assert replica["command"][0] == "postgres"
    assert server_settings(replica["command"])["hot_standby"] == "on"
    # The primary makes the role the replica connects as, with the same password variable.
    initdb = [s for t, (s, _) in mounts(db).items() if t.startswith("/docker-entrypoint-initdb.d/")]
    assert [(DOCKER / s).resolve() for s in initdb] == [DOCKER / "initdb-replication.sh"]
    assert db["environment"]["REPLICATION_USER"] == environment["REPLICATION_USER"]
    assert db["environment"]["REPLICATION_PASSWORD"] == environment["REPLICATION_PASSWORD"]
    assert server_settings(db["command"])["wal_level"] in {"replica", "logical"}
    # Its own data; the primary's WAL archive read-only (to catch up from when far behind).
    data = environment["PGDATA"]
    replica_data = next(s for t, (s, _) in mounts(replica).items() if data.startswith(t))
    assert replica_data != mounts(db)["/var/lib/postgresql/data"][0]
    assert mounts(replica)["/archive"] == (mounts(db)["/archive"][0], "ro")
    # Both database servers on a network the app nodes are on, not the proxy.
    app = app_services(compose)["app1"]
    assert networks(db) == networks(replica) and networks(db) <= networks(app)
    assert not networks(db) & networks(compose["services"]["proxy"])


def test_the_proxy_is_the_only_way_in_and_the_app_believes_only_it() -> None:
    compose = compose_file()
    proxy = compose["services"]["proxy"]
    assert proxy["image"].startswith("caddy:2")
    published = {port.split(":")[-1] for port in proxy["ports"]}
    assert {"80", "443", "443/udp"} <= published
    assert mounts(proxy)["/etc/caddy/Caddyfile"] == ("./Caddyfile", "ro")
    assert mounts(proxy)["/data"][0] in compose["volumes"]  # keys and certificates kept
    # The one service with published ports.
    assert [name for name, s in compose["services"].items() if "ports" in s] == ["proxy"]
    # The app nodes trust X-Forwarded-* from the proxy's fixed address only, in the subnet of
    # the network they share with it.
    (network, settings) = next(iter(proxy["networks"].items()))
    address = ipaddress.ip_address(settings["ipv4_address"])
    subnet = ipaddress.ip_network(compose["networks"][network]["ipam"]["config"][0]["subnet"])
    assert address in subnet
    for app in app_services(compose).values():
        assert app["environment"]["FORWARDED_ALLOW_IPS"] == str(address)
        assert network in networks(app)
        assert urlsplit(app["environment"]["GEO_PATROL_PUBLIC_URL"]).scheme == "https"


def test_the_caddyfile_serves_both_app_nodes_over_tls(tmp_path: Path) -> None:
    compose = compose_file()
    config = adapt({"GEO_PATROL_SITE": "patrol.lan"}, tmp_path)
    (proxy,) = reverse_proxies(config)
    dials = {upstream["dial"] for upstream in proxy["upstreams"]}
    assert dials == {f"{name}:8000" for name in app_services(compose)}
    assert proxy["load_balancing"]["try_duration"] > 0  # a dead node's request goes to the other
    (health,) = [route.path for route in health_router.routes]  # type: ignore[attr-defined]
    assert proxy["health_checks"]["active"]["uri"] == health
    assert proxy["health_checks"]["active"]["expect_status"] == 200
    (server,) = config["apps"]["http"]["servers"].values()
    assert server["listen"] == [":443"]
    (route,) = server["routes"]
    assert route["match"] == [{"host": ["patrol.lan"]}]
    # Caddy's own authority by default, never installed into a trust store.
    (policy,) = config["apps"]["tls"]["automation"]["policies"]
    assert policy["subjects"] == ["patrol.lan"]
    assert [issuer["module"] for issuer in policy["issuers"]] == ["internal"]
    assert config["apps"]["pki"]["certificate_authorities"]["local"]["install_trust"] is False


def test_an_email_address_switches_to_a_real_certificate(tmp_path: Path) -> None:
    config = adapt(
        {"GEO_PATROL_SITE": "patrol.example.org", "GEO_PATROL_TLS": "ops@example.org"}, tmp_path
    )
    (policy,) = config["apps"]["tls"]["automation"]["policies"]
    assert policy["subjects"] == ["patrol.example.org"]
    modules = {issuer["module"]: issuer for issuer in policy["issuers"]}
    assert "acme" in modules and modules["acme"]["email"] == "ops@example.org"
    assert "internal" not in modules


@pytest.mark.parametrize(
    "name", sorted(p.name for p in DOCKER.iterdir() if p.is_file() and p.name != "Dockerfile")
)
def test_no_secret_is_written_in_docker(name: str) -> None:
    """Every password in a URL, and every value of a variable named like a secret, comes
    from the environment of the shell that runs compose (${VARIABLE})."""
    text = (DOCKER / name).read_text()
    for password in re.findall(r"://[^/:@\s]+:([^@\s]+)@", text):
        assert VARIABLE.fullmatch(password), password
    if name == "compose.yaml":
        for service in compose_file()["services"].values():
            for key, value in service.get("environment", {}).items():
                if SECRET_NAME.search(key):
                    assert VARIABLE.fullmatch(str(value)), (key, value)
