"""Every list as a file, read back with openpyxl and pyogrio and compared with the JSON API
for the same person and filters: the same rows (ids, in order), statuses as words, local
times; Chinese headers by default; a Shapefile in UTF-8 or GBK; more incidents than the old
1,000 cut; coordinates in GCJ-02 and BD-09 that convert back to the stored WGS84 within 1 cm.

The data is made once for the module: the demo, three patrols uploaded through the API and
1,050 incidents inserted by one INSERT ... SELECT (the routing of each is not what is
tested here)."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import prcoords
import pyogrio
import pyproj
import pytest
import shapely
from fastapi.testclient import TestClient
from lxml import etree
from sqlalchemy import Connection, event, text
from sqlalchemy.orm import Session

from geo_patrol.core import catalog
from geo_patrol.core.coords import bd09_to_wgs84, gcj02_to_wgs84
from geo_patrol.core.local_time import LOCAL
from geo_patrol.core.settings import Settings
from geo_patrol.exports import sources
from geo_patrol.exports.columns import COLUMNS
from tests.support import oracle
from tests.support.clients import app_on
from tests.support.principals import headers_for

GEOD = pyproj.Geod(ellps="WGS84")
MANY = 1050  # more than the 1,000 the incident CSV used to stop at
NAME = "盛泽镇河道漂浮物，请尽快处理"  # Chinese text that must survive every format
FORMULA = "=HYPERLINK(1)"


@dataclass(frozen=True)
class World:
    """The module's client, its people's headers and the rows made for it."""

    client: TestClient
    headers: dict[str, dict[str, str]]
    patrols: list[int]


def _walk(side: str, heading: float, start: datetime) -> bytes:
    """A 400 m walk 2 km inside a side, as GPX."""
    lon, lat = oracle.point_off_border_river(2000, side)
    lons, lats = oracle.walk(lon, lat, heading, 400)
    return oracle.gpx(lons, lats, oracle.times(len(lons), start=start))


INSERT_MANY = """
INSERT INTO incidents (source, category, severity, description, reported_at, geom, tier,
                       status, lead_code)
SELECT 'api', 'illegal_discharge', 'medium',
       CASE g WHEN 1 THEN :name WHEN 2 THEN :formula ELSE 'case ' || g END,
       now() - g * interval '1 minute',
       ST_SetSRID(ST_MakePoint(120.60 + g * 1e-5, 30.90 + g * 1e-6), 4326), 'town',
       CASE WHEN g % 3 = 0 THEN 'resolved' ELSE 'reported' END, '320509100'
FROM generate_series(1, :many) AS g
"""


@pytest.fixture(scope="module")
def world(demo_connection: Connection, database_url: str) -> Iterator[World]:
    """Three patrols (two of side A, one of side B) and 1,050 incidents, made once."""
    savepoint = demo_connection.begin_nested()
    with Session(bind=demo_connection, join_transaction_mode="create_savepoint") as session:
        headers = headers_for(session)
        session.execute(text(INSERT_MANY), {"name": NAME, "formula": FORMULA, "many": MANY})
        session.flush()
        with TestClient(app_on(session, Settings(database_url=database_url))) as client:
            made = []
            start = datetime(2026, 11, 2, 1, 0, tzinfo=LOCAL)
            for number, (who, side, team) in enumerate(
                [
                    ("sz.patrol", "320509", "盛泽巡河队"),
                    ("sz.patrol", "320509", "盛泽巡河队"),
                    ("wjj.patrol", "330411", "王江泾巡河队"),
                ]
            ):
                team_id = session.execute(
                    text("SELECT id FROM teams WHERE name = :n"), {"n": team}
                ).scalar_one()
                gpx = _walk(side, 30.0 * number, start + timedelta(hours=number))
                answer = client.post(
                    "/api/v1/patrols",
                    headers=headers[who],
                    data={"team_id": str(team_id), "title": f"巡河 {number}"},
                    files={"file": (f"w{number}.gpx", gpx, "application/gpx+xml")},
                )
                assert answer.status_code == 201, answer.text
                made.append(answer.json()["id"])
            yield World(client, headers, made)
    savepoint.rollback()


def get(world: World, path: str, who: str = "admin", **params: Any) -> bytes:
    """A file's bytes (200 expected)."""
    answer = world.client.get(path, params=params, headers=world.headers[who])
    assert answer.status_code == 200, answer.text
    return bytes(answer.content)


