"""The months of raw fixes: made ahead, listed, and retired whole.

`patrol_points` is partitioned by RANGE of `patrol_day`, the local day its patrol was made
(migration 0020, docs/partitioning.md), one partition a month named `patrol_points_YYYY_MM`
and `patrol_points_default` for a day no month was made for. The maintenance makes the
coming months (`ensure_ahead`) and, when raw fixes are kept for a limited time
(GEO_PATROL_RAW_FIX_MONTHS), drops the months past it (`retire`): a DROP of a table, not a
DELETE of millions of rows and the vacuum after it. What was computed from the fixes stays:
the patrols' cleaned tracks, their attribution, coverage and every duty figure.

A month is made as a table of its own, filled with the rows the default partition holds for
it (if a day outside the made months was ever stored), then attached: ATTACH takes a lock
that lets reads and writes of the other months go on, where CREATE ... PARTITION OF would
stop them. Every statement waits for its locks at most `LOCK_WAIT` and fails otherwise (the
next maintenance round tries again).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date

from sqlalchemy import text
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

PARENT = "patrol_points"
DEFAULT = "patrol_points_default"
LOCK_WAIT = "5s"

# The monthly partitions of patrol_points with their first day, estimated rows and bytes.
MONTHS = """
SELECT c.relname AS name,
       substring(pg_get_expr(c.relpartbound, c.oid) FROM 'FROM \\(''([0-9-]+)''\\)') AS first,
       greatest(c.reltuples, 0)::bigint AS rows,
       pg_total_relation_size(c.oid) AS bytes
FROM pg_inherits i
JOIN pg_class c ON c.oid = i.inhrelid
WHERE i.inhparent = 'patrol_points'::regclass
ORDER BY first NULLS LAST
"""

MAKE = """
CREATE TABLE {name} (LIKE patrol_points INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
ALTER TABLE {name} ADD CONSTRAINT {name}_day
    CHECK (patrol_day >= DATE '{first}' AND patrol_day < DATE '{end}');
WITH moved AS (
    DELETE FROM patrol_points_default
    WHERE patrol_day >= DATE '{first}' AND patrol_day < DATE '{end}'
    RETURNING *
)
INSERT INTO {name} SELECT * FROM moved;
ALTER TABLE patrol_points ATTACH PARTITION {name}
    FOR VALUES FROM ('{first}') TO ('{end}');
ALTER TABLE {name} DROP CONSTRAINT {name}_day
"""

RETIRE_DEFAULT = "DELETE FROM patrol_points_default WHERE patrol_day < :cutoff"


@dataclass(frozen=True)
class PartitionMonth:
    """One month of raw fixes (first_day None: the default partition)."""

    name: str
    first_day: date | None
    rows: int
    bytes: int


@dataclass(frozen=True)
class Retired:
    """What a retention run removed: whole months, and rows of the default partition."""

    cutoff: date
    dropped: tuple[str, ...]
    default_rows: int


def month_start(day: date) -> date:
    """The first day of `day`'s month."""
    return day.replace(day=1)


def add_months(first: date, months: int) -> date:
    """The first day of the month `months` after (or before) `first`'s."""
    index = first.year * 12 + first.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def month_name(first: date) -> str:
    """The partition of the month of `first`: patrol_points_2026_12."""
    return f"{PARENT}_{first.year:04d}_{first.month:02d}"


def months(session: Session) -> list[PartitionMonth]:
    """The partitions of patrol_points, oldest month first, the default last."""
    return [
        PartitionMonth(
            name=row.name,
            first_day=date.fromisoformat(row.first) if row.first else None,
            rows=int(row.rows),
            bytes=int(row.bytes),
        )
        for row in session.execute(text(MONTHS))
    ]


def ensure_months(session: Session, *, first: date, last: date) -> list[str]:
    """Make the missing monthly partitions covering `first`..`last`; the names made."""
    have = {month.first_day for month in months(session)}
    made: list[str] = []
    month = month_start(first)
    while month <= last:
        if month not in have:
            _make_month(session, month)
            made.append(month_name(month))
        month = add_months(month, 1)
    if made:
        log.info("raw fixes: made the partitions %s", ", ".join(made))
    return made


def ensure_ahead(session: Session, *, today: date, ahead: int) -> list[str]:
    """Make this month's partition and the `ahead` after it, when missing."""
    start = month_start(today)
    return ensure_months(session, first=start, last=add_months(start, ahead))


def retire(session: Session, *, keep_months: int, today: date) -> Retired:
    """Drop the months of raw fixes before the `keep_months` before today's month, and delete
    the older rows of the default partition. Patrols and what was computed from them stay."""
    if keep_months < 0:
        raise ValueError("keep_months must be 0 or more")
    cutoff = add_months(month_start(today), -keep_months)
    _wait_briefly(session)
    dropped = []
    for month in months(session):
        if month.first_day is not None and add_months(month.first_day, 1) <= cutoff:
            session.execute(text(f"ALTER TABLE {PARENT} DETACH PARTITION {month.name}"))
            session.execute(text(f"DROP TABLE {month.name}"))
            dropped.append(month.name)
    deleted = session.execute(text(RETIRE_DEFAULT), {"cutoff": cutoff}).rowcount  # type: ignore[attr-defined]
    if dropped or deleted:
        log.info(
            "raw fixes before %s retired: partitions %s dropped, %d rows of the default deleted",
            cutoff,
            ", ".join(dropped) or "none",
            deleted,
        )
    return Retired(cutoff=cutoff, dropped=tuple(dropped), default_rows=int(deleted or 0))


def _make_month(session: Session, first: date) -> None:
    """One month's partition, with the default partition's rows of that month moved in."""
    _wait_briefly(session)
    name = month_name(first)
    end = add_months(first, 1)
    for statement in MAKE.format(name=name, first=first, end=end).split(";\n"):
        session.execute(text(statement))


def _wait_briefly(session: Session) -> None:
    """Lock waits of this transaction end after LOCK_WAIT (the maintenance tries again)."""
    session.execute(text(f"SET LOCAL lock_timeout = '{LOCK_WAIT}'"))


def day_of(session: Session, *, patrol_id: int) -> date | None:
    """The patrol's day (the partition of its fixes); None for an unknown patrol."""
    day = session.execute(text(DAY_OF), {"patrol_id": patrol_id}).scalar_one_or_none()
    return day if isinstance(day, date) else None


DAY_OF = "SELECT patrol_day FROM patrols WHERE id = :patrol_id"


@dataclass(frozen=True)
class FixMonths:
    """What one maintenance round did to the months of raw fixes."""

    made: tuple[str, ...]
    retired: Retired | None


def maintain(session: Session, *, today: date, ahead: int, keep_months: int) -> FixMonths:
    """The coming months made, and the months past `keep_months` retired (0: kept forever)."""
    made = ensure_ahead(session, today=today, ahead=ahead)
    retired = retire(session, keep_months=keep_months, today=today) if keep_months else None
    return FixMonths(made=tuple(made), retired=retired)
