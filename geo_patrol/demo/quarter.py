"""A quarter of the river chiefs' patrols for the demo, sent through the real upload and
live paths (the tracks as simulate.py makes them).

Planned relative to today (the months and 旬 begun in the last 91 days, the last eight
weeks), so that the demo always has a current week, 旬 and month: each chief has a habit
(which day of their period, which part of their river, on foot or by boat) and the periods
it skips, counted back from the current one (0). Last week, the last 旬 and last month are
always over, so there some chiefs met their duty and some missed it; in the current periods
the diligent have patrolled, unless their day has not come (a patrol is never placed in the
future: then their duty is in progress).

The plan (tests/demo/test_demo_duty.py checks what the assessment makes of it):
- village chiefs, weekly: 吴永明 (前跃村, 小天圩河) every week, the last two sent from his
  phone as Traccar Client replays a buffer; 陆晓燕 (双桥村) misses last week and the fourth
  week back; 周福根 (茅塔村, 澜溪塘) only drove along it last week, uploaded as on foot
  (too_fast: it does not count); 顾秀英 (南汇村, 澜溪塘) until she was replaced
  (demo.chiefs), then 杨丽萍, after a handover walk together the day after the change
  (outside 顾秀英's appointment); 杨丽萍 misses the second week back;
- town chiefs, every 旬: 沈建平 (盛泽镇, 小天圩河) every 旬; 金秀兰 (王江泾镇) misses the last
  旬; 陈海林 (盛泽镇, 澜溪塘) patrolled two to five 旬 back only; the joint pair 沈建平 and
  金秀兰 walk 小天圩河 together once a month (never in the last 旬), and last month 沈建平
  also walked it with the joint team alone (one side only);
- county chiefs, monthly: 钱建明 (吴江区) walks 小天圩河 every month but 澜溪塘 only two
  months back; 蒋文华 (吴江区) takes a boat down 太浦河 every month; 褚国平 (秀洲区) walks
  小天圩河 but not last month; 姚志刚 (秀洲区) takes a boat along 新塍塘 every month.
Upload ids name the habit and the period, so running the demo again, that day or later,
adds nothing to a period already done.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_patrol.core.local_time import LOCAL
from geo_patrol.core.settings import Settings
from geo_patrol.core.vocabulary import DutyPeriod
from geo_patrol.demo.accounts import ACCOUNTS
from geo_patrol.demo.chiefs import REPLACED
from geo_patrol.demo.simulate import Plan, principal_of, to_gpx, walk
from geo_patrol.duty.periods import Period, local_date, period_of
from geo_patrol.patrols.live.osmand import parse_osmand
from geo_patrol.patrols.live.store import record_positions, refresh_stale_patrols
from geo_patrol.patrols.upload import UploadRequest, upload_patrol

WEEK, DEKAD, MONTH = DutyPeriod.WEEK, DutyPeriod.DEKAD, DutyPeriod.MONTH
# How far back the plan goes: the periods that began in the last 91 days (a quarter), but
# only the last eight weeks of weekly duties (each patrol costs ~0.2 s to store: the demo
# must load in seconds).
QUARTER_DAYS = 91
WEEKS = 8
MARGIN = timedelta(minutes=5)  # a patrol ends at least this long before now

XTW, LANXI, TAIPU, XINCHENG = (
    "R-320509-330411-01",  # 小天圩河, the border river
    "R-320509-330411-02",  # 澜溪塘, across the border
    "R-320509-01",  # 太浦河, 吴江区
    "R-330411-01",  # 新塍塘, 秀洲区
)
JOINT_TEAM, SZ_TEAM, WJJ_TEAM = "联合巡河队一队", "盛泽巡河队", "王江泾巡河队"
# The chiefs by phone (data/organisation.json, data/chiefs.csv).
QIAN, JIANG, SHEN, ZHOU, CHU, YAO, JIN, YANG, CHEN = (f"139000000{i:02d}" for i in range(1, 10))
WU, LU, GU = "13800000003", "13800000004", "13800000008"


@dataclass(frozen=True)
class Gait:
    """How a track moves: metres between fixes, seconds between them (a range), the
    mode it is uploaded with."""

    spacing_m: float
    seconds: tuple[int, int]
    mode: str


WALK = Gait(12.0, (8, 12), "foot")
BOAT = Gait(40.0, (8, 12), "boat")
DRIVE = Gait(30.0, (2, 4), "foot")  # a car uploaded as a walk: ~10 m/s, too_fast


@dataclass(frozen=True)
class Habit:
    """How a chief (the first of `chiefs`, phones) patrols: one outing per period of
    `kind` on the first of `offsets` (days into the period) that suits, at `at` local time,
    along `span` of `river`, sent by the demo login `sender` for `team`. Periods are counted
    back from the current one (0)."""

    key: str
    chiefs: tuple[str, ...]
    sender: str
    team: str
    river: str
    span: tuple[float, float]
    kind: DutyPeriod
    offsets: tuple[int, ...]
    at: time
    gait: Gait = WALK
    skip: tuple[int, ...] = ()
    only: tuple[int, ...] | None = None
    drive: tuple[int, ...] = ()  # periods when the chief drove instead (too fast)
    live: tuple[int, ...] = ()  # periods sent live by the sender's phone, not uploaded
    avoid: DutyPeriod | None = None  # never in the last finished period of this kind


# One line each (not formatted: a table reads better). Fields after `at`: see Habit.
# fmt: off
HABITS = (
    Habit("qianyue", (WU,), "sz.patrol", SZ_TEAM, XTW, (0.05, 0.5), WEEK, (1,), time(8, 30),
          live=(1, 2)),
    Habit("shuangqiao", (LU,), "wjj.patrol", WJJ_TEAM, XTW, (0.25, 0.75), WEEK, (2,), time(16),
          skip=(1, 4)),
    Habit("maota", (ZHOU,), "sz.lead", SZ_TEAM, LANXI, (0.55, 0.95), WEEK, (3,), time(9),
          drive=(1,)),
    Habit("nanhui", (GU,), "wjj.lead", WJJ_TEAM, LANXI, (0.05, 0.5), WEEK, (1,), time(10)),
    Habit("nanhui-new", (YANG,), "wjj.lead", WJJ_TEAM, LANXI, (0.05, 0.5), WEEK, (5,), time(10),
          skip=(2,)),
    Habit("shengze", (SHEN,), "sz.chief", SZ_TEAM, XTW, (0.1, 0.6), DEKAD, (1,), time(9)),
    Habit("wangjiangjing", (JIN,), "wjj.lead", WJJ_TEAM, XTW, (0.4, 0.9), DEKAD, (2,), time(15),
          skip=(1,)),
    Habit("shengze-lanxi", (CHEN,), "sz.lead", SZ_TEAM, LANXI, (0.55, 1.0), DEKAD, (4,),
          time(11), only=(2, 3, 4, 5)),
    Habit("joint", (SHEN, JIN), "sz.chief", JOINT_TEAM, XTW, (0.0, 0.7), MONTH, (12, 2),
          time(14), avoid=DEKAD),
    Habit("joint-one-side", (SHEN,), "sz.chief", JOINT_TEAM, XTW, (0.3, 0.8), MONTH, (7,),
          time(10), only=(1,)),
    Habit("wujiang-xtw", (QIAN,), "sz.lead", SZ_TEAM, XTW, (0.2, 0.7), MONTH, (5,), time(10)),
    Habit("wujiang-lanxi", (QIAN,), "sz.lead", SZ_TEAM, LANXI, (0.1, 0.6), MONTH, (17,),
          time(10), only=(2,)),
    Habit("wujiang-taipu", (JIANG,), "sz.lead", SZ_TEAM, TAIPU, (0.1, 0.48), MONTH, (8,),
          time(9), gait=BOAT),
    Habit("xiuzhou-xtw", (CHU,), "wjj.lead", WJJ_TEAM, XTW, (0.3, 0.8), MONTH, (14,), time(10),
          skip=(1,)),
    Habit("xiuzhou-xincheng", (YAO,), "wjj.lead", WJJ_TEAM, XINCHENG, (0.2, 0.6), MONTH, (10,),
          time(9), gait=BOAT),
)
# fmt: on


@dataclass(frozen=True)
class Outing:
    """One planned patrol: its habit, period, start and track."""

    habit: Habit
    period: Period
    back: int
    start: datetime
    gait: Gait
    lons: NDArray[np.float64]
    lats: NDArray[np.float64]
    seconds: NDArray[np.float64]

    @property
    def upload_id(self) -> str:
        """The client upload id: one per habit and period."""
        return f"demo-duty-{self.habit.key}-{self.period.key}"


InForce = Callable[[str, str, date], bool]


def simulate_quarter(session: Session, *, settings: Settings, now: datetime | None = None) -> str:
    """Send the chiefs' patrols of the quarter up to `now`; one line to report."""
    now = now or datetime.now(UTC)
    in_force = _appointed(session)
    habits = (*HABITS, *_handover(session, today=local_date(now)))
    outings = sorted(
        (o for habit in habits for o in plan_outings(habit, now=now, in_force=in_force)),
        key=lambda o: o.start,
    )
    uploaded = live = 0
    for outing in outings:
        if outing.back in outing.habit.live:
            live += _send_live(session, outing=outing, settings=settings)
        else:
            uploaded += _upload(session, outing=outing, settings=settings)
    refresh_stale_patrols(session, settings=settings)
    sent_live = sum(1 for o in outings if o.back in o.habit.live)
    return (
        f"river chiefs' quarter: {len(outings)} patrols planned, {uploaded} uploaded and "
        f"{live} live positions new ({sent_live} patrols sent live)"
    )


