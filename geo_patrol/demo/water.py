"""The demo's border water-quality sections (交界断面) and a year of their monthly readings,
imported from the files a monitoring station exports (data/water_sections.csv,
data/water_readings.csv) exactly as `geo-patrol water sections import` and `... readings
import` would, then passed to the rule that opens joint cases.

Three sections, target class III: 小天圩河南桥 (JJ-XTW-01, where 小天圩河 leaves the stretch
towards 王江泾: it flows north to south), 小天圩河北闸 (JJ-XTW-02, upstream) and 澜溪塘王江泾
大桥 (JJ-LXT-01, where 澜溪塘 crosses the border). Their values are those of a plain river of
the region through the seasons (class III: TP 0.12–0.19 and NH3-N up to 0.9 mg/L in winter
decide it; TN 1.8–3.5 mg/L, measured and not counted for a river). Last month 南桥 fell to
class V (NH3-N 1.86, TP 0.36 mg/L): the rule opened a joint case, and its leads are what the
demo placed upstream in the 48 hours before that sample: a patrol of the joint team along
the northern part of the river the day before, a fish-pond report (养殖尾水) about 1.6 km
upstream 30 hours before, and between them the stretch nobody walked.

The readings file is dated as the station exported it for December 2025 to November 2026;
loading moves every date by whole months so that its last month is the month before today
(local time). Loading again adds nothing (a reading is one per section and time; the case's
client id is its reading's; the patrol and the report have fixed client ids per month).
"""

from __future__ import annotations

import csv
import io
import zlib
from datetime import UTC, datetime, timedelta

import numpy as np
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_patrol.access.scope import scope_of
from geo_patrol.core.local_time import LOCAL
from geo_patrol.core.settings import Settings
from geo_patrol.core.vocabulary import DutyPeriod
from geo_patrol.demo.incidents import DemoIncident, place
from geo_patrol.demo.load import DEMO_DATA
from geo_patrol.demo.simulate import Plan, principal_of, to_gpx, walk
from geo_patrol.duty.periods import local_date, period_of
from geo_patrol.incidents.reports import IncidentReport, create_incident
from geo_patrol.patrols.upload import UploadRequest, upload_patrol
from geo_patrol.water.readings import ReadingOptions, import_readings
from geo_patrol.water.sections import SectionOptions, import_sections

SECTIONS = DEMO_DATA / "water_sections.csv"
READINGS = DEMO_DATA / "water_readings.csv"
FILE_LAST_MONTH = (2026, 11)  # the month of the file's last readings
TIME_COLUMN = "采样时间"
TIME_FORMAT = "%Y-%m-%d %H:%M"
WORSENING = "JJ-XTW-01"  # 小天圩河南桥, class V last month
XTW = "R-320509-330411-01"
JOINT_TEAM = "联合巡河队一队"
LEAD_INCIDENT = "demo-water-pond"  # the client id's prefix of the fish-pond report
# Upstream of 南桥 (fraction 0.15 of the line; the river flows towards the line's start):
# the patrol walked 0.55–0.9 the morning before the sample, the report lies at 0.42.
PATROL = Plan("joint.lead", JOINT_TEAM, XTW, 0.9, 0.55, spacing_m=12.0)
POND = DemoIncident(
    LEAD_INCIDENT,
    XTW,
    0.42,
    30,
    "aquaculture_pollution",
    "high",
    "sz.patrol",
    0,
    description="养殖塘尾水经涵管直排小天圩河，排口附近水体发绿、有异味",
)


