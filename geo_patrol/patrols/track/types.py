"""The types of a track: its points, waypoints and file, and the chunks a reader fills.

`TrackPoints`, one numpy array per field, is what a patrol is computed from: every reader in
`formats/` gives one (in a `TrackFile`), cleaning selects from it, attribution, coverage and
quality read it. Times are numpy datetime64[ms] in UTC (NaT where a fix has none); reading
them from text or numbers is `times`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "DEFAULT_MAX_UNCOMPRESSED_BYTES",
    "MAX_WAYPOINTS",
    "MS",
    "NAT",
    "PointChunks",
    "TrackFile",
    "TrackPoints",
    "Waypoint",
    "renumber_segments",
]

# What a KMZ may unpack to when the caller gives no cap (the service passes
# GEO_PATROL_MAX_UNPACKED_BYTES, by default its upload limit).
DEFAULT_MAX_UNCOMPRESSED_BYTES = 50_000_000
# Waypoints are Python objects (~300 bytes each) and no patrol needs thousands of them.
MAX_WAYPOINTS = 10_000
MS = "datetime64[ms]"
NAT = np.datetime64("NaT", "ms")


@dataclass(frozen=True, eq=False)
class TrackPoints:
    """Track points in file order, one array per field, all of the same length."""

    lon: NDArray[np.float64]
    lat: NDArray[np.float64]
    time: NDArray[np.datetime64]  # datetime64[ms] UTC; NaT where the file has no time
    ele: NDArray[np.float64]  # NaN where absent
    accuracy_m: NDArray[np.float64]  # horizontal accuracy in metres; NaN where absent
    hdop: NDArray[np.float64]  # horizontal dilution of precision (unitless); NaN if absent
    segment: NDArray[np.int32]  # 0-based track/segment index, non-decreasing

    def __post_init__(self) -> None:
        """Check that every array has the length of `lon`."""
        n = len(self.lon)
        for name in ("lat", "time", "ele", "accuracy_m", "hdop", "segment"):
            if len(getattr(self, name)) != n:
                raise ValueError(
                    f"TrackPoints.{name} has {len(getattr(self, name))} values, not {n}"
                )

    def __len__(self) -> int:
        """Number of points."""
        return len(self.lon)

    @classmethod
    def from_arrays(
        cls,
        lon: ArrayLike,
        lat: ArrayLike,
        *,
        time: ArrayLike | None = None,
        ele: ArrayLike | None = None,
        accuracy_m: ArrayLike | None = None,
        hdop: ArrayLike | None = None,
        segment: ArrayLike | None = None,
    ) -> TrackPoints:
        """Build from array-likes; missing fields become NaN/NaT, the segment 0."""
        x = np.asarray(lon, dtype=np.float64)
        n = len(x)

        def floats(values: ArrayLike | None) -> NDArray[np.float64]:
            return np.full(n, np.nan) if values is None else np.asarray(values, dtype=np.float64)

        return cls(
            lon=x,
            lat=np.asarray(lat, dtype=np.float64),
            time=np.full(n, NAT) if time is None else np.asarray(time, dtype=MS),
            ele=floats(ele),
            accuracy_m=floats(accuracy_m),
            hdop=floats(hdop),
            segment=np.zeros(n, np.int32) if segment is None else np.asarray(segment, np.int32),
        )


@dataclass(frozen=True)
class Waypoint:
    """A named place in a track file (GPX wpt, KML Point placemark, GeoJSON Point)."""

    name: str | None
    lon: float
    lat: float
    time: datetime | None = None  # aware, UTC
    description: str | None = None


@dataclass(frozen=True, eq=False)
class TrackFile:
    """The track points, waypoints and header of one file, in WGS84 after `parse_track`."""

    format: str  # "gpx", "kml", "kmz", "geojson", "csv"
    points: TrackPoints
    waypoints: list[Waypoint]
    name: str | None
    creator: str | None  # GPX creator attribute; KML: the Document's <name>


@dataclass
class PointChunks:
    """Fixes collected while a parser walks a file, as numpy chunks: about 40 bytes a fix,
    never Python lists of numbers (a float in a list costs 32 bytes, a tuple 64 more)."""

    lon: list[NDArray[np.float64]] = field(default_factory=list)
    lat: list[NDArray[np.float64]] = field(default_factory=list)
    ele: list[NDArray[np.float64]] = field(default_factory=list)
    time: list[NDArray[np.datetime64]] = field(default_factory=list)
    segment: list[NDArray[np.int32]] = field(default_factory=list)
    count: int = 0
    segments: int = 0

    def __len__(self) -> int:
        """Number of points collected."""
        return self.count

    def add(
        self,
        coords: NDArray[np.float64],
        time: NDArray[np.datetime64] | None = None,
        *,
        new_segment: bool = True,
    ) -> None:
        """Add (n, 3) lon/lat/ele rows with their times (None: NaT), as a new segment or not."""
        n = len(coords)
        if not n:
            return
        if new_segment or not self.segments:
            self.segments += 1
        self.lon.append(np.ascontiguousarray(coords[:, 0], dtype=np.float64))
        self.lat.append(np.ascontiguousarray(coords[:, 1], dtype=np.float64))
        self.ele.append(np.ascontiguousarray(coords[:, 2], dtype=np.float64))
        self.time.append(np.full(n, NAT) if time is None else time.astype(MS))
        self.segment.append(np.full(n, self.segments - 1, dtype=np.int32))
        self.count += n

    def to_points(
        self, *, accuracy: ArrayLike | None = None, hdop: ArrayLike | None = None
    ) -> TrackPoints:
        """TrackPoints of everything added, in order."""

        def joined(chunks: list[NDArray[Any]], dtype: str) -> NDArray[Any]:
            return np.concatenate(chunks) if chunks else np.zeros(0, dtype)

        return TrackPoints.from_arrays(
            joined(self.lon, "f8"),
            joined(self.lat, "f8"),
            time=joined(self.time, MS),
            ele=joined(self.ele, "f8"),
            accuracy_m=accuracy,
            hdop=hdop,
            segment=joined(self.segment, "i4"),
        )


def renumber_segments(segment: ArrayLike) -> NDArray[np.int32]:
    """Non-decreasing segment ids renumbered 0, 1, 2... without gaps (empty segments)."""
    seg = np.asarray(segment, dtype=np.int64)
    if not len(seg):
        return np.zeros(0, dtype=np.int32)
    return np.unique(seg, return_inverse=True)[1].astype(np.int32)
