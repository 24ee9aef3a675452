"""The life of an incident: allowed transitions, tiers and escalation, verification by patrol.

reported -> assigned -> accepted -> in progress -> resolved -> verified -> closed, with
reopened and rejected (with a reason). Tiers follow the three-tier rule: village, town,
county. A case escalates when its tier's deadline passes, when it is reopened twice, or on
a supervisor's request; only the higher tier may send it back down. Every step is an
append-only event. A patrol whose track passes a resolved incident is evidence for its
verification: `verify_passed_incidents` is registered with `geo_patrol.patrols.after_track`,
so every computed patrol track comes here (patrols never import incidents).
"""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy import func, text, update
from sqlalchemy.orm import Session

from geo_patrol.access import audit
from geo_patrol.access.principal import Principal
from geo_patrol.access.scope import Scope
from geo_patrol.core.catalog import msg
from geo_patrol.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from geo_patrol.db.clauses import statement
from geo_patrol.db.tables import LEVEL_RANK, OPEN_STATUSES, TIERS, Incident
from geo_patrol.incidents.queries import is_open
from geo_patrol.incidents.reports import record_event
from geo_patrol.patrols.after_track import ComputedTrack, after_track

OPEN = OPEN_STATUSES

# action -> (states it may start from, state it leads to)
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "assign": (frozenset({"reported", "reopened"}), "assigned"),
    "accept": (frozenset({"assigned"}), "accepted"),
    "start": (frozenset({"accepted"}), "in_progress"),
    "resolve": (frozenset({"accepted", "in_progress"}), "resolved"),
    "verify": (frozenset({"resolved"}), "verified"),
    "close": (frozenset({"resolved", "verified"}), "closed"),
    "reopen": (frozenset({"resolved", "verified", "closed"}), "reopened"),
    "reject": (frozenset({"reported", "assigned", "reopened"}), "rejected"),
}

STATE = """
SELECT i.id, i.status, i.tier, i.category, i.is_joint, i.zone_id, i.unrouted, i.reopen_count,
       coalesce((SELECT array_agg(r.code) FROM incident_responsibles r
                 WHERE r.incident_id = i.id), '{}') AS codes
FROM incidents i
WHERE i.id = :id FOR UPDATE
"""

RETIER = """
UPDATE incidents i SET tier = :tier,
       deadline_at = now() + make_interval(secs => d.hours * 3600)
FROM tier_deadlines d WHERE i.id = :id AND d.category = i.category AND d.tier = :tier
"""


def incident_state(session: Session, incident_id: int) -> Any:
    """The incident's state, locked for the change."""
    row = session.execute(text(STATE), {"id": incident_id}).first()
    if row is None:
        raise NotFound(msg("problem.api.no_incident", incident_id=incident_id), field="incident_id")
    return row


def may_act(principal: Principal, scope: Scope, state: Any) -> bool:
    """Admins; supervisors of a responsible side; coordinators of a joint case's zone."""
    if principal.via == "device" or not principal.can_write:
        return False
    if scope.everything:
        return True
    if set(state.codes) & scope.writable_codes:
        return True
    return bool(
        state.is_joint and state.zone_id in scope.zones and "zone_coordinator" in principal.roles
    )


# What a supervisor can do to a case from its page: the workflow's actions, and a tier up or
# down on request.
TIER_STEPS = ("escalate", "deescalate")


def steps_open(
    session: Session, principal: Principal, scope: Scope, incident: dict[str, Any]
) -> list[str]:
    """The steps the workflow would let this principal take on an incident record (as
    get_incident reads it) in its current status and tier."""
    state = SimpleNamespace(
        codes=[r["code"] for r in incident["responsible"]],
        is_joint=incident["is_joint"],
        zone_id=incident["zone_id"],
    )
    if not may_act(principal, scope, state):
        return []
    steps = [
        action for action, (sources, _) in TRANSITIONS.items() if incident["status"] in sources
    ]
    if incident["status"] in OPEN:
        tier = TIERS.index(incident["tier"])
        steps += ["escalate"] if tier < len(TIERS) - 1 else []
        down = tier > 0 and _holds_tier(session, principal, incident["tier"])
        steps += ["deescalate"] if down else []
    return steps


