"""Last month's joint meeting of the demo zone (联席会议, 月度会商) and its five decisions
(议定事项), recorded through the meetings domain as the zone coordinator and the owners do.

The meeting was held on the 10th of last month (local time), reviewing the month before;
it met a week after the border section 小天圩河南桥 fell to class V (demo.water), so one
decision is about that case. Its decisions, planned relative to today:
- done: the two towns clear the water hyacinth of 小天圩河 together (both sides; two updates:
  started, then done);
- done: the border sections' monthly results are sent to each other (both supervisors);
- overdue: 盛泽 lists the outfalls along 小天圩河 above 北闸 (one side; in progress, its
  deadline three days ago);
- in progress: find and stop the cause of 南桥's NH3-N and TP (both sides; linked to the
  section, its water-quality case and the fish-pond report upstream);
- open: joint patrols of 小天圩河 every week, the two sides leading in turn (linked to the
  joint chiefs' appointment).
The histories are written now, as the owners post them (decision_updates take the time of
the statement). Loading again adds nothing once the meeting has its decisions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_patrol.access.principal import Principal, load_member
from geo_patrol.access.scope import scope_of
from geo_patrol.core.local_time import LOCAL
from geo_patrol.core.vocabulary import (
    AgendaKind,
    DecisionLinkKind,
    DecisionStatus,
    DutyPeriod,
    MeetingStatus,
)
from geo_patrol.demo.water import LEAD_INCIDENT, WORSENING
from geo_patrol.duty.periods import local_date, period_of
from geo_patrol.meetings.decisions import LinkIn, OwnerIn, add_decision, update_decision
from geo_patrol.meetings.records import AgendaItemIn, AttendeeIn, create_meeting, update_meeting

ZONE = "ZONE-SZ-WJJ"
SHENGZE, WANGJIANGJING = "320509100", "330411100"
PLACE = "王江泾镇人民政府三楼会议室"
# Members by phone (data/organisation.json, demo.accounts).
COORDINATOR = "13800000015"  # 马晓东, zone.coord
ZHOU_MING, LI_FANG = "13800000013", "13800000014"  # the two towns' supervisors
XU, ZHU = "13800000005", "13800000007"  # 徐志强 and 朱卫东, the towns' patrol team leaders
SHEN, JIN = "13900000003", "13900000007"  # 沈建平 and 金秀兰, the towns' river chiefs
XTW = "R-320509-330411-01"
LANXI = "R-320509-330411-02"


@dataclass(frozen=True)
class Step:
    """One update an owner (phone) posts: a note, and a status when it changes one."""

    by: str
    note: str
    status: DecisionStatus | None = None


@dataclass(frozen=True)
class DemoDecision:
    """A decision: its text, owners (side, phone), deadline (days from the meeting, or from
    today), what it links, and the updates its owners posted since."""

    body: str
    owners: tuple[tuple[str, str], ...]
    after_meeting: int | None = None
    from_today: int | None = None
    links: tuple[str, ...] = ()
    steps: tuple[Step, ...] = field(default=())


IN_PROGRESS, DONE = DecisionStatus.IN_PROGRESS, DecisionStatus.DONE
DECISIONS = (
    DemoDecision(
        "两镇联合打捞小天圩河交界段水葫芦等漂浮物，各负责本岸一侧",
        ((SHENGZE, XU), (WANGJIANGJING, ZHU)),
        after_meeting=7,
        steps=(
            Step(ZHU, "王江泾已出保洁船两艘，南段打捞完毕", IN_PROGRESS),
            Step(XU, "盛泽北段打捞完毕，双方联合巡查验收", DONE),
        ),
    ),
    DemoDecision(
        "交界断面水质监测结果每月互相抄送，异常结果当日通报对方",
        ((SHENGZE, ZHOU_MING), (WANGJIANGJING, LI_FANG)),
        after_meeting=14,
        steps=(Step(LI_FANG, "互送机制已建立，本月监测结果已交换", DONE),),
    ),
    DemoDecision(
        "排查小天圩河北闸以上沿岸排口，建立排口清单报协作区",
        ((SHENGZE, SHEN),),
        from_today=-3,
        links=("segment",),
        steps=(Step(SHEN, "已排查北段约2公里，发现疑似排口7处，待逐一核实", IN_PROGRESS),),
    ),
    DemoDecision(
        "查明小天圩河南桥断面氨氮、总磷超标原因，整改上游养殖尾水直排",
        ((SHENGZE, SHEN), (WANGJIANGJING, ZHU)),
        from_today=14,
        links=("section", "case", "pond"),
        steps=(Step(ZHU, "已约谈上游养殖户，尾水排口临时封堵，待下月复测", IN_PROGRESS),),
    ),
    DemoDecision(
        "小天圩河联合巡河提高至每周一次，双方轮流带队",
        ((SHENGZE, XU), (WANGJIANGJING, ZHU)),
        from_today=25,
        links=("chief",),
    ),
)


def load_demo_meeting(session: Session, *, now: datetime | None = None) -> str:
    """Record last month's meeting of the demo zone with its decisions and their updates;
    nothing when it is there already. One line to report."""
    now = now or datetime.now(UTC)
    today = local_date(now)
    month = period_of(DutyPeriod.MONTH, today).previous()
    held_at = datetime.combine(month.first + timedelta(days=9), time(14, 30), tzinfo=LOCAL)
    reviewed = month.previous()
    coordinator = _principal(session, COORDINATOR)
    scope = scope_of(session, coordinator)
    title = f"{month.first.year}年{month.first.month}月联席会议（月度会商）"
    meeting_id = create_meeting(
        session,
        principal=coordinator,
        scope=scope,
        zone_code=ZONE,
        title=title,
        held_at=held_at,
        place=PLACE,
        period_from=reviewed.first,
        period_to=reviewed.last,
        attendees=_attendees(session),
        agenda=_agenda(session),
    )
    recorded = session.execute(
        text("SELECT count(*) FROM meeting_decisions WHERE meeting_id = :m"), {"m": meeting_id}
    ).scalar_one()
    if recorded:
        return f"demo meeting: {title} already there with {recorded} decisions"
    targets = _targets(session)
    for decision in DECISIONS:
        _record(
            session,
            meeting_id=meeting_id,
            decision=decision,
            deadline=_deadline(decision, held=held_at.date(), today=today),
            targets=targets,
            coordinator=coordinator,
        )
    update_meeting(
        session,
        principal=coordinator,
        scope=scope,
        meeting_id=meeting_id,
        status=MeetingStatus.HELD.value,
        minutes=MINUTES,
    )
    return f"demo meeting: {title} held {held_at:%Y-%m-%d}, {len(DECISIONS)} decisions"


MINUTES = (
    "一、通报上月联合巡河、交界河段保洁和案件办理情况。\n"
    "二、通报小天圩河南桥断面本月水质降至V类（氨氮、总磷超标），上游发现养殖尾水直排。\n"
    "三、议定事项五项，明确责任方、责任人和完成时限，下次会议逐项通报。"
)


def _deadline(decision: DemoDecision, *, held: date, today: date) -> date:
    """A decision's deadline: days after the meeting, or from today."""
    if decision.after_meeting is not None:
        return held + timedelta(days=decision.after_meeting)
    assert decision.from_today is not None
    return today + timedelta(days=decision.from_today)