def load_demo_water(session: Session, *, settings: Settings, now: datetime | None = None) -> str:
    """Import the sections, place the patrol and report upstream of the worsening one, import
    the readings and open the cases they call for. One line to report."""
    now = now or datetime.now(UTC)
    data, sampled = shifted_readings(now=now)
    there = session.execute(
        text(
            "SELECT count(*) FROM water_readings r JOIN water_sections s ON s.id = r.section_id "
            "WHERE s.code = :code AND r.sampled_at = :at"
        ),
        {"code": WORSENING, "at": sampled},
    ).scalar_one()
    if there:  # loaded before (an import of the same files would still be audited)
        return "demo water: the sections and last month's readings are already there"
    admin = principal_of(session, "admin")
    scope = scope_of(session, admin)
    sections = import_sections(
        session,
        data=SECTIONS.read_bytes(),
        options=SectionOptions(filename=SECTIONS.name),
        scope=scope,
        principal=admin,
        settings=settings,
    )
    patrol, pond = _upstream(session, settings=settings, sampled=sampled)
    readings = import_readings(
        session,
        data=data,
        options=ReadingOptions(filename=READINGS.name),
        scope=scope,
        principal=admin,
        settings=settings,
    )
    return (
        f"demo water: {sections.added} sections, {readings.stored} readings stored, "
        f"{len(readings.cases)} joint cases opened (upstream: patrol {int(patrol)} new, "
        f"report {int(pond)} new)"
    )


def shifted_readings(*, now: datetime) -> tuple[bytes, datetime]:
    """The readings file with its dates moved so that its last month is last month, and the
    time of the worsening section's last sample (UTC)."""
    last_month = period_of(DutyPeriod.MONTH, local_date(now)).previous().first
    months = (last_month.year - FILE_LAST_MONTH[0]) * 12 + last_month.month - FILE_LAST_MONTH[1]
    rows = list(csv.reader(io.StringIO(READINGS.read_text(encoding="utf-8"))))
    column = rows[0].index(TIME_COLUMN)
    latest = datetime.min.replace(tzinfo=UTC)
    for row in rows[1:]:
        at = _add_months(datetime.strptime(row[column], TIME_FORMAT), months)
        row[column] = at.strftime(TIME_FORMAT)
        if row[0] == WORSENING:
            latest = max(latest, at.replace(tzinfo=LOCAL).astimezone(UTC))
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue().encode("utf-8"), latest


def _add_months(at: datetime, months: int) -> datetime:
    """The same day and time `months` later (the file's days are all early in the month)."""
    index = at.year * 12 + at.month - 1 + months
    return at.replace(year=index // 12, month=index % 12 + 1)


def _upstream(session: Session, *, settings: Settings, sampled: datetime) -> tuple[bool, bool]:
    """The joint team's patrol the morning before the sample and the fish-pond report 30 h
    before it, upstream of the worsening section; whether each was new."""
    month = f"{sampled.astimezone(LOCAL):%Y-%m}"
    rng = np.random.default_rng(zlib.crc32(f"demo-water {month}".encode()))
    lons, lats = walk(PATROL, rng)
    seconds = np.concatenate([[0.0], np.cumsum(rng.integers(8, 13, len(lons) - 1))])
    start = sampled - timedelta(hours=26)
    team = session.execute(text("SELECT id FROM teams WHERE name = :n"), {"n": JOINT_TEAM})
    upload = upload_patrol(
        session,
        request=UploadRequest(
            team_id=int(team.scalar_one()),
            filename=f"{start.astimezone(LOCAL):%Y%m%d-%H%M}-xtw-north.gpx",
            data=to_gpx(lons, lats, start, seconds.astype(np.float64)),
            client_upload_id=f"demo-water-patrol-{month}",
            title="小天圩河北段联合巡河",
        ),
        principal=principal_of(session, PATROL.login),
        settings=settings,
        address="demo",
    )
    lon, lat = place(POND)
    report = IncidentReport(
        category=POND.category,
        severity=POND.severity,
        lon=lon,
        lat=lat,
        description=POND.description,
        client_id=f"{LEAD_INCIDENT}-{month}",
        reported_at=sampled - timedelta(hours=30),
    )
    _, new = create_incident(
        session,
        report=report,
        principal=principal_of(session, POND.reporter),
        settings=settings,
        address="demo",
    )
    return upload.created, new
