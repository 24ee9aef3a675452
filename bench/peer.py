"""The peer: what an analyst would write with GeoPandas/shapely for the same answers.

Read the GPX track, project it to UTM 51N, overlay it with the county and town polygons for
metres per jurisdiction, buffer it 50 m and intersect the rivers for the covered metres.
The reference layers (boundaries, rivers) are read once before the clock starts, as the
service has them in its database; the clock covers the track from its bytes to the answers.

The track is cut into pieces of PIECE_VERTICES vertices first, and only the pieces near a
river are buffered: GEOS buffering the whole 1M-point walk (1,300 km crossing itself
thousands of times) in one go went past 15 GB of memory and was stopped, so an analyst would
soon learn to do this. Neither changes a length.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from time import perf_counter

import geopandas as gpd  # type: ignore[import-untyped]  # no stubs
import numpy as np
import pandas as pd  # type: ignore[import-untyped]
import shapely

from geo_patrol.demo.load import DEMO_DATA

UTM = "EPSG:32651"
REACH_M = 50.0
PIECE_VERTICES = 1000


@dataclass(frozen=True)
class Layers:
    """Reference polygons and lines in UTM 51N."""

    counties: gpd.GeoDataFrame
    towns: gpd.GeoDataFrame
    rivers: gpd.GeoDataFrame


def load_layers() -> Layers:
    """Counties, towns and rivers of the demo region, projected."""
    boundaries = gpd.read_file(DEMO_DATA / "jurisdictions.geojson").to_crs(UTM)
    rivers = gpd.read_file(DEMO_DATA / "rivers.geojson").to_crs(UTM)

    def level(name: str) -> gpd.GeoDataFrame:
        return boundaries.loc[boundaries["level"] == name, ["code", "geometry"]]

    return Layers(level("county"), level("town"), rivers[["code", "geometry"]])


def pieces(track: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The track's lines cut into consecutive pieces of at most PIECE_VERTICES vertices."""
    lines = []
    for part in shapely.get_parts(track.geometry.values):
        coords = shapely.get_coordinates(part)
        starts = np.arange(0, max(len(coords) - 1, 1), PIECE_VERTICES)
        lines += [shapely.LineString(coords[s : s + PIECE_VERTICES + 1]) for s in starts]
    return gpd.GeoDataFrame(geometry=lines, crs=track.crs)


def metres_inside(track: gpd.GeoDataFrame, polygons: gpd.GeoDataFrame) -> dict[str, float]:
    """Metres of the track inside each polygon (by code)."""
    pieces = gpd.overlay(track, polygons, how="intersection", keep_geom_type=True)
    return {str(k): float(v) for k, v in pieces.length.groupby(pieces["code"]).sum().items()}


def covered_rivers(track: gpd.GeoDataFrame, rivers: gpd.GeoDataFrame) -> dict[str, float]:
    """Metres of each river within REACH_M of the track (its buffer, nothing simplified)."""
    near = track[track.dwithin(rivers.union_all(), REACH_M)]
    reach = near.buffer(REACH_M).union_all()
    covered = rivers.set_index("code").intersection(reach).length
    return {str(k): float(v) for k, v in covered.items() if v > 0}


def analyse(
    data: bytes, layers: Layers, seconds: dict[str, float] | None = None
) -> dict[str, dict[str, float]]:
    """Per-county and per-town metres, covered river metres, total length of one GPX track;
    `seconds`, when given, gets the wall time of the river coverage (`rivers`)."""
    track = pieces(gpd.read_file(io.BytesIO(data), layer="tracks").to_crs(UTM))
    county, town = metres_inside(track, layers.counties), metres_inside(track, layers.towns)
    start = perf_counter()
    river = covered_rivers(track, layers.rivers)
    if seconds is not None:
        seconds["rivers"] = perf_counter() - start
    total = {"length_m": float(pd.Series(track.length).sum())}
    return {"county": county, "town": town, "river": river, "total": total}
