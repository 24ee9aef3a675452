"""The assessment (巡河考核): for each chief and period, what was owed, what was done, and
why each of the chief's patrols counted or not. One statement over the stored coverage.

A chief's candidate patrols in a period are those the chief was on (a member of the patrol,
or the owner of the device that recorded it) that started in the period (local time; a patrol
spanning two periods counts in the one it started in). The first reason that applies:
outside_appointment (started on a day the appointment was not in force), disqualified (it
carries one of the rule's disqualifying flags), too_little (its coverage of the stretch is
under the rule's share and, when the rule has one, under its length), else counted. Coverage
is the stored per-segment coverage (patrols.coverage) summed over the stretch's segments.

Status: met when done reaches what is owed (the rule's number, in proportion to the days in
force: duty.periods.required_in); missed when the period is over without it (or the
appointment, if it ends first: the outgoing chief can do nothing more); in_progress before;
not_due when nothing is owed.

A joint pair (联合河长) is assessed once more, by the joint rule, on its shared stretch (the
segments its chiefs' stretches share): a patrol counts for the pair when each side was on it
(the side's chief on the day it started, or a member whose home is the side or below it)
and it passes the same tests; with only one side present its reason is one_side_only. Each
side's chief is credited by their own assessment as well; the pair is credited once.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_patrol.access.scope import Scope
from geo_patrol.core.paging import Page
from geo_patrol.core.vocabulary import CandidateReason, ChiefLevel, DutyPeriod, DutyStatus
from geo_patrol.db.clauses import Clause, all_of, equals, statement
from geo_patrol.db.keyset import Keyset, read_limit
from geo_patrol.db.tables import OPEN_STATUSES
from geo_patrol.duty.appointments import chief_visibility
from geo_patrol.duty.periods import (
    Period,
    local_midnight,
    period_of,
    recent_periods,
    required_in,
)
from geo_patrol.duty.rules import CHIEF_RULE, JOINT_RULE, SIDE_ZONES


@dataclass(frozen=True)
class Candidate:
    """A patrol of the chief (or pair) in the period and why it counted or not."""

    patrol_id: int
    started_at: datetime
    team_id: int
    covered_m: float
    share: float
    flags: list[str]
    reason: CandidateReason
    disqualified_by: list[str] = field(default_factory=list)

    @property
    def counted(self) -> bool:
        """True when the patrol counted for the duty."""
        return self.reason is CandidateReason.COUNTED


@dataclass(frozen=True)
class IncidentTally:
    """Incidents reported on the stretch in the period and where they stand."""

    total: int = 0
    open: int = 0
    overdue: int = 0
    ids: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class ChiefDuty:
    """One chief's duty in one period."""

    appointment_id: int
    member_id: int
    member_name: str
    level: ChiefLevel
    side_code: str
    side_name: str | None
    county_code: str | None
    river_code: str
    river_name: str
    stretch_label: str | None
    segment_ids: list[int]
    stretch_m: float
    joint_id: int | None
    zone_ids: list[int]
    period: Period
    required: int
    done: int
    status: DutyStatus
    covered_share: float
    last_patrol_at: datetime | None
    candidates: list[Candidate]
    incidents: IncidentTally
    min_share: float
    min_length_m: float | None

    @property
    def due(self) -> date:
        """The last day of the period (the day the duty falls due)."""
        return self.period.last


@dataclass(frozen=True)
class JointDuty:
    """A joint pair's duty in one period: patrols both sides were on."""

    joint_id: int
    name: str
    zone_id: int | None
    chiefs: list[dict[str, Any]]
    segment_ids: list[int]
    stretch_m: float
    period: Period
    required: int
    done: int
    status: DutyStatus
    candidates: list[Candidate]


WINDOWS = """
windows AS (
    SELECT * FROM unnest(CAST(:kinds AS text[]), CAST(:firsts AS date[]),
                         CAST(:lasts AS date[]), CAST(:starts AS timestamptz[]),
                         CAST(:ends AS timestamptz[]))
        AS w(kind, first_day, last_day, starts, ends)
)"""

