"""An independent assessment of patrol duty (巡河考核), for the tests to check
geo_patrol.duty.assessment against.

It shares no code with the product: the calendar periods are worked out here from the
calendar (zoneinfo Asia/Shanghai, not duty.periods), the coverage of a stretch from the raw
fixes with shapely in UTM zone 51N (pyproj; the product solves capsule equations in numpy
over stored track pieces), too_fast from the fixes' geodesic length and times, and the rules
from the docstrings of duty.assessment and patrols.coverage, as a river-chief office reads
them:

- a chief's candidates in a period: the patrols the chief was on (a member, or the owner of
  the recording device) whose first fix is in the period, local time;
- the first reason that applies: outside_appointment (started on a local day outside the
  appointment), disqualified (one of the rule's flags), too_little (coverage of the stretch
  under the rule's share and, if it has one, under its length), else counted;
- coverage: the points of each of the stretch's segments within 50 m of the track;
- required: the rule's number in proportion to the days in force, rounded half up;
- status: met (done >= required), else missed once the period is over, else in_progress;
  not_due when nothing is owed;
- a joint pair (联合河长): its stretch is the segments every side's chiefs share; its
  candidates the patrols one of its chiefs was on; one_side_only unless each side is present
  (the side's chief, or someone whose home is the side or below it), then the same tests.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from fractions import Fraction
from zoneinfo import ZoneInfo

import numpy as np
import pyproj
import shapely
from sqlalchemy import text
from sqlalchemy.orm import Session

SHANGHAI = ZoneInfo("Asia/Shanghai")
GEOD = pyproj.Geod(ellps="WGS84")
UTM51 = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:32651", always_xy=True)
REACH_M = 50.0
# Fastest plausible average speed by travel mode, m/s (a faster patrol is too_fast).
SPEED_LIMITS = {"foot": 3.0, "boat": 12.0, "car": 40.0}
KINDS = ("week", "dekad", "month", "quarter")


# ---------------------------------------------------------------------------------------
# Calendar periods, from the calendar.


@dataclass(frozen=True)
class Window:
    """A calendar period: its kind and its first and last local day (both included)."""

    kind: str
    first: date
    last: date

    @property
    def starts(self) -> datetime:
        """Local midnight at the start of the first day, in UTC."""
        return midnight(self.first)

    @property
    def ends(self) -> datetime:
        """Local midnight after the last day, in UTC."""
        return midnight(self.last + timedelta(days=1))

    @property
    def days(self) -> int:
        """Days in the period."""
        return (self.last - self.first).days + 1


def midnight(day: date) -> datetime:
    """The instant a Shanghai day begins, in UTC."""
    return datetime(day.year, day.month, day.day, tzinfo=SHANGHAI).astimezone(UTC)


def shanghai_day(moment: datetime) -> date:
    """The Shanghai calendar day of an instant."""
    return moment.astimezone(SHANGHAI).date()


def last_of_month(year: int, month: int) -> date:
    """The day before the first of the next month."""
    following = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    return following - timedelta(days=1)


def window_of(kind: str, day: date) -> Window:
    """The period of a kind holding a local day: Monday-Sunday weeks, dekads 1-10, 11-20 and
    21 to the month's end, months, quarters from January, April, July and October."""
    if kind == "week":
        monday = day - timedelta(days=day.isoweekday() - 1)
        return Window(kind, monday, monday + timedelta(days=6))
    if kind == "dekad":
        if day.day <= 10:
            return Window(kind, date(day.year, day.month, 1), date(day.year, day.month, 10))
        if day.day <= 20:
            return Window(kind, date(day.year, day.month, 11), date(day.year, day.month, 20))
        return Window(kind, date(day.year, day.month, 21), last_of_month(day.year, day.month))
    if kind == "month":
        return Window(kind, date(day.year, day.month, 1), last_of_month(day.year, day.month))
    if kind == "quarter":
        start = {1: 1, 2: 1, 3: 1, 4: 4, 5: 4, 6: 4, 7: 7, 8: 7, 9: 7}.get(day.month, 10)
        return Window(kind, date(day.year, start, 1), last_of_month(day.year, start + 2))
    raise ValueError(f"no period kind {kind}")


