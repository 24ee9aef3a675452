"""Packs kept with their meeting: the bytes of the file shown, with their SHA-256, so it can be
shown again unchanged whatever the data became since.

The same bytes kept twice for a meeting are one row (unique meeting and checksum): a retried
keep stores nothing new. Rights are those of the meeting's zone (meetings.visibility): who
sees the zone lists and reads its packs, who edits its meetings keeps one.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_patrol.access.principal import Principal
from geo_patrol.access.scope import Scope
from geo_patrol.core.catalog import msg
from geo_patrol.core.errors import NotFound
from geo_patrol.meetings.records import Meeting, get_meeting, meeting_zone

log = logging.getLogger(__name__)

KEEP = """
INSERT INTO meeting_packs (meeting_id, sha256, size_bytes, language, content, kept_by)
VALUES (:meeting_id, :sha256, :size, :language, :content, :kept_by)
ON CONFLICT (meeting_id, sha256) DO NOTHING
RETURNING id
"""
COLUMNS = "id, meeting_id, sha256, size_bytes, language, kept_at, kept_by"
EXISTING = (
    f"SELECT {COLUMNS} FROM meeting_packs WHERE meeting_id = :meeting_id AND sha256 = :sha256"
)
ONE = f"SELECT {COLUMNS} FROM meeting_packs WHERE id = :id"
LIST = f"SELECT {COLUMNS} FROM meeting_packs WHERE meeting_id = :meeting_id ORDER BY kept_at, id"
CONTENT = "SELECT content FROM meeting_packs WHERE id = :id AND meeting_id = :meeting_id"


@dataclass(frozen=True)
class KeptPack:
    """A kept pack without its bytes."""

    id: int
    meeting_id: int
    sha256: str
    size_bytes: int
    language: str
    kept_at: datetime
    kept_by: int | None


@dataclass(frozen=True)
class PackFile:
    """A kept pack and its bytes."""

    pack: KeptPack
    content: bytes


def seen_meeting(session: Session, *, scope: Scope, meeting_id: int) -> Meeting:
    """The meeting, if the caller sees its zone (NotFound otherwise)."""
    return get_meeting(session, scope=scope, meeting_id=meeting_id)


def editable_meeting(
    session: Session, *, principal: Principal, scope: Scope, meeting_id: int
) -> Meeting:
    """The meeting, if the caller may keep a pack with it (seen but not editable: Forbidden)."""
    meeting_zone(session, principal=principal, scope=scope, meeting_id=meeting_id)
    return get_meeting(session, scope=scope, meeting_id=meeting_id)


def keep_pack(
    session: Session, *, meeting_id: int, content: bytes, language: str, kept_by: int | None
) -> tuple[KeptPack, bool]:
    """Store the bytes for the meeting; (the pack, whether it is new): the same bytes again
    answer the pack kept before."""
    sha256 = hashlib.sha256(content).hexdigest()
    params = {
        "meeting_id": meeting_id,
        "sha256": sha256,
        "size": len(content),
        "language": language,
        "content": content,
        "kept_by": kept_by,
    }
    new = session.execute(text(KEEP), params).scalar() is not None
    row = session.execute(text(EXISTING), params).one()
    if new:
        log.info("pack kept: meeting %s, %s bytes, sha256 %s", meeting_id, len(content), sha256)
    return KeptPack(**row._mapping), new


def list_packs(session: Session, *, meeting_id: int) -> list[KeptPack]:
    """The packs kept with the meeting, oldest first (the caller has checked the meeting)."""
    rows = session.execute(text(LIST), {"meeting_id": meeting_id})
    return [KeptPack(**row._mapping) for row in rows]


def pack_file(session: Session, *, meeting_id: int, pack_id: int) -> PackFile:
    """A pack of the meeting and its bytes as stored (NotFound naming `pack_id`)."""
    content = session.execute(
        text(CONTENT), {"id": pack_id, "meeting_id": meeting_id}
    ).scalar_one_or_none()
    if content is None:
        raise NotFound(
            msg("problem.packs.no_pack", meeting_id=meeting_id, pack_id=pack_id), field="pack_id"
        )
    row = session.execute(text(ONE), {"id": pack_id}).one()
    return PackFile(KeptPack(**row._mapping), bytes(content))