# Candidates' reasons, in order (a CASE over a candidate `c` carrying its rule and stretch).
REASON = """
CASE
    WHEN local_day < c.valid_from OR local_day > coalesce(c.valid_to, local_day)
        THEN 'outside_appointment'
    WHEN cardinality(hit_flags) > 0 THEN 'disqualified'
    WHEN covered_m < c.min_share * c.length_m
         AND (c.min_length_m IS NULL OR covered_m < c.min_length_m) THEN 'too_little'
    ELSE 'counted'
END"""

# The patrols of a chief `c` in a duty's window `d`: those they were on (any time; the caller
# keeps the window) and those their devices recorded in it. Two index-driven branches: an OR
# of the two in one join condition made PostgreSQL read every patrol for every chief.
THEIR_PATROLS = """
SELECT pm.patrol_id FROM patrol_members pm WHERE pm.member_id = c.member_id
UNION
SELECT dp.id FROM devices dv JOIN patrols dp ON dp.device_id = dv.id
 AND dp.started_at >= d.starts AND dp.started_at < d.ends
WHERE dv.member_id = c.member_id
"""

CHIEF_DUTIES = (
    "WITH RECURSIVE"
    + WINDOWS
    + """,
chiefs AS (
    SELECT a.* FROM chief_appointments a
    JOIN rivers r ON r.id = a.river_id
    LEFT JOIN joint_appointments j ON j.id = a.joint_id
    WHERE {visible} AND {where}
      AND a.valid_from <= (SELECT max(last_day) FROM windows)
      AND coalesce(a.valid_to, 'infinity') >= (SELECT min(first_day) FROM windows)
),"""
    + SIDE_ZONES
    + """,
ruled AS (
    SELECT c.*, rule.* FROM chiefs c CROSS JOIN LATERAL ("""
    + CHIEF_RULE
    + """) rule
),
duties AS (
    SELECT c.id AS appointment_id, w.kind, w.first_day, w.last_day, w.starts, w.ends,
           least(w.last_day, coalesce(c.valid_to, w.last_day))
             - greatest(w.first_day, c.valid_from) + 1 AS days_in_force
    FROM ruled c JOIN windows w ON w.kind = c.period
     AND c.valid_from <= w.last_day AND coalesce(c.valid_to, w.last_day) >= w.first_day
),
stretch AS (
    SELECT cs.appointment_id, sum(s.length_m) AS length_m,
           array_agg(s.id ORDER BY s.seq) AS segment_ids
    FROM chief_stretches cs JOIN river_segments s ON s.id = cs.segment_id
    WHERE cs.appointment_id IN (SELECT id FROM chiefs)
    GROUP BY cs.appointment_id
),
chief_patrols AS MATERIALIZED (
    SELECT d.appointment_id, d.starts, p.id AS patrol_id, p.started_at, p.team_id,
           coalesce(p.quality_flags, '[]') AS flags,
           (p.started_at AT TIME ZONE 'Asia/Shanghai')::date AS local_day,
           c.valid_from, c.valid_to, c.min_share, c.min_length_m, c.disqualifying_flags
    FROM duties d JOIN ruled c ON c.id = d.appointment_id
    CROSS JOIN LATERAL ("""
    + THEIR_PATROLS
    + """) theirs
    JOIN patrols p ON p.id = theirs.patrol_id
     AND p.started_at >= d.starts AND p.started_at < d.ends
),
measured AS MATERIALIZED (
    SELECT cp.*, st.length_m,
           (SELECT coalesce(sum(pc.covered_m), 0) FROM patrol_coverage pc
            JOIN chief_stretches cs ON cs.segment_id = pc.segment_id
             AND cs.appointment_id = cp.appointment_id
            WHERE pc.patrol_id = cp.patrol_id) AS covered_m,
           ARRAY(SELECT f FROM jsonb_array_elements_text(cp.disqualifying_flags) f
                 WHERE cp.flags ? f ORDER BY f) AS hit_flags,
           EXISTS (SELECT 1 FROM patrol_coverage pc WHERE pc.patrol_id = cp.patrol_id
                   AND pc.segment_id = ANY(st.segment_ids)) AS on_stretch
    FROM chief_patrols cp JOIN stretch st ON st.appointment_id = cp.appointment_id
),
candidates AS (
    SELECT c.*, least(1.0, c.covered_m / nullif(c.length_m, 0)) AS share,
           """
    + REASON
    + """ AS reason
    FROM measured c
),
candidate_lists AS MATERIALIZED (
    SELECT k.appointment_id, k.starts,
           json_agg(json_build_object(
               'patrol_id', k.patrol_id, 'started_at', k.started_at, 'team_id', k.team_id,
               'covered_m', k.covered_m, 'share', coalesce(k.share, 0),
               'flags', k.flags, 'reason', k.reason, 'disqualified_by', k.hit_flags)
             ORDER BY k.started_at, k.patrol_id) AS candidates,
           array_agg(k.patrol_id) FILTER (WHERE k.reason = 'counted') AS counted,
           max(k.started_at) FILTER (WHERE k.on_stretch) AS last_in_period
    FROM candidates k GROUP BY k.appointment_id, k.starts
),
side_counties AS (
    SELECT an.side, min(an.code) AS code FROM ancestry an
    JOIN jurisdictions ja ON ja.code = an.code AND ja.valid_to IS NULL AND ja.level = 'county'
    GROUP BY an.side
),
zone_lists AS (
    SELECT sz.side, array_agg(sz.zone_id ORDER BY sz.zone_id) AS zone_ids
    FROM side_zones sz GROUP BY sz.side
)
SELECT d.appointment_id, c.member_id, m.name AS member_name, c.level,
       c.jurisdiction_code AS side_code, jn.name AS side_name,
       sc.code AS county_code,
       r.code AS river_code, r.name AS river_name, c.stretch_label,
       st.segment_ids, st.length_m AS stretch_m, c.joint_id,
       coalesce(zl.zone_ids, '{{}}') AS zone_ids,
       d.kind, d.first_day, d.last_day, d.days_in_force, c.valid_to,
       c.required AS rule_required, c.min_share, c.min_length_m,
       coalesce(uc.covered_m, 0) / nullif(st.length_m, 0) AS covered_share,
       -- The chief's last patrol on the stretch: in the period when there is one (the
       -- candidates know); else looked up (COALESCE evaluates it only then).
       coalesce(cl.last_in_period, (
            SELECT max(p.started_at) FROM patrols p
            WHERE p.started_at < d.ends
              AND p.id IN (
                  SELECT pm.patrol_id FROM patrol_members pm WHERE pm.member_id = c.member_id
                  UNION ALL
                  SELECT dp.id FROM devices dv JOIN patrols dp ON dp.device_id = dv.id
                  WHERE dv.member_id = c.member_id AND dp.started_at < d.ends)
              AND EXISTS (SELECT 1 FROM patrol_coverage pc WHERE pc.patrol_id = p.id
                          AND pc.segment_id = ANY(st.segment_ids))
       )) AS last_patrol_at,
       coalesce(cl.candidates, '[]') AS candidates,
       inc.total AS incidents_total, inc.open AS incidents_open,
       inc.overdue AS incidents_overdue, inc.ids AS incident_ids
FROM duties d
JOIN ruled c ON c.id = d.appointment_id
JOIN stretch st ON st.appointment_id = d.appointment_id
JOIN members m ON m.id = c.member_id
JOIN rivers r ON r.id = c.river_id
LEFT JOIN jurisdictions jn ON jn.code = c.jurisdiction_code AND jn.valid_to IS NULL
LEFT JOIN candidate_lists cl ON cl.appointment_id = d.appointment_id AND cl.starts = d.starts
LEFT JOIN LATERAL (
    -- The stretch covered by the counted patrols together (overlaps once), per duty from
    -- the index: as a join of two aggregated lists it was read once per chief. The ranges
    -- are fractions of the segment's lon/lat line (as ST_LineSubstring takes them), not of
    -- its length in metres: each merged piece is measured on the ellipsoid, as
    -- patrols.coverage measures one patrol's.
    SELECT sum((SELECT coalesce(sum(ST_Length(ST_LineSubstring(
                    s.geom, lower(r)::float8, upper(r)::float8)::geography)), 0)
                FROM unnest(u.ranges) r WHERE upper(r) > lower(r))) AS covered_m
    FROM (
        SELECT pc.segment_id, range_agg(pc.ranges) AS ranges
        FROM patrol_coverage pc
        JOIN chief_stretches cs ON cs.appointment_id = d.appointment_id
         AND cs.segment_id = pc.segment_id
        WHERE pc.patrol_id = ANY(cl.counted)
        GROUP BY pc.segment_id
    ) u JOIN river_segments s ON s.id = u.segment_id
) uc ON true
LEFT JOIN side_counties sc ON sc.side = c.jurisdiction_code
LEFT JOIN zone_lists zl ON zl.side = c.jurisdiction_code
CROSS JOIN LATERAL (
    SELECT count(*) AS total,
           count(*) FILTER (WHERE i.status = ANY(:open_statuses)) AS open,
           count(*) FILTER (WHERE i.status = ANY(:open_statuses) AND i.deadline_at < now())
               AS overdue,
           coalesce(array_agg(i.id ORDER BY i.id), '{{}}') AS ids
    FROM incidents i
    WHERE i.segment_id = ANY(st.segment_ids) AND i.duplicate_of IS NULL
      AND i.reported_at >= d.starts AND i.reported_at < d.ends
) inc
WHERE {after}
ORDER BY d.first_day, r.code, c.level, c.jurisdiction_code, m.name, d.appointment_id
LIMIT :limit
"""
)
# The list's order, paged inside the statement (a period's chiefs by river, level, side and
# name; the appointment makes it unique).
CHIEF_DUTY_ORDER = Keyset(
    ("d.first_day", "r.code", "c.level", "c.jurisdiction_code", "m.name", "d.appointment_id"),
    ("first_day", "river_code", "level", "side_code", "member_name", "appointment_id"),
    ("day", "text", "text", "text", "text", "int"),
)


