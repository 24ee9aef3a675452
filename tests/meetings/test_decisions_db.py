"""Meetings and decisions on the demo data: visibility per role, owners' rights, the
append-only history, overdue at the local day boundary, and double submits."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from geo_patrol.access.principal import Principal, command_line_principal, load_member
from geo_patrol.access.scope import Scope, scope_of
from geo_patrol.core.errors import Forbidden, InvalidInput, NotFound
from geo_patrol.core.vocabulary import DecisionStatus
from geo_patrol.demo.accounts import ZONE
from geo_patrol.meetings import decisions, records
from geo_patrol.meetings.decisions import LinkIn, OwnerIn, local_today, shown_status
from geo_patrol.meetings.records import AgendaItemIn, AttendeeIn
from tests.support.principals import member_id

SZ, WJJ = "320509100", "330411100"
HELD = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
DEADLINE = date(2026, 12, 1)
ADMIN = Scope(everything=True)


def who(session: Session, login: str) -> tuple[Principal, Scope]:
    """A demo login's principal and scope."""
    principal = load_member(session, member_id=member_id(session, login), via="token")
    assert principal is not None
    return principal, scope_of(session, principal)


def make_meeting(session: Session, login: str = "zone.coord", title: str = "十一月联席会议") -> int:
    """A meeting of the demo zone, made by `login`."""
    principal, scope = who(session, login)
    return records.create_meeting(
        session,
        principal=principal,
        scope=scope,
        zone_code=ZONE,
        title=title,
        held_at=HELD,
        place="盛泽镇",
        period_from=date(2026, 10, 1),
        period_to=date(2026, 10, 31),
        attendees=[
            AttendeeIn(side_code=SZ, member_id=member_id(session, "shengze.sup")),
            AttendeeIn(side_code=WJJ, name="环保局 王工", post="工程师"),
        ],
        agenda=[AgendaItemIn(kind="other", title="交界河道保洁")],
    )


def make_decision(
    session: Session,
    meeting_id: int,
    *,
    body: str = "清理河道",
    owners: list[OwnerIn] | None = None,
    links: list[LinkIn] | None = None,
) -> int:
    """A decision (by default owned by both sides, Shengze's patrol member named)."""
    principal, scope = who(session, "zone.coord")
    return decisions.add_decision(
        session,
        principal=principal,
        scope=scope,
        meeting_id=meeting_id,
        body=body,
        deadline=DEADLINE,
        owners=owners or [OwnerIn(SZ, member_id(session, "sz.patrol")), OwnerIn(WJJ)],
        links=links or [],
    )


def post(session: Session, login: str, decision_id: int, **change: object) -> None:
    """Post an update to a decision as `login`."""
    principal, scope = who(session, login)
    decisions.update_decision(
        session,
        principal=principal,
        scope=scope,
        decision_id=decision_id,
        note=str(change.pop("note", "进展")),
        **change,  # type: ignore[arg-type]
    )


def test_create_read_and_retry(demo_session: Session) -> None:
    meeting_id = make_meeting(demo_session)
    assert make_meeting(demo_session) == meeting_id  # a retried create is the same meeting
    _, scope = who(demo_session, "xiuzhou.sup")
    meeting = records.get_meeting(demo_session, scope=scope, meeting_id=meeting_id)
    assert meeting.zone_code == ZONE
    assert [a.side_code for a in meeting.attendees] == [SZ, WJJ]
    assert meeting.attendees[0].name == "周明"
    assert [(i.position, i.title) for i in meeting.agenda] == [(1, "交界河道保洁")]
    first = make_decision(demo_session, meeting_id)
    assert make_decision(demo_session, meeting_id) == first  # a double submit
    second = make_decision(demo_session, meeting_id, body="补植")
    found = decisions.decisions_of(
        demo_session, meeting_ids=[meeting_id], today=date(2026, 11, 30), history=True
    )
    assert [(d.id, d.position) for d in found] == [(first, 1), (second, 2)]
    assert [(u.kind, u.to_status, u.actor) for u in found[0].updates] == [
        ("created", "open", "zone.coord")
    ]
    assert {o.side_code for o in found[0].owners} == {SZ, WJJ}
    count = demo_session.execute(
        text("SELECT count(*) FROM decision_updates WHERE decision_id = :d"), {"d": first}
    ).scalar_one()
    assert count == 1  # the retry appended nothing


