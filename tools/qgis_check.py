"""Release check: QGIS itself reads geo-patrol, as a county's GIS desk would.

Against a running service (`./run demo`), from the repository:

    .venv/bin/python -m tools.qgis_check --url http://127.0.0.1:8000 --login wujiang.sup

(the password from GEO_PATROL_PASSWORD or asked for; or `--token gpt_...`, a read token of
that login). It makes a read-only personal token (one day), stores it as the password of a
Basic auth config in a fresh QGIS authentication database (a temporary profile with a master
password), then, headless (QT_QPA_PLATFORM=offscreen):

- the track tiles as a vector-tile layer: the URL template and zooms from /tiles/tracks.json,
  the style from /tiles/tracks/style.json, the auth config; valid, the style converted, a
  render of the TileJSON's bounds not blank, and the same layer without the auth config blank
  (the tiles really need the token, and QGIS really sends it);
- every OGC API collection of /ogc/collections with the OAPIF provider and the auth config:
  valid, as many features as the service's numberMatched (QGIS pages through them all, 25 a
  request), and a render of each not blank; without the auth config a collection does not
  load.

It prints one JSON report and exits 0 when everything passed (1 otherwise; 2 when QGIS is not
installed). Renders go to --out (var/qgis-check/). QGIS is Debian's python3-qgis (3.22 on
Debian 12: `apt-get install --no-install-recommends python3-qgis`); the project's virtual
environment cannot import it, so the check runs itself again under /usr/bin/python3 (or
$GEO_PATROL_QGIS_PYTHON). It uses only the standard library besides QGIS.

Introduced in: geo-patrol 0.4.0
"""

from __future__ import annotations

import argparse
import base64
import gc
import getpass
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

QGIS_PYTHON = os.environ.get("GEO_PATROL_QGIS_PYTHON", "/usr/bin/python3")
# The collections the OGC API part serves (jurisdictions: one per level, jurisdictions_*).
COLLECTIONS = (
    "rivers",
    "segments",
    "zones",
    "border_zones",
    "villages",
    "patrols",
    "incidents",
    "uncovered",
    "chief_stretches",
)
SIZE = (640, 480)
PAGE = 25  # features per OAPIF request: the demo's bigger collections take several pages
WEB_MERCATOR = "EPSG:3857"


def _args(argv: list[str]) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(prog="python -m tools.qgis_check", description=__doc__)
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="the service")
    parser.add_argument("--login", required=True, help="whose read token (QGIS's user name)")
    parser.add_argument("--token", help="a read token of --login (default: make one)")
    parser.add_argument("--only", choices=("tiles", "ogc"), help="one part only")
    parser.add_argument("--out", default="var/qgis-check", help="folder for the renders")
    return parser.parse_args(argv)


def _http(url: str, *, auth: str | None = None, body: dict[str, Any] | None = None) -> Any:
    """GET (or POST `body` as JSON) and decode the JSON answer."""
    headers = {"Accept": "application/json"}
    if auth:
        headers["Authorization"] = auth
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(url, data=data, headers=headers)
    with urllib.request.urlopen(request, timeout=60) as answer:
        return json.load(answer)


def read_token(url: str, login: str) -> str:
    """A new read-only personal token of `login`, valid for a day."""
    password = os.environ.get("GEO_PATROL_PASSWORD") or getpass.getpass(f"{login}'s password: ")
    body = {"login": login, "password": password, "label": "qgis check", "days": 1}
    answer = _http(f"{url}/api/v1/auth/tokens", body={**body, "scope": "read"})
    return str(answer["token"])


def _basic(login: str, token: str) -> str:
    """The Authorization header QGIS's Basic auth method sends."""
    return "Basic " + base64.b64encode(f"{login}:{token}".encode()).decode()


