"""The OGC API documents at the HTTP level: links, counts, paging both ways, CRS, filters
against the JSON API, and bad parameters refused with a problem naming them."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import shapely

from tests.ogc.conftest import Ogc

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
CGCS2000 = "http://www.opengis.net/def/crs/EPSG/0/4490"


def get(ogc: Ogc, path: str, login: str = "admin", **params: Any) -> httpx.Response:
    """An answer of the service as `login`."""
    return httpx.get(f"{ogc.base}{path}", params=params, headers=ogc.bearer(login), timeout=60)


def ok(ogc: Ogc, path: str, login: str = "admin", **params: Any) -> Any:
    """The JSON of a 200 answer."""
    answer = get(ogc, path, login, **params)
    assert answer.status_code == 200, answer.text
    return answer.json()


def rels(document: dict[str, Any]) -> dict[str, str]:
    """A document's links by relation."""
    return {link["rel"]: link["href"] for link in document["links"]}


def test_landing_page_links_to_the_api_conformance_and_data(ogc: Ogc) -> None:
    landing = ok(ogc, "/ogc")
    links = rels(landing)
    assert links["self"] == f"{ogc.base}/ogc"
    assert links["conformance"] == f"{ogc.base}/ogc/conformance"
    assert links["data"] == f"{ogc.base}/ogc/collections"
    described = get(ogc, "/ogc/api")
    assert links["service-desc"] == f"{ogc.base}/ogc/api"
    assert described.headers["content-type"].startswith("application/vnd.oai.openapi+json")
    document = described.json()
    assert document["openapi"].startswith("3.0")
    assert "/collections/incidents/items" in document["paths"]
    names = {
        p["name"] for p in document["paths"]["/collections/incidents/items"]["get"]["parameters"]
    }
    assert {"bbox", "datetime", "limit", "crs", "bbox-crs", "status", "tier"} <= names


def test_conformance_names_core_geojson_oas30_and_crs(ogc: Ogc) -> None:
    classes = set(ok(ogc, "/ogc/conformance")["conformsTo"])
    for part in ("core", "geojson", "oas30"):
        assert f"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/{part}" in classes
    assert "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs" in classes


def test_a_collection_says_its_crs_extent_and_items(ogc: Ogc) -> None:
    collection = ok(ogc, "/ogc/collections/incidents")
    assert collection["crs"] == [CRS84, CGCS2000] and collection["storageCrs"] == CRS84
    assert rels(collection)["items"] == f"{ogc.base}/ogc/collections/incidents/items"
    assert collection["extent"] is None  # the caller's rows: no region to promise
    towns = ok(ogc, "/ogc/collections/jurisdictions_town")["extent"]["spatial"]
    features = ok(ogc, "/ogc/collections/jurisdictions_town/items")["features"]
    bounds = shapely.GeometryCollection([shapely.geometry.shape(f["geometry"]) for f in features])
    assert towns["crs"] == CRS84
    assert shapely.box(*towns["bbox"][0]).contains(bounds)


def test_next_links_reach_every_feature_once_and_prev_goes_back(ogc: Ogc) -> None:
    first = ok(ogc, "/ogc/collections/segments/items", limit=10)
    matched = first["numberMatched"]
    assert matched > 20 and first["numberReturned"] == 10 and "prev" not in rels(first)
    pages, page = [first], first
    while "next" in rels(page):
        answer = httpx.get(rels(page)["next"], headers=ogc.bearer("admin"), timeout=60)
        page = answer.json()
        assert page["numberMatched"] == matched and page["numberReturned"] == len(page["features"])
        pages.append(page)
    ids = [f["id"] for p in pages for f in p["features"]]
    assert len(ids) == len(set(ids)) == matched
    everything = ok(ogc, "/api/v1/segments")["features"]
    assert set(ids) == {f["id"] for f in everything}
    back = httpx.get(rels(pages[1])["prev"], headers=ogc.bearer("admin"), timeout=60).json()
    assert [f["id"] for f in back["features"]] == [f["id"] for f in first["features"]]


def test_scoped_pages_go_both_ways_in_sql(ogc: Ogc) -> None:
    first = ok(ogc, "/ogc/collections/patrols/items", "wujiang.sup", limit=5)
    second = httpx.get(rels(first)["next"], headers=ogc.bearer("wujiang.sup"), timeout=60).json()
    third = httpx.get(rels(second)["next"], headers=ogc.bearer("wujiang.sup"), timeout=60).json()
    back = httpx.get(rels(third)["prev"], headers=ogc.bearer("wujiang.sup"), timeout=60).json()
    assert [f["id"] for f in back["features"]] == [f["id"] for f in second["features"]]
    ids = [f["id"] for p in (first, second, third) for f in p["features"]]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == 15


