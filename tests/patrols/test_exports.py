"""Patrol exports (GPX, KML streamed block by block from PostgreSQL; GeoJSON) read back with
lxml and compared with the fixes that were uploaded, in time order."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest
from fastapi.testclient import TestClient
from lxml import etree
from sqlalchemy.orm import Session

from geo_patrol.patrols import exports
from tests.support import oracle
from tests.support.principals import team_id
from tests.support.uploads import upload

GPX_NS = {"g": "http://www.topografix.com/GPX/1/1"}
KML_NS = {"k": "http://www.opengis.net/kml/2.2", "gx": "http://www.google.com/kml/ext/2.2"}
TITLE = '巡河 <东岸> & "西岸"'


def shuffled_gpx(
    lons: np.ndarray, lats: np.ndarray, eles: np.ndarray, times: list[datetime]
) -> bytes:
    """A GPX whose fixes come in blocks out of time order (as a phone's buffer replays them),
    plus a 0,0 fix the cleaning drops."""
    blocks = [np.arange(i, min(i + 250, len(lons))) for i in range(0, len(lons), 250)]
    order = np.concatenate(blocks[::-1])
    points = [
        f'<trkpt lat="{lats[i]:.7f}" lon="{lons[i]:.7f}"><ele>{eles[i]:.2f}</ele>'
        f"<time>{times[i]:%Y-%m-%dT%H:%M:%SZ}</time></trkpt>"
        for i in order
    ]
    zero = f'<trkpt lat="0" lon="0"><time>{times[0]:%Y-%m-%dT%H:%M:%SZ}</time></trkpt>'
    points.insert(len(points) // 2, zero)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<gpx version="1.1" creator="test" xmlns="http://www.topografix.com/GPX/1/1">'
        f"<trk><trkseg>{''.join(points)}</trkseg></trk></gpx>"
    ).encode()


def numbers(
    node: etree._Element, path: str, namespaces: dict[str, str], columns: int = 1
) -> np.ndarray:
    """The numbers an XPath finds (texts of `columns` numbers each: one row per text)."""
    found = [str(value).split() for value in node.xpath(path, namespaces=namespaces)]
    table = np.array(found, dtype=float)
    return table if columns > 1 else table[:, 0]


def iso(when: datetime) -> str:
    """As the exports write times."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_exports_hold_every_kept_fix_in_time_order(
    demo_client: TestClient,
    demo_session: Session,
    headers: dict[str, dict[str, str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(exports, "FIXES_PER_BLOCK", 300)  # several blocks, and a partial one
    lons, lats = oracle.border_crossing_line(3000)
    n = len(lons)
    assert n > 3 * exports.FIXES_PER_BLOCK
    eles = 2.0 + 0.37 * np.arange(n) % 11
    times = oracle.times(n)
    joint = team_id(demo_session, "联合巡河队一队")
    created = upload(
        demo_client,
        headers["sz.patrol"],
        joint,
        shuffled_gpx(lons, lats, eles, times),
        title=TITLE,
    )
    base = f"/api/v1/patrols/{created['id']}"
    auth = headers["sz.patrol"]
    feature = demo_client.get(base, headers=auth).json()
    assert feature["properties"]["points_kept"] == n
    assert "reordered" in feature["properties"]["quality_flags"]  # put in time order, said so

    gpx = demo_client.get(f"{base}/export.gpx", headers=auth)
    assert gpx.status_code == 200
    assert gpx.headers["content-type"].startswith("application/gpx+xml")
    disposition = f'attachment; filename="patrol-{created["id"]}.gpx"'
    assert gpx.headers["content-disposition"] == disposition
    assert "content-length" not in gpx.headers  # streamed, not built whole
    doc = etree.fromstring(gpx.content)
    assert doc.findtext("g:trk/g:name", namespaces=GPX_NS) == TITLE
    trkpt = "g:trk/g:trkseg/g:trkpt"
    assert np.array_equal(numbers(doc, f"{trkpt}/@lon", GPX_NS), np.round(lons, 7))
    assert np.array_equal(numbers(doc, f"{trkpt}/@lat", GPX_NS), np.round(lats, 7))
    eles_out = numbers(doc, f"{trkpt}/g:ele/text()", GPX_NS)
    assert np.allclose(eles_out, np.round(eles, 2), atol=0.05 + 1e-9)
    assert doc.xpath(f"{trkpt}/g:time/text()", namespaces=GPX_NS) == [iso(t) for t in times]

    kml = demo_client.get(f"{base}/export.kml", headers=auth)
    assert kml.status_code == 200 and "content-length" not in kml.headers
    doc = etree.fromstring(kml.content)
    assert doc.findtext("k:Document/k:name", namespaces=KML_NS) == TITLE
    track = doc.find("k:Document/k:Placemark/gx:Track", KML_NS)
    assert track is not None
    assert track.xpath("k:when/text()", namespaces=KML_NS) == [iso(t) for t in times]
    coords = numbers(track, "gx:coord/text()", KML_NS, columns=3)
    assert np.array_equal(coords[:, 0], np.round(lons, 7))
    assert np.array_equal(coords[:, 1], np.round(lats, 7))
    assert np.allclose(coords[:, 2], np.round(eles, 2), atol=0.05 + 1e-9)

    geojson = demo_client.get(f"{base}/export.geojson", headers=auth)
    assert geojson.headers["content-type"].startswith("application/geo+json")
    assert geojson.json() == feature
    assert feature["type"] == "Feature" and feature["id"] == created["id"]
    line = np.array(feature["geometry"]["coordinates"])
    assert line.shape == (n, 2)
    assert np.allclose(line, np.column_stack([lons, lats]), atol=1e-6)
    assert feature["properties"]["title"] == TITLE


def test_a_track_without_times_exports_as_plain_lines(
    demo_client: TestClient, demo_session: Session, headers: dict[str, dict[str, str]]
) -> None:
    lons, lats = oracle.border_crossing_line(600)
    pairs = zip(lons, lats, strict=True)
    points = "".join(f'<trkpt lat="{y:.7f}" lon="{x:.7f}"/>' for x, y in pairs)
    data = (
        '<?xml version="1.0"?><gpx version="1.1" creator="test" '
        f'xmlns="http://www.topografix.com/GPX/1/1"><trk><trkseg>{points}</trkseg></trk></gpx>'
    ).encode()
    joint = team_id(demo_session, "联合巡河队一队")
    created = upload(demo_client, headers["sz.patrol"], joint, data)
    base, auth = f"/api/v1/patrols/{created['id']}", headers["sz.patrol"]
    kept = demo_client.get(base, headers=auth).json()["properties"]["points_kept"]
    assert kept == len(lons)

    gpx = etree.fromstring(demo_client.get(f"{base}/export.gpx", headers=auth).content)
    trkpt = "g:trk/g:trkseg/g:trkpt"
    assert np.array_equal(numbers(gpx, f"{trkpt}/@lon", GPX_NS), np.round(lons, 7))
    assert gpx.xpath(f"{trkpt}/*", namespaces=GPX_NS) == []  # no <ele>, no <time>

    kml = etree.fromstring(demo_client.get(f"{base}/export.kml", headers=auth).content)
    assert kml.find(".//gx:Track", KML_NS) is None  # a gx:Track's <when> must hold a time
    (text,) = kml.xpath(
        "k:Document/k:Placemark/k:LineString/k:coordinates/text()", namespaces=KML_NS
    )
    triples = np.array([t.split(",") for t in str(text).split()], dtype=float)
    assert np.array_equal(triples[:, 0], np.round(lons, 7))
    assert np.array_equal(triples[:, 1], np.round(lats, 7))