def json_incidents(world: World, who: str = "admin", **params: Any) -> list[dict[str, Any]]:
    """The JSON list's features (every one: a limit above the rows made)."""
    answer = world.client.get(
        "/api/v1/incidents", params={"limit": 10000, **params}, headers=world.headers[who]
    )
    assert answer.status_code == 200, answer.text
    features: list[dict[str, Any]] = answer.json()["features"]
    return features


def local(moment: str) -> datetime:
    """An API time (ISO 8601, UTC) as the naive local time a spreadsheet holds."""
    return datetime.fromisoformat(moment).astimezone(LOCAL).replace(tzinfo=None)


def utc_naive(moment: str) -> datetime:
    """An API time as a naive UTC time."""
    return datetime.fromisoformat(moment).astimezone(UTC).replace(tzinfo=None)


def sheet_of(content: bytes, tmp_path: Path) -> Any:
    """The first sheet of an XLSX, opened by openpyxl."""
    path = tmp_path / "list.xlsx"
    path.write_bytes(content)
    return openpyxl.load_workbook(path).worksheets[0]


@pytest.fixture
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    """Batches of 400 rows: the writers append batch after batch, as for a big list."""
    monkeypatch.setattr(sources, "BATCH_ROWS", 400)


@pytest.mark.usefixtures("small_batches")
def test_the_incident_sheet_has_every_row_the_json_list_has(world: World, tmp_path: Path) -> None:
    features = json_incidents(world)
    assert len(features) > 1000  # the old CSV stopped at 1,000
    sheet = sheet_of(get(world, "/api/v1/incidents.xlsx"), tmp_path)
    rows = list(sheet.iter_rows(values_only=True))
    header, body = rows[0], rows[1:]
    expected = [catalog.text(f"export.incidents.{c.key}", "zh") for c in COLUMNS["incidents"]]
    assert list(header) == expected and "状态" in header and "上报时间" in header
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:X{len(features) + 1}"
    assert sheet.column_dimensions["Q"].width >= 20  # the description has room
    column = {name: index for index, name in enumerate(header)}
    assert [r[column["编号"]] for r in body] == [f["id"] for f in features]
    for row, feature in zip(body, features, strict=True):
        props = feature["properties"]
        assert row[column["状态"]] == catalog.text(f"map.status_{props['status']}", "zh")
        assert row[column["层级"]] == catalog.text(f"map.tier_{props['tier']}", "zh")
        assert row[column["类别"]] == props["category_name"]
        reported = row[column["上报时间"]]
        assert isinstance(reported, datetime)  # an Excel date, not text
        assert abs(reported - local(props["reported_at"])) < timedelta(milliseconds=2)
        lon, lat = feature["geometry"]["coordinates"]
        assert (row[column["经度"]], row[column["纬度"]]) == pytest.approx((lon, lat), abs=1e-7)
    reported_cell = sheet.cell(row=2, column=column["上报时间"] + 1)
    assert reported_cell.number_format == "yyyy-mm-dd hh:mm:ss"
    assert NAME in [r[column["描述"]] for r in body] and FORMULA in [
        r[column["描述"]] for r in body
    ]


def test_filters_are_the_json_lists_and_english_headers_are_the_keys(
    world: World, tmp_path: Path
) -> None:
    features = json_incidents(world, status="resolved")
    content = get(world, "/api/v1/incidents.xlsx", status="resolved", lang="en")
    rows = list(sheet_of(content, tmp_path).iter_rows(values_only=True))
    assert list(rows[0]) == [c.key for c in COLUMNS["incidents"]]
    assert [r[0] for r in rows[1:]] == [f["id"] for f in features] and len(features) >= MANY // 3
    assert {r[4] for r in rows[1:]} == {"Resolved"}


@pytest.mark.usefixtures("small_batches")
def test_the_csv_has_the_sheets_headers_and_is_safe_to_open(world: World) -> None:
    raw = get(world, "/api/v1/incidents.csv")
    assert raw.startswith("\ufeff".encode()) and b"\r\n" in raw
    table = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    assert table[0] == [
        catalog.text(f"export.incidents.{c.key}", "zh") for c in COLUMNS["incidents"]
    ]
    features = json_incidents(world)
    assert [int(r[0]) for r in table[1:]] == [f["id"] for f in features]
    descriptions = {r[16] for r in table[1:]}
    assert NAME in descriptions and "'" + FORMULA in descriptions and FORMULA not in descriptions
    reported = {int(r[0]): r[18] for r in table[1:]}
    first = features[0]
    assert reported[first["id"]] == local(first["properties"]["reported_at"]).strftime(
        "%Y-%m-%d %H:%M:%S"
    )


