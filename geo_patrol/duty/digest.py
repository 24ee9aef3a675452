"""The daily digest (每日提醒): every supervisor concerned hears which chiefs are due soon.

The chiefs are duty.reminders.due_soon over everything (the administrator's scope). Those
concerned by a chief are the supervisors whose jurisdiction subtree holds the chief's side
(the village's town, its county...) and, for a chief in a joint pair, the coordinators of
the pair's zone. Each gets one digest listing their chiefs, in Chinese with English below,
over each configured channel (duty.digest_channels); with none configured nothing happens.

Other domains add sections (the overdue decisions of joint meetings): the caller passes
`extras`, functions giving a `DigestSection` of lines per member for the day, since this
layer does not know them. A member with only such lines gets a digest too.

Exactly once: a round runs under a transaction-level advisory lock, so one node at a time
sends; and each digest first claims its row of `duty_digests` (unique per local day,
recipient and channel) with FOR UPDATE SKIP LOCKED, so a row sent is never sent again. A
failed send is tried again on a later round after `digest_retry_minutes`, at most
`digest_max_attempts` times. The claim and the outcome commit together with the caller's
transaction: a process killed between a send and its commit sends that digest again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_patrol.access.scope import Scope
from geo_patrol.core import catalog
from geo_patrol.core.local_time import LOCAL
from geo_patrol.core.settings import Settings
from geo_patrol.duty.digest_channels import Channel, DeliveryFailed, Letter, channels_of
from geo_patrol.duty.periods import local_date
from geo_patrol.duty.reminders import Reminder, due_soon

log = logging.getLogger(__name__)

# pg_try_advisory_xact_lock key of the digest round ("gpdigest" as eight bytes).
LOCK_KEY = int.from_bytes(b"gpdigest", "big") & 0x7FFF_FFFF_FFFF_FFFF

# Members concerned by each appointment due: supervisors of the side or any jurisdiction
# above it, and coordinators of the zone of the appointment's joint pair.
RECIPIENTS = """
WITH RECURSIVE due AS (
    SELECT * FROM unnest(CAST(:ids AS int[]), CAST(:sides AS text[])) AS d(appointment_id, side)
),
up AS (
    SELECT appointment_id, side AS code, 0 AS depth FROM due
    UNION
    SELECT up.appointment_id, j.parent_code, up.depth + 1 FROM up
    JOIN jurisdictions j ON j.code = up.code AND j.valid_to IS NULL
    WHERE j.parent_code IS NOT NULL AND up.depth < 10
),
concerned AS (
    SELECT up.appointment_id, r.member_id FROM up
    JOIN member_roles r ON r.role = 'supervisor' AND r.jurisdiction_code = up.code
    UNION
    SELECT a.id, r.member_id FROM chief_appointments a
    JOIN joint_appointments jp ON jp.id = a.joint_id
    JOIN member_roles r ON r.role = 'zone_coordinator' AND r.zone_id = jp.zone_id
    WHERE a.id IN (SELECT appointment_id FROM due)
)
SELECT m.id AS member_id, m.name, m.login, m.email, m.phone,
       array_agg(DISTINCT c.appointment_id) AS appointment_ids
FROM concerned c JOIN members m ON m.id = c.member_id AND m.is_active
GROUP BY m.id ORDER BY m.id
"""

CLAIM = """
INSERT INTO duty_digests (day, member_id, channel, status, chiefs)
SELECT :day, member_id, :channel, 'pending', chiefs
FROM unnest(CAST(:members AS int[]), CAST(:chiefs AS int[])) AS d(member_id, chiefs)
ON CONFLICT (day, member_id, channel) DO NOTHING
"""
CLAIMABLE = """
SELECT member_id, attempts FROM duty_digests
WHERE day = :day AND channel = :channel AND member_id = ANY(:members)
  AND status IN ('pending', 'failed') AND attempts < :max_attempts
  AND (last_attempt_at IS NULL OR last_attempt_at <= :retry_before)
FOR UPDATE SKIP LOCKED
"""
RECORD = """
UPDATE duty_digests SET status = :status, attempts = attempts + :tried, chiefs = :chiefs,
       last_attempt_at = coalesce(CAST(:attempt_at AS timestamptz), last_attempt_at),
       sent_at = :sent_at, error = :error
WHERE day = :day AND member_id = :member_id AND channel = :channel
"""
NEXT_TRY = """
SELECT min(last_attempt_at) FROM duty_digests
WHERE day = :day AND member_id = ANY(:members) AND status IN ('pending', 'failed')
  AND attempts < :max_attempts
