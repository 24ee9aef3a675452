"""The meeting pack's follow-up sections on the demo data: the last meeting's decisions as
stored (read back from the HTML, compared with the rows made here through the meetings
domain), and the water at the border against classes worked out by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import lxml.html
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_patrol.access.principal import command_line_principal
from geo_patrol.access.scope import Scope
from geo_patrol.core.local_time import LOCAL
from geo_patrol.core.vocabulary import DecisionStatus
from geo_patrol.demo.accounts import ZONE
from geo_patrol.meetings import decisions, records
from geo_patrol.meetings.agenda import default_period
from geo_patrol.meetings.decisions import OwnerIn
from geo_patrol.web.map.filters import MapFilters
from geo_patrol.web.pack.page import meeting_pack
from tests.support.border_water import add_reading, add_section, border_segment
from tests.support.principals import member_id

ADMIN = Scope(everything=True)
SZ, WJJ = "320509100", "330411100"


def meeting(session: Session, title: str, held: date) -> int:
    """A meeting of the demo zone held at 10:00 local on `held`."""
    return records.create_meeting(
        session,
        principal=command_line_principal(),
        scope=ADMIN,
        zone_code=ZONE,
        title=title,
        held_at=datetime(held.year, held.month, held.day, 10, tzinfo=LOCAL),
        place=None,
        period_from=held.replace(day=1),
        period_to=held,
    )


def decide(
    session: Session, meeting_id: int, body: str, deadline: date, owners: list[OwnerIn]
) -> int:
    """A decision of the meeting."""
    return decisions.add_decision(
        session,
        principal=command_line_principal(),
        scope=ADMIN,
        meeting_id=meeting_id,
        body=body,
        deadline=deadline,
        owners=owners,
        links=[],
    )


def update(session: Session, decision_id: int, note: str, status: DecisionStatus) -> None:
    """An update of the decision by the administrator."""
    decisions.update_decision(
        session,
        principal=command_line_principal(),
        scope=ADMIN,
        decision_id=decision_id,
        note=note,
        status=status,
    )


def cells(row: lxml.html.HtmlElement) -> list[str]:
    """The text of a table row's cells."""
    return [td.text_content().strip() for td in row.xpath("./td")]


def test_decisions_and_water_sections_of_the_pack(demo_session: Session) -> None:
    today = datetime.now(LOCAL).date()
    first, last = default_period(today)
    # The last meeting before the pack's end; an earlier one and a later one are not shown.
    earlier = meeting(demo_session, "更早的会议", first - timedelta(days=20))
    old = decide(demo_session, earlier, "旧事项", first, [OwnerIn(SZ)])
    shown = meeting(demo_session, "上月联席会议", first + timedelta(days=5))
    later = meeting(demo_session, "本月联席会议", today)
    decide(demo_session, later, "新事项", today, [OwnerIn(WJJ)])
    patrol = member_id(demo_session, "sz.patrol")
    patrol_name = demo_session.execute(
        text("SELECT name FROM members WHERE id = :i"), {"i": patrol}
    ).scalar_one()
    late = decide(
        demo_session,
        shown,
        "清理交界河道漂浮物",
        today - timedelta(days=3),
        [OwnerIn(SZ, patrol), OwnerIn(WJJ)],
    )
    done = decide(demo_session, shown, "补植护岸", today + timedelta(days=9), [OwnerIn(WJJ)])
    going = decide(
        demo_session, shown, "联合巡河每月两次", today + timedelta(days=30), [OwnerIn(SZ)]
    )
    update(demo_session, done, "已补植 200 株", DecisionStatus.DONE)
    update(demo_session, going, "已排班", DecisionStatus.IN_PROGRESS)
    # Water: III last month (the period before the pack's), IV this period with NH3-N and TP.
    section = add_section(
        demo_session,
        "T-PACK",
        border_segment(demo_session),
        kind="border",
        target=3,
        name="王江泾交界断面",
        name_en="Wangjiangjing border",
    )
    before = first - timedelta(days=10)
    add_reading(demo_session, section, f"{before} 09:00+08", 3)
    add_reading(
        demo_session,
        section,
        f"{first + timedelta(days=3)} 09:00+08",
        4,
        {"NH3-N": 0.4, "TP": 0.125},
    )
    river = demo_session.execute(
        text(
            "SELECT r.name FROM water_sections w JOIN rivers r ON r.id = w.river_id WHERE w.id = :i"
        ),
        {"i": section},
    ).scalar_one()
    names: dict[str, str] = dict(
        demo_session.execute(
            text(
                "SELECT code, name FROM jurisdictions WHERE valid_to IS NULL AND code IN (:a, :b)"
            ),
            {"a": SZ, "b": WJJ},
        ).all()
    )
    page = meeting_pack(
        demo_session,
        scope=ADMIN,
        principal=command_line_principal(),
        filters=MapFilters(date_from=first, date_to=last, zone=ZONE, lang="en"),
        generated_at=datetime(2026, 12, 6, 9, tzinfo=UTC),
    )
    doc = lxml.html.fromstring(page)
    assert "上月联席会议" in doc.xpath('string(//section[@id="gp-decisions"]/p)')
    rows = doc.xpath('//section[@id="gp-decisions"]//table/tbody/tr')
    # Hand-written from what was stored above: position, text, owners, deadline, status, last.
    kept = today.isoformat()  # updates are stamped now (the transaction's time), local day
    assert [int(r.get("data-decision")) for r in rows] == [late, done, going]
    assert [cells(r) for r in rows] == [
        [
            "1",
            "清理交界河道漂浮物",
            f"{names[SZ]} · {patrol_name}; {names[WJJ]}",
            str(today - timedelta(days=3)),
            "overdue",
            kept,
        ],
        [
            "2",
            "补植护岸",
            names[WJJ],
            str(today + timedelta(days=9)),
            "done",
            f"{kept} 已补植 200 株",
        ],
        [
            "3",
            "联合巡河每月两次",
            names[SZ],
            str(today + timedelta(days=30)),
            "in progress",
            f"{kept} 已排班",
        ],
    ]
    water = doc.xpath('//section[@id="gp-water"]//table/tbody/tr')
    assert [cells(r) for r in water] == [
        ["Wangjiangjing border", river, "IV", "III", "III", "NH3-N ×0.40, TP ×0.12"]
    ]
    agenda = doc.xpath('//section[@id="gp-agenda"]//table/tbody/tr')
    kinds = [r.get("data-kind") for r in agenda]
    # Undone decisions of every earlier meeting (the later meeting's is after the period).
    links = [r.xpath("string(.//a/@href)") for r in agenda if r.get("data-kind") == "decision"]
    assert links == [f"/decisions/{d}" for d in (old, late, going)]
    assert kinds.count("section") == 1
