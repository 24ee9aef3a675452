"""Overdue decisions in the daily digest (duty.digest): who hears of which.

A decision overdue on a day (not done, its deadline before that local day) is told to the
members named as its owners, the supervisors of each owning side and of the jurisdictions
above it (as the digest tells them of their chiefs), and the coordinators of its zone. The
digest does not know meetings: api/app.py and the CLI pass `overdue_section` in.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_patrol.core import catalog
from geo_patrol.core.catalog import LANGS
from geo_patrol.core.local_time import local_day
from geo_patrol.duty.digest import DigestItem, DigestSection
from geo_patrol.meetings.decisions import Decision, decisions_by_ids

CONCERNED = """
WITH RECURSIVE due AS (
    SELECT d.id AS decision_id, o.side_code, o.member_id, mt.zone_id
    FROM meeting_decisions d
    JOIN meetings mt ON mt.id = d.meeting_id
    JOIN decision_owners o ON o.decision_id = d.id
    WHERE d.status <> 'done' AND d.deadline < :day
),
up AS (
    SELECT decision_id, side_code AS code, 0 AS depth FROM due
    UNION
    SELECT up.decision_id, j.parent_code, up.depth + 1 FROM up
    JOIN jurisdictions j ON j.code = up.code AND j.valid_to IS NULL
    WHERE j.parent_code IS NOT NULL AND up.depth < 10
)
SELECT r.member_id, up.decision_id FROM up
JOIN member_roles r ON r.role = 'supervisor' AND r.jurisdiction_code = up.code
UNION
SELECT member_id, decision_id FROM due WHERE member_id IS NOT NULL
UNION
SELECT r.member_id, due.decision_id FROM due
JOIN member_roles r ON r.role = 'zone_coordinator' AND r.zone_id = due.zone_id
"""


def _item(decision: Decision, day: date) -> DigestItem:
    """A decision's line in each language, and its JSON."""
    late = (day - decision.deadline).days
    owners = ", ".join(
        f"{o.side_code} {o.member_name}" if o.member_name else o.side_code for o in decision.owners
    )
    words = {
        "body": decision.body,
        "meeting": decision.meeting_title,
        "held": local_day(decision.meeting_held_at),
        "owners": owners,
        "deadline": decision.deadline.isoformat(),
        "late": late,
    }
    return DigestItem(
        lines={lang: catalog.text("decisions.digest_line", lang, **words) for lang in LANGS},
        payload={
            "decision_id": decision.id,
            "meeting_id": decision.meeting_id,
            "zone_code": decision.zone_code,
            "body": decision.body,
            "deadline": decision.deadline.isoformat(),
            "days_late": late,
            "owners": [
                {"side_code": o.side_code, "member_id": o.member_id, "name": o.member_name}
                for o in decision.owners
            ],
        },
    )


def overdue_section(session: Session, day: date) -> DigestSection:
    """The digest's section of overdue decisions on `day`, for each member concerned."""
    pairs = session.execute(text(CONCERNED), {"day": day}).all()
    found = decisions_by_ids(session, ids=sorted({p.decision_id for p in pairs}), today=day)
    items = {d.id: _item(d, day) for d in found}
    order = {d.id: n for n, d in enumerate(found)}
    by_member: dict[int, list[DigestItem]] = {}
    for pair in sorted(pairs, key=lambda p: (p.member_id, order.get(p.decision_id, 0))):
        if pair.decision_id in items:
            by_member.setdefault(pair.member_id, []).append(items[pair.decision_id])
    return DigestSection(
        key="overdue_decisions",
        titles={lang: catalog.text("decisions.digest_title", lang) for lang in catalog.LANGS},
        items=by_member,
    )