def windows_params(periods: Sequence[Period]) -> dict[str, list[Any]]:
    """The periods as the arrays the statements unnest."""
    return {
        "kinds": [str(p.kind) for p in periods],
        "firsts": [p.first for p in periods],
        "lasts": [p.last for p in periods],
        "starts": [p.starts for p in periods],
        "ends": [p.ends for p in periods],
    }


def status_of(
    *, required: int, done: int, period: Period, now: datetime, last_day: date | None = None
) -> DutyStatus:
    """Met, missed, in progress or not due. An appointment whose `last_day` falls in the
    period is settled then: the outgoing chief can do nothing more for it."""
    if required == 0:
        return DutyStatus.NOT_DUE
    if done >= required:
        return DutyStatus.MET
    over = period.ends
    if last_day is not None and last_day < period.last:
        over = local_midnight(last_day + timedelta(days=1))
    return DutyStatus.MISSED if now >= over else DutyStatus.IN_PROGRESS


def _candidates(rows: list[dict[str, Any]]) -> list[Candidate]:
    """Candidates from the JSON the statement aggregates."""
    return [
        Candidate(
            patrol_id=int(k["patrol_id"]),
            started_at=datetime.fromisoformat(k["started_at"]),
            team_id=int(k["team_id"]),
            covered_m=float(k["covered_m"]),
            share=float(k["share"]),
            flags=list(k["flags"]),
            reason=CandidateReason(k["reason"]),
            disqualified_by=list(k["disqualified_by"]),
        )
        for k in rows
    ]