@pytest.mark.usefixtures("small_batches")
def test_the_geopackage_holds_the_same_points(world: World, tmp_path: Path) -> None:
    path = tmp_path / "incidents.gpkg"
    path.write_bytes(get(world, "/api/v1/incidents.gpkg"))
    info = pyogrio.read_info(path)
    assert pyogrio.list_layers(path)[0][0] == "incidents"
    assert info["crs"] == "EPSG:4326" and info["geometry_type"] == "Point"
    meta, _, geometry, fields = pyogrio.raw.read(path)
    names = list(meta["fields"])
    features = json_incidents(world)
    assert list(fields[names.index("id")]) == [f["id"] for f in features]
    points = shapely.from_wkb(geometry)
    expected = np.array([f["geometry"]["coordinates"] for f in features])
    assert np.allclose(shapely.get_coordinates(points), expected, atol=1e-9)
    assert NAME in list(fields[names.index("description")])
    # Times in UTC, as the GeoPackage spec has them (QGIS shows them in local time).
    reported = fields[names.index("reported_at")]
    utc = np.array([utc_naive(f["properties"]["reported_at"]) for f in features], "datetime64[us]")
    assert np.all(np.abs(reported - utc) <= np.timedelta64(1, "ms"))


@pytest.mark.usefixtures("small_batches")
@pytest.mark.parametrize(("encoding", "cpg"), [("utf-8", "UTF-8"), ("gbk", "936")])
def test_the_shapefile_zip_keeps_chinese_in_either_encoding(
    world: World, tmp_path: Path, encoding: str, cpg: str
) -> None:
    path = tmp_path / "incidents.zip"
    path.write_bytes(get(world, "/api/v1/incidents.shp", encoding=encoding))
    with zipfile.ZipFile(path) as archive:
        names = sorted(archive.namelist())
        assert names == [f"incidents.{e}" for e in ("cpg", "dbf", "prj", "shp", "shx")]
        assert archive.read("incidents.cpg").decode("ascii").strip() == cpg
        dbf = archive.read("incidents.dbf")
    assert NAME.encode("gbk" if encoding == "gbk" else "utf-8") in dbf
    meta, _, _, fields = pyogrio.raw.read(f"/vsizip/{path}/incidents.shp")
    names = list(meta["fields"])
    assert {"descr", "reported", "cat_name"} <= set(names)  # the 10-character names
    assert all(len(n) <= 10 for n in names)
    assert NAME in list(fields[names.index("descr")])
    again = pyogrio.raw.read(f"/vsizip/{path}/incidents.shp", encoding=encoding)[3]
    assert NAME in list(again[names.index("descr")])


@pytest.mark.parametrize(("datum", "back"), [("gcj02", gcj02_to_wgs84), ("bd09", bd09_to_wgs84)])
def test_incidents_in_a_chinese_datum_convert_back_within_a_centimetre(
    world: World, tmp_path: Path, datum: str, back: Any
) -> None:
    path = tmp_path / f"{datum}.gpkg"
    path.write_bytes(get(world, "/api/v1/incidents.gpkg", datum=datum, status="resolved"))
    out = shapely.get_coordinates(shapely.from_wkb(pyogrio.raw.read(path)[2]))
    stored = np.array(
        [f["geometry"]["coordinates"] for f in json_incidents(world, status="resolved")]
    )
    lon, lat = back(out[:, 0], out[:, 1])
    _, _, error = GEOD.inv(lon, lat, stored[:, 0], stored[:, 1])
    assert np.max(error) < 0.01
    _, _, offset = GEOD.inv(out[:, 0], out[:, 1], stored[:, 0], stored[:, 1])
    # Near Shengze the published formulas put GCJ-02 about 480 m from WGS84 and BD-09 about
    # 1.1 km (the independent implementation below agrees point by point).
    low, high = (400, 560) if datum == "gcj02" else (950, 1250)
    assert np.all((offset > low) & (offset < high))
    # An independent implementation of the published formulas agrees to the centimetre.
    convert = prcoords.wgs_gcj if datum == "gcj02" else prcoords.wgs_bd
    for index in range(0, len(stored), 37):
        other = convert(prcoords.Coords(stored[index, 1], stored[index, 0]), True)
        _, _, apart = GEOD.inv(out[index, 0], out[index, 1], other.lon, other.lat)
        assert apart < 0.01, index