def _record(
    session: Session,
    *,
    meeting_id: int,
    decision: DemoDecision,
    deadline: date,
    targets: dict[str, tuple[str, int]],
    coordinator: Principal,
) -> None:
    """Add one decision as the coordinator, then post its owners' updates as them."""
    decision_id = add_decision(
        session,
        principal=coordinator,
        scope=scope_of(session, coordinator),
        meeting_id=meeting_id,
        body=decision.body,
        deadline=deadline,
        owners=[
            OwnerIn(side_code=side, member_id=_member_id(session, phone))
            for side, phone in decision.owners
        ],
        links=[
            LinkIn(kind=targets[name][0], target_id=targets[name][1])
            for name in decision.links
            if name in targets
        ],
    )
    for step in decision.steps:
        owner = _principal(session, step.by)
        update_decision(
            session,
            principal=owner,
            scope=scope_of(session, owner),
            decision_id=decision_id,
            note=step.note,
            status=step.status.value if step.status else None,
        )


def _targets(session: Session) -> dict[str, tuple[str, int]]:
    """The objects the decisions link to, by name: those the demo has (kind, id)."""
    found: dict[str, tuple[str, int]] = {}
    rows = {
        "section": (DecisionLinkKind.SECTION, "SELECT id FROM water_sections WHERE code = :s"),
        "case": (
            DecisionLinkKind.INCIDENT,
            "SELECT r.incident_id FROM water_readings r JOIN water_sections s "
            "ON s.id = r.section_id WHERE s.code = :s AND r.incident_id IS NOT NULL "
            "ORDER BY r.sampled_at DESC LIMIT 1",
        ),
        "pond": (
            DecisionLinkKind.INCIDENT,
            "SELECT id FROM incidents WHERE client_id LIKE :pond ORDER BY reported_at DESC LIMIT 1",
        ),
        "segment": (
            DecisionLinkKind.SEGMENT,
            "SELECT s.id FROM river_segments s JOIN rivers r ON r.id = s.river_id "
            "WHERE r.code = :xtw ORDER BY s.flow_order NULLS LAST, s.seq LIMIT 1",
        ),
        "chief": (
            DecisionLinkKind.CHIEF,
            "SELECT a.id FROM chief_appointments a JOIN members m ON m.id = a.member_id "
            "JOIN rivers r ON r.id = a.river_id WHERE m.phone = :shen AND r.code = :xtw "
            "AND a.valid_to IS NULL ORDER BY a.id LIMIT 1",
        ),
    }
    params = {"s": WORSENING, "pond": f"{LEAD_INCIDENT}%", "xtw": XTW, "shen": SHEN}
    for name, (kind, sql) in rows.items():
        target = session.execute(text(sql), params).scalar()
        if target is not None:
            found[name] = (kind.value, int(target))
    return found


