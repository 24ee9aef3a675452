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
- status: met (done >= required), else missed once the period is over (or the appointment:
  an outgoing chief can do nothing more), else in_progress; not_due when nothing is owed;
- a joint pair (联合河长): its stretch is the segments every side's chiefs share; its
  candidates the patrols one of its chiefs was on; one_side_only unless each side is present
  (the side's chief on the day the patrol started, or someone whose home is the side or
  below it), then the same tests; its rule's number is owed whole;
- the rule of a chief: their appointment's, else their level's in a zone of their side (the
  lowest zone id), else their level's; of a pair: its own, else its zone's, else the default.

The inputs are the tests' own (the fixes they uploaded) or, for data the tests did not make
(the demo's simulated quarter), read back from the database (`stored_duty`).
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


@dataclass(frozen=True, eq=False)
class Track:
    """A patrol as it was sent: its fixes (lon, lat, time in order), travel mode, and who
    was on it (its members and the owner of the device that recorded it); `mocked`: the
    phone said its positions were mocked (live patrols only)."""

    patrol_id: int
    lon: np.ndarray
    lat: np.ndarray
    times: Sequence[datetime]
    people: frozenset[int]
    mode: str = "foot"
    mocked: bool = False

    @property
    def started(self) -> datetime:
        """The time of the earliest fix."""
        return min(self.times)

    @property
    def ended(self) -> datetime:
        """The time of the latest fix."""
        return max(self.times)


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


@dataclass(frozen=True, eq=False)
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
    if len(tracks) == 1 and distance_m == REACH_M:
        cover = _segment_cover(place, tracks[0])
        return sum(cover.get(s, 0.0) for s in set(segment_ids))
    reach = reach_of(tracks, distance_m)
    total = 0.0
    for segment_id in set(segment_ids):
        inside = shapely.intersection(to_utm(place.segments[segment_id]), reach)
        total += GEOD.geometry_length(to_lonlat(inside)) if not inside.is_empty else 0.0
    return total


# Each track's cover, kept with the segments it was measured on (holding both keeps their
# ids from being reused by later objects).
_COVER: dict[Track, tuple[Mapping[int, shapely.LineString], dict[int, float]]] = {}


def _segment_cover(place: Place, track: Track) -> dict[int, float]:
    """Metres of each segment within REACH_M of one track (computed once per track and
    segments: each is asked of many stretches and periods)."""
    known = _COVER.get(track)
    if known is not None and known[0] is place.segments:
        return known[1]
    reach = reach_of([track])
    west, south, east, north = shapely.bounds(to_lonlat(reach))
    cover = {}
    for segment_id, line in place.segments.items():
        lw, ls, le, ln = shapely.bounds(line)
        if le < west or lw > east or ln < south or ls > north:
            continue
        inside = shapely.intersection(to_utm(line), reach)
        if not inside.is_empty:
            cover[segment_id] = GEOD.geometry_length(to_lonlat(inside))
    _COVER[track] = (place.segments, cover)
    return cover


def speed_mps(track: Track) -> float:
    """Average speed: geodesic length of the fixes over the time from the first to the last."""
    seconds = (track.ended - track.started).total_seconds()
    if seconds <= 0 or len(track.lon) < 2:
        return 0.0
    return float(GEOD.line_length(track.lon, track.lat)) / seconds


def flags_of(track: Track) -> frozenset[str]:
    """The flags the default rules disqualify by: too_fast (faster on average than the
    mode allows) and mocked (a live phone's word)."""
    flags = {"too_fast"} if speed_mps(track) > SPEED_LIMITS[track.mode] else set()
    return frozenset(flags | ({"mocked"} if track.mocked else set()))


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
    segment_ids: frozenset[int] = frozenset()
    stretch_m: float = 0.0
    covered_share: float = 0.0
    last_patrol_at: datetime | None = None


def status(
    required: int, done: int, window: Window, now: datetime, last_day: date | None = None
) -> str:
    """met / missed / in_progress / not_due; missed once the period is over, or the
    appointment (`last_day`: the chief can do nothing more for it after that)."""
    if required == 0:
        return "not_due"
    if done >= required:
        return "met"
    over = window.ends if last_day is None else min(window.ends, midnight(last_day + timedelta(1)))
    return "missed" if now >= over else "in_progress"


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
        status=status(required, done, window, now, chief.valid_to),
        candidates=verdicts,
        segment_ids=frozenset(chief.segment_ids),
        stretch_m=length,
        covered_share=covered_m(place, chief.segment_ids, counted) / length,
        last_patrol_at=last_patrol(place, chief, tracks, before=window.ends),
    )


