"""The private cluster: create, reuse with its data, stop, move off a taken port, fall back."""

from __future__ import annotations

import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from geo_patrol.db.embedded import EmbeddedCluster, free_port, running_as_root

ROOT = Path(__file__).resolve().parents[2]


def conninfo(url: str) -> str:
    """A libpq connection string from our SQLAlchemy URL."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture
def cluster_folder(request: pytest.FixtureRequest) -> Iterator[Path]:
    """A cluster folder under var/test, removed (after stopping the server) at the end."""
    folder = ROOT / "var" / "test" / f"cluster-{request.node.name[:20]}"
    shutil.rmtree(folder, ignore_errors=True)
    yield folder
    cluster = EmbeddedCluster(folder)
    cluster.down()
    shutil.rmtree(cluster.root, ignore_errors=True)
    shutil.rmtree(folder, ignore_errors=True)


def test_up_twice_reuses_cluster_and_data(cluster_folder: Path) -> None:
    cluster = EmbeddedCluster(cluster_folder, preferred_port=free_port())
    url = cluster.up()
    with psycopg.connect(conninfo(url)) as conn:
        assert conn.execute("SELECT postgis_lib_version()").fetchone() is not None
        conn.execute("CREATE TABLE kept (v text)")
        conn.execute("INSERT INTO kept VALUES ('still here')")
    assert cluster.down() is True
    assert cluster.status().running is False

    again = EmbeddedCluster(cluster_folder, preferred_port=free_port())
    assert again.up() == url
    with psycopg.connect(conninfo(url)) as conn:
        assert conn.execute("SELECT v FROM kept").fetchall() == [("still here",)]
    assert again.up() == url  # already running: nothing new
    assert again.status().running is True


def test_listens_on_socket_and_loopback_only(cluster_folder: Path) -> None:
    cluster = EmbeddedCluster(cluster_folder, preferred_port=free_port())
    url = cluster.up()
    port = cluster.port()
    assert port is not None
    assert (cluster.socket_dir / f".s.PGSQL.{port}").exists()
    with psycopg.connect(conninfo(url)) as conn:
        listen = conn.execute("SHOW listen_addresses").fetchone()
    assert listen == ("127.0.0.1",)
    password = (cluster.root / "password").read_text().strip()
    tcp = f"host=127.0.0.1 port={port} user=geo_patrol password={password} dbname=geo_patrol"
    with psycopg.connect(tcp) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(tcp.replace(password, "wrong-password")).close()


def test_moves_to_a_free_port_when_its_port_is_taken(cluster_folder: Path) -> None:
    cluster = EmbeddedCluster(cluster_folder, preferred_port=free_port())
    cluster.up()
    first = cluster.port()
    assert first is not None
    cluster.down()
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", first))
        squatter.listen()
        url = cluster.up()
    assert cluster.port() != first
    with psycopg.connect(conninfo(url)) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)


@pytest.mark.skipif(not running_as_root(), reason="only root must hand the cluster over")
def test_unreachable_folder_falls_back_to_reachable_place(tmp_path: Path) -> None:
    private = tmp_path / "home"
    private.mkdir(mode=0o700)
    private.chmod(0o700)
    cluster = EmbeddedCluster(private / "var" / "pg", preferred_port=free_port())
    try:
        assert not cluster.root.is_relative_to(private)
        url = cluster.up()
        with psycopg.connect(conninfo(url)) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
        owner = subprocess.run(
            ["stat", "-c", "%U", str(cluster.data)], capture_output=True, text=True, check=True
        ).stdout.strip()
        assert owner == "postgres"
    finally:
        cluster.down()
        shutil.rmtree(cluster.root.parent, ignore_errors=True)
