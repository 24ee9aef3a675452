"""Real device files whose fixes are out of the usual shape, uploaded whole: fixes with and
without times, a clock that stands still or steps back, a bad start, a fast track. Each is
checked against the file itself read here with the standard library (its fixes in its own
order, lengths by pyproj.Geod), never against our own reader or cleaning."""

from __future__ import annotations

import itertools
import json
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyproj
import pytest
import shapely
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_patrol.geography.imports.jurisdictions import (
    JurisdictionImportOptions,
    import_jurisdictions,
)
from tests.support.principals import headers_for

TRACKS = Path(__file__).resolve().parents[1] / "fixtures" / "tracks"
GEOD = pyproj.Geod(ellps="WGS84")
NO_DROPS = dict.fromkeys(
    ("invalid_coordinates", "null_island", "future", "inaccurate", "duplicate", "speed_jump"), 0
)


@dataclass(frozen=True)
class FileFixes:
    """A GPX file's track points in the file's order (times as seconds; NaN if none)."""

    lon: np.ndarray
    lat: np.ndarray
    seconds: np.ndarray

    @classmethod
    def read(cls, name: str, data: bytes | None = None) -> FileFixes:
        """Every <trkpt> of the file (or of `data`), in document order."""
        lon, lat, seconds = [], [], []
        root = ET.fromstring(data if data is not None else (TRACKS / name).read_bytes())
        for point in root.iter():
            if not point.tag.endswith("}trkpt"):
                continue
            lon.append(float(point.attrib["lon"]))
            lat.append(float(point.attrib["lat"]))
            stamp = next((c.text for c in point if c.tag.endswith("}time")), None)
            seconds.append(
                datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
                if stamp
                else np.nan
            )
        return cls(np.array(lon), np.array(lat), np.array(seconds))


def upload(
    client: TestClient, session: Session, name: str, mode: str, data: bytes | None = None
) -> dict[str, Any]:
    """Upload a fixture (or `data` under its name) as the admin for the demo's first team;
    the patrol's JSON."""
    headers = headers_for(session)["admin"]
    team = session.execute(text("SELECT min(id) FROM teams")).scalar_one()
    response = client.post(
        "/api/v1/patrols",
        headers=headers,
        data={"team_id": str(team), "mode": mode},
        files={"file": (name, data if data is not None else (TRACKS / name).read_bytes())},
    )
    assert response.status_code == 201, response.text
    patrol = client.get(f"/api/v1/patrols/{response.json()['id']}", headers=headers)
    assert patrol.status_code == 200, patrol.text
    body: dict[str, Any] = patrol.json()
    return {"id": response.json()["id"], **body["properties"]}


