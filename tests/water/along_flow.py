"""Independent computations along a demo river (shapely in an azimuthal equidistant
projection centred on the place in question, from the demo file, not from the database): a
point's metres from the river's top along the flow, and a stretch's line."""

from __future__ import annotations

import json

import numpy as np
import shapely
from shapely.ops import substring

from geo_patrol.demo.load import DEMO_DATA
from tests.support.oracle import local_metres, to_metres


def river_line(code: str) -> tuple[shapely.LineString, str]:
    """The demo river `code` as drawn (lon/lat) and its flow from the file."""
    rivers = json.loads((DEMO_DATA / "rivers.geojson").read_text(encoding="utf-8"))
    feature = next(f for f in rivers["features"] if f["properties"]["code"] == code)
    return shapely.geometry.shape(feature["geometry"]), feature["properties"]["flow"]


class Along:
    """A river in the metres of a frame centred on (lon, lat), oriented along its flow."""

    def __init__(self, line: shapely.LineString, flow: str, lon: float, lat: float) -> None:
        self.frame = local_metres(lon, lat)
        drawn = to_metres(line, self.frame)
        self.line = drawn.reverse() if flow == "reversed" else drawn

    def metres(self, geometry: shapely.Geometry) -> shapely.Geometry:
        """A lon/lat geometry in the frame's metres."""
        return to_metres(geometry, self.frame)

    def position(self, lon: float, lat: float) -> float:
        """Metres from the river's top along the flow to the point of it nearest (lon, lat)."""
        return float(self.line.project(shapely.Point(self.frame.transform(lon, lat))))

    def point_at(self, position_m: float) -> tuple[float, float]:
        """lon/lat of the point `position_m` along the flow."""
        point = self.line.interpolate(position_m)
        lon, lat = self.frame.transform(point.x, point.y, direction="INVERSE")
        return float(lon), float(lat)

    def stretch(self, position_m: float, distance_m: float) -> shapely.LineString:
        """The river from `distance_m` above `position_m` down to it (metres)."""
        return substring(self.line, max(0.0, position_m - distance_m), position_m)

    def offset(self, position_m: float, metres: float) -> tuple[float, float]:
        """lon/lat of a point `metres` to the right of the flow at `position_m`."""
        base = np.asarray(self.line.interpolate(position_m).coords[0])
        ahead = np.asarray(self.line.interpolate(position_m + 1.0).coords[0])
        normal = (ahead - base)[::-1] * [1, -1]
        x, y = base + normal / np.linalg.norm(normal) * metres
        lon, lat = self.frame.transform(x, y, direction="INVERSE")
        return float(lon), float(lat)