class Qgis:
    """A headless QGIS with a fresh profile, its auth database unlocked."""

    def __init__(self, profile: str) -> None:
        """Start QGIS with its profile (and so its authentication database) in `profile`."""
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
        os.environ["QGIS_AUTH_DB_DIR_PATH"] = profile
        # Qt's network cache, settings and data go under the profile too: a tile cached by
        # an earlier run (Cache-Control: private is for a client's own cache) would be drawn
        # for a layer without the token, and the check leaves nothing in the home folder.
        for kind in ("CACHE", "CONFIG", "DATA"):
            os.environ[f"XDG_{kind}_HOME"] = os.path.join(profile, kind.lower())
        from qgis.core import QgsApplication

        self.app = QgsApplication([], False, profile)
        self.app.initQgis()
        manager = QgsApplication.authManager()
        if not manager.setMasterPassword("geo-patrol qgis check", True):
            raise RuntimeError("QGIS refused to set the master password")

    def basic_config(self, login: str, token: str) -> str:
        """Store a Basic auth config (the token as the password); its id."""
        from qgis.core import QgsApplication, QgsAuthMethodConfig

        config = QgsAuthMethodConfig()
        config.setMethod("Basic")
        config.setName("geo-patrol (read token)")
        # QGIS 3.22 sends nothing when the user name is empty: the login goes there.
        config.setConfig("username", login)
        config.setConfig("password", token)
        stored, config = QgsApplication.authManager().storeAuthenticationConfig(config)
        if not stored:
            raise RuntimeError("QGIS did not store the auth config")
        return str(config.id())

    def close(self) -> None:
        """Stop QGIS (every layer gone first: PyQGIS crashes on layers outliving it)."""
        gc.collect()
        self.app.exitQgis()


def render(layers: list[Any], extent: Any, crs: Any, path: Path) -> int:
    """Render `layers` over `extent` (in `crs`) to `path`; the number of pixels drawn."""
    import numpy as np
    from qgis.core import (
        QgsCoordinateReferenceSystem,
        QgsCoordinateTransform,
        QgsMapRendererParallelJob,
        QgsMapSettings,
        QgsProject,
    )
    from qgis.PyQt.QtCore import QSize
    from qgis.PyQt.QtGui import QColor, QImage

    target = QgsCoordinateReferenceSystem(WEB_MERCATOR)
    box = QgsCoordinateTransform(crs, target, QgsProject.instance()).transformBoundingBox(extent)
    box.scale(1.1)  # a margin, and a point's extent gets a size
    if box.width() == 0 or box.height() == 0:
        box.grow(500)
    settings = QgsMapSettings()
    settings.setLayers(layers)
    settings.setDestinationCrs(target)
    settings.setExtent(box)
    settings.setOutputSize(QSize(*SIZE))
    settings.setBackgroundColor(QColor(255, 255, 255))
    job = QgsMapRendererParallelJob(settings)
    job.start()
    job.waitForFinished()
    image = job.renderedImage().convertToFormat(QImage.Format_RGB32)
    image.save(str(path))
    pixels = image.constBits()
    pixels.setsize(image.sizeInBytes())
    # numpy comes with python3-qgis; RGB32 is one 32-bit word per pixel, white 0xffffffff.
    return int(np.count_nonzero(np.frombuffer(pixels, dtype=np.uint32) != 0xFFFFFFFF))


def check_tiles(url: str, auth: str, config_id: str, out: Path) -> dict[str, Any]:
    """The track tiles as a vector-tile layer, from the TileJSON, with and without the
    auth config."""
    from qgis.core import (
        QgsCoordinateReferenceSystem,
        QgsDataSourceUri,
        QgsRectangle,
        QgsVectorTileLayer,
    )

    tilejson = _http(f"{url}/tiles/tracks.json", auth=auth)
    style = _http(f"{url}/tiles/tracks/style.json")

    def layer(with_auth: bool) -> Any:
        uri = QgsDataSourceUri()
        uri.setParam("type", "xyz")
        uri.setParam("url", tilejson["tiles"][0])
        uri.setParam("zmin", str(tilejson["minzoom"]))
        uri.setParam("zmax", str(tilejson["maxzoom"]))
        uri.setParam("styleUrl", f"{url}/tiles/tracks/style.json")
        if with_auth:
            uri.setAuthConfigId(config_id)
        return QgsVectorTileLayer(bytes(uri.encodedUri()).decode(), tilejson["name"])

    tracks, anonymous = layer(True), layer(False)
    message, styled = tracks.loadDefaultStyle()
    styles = [s.styleName() for s in tracks.renderer().styles()] if styled else []
    extent = QgsRectangle(*tilejson["bounds"])
    wgs84 = QgsCoordinateReferenceSystem("EPSG:4326")
    # Without the token first: QGIS caches the tiles it fetched (private is for a client's
    # own cache), and would draw them again for the layer without it.
    refused = render([anonymous], extent, wgs84, out / "tracks-without-auth.png")
    drawn = render([tracks], extent, wgs84, out / "tracks.png")
    result = {
        "valid": tracks.isValid(),
        "zooms": [tracks.sourceMinZoom(), tracks.sourceMaxZoom()],
        "style": message if not styled else "loaded",
        "styles": styles,
        "pixels": drawn,
        "pixels_without_auth": refused,
    }
    result["ok"] = bool(
        tracks.isValid()
        and styled
        and styles == [layer["id"] for layer in style["layers"]]
        and result["zooms"] == [tilejson["minzoom"], tilejson["maxzoom"]]
        and drawn > 0
        and refused == 0
    )
    return result


