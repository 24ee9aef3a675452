"""Real device recordings (gpxpy's test data, Apache-2.0) uploaded and attributed."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
import shapely
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_patrol.geography.imports.jurisdictions import (
    JurisdictionImportOptions,
    import_jurisdictions,
)
from tests.support import oracle
from tests.support.principals import headers_for

TRACKS = Path(__file__).resolve().parents[1] / "fixtures" / "tracks"


@pytest.mark.parametrize(
    ("name", "mode"), [("cerknicko-jezero.gpx", "car"), ("around-visnjan-with-car.gpx", "car")]
)
def test_real_gpx_per_side_lengths_match_shapely(
    name: str, mode: str, demo_client: TestClient, demo_session: Session, tmp_path: Path
) -> None:
    data = (TRACKS / name).read_bytes()
    # Two made-up sides split at the middle of the track's extent, where it really runs.
    lon_lat = [
        (float(a), float(b))
        for b, a in re.findall(rb'<trkpt lat="([-0-9.]+)" lon="([-0-9.]+)"', data)
    ]
    lons = np.array([p[0] for p in lon_lat])
    lats = np.array([p[1] for p in lon_lat])
    split = float(np.median(lons))
    box = (lons.min() - 0.01, lats.min() - 0.01, lons.max() + 0.01, lats.max() + 0.01)
    sides = {
        "990001": shapely.box(box[0], box[1], split, box[3]),
        "990002": shapely.box(split, box[1], box[2], box[3]),
    }
    collection = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"code": code, "name": code},
                "geometry": shapely.geometry.mapping(geom),
            }
            for code, geom in sides.items()
        ],
    }
    path = tmp_path / "sides.geojson"
    path.write_text(json.dumps(collection))
    import_jurisdictions(demo_session, path=path, options=JurisdictionImportOptions(level="county"))
    headers = headers_for(demo_session)["admin"]
    team = demo_session.execute(text("SELECT min(id) FROM teams")).scalar_one()
    response = demo_client.post(
        "/api/v1/patrols",
        headers=headers,
        data={"team_id": str(team), "mode": mode},
        files={"file": (name, data)},
    )
    assert response.status_code == 201, response.text
    patrol_id = response.json()["id"]
    kept = demo_session.execute(
        text(
            "SELECT ST_X(geom), ST_Y(geom) FROM patrol_points WHERE patrol_id = :p "
            "AND ord IS NOT NULL ORDER BY ord"
        ),
        {"p": patrol_id},
    ).all()
    assert len(kept) > 0.9 * len(lon_lat)
    klons, klats = np.array([k[0] for k in kept]), np.array([k[1] for k in kept])
    line = shapely.LineString(np.column_stack([klons, klats]))
    got: dict[str, float] = dict(
        demo_session.execute(
            text(
                "SELECT code, length_m FROM patrol_jurisdictions WHERE patrol_id = :p "
                "AND code IN ('990001', '990002')"
            ),
            {"p": patrol_id},
        ).all()
    )
    for code, polygon in sides.items():
        expected = sum(
            oracle.GEOD.geometry_length(part)
            for part in getattr(line.intersection(polygon), "geoms", [line.intersection(polygon)])
        )
        assert abs(got[code] - expected) / expected < 0.005, (code, got[code], expected)
    again = demo_client.post(
        "/api/v1/patrols",
        headers=headers,
        data={"team_id": str(team), "mode": mode},
        files={"file": (name, data)},
    )
    assert again.status_code == 200 and again.json()["id"] == patrol_id
