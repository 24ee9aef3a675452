"""Phones as the fault tests need them: each keeps a position until it is answered 200."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from dataclasses import dataclass, field

import httpx
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_patrol.access.scope import Scope
from geo_patrol.accounts.members import issue_device_token
from geo_patrol.accounts.teams import grantable_teams

RESEND_AFTER_S = 0.2
MIN_POSITIONS = 20
EVERY_S = 0.05  # between two positions of a phone (a real one sends every few seconds)


@dataclass
class Phone:
    """One device: its token, the epochs it sent (a second apart), and what it heard back."""

    token: str
    first_epoch: int
    epochs: list[int] = field(default_factory=list)
    acknowledged: list[int] = field(default_factory=list)
    heard: Counter[str] = field(default_factory=Counter)  # "200", "503", "ConnectError"...

    async def walk(
        self, url: str, client: httpx.AsyncClient, *, until: threading.Event, deadline_s: float
    ) -> None:
        """Send positions one after the other, each until it is acknowledged, until `until`
        is set (at least 20) or the deadline."""
        loop = asyncio.get_running_loop()
        end = loop.time() + deadline_s
        number = 0
        while (number < MIN_POSITIONS or not until.is_set()) and loop.time() < end:
            epoch = self.first_epoch + number
            self.epochs.append(epoch)
            query = {
                "id": self.token,
                "lat": "30.9",
                "lon": f"{120.6 + number * 1e-5:.5f}",
                "timestamp": str(epoch),
            }
            number += 1
            while loop.time() < end:
                try:
                    status = (await client.get(url, params=query)).status_code
                except httpx.TransportError as error:
                    self.heard[type(error).__name__] += 1
                else:
                    self.heard[str(status)] += 1
                    if status == 200:
                        self.acknowledged.append(epoch)
                        await asyncio.sleep(EVERY_S)
                        break
                await asyncio.sleep(RESEND_AFTER_S)


async def walk_all(
    phones: list[Phone], url: str, *, until: threading.Event, deadline_s: float
) -> None:
    """All phones at once, until `until` is set and each has its last position acknowledged."""
    async with httpx.AsyncClient(timeout=10) as client:
        await asyncio.gather(
            *(phone.walk(url, client, until=until, deadline_s=deadline_s) for phone in phones)
        )


def new_phones(session: Session, count: int, *, login: str, first_epoch: int) -> list[Phone]:
    """`count` new devices of the member `login`, their positions from `first_epoch` on."""
    member = session.execute(text("SELECT id FROM members WHERE login = :l"), {"l": login})
    member_id = member.scalar_one()
    teams = grantable_teams(session, scope=Scope(everything=True), member_id=member_id)
    phones = []
    for number in range(count):
        _, token = issue_device_token(
            session,
            member_id=member_id,
            label=f"fault {number}",
            team_ids=teams,
            by=None,
            address=None,
        )
        phones.append(Phone(token, first_epoch))
    return phones


STORED = """
SELECT extract(epoch FROM pp.time)::bigint AS epoch, count(*) AS copies
FROM patrol_points pp JOIN patrols p ON p.id = pp.patrol_id JOIN devices d ON d.id = p.device_id
WHERE d.token_hash = encode(sha256(convert_to(:token, 'UTF8')), 'hex') AND pp.live
GROUP BY pp.time
"""


def stored_copies(session: Session, phone: Phone) -> dict[int, int]:
    """How many times each of the phone's positions is stored, by epoch."""
    rows = session.execute(text(STORED), {"token": phone.token})
    return {int(row.epoch): int(row.copies) for row in rows}