def _matched(url: str, auth: str, collection: str) -> int | None:
    """How many features the service says a collection has for the caller."""
    page = _http(f"{url}/ogc/collections/{collection}/items?limit=1", auth=auth)
    matched = page.get("numberMatched")
    return int(matched) if matched is not None else None


def oapif_layer(url: str, name: str, config_id: str | None) -> Any:
    """A collection as QGIS's OAPIF provider reads it, PAGE features a request."""
    from qgis.core import QgsDataSourceUri, QgsVectorLayer

    uri = QgsDataSourceUri()
    uri.setParam("url", f"{url}/ogc")
    uri.setParam("typename", name)
    uri.setParam("pageSize", str(PAGE))
    if config_id:
        uri.setAuthConfigId(config_id)
    # The WFS and OAPIF providers read the key='value' form of a data source URI.
    return QgsVectorLayer(uri.uri(False), name, "OAPIF")


def check_collection(url: str, auth: str, config_id: str, name: str, out: Path) -> dict[str, Any]:
    """One OGC API collection through QGIS's OAPIF provider."""
    layer = oapif_layer(url, name, config_id)
    result: dict[str, Any] = {"valid": layer.isValid()}
    if not layer.isValid():
        result["ok"] = False
        return result
    features = sum(1 for _ in layer.getFeatures())
    matched = _matched(url, auth, name)
    pixels = render([layer], layer.extent(), layer.crs(), out / f"{name}.png") if features else 0
    result.update(features=features, number_matched=matched, pixels=pixels)
    result["ok"] = features > 0 and features == (matched if matched is not None else features)
    result["ok"] = result["ok"] and pixels > 0
    return result


def check_ogc(url: str, auth: str, config_id: str, out: Path) -> dict[str, Any]:
    """Every collection the service lists, and that the expected ones are among them."""
    listed = [c["id"] for c in _http(f"{url}/ogc/collections", auth=auth)["collections"]]
    missing = [c for c in COLLECTIONS if c not in listed]
    if not any(c.startswith("jurisdictions_") for c in listed):
        missing.append("jurisdictions_*")
    # Without the auth config QGIS gets a 401: the layer must not load.
    refused = oapif_layer(url, listed[0], None).isValid() if listed else None
    results = {name: check_collection(url, auth, config_id, name, out) for name in listed}
    return {
        "missing": missing,
        "valid_without_auth": refused,
        "collections": results,
        "ok": not missing and refused is False and all(r["ok"] for r in results.values()),
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    """The whole check in this (QGIS's) Python; the report."""
    from qgis.core import Qgis as QgisInfo

    started = time.monotonic()
    url = args.url.rstrip("/")
    token = args.token or read_token(url, args.login)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = {"qgis": QgisInfo.version(), "url": url, "login": args.login}
    with tempfile.TemporaryDirectory(prefix="qgis-profile-") as profile:
        qgis = Qgis(profile)
        try:
            config_id = qgis.basic_config(args.login, token)
            auth = _basic(args.login, token)
            if args.only in (None, "tiles"):
                report["tiles"] = check_tiles(url, auth, config_id, out)
            if args.only in (None, "ogc"):
                report["ogc"] = check_ogc(url, auth, config_id, out)
        finally:
            qgis.close()
    report["seconds"] = round(time.monotonic() - started, 1)
    report["ok"] = all(report[part]["ok"] for part in ("tiles", "ogc") if part in report)
    return report


def main(argv: list[str]) -> int:
    """Run the check here if QGIS imports, else under QGIS's Python."""
    try:
        import qgis.core  # noqa: F401
    except ImportError:
        if Path(sys.executable).resolve() == Path(QGIS_PYTHON).resolve():
            print(f"QGIS is not installed for {QGIS_PYTHON}: apt-get install python3-qgis")
            return 2
        return subprocess.run([QGIS_PYTHON, str(Path(__file__).resolve()), *argv]).returncode
    args = _args(argv)
    try:
        report = run(args)
    except urllib.error.HTTPError as error:
        report = {"ok": False, "error": f"{error.code} from {error.url}"}
    print(json.dumps(report, ensure_ascii=False, indent=2))
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