"""


@dataclass(frozen=True)
class Recipient:
    """A supervisor or zone coordinator who gets a digest."""

    member_id: int
    name: str
    login: str | None
    email: str | None
    phone: str | None


@dataclass(frozen=True)
class DigestItem:
    """A line of another domain's section: its words in each language and its JSON."""

    lines: Mapping[str, str]
    payload: Mapping[str, Any]


@dataclass(frozen=True)
class DigestSection:
    """Another domain's section of the day's digests: its key in the webhook's JSON, its
    title in each language, and each member's items."""

    key: str
    titles: Mapping[str, str]
    items: Mapping[int, Sequence[DigestItem]]


# A section's maker, given by the caller (api/app.py, the CLI): (session, day) -> section.
SectionMaker = Callable[[Session, date], DigestSection]

MEMBERS = """
SELECT id AS member_id, name, login, email, phone FROM members
WHERE id = ANY(:ids) AND is_active ORDER BY id
"""


@dataclass(frozen=True)
class Digest:
    """One recipient's digest of one local day: the chiefs due soon they are concerned by,
    and their items of the other sections."""

    day: date
    recipient: Recipient
    reminders: list[Reminder]
    sections: list[tuple[DigestSection, list[DigestItem]]] = field(default_factory=list)

    @property
    def subject(self) -> str:
        """The e-mail subject, Chinese then English."""
        day = self.day.isoformat()
        return f"{catalog.text('digest.subject', 'zh', day=day)} · " + catalog.text(
            "digest.subject", "en", day=day
        )

    @property
    def text(self) -> str:
        """The body: the list in Chinese, then the same in English."""
        return "\n\n".join(self._text(lang) for lang in catalog.LANGS) + "\n"

    def _text(self, lang: str) -> str:
        """The body in one language."""
        name = self.recipient.name
        greeting = (
            catalog.text("digest.greeting", lang, name=name, count=len(self.reminders))
            if self.reminders
            else catalog.text("digest.greeting_sections", lang, name=name)
        )
        lines = [_line(reminder, lang) for reminder in self.reminders]
        for section, items in self.sections:
            lines += ["", section.titles[lang], *("- " + item.lines[lang] for item in items)]
        return "\n".join([greeting, "", *lines, "", catalog.text("digest.footer", lang)])

    @property
    def letter(self) -> Letter:
        """What the channels send."""
        who = self.recipient
        return Letter(who.name, who.email, self.subject, self.text, self.payload())

    def payload(self) -> dict[str, Any]:
        """The digest as the webhook's JSON."""
        who = self.recipient
        return {
            "type": "geo-patrol.duty-digest",
            "day": self.day.isoformat(),
            "recipient": {
                "member_id": who.member_id,
                "name": who.name,
                "login": who.login,
                "email": who.email,
                "phone": who.phone,
            },
            "subject": self.subject,
            "text": self.text,
            "chiefs": [_chief(reminder) for reminder in self.reminders],
            **{
                section.key: [dict(item.payload) for item in items]
                for section, items in self.sections
            },
        }


def _line(reminder: Reminder, lang: str) -> str:
    """One chief's line: name, level, side, river, done/required, due date, days left."""
    duty = reminder.duty
    left = (
        catalog.text("digest.days_left", lang, days=reminder.days_left)
        if reminder.days_left
        else catalog.text("digest.due_today", lang)
    )
    return "- " + catalog.text(
        "digest.line",
        lang,
        chief=duty.member_name,
        level=catalog.text(f"digest.level_{duty.level}", lang),
        side=duty.side_name or duty.side_code,
        river=duty.river_name,
        done=duty.done,
        required=duty.required,
        due=duty.due.isoformat(),
        left=left,
    )


def _chief(reminder: Reminder) -> dict[str, Any]:
    """One chief of the webhook's JSON."""
    duty = reminder.duty
    return {
        "appointment_id": duty.appointment_id,
        "member_id": duty.member_id,
        "name": duty.member_name,
        "level": str(duty.level),
        "side_code": duty.side_code,
        "side_name": duty.side_name,
        "river_code": duty.river_code,
        "river_name": duty.river_name,
        "stretch_label": duty.stretch_label,
        "period": str(duty.period.kind),
        "period_first": duty.period.first.isoformat(),
        "due": duty.due.isoformat(),
        "days_left": reminder.days_left,
        "done": duty.done,
        "required": duty.required,
    }


