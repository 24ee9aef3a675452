"""The time people read: China Standard Time, where the rivers and their offices are.

Everything is stored in UTC. Pages, the meeting pack, Open311 answers and effort tables
show and group times in this zone; calendar days ("the last 30 days", a meeting's period)
are days here. One place, so a popup's deadline and an effort table's day agree.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

ZONE_NAME = "Asia/Shanghai"  # UTC+8 all year
LOCAL = ZoneInfo(ZONE_NAME)


def local_minute(moment: datetime | None, missing: str = "—") -> str:
    """A stored time as people read it: 2026-11-27 15:49 (local), or `missing`."""
    return moment.astimezone(LOCAL).strftime("%Y-%m-%d %H:%M") if moment else missing


def local_day(moment: datetime | None, missing: str = "—") -> str:
    """The local calendar day of a stored time: 2026-11-27, or `missing`."""
    return moment.astimezone(LOCAL).strftime("%Y-%m-%d") if moment else missing