def take_step(
    session: Session,
    *,
    incident_id: int,
    step: str,
    principal: Principal,
    scope: Scope,
    note: str | None,
    address: str | None,
) -> None:
    """One step from the incident page: a workflow action or a tier change."""
    if step in TIER_STEPS:
        change_tier(
            session,
            incident_id=incident_id,
            up=step == "escalate",
            principal=principal,
            scope=scope,
            note=note,
            address=address,
        )
    else:
        transition(
            session,
            incident_id=incident_id,
            action=step,
            principal=principal,
            scope=scope,
            note=note,
            address=address,
        )


def transition(
    session: Session,
    *,
    incident_id: int,
    action: str,
    principal: Principal,
    scope: Scope,
    note: str | None,
    address: str | None,
) -> str:
    """Apply one action; refuse it clearly when the current state does not allow it."""
    if action not in TRANSITIONS:
        raise InvalidInput(
            msg("problem.incidents.action_choice", actions=", ".join(TRANSITIONS)), field="action"
        )
    state = incident_state(session, incident_id)
    if not may_act(principal, scope, state):
        raise Forbidden(msg("problem.incidents.not_responsible"), field="incident_id")
    sources, target = TRANSITIONS[action]
    if state.status not in sources:
        raise Conflict(
            msg(
                "problem.incidents.transition_not_allowed",
                action=action,
                status=state.status,
                sources=", ".join(sorted(sources)),
            ),
            field="action",
        )
    if action == "reject" and not (note and note.strip()):
        raise InvalidInput(msg("problem.incidents.reject_needs_note"), field="note")
    _apply(session, incident_id, state, target, action)
    record_event(
        session,
        incident_id=incident_id,
        kind=action,
        principal=principal,
        from_status=state.status,
        to_status=target,
        note=note,
    )
    audit.record(
        session,
        action=f"incident.{action}",
        principal=principal,
        target=f"incident:{incident_id}",
        address=address,
    )
    if action == "reopen" and state.reopen_count + 1 >= 2:
        _change_tier(session, state, up=True, principal=None, note="reopened twice")
    return target


def _apply(session: Session, incident_id: int, state: Any, target: str, action: str) -> None:
    """Write the new status (and the resolution time, reopen count)."""
    session.execute(
        update(Incident)
        .where(Incident.id == incident_id)
        .values(
            status=target,
            resolved_at=func.clock_timestamp() if target == "resolved" else Incident.resolved_at,
            reopen_count=Incident.reopen_count + (1 if action == "reopen" else 0),
        )
    )


def change_tier(
    session: Session,
    *,
    incident_id: int,
    up: bool,
    principal: Principal,
    scope: Scope,
    note: str | None,
    address: str | None,
) -> str:
    """Escalate on request, or de-escalate (only a supervisor at the current tier or above)."""
    state = incident_state(session, incident_id)
    if not may_act(principal, scope, state):
        raise Forbidden(msg("problem.incidents.not_responsible"), field="incident_id")
    if state.status not in OPEN:
        raise Conflict(msg("problem.incidents.tier_kept", status=state.status), field="tier")
    if not up and not _holds_tier(session, principal, state.tier):
        raise Forbidden(msg("problem.incidents.send_down_tier", tier=state.tier), field="tier")
    tier = _change_tier(session, state, up=up, principal=principal, note=note)
    action = "incident.escalate" if up else "incident.deescalate"
    audit.record(
        session,
        action=action,
        principal=principal,
        target=f"incident:{incident_id}",
        address=address,
    )
    return tier


def _holds_tier(session: Session, principal: Principal, tier: str) -> bool:
    """Whether one of the principal's supervisor grants sits at `tier` level or higher."""
    if principal.is_admin:
        return True
    codes = [g.jurisdiction_code for g in principal.grants if g.role == "supervisor"]
    levels = session.execute(
        text("SELECT level FROM jurisdictions WHERE code = ANY(:codes) AND valid_to IS NULL"),
        {"codes": codes},
    ).scalars()
    return any(LEVEL_RANK[level] <= LEVEL_RANK[tier] for level in levels)


def _change_tier(
    session: Session, state: Any, *, up: bool, principal: Principal | None, note: str | None
) -> str:
    """Move one tier up or down, reset the deadline, record the step."""
    index = TIERS.index(state.tier) + (1 if up else -1)
    if not 0 <= index < len(TIERS):
        raise Conflict(msg("problem.incidents.already_at_tier", tier=state.tier), field="tier")
    tier = TIERS[index]
    session.execute(text(RETIER), {"id": state.id, "tier": tier})
    record_event(
        session,
        incident_id=state.id,
        kind="escalated" if up else "deescalated",
        principal=principal,
        from_tier=state.tier,
        to_tier=tier,
        note=note,
    )
    return tier


