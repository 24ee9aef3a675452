"""`pip install .` (not editable) gives a working geo-patrol: the wheel, built from a copy of
the source, installed into a new virtual environment, runs `geo-patrol --version`,
`geo-patrol migrate` and `geo-patrol serve`, whose map page and vendored files load.

What is fresh: the virtual environment (made by `python -m venv`), the wheel (a PEP 517 build
by pip in an isolated build environment, from a copy of pyproject.toml, README.md and
geo_patrol/ only; pip fetches the build backend, setuptools, from the package index or its
cache, as `pip install .` does), and its installation (no `-e`, its own `geo-patrol`
console script).
What is not: the third-party dependencies. Installing them from PyPI takes minutes, so a
.pth line puts the development venv's site-packages after the new venv's own. Python reads
.pth files only in its own site folders, so the development venv's editable geo_patrol (a
.pth finder there) is not seen: the test checks that geo_patrol is imported from the new
venv. That every imported distribution is declared is checked apart, in test_dependencies.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import sysconfig
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from bench.service import wait_until_up
from geo_patrol.accounts.members import issue_api_token
from geo_patrol.db import migrate
from geo_patrol.db.engine import make_engine, make_sessionmaker

ROOT = Path(__file__).resolve().parents[2]
LOOPBACK = "127.0.0.1"


@dataclass(frozen=True)
class Installed:
    """A virtual environment with the geo-patrol wheel installed, and a folder to run in."""

    venv: Path
    work: Path

    @property
    def command(self) -> Path:
        """The installed console script."""
        return self.venv / "bin" / "geo-patrol"

    def environment(self, **settings: str) -> dict[str, str]:
        """The environment of a command: no PYTHONPATH (the checkout must not be importable),
        no GEO_PATROL_* of the test run, and `settings` (names without the prefix)."""
        keep = {
            k: v
            for k, v in os.environ.items()
            if k not in ("PYTHONPATH", "VIRTUAL_ENV") and not k.startswith("GEO_PATROL_")
        }
        return keep | {f"GEO_PATROL_{name.upper()}": value for name, value in settings.items()}

    def run(self, *args: str, **settings: str) -> subprocess.CompletedProcess[str]:
        """Run the installed `geo-patrol` with `args` in the work folder."""
        return subprocess.run(
            [str(self.command), *args],
            cwd=self.work,
            env=self.environment(**settings),
            capture_output=True,
            text=True,
            timeout=120,
        )


def _copy_source(target: Path) -> Path:
    """What `pip install .` needs of the checkout, and nothing else (no node_modules, var)."""
    target.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, target / name)
    shutil.copytree(
        ROOT / "geo_patrol",
        target / "geo_patrol",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
    )
    return target


def _pip(*args: str) -> None:
    """The development venv's pip (it can install into another interpreter with --python),
    without PYTHONPATH: a checkout on it would count as geo-patrol installed already."""
    environment = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run(
        [sys.executable, "-m", "pip", "--disable-pip-version-check", *args],
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def _site_packages(venv: Path) -> Path:
    """The venv's own site-packages folder."""
    return venv / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}" / "site-packages"


def _add_development_dependencies(venv: Path) -> None:
    """Put the development venv's site-packages at the end of the venv's path (a plain
    path: its .pth files, the editable geo_patrol's among them, stay unread)."""
    dev = sorted({sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]})
    (_site_packages(venv) / "zz_development_dependencies.pth").write_text("\n".join(dev) + "\n")


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """The wheel built and installed into a new venv."""
    folder = tmp_path_factory.mktemp("wheel")
    source = _copy_source(folder / "source")
    dist = folder / "dist"
    _pip("wheel", "--no-deps", "--wheel-dir", str(dist), str(source))
    wheels = list(dist.glob("geo_patrol-*.whl"))
    assert len(wheels) == 1, wheels
    venv = folder / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    _pip("--python", python, "install", "--no-deps", "--no-index", str(wheels[0]))
    installed = sorted(path.name for path in _site_packages(venv).iterdir())
    assert installed == ["geo_patrol", f"geo_patrol-{_version()}.dist-info"], installed
    _add_development_dependencies(venv)
    work = folder / "work"
    work.mkdir()
    return Installed(venv, work)


def _version() -> str:
    """The version written in the checkout's geo_patrol/__init__.py."""
    found = re.search(
        r'^__version__ = "([^"]+)"$', (ROOT / "geo_patrol" / "__init__.py").read_text(), re.M
    )
    assert found is not None
    return found.group(1)