@pytest.mark.parametrize(
    ("login", "sees", "edits"),
    [
        ("admin", True, True),
        ("zone.coord", True, True),
        ("meeting.room", True, False),  # the zone's observer
        ("wujiang.sup", True, True),
        ("xiuzhou.sup", True, True),
        ("wjj.sup", True, True),
        ("sz.lead", False, False),
        ("wjj.patrol", False, False),
    ],
)
def test_visibility_per_role(demo_session: Session, login: str, sees: bool, edits: bool) -> None:
    meeting_id = make_meeting(demo_session)
    principal, scope = who(demo_session, login)
    listed = records.list_meetings(demo_session, scope=scope, limit=50).items
    assert (meeting_id in [m.id for m in listed]) is sees
    if not sees:
        with pytest.raises(NotFound):
            records.get_meeting(demo_session, scope=scope, meeting_id=meeting_id)
        with pytest.raises(NotFound):
            records.set_agenda(
                demo_session, principal=principal, scope=scope, meeting_id=meeting_id, agenda=[]
            )
        return
    assert records.get_meeting(demo_session, scope=scope, meeting_id=meeting_id).id == meeting_id
    if edits:
        records.update_meeting(
            demo_session,
            principal=principal,
            scope=scope,
            meeting_id=meeting_id,
            minutes="纪要",
            status="held",
        )
        got = records.get_meeting(demo_session, scope=scope, meeting_id=meeting_id)
        assert (got.minutes, got.status) == ("纪要", "held")
    else:
        with pytest.raises(Forbidden):
            records.update_meeting(
                demo_session, principal=principal, scope=scope, meeting_id=meeting_id, minutes="x"
            )


def test_owners_update_only_their_own(demo_session: Session) -> None:
    meeting_id = make_meeting(demo_session)
    both = make_decision(demo_session, meeting_id)
    sz_only = make_decision(demo_session, meeting_id, body="盛泽清淤", owners=[OwnerIn(SZ)])
    post(demo_session, "sz.patrol", both, status="in_progress")  # the named owner
    post(demo_session, "wjj.sup", both, note="王江泾已派人")  # writes for an owning side
    with pytest.raises(Forbidden):
        post(demo_session, "wjj.sup", sz_only)  # sees the zone, owns nothing of it
    with pytest.raises(Forbidden):
        post(demo_session, "meeting.room", both)  # an observer
    with pytest.raises(NotFound):
        post(demo_session, "wjj.patrol", both)  # neither sees the zone nor owns it
    _, patrol_scope = who(demo_session, "sz.patrol")
    patrol_id = member_id(demo_session, "sz.patrol")
    mine = decisions.list_decisions(
        demo_session,
        scope=patrol_scope,
        viewer_id=patrol_id,
        today=date(2026, 11, 25),
        limit=10,
    ).items
    assert [d.id for d in mine] == [both]  # an owner sees their own decision only


def test_history_drives_the_stored_status(demo_session: Session) -> None:
    meeting_id = make_meeting(demo_session)
    decision_id = make_decision(demo_session, meeting_id)
    post(demo_session, "sz.patrol", decision_id, status="in_progress")
    post(demo_session, "sz.patrol", decision_id, status="done", note="已完成")
    post(demo_session, "wjj.sup", decision_id, status="in_progress", note="复查未达标")
    post(demo_session, "wjj.sup", decision_id, deadline=date(2026, 12, 20), note="延期")
    got = decisions.get_decision(
        demo_session, scope=ADMIN, decision_id=decision_id, today=date(2026, 12, 10)
    )
    # The stored status, deadline and done_at follow the last steps of the history, read
    # back from decision_updates directly.
    steps = demo_session.execute(
        text(
            "SELECT from_status, to_status, to_deadline FROM decision_updates"
            " WHERE decision_id = :d ORDER BY id"
        ),
        {"d": decision_id},
    ).all()
    assert [tuple(s) for s in steps] == [
        (None, "open", DEADLINE),
        ("open", "in_progress", None),
        ("in_progress", "done", None),
        ("done", "in_progress", None),
        ("in_progress", None, date(2026, 12, 20)),
    ]
    assert [u.kind for u in got.updates] == ["created", "status", "status", "status", "deadline"]
    assert (got.stored_status, got.deadline, got.done_at) == (
        "in_progress",
        date(2026, 12, 20),
        None,
    )
    assert got.status == DecisionStatus.IN_PROGRESS  # the new deadline is not yet passed
    post(demo_session, "sz.patrol", decision_id, status="done")
    done = decisions.get_decision(
        demo_session, scope=ADMIN, decision_id=decision_id, today=date(2027, 1, 10)
    )
    assert done.done_at is not None and done.status == DecisionStatus.DONE


@pytest.mark.parametrize(
    "statement", ["UPDATE decision_updates SET note = 'x'", "DELETE FROM decision_updates"]
)
def test_history_is_append_only_at_the_database(demo_session: Session, statement: str) -> None:
    decision_id = make_decision(demo_session, make_meeting(demo_session))
    savepoint = demo_session.begin_nested()
    with pytest.raises(DBAPIError, match="append-only"):
        demo_session.execute(text(f"{statement} WHERE decision_id = :d"), {"d": decision_id})
    savepoint.rollback()