ESCALATE_OVERDUE = """
WITH due AS (
    SELECT id, tier, CASE tier WHEN 'village' THEN 'town' ELSE 'county' END AS next_tier
    FROM incidents
    WHERE {open}
      AND deadline_at < :now AND tier <> 'county' AND NOT unrouted
    FOR UPDATE
),
moved AS (
    UPDATE incidents i SET tier = due.next_tier,
           deadline_at = :now + make_interval(secs => d.hours * 3600)
    FROM due JOIN tier_deadlines d ON d.tier = due.next_tier
    WHERE i.id = due.id AND d.category = i.category
    RETURNING i.id, due.tier AS from_tier, due.next_tier AS to_tier
)
INSERT INTO incident_events (incident_id, kind, actor, from_tier, to_tier, note)
SELECT id, 'escalated', 'system', from_tier, to_tier, 'deadline passed' FROM moved
RETURNING incident_id
"""


def escalate_overdue(session: Session, *, now: datetime | None = None) -> int:
    """Escalate every open case whose tier's deadline has passed; returns how many."""
    sql = statement(ESCALATE_OVERDUE, open=is_open("status"))
    moved = session.execute(sql, {"now": now or datetime.now(UTC)})
    return len(moved.all())


# Resolved incidents the patrol passed within `distance_m` of after their resolution: the
# track pieces near each incident (an index probe with a box of `distance_m` and a tenth, in
# degrees at the incident's latitude), then the pieces' fixes (time as M) that were close
# enough and late enough; the first such time and the closest distance.
VERIFY_FROM_PATROL = """
WITH near AS (
    SELECT i.id, i.geom AS at, i.resolved_at, pc.geom AS piece
    FROM incidents i
    JOIN {pieces} pc
      ON pc.geom && ST_Expand(i.geom, :distance_m * 1.1 / (111320 * cos(radians(ST_Y(i.geom)))),
                              :distance_m * 1.1 / 110574)
     AND ST_DWithin(ST_Force2D(pc.geom)::geography, i.geom::geography, :distance_m)
    WHERE i.status IN ('resolved', 'verified', 'closed') AND i.resolved_at IS NOT NULL
),
fixes AS (
    SELECT n.id, n.at, n.resolved_at, ST_Force2D(d.geom) AS geom,
           CASE WHEN ST_M(d.geom) <> 'NaN' THEN to_timestamp(ST_M(d.geom)) END AS time
    FROM near n CROSS JOIN LATERAL ST_DumpPoints(n.piece) AS d
),
hits AS (
    SELECT id, min(time) AS passed_at,
           min(ST_Distance(geom::geography, at::geography)) AS distance_m
    FROM fixes
    WHERE time > resolved_at AND ST_DWithin(geom::geography, at::geography, :distance_m)
    GROUP BY id
),
added AS (
    INSERT INTO incident_verifications (incident_id, patrol_id, passed_at, distance_m)
    SELECT id, :patrol_id, passed_at, distance_m FROM hits
    ON CONFLICT DO NOTHING
    RETURNING incident_id, passed_at, distance_m
)
INSERT INTO incident_events (incident_id, kind, actor, note)
SELECT incident_id, 'patrol_evidence', 'system',
       format('patrol %s passed %s m away at %s', :patrol_id, round(distance_m::numeric, 1),
              passed_at)
FROM added
RETURNING incident_id
"""


def verify_from_patrol(session: Session, *, patrol_id: int, pieces: str, distance_m: float) -> int:
    """Record a patrol passing resolved incidents after their resolution, from its track
    pieces (the table `pieces` made by `store_track_pieces`); returns how many."""
    found = session.execute(
        text(VERIFY_FROM_PATROL.format(pieces=pieces)),
        {"patrol_id": patrol_id, "distance_m": distance_m},
    )
    return len(found.all())


@after_track
def verify_passed_incidents(session: Session, track: ComputedTrack) -> int:
    """Every computed patrol track: record the resolved incidents it passed (registered with
    `geo_patrol.patrols.after_track`, which `finish_patrol` runs); returns how many."""
    return verify_from_patrol(
        session,
        patrol_id=track.patrol_id,
        pieces=track.pieces,
        distance_m=track.settings.verification_distance_m,
    )