def plan_outings(habit: Habit, *, now: datetime, in_force: InForce) -> Iterator[Outing]:
    """The habit's outings in the periods that began in the quarter up to `now` (weeks: in
    the last WEEKS)."""
    today = local_date(now)
    period, back = period_of(habit.kind, today), 0
    depth = timedelta(weeks=WEEKS - 1, days=today.weekday())
    if habit.kind is not WEEK:
        depth = timedelta(days=QUARTER_DAYS)
    while period.first >= today - depth:
        if back not in habit.skip and (habit.only is None or back in habit.only):
            outing = _outing(habit, period, back, now=now, in_force=in_force)
            if outing is not None:
                yield outing
        period, back = period.previous(), back + 1


def _outing(
    habit: Habit, period: Period, back: int, *, now: datetime, in_force: InForce
) -> Outing | None:
    """The outing of a period: its track, and the first suitable start (None: none)."""
    rng = np.random.default_rng(zlib.crc32(f"{habit.key} {period.key}".encode()))
    gait = DRIVE if back in habit.drive else habit.gait
    lo, hi = (min(1.0, max(0.0, f + rng.uniform(-0.03, 0.03))) for f in habit.span)
    plan = Plan(habit.sender, habit.team, habit.river, lo, hi, spacing_m=gait.spacing_m)
    lons, lats = walk(plan, rng)
    steps = rng.integers(gait.seconds[0], gait.seconds[1] + 1, len(lons) - 1)
    seconds = np.concatenate([[0.0], np.cumsum(steps)]).astype(np.float64)
    avoid = period_of(habit.avoid, local_date(now)).previous() if habit.avoid else None
    for offset in habit.offsets:
        planned = min(period.first + timedelta(days=offset), period.last, local_date(now))
        for day in (planned, planned - timedelta(days=1)):
            start = datetime.combine(day, habit.at, tzinfo=LOCAL).astimezone(UTC)
            if (
                day >= period.first
                and start + timedelta(seconds=float(seconds[-1])) <= now - MARGIN
                and not (avoid and avoid.first <= day <= avoid.last)
                and in_force(habit.chiefs[0], habit.river, day)
            ):
                return Outing(habit, period, back, start, gait, lons, lats, seconds)
    return None