def _attendees(session: Session) -> list[AttendeeIn]:
    """Both towns' supervisors, river chiefs and team leaders, the coordinator, a guest."""
    people = (
        (SHENGZE, ZHOU_MING, "盛泽镇河长办"),
        (SHENGZE, SHEN, "盛泽镇河长"),
        (SHENGZE, XU, "盛泽巡河队队长"),
        (WANGJIANGJING, LI_FANG, "王江泾镇河长办"),
        (WANGJIANGJING, JIN, "王江泾镇河长"),
        (WANGJIANGJING, ZHU, "王江泾巡河队队长"),
        (None, COORDINATOR, "协作区联络员"),
    )
    attendees = [
        AttendeeIn(side_code=side, member_id=_member_id(session, phone), post=post)
        for side, phone, post in people
    ]
    attendees.append(AttendeeIn(name="秀洲区生态环境监测站代表", post="列席"))
    return attendees


def _agenda(session: Session) -> list[AgendaItemIn]:
    """The items the meeting went over: the worsened section, a stretch, a topic."""
    section = session.execute(
        text("SELECT id FROM water_sections WHERE code = :s"), {"s": WORSENING}
    ).scalar()
    items = [AgendaItemIn(kind=AgendaKind.OTHER.value, title="上月联合巡河与交界河段保洁情况")]
    if section is not None:
        items.insert(
            0,
            AgendaItemIn(
                kind=AgendaKind.SECTION.value,
                title="小天圩河南桥断面水质降至V类（氨氮、总磷）",
                target_id=int(section),
            ),
        )
    items.append(AgendaItemIn(kind=AgendaKind.OTHER.value, title="交界断面监测数据共享"))
    return items


def _member_id(session: Session, phone: str) -> int:
    """A demo member's id by phone."""
    found = session.execute(text("SELECT id FROM members WHERE phone = :p"), {"p": phone})
    return int(found.scalar_one())


def _principal(session: Session, phone: str) -> Principal:
    """A demo member as the principal acting."""
    principal = load_member(session, member_id=_member_id(session, phone), via="token")
    assert principal is not None
    return principal