def last_patrol(
    place: Place, chief: Chief, tracks: Sequence[Track], *, before: datetime
) -> datetime | None:
    """When the chief's latest patrol that came near their stretch started (before the
    period's end, any time back)."""
    near = [
        t.started
        for t in tracks
        if chief.member_id in t.people
        and t.started < before
        and covered_m(place, chief.segment_ids, [t]) > 0
    ]
    return max(near, default=None)


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
        segment_ids=frozenset(stretch),
        stretch_m=length,
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
    homes, parents = homes_and_parents(session)
    return Place(segments=segments, homes=homes, parents=parents), [int(r[0]) for r in rows]


def homes_and_parents(session: Session) -> tuple[dict[int, str], dict[str, str | None]]:
    """Each member's home, each jurisdiction in force's parent."""
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
    return homes, parents


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


# ---------------------------------------------------------------------------------------
# Everything stored, read back as the oracle's inputs (for the demo's simulated quarter,
# whose tracks the tests did not make): the kept fixes of each patrol in their order, its
# members and device owner, the appointments, the rules (resolved here, by the rules
# module's docstring) and the zones.

STORED_FIXES = """
SELECT patrol_id, ST_X(geom), ST_Y(geom), time FROM patrol_points
WHERE ord IS NOT NULL AND time IS NOT NULL ORDER BY patrol_id, ord
"""
STORED_PATROLS = """
SELECT p.id, p.mode,
       p.source = 'live' AND EXISTS (SELECT 1 FROM patrol_points x
                                     WHERE x.patrol_id = p.id AND x.mock) AS mocked,
       ARRAY(SELECT pm.member_id FROM patrol_members pm WHERE pm.patrol_id = p.id) AS members,
       (SELECT dv.member_id FROM devices dv WHERE dv.id = p.device_id) AS owner
FROM patrols p
"""
STORED_CHIEFS = """
SELECT a.id, a.member_id, a.level, a.jurisdiction_code, a.valid_from, a.valid_to, a.joint_id,
       ARRAY(SELECT cs.segment_id FROM chief_stretches cs WHERE cs.appointment_id = a.id)
FROM chief_appointments a ORDER BY a.id
"""
STORED_RULES = """
SELECT joint, level, zone_id, appointment_id, joint_id, period, required, min_share,
       min_length_m, disqualifying_flags FROM duty_rules
"""


@dataclass(frozen=True)
class StoredRule:
    """A row of duty_rules: whom it is for and what it says."""

    joint: bool
    level: str | None
    zone_id: int | None
    appointment_id: int | None
    joint_id: int | None
    rule: Rule


@dataclass(frozen=True, eq=False)
class Stored:
    """Everything the assessment reads, as the oracle's inputs."""

    place: Place
    tracks: list[Track]
    chiefs: dict[int, tuple[Chief, Rule]]
    pairs: dict[int, tuple[list[Chief], Rule]]


def stored_duty(session: Session) -> Stored:
    """Read the patrols, appointments, rules and places back from the database."""
    segments = {
        int(row[0]): shapely.geometry.shape(json.loads(row[1]))
        for row in session.execute(text("SELECT id, ST_AsGeoJSON(geom) FROM river_segments"))
    }
    homes, parents = homes_and_parents(session)
    place = Place(segments=segments, homes=homes, parents=parents)
    rules = [
        StoredRule(r[0], r[1], r[2], r[3], r[4], Rule(r[5], r[6], r[7], r[8], frozenset(r[9])))
        for r in session.execute(text(STORED_RULES))
    ]
    zones: dict[str, set[int]] = {}
    for zone_id, code in session.execute(
        text("SELECT zone_id, jurisdiction_code FROM cooperation_zone_members")
    ):
        zones.setdefault(str(code), set()).add(int(zone_id))
    chiefs = {}
    for row in session.execute(text(STORED_CHIEFS)):
        chief = Chief(row[0], row[1], row[3], tuple(row[7]), row[4], row[5], row[6])
        chiefs[chief.appointment_id] = (chief, _chief_rule(rules, chief, row[2], place, zones))
    pair_zones = {
        int(row[0]): row[1]
        for row in session.execute(text("SELECT id, zone_id FROM joint_appointments"))
    }
    pairs = {
        joint_id: (
            [c for c, _ in chiefs.values() if c.joint_id == joint_id],
            _joint_rule(rules, joint_id, zone_id),
        )
        for joint_id, zone_id in pair_zones.items()
    }
    return Stored(place=place, tracks=_stored_tracks(session), chiefs=chiefs, pairs=pairs)