@dataclass(frozen=True)
class DutyFilter:
    """What to assess: chiefs by level, side (and everything below it), river, member,
    appointment, zone."""

    level: ChiefLevel | None = None
    side: str | None = None
    river: str | None = None
    chief: int | None = None
    appointment_id: int | None = None
    zone_id: int | None = None


def _where(selected: DutyFilter) -> Clause:
    """The filter as conditions on the appointment `a` and its river `r`."""
    under = None
    if selected.side:
        under = Clause(
            "a.jurisdiction_code IN (WITH RECURSIVE t AS ("
            "SELECT code, 0 AS depth FROM jurisdictions WHERE code = :under_side "
            "AND valid_to IS NULL UNION SELECT j.code, t.depth + 1 FROM jurisdictions j "
            "JOIN t ON j.parent_code = t.code WHERE j.valid_to IS NULL AND t.depth < 10) "
            "SELECT code FROM t)",
            {"under_side": selected.side},
        )
    zone = None
    if selected.zone_id is not None:
        zone = Clause(
            "(j.zone_id = :duty_zone OR a.jurisdiction_code IN (WITH RECURSIVE t AS ("
            "SELECT zm.jurisdiction_code AS code, 0 AS depth FROM cooperation_zone_members zm "
            "WHERE zm.zone_id = :duty_zone UNION SELECT j2.code, t.depth + 1 "
            "FROM jurisdictions j2 JOIN t ON j2.parent_code = t.code "
            "WHERE j2.valid_to IS NULL AND t.depth < 10) SELECT code FROM t))",
            {"duty_zone": selected.zone_id},
        )
    return all_of(
        equals("a.level", "duty_level", str(selected.level) if selected.level else None),
        equals("r.code", "duty_river", selected.river),
        equals("a.member_id", "duty_chief", selected.chief),
        equals("a.id", "duty_appointment", selected.appointment_id),
        under,
        zone,
    )


