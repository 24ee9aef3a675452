"""A hand-built case of river chiefs and their patrols on the demo rivers, for the duty map
layer, the meeting pack's duty section and the phone's own duty.

Any chiefs the demo has are removed first (in the test's transaction), then five appointments
are made with `create_appointment` and two patrols are uploaded through the API:

    R01 = 小天圩河 (border river, segments seq 0-5), R02 = 澜溪塘 (seq 0-5)
    sz.patrol   village 320509100202  R01 seq 0-2   joint pair with wjj.patrol
    钱美芳      village 320509100203  R01 seq 3-5
    wjj.patrol  village 330411100202  R01 seq 0-5
    沈丽华      village 330411100201  R02 seq 0-2   in force on the week's last day only
    sz.lead     town    320509100     R02 seq 3-5

    joint patrol: sz.patrol's upload with wjj.patrol on board, along R01 seq 0-1 (2 km)
    short patrol: the admin's upload with 钱美芳 on board, 300 m of R01 seq 4

By the default rules (village: 1 a week, town: 1 a 旬, joint: 1 a month, at least 30 % of the
stretch): sz.patrol 1 of 1 (2 of 3 km), wjj.patrol 1 of 1 (2 of 6 km), the pair 1 of 1 (2 of
its 3 shared km); 钱美芳 0 of 1 (300 m of 3 km: too little); sz.lead 0 of 1; 沈丽华 owes
nothing (1 day of 7 in force rounds to 0).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import numpy as np
import shapely
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_patrol.access.principal import command_line_principal
from geo_patrol.access.scope import Scope
from geo_patrol.core.local_time import LOCAL
from geo_patrol.core.vocabulary import ChiefLevel, DutyPeriod, StretchKind
from geo_patrol.db.engine import make_engine, make_sessionmaker
from geo_patrol.duty.appointments import AppointmentSpec, create_appointment, create_joint
from geo_patrol.duty.periods import period_of
from geo_patrol.duty.rules import RuleSpec, set_rule
from tests.support import oracle
from tests.support.principals import member_id, team_id

R01 = "R-320509-330411-01"
R02 = "R-320509-330411-02"


@dataclass(frozen=True)
class DutyCase:
    """What the case made: appointment ids by holder, the joint pair, the patrols, the local
    day the patrols started on, and an instant inside every period containing it."""

    appointments: dict[str, int]
    zone_id: int
    joint_id: int
    joint_patrol: int
    short_patrol: int
    day: date
    during: datetime

    @property
    def after(self) -> datetime:
        """An instant after every period containing the day (a quarter at the latest)."""
        return period_of(DutyPeriod.QUARTER, self.day).ends + timedelta(seconds=1)


def member_named(session: Session, who: str) -> int:
    """A demo member by login or by name (the demo's ids depend on what loaded before)."""
    return int(
        session.execute(
            text("SELECT id FROM members WHERE login = :w OR name = :w"), {"w": who}
        ).scalar_one()
    )


def segment_lines(session: Session, river: str, seqs: range) -> dict[int, shapely.Geometry]:
    """The segments of a river by id, as shapely lines read from their GeoJSON."""
    rows = session.execute(
        text(
            "SELECT s.id, ST_AsGeoJSON(s.geom) AS g FROM river_segments s "
            "JOIN rivers r ON r.id = s.river_id WHERE r.code = :r AND s.seq = ANY(:seqs)"
        ),
        {"r": river, "seqs": list(seqs)},
    )
    return {row.id: shapely.from_geojson(row.g) for row in rows}


def walk_along(line: shapely.Geometry, *, start_m: float, length_m: float) -> np.ndarray:
    """lon/lat points every 1.5 m along a lon/lat line, from `start_m` for `length_m`."""
    lon, lat = shapely.get_coordinates(line)[0]
    frame = oracle.local_metres(float(lon), float(lat))
    in_metres = oracle.to_metres(line, frame)
    along = np.arange(start_m, start_m + length_m, 1.5)
    xy = shapely.get_coordinates(shapely.line_interpolate_point(in_metres, along))
    lons, lats = frame.transform(xy[:, 0], xy[:, 1], direction="INVERSE")
    return np.column_stack([lons, lats])


def river_gpx(
    session: Session, river: str, seqs: range, start: datetime, *, start_m: float, length_m: float
) -> bytes:
    """A walk (1.2 m/s) along segments `seqs` of a river, as GPX."""
    line = shapely.line_merge(shapely.union_all(list(segment_lines(session, river, seqs).values())))
    points = walk_along(line, start_m=start_m, length_m=length_m)
    return oracle.gpx(points[:, 0], points[:, 1], oracle.times(len(points), start))


def _upload(
    client: TestClient, headers: dict[str, str], team: int, data: bytes, members: str
) -> int:
    """Upload a walk; its patrol id."""
    answer = client.post(
        "/api/v1/patrols",
        headers=headers,
        data={"team_id": str(team), "members": members, "mode": "foot"},
        files={"file": ("walk.gpx", data, "application/gpx+xml")},
    )
    assert answer.status_code == 201, answer.text
    return int(answer.json()["id"])


def clear_chiefs(session: Session) -> None:
    """Remove every appointment and joint pair (the demo's roster too) in the test's
    transaction, so a test sees only the chiefs it makes."""
    for table in ("chief_stretches", "chief_appointments", "joint_appointments"):
        session.execute(text(f"DELETE FROM {table}"))


def make_duty_case(
    client: TestClient, session: Session, headers: dict[str, dict[str, str]]
) -> DutyCase:
    """The case above, in the test's transaction."""
    clear_chiefs(session)
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
    day = start.astimezone(LOCAL).date()
    week = period_of(DutyPeriod.WEEK, day)
    people = {
        "sz.patrol": (member_id(session, "sz.patrol"), "village", "320509100202", R01, range(3)),
        "钱美芳": (member_named(session, "钱美芳"), "village", "320509100203", R01, range(3, 6)),
        "wjj.patrol": (member_id(session, "wjj.patrol"), "village", "330411100202", R01, range(6)),
        "沈丽华": (member_named(session, "沈丽华"), "village", "330411100201", R02, range(3)),
        "sz.lead": (member_id(session, "sz.lead"), "town", "320509100", R02, range(3, 6)),
    }
    appointments = {}
    for holder, (member, level, side, river, seqs) in people.items():
        only_last_day = holder == "沈丽华"
        spec = AppointmentSpec(
            member_id=member,
            level=ChiefLevel(level),
            jurisdiction_code=side,
            river_code=river,
            valid_from=week.last if only_last_day else day - timedelta(days=400),
            valid_to=week.last if only_last_day else None,
            stretch_kind=StretchKind.SEGMENTS,
            seqs=tuple(seqs),
        )
        appointments[holder] = create_appointment(
            session, spec=spec, scope=Scope(everything=True), by=command_line_principal()
        )
    zone_id = int(
        session.execute(
            text("SELECT id FROM cooperation_zones WHERE code = 'ZONE-SZ-WJJ'")
        ).scalar_one()
    )
    joint_id = create_joint(
        session,
        scope=Scope(everything=True),
        by=command_line_principal(),
        name="小天圩河联合河长",
        zone_id=zone_id,
        appointment_ids=[appointments["sz.patrol"], appointments["wjj.patrol"]],
    )
    joint = _upload(
        client,
        headers["sz.patrol"],
        team_id(session, "联合巡河队一队"),
        river_gpx(session, R01, range(2), start, start_m=5, length_m=1940),
        members=str(member_id(session, "wjj.patrol")),
    )
    short = _upload(
        client,
        headers["admin"],
        team_id(session, "盛泽巡河队"),
        river_gpx(session, R01, range(4, 5), start, start_m=300, length_m=300),
        members=str(member_named(session, "钱美芳")),
    )
    return DutyCase(
        appointments=appointments,
        zone_id=zone_id,
        joint_id=joint_id,
        joint_patrol=joint,
        short_patrol=short,
        day=day,
        during=start + timedelta(minutes=1),
    )


@dataclass(frozen=True)
class Chief:
    """An appointment for `committed_chiefs`: who, at which level, for which side, where."""

    who: str  # a login, or the name of a member without one
    level: ChiefLevel
    side: str
    river: str
    seqs: tuple[int, ...]
    required: int | None = None  # a rule of the appointment's own (its week), if any


@contextmanager
def committed_chiefs(url: str, chiefs: list[Chief]) -> Iterator[list[int]]:
    """Appointments committed in the database at `url` (a served one, shared by the browser
    tests), in force for the last 30 days and on; deleted on leaving."""
    engine = make_engine(url)
    session_of = make_sessionmaker(engine)
    since = datetime.now(LOCAL).date() - timedelta(days=30)
    made = []
    try:
        with session_of() as session, session.begin():
            for chief in chiefs:
                member = member_named(session, chief.who)
                spec = AppointmentSpec(
                    member_id=member,
                    level=chief.level,
                    jurisdiction_code=chief.side,
                    river_code=chief.river,
                    valid_from=since,
                    stretch_kind=StretchKind.SEGMENTS,
                    seqs=chief.seqs,
                )
                by = command_line_principal()
                made.append(
                    create_appointment(session, spec=spec, scope=Scope(everything=True), by=by)
                )
                if chief.required is not None:
                    rule = RuleSpec(period=DutyPeriod.WEEK, required=chief.required)
                    set_rule(session, spec=rule, by=by, appointment_id=made[-1])
        yield made
    finally:
        with session_of() as session, session.begin():
            session.execute(text("DELETE FROM chief_appointments WHERE id = ANY(:a)"), {"a": made})
        engine.dispose()
