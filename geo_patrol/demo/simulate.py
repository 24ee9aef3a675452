"""A week of simulated patrols for the demo, sent through the same code paths as real ones.

Each patrol is written as a real GPX file (as OsmAnd writes it) and uploaded with
`upload_patrol`; today's patrol of the Shengze phone arrives as OsmAnd query strings parsed
by `parse_osmand` and stored by `record_positions`. Upload ids are fixed per day, so
running the demo again the same day adds nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import numpy as np
import pyproj
import shapely
import shapely.ops
from numpy.typing import NDArray
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_patrol.access.principal import Principal, load_member
from geo_patrol.core.settings import Settings
from geo_patrol.demo.load import DEMO_DATA
from geo_patrol.incidents.workflow import verify_passed_incidents
from geo_patrol.patrols.after_track import after_track
from geo_patrol.patrols.live.osmand import parse_osmand
from geo_patrol.patrols.live.store import record_positions, refresh_stale_patrols
from geo_patrol.patrols.upload import UploadRequest, upload_patrol

# The demo's patrols verify the incidents they pass, as the service's do (registered again
# here, in case nothing else imported incidents: registering twice changes nothing).
after_track(verify_passed_incidents)
GEOD = pyproj.Geod(ellps="WGS84")
PHONE = "gpd_demo-sz-patrol-phone"


@dataclass(frozen=True)
class Plan:
    """One simulated outing: who, which river, which stretch, how."""

    login: str
    team: str
    river: str
    start: float  # fraction along the river
    end: float
    noise_m: float = 3.0
    regular: bool = False  # a suspicious, machine-perfect track
    spacing_m: float = 6.0  # between fixes


WEEK = (
    Plan("joint.lead", "联合巡河队一队", "R-320509-330411-01", 0.0, 0.6),
    Plan("sz.lead", "盛泽巡河队", "R-320509-01", 0.30, 0.36),
    Plan("wjj.lead", "王江泾巡河队", "R-330411-01", 0.10, 0.25),
    Plan("joint.lead", "联合巡河队一队", "R-320509-330411-02", 0.0, 1.0),
    Plan("sz.patrol", "盛泽巡河队", "R-320509-330411-01", 0.05, 0.35, regular=True),
    Plan("wjj.patrol", "联合巡河队一队", "R-330411-01", 0.30, 0.34),
    Plan("joint.lead", "联合巡河队一队", "R-320509-330411-01", 0.2, 0.5, noise_m=8.0),
)


def river_line(code: str) -> shapely.LineString:
    """A demo river's line."""
    data = json.loads((DEMO_DATA / "rivers.geojson").read_text(encoding="utf-8"))
    feature = next(f for f in data["features"] if f["properties"]["code"] == code)
    return shapely.geometry.shape(feature["geometry"])