def _free_port() -> int:
    """A loopback TCP port nothing listens on now."""
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def _admin_token(url: str) -> str:
    """A bearer token of an administrator added to the database at `url`."""
    engine = make_engine(url)
    try:
        with make_sessionmaker(engine)() as session, session.begin():
            member = session.execute(
                text(
                    "INSERT INTO members (name, home_jurisdiction_code, login) "
                    "VALUES ('wheel admin', '320509', 'wheel.admin') RETURNING id"
                )
            ).scalar_one()
            session.execute(
                text("INSERT INTO member_roles (member_id, role) VALUES (:m, 'admin')"),
                {"m": member},
            )
            return issue_api_token(session, member_id=member, label="wheel", days=1, address=None)
    finally:
        engine.dispose()


@contextmanager
def _serving(installed: Installed, url: str) -> Iterator[str]:
    """`geo-patrol serve` of the installed package on free ports; its base URL."""
    http_port, osmand_port = _free_port(), _free_port()
    environment = installed.environment(
        database_url=url,
        data_dir=str(installed.work / "data"),
        host=LOOPBACK,
        port=str(http_port),
        osmand_port=str(osmand_port),
        maintenance_seconds="0",
        vendor_dir=str(ROOT / "node_modules"),
    )
    log = installed.work / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(installed.command), "serve"],
            cwd=installed.work,
            env=environment,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://{LOOPBACK}:{http_port}"
    try:
        wait_until_up(base, process, log)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_the_installed_package_is_the_wheel(installed: Installed) -> None:
    """The console script runs the new venv's geo_patrol, not the checkout's, at the version
    of geo_patrol/__init__.py."""
    version = installed.run("--version")
    assert version.returncode == 0, version.stderr
    assert version.stdout == f"geo-patrol {_version()}\n"
    where = subprocess.run(
        [
            str(installed.venv / "bin" / "python"),
            "-c",
            "import geo_patrol; print(geo_patrol.__file__)",
        ],
        cwd=installed.work,
        env=installed.environment(),
        capture_output=True,
        text=True,
        check=True,
    )
    assert Path(where.stdout.strip()).is_relative_to(installed.venv)


def test_alembic_ini_finds_the_installed_migrations(installed: Installed) -> None:
    """alembic.ini's `geo_patrol:db/migrations` resolves inside the installed package (not
    only in a checkout): the alembic command of the new venv, run outside the checkout,
    reads the wheel's migrations and writes their SQL without a database."""
    python = str(installed.venv / "bin" / "python")
    ini = str(ROOT / "alembic.ini")
    history = subprocess.run(
        [python, "-m", "alembic", "-c", ini, "history", "--verbose"],
        cwd=installed.work,
        env=installed.environment(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert history.returncode == 0, history.stderr
    paths = [
        Path(line.split(":", 1)[1].strip())
        for line in history.stdout.splitlines()
        if line.startswith("Path:")
    ]
    assert len(paths) == len(list((ROOT / "geo_patrol/db/migrations/versions").glob("0*.py")))
    assert all(path.is_relative_to(installed.venv) for path in paths), paths
    sql = subprocess.run(
        [python, "-m", "alembic", "-c", ini, "upgrade", "head", "--sql"],
        cwd=installed.work,
        env=installed.environment(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert sql.returncode == 0, sql.stderr
    assert "\nCREATE TABLE patrols (" in sql.stdout


def test_migrate_serve_and_the_map_page(
    installed: Installed, new_database: Callable[[str], str]
) -> None:
    """`geo-patrol migrate` on a new database, then `geo-patrol serve`: the map page of a
    signed-in administrator, a vendored script it names, and the phone app's packaged files."""
    url = new_database("geo_patrol_wheel")
    migrated = installed.run("migrate", database_url=url, data_dir=str(installed.work / "data"))
    assert migrated.returncode == 0, migrated.stderr
    engine = make_engine(url)
    try:
        head = migrate.current_revision(engine)
    finally:
        engine.dispose()
    assert migrated.stdout.strip() == f"schema at revision {head}"
    assert head is not None and head == _head()
    token = _admin_token(url)
    with _serving(installed, url) as base, httpx.Client(base_url=base, timeout=30) as client:
        page = client.get("/map", headers={"Authorization": f"Bearer {token}"})
        assert page.status_code == 200, page.text[:500]
        assert page.headers["content-type"].startswith("text/html")
        script = "/static/vendor/leaflet/dist/leaflet.js"
        assert f'src="{script}"' in page.text
        leaflet = client.get(script)
        assert leaflet.status_code == 200
        assert leaflet.content == (ROOT / "node_modules/leaflet/dist/leaflet.js").read_bytes()
        app_js = client.get("/static/mobile/app.js")
        assert app_js.status_code == 200
        assert app_js.content == (ROOT / "geo_patrol/static/mobile/app.js").read_bytes()
        assert client.get("/healthz").json()["version"] == _version()


def _head() -> str:
    """The newest migration of the checkout."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(migrate.alembic_config()).get_current_head()
    assert head is not None
    return head