def compose_digests(
    session: Session,
    *,
    reminders: Sequence[Reminder],
    day: date,
    sections: Sequence[DigestSection] = (),
) -> list[Digest]:
    """One digest per member concerned by any of the reminders (their chiefs in order) or
    named in a section (their items)."""
    chiefs: dict[int, list[Reminder]] = {}
    people: dict[int, Recipient] = {}
    if reminders:
        rows = session.execute(
            text(RECIPIENTS),
            {
                "ids": [r.duty.appointment_id for r in reminders],
                "sides": [r.duty.side_code for r in reminders],
            },
        )
        for row in rows:
            mine = set(row.appointment_ids)
            people[row.member_id] = Recipient(
                row.member_id, row.name, row.login, row.email, row.phone
            )
            chiefs[row.member_id] = [r for r in reminders if r.duty.appointment_id in mine]
    others = sorted({m for s in sections for m in s.items if s.items[m]} - set(people))
    if others:
        for row in session.execute(text(MEMBERS), {"ids": others}):
            people[row.member_id] = Recipient(
                row.member_id, row.name, row.login, row.email, row.phone
            )
    return [
        Digest(
            day=day,
            recipient=people[member],
            reminders=chiefs.get(member, []),
            sections=[(s, list(s.items[member])) for s in sections if s.items.get(member)],
        )
        for member in sorted(people)
    ]


@dataclass(frozen=True)
class Outcome:
    """What became of one digest over one channel."""

    member_id: int
    name: str
    channel: str
    status: str  # sent, failed, skipped (no address), would_send (dry run)
    chiefs: int
    error: str | None = None


@dataclass
class DigestRun:
    """One round: the digests of the day and what was sent (nothing when `locked_out`)."""

    day: date
    channels: list[str]
    digests: list[Digest] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)
    locked_out: bool = False
    retry_at: datetime | None = None

    def count(self, status: str) -> int:
        """How many outcomes have this status."""
        return sum(1 for outcome in self.outcomes if outcome.status == status)


def digests_due(
    session: Session,
    *,
    settings: Settings,
    day: date,
    now: datetime,
    extras: Sequence[SectionMaker] = (),
) -> list[Digest]:
    """The day's digests, as due_soon sees the chiefs that day, with the extra sections."""
    reminders = due_soon(
        session,
        scope=Scope(everything=True),
        member_id=None,
        within_days=settings.digest_within_days,
        today=day,
        now=now if day == local_date(now) else None,
    )
    sections = [make(session, day) for make in extras]
    return compose_digests(session, reminders=reminders, day=day, sections=sections)


def send_due_digests(
    session: Session,
    *,
    settings: Settings,
    now: datetime,
    day: date | None = None,
    dry_run: bool = False,
    channels: Sequence[Channel] | None = None,
    extras: Sequence[SectionMaker] = (),
) -> DigestRun:
    """Send the digests of `day` (default: today, once the local digest hour has come) over
    the configured channels, with the `extras` sections; the caller commits. A dry run
    computes them and sends nothing."""
    channels = list(channels_of(settings) if channels is None else channels)
    local = now.astimezone(LOCAL)
    run = DigestRun(day=day or local.date(), channels=[c.name for c in channels])
    if not dry_run and (not channels or (day is None and local.hour < settings.digest_hour)):
        return run
    if not dry_run and not _take_lock(session):
        log.debug("digest %s: another node is sending", run.day)
        run.locked_out = True
        return run
    run.digests = digests_due(session, settings=settings, day=run.day, now=now, extras=extras)
    for channel in channels:
        if dry_run:
            run.outcomes += [_would_send(channel, digest) for digest in run.digests]
        else:
            sent = _send_over(session, settings=settings, channel=channel, run=run, now=now)
            run.outcomes += sent
    if not dry_run:
        run.retry_at = _next_try(session, settings=settings, run=run)
        _summary(run)
    return run