@contextmanager
def _without_jit(session: Session) -> Iterator[None]:
    """JIT compilation off for the statements inside (as SET LOCAL, then put back).

    Over a province the planner prices these statements in the millions (a few subqueries
    per chief), which turns JIT on: 2 to 11 s spent compiling 400 expressions, each then
    run a few times per chief, for a statement that itself takes about 10 s of CPU.
    """
    previous = session.execute(text("SELECT current_setting('jit')")).scalar_one()
    session.execute(text("SELECT set_config('jit', 'off', true)"))
    yield
    # Not after a failure: the transaction is then rolled back, and the setting with it.
    session.execute(text("SELECT set_config('jit', :jit, true)"), {"jit": previous})


def assess_chiefs(
    session: Session,
    *,
    scope: Scope,
    member_id: int | None,
    periods: Sequence[Period],
    selected: DutyFilter = DutyFilter(),
    now: datetime | None = None,
) -> list[ChiefDuty]:
    """Each visible chief's duty in each given period of the kind their rule uses (periods
    of other kinds are skipped for that chief)."""
    return assess_chiefs_page(
        session,
        scope=scope,
        member_id=member_id,
        periods=periods,
        selected=selected,
        now=now,
        limit=None,
    ).items


def assess_chiefs_page(
    session: Session,
    *,
    scope: Scope,
    member_id: int | None,
    periods: Sequence[Period],
    selected: DutyFilter = DutyFilter(),
    now: datetime | None = None,
    limit: int | None,
    cursor: str | None = None,
) -> Page[ChiefDuty]:
    """A page of `assess_chiefs` (by period, river, level, side, name), cut inside the
    statement (every duty when `limit` is None)."""
    now = now or datetime.now(UTC)
    after = CHIEF_DUTY_ORDER.after(cursor)
    if not periods:
        return Page([])
    with _without_jit(session):
        rows = session.execute(
            statement(
                CHIEF_DUTIES,
                visible=chief_visibility(scope, member_id=member_id),
                where=_where(selected),
                after=all_of(after),
            ),
            {
                **windows_params(periods),
                "open_statuses": list(OPEN_STATUSES),
                "limit": read_limit(limit),
            },
        ).all()
    page = CHIEF_DUTY_ORDER.page(rows, limit)
    return Page(_chief_duties(page.items, now), page.next_cursor)


