"""bench/county_year.py at a tiny size (12 patrols of a year, 3 of them uploaded for real, 3
incidents) on the demo database, checked against counts derived by hand and against the
rows' own facts (each patrol's fixes, times and days), not against the generator's plan."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.orm import Session

from bench.county_year import CountyYear
from geo_patrol.core.local_time import LOCAL
from geo_patrol.core.settings import Settings

PATROLS = 12  # round(14,600 x share)
SHARE = PATROLS / 14_600
INCIDENTS = 6  # round(7,300 x share) = round(6.0)


def count(session: Session, sql: str) -> int:
    return int(session.execute(text(sql)).scalar_one())


def test_a_tiny_year_is_what_it_says(demo_session: Session, tmp_path: Path) -> None:
    session = demo_session
    before = {
        table: count(session, f"SELECT count(*) FROM {table}")
        for table in ("patrols", "incidents", "teams")
    }
    today = datetime.now(LOCAL).date()
    year = CountyYear(share=SHARE, seed=5, today=today, templates=3)
    filled = year.fill(session, Settings(data_dir=tmp_path))

    assert count(session, "SELECT count(*) FROM patrols") - before["patrols"] == PATROLS
    assert count(session, "SELECT count(*) FROM teams") == 20
    assert count(session, "SELECT count(*) FROM incidents") - before["incidents"] == INCIDENTS
    assert filled.templates == 3 and len(filled.template_seconds) == 3

    # Every patrol: 1-3 h at a fix a second, every fix stored and inside its patrol's time,
    # started 07:00-17:00 China time on one of the 365 days before today.
    rows = session.execute(
        text(
            "SELECT p.id, p.points_raw, p.started_at, p.ended_at, p.created_at, "
            "  (SELECT count(*) FROM patrol_points pp WHERE pp.patrol_id = p.id) AS fixes, "
            "  (SELECT count(*) FROM patrol_points pp WHERE pp.patrol_id = p.id "
            "     AND pp.time NOT BETWEEN p.started_at AND p.ended_at) AS outside, "
            "  (SELECT count(*) FROM patrol_jurisdictions j WHERE j.patrol_id = p.id) AS places, "
            "  (SELECT count(*) FROM patrol_members m WHERE m.patrol_id = p.id) AS members, "
            "  (SELECT count(*) FROM patrol_overviews o WHERE o.patrol_id = p.id) AS overviews "
            "FROM patrols p ORDER BY p.id"
        )
    ).all()
    assert len(rows) == PATROLS
    for row in rows:
        assert 3600 <= row.points_raw <= 3 * 3600 + 1, row
        assert row.fixes == row.points_raw, row
        assert row.outside == 0, row
        assert abs((row.ended_at - row.started_at).total_seconds() - (row.points_raw - 1)) < 2
        start = row.started_at.astimezone(LOCAL)
        assert 7 <= start.hour < 17, row
        assert today - timedelta(days=365) <= start.date() < today, row
        assert row.places > 0, row  # attributed (the clones copy their template's)
        assert row.members == 1, row
        assert row.overviews == 3, row  # the map's low zooms draw them (clones copy them)
    # The clones were written by SQL, not uploaded: 12 patrols, 3 uploads.
    assert count(session, "SELECT count(*) FROM uploads") == 3
    # Crossings move with their patrol.
    assert (
        count(
            session,
            "SELECT count(*) FROM patrol_crossings c JOIN patrols p ON p.id = c.patrol_id "
            "WHERE c.at NOT BETWEEN p.started_at AND p.ended_at",
        )
        == 0
    )
    # Each patrol's member is one of the demo's river chiefs.
    assert (
        count(
            session,
            "SELECT count(*) FROM patrol_members m WHERE m.member_id NOT IN "
            "(SELECT member_id FROM chief_appointments)",
        )
        == 0
    )
    # With migration 0020: each fix carries its patrol's day, the local day of its row.
    partitioned = count(
        session,
        "SELECT count(*) FROM information_schema.columns "
        "WHERE table_name = 'patrol_points' AND column_name = 'patrol_day'",
    )
    if partitioned:
        assert (
            count(
                session,
                "SELECT count(*) FROM patrol_points pp JOIN patrols p ON p.id = pp.patrol_id "
                "WHERE pp.patrol_day <> p.patrol_day "
                "   OR p.patrol_day <> (p.created_at AT TIME ZONE 'Asia/Shanghai')::date",
            )
            == 0
        )
    assert isinstance(filled.first_day, date)
