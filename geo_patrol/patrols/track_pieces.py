"""A track's kept fixes as consecutive short lines ("pieces"), for set-based SQL.

Piece k joins fixes k * legs .. k * legs + legs (each piece shares its last fix with the
next one, so every leg is in exactly one piece); the last piece may be shorter. Pieces are
sent with a binary COPY as EWKB lines: a thousand short lines are far cheaper for PostGIS
to test, cut and buffer than one line of a million vertices, and cheaper to send and index
than a million points.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_patrol.db.bulk import copy_rows, ewkb_lines
from geo_patrol.patrols.track.times import epoch_millis
from geo_patrol.patrols.track.types import TrackPoints


@dataclass(frozen=True, eq=False)
class Pieces:
    """The fix indices of each piece of a track of `fixes` fixes, `legs` legs a piece."""

    fixes: int
    legs: int
    groups: list[NDArray[np.int64]]  # index arrays of equally long pieces (full, then last)

    @classmethod
    def of(cls, fixes: int, legs: int) -> Pieces:
        """Pieces of `legs` legs over `fixes` fixes (none for fewer than two fixes)."""
        full = max(fixes - 1, 0) // legs
        groups = [np.arange(full)[:, None] * legs + np.arange(legs + 1)]
        if fixes > 1 and (fixes - 1) % legs:
            groups.append(np.arange(full * legs, fixes)[None, :])
        return cls(fixes, legs, groups)

    @property
    def count(self) -> int:
        """Number of pieces."""
        return sum(len(group) for group in self.groups)

    def piece_of_fix(self) -> NDArray[np.int64]:
        """The piece starting at or before each fix (the last fix: the last piece)."""
        return np.minimum(np.arange(self.fixes) // self.legs, self.count - 1)

    def fixes_of(self, pieces: NDArray[np.int64]) -> NDArray[np.int64]:
        """Indices of the fixes of the given pieces (each with both ends), ascending."""
        edges = np.zeros(self.fixes + 1, np.int64)
        np.add.at(edges, pieces * self.legs, 1)
        np.add.at(edges, np.minimum(pieces * self.legs + self.legs + 1, self.fixes), -1)
        return np.flatnonzero(np.cumsum(edges)[: self.fixes] > 0)

    def copy(
        self,
        session: Session,
        *,
        table: str,
        lon: NDArray[np.float64],
        lat: NDArray[np.float64],
        columns: dict[str, NDArray[Any]] | None = None,
        measures: NDArray[np.float64] | None = None,
    ) -> None:
        """COPY the pieces into `table` as `k` (piece number) and `geom` (EWKB line, SRID
        4326; with `measures` per fix as M), with optional per-piece `columns` (one value per
        piece, in piece order)."""
        first = 0
        for index in self.groups:
            rows = slice(first, first + len(index))
            extra = {name: values[rows] for name, values in (columns or {}).items()}
            copy_rows(
                session,
                table=table,
                columns={
                    "k": np.arange(first, first + len(index), dtype=np.int32),
                    **extra,
                    "geom": ewkb_lines(lon, lat, index, measures),
                },
            )
            first += len(index)


# A patrol's kept track as indexed pieces of PIECE_LEGS legs with each fix's time as M
# (epoch seconds, NaN where unknown), for the steps that need "where was the track near
# this, and when": river coverage and verification of resolved incidents. Made once per
# patrol computation; gone at commit.
PIECE_LEGS = 64
TRACK_PIECES = "track_pieces"

_CREATE = """
CREATE TEMP TABLE track_pieces (k int, geom geometry(LineStringM, 4326)) ON COMMIT DROP
"""


def store_track_pieces(session: Session, *, kept: TrackPoints) -> str:
    """Make the temporary table of a patrol's track pieces from `kept`, its kept fixes in
    time order; returns its name."""
    session.execute(text(f"DROP TABLE IF EXISTS {TRACK_PIECES}"))
    session.execute(text(_CREATE))
    seconds = epoch_millis(kept.time) / 1000
    pieces = Pieces.of(len(kept), PIECE_LEGS)
    pieces.copy(session, table=TRACK_PIECES, lon=kept.lon, lat=kept.lat, measures=seconds)
    session.execute(text(f"CREATE INDEX ON {TRACK_PIECES} USING gist (geom)"))
    session.execute(text(f"ANALYZE {TRACK_PIECES}"))
    return TRACK_PIECES
