"""Base maps under the layers: none, OpenStreetMap, Tianditu, or an internal XYZ server.

Our data is WGS84; Tianditu is CGCS2000 (the same to within centimetres) and is asked for
in its Web Mercator tile matrix ("_w" layers), so it lines up without any datum shift.
Amap/Baidu tiles (GCJ-02/BD-09) would not line up and are not offered.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from geo_patrol.core.catalog import msg
from geo_patrol.core.errors import GeoPatrolError

OSM_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
OSM_ATTRIBUTION = '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a>'
TIANDITU_URL = (
    "https://t{s}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
    "&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles"
    "&TILEMATRIX={{z}}&TILEROW={{y}}&TILECOL={{x}}&tk={key}"
)
TIANDITU_ATTRIBUTION = '&copy; <a href="https://www.tianditu.gov.cn/">天地图</a>'


class BasemapMisconfigured(GeoPatrolError):
    """The base map setting cannot be used."""

    status = 500
    title_key = "error.basemap_misconfigured"


@dataclass(frozen=True)
class TileSource:
    """One XYZ tile layer: URL template, attribution, subdomains."""

    url: str
    attribution: str
    subdomains: str = "abc"


def tile_sources(
    basemap: str, *, key: str | None = None, attribution: str = ""
) -> list[TileSource]:
    """The tile layers for the `basemap` setting (empty for "none")."""
    choice = basemap.strip()
    if choice in ("", "none"):
        return []
    if choice == "osm":
        return [TileSource(OSM_URL, OSM_ATTRIBUTION)]
    if choice == "tianditu":
        if not key:
            raise BasemapMisconfigured(msg("problem.web.tianditu_needs_key"))
        return [
            TileSource(
                TIANDITU_URL.format(layer=layer, key=key, s="{s}"),
                TIANDITU_ATTRIBUTION,
                subdomains="01234567",
            )
            for layer in ("vec", "cva")  # roads and areas, then the Chinese labels on top
        ]
    if choice.startswith(("http://", "https://")) and "{z}" in choice:
        return [TileSource(choice, attribution or urlsplit(choice).netloc)]
    raise BasemapMisconfigured(msg("problem.web.basemap_choice", choice=choice))


def tile_origins(sources: list[TileSource]) -> list[str]:
    """The origins the page fetches tiles from (for its Content-Security-Policy)."""
    origins = set()
    for source in sources:
        parts = urlsplit(source.url)
        host = parts.netloc.replace("{s}", "*")
        origins.add(f"{parts.scheme}://{host}")
    return sorted(origins)
