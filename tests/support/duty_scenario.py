"""A small duty scenario on the demo, made through the real write paths: tracks uploaded
through the API (so coverage and quality flags are the service's own), chiefs appointed
with duty.appointments, in the first 旬 of November 2025 (a period long over, before the
demo's own chiefs).

- 吴永明 (sz.patrol), town chief on 盛泽 (320509100), and 陆晓燕 (wjj.patrol), town chief on
  王江泾 (330411100): both were on one walk beside the river: met; their joint pair too.
- 徐志强 (sz.lead), town chief on 盛泽: his only patrol ran at 8 m/s (too_fast): missed.
- a county chief of 吴江 (320509) with a hostile name and no patrol: missed.
- 朱卫东 (wjj.lead), county chief of 秀洲 (330411), no patrol: missed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import httpx
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_patrol.access.principal import load_member
from geo_patrol.access.scope import Scope
from geo_patrol.core.local_time import LOCAL
from geo_patrol.core.vocabulary import ChiefLevel, StretchKind
from geo_patrol.duty.appointments import AppointmentSpec, create_appointment, create_joint
from geo_patrol.geography.queries import zone_id_of
from tests.support import oracle
from tests.support.duty_case import clear_chiefs
from tests.support.principals import headers_for, member_id, team_id

DAY = date(2025, 11, 5)  # in the first 旬 of November 2025 (1-10), CST
HOSTILE = "<script>alert(1)</script>赵‮gpj.exe"
ZONE = "ZONE-SZ-WJJ"


@dataclass(frozen=True)
class Scenario:
    """Ids of what the scenario made."""

    river: str
    seqs: tuple[int, ...]
    good: int
    fast: int
    chiefs: dict[str, int]  # role in the scenario -> appointment id
    members: dict[str, int]  # role in the scenario -> member id
    joint_id: int


def _walk(
    client: httpx.Client,
    headers: dict[str, str],
    *,
    team: int,
    start: datetime,
    step_m: float,
    members: str = "",
) -> int:
    """A walk 10 m beside the straight demo river, a fix every second `step_m` on from the
    last, uploaded through the API; its patrol id."""
    lons, lats = oracle.beside_river(10.0, 1200.0, step_m)
    data = oracle.gpx(lons, lats, oracle.times(len(lons), start=start, step_s=1.0))
    answer = client.post(
        "/api/v1/patrols",
        headers=headers,
        data={"team_id": str(team), **({"members": members} if members else {})},
        files={"file": ("walk.gpx", data, "application/gpx+xml")},
    )
    assert answer.status_code == 201, answer.text
    return int(answer.json()["id"])


COVERED = """
SELECT s.seq FROM patrol_coverage pc JOIN river_segments s ON s.id = pc.segment_id
WHERE pc.patrol_id = :patrol AND pc.covered_m >= 0.6 * s.length_m ORDER BY s.seq
"""


def make_scenario(
    client: httpx.Client, session: Session, *, headers: dict[str, dict[str, str]] | None = None
) -> Scenario:
    """Upload the two walks (through `client`: a TestClient, or an httpx client of a served
    app, with `headers` committed), appoint the five chiefs, pair the two town chiefs."""
    clear_chiefs(session)
    headers = headers or headers_for(session)
    start = datetime(2025, 11, 3, 9, 0, tzinfo=LOCAL)
    good = _walk(
        client,
        headers["sz.patrol"],
        team=team_id(session, "联合巡河队一队"),
        start=start,
        step_m=1.2,
        members=str(member_id(session, "wjj.patrol")),
    )
    fast = _walk(
        client,
        headers["sz.lead"],
        team=team_id(session, "盛泽巡河队"),
        start=start + timedelta(days=1),
        step_m=8.0,
    )
    river = oracle.straight_river()[0]
    seqs = tuple(session.execute(text(COVERED), {"patrol": good}).scalars())
    assert seqs, "the walk covers no segment of the river"
    hostile = int(
        session.execute(
            text(
                "INSERT INTO members (name, home_jurisdiction_code) VALUES (:n, '320509') "
                "RETURNING id"
            ),
            {"n": HOSTILE},
        ).scalar_one()
    )
    members = {
        "sz_town": member_id(session, "sz.patrol"),
        "wjj_town": member_id(session, "wjj.patrol"),
        "sz_fast": member_id(session, "sz.lead"),
        "wj_county": hostile,
        "xz_county": member_id(session, "wjj.lead"),
    }
    sides = {
        "sz_town": ("320509100", ChiefLevel.TOWN),
        "wjj_town": ("330411100", ChiefLevel.TOWN),
        "sz_fast": ("320509100", ChiefLevel.TOWN),
        "wj_county": ("320509", ChiefLevel.COUNTY),
        "xz_county": ("330411", ChiefLevel.COUNTY),
    }
    admin = load_member(session, member_id=member_id(session, "admin"), via="token")
    assert admin is not None
    everything = Scope(everything=True)
    chiefs = {
        role: create_appointment(
            session,
            spec=AppointmentSpec(
                member_id=members[role],
                level=level,
                jurisdiction_code=side,
                river_code=river,
                valid_from=date(2025, 10, 1),
                stretch_kind=StretchKind.SEGMENTS,
                seqs=seqs,
                stretch_label=f"{seqs[0]}-{seqs[-1]}",
            ),
            scope=everything,
            by=admin,
        )
        for role, (side, level) in sides.items()
    }
    joint_id = create_joint(
        session,
        scope=everything,
        by=admin,
        name="联合河长（测试）",
        zone_id=zone_id_of(session, ZONE),
        appointment_ids=[chiefs["sz_town"], chiefs["wjj_town"]],
    )
    session.flush()
    return Scenario(river, seqs, good, fast, chiefs, members, joint_id)