def test_incident_filters_and_datetime_agree_with_the_json_api(ogc: Ogc) -> None:
    everything = ok(ogc, "/api/v1/incidents", "wujiang.sup", limit=10000)["features"]
    times = sorted(f["properties"]["reported_at"] for f in everything)
    middle = times[len(times) // 2]
    cases: list[tuple[dict[str, str], dict[str, str]]] = [
        ({"datetime": f"../{middle}"}, {"until": middle}),
        ({"datetime": f"{middle}/.."}, {"since": middle}),
        ({"status": "reported"}, {"status": "reported"}),
        (
            {"tier": "town", "datetime": f"{times[0]}/{middle}"},
            {"tier": "town", "since": times[0], "until": middle},
        ),
    ]
    for ours, theirs in cases:
        read = ok(ogc, "/ogc/collections/incidents/items", "wujiang.sup", **ours)
        listed = ok(ogc, "/api/v1/incidents", "wujiang.sup", limit=10000, **theirs)
        assert {f["id"] for f in read["features"]} == {f["id"] for f in listed["features"]}, ours
        assert read["numberMatched"] == len(listed["features"]), ours


def test_patrol_filters_and_datetime_agree_with_the_json_api(ogc: Ogc) -> None:
    everything = ok(ogc, "/api/v1/patrols", "wujiang.sup", limit=5000)
    starts = sorted(p["started_at"] for p in everything)
    first, middle = starts[len(starts) // 4], starts[len(starts) // 2]
    team = everything[0]["team_id"]
    cases: list[tuple[dict[str, Any], dict[str, Any]]] = [
        ({"datetime": f"{first}/{middle}"}, {"since": first, "until": middle}),
        ({"datetime": f"../{middle}"}, {"until": middle}),
        ({"team_id": team}, {"team_id": team}),
    ]
    for ours, theirs in cases:
        read = ok(ogc, "/ogc/collections/patrols/items", "wujiang.sup", limit=5000, **ours)
        listed = ok(ogc, "/api/v1/patrols", "wujiang.sup", limit=5000, **theirs)
        assert {f["id"] for f in read["features"]} == {p["id"] for p in listed}, ours
        assert 0 < read["numberMatched"] == len(listed), ours


def test_bbox_is_what_shapely_says_in_either_axis_order(ogc: Ogc) -> None:
    everything = ok(ogc, "/ogc/collections/segments/items", limit=1000)["features"]
    shapes = {f["id"]: shapely.geometry.shape(f["geometry"]) for f in everything}
    west, south, east, north = shapely.MultiLineString(list(shapes.values())).bounds
    box = (west, south, (west + east) / 2, (south + north) / 2)
    expected = {i for i, shape in shapes.items() if shape.intersects(shapely.box(*box))}
    assert 0 < len(expected) < len(shapes)
    lon_lat = ok(ogc, "/ogc/collections/segments/items", bbox=",".join(map(str, box)))
    lat_lon = ok(
        ogc,
        "/ogc/collections/segments/items",
        bbox=f"{box[1]},{box[0]},{box[3]},{box[2]}",
        **{"bbox-crs": CGCS2000},
    )
    assert {f["id"] for f in lon_lat["features"]} == expected
    assert {f["id"] for f in lat_lon["features"]} == expected
    patrols = ok(ogc, "/ogc/collections/patrols/items", limit=1000)["features"]
    tracks = {f["id"]: shapely.geometry.shape(f["geometry"]) for f in patrols}
    inside = ok(ogc, "/ogc/collections/patrols/items", limit=1000, bbox=",".join(map(str, box)))
    wanted = {i for i, track in tracks.items() if track.intersects(shapely.box(*box))}
    assert {f["id"] for f in inside["features"]} == wanted


def test_cgcs2000_answers_latitude_first_and_says_so(ogc: Ogc) -> None:
    plain = get(ogc, "/ogc/collections/villages/items")
    swapped = get(ogc, "/ogc/collections/villages/items", crs=CGCS2000)
    assert plain.headers["content-crs"] == f"<{CRS84}>"
    assert swapped.headers["content-crs"] == f"<{CGCS2000}>"
    assert swapped.headers["content-type"].startswith("application/geo+json")
    for a, b in zip(plain.json()["features"], swapped.json()["features"], strict=True):
        lon, lat = a["geometry"]["coordinates"]
        assert b["geometry"]["coordinates"] == [lat, lon]
        assert (lon, lat) == (a["properties"]["lon"], a["properties"]["lat"])
    one = get(ogc, f"/ogc/collections/villages/items/{a['id']}", crs="EPSG:4490")
    assert one.json()["geometry"]["coordinates"] == [lat, lon]


def test_one_feature_is_the_one_in_the_list_and_scope_hides_the_others(ogc: Ogc) -> None:
    theirs = ok(ogc, "/ogc/collections/patrols/items", "xiuzhou.sup", limit=1000)["features"]
    mine = ok(ogc, "/ogc/collections/patrols/items", "wujiang.sup", limit=1000)["features"]
    ours = {f["id"] for f in mine}
    hidden = next(f for f in theirs if f["id"] not in ours)
    found = ok(ogc, f"/ogc/collections/patrols/items/{hidden['id']}", "xiuzhou.sup")
    assert found["properties"] == hidden["properties"]
    assert found["geometry"] == hidden["geometry"]
    refused = get(ogc, f"/ogc/collections/patrols/items/{hidden['id']}", "wujiang.sup")
    assert refused.status_code == 404
    assert refused.json()["field"] == "feature_id"


def test_uncovered_and_chief_stretches_follow_the_domain(ogc: Ogc) -> None:
    month = ok(ogc, "/ogc/collections/uncovered/items", "wujiang.sup", limit=1000)
    start = month["features"][0]["properties"]["period_start"]
    same = ok(ogc, "/ogc/collections/uncovered/items", "wujiang.sup", limit=1000,
              datetime=f"{start}/..")  # fmt: skip
    assert {f["id"] for f in same["features"]} == {f["id"] for f in month["features"]}
    duties = ok(ogc, "/api/v1/duty", "wujiang.sup")
    stretches = ok(ogc, "/ogc/collections/chief_stretches/items", "wujiang.sup", limit=1000)
    listed = {(d["appointment_id"], d["period"]["key"], d["status"]) for d in duties["duties"]}
    drawn = {
        (f["id"], f["properties"]["period"], f["properties"]["status"])
        for f in stretches["features"]
    }
    assert drawn == listed and listed


@pytest.mark.parametrize(
    ("path", "params", "field", "status"),
    [
        ("/ogc/collections/incidents/items", {"colour": "red"}, "colour", 400),
        ("/ogc/collections/incidents/items", {"bbox": "1,2,3"}, "bbox", 400),
        ("/ogc/collections/incidents/items", {"bbox": "120,31,121,30"}, "bbox", 400),
        ("/ogc/collections/incidents/items", {"limit": "0"}, "limit", 400),
        ("/ogc/collections/incidents/items", {"limit": "10001"}, "limit", 400),
        ("/ogc/collections/incidents/items", {"datetime": "yesterday"}, "datetime", 400),
        ("/ogc/collections/incidents/items", {"datetime": "2026-12-02/2026-12-01"}, "datetime",
         400),
        ("/ogc/collections/incidents/items", {"crs": "EPSG:3857"}, "crs", 400),
        ("/ogc/collections/incidents/items", {"bbox-crs": "EPSG:3857", "bbox": "1,2,3,4"},
         "bbox-crs", 400),
        ("/ogc/collections/incidents/items", {"cursor": "not-ours"}, "cursor", 400),
        ("/ogc/collections/incidents/items", {"status": "lost"}, "status", 400),
        ("/ogc/collections/patrols/items", {"team_id": "x"}, "team_id", 400),
        ("/ogc/collections/rivers/items", {"status": "reported"}, "status", 400),
        ("/ogc/collections/rivers/items", {"f": "html"}, "f", 400),
        ("/ogc", {"crs": CRS84}, "crs", 400),
        ("/ogc/collections/lakes", {}, "collection_id", 404),
        ("/ogc/collections/lakes/items", {}, "collection_id", 404),
        ("/ogc/collections/incidents/items/999999", {}, "feature_id", 404),
        ("/ogc/collections/incidents/items/abc", {}, "feature_id", 404),
        ("/ogc/collections/rivers/items/R-nowhere", {}, "feature_id", 404),
    ],
)  # fmt: skip
def test_bad_requests_are_problems_naming_the_parameter(
    ogc: Ogc, path: str, params: dict[str, str], field: str, status: int
) -> None:
    answer = get(ogc, path, **params)
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert answer.json()["field"] == field