def _appointed(session: Session) -> InForce:
    """Whether a chief (phone) is appointed on a river (code) on a day."""
    rows = session.execute(
        text(
            "SELECT m.phone, r.code, a.valid_from, a.valid_to FROM chief_appointments a "
            "JOIN members m ON m.id = a.member_id JOIN rivers r ON r.id = a.river_id"
        )
    ).all()

    def in_force(phone: str, river: str, day: date) -> bool:
        return any(
            row.phone == phone
            and row.code == river
            and row.valid_from <= day <= (row.valid_to or day)
            for row in rows
        )

    return in_force


def _handover(session: Session, *, today: date) -> list[Habit]:
    """The walk of the replaced chief with her successor the day after the change (a habit
    of that one week; none if the demo roster has no replacement)."""
    river, old, new = REPLACED
    change = session.execute(
        text(
            "SELECT a.valid_from FROM chief_appointments a JOIN members m ON m.id = a.member_id "
            "WHERE m.phone = :new AND a.replaces_id IS NOT NULL"
        ),
        {"new": new},
    ).scalar()
    if change is None:
        return []
    week = period_of(WEEK, change)
    back = (period_of(WEEK, today).first - week.first).days // 7
    offset = (change - week.first).days + 1
    together = Habit(
        key="nanhui-handover",
        chiefs=(new, old),
        sender="wjj.lead",
        team=WJJ_TEAM,
        river=river,
        span=(0.0, 0.6),
        kind=WEEK,
        offsets=(offset,),
        at=time(14),
        only=(back,),
    )
    return [together]


