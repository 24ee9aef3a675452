"""GDAL's OGC API - Features driver (OAPIF, inside pyogrio) reads geo-patrol as QGIS would:
every collection listed and read, pages followed past `limit`, only the caller's scope,
the same incidents as the JSON API, the box filter as shapely computes it, CGCS2000 read
back with its latitude-first axes.

GDAL 3.12's OAPIF driver sends its own Accept header and then drops GDAL_HTTP_HEADERS
(GDAL issue 11385, the same in its GeoJSON-like drivers): a bearer token goes in through
GDAL_HTTP_HEADER_FILE, GDAL's other header option, or as HTTP Basic with the token as the
password (GDAL_HTTP_USERPWD), as QGIS's authentication database sends it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pyogrio
import pytest
import shapely

from tests.ogc.conftest import Ogc

HEADER_OPTIONS = ("GDAL_HTTP_HEADER_FILE", "GDAL_HTTP_USERPWD", "GDAL_HTTP_AUTH")


@contextmanager
def gdal_options(**options: str) -> Iterator[None]:
    """GDAL configuration options for the block, unset after it."""
    pyogrio.set_gdal_config_options(options)
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options(dict.fromkeys(HEADER_OPTIONS))


@contextmanager
def bearer(ogc: Ogc, login: str, folder: Path) -> Iterator[None]:
    """GDAL sends `login`'s bearer token with every request."""
    headers = folder / f"{login}.headers"
    headers.write_text(f"Authorization: Bearer {ogc.tokens[login]}\n")
    with gdal_options(GDAL_HTTP_HEADER_FILE=str(headers)):
        yield


def read(ogc: Ogc, layer: str, **options: Any) -> Any:
    """A collection as GDAL reads it (a GeoDataFrame)."""
    return pyogrio.read_dataframe(f"OAPIF:{ogc.base}/ogc", layer=layer, **options)


def api(ogc: Ogc, login: str, path: str, **params: Any) -> Any:
    """A JSON answer of the service as `login`."""
    answer = httpx.get(f"{ogc.base}{path}", params=params, headers=ogc.bearer(login), timeout=60)
    assert answer.status_code == 200, answer.text
    return answer.json()


def api_incidents(ogc: Ogc, login: str) -> dict[int, dict[str, Any]]:
    """GET /api/v1/incidents (every one) as `login`, by id."""
    found = api(ogc, login, "/api/v1/incidents", limit=10000)["features"]
    return {f["id"]: f["properties"] for f in found}


def api_patrol_ids(ogc: Ogc, login: str) -> set[int]:
    """The ids GET /api/v1/patrols (every one) lists for `login`."""
    return {p["id"] for p in api(ogc, login, "/api/v1/patrols", limit=5000)}


def test_gdal_lists_and_reads_every_collection(ogc: Ogc, tmp_path: Path) -> None:
    listed = [c["id"] for c in api(ogc, "admin", "/ogc/collections")["collections"]]
    with bearer(ogc, "admin", tmp_path):
        layers = pyogrio.list_layers(f"OAPIF:{ogc.base}/ogc")
        assert [name for name, _ in layers] == listed
        for name in listed:
            frame = read(ogc, name)
            counted = api(ogc, "admin", f"/ogc/collections/{name}/items", limit=1)
            assert len(frame) == counted["numberMatched"] > 0, name
            assert frame.geometry.notna().any(), name
    expected = {"rivers", "segments", "zones", "border_zones", "villages", "patrols"}
    assert expected | {"incidents", "uncovered", "chief_stretches"} <= set(listed)
    assert {"jurisdictions_county", "jurisdictions_town"} <= set(listed)


def test_gdal_pages_past_the_limit_reaching_every_row_once(ogc: Ogc, tmp_path: Path) -> None:
    with bearer(ogc, "wujiang.sup", tmp_path):
        frame = read(ogc, "patrols", PAGE_SIZE=7)
    ids = frame["id"].tolist()
    assert len(ids) > 3 * 7  # several pages were followed
    assert len(ids) == len(set(ids))
    assert set(ids) == api_patrol_ids(ogc, "wujiang.sup")