def windows_over(kind: str, first: date, last: date) -> list[Window]:
    """The periods of a kind with a day in [first, last], by walking the days."""
    found: list[Window] = []
    day = first
    while day <= last:
        if not found or found[-1].last < day:
            found.append(window_of(kind, day))
        day += timedelta(days=1)
    return found


def half_up(value: Fraction) -> int:
    """A non-negative fraction rounded to the nearest whole number, halves up."""
    return int(value + Fraction(1, 2))


# ---------------------------------------------------------------------------------------
# The inputs: what was walked, who was appointed, the rules, the people and the places.


@dataclass(frozen=True)
class Track:
    """A patrol as it was sent: its fixes (lon, lat, time in order), travel mode, and who
    was on it (its members and the owner of the device that recorded it)."""

    patrol_id: int
    lon: np.ndarray
    lat: np.ndarray
    times: Sequence[datetime]
    people: frozenset[int]
    mode: str = "foot"

    @property
    def started(self) -> datetime:
        """The time of the first fix."""
        return self.times[0]


@dataclass(frozen=True)
class Chief:
    """An appointment: the member, the side, the stretch's segments, the days in force."""

    appointment_id: int
    member_id: int
    side: str
    segment_ids: tuple[int, ...]
    valid_from: date
    valid_to: date | None = None
    joint_id: int | None = None

    def in_force(self, day: date) -> bool:
        """True on the days from valid_from to valid_to (open: every day after)."""
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)


@dataclass(frozen=True)
class Rule:
    """How many patrols a period asks for and what makes one count."""

    kind: str
    required: int
    min_share: float = 0.3
    min_length_m: float | None = None
    flags: frozenset[str] = frozenset({"too_fast", "mocked"})


@dataclass(frozen=True)
class Place:
    """The fixed inputs: the river segments (lon/lat lines), members' homes and the
    jurisdictions' parents."""

    segments: Mapping[int, shapely.LineString]
    homes: Mapping[int, str] = field(default_factory=dict)
    parents: Mapping[str, str | None] = field(default_factory=dict)

    def stretch_m(self, segment_ids: Iterable[int]) -> float:
        """Geodesic length of the segments."""
        return sum(GEOD.geometry_length(self.segments[s]) for s in set(segment_ids))

    def home_under(self, member_id: int, side: str) -> bool:
        """True when the member's home is the side or a jurisdiction below it."""
        code = self.homes.get(member_id)
        for _ in range(12):
            if code is None:
                return False
            if code == side:
                return True
            code = self.parents.get(code)
        return False


# ---------------------------------------------------------------------------------------
# Coverage and flags from the fixes.


def to_utm(geometry: shapely.Geometry) -> shapely.Geometry:
    """A lon/lat geometry in UTM zone 51N metres."""
    return shapely.transform(geometry, lambda xy: np.column_stack(UTM51.transform(*xy.T)))


def to_lonlat(geometry: shapely.Geometry) -> shapely.Geometry:
    """A UTM 51N geometry back in lon/lat."""
    return shapely.transform(
        geometry,
        lambda xy: np.column_stack(UTM51.transform(xy[:, 0], xy[:, 1], direction="INVERSE")),
    )


def reach_of(tracks: Sequence[Track], distance_m: float = REACH_M) -> shapely.Geometry:
    """The ground within `distance_m` of any of the tracks: each track's line (or point)
    buffered in UTM metres, round ends drawn with 256 segments a quarter circle (chords
    within 0.5 mm of the arc). The UTM scale at the demo (1.0002) is corrected by widening
    the buffer by the local scale factor."""
    shapes = []
    for track in tracks:
        xy = np.column_stack(UTM51.transform(track.lon, track.lat))
        line = shapely.LineString(xy) if len(xy) > 1 else shapely.Point(xy[0])
        scale = _utm_scale(float(np.mean(track.lon)), float(np.mean(track.lat)))
        shapes.append(shapely.buffer(line, distance_m * scale, quad_segs=256))
    return shapely.union_all(shapes) if shapes else shapely.Polygon()