def test_overdue_at_the_local_day_boundary(demo_session: Session) -> None:
    # The deadline's last minute in CST is 15:59 UTC; a minute later it is the next day there.
    last_minute = local_today(datetime(2026, 12, 1, 15, 59, tzinfo=UTC))
    next_day = local_today(datetime(2026, 12, 1, 16, 0, tzinfo=UTC))
    assert (last_minute, next_day) == (date(2026, 12, 1), date(2026, 12, 2))
    assert shown_status("open", DEADLINE, last_minute) == DecisionStatus.OPEN
    assert shown_status("in_progress", DEADLINE, next_day) == DecisionStatus.OVERDUE
    assert shown_status("done", DEADLINE, next_day) == DecisionStatus.DONE
    meeting_id = make_meeting(demo_session)
    decision_id = make_decision(demo_session, meeting_id)
    done_id = make_decision(demo_session, meeting_id, body="已办结")
    post(demo_session, "sz.patrol", done_id, status="done")

    def listed(status: str, today: date) -> list[int]:
        page = decisions.list_decisions(
            demo_session, scope=ADMIN, meeting_id=meeting_id, status=status, today=today, limit=9
        )
        return [d.id for d in page.items]

    assert listed("overdue", last_minute) == []
    assert listed("open", last_minute) == [decision_id]
    assert listed("overdue", next_day) == [decision_id]
    assert listed("open", next_day) == []
    assert listed("done", next_day) == [done_id]
    patrol, patrol_scope = who(demo_session, "sz.patrol")
    reminders = decisions.overdue_decisions(
        demo_session, scope=patrol_scope, member_id=patrol.member_id, today=next_day
    )
    assert [d.id for d in reminders] == [decision_id]
    _, wjj_scope = who(demo_session, "wjj.sup")  # an owning side's supervisor
    assert decision_id in [
        d.id
        for d in decisions.overdue_decisions(
            demo_session, scope=wjj_scope, member_id=None, today=next_day
        )
    ]


def test_bad_owners_and_links_are_named(demo_session: Session) -> None:
    meeting_id = make_meeting(demo_session)
    cases = [
        ({"owners": [OwnerIn(SZ), OwnerIn("999999")]}, "owners[1].side_code"),
        ({"owners": [OwnerIn(WJJ, 987654321)]}, "owners[0].member_id"),
        ({"links": [LinkIn("incident", 987654321)]}, "links[0].target_id"),
        ({"links": [LinkIn("planet", 1)]}, "links[0].kind"),
    ]
    for given, field in cases:
        with pytest.raises(InvalidInput) as raised:
            make_decision(demo_session, meeting_id, **given)  # type: ignore[arg-type]
        assert raised.value.extra["field"] == field
    segment = demo_session.execute(text("SELECT min(id) FROM river_segments")).scalar_one()
    linked = make_decision(
        demo_session, meeting_id, body="巡查", links=[LinkIn("segment", segment)]
    )
    got = decisions.get_decision(demo_session, scope=ADMIN, decision_id=linked, today=DEADLINE)
    assert [(link.kind, link.target_id) for link in got.links] == [("segment", segment)]
    assert got.links[0].label


@pytest.fixture
def committed_meeting(engine: Engine) -> Iterator[int]:
    """A zone and a meeting committed in the test database (removed afterwards)."""
    with engine.begin() as connection:
        zone_id = connection.execute(
            text(
                "INSERT INTO cooperation_zones (code, name) VALUES ('Z-RACE', 'race') RETURNING id"
            )
        ).scalar_one()
        connection.execute(
            text("INSERT INTO cooperation_zone_members VALUES (:z, 'A'), (:z, 'B')"), {"z": zone_id}
        )
        meeting_id = connection.execute(
            text(
                "INSERT INTO meetings (zone_id, title, held_at, period_from, period_to)"
                " VALUES (:z, 'race', now(), current_date, current_date) RETURNING id"
            ),
            {"z": zone_id},
        ).scalar_one()
    yield int(meeting_id)
    with engine.begin() as connection:
        # The history refuses DELETE: its trigger is set aside for this cleanup only.
        connection.execute(text("ALTER TABLE decision_updates DISABLE TRIGGER USER"))
        connection.execute(
            text(
                "DELETE FROM decision_updates WHERE decision_id IN"
                " (SELECT id FROM meeting_decisions WHERE meeting_id = :m)"
            ),
            {"m": meeting_id},
        )
        connection.execute(text("ALTER TABLE decision_updates ENABLE TRIGGER USER"))
        connection.execute(text("DELETE FROM cooperation_zones WHERE id = :z"), {"z": zone_id})


def test_double_submit_in_two_transactions(engine: Engine, committed_meeting: int) -> None:
    """Two submits of the same form at once: the second waits for the first, then finds it."""
    principal = command_line_principal()
    results: list[int] = []

    def submit(session: Session) -> int:
        return decisions.add_decision(
            session,
            principal=principal,
            scope=ADMIN,
            meeting_id=committed_meeting,
            body="same",
            deadline=DEADLINE,
            owners=[OwnerIn("A")],
        )

    with Session(engine) as first, Session(engine) as second:
        results.append(submit(first))
        thread = threading.Thread(target=lambda: results.append(submit(second)))
        thread.start()
        thread.join(timeout=0.3)
        assert thread.is_alive()  # waiting for the first transaction
        first.commit()
        thread.join(timeout=10)
        second.commit()
    assert results[0] == results[1]
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT count(*) FROM meeting_decisions WHERE meeting_id = :m"),
            {"m": committed_meeting},
        ).scalar_one()
    assert rows == 1
