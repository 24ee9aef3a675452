"""The incident page (`/incidents/{id}`): the record in the caller's scope, and a map of the
place whose shapes, point and scale bar are checked against shapely/pyproj on the demo
polygons."""

from __future__ import annotations

import math
import re
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import numpy as np
import pyproj
import pytest
import shapely
from fastapi.testclient import TestClient
from lxml import etree, html

from geo_patrol.demo.accounts import DEFAULT_PASSWORD
from tests.support import oracle

PHOTO = Path(__file__).resolve().parents[2] / "fixtures" / "photos" / "exif_full.jpg"
GEOD = pyproj.Geod(ellps="WGS84")
SVG = "{http://www.w3.org/2000/svg}"


def report_photo(
    client: TestClient, headers: dict[str, dict[str, str]], client_id: str, **fields: str
) -> dict[str, Any]:
    """A photo report of floating waste by a Wangjiangjing patrol member (the photo's EXIF
    puts it on the Xiuzhou side): the answer's id, lon, lat."""
    reported = client.post(
        "/api/v1/incidents/photo",
        headers=headers["wjj.patrol"],
        data={"category": "floating_waste", "client_id": client_id, **fields},
        files={"file": ("IMG_0001.jpg", PHOTO.read_bytes(), "image/jpeg")},
    )
    assert reported.status_code == 201, reported.text
    answer: dict[str, Any] = reported.json()
    return answer


def attribute(element: etree._Element | None, name: str) -> str:
    """An attribute the element must have."""
    assert element is not None
    value = element.get(name)
    assert value is not None, name
    return str(value)


def svg_polygons(d: str) -> shapely.Geometry:
    """An SVG path of ST_AsSVG (absolute M/L/Z rings) as shapely geometry, in its units."""
    rings = []
    for part in re.split(r"M\s*", d)[1:]:
        numbers = [float(v) for v in re.findall(r"-?\d+(?:\.\d+)?(?:e-?\d+)?", part)]
        rings.append(np.array(numbers).reshape(-1, 2))
    polygons = [shapely.Polygon(ring) for ring in rings if len(ring) >= 3]
    # Holes and islands: rings of one jurisdiction combined by even-odd, as SVG fills them.
    shape = polygons[0]
    for polygon in polygons[1:]:
        shape = shapely.symmetric_difference(shape, polygon)
    return shape


def test_incident_page_shows_the_case_and_draws_the_place(
    demo_client: TestClient, headers: dict[str, dict[str, str]]
) -> None:
    reported = report_photo(demo_client, headers, "page-1", description="漂浮物 <a>")
    incident_id, lon, lat = (reported[k] for k in ("id", "lon", "lat"))
    record = demo_client.get(f"/api/v1/incidents/{incident_id}", headers=headers["wjj.sup"])
    props = record.json()["properties"]

    page = demo_client.get(f"/incidents/{incident_id}?lang=en", headers=headers["wjj.sup"])
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "content-security-policy" in page.headers
    doc = html.fromstring(page.text)
    assert str(doc.findtext(".//h1")).startswith(f"#{incident_id} ")
    facts = {
        row[0].text_content(): row[1].text_content()
        for row in doc.find_class("facts")[0].iter("tr")
    }
    lead = next(r for r in props["responsible"] if r["role"] == "lead" and r["direct"])
    assert lead["code"] in facts["Lead"] and lead["name"] in facts["Lead"]
    assert facts["Description"] == "漂浮物 <a>"  # escaped: shown as text, not markup
    assert facts["Location (lat, lon)"] == f"{lat:.6f}, {lon:.6f}"
    # Times as people there read them: China Standard Time (stored and sent in UTC).
    for label, key in (("Reported", "reported_at"), ("Deadline", "deadline_at")):
        moment = datetime.fromisoformat(props[key]).astimezone(ZoneInfo("Asia/Shanghai"))
        assert facts[label].startswith(moment.strftime("%Y-%m-%d %H:%M")), (label, facts)
    assert [img.get("src") for img in doc.iter("img")] == [
        f"/api/v1/incidents/{incident_id}/photos/{props['photos'][0]['id']}"
    ]
    history = doc.get_element_by_id("history")
    assert len(history.findall("tr")) == 1 + len(props["history"])
    assert "created" in history.text_content()

    # The map: the point where the report is, jurisdictions as shapely cuts them, 500 m bar.
    found = re.search(r"<svg id=\"incident-map\".*?</svg>", page.text, re.S)
    assert found is not None
    svg = etree.fromstring(found[0])
    x0, y0, width, height = (float(v) for v in attribute(svg, "viewBox").split())
    k = math.cos(math.radians(lat))
    cx, cy = (float(attribute(svg.find(f"{SVG}circle"), name)) for name in ("cx", "cy"))
    assert cx == pytest.approx(lon * k, abs=1e-9) and cy == pytest.approx(-lat, abs=1e-9)
    assert x0 < cx < x0 + width and y0 < cy < y0 + height
    drawn = {
        attribute(p, "data-code"): attribute(p, "d")
        for p in svg.iter(f"{SVG}path")
        if p.get("class") == "jurisdiction"
    }
    assert set(drawn) == {r["code"] for r in props["responsible"] if r["direct"]}
    # Independent: the demo polygon cut to the same box in degrees, then scaled like the map.
    box = shapely.box(x0 / k, -(y0 + height), (x0 + width) / k, -y0)
    for code, d in drawn.items():
        expected = shapely.intersection(oracle.polygons()[code][1], box)
        expected = shapely.affinity.scale(expected, xfact=k, yfact=-1, origin=(0, 0))
        got = svg_polygons(d)
        assert got.area == pytest.approx(expected.area, rel=0.01), code
        assert shapely.symmetric_difference(got, expected).area < 0.01 * expected.area, code
    # The other jurisdictions of those levels in the box: the other side of the border.
    neighbours = {
        attribute(p, "data-code") for p in svg.iter(f"{SVG}path") if p.get("class") == "neighbour"
    }
    levels = {oracle.polygons()[code][0] for code in drawn}
    assert neighbours == {
        code
        for code, (level, shape) in oracle.polygons().items()
        if level in levels and code not in drawn and shapely.intersects(shape, box)
    }
    assert neighbours
    bar = svg.find(f"{SVG}g[@id='scale-bar']/{SVG}line")
    span = float(attribute(bar, "x2")) - float(attribute(bar, "x1"))
    _, _, east = GEOD.inv(lon, lat, lon + span / k, lat)
    _, _, north = GEOD.inv(lon, lat, lon, lat + span)  # a metre as long either way
    assert east == pytest.approx(500, rel=0.01) and north == pytest.approx(500, rel=0.01)


