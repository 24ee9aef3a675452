"""The OGC collection `water_sections` as GDAL's OAPIF driver reads it (QGIS's way in): the
sections a side's supervisor sees, with the same target, latest class and time as the JSON
API (the reference) and the classes derived by hand for the test sections; the filter on
being over the target."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path

import pyogrio
import pytest

from tests.ogc.conftest import Ogc
from tests.ogc.test_ogc_gdal import api, bearer
from tests.support.water import WATER_LAST

# The seeded sections' target, latest class and the parameters over the target (by hand:
# tests/support/water.py); WT-B2 and WT-B3 are side B's, out of Wujiang's sight.
EXPECTED_A = {
    "WT-A1": (2, 2, False, ""),
    "WT-B1": (3, 4, True, "DO;NH3-N"),
    "WT-L1": (2, 3, True, "TP"),
}


@pytest.mark.parametrize("login", ["wujiang.sup", "admin"])
def test_gdal_reads_the_sections_the_api_lists(ogc: Ogc, tmp_path: Path, login: str) -> None:
    with bearer(ogc, login, tmp_path):
        frame = pyogrio.read_dataframe(f"OAPIF:{ogc.base}/ogc", layer="water_sections")
    listed = api(ogc, login, "/api/v1/water/sections", limit=10000)
    assert sorted(frame["code"]) == sorted(row["code"] for row in listed)
    by_code = {row["code"]: row for row in listed}
    for _, feature in frame.iterrows():
        row = by_code[feature["code"]]
        latest = row["latest"]
        assert feature["target_class"] == row["target_class"]
        assert (feature.geometry.x, feature.geometry.y) == pytest.approx(
            (row["lon"], row["lat"]), abs=1e-9
        )
        if latest is None:
            assert math.isnan(feature["latest_class"]) and not feature["over_target"]
            continue
        assert feature["latest_class"] == latest["water_class"]
        assert feature["latest_class_name"] == latest["class_name"]
        assert bool(feature["over_target"]) == latest["worse_than_target"]
        sampled = feature["latest_sampled_at"].to_pydatetime()
        assert sampled.astimezone(UTC) == datetime.fromisoformat(latest["sampled_at"])
    if login == "wujiang.sup":
        ours = frame[frame["code"].str.startswith("WT-")]
        assert sorted(ours["code"]) == sorted(EXPECTED_A)
        for _, feature in ours.iterrows():
            target, latest, over, parameters = EXPECTED_A[feature["code"]]
            assert (feature["target_class"], feature["latest_class"]) == (target, latest)
            assert (bool(feature["over_target"]), feature["over_target_parameters"]) == (
                over,
                parameters,
            )
        border = ours[ours["code"] == "WT-B1"].iloc[0]
        assert border["latest_sampled_at"].to_pydatetime() == WATER_LAST


def test_the_over_target_filter(ogc: Ogc) -> None:
    found = api(ogc, "admin", "/ogc/collections/water_sections/items", over_target="true")
    codes = {f["properties"]["code"] for f in found["features"]}
    assert {"WT-B1", "WT-L1", "WT-B2"} <= codes and not {"WT-A1", "WT-B3"} & codes
    assert all(f["properties"]["over_target"] for f in found["features"])