def _utm_scale(lon: float, lat: float) -> float:
    """UTM 51N's scale near a place: its planar length of a 1 km geodesic over 1 km."""
    east_lon, east_lat, _ = GEOD.fwd(lon, lat, 45.0, 1000.0)
    x, y = UTM51.transform([lon, east_lon], [lat, east_lat])
    return float(np.hypot(x[1] - x[0], y[1] - y[0]) / 1000.0)


def covered_m(
    place: Place, segment_ids: Iterable[int], tracks: Sequence[Track], distance_m: float = REACH_M
) -> float:
    """Metres of the segments within `distance_m` of any track: each segment cut by the
    tracks' buffers in UTM, the pieces measured on the ellipsoid."""
    if not tracks:
        return 0.0
    reach = reach_of(tracks, distance_m)
    total = 0.0
    for segment_id in set(segment_ids):
        inside = shapely.intersection(to_utm(place.segments[segment_id]), reach)
        total += GEOD.geometry_length(to_lonlat(inside)) if not inside.is_empty else 0.0
    return total


def speed_mps(track: Track) -> float:
    """Average speed: geodesic length of the fixes over the time from the first to the last."""
    seconds = (track.times[-1] - track.times[0]).total_seconds()
    if seconds <= 0 or len(track.lon) < 2:
        return 0.0
    return float(GEOD.line_length(track.lon, track.lat)) / seconds


def flags_of(track: Track) -> frozenset[str]:
    """The flags a rule may disqualify by that an upload can carry: too_fast (mocked comes
    only from a live phone)."""
    return frozenset({"too_fast"} if speed_mps(track) > SPEED_LIMITS[track.mode] else set())


# ---------------------------------------------------------------------------------------
# The assessment.


@dataclass(frozen=True)
class Verdict:
    """One candidate patrol: its share of the stretch and why it counted or not."""

    share: float
    reason: str


@dataclass(frozen=True)
class Expected:
    """One chief's (or pair's) duty in one period."""

    window: Window
    required: int
    done: int
    status: str
    candidates: dict[int, Verdict]
    covered_share: float = 0.0


def status(required: int, done: int, window: Window, now: datetime) -> str:
    """met / missed / in_progress / not_due."""
    if required == 0:
        return "not_due"
    if done >= required:
        return "met"
    return "missed" if now >= window.ends else "in_progress"


def _too_little(covered: float, length: float, rule: Rule) -> bool:
    """Under the share and (if the rule has a length) under the length."""
    under_share = covered < rule.min_share * length
    return under_share and (rule.min_length_m is None or covered < rule.min_length_m)


def started_in(tracks: Sequence[Track], window: Window, people: set[int]) -> list[Track]:
    """The tracks one of `people` was on whose first fix falls in the window."""
    return [t for t in tracks if t.people & people and window.starts <= t.started < window.ends]


def assess_chief(
    place: Place,
    *,
    chief: Chief,
    rule: Rule,
    tracks: Sequence[Track],
    window: Window,
    now: datetime,
) -> Expected:
    """A chief's duty in one period of their rule's kind."""
    length = place.stretch_m(chief.segment_ids)
    verdicts, counted = {}, []
    for track in started_in(tracks, window, {chief.member_id}):
        covered = covered_m(place, chief.segment_ids, [track])
        if not chief.in_force(shanghai_day(track.started)):
            reason = "outside_appointment"
        elif flags_of(track) & rule.flags:
            reason = "disqualified"
        elif _too_little(covered, length, rule):
            reason = "too_little"
        else:
            reason = "counted"
            counted.append(track)
        verdicts[track.patrol_id] = Verdict(min(1.0, covered / length), reason)
    first = max(window.first, chief.valid_from)
    last = min(window.last, chief.valid_to or window.last)
    days = (last - first).days + 1
    required = half_up(Fraction(rule.required * days, window.days))
    done = len(counted)
    return Expected(
        window=window,
        required=required,
        done=done,
        status=status(required, done, window, now),
        candidates=verdicts,
        covered_share=covered_m(place, chief.segment_ids, counted) / length,
    )