def test_the_patrol_list_exports_the_same_patrols_for_the_same_person(
    world: World, tmp_path: Path
) -> None:
    for who in ("wujiang.sup", "wjj.sup", "admin"):
        listed = world.client.get("/api/v1/patrols", headers=world.headers[who]).json()
        path = tmp_path / f"{who}.gpkg"
        path.write_bytes(get(world, "/api/v1/patrols.gpkg", who=who))
        meta, _, geometry, fields = pyogrio.raw.read(path)
        names = list(meta["fields"])
        assert list(fields[names.index("id")]) == [p["id"] for p in listed], who
        assert all(g is not None for g in geometry)
    everyone = world.client.get("/api/v1/patrols", headers=world.headers["admin"]).json()
    team = next(p["team_id"] for p in everyone if p["id"] == world.patrols[0])
    sheet = sheet_of(get(world, "/api/v1/patrols.xlsx", team_id=team, lang="en"), tmp_path)
    rows = list(sheet.iter_rows(values_only=True))
    listed = [p for p in everyone if p["team_id"] == team]
    assert len(listed) >= 2 and [r[0] for r in rows[1:]] == [p["id"] for p in listed]
    for row, patrol in zip(rows[1:], listed, strict=True):
        assert row[2] == patrol["team_name"] and row[5] == patrol["title"]
        assert abs(row[6] - local(patrol["started_at"])) < timedelta(milliseconds=2)
        assert row[9] == pytest.approx(patrol["length_m"])


def test_the_patrol_sheets_read_no_track_and_the_geopackage_does(
    world: World, demo_connection: Connection
) -> None:
    """A CSV or XLSX has no geometry column: reading every track of the list for it (about
    100 kB a two-hour patrol) was work for nothing that grew with the year's patrols."""
    seen: list[str] = []

    def note(conn: object, cursor: object, statement: str, *args: object) -> None:
        seen.append(statement)

    event.listen(demo_connection, "before_cursor_execute", note)
    try:
        asked = {}
        for fmt in ("csv", "xlsx", "gpkg"):
            seen.clear()
            body = get(world, f"/api/v1/patrols.{fmt}")
            asked[fmt] = any("ST_AsBinary(track)" in statement for statement in seen)
            if fmt == "csv":
                ids = {
                    int(row[0])
                    for row in list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))[1:]
                }
                assert set(world.patrols) <= ids
    finally:
        event.remove(demo_connection, "before_cursor_execute", note)
    assert asked == {"csv": False, "xlsx": False, "gpkg": True}


def test_the_patrols_of_a_period_are_one_track_each(world: World, tmp_path: Path) -> None:
    params = {"since": "2026-11-01T00:00:00Z", "until": "2026-11-03T00:00:00Z"}
    listed = world.client.get("/api/v1/patrols", params=params, headers=world.headers["admin"])
    patrols = listed.json()
    assert {p["id"] for p in patrols} == set(world.patrols)
    gpx = etree.fromstring(get(world, "/api/v1/patrols/tracks.gpx", **params))
    ns = {"g": "http://www.topografix.com/GPX/1/1"}
    tracks = gpx.findall("g:trk", ns)
    assert [int(t.findtext("g:number", "", namespaces=ns)) for t in tracks] == [
        p["id"] for p in patrols
    ]
    for track, patrol in zip(tracks, patrols, strict=True):
        assert track.findtext("g:name", namespaces=ns) == patrol["title"]
        assert len(track.findall("g:trkseg/g:trkpt", ns)) == patrol["points_kept"]
        assert track.find("g:trkseg/g:trkpt/g:time", ns) is not None
    kml = etree.fromstring(get(world, "/api/v1/patrols/tracks.kml", **params))
    marks = kml.findall(".//{http://www.opengis.net/kml/2.2}Placemark")
    assert len(marks) == len(patrols)
    path = tmp_path / "tracks.gpkg"
    path.write_bytes(get(world, "/api/v1/patrols/tracks.gpkg", **params))
    assert pyogrio.list_layers(path)[0][0] == "tracks"
    assert pyogrio.read_info(path)["features"] == len(patrols)


def test_tracks_in_gcj02_convert_back_to_the_stored_fixes(world: World) -> None:
    params = {"since": "2026-11-01T00:00:00Z", "until": "2026-11-03T00:00:00Z"}
    ns = {"g": "http://www.topografix.com/GPX/1/1"}

    def points(datum: str) -> np.ndarray:
        gpx = etree.fromstring(get(world, "/api/v1/patrols/tracks.gpx", datum=datum, **params))
        found = gpx.findall(".//g:trkpt", ns)
        return np.array([(float(p.get("lon", "nan")), float(p.get("lat", "nan"))) for p in found])

    stored, shifted = points("wgs84"), points("gcj02")
    lon, lat = gcj02_to_wgs84(shifted[:, 0], shifted[:, 1])
    _, _, error = GEOD.inv(lon, lat, stored[:, 0], stored[:, 1])
    # 7 decimals in the file: about 1 cm of rounding on each side.
    assert np.max(error) < 0.02
    _, _, offset = GEOD.inv(shifted[:, 0], shifted[:, 1], stored[:, 0], stored[:, 1])
    assert np.min(offset) > 100