def _upload(session: Session, *, outing: Outing, settings: Settings) -> int:
    """Upload an outing as its sender's GPX file naming the chiefs; 1 if it was new."""
    habit = outing.habit
    team = session.execute(text("SELECT id FROM teams WHERE name = :n"), {"n": habit.team})
    chiefs = session.execute(
        text("SELECT id FROM members WHERE phone = ANY(:phones)"), {"phones": list(habit.chiefs)}
    )
    local = outing.start.astimezone(LOCAL)
    request = UploadRequest(
        team_id=int(team.scalar_one()),
        filename=f"{local:%Y%m%d-%H%M}-{habit.key}.gpx",
        data=to_gpx(outing.lons, outing.lats, outing.start, outing.seconds),
        mode=outing.gait.mode,
        member_ids=tuple(int(i) for i in chiefs.scalars()),
        client_upload_id=outing.upload_id,
        title=f"河长巡河 {local:%m-%d}",
    )
    result = upload_patrol(
        session,
        request=request,
        principal=principal_of(session, habit.sender),
        settings=settings,
        address="demo",
    )
    return int(result.created)


def _send_live(session: Session, *, outing: Outing, settings: Settings) -> int:
    """Send an outing from its sender's demo phone as Traccar Client sends a buffer it kept
    offline: one JSON batch; the positions that were new."""
    device = next(a.device for a in ACCOUNTS if a.login == outing.habit.sender)
    assert device is not None
    locations = [
        {
            "timestamp": (outing.start + timedelta(seconds=float(s))).isoformat(),
            "coords": {"latitude": round(lat, 7), "longitude": round(lon, 7), "accuracy": 5},
        }
        for lon, lat, s in zip(outing.lons, outing.lats, outing.seconds, strict=True)
    ]
    body = json.dumps({"device_id": device, "location": locations}).encode()
    positions = parse_osmand(
        method="POST", query="", body=body, content_type="application/json", now=datetime.now(UTC)
    )
    return record_positions(session, positions=positions, settings=settings)
