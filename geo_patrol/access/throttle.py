"""Sign-in throttling: growing delays instead of a lock-out, and browsers known to be good.

A hard lock after N failures lets anybody lock anybody out: five wrong passwords for a known
login, or twenty from an office's shared address. Instead, past a few free failures each
further attempt must wait, and the wait doubles with every failure (1 s, 2 s, 4 s ... up to
a ceiling), separately for the account and for the address. Guessing stays slow, and the
real person at worst waits the ceiling, never a lock.

A browser its member signed in with before holds a long-lived random cookie (stored hashed,
bound to that member). Its sign-in to that account ignores the account's and the address's
delays and counts only its own failures, so a stranger's failures never slow it down.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, text, update
from sqlalchemy.orm import Session

from geo_patrol.access.secrets import new_token, token_hash
from geo_patrol.core.settings import Settings
from geo_patrol.db.tables import KnownBrowser

KNOWN_PREFIX = "gpk_"
KNOWN_PER_MEMBER = 20  # the newest browsers of a member stay known; scripts churn no table

# Failures of the login since its last success, of the address, and of the known browser,
# within the window, with the latest of each. One statement over the audit log; "now" is the
# transaction's time, as the audit log's own.
FAILURES = """
WITH recent AS (
    SELECT actor, address, target, outcome, at FROM audit_log
    WHERE action = 'login' AND at > now() - make_interval(secs => :window)
      AND (actor = :actor OR address = :address OR target = :known)
), success AS (
    SELECT max(at) AS at FROM recent WHERE outcome = 'ok' AND actor = :actor
)
SELECT
    count(*) FILTER (WHERE r.outcome = 'failed' AND r.actor = :actor
                     AND r.at >= coalesce(s.at, '-infinity')) AS account_failures,
    max(r.at) FILTER (WHERE r.outcome = 'failed' AND r.actor = :actor) AS account_last,
    count(*) FILTER (WHERE r.outcome = 'failed' AND r.address = :address) AS address_failures,
    max(r.at) FILTER (WHERE r.outcome = 'failed' AND r.address = :address) AS address_last,
    count(*) FILTER (WHERE r.outcome = 'failed' AND r.target = :known
                     AND r.at >= coalesce(s.at, '-infinity')) AS known_failures,
    max(r.at) FILTER (WHERE r.outcome = 'failed' AND r.target = :known) AS known_last,
    EXISTS (SELECT 1 FROM audit_log a WHERE a.action = 'login' AND a.outcome = 'ok'
            AND a.address = :address AND a.actor = :actor
            AND a.at > now() - make_interval(days => :days)) AS signed_in_here,
    now() AS now
FROM success s LEFT JOIN recent r ON TRUE
"""

KNOWN = """
SELECT k.id FROM known_browsers k JOIN members m ON m.id = k.member_id
WHERE k.token_hash = :hash AND m.login = :login AND m.is_active
  AND k.created_at > now() - make_interval(days => :days)
"""

# A member's known browsers beyond the newest few are forgotten (each sign-in without the
# cookie, a script's for instance, adds one).
FORGET = """
DELETE FROM known_browsers WHERE member_id = :member_id AND id NOT IN (
    SELECT id FROM known_browsers WHERE member_id = :member_id ORDER BY id DESC LIMIT :keep)
"""


@dataclass(frozen=True)
class Attempt:
    """Who tries to sign in, from where, with which known-browser cookie (if any)."""

    login: str
    address: str | None
    known_cookie: str | None = None


def delay_seconds(failures: int, *, free: int, ceiling: float) -> float:
    """The wait after `failures` failures: none for the first `free`, then 1 s doubling."""
    if failures < free:
        return 0.0
    return min(ceiling, 2.0 ** min(failures - free, 62))


def known_browser(session: Session, *, attempt: Attempt, settings: Settings) -> int | None:
    """The id of a valid known-browser cookie of this login, else None."""
    if not attempt.known_cookie or not attempt.known_cookie.startswith(KNOWN_PREFIX):
        return None
    found = session.execute(
        text(KNOWN),
        {
            "hash": token_hash(attempt.known_cookie),
            "login": attempt.login,
            "days": settings.known_browser_days,
        },
    ).scalar()
    return None if found is None else int(found)


def wait_seconds(
    session: Session, *, attempt: Attempt, known_id: int | None, settings: Settings
) -> int:
    """Seconds this attempt must still wait (0: it may go ahead).

    Attempts on one login are serialised (a transaction-scoped advisory lock), so parallel
    guesses cannot all slip through before the first failure is written. A known browser
    waits only for its own failures; a login that signed in from this address before
    ignores the address's failures (not its account's).
    """
    session.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
        {"key": f"login:{attempt.login}"},
    )
    row = session.execute(
        text(FAILURES),
        {
            "window": settings.login_window_minutes * 60,
            "actor": attempt.login,
            "address": attempt.address,
            "known": known_target(known_id),
            "days": settings.known_browser_days,
        },
    ).one()
    ceiling = settings.login_delay_max_seconds
    free_account = settings.login_failures_per_account
    if known_id is not None:
        waits = [(row.known_failures, row.known_last, free_account)]
    else:
        waits = [(row.account_failures, row.account_last, free_account)]
        # A login that signed in from this address before (a script, no cookie) is not slowed
        # down by others' failures from the same address; its own account still counts.
        if not row.signed_in_here:
            free_address = settings.login_failures_per_address
            waits.append((row.address_failures, row.address_last, free_address))
    now: datetime = row.now
    longest = 0.0
    for failures, last, free in waits:
        if last is None:
            continue
        until = last + timedelta(seconds=delay_seconds(failures, free=free, ceiling=ceiling))
        longest = max(longest, (until - now).total_seconds())
    return math.ceil(longest)


def known_target(known_id: int | None) -> str | None:
    """How the audit log names a known browser (failures through it count for it alone)."""
    return None if known_id is None else f"known_browser:{known_id}"


def remember_browser(session: Session, *, member_id: int, known_id: int | None) -> str | None:
    """A new known-browser cookie value for the member (None when the browser is known)."""
    if known_id is not None:
        session.execute(
            update(KnownBrowser)
            .where(KnownBrowser.id == known_id)
            .values(last_used_at=datetime.now(UTC))
        )
        return None
    cookie = new_token(KNOWN_PREFIX)
    session.execute(insert(KnownBrowser).values(member_id=member_id, token_hash=token_hash(cookie)))
    session.execute(text(FORGET), {"member_id": member_id, "keep": KNOWN_PER_MEMBER})
    return cookie