def test_one_patrol_exports_in_baidus_datum(world: World) -> None:
    ns = {"g": "http://www.topografix.com/GPX/1/1"}
    path = f"/api/v1/patrols/{world.patrols[0]}/export.gpx"

    def points(**params: str) -> np.ndarray:
        found = etree.fromstring(get(world, path, **params)).findall(".//g:trkpt", ns)
        return np.array([(float(p.get("lon", "nan")), float(p.get("lat", "nan"))) for p in found])

    stored, shifted = points(), points(datum="bd09")  # the first: PostgreSQL's own GPX
    assert len(stored) == len(shifted) > 100
    lon, lat = bd09_to_wgs84(shifted[:, 0], shifted[:, 1])
    assert np.max(GEOD.inv(lon, lat, stored[:, 0], stored[:, 1])[2]) < 0.02
    assert np.min(GEOD.inv(shifted[:, 0], shifted[:, 1], stored[:, 0], stored[:, 1])[2]) > 100
    kml = get(world, path.replace(".gpx", ".kml"), datum="gcj02")
    assert b"<LineString>" in kml
    refused = world.client.get(
        path.replace(".gpx", ".geojson"), params={"datum": "gcj02"}, headers=world.headers["admin"]
    )
    assert refused.status_code == 422 and refused.json()["field"] == "datum"


def test_a_list_without_geometry_is_a_table_but_no_shapefile(world: World, tmp_path: Path) -> None:
    params = {"by": "team", "period": "day", "since": "2026-11-01T00:00:00Z"}
    params["until"] = "2026-11-03T00:00:00Z"
    path = tmp_path / "effort.gpkg"
    path.write_bytes(get(world, "/api/v1/effort.gpkg", **params))
    info = pyogrio.read_info(path)
    assert info["geometry_type"] is None
    rows = world.client.get("/api/v1/effort", params=params, headers=world.headers["admin"])
    assert info["features"] == len(rows.json()) > 0
    refused = world.client.get("/api/v1/effort.shp", params=params, headers=world.headers["admin"])
    assert refused.status_code == 422
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["field"] == "fmt"


def test_uncovered_stretches_and_duty_carry_their_lines(world: World, tmp_path: Path) -> None:
    json_uncovered = world.client.get(
        "/api/v1/coverage/uncovered", headers=world.headers["wujiang.sup"]
    ).json()["features"]
    path = tmp_path / "uncovered.gpkg"
    path.write_bytes(get(world, "/api/v1/coverage/uncovered.gpkg", who="wujiang.sup"))
    meta, _, geometry, fields = pyogrio.raw.read(path)
    names = list(meta["fields"])
    assert list(fields[names.index("segment_id")]) == [
        f["properties"]["segment_id"] for f in json_uncovered
    ]
    lengths = [GEOD.geometry_length(g) for g in shapely.from_wkb(geometry)]
    assert lengths == pytest.approx([f["properties"]["length_m"] for f in json_uncovered], rel=1e-3)
    duties = world.client.get("/api/v1/duty", headers=world.headers["wujiang.sup"]).json()
    path = tmp_path / "duty.gpkg"
    path.write_bytes(get(world, "/api/v1/duty.gpkg", who="wujiang.sup"))
    meta, _, geometry, fields = pyogrio.raw.read(path)
    names = list(meta["fields"])
    assert list(fields[names.index("appointment_id")]) == [
        d["appointment_id"] for d in duties["duties"]
    ]
    assert pyogrio.list_layers(path)[0][0] == "chief_stretches"  # as the OGC collection
    assert pyogrio.read_info(path)["geometry_type"] == "MultiLineString"
    statuses = [catalog.text(f"duty.status_{d['status']}", "zh") for d in duties["duties"]]
    assert list(fields[names.index("status")]) == statuses


def test_every_short_shapefile_name_is_unique_and_fits() -> None:
    for name, columns in COLUMNS.items():
        short = [c.dbf_name for c in columns]
        assert len(set(short)) == len(short) and all(len(s) <= 10 for s in short), name
        for column in columns:
            assert catalog.text(f"export.{name}.{column.key}", "en") == column.key