def walk(plan: Plan, rng: np.random.Generator) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Fixes every ~`spacing_m` along the chosen stretch of the river bank, with GPS noise."""
    line = river_line(plan.river)
    stretch = shapely.ops.substring(line, plan.start, plan.end, normalized=True)
    length = GEOD.geometry_length(stretch)
    fractions = np.linspace(0, 1, max(20, int(length / plan.spacing_m)))
    points = [stretch.interpolate(f, normalized=True) for f in fractions]
    lons = np.array([p.x for p in points])
    lats = np.array([p.y for p in points])
    if plan.regular:
        return lons, lats
    # GPS error wanders slowly rather than jumping fix to fix: an AR(1) offset in metres.
    east, north = np.zeros(len(lons)), np.zeros(len(lons))
    step = plan.noise_m * np.sqrt(1 - 0.9**2)
    for i in range(1, len(lons)):
        east[i] = 0.9 * east[i - 1] + rng.normal(0, step)
        north[i] = 0.9 * north[i - 1] + rng.normal(0, step)
    azimuths = np.degrees(np.arctan2(east, north))
    noisy_lon, noisy_lat, _ = GEOD.fwd(lons, lats, azimuths, np.hypot(east, north))
    return np.asarray(noisy_lon), np.asarray(noisy_lat)


def to_gpx(
    lons: NDArray[np.float64],
    lats: NDArray[np.float64],
    start: datetime,
    seconds: NDArray[np.float64] | None = None,
) -> bytes:
    """A GPX 1.1 track as OsmAnd writes it, a fix at each of `seconds` after `start` (by
    default one every 5 s)."""
    offsets = 5.0 * np.arange(len(lons)) if seconds is None else seconds
    rows = [
        f'<trkpt lat="{lat:.7f}" lon="{lon:.7f}"><ele>2.0</ele>'
        f"<time>{(start + timedelta(seconds=float(s))).strftime('%Y-%m-%dT%H:%M:%SZ')}</time>"
        "<hdop>4.0</hdop></trkpt>"
        for lon, lat, s in zip(lons, lats, offsets, strict=True)
    ]
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<gpx version="1.1" creator="OsmAnd~ 4.7.3" '
        'xmlns="http://www.topografix.com/GPX/1/1"><trk><trkseg>'
        + "".join(rows)
        + "</trkseg></trk></gpx>\n"
    ).encode()


def principal_of(session: Session, login: str) -> Principal:
    """The principal of a demo login."""
    member_id = session.execute(text("SELECT id FROM members WHERE login = :l"), {"l": login})
    principal = load_member(session, member_id=int(member_id.scalar_one()), via="token")
    assert principal is not None
    return principal


def simulate_week(session: Session, *, settings: Settings, today: datetime | None = None) -> str:
    """Upload the week's simulated patrols and today's live one; idempotent per day."""
    today = (today or datetime.now(UTC)).replace(hour=1, minute=0, second=0, microsecond=0)
    created = 0
    for day, plan in enumerate(WEEK):
        date = today - timedelta(days=len(WEEK) - day)
        rng = np.random.default_rng(int(date.strftime("%Y%m%d")) + day)
        lons, lats = walk(plan, rng)
        principal = principal_of(session, plan.login)
        team = session.execute(text("SELECT id FROM teams WHERE name = :n"), {"n": plan.team})
        request = UploadRequest(
            team_id=int(team.scalar_one()),
            filename=f"{date:%Y%m%d}-{plan.login}.gpx",
            data=to_gpx(lons, lats, date),
            client_upload_id=f"demo-{date:%Y-%m-%d}-{day}",
            title=f"{plan.team} {date:%m-%d}",
        )
        result = upload_patrol(
            session, request=request, principal=principal, settings=settings, address="demo"
        )
        created += int(result.created)
    # 07:00 Beijing time today (23:00 UTC the day before): always in the past.
    live = _send_live(session, settings=settings, start=today - timedelta(hours=2))
    refresh_stale_patrols(session, settings=settings)
    kept = len(WEEK) - created
    return f"simulated patrols: {created} uploaded ({kept} already there), {live} live positions"


def _send_live(session: Session, *, settings: Settings, start: datetime) -> int:
    """Today's patrol of the Shengze phone, as OsmAnd requests."""
    plan = Plan("sz.patrol", "联合巡河队一队", "R-320509-330411-01", 0.6, 0.75)
    lons, lats = walk(plan, np.random.default_rng(int(start.strftime("%Y%m%d"))))
    times = [start + timedelta(seconds=5 * i) for i in range(len(lons))]
    fixes = zip(lons.tolist(), lats.tolist(), times, strict=True)
    return send_osmand(session, settings=settings, device=PHONE, fixes=fixes)


def send_osmand(
    session: Session,
    *,
    settings: Settings,
    device: str,
    fixes: Iterable[tuple[float, float, datetime]],
) -> int:
    """Send fixes (lon, lat, time) one request each, as OsmAnd does; the positions stored."""
    stored = 0
    for lon, lat, at in fixes:
        query = urlencode(
            {
                "id": device,
                "lat": f"{lat:.7f}",
                "lon": f"{lon:.7f}",
                "timestamp": int(at.timestamp()),
                "accuracy": "5",
                "speed": "2.3",
            }
        )
        positions = parse_osmand(
            method="GET", query=query, body=b"", content_type=None, now=datetime.now(UTC)
        )
        stored += record_positions(session, positions=positions, settings=settings)
    return stored
