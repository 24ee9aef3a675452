"""GEO_PATROL_VENDOR_DIR: the map's npm files are read from the configured folder, by the
service (/static/vendor) and by the meeting pack's inlining."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from geo_patrol.api.app import create_app
from geo_patrol.core.settings import CHECKOUT_VENDOR_DIR, Settings
from geo_patrol.web.assets import AssetMissing, inline

SCRIPT = "leaflet/dist/leaflet.js"


def _vendor(folder: Path) -> Path:
    """A vendor folder of its own with one script in it."""
    path = folder / SCRIPT
    path.parent.mkdir(parents=True)
    path.write_text("window.fromTheSetting = 1;")
    return folder


def test_the_default_is_the_checkouts_node_modules(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GEO_PATROL_VENDOR_DIR", raising=False)
    assert Settings(_env_file=None).vendor_dir == CHECKOUT_VENDOR_DIR
    assert Path(__file__).resolve().parents[2] / "node_modules" == CHECKOUT_VENDOR_DIR


def test_the_environment_sets_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("GEO_PATROL_VENDOR_DIR", str(tmp_path))
    assert Settings().vendor_dir == tmp_path


def test_the_service_serves_the_configured_folder(tmp_path: Path) -> None:
    vendor = _vendor(tmp_path / "vendor")
    app = create_app(Settings(database_url="postgresql://unused/none", vendor_dir=vendor))
    client = TestClient(app)  # no lifespan: static files need no database
    answer = client.get(f"/static/vendor/{SCRIPT}")
    assert answer.status_code == 200
    assert answer.text == "window.fromTheSetting = 1;"
    assert client.get("/static/vendor/leaflet/dist/leaflet.css").status_code == 404


def test_inline_reads_the_configured_folder(tmp_path: Path) -> None:
    vendor = _vendor(tmp_path / "vendor")
    page = f'<script src="/static/vendor/{SCRIPT}"></script>'
    assert inline(page, vendor_dir=vendor) == "<script>window.fromTheSetting = 1;</script>"
    with pytest.raises(AssetMissing, match="GEO_PATROL_VENDOR_DIR"):
        inline(page, vendor_dir=tmp_path / "empty")
