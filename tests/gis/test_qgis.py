"""QGIS itself reads the service: Debian's python3-qgis (3.22, as in offices on Debian 12),
headless, runs the release check tools/qgis_check.py against a live service on the committed
demo, signed in as Wujiang's county supervisor through a Basic auth config whose password is
a read-only personal token.

QGIS is about 1 GB of Debian packages (about a minute and a half to install), so `./run test`
does not install it and these tests are skipped without it:
`apt-get install --no-install-recommends python3-qgis` enables them; the same check runs by
hand against any service as `python -m tools.qgis_check` (docs/qgis.md).
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from geo_patrol.accounts.members import issue_api_token
from geo_patrol.core.vocabulary import TokenScope
from tests.support.browser import committed_demo_database, serving
from tests.support.paths import ROOT
from tests.support.principals import member_id
from tests.support.water import WATER_LAST, seed_sections

QGIS_PYTHON = os.environ.get("GEO_PATROL_QGIS_PYTHON", "/usr/bin/python3")
CHECK = ROOT / "tools" / "qgis_check.py"
LOGIN = "wujiang.sup"


def _has_qgis() -> bool:
    """QGIS's Python modules import under QGIS_PYTHON."""
    if not Path(QGIS_PYTHON).exists():
        return False
    found = subprocess.run(
        [QGIS_PYTHON, "-c", "import qgis.core"],
        capture_output=True,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
        check=False,
    )
    return found.returncode == 0


pytestmark = pytest.mark.skipif(
    not _has_qgis(),
    reason=f"QGIS is not installed for {QGIS_PYTHON} (apt-get install --no-install-recommends "
    "python3-qgis; about 1 GB): run `python -m tools.qgis_check` as a release check instead",
)


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """The service on the committed demo, and a read token of LOGIN."""
    tokens: dict[str, str] = {}

    def read_token(session: Session) -> None:
        tokens[LOGIN] = issue_api_token(
            session,
            member_id=member_id(session, LOGIN),
            label="qgis",
            days=1,
            address=None,
            scope=TokenScope.READ,
        )
        seed_sections(session, last=WATER_LAST)  # the water_sections collection has rows

    url = committed_demo_database("geo_patrol_qgis", then=read_token)
    with serving(url, tmp_path_factory.mktemp("data"), basemap="none") as base:
        yield base, tokens[LOGIN]


def run_check(service: tuple[str, str], part: str, out: Path) -> dict[str, Any]:
    """Run one part of tools/qgis_check.py under QGIS's Python; its report."""
    base, token = service
    command = [QGIS_PYTHON, str(CHECK), "--url", base, "--login", LOGIN, "--token", token]
    done = subprocess.run(
        [*command, "--only", part, "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.stdout, done.stderr[-2000:]
    report: dict[str, Any] = json.loads(done.stdout)
    assert (done.returncode == 0) == report["ok"], done.stderr[-2000:]
    return report


def test_qgis_draws_the_track_tiles_through_a_basic_auth_config(
    service: tuple[str, str], tmp_path: Path
) -> None:
    report = run_check(service, "tiles", tmp_path)
    tiles = report["tiles"]
    assert report["qgis"].startswith("3.")
    assert tiles["valid"] and tiles["zooms"] == [0, 18]
    # QGIS converted the style (one rule per patrol mode) and drew the tracks it fetched with
    # the token; the same layer without the auth config drew nothing (every tile a 401).
    assert tiles["style"] == "loaded"
    assert tiles["styles"] == ["tracks-foot", "tracks-boat", "tracks-car"]
    assert tiles["pixels"] > 100 and tiles["pixels_without_auth"] == 0
    assert report["ok"], report
    assert (tmp_path / "tracks.png").stat().st_size > 0


@pytest.mark.skipif(
    importlib.util.find_spec("geo_patrol.api.routes.ogc") is None,
    reason="this build has no OGC API yet (geo_patrol/api/routes/ogc.py, the ogc branch)",
)
def test_qgis_reads_every_ogc_collection_through_a_basic_auth_config(
    service: tuple[str, str], tmp_path: Path
) -> None:
    report = run_check(service, "ogc", tmp_path)
    ogc = report["ogc"]
    assert ogc["missing"] == [] and ogc["valid_without_auth"] is False
    for name, collection in ogc["collections"].items():
        # Every feature the service says the caller may see, paged through 25 at a time,
        # drawn.
        assert collection["valid"], name
        assert collection["features"] == collection["number_matched"] > 0, (name, collection)
        assert collection["pixels"] > 0, name
    assert report["ok"], report