def _chief_duties(rows: Sequence[Any], now: datetime) -> list[ChiefDuty]:
    """The duties of the assessment's rows."""
    duties = []
    for row in rows:
        period = Period(row.first_day, row.last_day, DutyPeriod(row.kind))
        required = required_in(
            row.rule_required, days_in_force=row.days_in_force, period_days=period.days
        )
        candidates = _candidates(row.candidates)
        done = sum(1 for candidate in candidates if candidate.counted)
        duties.append(
            ChiefDuty(
                appointment_id=row.appointment_id,
                member_id=row.member_id,
                member_name=row.member_name,
                level=ChiefLevel(row.level),
                side_code=row.side_code,
                side_name=row.side_name,
                county_code=row.county_code,
                river_code=row.river_code,
                river_name=row.river_name,
                stretch_label=row.stretch_label,
                segment_ids=list(row.segment_ids),
                stretch_m=float(row.stretch_m),
                joint_id=row.joint_id,
                zone_ids=list(row.zone_ids),
                period=period,
                required=required,
                done=done,
                status=status_of(
                    required=required, done=done, period=period, now=now, last_day=row.valid_to
                ),
                covered_share=float(row.covered_share or 0),
                last_patrol_at=row.last_patrol_at,
                candidates=candidates,
                incidents=IncidentTally(
                    total=row.incidents_total,
                    open=row.incidents_open,
                    overdue=row.incidents_overdue,
                    ids=list(row.incident_ids),
                ),
                min_share=float(row.min_share),
                min_length_m=row.min_length_m,
            )
        )
    return duties


JOINT_REASON = """
CASE
    WHEN pr.sides_present < pr.sides THEN 'one_side_only'
    WHEN cardinality(hit_flags) > 0 THEN 'disqualified'
    WHEN covered_m < jp.min_share * st.length_m
         AND (jp.min_length_m IS NULL OR covered_m < jp.min_length_m) THEN 'too_little'
    ELSE 'counted'
END"""

