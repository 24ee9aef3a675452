"""Overdue decisions in the daily digest: told to their named owner, the supervisors of the
owning side and above it, and the zone's coordinator; in both languages and in the JSON."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy.orm import Session

from geo_patrol.access.principal import command_line_principal
from geo_patrol.access.scope import Scope
from geo_patrol.core.settings import Settings
from geo_patrol.demo.accounts import ZONE
from geo_patrol.duty.digest import digests_due
from geo_patrol.meetings import decisions, records
from geo_patrol.meetings.decisions import OwnerIn
from geo_patrol.meetings.reminders import overdue_section
from tests.support.principals import member_id

SZ = "320509100"
DAY = date(2026, 12, 19)
NOW = datetime(2026, 12, 19, 1, 0, tzinfo=UTC)  # 09:00 in CST


def test_overdue_decisions_reach_those_concerned(demo_session: Session) -> None:
    cli, everything = command_line_principal(), Scope(everything=True)
    meeting_id = records.create_meeting(
        demo_session,
        principal=cli,
        scope=everything,
        zone_code=ZONE,
        title="十一月联席会议",
        held_at=datetime(2026, 11, 20, 2, tzinfo=UTC),
        place=None,
        period_from=date(2026, 10, 1),
        period_to=date(2026, 10, 31),
    )
    owner = member_id(demo_session, "sz.patrol")
    overdue, today, done = (
        decisions.add_decision(
            demo_session,
            principal=cli,
            scope=everything,
            meeting_id=meeting_id,
            body=body,
            deadline=deadline,
            owners=[OwnerIn(SZ, owner)],
        )
        for body, deadline in (
            ("清淤一号", date(2026, 12, 15)),
            ("清淤二号", DAY),  # due today: not yet overdue
            ("清淤三号", date(2026, 12, 1)),
        )
    )
    decisions.update_decision(
        demo_session, principal=cli, scope=everything, decision_id=done, note="ok", status="done"
    )
    digests = digests_due(
        demo_session, settings=Settings(), day=DAY, now=NOW, extras=(overdue_section,)
    )
    told = {
        d.recipient.login: [
            item.payload["decision_id"] for _, items in d.sections for item in items
        ]
        for d in digests
        if d.sections
    }
    # The named owner; Shengze's and Wujiang's (the county above) supervisors; the zone's
    # coordinator (from the demo accounts' grants).
    assert told == {
        login: [overdue] for login in ("sz.patrol", "shengze.sup", "wujiang.sup", "zone.coord")
    }
    letter = next(d for d in digests if d.recipient.login == "sz.patrol")
    assert letter.text.count("清淤一号") == 2  # in Chinese, then in English
    assert "已逾期 4 天" in letter.text and "4 day(s) late" in letter.text
    assert letter.payload()["overdue_decisions"][0]["days_late"] == 4
    assert today not in told["sz.patrol"]
