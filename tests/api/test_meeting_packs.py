"""Packs kept with their meeting: kept by who edits the zone's meetings, listed and read back
by who sees them, byte for byte whatever the data became since (the checksum computed here
with hashlib); the same bytes kept twice are one row."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime

from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_patrol.access.principal import command_line_principal
from geo_patrol.access.scope import Scope
from geo_patrol.core.settings import Settings
from geo_patrol.demo.accounts import ZONE
from geo_patrol.incidents.reports import IncidentReport, create_incident
from geo_patrol.meetings import records
from geo_patrol.meetings.kept_packs import keep_pack, list_packs
from tests.support import oracle
from tests.support.principals import headers_for


def make_meeting(session: Session) -> int:
    """A meeting of the demo zone over October 2026."""
    return records.create_meeting(
        session,
        principal=command_line_principal(),
        scope=Scope(everything=True),
        zone_code=ZONE,
        title="十一月联席会议",
        held_at=datetime(2026, 11, 5, 2, tzinfo=UTC),
        place="盛泽镇",
        period_from=date(2026, 10, 1),
        period_to=date(2026, 10, 31),
    )


def test_a_kept_pack_is_answered_unchanged(demo_client: TestClient, demo_session: Session) -> None:
    headers = headers_for(demo_session)
    meeting = make_meeting(demo_session)
    base = f"/api/v1/meetings/{meeting}/packs"
    kept = demo_client.post(base, params={"lang": "en"}, headers=headers["zone.coord"])
    assert kept.status_code == 201, kept.text
    pack = kept.json()
    listed = demo_client.get(base, headers=headers["xiuzhou.sup"])
    assert listed.status_code == 200 and listed.json() == [pack]
    first = demo_client.get(f"{base}/{pack['id']}", headers=headers["wujiang.sup"])
    assert first.status_code == 200
    body = first.content
    assert hashlib.sha256(body).hexdigest() == pack["sha256"] == first.headers["x-content-sha256"]
    assert first.headers["etag"] == f'"{pack["sha256"]}"'
    assert first.headers["content-disposition"].startswith("attachment;")
    assert len(body) == pack["size"] and pack["language"] == "en"
    assert b"Joint enforcement meeting pack" in body
    # The data changes: a new case in October at the border. The kept pack does not.
    lon, lat = oracle.point_off_border_river(300, "320509")
    report = IncidentReport(
        category="illegal_discharge",
        severity="high",
        lon=lon,
        lat=lat,
        reported_at=datetime(2026, 10, 15, 2, tzinfo=UTC),
    )
    create_incident(demo_session, report=report, principal=None, settings=Settings())
    again = demo_client.get(f"{base}/{pack['id']}", headers=headers["zone.coord"])
    assert again.content == body
    assert hashlib.sha256(again.content).hexdigest() == pack["sha256"]
    cached = demo_client.get(
        f"{base}/{pack['id']}",
        headers={**headers["zone.coord"], "If-None-Match": first.headers["etag"]},
    )
    assert cached.status_code == 304 and cached.content == b""


def test_rights_on_kept_packs(demo_client: TestClient, demo_session: Session) -> None:
    headers = headers_for(demo_session)
    meeting = make_meeting(demo_session)
    base = f"/api/v1/meetings/{meeting}/packs"
    # A patrol member sees no jurisdiction of the zone: the meeting is not there for them.
    assert demo_client.post(base, headers=headers["sz.patrol"]).status_code == 404
    assert demo_client.get(base, headers=headers["sz.patrol"]).status_code == 404
    # The observer of the zone reads but never keeps.
    assert demo_client.get(base, headers=headers["meeting.room"]).status_code == 200
    assert demo_client.post(base, headers=headers["meeting.room"]).status_code == 403
    missing = demo_client.get(f"{base}/999999", headers=headers["zone.coord"])
    assert missing.status_code == 404 and "pack" in missing.json()["detail"]
    assert (
        demo_client.get("/api/v1/meetings/999999/packs", headers=headers["admin"]).status_code
        == 404
    )


def test_the_same_bytes_kept_twice_are_one_row(demo_session: Session) -> None:
    meeting = make_meeting(demo_session)
    content = "<html>同一份材料</html>".encode()
    one, new = keep_pack(
        demo_session, meeting_id=meeting, content=content, language="zh", kept_by=None
    )
    two, again = keep_pack(
        demo_session, meeting_id=meeting, content=content, language="zh", kept_by=None
    )
    assert (new, again) == (True, False) and one == two
    assert one.sha256 == hashlib.sha256(content).hexdigest() and one.size_bytes == len(content)
    other, _ = keep_pack(
        demo_session, meeting_id=meeting, content=content + b" ", language="zh", kept_by=None
    )
    assert [p.id for p in list_packs(demo_session, meeting_id=meeting)] == [one.id, other.id]
    stored = demo_session.execute(
        text("SELECT content FROM meeting_packs WHERE id = :i"), {"i": one.id}
    ).scalar_one()
    assert bytes(stored) == content