JOINT_DUTIES = (
    "WITH RECURSIVE"
    + WINDOWS
    + """,
pairs AS (
    SELECT jp.* FROM joint_appointments jp
    WHERE EXISTS (SELECT 1 FROM chief_appointments a
                  JOIN rivers r ON r.id = a.river_id
                  LEFT JOIN joint_appointments j ON j.id = a.joint_id
                  WHERE a.joint_id = jp.id AND {visible} AND {where})
),
ruled AS (
    SELECT jp.*, rule.* FROM pairs jp CROSS JOIN LATERAL ("""
    + JOINT_RULE
    + """) rule
),
duties AS (
    SELECT jp.id AS joint_id, w.kind, w.first_day, w.last_day, w.starts, w.ends
    FROM ruled jp JOIN windows w ON w.kind = jp.period
    WHERE EXISTS (SELECT 1 FROM chief_appointments a WHERE a.joint_id = jp.id
                  AND a.valid_from <= w.last_day
                  AND coalesce(a.valid_to, w.last_day) >= w.first_day)
),
members_in AS (
    SELECT d.joint_id, d.starts, a.id AS appointment_id, a.member_id, a.jurisdiction_code,
           a.valid_from, a.valid_to
    FROM duties d JOIN chief_appointments a ON a.joint_id = d.joint_id
     AND a.valid_from <= d.last_day AND coalesce(a.valid_to, d.last_day) >= d.first_day
),
shared AS (
    SELECT a.joint_id, cs.segment_id
    FROM chief_appointments a JOIN chief_stretches cs ON cs.appointment_id = a.id
    WHERE a.joint_id IN (SELECT id FROM pairs)
    GROUP BY a.joint_id, cs.segment_id
    HAVING count(DISTINCT a.jurisdiction_code) = (
        SELECT count(DISTINCT a2.jurisdiction_code) FROM chief_appointments a2
        WHERE a2.joint_id = a.joint_id)
),
stretch AS (
    SELECT sh.joint_id, sum(s.length_m) AS length_m,
           array_agg(s.id ORDER BY s.river_id, s.seq) AS segment_ids
    FROM shared sh JOIN river_segments s ON s.id = sh.segment_id
    GROUP BY sh.joint_id
),
pair_patrols AS (
    SELECT DISTINCT d.joint_id, d.starts, p.id AS patrol_id, p.started_at, p.team_id,
           coalesce(p.quality_flags, '[]') AS flags,
           (p.started_at AT TIME ZONE 'Asia/Shanghai')::date AS local_day
    FROM duties d JOIN members_in mi ON mi.joint_id = d.joint_id AND mi.starts = d.starts
    CROSS JOIN LATERAL (SELECT mi.member_id) c
    CROSS JOIN LATERAL ("""
    + THEIR_PATROLS
    + """) theirs
    JOIN patrols p ON p.id = theirs.patrol_id
     AND p.started_at >= d.starts AND p.started_at < d.ends
),
people AS (
    SELECT pp.joint_id, pp.starts, pp.patrol_id, who.member_id FROM pair_patrols pp
    CROSS JOIN LATERAL (
        SELECT pm.member_id FROM patrol_members pm WHERE pm.patrol_id = pp.patrol_id
        UNION
        SELECT dv.member_id FROM patrols p JOIN devices dv ON dv.id = p.device_id
        WHERE p.id = pp.patrol_id
    ) who
),
home_up AS (
    SELECT DISTINCT m.id AS member_id, m.home_jurisdiction_code AS code, 0 AS depth
    FROM members m WHERE m.id IN (SELECT member_id FROM people)
    UNION
    SELECT hu.member_id, j.parent_code, hu.depth + 1 FROM home_up hu
    JOIN jurisdictions j ON j.code = hu.code AND j.valid_to IS NULL
    WHERE j.parent_code IS NOT NULL AND hu.depth < 8
),
present AS (
    SELECT pp.joint_id, pp.starts, pp.patrol_id,
           (SELECT count(DISTINCT mi.jurisdiction_code) FROM members_in mi
            WHERE mi.joint_id = pp.joint_id AND mi.starts = pp.starts) AS sides,
           (SELECT count(DISTINCT mi.jurisdiction_code) FROM members_in mi
            JOIN people pe ON pe.joint_id = mi.joint_id AND pe.starts = mi.starts
             AND pe.patrol_id = pp.patrol_id
            WHERE mi.joint_id = pp.joint_id AND mi.starts = pp.starts
              -- a chief brings their side on the days they are its chief
              AND ((pe.member_id = mi.member_id AND pp.local_day >= mi.valid_from
                    AND pp.local_day <= coalesce(mi.valid_to, pp.local_day))
                   OR EXISTS (SELECT 1 FROM home_up hu WHERE hu.member_id = pe.member_id
                              AND hu.code = mi.jurisdiction_code))) AS sides_present
    FROM pair_patrols pp
),
candidates AS (
    SELECT pp.*, covered_m, hit_flags, least(1.0, covered_m / nullif(st.length_m, 0)) AS share,
           """
    + JOINT_REASON
    + """ AS reason
    FROM pair_patrols pp
    JOIN ruled jp ON jp.id = pp.joint_id
    JOIN stretch st ON st.joint_id = pp.joint_id
    JOIN present pr ON pr.joint_id = pp.joint_id AND pr.starts = pp.starts
     AND pr.patrol_id = pp.patrol_id
    CROSS JOIN LATERAL (
        SELECT coalesce(sum(pc.covered_m), 0) AS covered_m FROM patrol_coverage pc
        WHERE pc.patrol_id = pp.patrol_id AND pc.segment_id = ANY(st.segment_ids)
    ) cov
    CROSS JOIN LATERAL (
        SELECT coalesce(array_agg(f ORDER BY f), '{{}}') AS hit_flags
        FROM jsonb_array_elements_text(jp.disqualifying_flags) f WHERE pp.flags ? f
    ) hit
)
SELECT d.joint_id, jp.name, jp.zone_id, d.kind, d.first_day, d.last_day,
       jp.required AS rule_required, st.segment_ids, coalesce(st.length_m, 0) AS stretch_m,
       (SELECT json_agg(json_build_object(
                   'appointment_id', mi.appointment_id, 'member_id', mi.member_id,
                   'name', m.name, 'side_code', mi.jurisdiction_code)
               ORDER BY mi.jurisdiction_code, mi.appointment_id)
        FROM members_in mi JOIN members m ON m.id = mi.member_id
        WHERE mi.joint_id = d.joint_id AND mi.starts = d.starts) AS chiefs,
       coalesce((SELECT json_agg(json_build_object(
                    'patrol_id', k.patrol_id, 'started_at', k.started_at, 'team_id', k.team_id,
                    'covered_m', k.covered_m, 'share', coalesce(k.share, 0),
                    'flags', k.flags, 'reason', k.reason, 'disqualified_by', k.hit_flags)
                  ORDER BY k.started_at, k.patrol_id)
                 FROM candidates k
                 WHERE k.joint_id = d.joint_id AND k.starts = d.starts), '[]') AS candidates
FROM duties d
JOIN ruled jp ON jp.id = d.joint_id
LEFT JOIN stretch st ON st.joint_id = d.joint_id
WHERE {after}
ORDER BY d.first_day, jp.name, d.joint_id
LIMIT :limit
"""
)
JOINT_DUTY_ORDER = Keyset(
    ("d.first_day", "jp.name", "d.joint_id"),
    ("first_day", "name", "joint_id"),
    ("day", "text", "int"),
)