def stored_line(session: Session, patrol_id: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The kept fixes as stored: their place in the file (seq) and coordinates, by ord."""
    rows = session.execute(
        text(
            "SELECT seq, ST_X(geom), ST_Y(geom) FROM patrol_points WHERE patrol_id = :p "
            "AND ord IS NOT NULL ORDER BY ord"
        ),
        {"p": patrol_id},
    ).all()
    array = np.array(rows, dtype=np.float64).reshape(-1, 3)
    return array[:, 0].astype(np.int64), array[:, 1], array[:, 2]


def assert_file_order(
    session: Session, patrol: dict[str, Any], fixes: FileFixes, kept: np.ndarray
) -> None:
    """The stored line is the file's fixes `kept` (indices) in the file's order, and its
    length is theirs on the ellipsoid."""
    seq, lon, lat = stored_line(session, patrol["id"])
    assert seq.tolist() == kept.tolist()
    np.testing.assert_allclose(lon, fixes.lon[kept], atol=1e-9)
    np.testing.assert_allclose(lat, fixes.lat[kept], atol=1e-9)
    expected = GEOD.line_length(fixes.lon[kept], fixes.lat[kept])
    assert patrol["length_m"] == pytest.approx(expected, rel=1e-6)
    track = session.execute(
        text("SELECT ST_AsGeoJSON(track, 9) FROM patrols WHERE id = :p"), {"p": patrol["id"]}
    ).scalar_one()
    vertices = np.array(json.loads(track)["coordinates"])
    np.testing.assert_allclose(vertices, np.column_stack([fixes.lon, fixes.lat])[kept], atol=1e-8)


def test_fixes_without_times_then_with_times_keep_the_file_order(
    demo_client: TestClient, demo_session: Session
) -> None:
    # A Garmin's saved track (the device strips its times: 358 fixes), then its active log
    # (513 timed fixes): the file's order is the only order there is.
    fixes = FileFixes.read("korita-zbevnica.gpx")
    untimed = np.isnan(fixes.seconds)
    assert untimed[:358].all() and not untimed[358:].any()
    patrol = upload(demo_client, demo_session, "korita-zbevnica.gpx", "foot")
    assert patrol["dropped"] == NO_DROPS
    assert_file_order(demo_session, patrol, fixes, np.arange(len(fixes.lon)))
    assert "partly_timed" in patrol["quality_flags"]
    assert "too_fast" not in patrol["quality_flags"]
    timed = fixes.seconds[~untimed]
    assert patrol["duration_s"] == pytest.approx(timed.max() - timed.min())


def test_half_a_track_without_times_is_neither_moved_nor_too_fast(
    demo_client: TestClient, demo_session: Session
) -> None:
    # The same file with the times also stripped from the first 77 fixes of its active log
    # (this test's one edit, in memory): 435 untimed fixes, then 436 timed. Sorting by time
    # made the line 46 % longer than the file's and flagged a walk too fast.
    count = itertools.count()
    data = re.sub(
        rb"<trkpt [^>]*>.*?</trkpt>",
        lambda m: re.sub(rb"\s*<time>[^<]*</time>", b"", m[0]) if next(count) < 435 else m[0],
        (TRACKS / "korita-zbevnica.gpx").read_bytes(),
        flags=re.S,
    )
    fixes = FileFixes.read("korita-half-untimed.gpx", data)
    assert np.isnan(fixes.seconds).sum() == 435 and not np.isnan(fixes.seconds[435:]).any()
    patrol = upload(demo_client, demo_session, "korita-half-untimed.gpx", "foot", data)
    assert patrol["dropped"] == NO_DROPS
    assert_file_order(demo_session, patrol, fixes, np.arange(len(fixes.lon)))
    assert "partly_timed" in patrol["quality_flags"]
    assert "too_fast" not in patrol["quality_flags"]
    timed_metres = GEOD.line_length(fixes.lon[435:], fixes.lat[435:])
    assert timed_metres / (fixes.seconds[-1] - fixes.seconds[435]) < 3.0  # the timed walk


def test_a_clock_that_stands_still_keeps_every_fix(
    demo_client: TestClient, demo_session: Session
) -> None:
    # A Garmin whose clock read 1901-12-13T20:45:52 (the least 32-bit time) for all 184 fixes.
    fixes = FileFixes.read("Mojstrovka.gpx")
    assert np.unique(np.floor(fixes.seconds * 1000)).size == 1
    patrol = upload(demo_client, demo_session, "Mojstrovka.gpx", "foot")
    assert patrol["points_kept"] == patrol["points_raw"] == 184
    assert patrol["dropped"] == NO_DROPS
    assert_file_order(demo_session, patrol, fixes, np.arange(184))
    assert "clock_constant" in patrol["quality_flags"]
    assert "too_fast" not in patrol["quality_flags"]  # 2.7 km in no time: no speed at all


@pytest.mark.parametrize("cut", [True, False])
def test_a_clock_that_steps_back_keeps_the_file_order_and_counts_no_negative_time(
    cut: bool, demo_client: TestClient, demo_session: Session, tmp_path: Path
) -> None:
    # The eTrex 20x recording with fixes 52.. an hour earlier (derive_fixtures.py).
    fixes = FileFixes.read("visnjan-clock-back.gpx")
    # Two made-up sides, split across the leg where the clock steps back (fix 51 to 52:
    # `cut`), or with the whole track in the first.
    west, south = fixes.lon.min() - 0.01, fixes.lat.min() - 0.01
    east, north = fixes.lon.max() + 0.01, fixes.lat.max() + 0.01
    split = (fixes.lon[51] + fixes.lon[52]) / 2
    sides = (
        {
            "990001": shapely.box(west, south, split, north),
            "990002": shapely.box(split, south, east, north),
        }
        if cut
        else {"990001": shapely.box(west, south, east, north)}
    )
    path = tmp_path / "sides.geojson"
    path.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {"code": code, "name": code},
                        "geometry": shapely.geometry.mapping(box),
                    }
                    for code, box in sides.items()
                ],
            }
        )
    )
    import_jurisdictions(demo_session, path=path, options=JurisdictionImportOptions(level="county"))
    patrol = upload(demo_client, demo_session, "visnjan-clock-back.gpx", "car")
    assert patrol["dropped"] == NO_DROPS
    assert_file_order(demo_session, patrol, fixes, np.arange(len(fixes.lon)))
    assert "clock_backwards" in patrol["quality_flags"]
    assert not {"too_fast", "reordered"} & set(patrol["quality_flags"])
    # Seconds in the two sides: the legs whose time goes forward (and that move), whole.
    steps = np.diff(fixes.seconds)
    moved = (np.diff(fixes.lon) != 0) | (np.diff(fixes.lat) != 0)
    seconds: dict[str, float] = dict(
        demo_session.execute(
            text(
                "SELECT code, duration_s FROM patrol_jurisdictions WHERE patrol_id = :p "
                "AND code IN ('990001', '990002')"
            ),
            {"p": patrol["id"]},
        ).all()
    )
    assert len(seconds) == (2 if cut else 1) and min(seconds.values()) > 0
    assert sum(seconds.values()) == pytest.approx(steps[(steps > 0) & moved].sum(), abs=1e-6)


@pytest.mark.parametrize(
    ("name", "mode", "flags"),
    [
        ("around-visnjan-with-car.gpx", "foot", {"too_fast"}),  # a car's track sent as on foot
        ("track-with-empty-segment.gpx", "foot", set()),  # a run starting at 4.4 m/s
        ("first_and_last_elevation.gpx", "foot", {"clock_backwards"}),  # 30 km hops
    ],
)
def test_a_fast_track_is_not_dropped_as_jumps(
    name: str, mode: str, flags: set[str], demo_client: TestClient, demo_session: Session
) -> None:
    fixes = FileFixes.read(name)
    patrol = upload(demo_client, demo_session, name, mode)
    assert patrol["dropped"] == NO_DROPS
    assert_file_order(demo_session, patrol, fixes, np.arange(len(fixes.lon)))
    assert flags <= set(patrol["quality_flags"])
    if "clock_backwards" in flags:
        assert "too_fast" not in patrol["quality_flags"]


def test_a_cold_start_costs_its_own_fixes_only(
    demo_client: TestClient, demo_session: Session
) -> None:
    # The eTrex 20x recording with its first three fixes 3.3 km north (derive_fixtures.py).
    fixes = FileFixes.read("visnjan-cold-start.gpx")
    patrol = upload(demo_client, demo_session, "visnjan-cold-start.gpx", "car")
    assert patrol["dropped"] == {**NO_DROPS, "speed_jump": 3}
    assert (patrol["points_raw"], patrol["points_kept"]) == (104, 101)
    assert_file_order(demo_session, patrol, fixes, np.arange(3, 104))
    dropped = demo_session.execute(
        text(
            "SELECT array_agg(seq ORDER BY seq) FROM patrol_points WHERE patrol_id = :p "
            "AND ord IS NULL AND drop_reason = 'dropped'"
        ),
        {"p": patrol["id"]},
    ).scalar_one()
    assert dropped == [0, 1, 2]
