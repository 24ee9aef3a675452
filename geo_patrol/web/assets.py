"""The pages' third-party scripts and styles (the maps, the API documentation), served by
geo-patrol itself (no CDN).

Folium and its plugins name their files by CDN URL (`default_js` / `default_css`). Before a
map is rendered, `localise` rewrites every one of them to a file of an npm package installed
from `package.json` / `package-lock.json` (`./run` does `npm ci`), served under
`/static/vendor/`; the folder of those packages is the setting `vendor_dir`
(GEO_PATROL_VENDOR_DIR, default: the checkout's node_modules). A URL that is not in
`ASSETS` stops the rendering: a new plugin or a Folium upgrade cannot slip a CDN reference
onto an intranet page. The API documentation pages (/docs, /redoc) take their Swagger UI
and ReDoc files from the same table, by name (`vendor_url`).

`inline` turns such a page into one self-contained file (scripts, styles and the images
the styles use inlined) for the meeting pack, which must open from a USB stick.
"""

from __future__ import annotations

import base64
import mimetypes
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from geo_patrol.core.catalog import msg
from geo_patrol.core.errors import GeoPatrolError
from geo_patrol.core.settings import CHECKOUT_VENDOR_DIR

URL_PREFIX = "/static/vendor"

# Folium's name for a file -> (the CDN URL it uses, our npm file, or None when the page
# does not need it). Versions are those of package.json.
ASSETS: dict[str, tuple[str, str | None]] = {
    "leaflet": (
        "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js",
        "leaflet/dist/leaflet.js",
    ),
    "leaflet_css": (
        "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.css",
        "leaflet/dist/leaflet.css",
    ),
    "jquery": ("https://code.jquery.com/jquery-3.7.1.min.js", "jquery/dist/jquery.min.js"),
    "bootstrap": (
        "https://cdn.jsdelivr.net/npm/bootstrap@5.2.2/dist/js/bootstrap.bundle.min.js",
        "bootstrap/dist/js/bootstrap.bundle.min.js",
    ),
    "bootstrap_css": (
        "https://cdn.jsdelivr.net/npm/bootstrap@5.2.2/dist/css/bootstrap.min.css",
        "bootstrap/dist/css/bootstrap.min.css",
    ),
    # Bootstrap 3 glyph icons: no layer of ours uses them.
    "glyphicons_css": (
        "https://netdna.bootstrapcdn.com/bootstrap/3.0.0/css/bootstrap-glyphicons.css",
        None,
    ),
    "awesome_markers": (
        "https://cdnjs.cloudflare.com/ajax/libs/Leaflet.awesome-markers/2.0.2/"
        "leaflet.awesome-markers.js",
        "leaflet.awesome-markers/dist/leaflet.awesome-markers.min.js",
    ),
    "awesome_markers_css": (
        "https://cdnjs.cloudflare.com/ajax/libs/Leaflet.awesome-markers/2.0.2/"
        "leaflet.awesome-markers.css",
        "leaflet.awesome-markers/dist/leaflet.awesome-markers.css",
    ),
    "awesome_markers_font_css": (
        "https://cdn.jsdelivr.net/npm/@fortawesome/fontawesome-free@6.2.0/css/all.min.css",
        "@fortawesome/fontawesome-free/css/all.min.css",
    ),
    # Rotation of awesome markers: no marker of ours is rotated.
    "awesome_rotate_css": (
        "https://cdn.jsdelivr.net/gh/python-visualization/folium/folium/templates/"
        "leaflet.awesome.rotate.min.css",
        None,
    ),
    "markerclusterjs": (
        "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/"
        "leaflet.markercluster.js",
        "leaflet.markercluster/dist/leaflet.markercluster.js",
    ),
    "markerclustercss": (
        "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/MarkerCluster.css",
        "leaflet.markercluster/dist/MarkerCluster.css",
    ),
    "markerclusterdefaultcss": (
        "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/"
        "MarkerCluster.Default.css",
        "leaflet.markercluster/dist/MarkerCluster.Default.css",
    ),
    "leaflet-heat.js": (
        "https://cdn.jsdelivr.net/gh/python-visualization/folium@main/folium/templates/"
        "leaflet_heat.min.js",
        "leaflet.heat/dist/leaflet-heat.js",
    ),
    "Control.Fullscreen.js": (
        "https://cdn.jsdelivr.net/npm/leaflet.fullscreen@3.0.0/Control.FullScreen.min.js",
        "leaflet.fullscreen/Control.FullScreen.js",
    ),
    "Control.FullScreen.css": (
        "https://cdn.jsdelivr.net/npm/leaflet.fullscreen@3.0.0/Control.FullScreen.css",
        "leaflet.fullscreen/Control.FullScreen.css",
    ),
    "vectorGrid": (
        "https://unpkg.com/leaflet.vectorgrid@latest/dist/Leaflet.VectorGrid.bundled.js",
        "leaflet.vectorgrid/dist/Leaflet.VectorGrid.bundled.min.js",
    ),
    # The API documentation pages (/docs, /redoc): FastAPI's CDN defaults, served by us.
    "swagger_ui_js": (
        "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui-bundle.js",
        "swagger-ui-dist/swagger-ui-bundle.js",
    ),
    "swagger_ui_css": (
        "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui.css",
        "swagger-ui-dist/swagger-ui.css",
    ),
    "swagger_ui_favicon": (
        "https://fastapi.tiangolo.com/img/favicon.png",
        "swagger-ui-dist/favicon-32x32.png",
    ),
    "redoc_js": (
        "https://cdn.jsdelivr.net/npm/redoc@2/bundles/redoc.standalone.js",
        "redoc/bundles/redoc.standalone.js",
    ),
}