def assess_joint(
    session: Session,
    *,
    scope: Scope,
    member_id: int | None,
    periods: Sequence[Period],
    selected: DutyFilter = DutyFilter(),
    now: datetime | None = None,
) -> list[JointDuty]:
    """Each visible joint pair's duty in each given period of its rule's kind."""
    return assess_joint_page(
        session,
        scope=scope,
        member_id=member_id,
        periods=periods,
        selected=selected,
        now=now,
        limit=None,
    ).items


def assess_joint_page(
    session: Session,
    *,
    scope: Scope,
    member_id: int | None,
    periods: Sequence[Period],
    selected: DutyFilter = DutyFilter(),
    now: datetime | None = None,
    limit: int | None,
    cursor: str | None = None,
) -> Page[JointDuty]:
    """A page of `assess_joint` (by period, pair name and id), cut inside the statement."""
    now = now or datetime.now(UTC)
    after = JOINT_DUTY_ORDER.after(cursor)
    if not periods:
        return Page([])
    rows = session.execute(
        statement(
            JOINT_DUTIES,
            visible=chief_visibility(scope, member_id=member_id),
            where=_where(selected),
            after=all_of(after),
        ),
        {**windows_params(periods), "limit": read_limit(limit)},
    ).all()
    page = JOINT_DUTY_ORDER.page(rows, limit)
    return Page(_joint_duties(page.items, now), page.next_cursor)


def _joint_duties(rows: Sequence[Any], now: datetime) -> list[JointDuty]:
    """The joint duties of the assessment's rows."""
    duties = []
    for row in rows:
        period = Period(row.first_day, row.last_day, DutyPeriod(row.kind))
        candidates = _candidates(row.candidates)
        done = sum(1 for candidate in candidates if candidate.counted)
        duties.append(
            JointDuty(
                joint_id=row.joint_id,
                name=row.name,
                zone_id=row.zone_id,
                chiefs=list(row.chiefs or []),
                segment_ids=list(row.segment_ids or []),
                stretch_m=float(row.stretch_m),
                period=period,
                required=row.rule_required,
                done=done,
                status=status_of(required=row.rule_required, done=done, period=period, now=now),
                candidates=candidates,
            )
        )
    return duties


def current_periods(day: date) -> list[Period]:
    """The period of every kind containing a local day (each chief is assessed in the one
    of their rule's kind)."""
    return [period_of(kind, day) for kind in DutyPeriod]


def trend_periods(day: date, count: int) -> list[Period]:
    """The last `count` periods of every kind up to the one containing `day`."""
    return [period for kind in DutyPeriod for period in recent_periods(kind, day, count)]