def shared_stretch(chiefs: Sequence[Chief]) -> set[int]:
    """The segments in a stretch of every side of a joint pair."""
    by_side: dict[str, set[int]] = {}
    for chief in chiefs:
        by_side.setdefault(chief.side, set()).update(chief.segment_ids)
    return set.intersection(*by_side.values()) if by_side else set()


def assess_pair(
    place: Place,
    *,
    chiefs: Sequence[Chief],
    rule: Rule,
    tracks: Sequence[Track],
    window: Window,
    now: datetime,
) -> Expected:
    """A joint pair's duty in one period (`chiefs`: all the pair's appointments, ever)."""
    stretch = shared_stretch(chiefs)
    length = place.stretch_m(stretch)
    serving = [
        c
        for c in chiefs
        if c.valid_from <= window.last and (c.valid_to is None or c.valid_to >= window.first)
    ]
    sides = {c.side for c in serving}
    verdicts = {}
    for track in started_in(tracks, window, {c.member_id for c in serving}):
        day = shanghai_day(track.started)
        present = {
            c.side
            for c in serving
            for person in track.people
            if (person == c.member_id and c.in_force(day)) or place.home_under(person, c.side)
        }
        covered = covered_m(place, stretch, [track])
        if present != sides:
            reason = "one_side_only"
        elif flags_of(track) & rule.flags:
            reason = "disqualified"
        elif _too_little(covered, length, rule):
            reason = "too_little"
        else:
            reason = "counted"
        verdicts[track.patrol_id] = Verdict(min(1.0, covered / length), reason)
    done = sum(1 for v in verdicts.values() if v.reason == "counted")
    return Expected(
        window=window,
        required=rule.required,
        done=done,
        status=status(rule.required, done, window, now),
        candidates=verdicts,
    )


# ---------------------------------------------------------------------------------------
# Inputs read back from the database (the river segments and the places are input data).

SEGMENTS = """
SELECT s.id, ST_AsGeoJSON(s.geom) FROM river_segments s JOIN rivers r ON r.id = s.river_id
WHERE r.code = :river ORDER BY s.seq
"""


def river_place(session: Session, *, river: str) -> tuple[Place, list[int]]:
    """The segments of a river (and the segment ids in order along it), members' homes and
    the jurisdictions in force, as a Place."""
    rows = session.execute(text(SEGMENTS), {"river": river}).all()
    segments = {int(r[0]): shapely.geometry.shape(json.loads(r[1])) for r in rows}
    homes = {
        int(row[0]): str(row[1])
        for row in session.execute(text("SELECT id, home_jurisdiction_code FROM members"))
    }
    parents = {
        str(row[0]): row[1]
        for row in session.execute(
            text("SELECT code, parent_code FROM jurisdictions WHERE valid_to IS NULL")
        )
    }
    return Place(segments=segments, homes=homes, parents=parents), [int(r[0]) for r in rows]


# ---------------------------------------------------------------------------------------
# Test tracks along a river.


def river_walk(
    place: Place,
    order: Sequence[int],
    *,
    start_m: float,
    length_m: float,
    offset_m: float,
    rng: np.random.Generator,
    step_m: float = 5.0,
    jitter_m: float = 2.0,
) -> tuple[np.ndarray, np.ndarray]:
    """lon/lat of fixes every `step_m` along the river (its segments in `order` joined)
    from `start_m` for `length_m`, `offset_m` to the right of it, with GPS-like noise."""
    line = shapely.line_merge(
        shapely.MultiLineString([list(place.segments[s].coords) for s in order])
    )
    line_m = to_utm(line)
    along = start_m + np.arange(0.0, length_m + step_m / 2, step_m)
    base = shapely.get_coordinates(shapely.line_interpolate_point(line_m, along))
    ahead = shapely.get_coordinates(shapely.line_interpolate_point(line_m, along + 1.0))
    normal = (ahead - base)[:, ::-1] * [1, -1]
    normal /= np.linalg.norm(normal, axis=1)[:, None]
    noise = rng.normal(0.0, jitter_m, size=base.shape)
    x, y = (base + normal * offset_m + noise).T
    lon, lat = UTM51.transform(x, y, direction="INVERSE")
    return np.asarray(lon), np.asarray(lat)