def _take_lock(session: Session) -> bool:
    """The round's lock, held until the transaction ends; False when another node has it."""
    taken = session.execute(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
    return bool(taken.scalar_one())


def _would_send(channel: Channel, digest: Digest) -> Outcome:
    """A dry run's outcome."""
    status = "would_send" if channel.reaches(digest.letter) else "skipped"
    who = digest.recipient
    return Outcome(who.member_id, who.name, channel.name, status, len(digest.reminders))


def _claim(
    session: Session, *, settings: Settings, channel: Channel, run: DigestRun, now: datetime
) -> dict[int, int]:
    """Claim the day's rows of this channel that are to be tried now: member -> attempts."""
    members = [digest.recipient.member_id for digest in run.digests]
    session.execute(
        text(CLAIM),
        {
            "day": run.day,
            "channel": channel.name,
            "members": members,
            "chiefs": [len(digest.reminders) for digest in run.digests],
        },
    )
    rows = session.execute(
        text(CLAIMABLE),
        {
            "day": run.day,
            "channel": channel.name,
            "members": members,
            "max_attempts": settings.digest_max_attempts,
            "retry_before": now - timedelta(minutes=settings.digest_retry_minutes),
        },
    )
    return {row.member_id: row.attempts for row in rows}


def _send_over(
    session: Session, *, settings: Settings, channel: Channel, run: DigestRun, now: datetime
) -> list[Outcome]:
    """Send each claimed digest over one channel and record how it went."""
    if not run.digests:
        return []
    claimed = _claim(session, settings=settings, channel=channel, run=run, now=now)
    outcomes = []
    for digest in run.digests:
        attempts = claimed.get(digest.recipient.member_id)
        if attempts is None:
            continue  # sent already, given up, waiting for its retry, or another node's
        outcome = _deliver(channel, digest)
        session.execute(
            text(RECORD),
            {
                "status": outcome.status,
                "tried": 0 if outcome.status == "skipped" else 1,
                "chiefs": outcome.chiefs,
                "attempt_at": None if outcome.status == "skipped" else now,
                "sent_at": now if outcome.status == "sent" else None,
                "error": outcome.error,
                "day": run.day,
                "member_id": outcome.member_id,
                "channel": channel.name,
            },
        )
        _log(run.day, outcome, attempt=attempts + 1, settings=settings)
        outcomes.append(outcome)
    return outcomes


def _deliver(channel: Channel, digest: Digest) -> Outcome:
    """Send one digest; its outcome."""
    who, chiefs = digest.recipient, len(digest.reminders)
    letter = digest.letter
    if not channel.reaches(letter):
        return Outcome(who.member_id, who.name, channel.name, "skipped", chiefs, "no address")
    try:
        channel.send(letter)
    except DeliveryFailed as error:
        return Outcome(who.member_id, who.name, channel.name, "failed", chiefs, str(error))
    return Outcome(who.member_id, who.name, channel.name, "sent", chiefs)


def _log(day: date, outcome: Outcome, *, attempt: int, settings: Settings) -> None:
    """The line an operator reads: who, which channel, how it went and why."""
    who = f"{outcome.name} (member {outcome.member_id})"
    if outcome.status == "sent":
        log.info(
            "digest %s: sent to %s by %s (chiefs: %d)", day, who, outcome.channel, outcome.chiefs
        )
    elif outcome.status == "skipped":
        log.info("digest %s: %s has no address for %s; nothing sent", day, who, outcome.channel)
    elif attempt < settings.digest_max_attempts:
        log.warning(
            "digest %s: failed to send to %s by %s (attempt %d of %d, again in %g min): %s",
            day,
            who,
            outcome.channel,
            attempt,
            settings.digest_max_attempts,
            settings.digest_retry_minutes,
            outcome.error,
        )
    else:
        log.error(
            "digest %s: failed to send to %s by %s; gave up after %d attempts: %s",
            day,
            who,
            outcome.channel,
            attempt,
            outcome.error,
        )


def _next_try(session: Session, *, settings: Settings, run: DigestRun) -> datetime | None:
    """When a failed digest of the day may be tried again (None: nothing left to try)."""
    earliest = session.execute(
        text(NEXT_TRY),
        {
            "day": run.day,
            "members": [digest.recipient.member_id for digest in run.digests],
            "max_attempts": settings.digest_max_attempts,
        },
    ).scalar()
    if earliest is None:
        return None
    return earliest + timedelta(minutes=settings.digest_retry_minutes)  # type: ignore[no-any-return]


def _summary(run: DigestRun) -> None:
    """One line per round that did something."""
    if run.outcomes:
        log.info(
            "digest %s: %d sent, %d failed, %d without an address (%d recipients, channels %s)",
            run.day,
            run.count("sent"),
            run.count("failed"),
            run.count("skipped"),
            len(run.digests),
            ", ".join(run.channels),
        )


class DigestRounds:
    """When a process's maintenance runs a round: from the digest hour, until the day's
    digests are all sent (or given up); after a failure, once its retry is due."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.done_day: date | None = None
        self.next_at: datetime | None = None

    def due(self, now: datetime) -> bool:
        """True when a round should run now."""
        local = now.astimezone(LOCAL)
        if not channels_of(self.settings) or local.hour < self.settings.digest_hour:
            return False
        if self.done_day == local.date():
            return False
        return self.next_at is None or now >= self.next_at

    def ran(self, run: DigestRun, now: datetime) -> None:
        """Note a round's end: rest until tomorrow, the next retry, or another node's end."""
        if run.locked_out:
            self.next_at = now + timedelta(minutes=1)
        elif run.retry_at is not None:
            self.next_at = max(run.retry_at, now)
        else:
            self.done_day, self.next_at = run.day, None