def test_incident_page_follows_the_scope_and_sends_browsers_to_sign_in(
    demo_client: TestClient, headers: dict[str, dict[str, str]]
) -> None:
    incident_id = report_photo(demo_client, headers, "page-2")["id"]
    props = demo_client.get(f"/api/v1/incidents/{incident_id}", headers=headers["wjj.sup"]).json()[
        "properties"
    ]
    assert props["lead_code"].startswith("330411") and not props["is_joint"]
    hidden = demo_client.get(f"/incidents/{incident_id}", headers=headers["shengze.sup"])
    assert hidden.status_code == 404
    assert hidden.headers["content-type"] == "application/problem+json"
    anonymous = demo_client.get(
        f"/incidents/{incident_id}?lang=en", headers={"Accept": "text/html"}, follow_redirects=False
    )
    assert anonymous.status_code == 303
    assert anonymous.headers["location"] == f"/login?next=%2Fincidents%2F{incident_id}%3Flang%3Den"
    chinese = demo_client.get(f"/incidents/{incident_id}", headers=headers["wjj.sup"])
    assert '<html lang="zh-CN">' in chinese.text and "办理记录" in chinese.text


def test_a_supervisor_takes_steps_from_the_page(
    demo_client: TestClient, headers: dict[str, dict[str, str]]
) -> None:
    incident_id = report_photo(demo_client, headers, "page-steps", severity="low")["id"]
    # A token (an API client) gets the page without a form: steps go through the API.
    api_page = demo_client.get(f"/incidents/{incident_id}", headers=headers["wjj.sup"])
    assert 'id="act"' not in api_page.text
    login = demo_client.post(
        "/api/v1/auth/login", json={"login": "wjj.sup", "password": DEFAULT_PASSWORD}
    )
    csrf = login.json()["csrf_token"]
    doc = html.fromstring(demo_client.get(f"/incidents/{incident_id}?lang=en").text)
    form = doc.get_element_by_id("act").find(".//form")
    assert form is not None and form.get("action") == f"/incidents/{incident_id}/steps?lang=en"
    record = demo_client.get(f"/api/v1/incidents/{incident_id}").json()["properties"]
    assert record["status"] == "reported" and record["tier"] == "village"
    assert [o.get("value") for o in form.iter("option")] == ["assign", "reject", "escalate"]

    def step(name: str, note: str = "", token: str = csrf) -> httpx.Response:
        answer: httpx.Response = demo_client.post(
            f"/incidents/{incident_id}/steps?lang=en",
            data={"csrf_token": token, "step": name, "note": note},
            follow_redirects=False,
        )
        return answer

    done = step("assign", "to the village office")
    assert done.status_code == 303
    assert done.headers["location"] == f"/incidents/{incident_id}?lang=en"
    record = demo_client.get(f"/api/v1/incidents/{incident_id}").json()["properties"]
    assert record["status"] == "assigned"
    last = record["history"][-1]
    assert (last["kind"], last["actor"]) == ("assign", "wjj.sup")
    assert last["note"] == "to the village office"

    # A step the case does not allow: the page says why, and nothing changes.
    refused = step("verify")
    assert refused.status_code == 409 and refused.headers["content-type"].startswith("text/html")
    said = html.fromstring(refused.text).get_element_by_id("step-error").text_content()
    assert said == "cannot verify an incident that is assigned; allowed from: resolved"
    no_reason = step("reject")
    assert no_reason.status_code == 422 and "needs a reason" in no_reason.text
    assert (
        demo_client.get(f"/api/v1/incidents/{incident_id}").json()["properties"]["status"]
        == "assigned"
    )

    forged = step("accept", token="forged")
    assert forged.status_code == 403
    assert forged.headers["content-type"] == "application/problem+json"
    assert step("accept").status_code == 303
    record = demo_client.get(f"/api/v1/incidents/{incident_id}").json()["properties"]
    assert record["status"] == "accepted"

    # A tier down is offered only to a supervisor at the case's tier or above: the town's
    # supervisor may send a town case down, not a county one.
    def offered() -> list[str | None]:
        page = html.fromstring(demo_client.get(f"/incidents/{incident_id}?lang=en").text)
        return [o.get("value") for o in page.get_element_by_id("act").iter("option")]

    assert step("escalate").status_code == 303
    assert offered() == ["start", "resolve", "escalate", "deescalate"]
    assert step("escalate").status_code == 303
    assert offered() == ["start", "resolve"]