def _stored_tracks(session: Session) -> list[Track]:
    """Each patrol's kept, timed fixes in order, with who was on it."""
    fixes: dict[int, list[tuple[float, float, datetime]]] = {}
    for patrol_id, lon, lat, time in session.execute(text(STORED_FIXES)):
        fixes.setdefault(int(patrol_id), []).append((lon, lat, time))
    tracks = []
    for patrol_id, mode, mocked, members, owner in session.execute(text(STORED_PATROLS)):
        kept = fixes.get(int(patrol_id))
        if not kept:
            continue
        people = frozenset(members) | ({owner} if owner is not None else set())
        lon, lat = (np.array([f[i] for f in kept]) for i in (0, 1))
        times = [f[2] for f in kept]
        tracks.append(Track(int(patrol_id), lon, lat, times, people, mode, bool(mocked)))
    return tracks


def _side_zones(place: Place, side: str, zones: Mapping[str, set[int]]) -> set[int]:
    """The zones one of whose members is the side or a jurisdiction above it."""
    found: set[int] = set()
    code: str | None = side
    for _ in range(12):
        if code is None:
            break
        found |= zones.get(code, set())
        code = place.parents.get(code)
    return found


def _chief_rule(
    rules: Sequence[StoredRule],
    chief: Chief,
    level: str,
    place: Place,
    zones: Mapping[str, set[int]],
) -> Rule:
    """The appointment's own rule, else its level's in one of its side's zones (the lowest
    zone id), else its level's."""
    mine = [r for r in rules if not r.joint and r.appointment_id == chief.appointment_id]
    if mine:
        return mine[0].rule
    near = _side_zones(place, chief.side, zones)
    zoned = sorted(
        (r.zone_id, r.rule)
        for r in rules
        if not r.joint and r.appointment_id is None and r.level == level and r.zone_id in near
    )
    if zoned:
        return zoned[0][1]
    return next(
        r.rule
        for r in rules
        if not r.joint and r.appointment_id is None and r.level == level and r.zone_id is None
    )


def _joint_rule(rules: Sequence[StoredRule], joint_id: int, zone_id: int | None) -> Rule:
    """The pair's own rule, else its zone's, else the joint default."""
    joint = [r for r in rules if r.joint]
    for wanted in (
        lambda r: r.joint_id == joint_id,
        lambda r: r.joint_id is None and r.zone_id is not None and r.zone_id == zone_id,
        lambda r: r.joint_id is None and r.zone_id is None,
    ):
        found = [r for r in joint if wanted(r)]
        if found:
            return found[0].rule
    raise AssertionError("no joint rule")


def assess_stored(
    stored: Stored, *, windows: Sequence[Window], now: datetime
) -> dict[tuple[str, int, date], Expected]:
    """The oracle's duty of every chief ("chief", appointment id, first day) and joint pair
    ("pair", joint id, first day) in every period of its rule's kind it served in."""
    found = {}
    for chief, rule in stored.chiefs.values():
        for w in windows:
            if w.kind == rule.kind and serving(chief, w):
                found[("chief", chief.appointment_id, w.first)] = assess_chief(
                    stored.place, chief=chief, rule=rule, tracks=stored.tracks, window=w, now=now
                )
    for joint_id, (chiefs, rule) in stored.pairs.items():
        for w in windows:
            if w.kind == rule.kind and any(serving(c, w) for c in chiefs):
                found[("pair", joint_id, w.first)] = assess_pair(
                    stored.place, chiefs=chiefs, rule=rule, tracks=stored.tracks, window=w, now=now
                )
    return found


def serving(chief: Chief, window: Window) -> bool:
    """True when the appointment is in force on a day of the period."""
    return chief.valid_from <= window.last and (
        chief.valid_to is None or chief.valid_to >= window.first
    )