class AssetMissing(GeoPatrolError):
    """A map page would load a file that is not in the asset table, or not installed."""

    status = 500
    title_key = "error.map_asset_missing"


def _elements(root: Any) -> Iterator[Any]:
    """`root` and every element below it (Folium's `_children` tree)."""
    yield root
    for child in list(getattr(root, "_children", {}).values()):
        yield from _elements(child)


def _local(name: str, url: str) -> str | None:
    """Our URL for Folium's (name, url); refuses anything not in the table."""
    known = ASSETS.get(name)
    if known is None or known[0] != url:
        raise AssetMissing(msg("problem.web.asset_not_listed", name=name, url=url))
    return None if known[1] is None else f"{URL_PREFIX}/{known[1]}"


def localise(root: Any) -> None:
    """Point every script and style of the map `root` (and its plugins) at our own copies."""
    for element in _elements(root):
        for attribute in ("default_js", "default_css"):
            entries = getattr(element, attribute, None)
            if not entries:
                continue
            rewritten = []
            for name, url in entries:
                if url.startswith(URL_PREFIX):
                    rewritten.append((name, url))
                    continue
                local = _local(name, url)
                if local is not None:
                    rewritten.append((name, local))
            # An instance attribute: the class lists (shared by every map) stay untouched.
            setattr(element, attribute, rewritten)


def vendor_url(name: str) -> str:
    """Our `/static/vendor/...` URL of a file in the table, by its name there."""
    file = ASSETS[name][1]
    if file is None:
        raise AssetMissing(msg("problem.web.asset_not_served", name=name))
    return f"{URL_PREFIX}/{file}"


def vendor_file(url: str, *, vendor_dir: Path = CHECKOUT_VENDOR_DIR) -> Path:
    """The installed file behind one of our `/static/vendor/...` URLs."""
    relative = url.removeprefix(URL_PREFIX + "/").split("?")[0].split("#")[0]
    path = (vendor_dir / relative).resolve()
    if not path.is_relative_to(vendor_dir.resolve()) or not path.is_file():
        raise AssetMissing(msg("problem.web.asset_not_installed", url=url, vendor_dir=vendor_dir))
    return path


def check_installed(vendor_dir: Path = CHECKOUT_VENDOR_DIR) -> list[str]:
    """The table's files that are not installed (empty when `npm ci` has run)."""
    return [file for _, file in ASSETS.values() if file and not (vendor_dir / file).is_file()]


_SCRIPT = re.compile(r'<script\s+src="(/static/vendor/[^"]+)"\s*>\s*</script>')
_STYLESHEET = re.compile(r'<link\s+rel="stylesheet"\s+href="(/static/vendor/[^"]+)"\s*/?>')
_CSS_URL = re.compile(r"url\(\s*['\"]?(?!data:|#)([^'\")]+?)['\"]?\s*\)")


def _data_uri(path: Path) -> str:
    """A file as a data: URI."""
    media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if path.suffix == ".woff2":
        media_type = "font/woff2"
    return f"data:{media_type};base64,{base64.b64encode(path.read_bytes()).decode()}"


def _inline_css(path: Path) -> str:
    """A stylesheet with the images and fonts it refers to inlined as data: URIs."""

    def replace(match: re.Match[str]) -> str:
        target = (path.parent / match.group(1).split("?")[0].split("#")[0]).resolve()
        if not target.is_file():
            return match.group(0)
        return f'url("{_data_uri(target)}")'

    return _CSS_URL.sub(replace, path.read_text(encoding="utf-8"))


def inline(
    html: str, *, leave_out: tuple[str, ...] = (), vendor_dir: Path = CHECKOUT_VENDOR_DIR
) -> str:
    """A page with every `/static/vendor` script and stylesheet (files of `vendor_dir`) put
    inside it, except those under the npm packages in `leave_out` (removed: e.g. icon fonts
    a page does not use)."""

    def unused(url: str) -> bool:
        return url.removeprefix(URL_PREFIX + "/").startswith(leave_out) if leave_out else False

    def script(match: re.Match[str]) -> str:
        if unused(match.group(1)):
            return ""
        source = vendor_file(match.group(1), vendor_dir=vendor_dir).read_text(encoding="utf-8")
        return "<script>" + source.replace("</script", "<\\/script") + "</script>"

    def stylesheet(match: re.Match[str]) -> str:
        if unused(match.group(1)):
            return ""
        return (
            "<style>" + _inline_css(vendor_file(match.group(1), vendor_dir=vendor_dir)) + "</style>"
        )

    html = _STYLESHEET.sub(stylesheet, _SCRIPT.sub(script, html))
    if URL_PREFIX in html:
        raise AssetMissing(msg("problem.web.vendor_reference_left"))
    return html