def test_the_two_sides_read_their_own_patrols_and_incidents(ogc: Ogc, tmp_path: Path) -> None:
    seen = {}
    for login in ("wujiang.sup", "xiuzhou.sup"):
        with bearer(ogc, login, tmp_path):
            patrols = set(read(ogc, "patrols")["id"])
            incidents = set(read(ogc, "incidents")["id"])
        assert patrols == api_patrol_ids(ogc, login)
        assert incidents == set(api_incidents(ogc, login))
        seen[login] = (patrols, incidents)
    (a_patrols, a_incidents), (b_patrols, b_incidents) = seen.values()
    assert a_patrols - b_patrols and b_patrols - a_patrols
    assert a_incidents - b_incidents and b_incidents - a_incidents


def test_incidents_read_by_gdal_equal_the_json_api(ogc: Ogc, tmp_path: Path) -> None:
    with bearer(ogc, "wujiang.sup", tmp_path):
        frame = read(ogc, "incidents")
    expected = api_incidents(ogc, "wujiang.sup")
    assert sorted(frame["id"]) == sorted(expected)
    for row in frame.itertuples():
        wanted = expected[row.id]
        for key in ("status", "category", "tier", "lead_code", "severity", "is_joint"):
            assert getattr(row, key) == wanted[key], (row.id, key)
    api_points = {
        i: shapely.geometry.shape(f["geometry"])
        for i, f in (
            (f["id"], f)
            for f in api(ogc, "wujiang.sup", "/api/v1/incidents", limit=10000)["features"]
        )
    }
    for row in frame.itertuples():
        assert row.geometry.distance(api_points[row.id]) < 1e-6


def test_basic_with_a_read_token_reads_as_its_owner(ogc: Ogc) -> None:
    token = ogc.read_tokens["shengze.sup"]
    with gdal_options(GDAL_HTTP_USERPWD=f"shengze.sup:{token}", GDAL_HTTP_AUTH="BASIC"):
        incidents = set(read(ogc, "incidents")["id"])
        patrols = set(read(ogc, "patrols")["id"])
    assert incidents == set(api_incidents(ogc, "shengze.sup"))
    assert patrols == api_patrol_ids(ogc, "shengze.sup")


def test_gdal_without_credentials_is_refused(ogc: Ogc) -> None:
    with pytest.raises(pyogrio.errors.DataSourceError, match="401"):
        pyogrio.list_layers(f"OAPIF:{ogc.base}/ogc")


def test_gdal_box_filter_is_what_shapely_says(ogc: Ogc, tmp_path: Path) -> None:
    with bearer(ogc, "admin", tmp_path):
        everything = read(ogc, "patrols")
        west, south, east, north = everything.total_bounds
        box = (west, south, (west + east) / 2, (south + north) / 2)
        inside = read(ogc, "patrols", bbox=box)
    expected = {
        row.id for row in everything.itertuples() if row.geometry.intersects(shapely.box(*box))
    }
    assert 0 < len(expected) < len(everything)
    assert set(inside["id"]) == expected


def test_gdal_reads_cgcs2000_latitude_first_back_to_the_same_places(
    ogc: Ogc, tmp_path: Path
) -> None:
    with bearer(ogc, "admin", tmp_path):
        crs84 = read(ogc, "incidents")
        cgcs = read(ogc, "incidents", CRS="EPSG:4490")
    assert cgcs.crs.to_epsg() == 4490
    by_id = {row.id: row.geometry for row in crs84.itertuples()}
    for row in cgcs.itertuples():
        # GDAL read lat,lon and hands GIS order (x = lon) back; the stored numbers are kept.
        assert row.geometry.equals_exact(by_id[row.id], 1e-9)
