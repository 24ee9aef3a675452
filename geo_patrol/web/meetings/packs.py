"""The packs kept with a meeting (the file shown at it, stored with its SHA-256), as the
meeting page lists and keeps them: web/pack/kept.py renders and stores; the page lists."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from geo_patrol.access.principal import Principal
from geo_patrol.access.scope import Scope
from geo_patrol.core.local_time import LOCAL
from geo_patrol.core.settings import Settings
from geo_patrol.meetings.kept_packs import list_packs
from geo_patrol.web.pack.kept import keep_meeting_pack


def kept(session: Session, *, meeting_id: int) -> list[dict[str, Any]]:
    """The packs kept with the meeting (the caller sees it), oldest first, with their file."""
    return [
        {
            "id": pack.id,
            "kept_at": pack.kept_at,
            "sha256": pack.sha256,
            "language": pack.language,
            "href": f"/api/v1/meetings/{meeting_id}/packs/{pack.id}",
        }
        for pack in list_packs(session, meeting_id=meeting_id)
    ]


def keep(
    session: Session,
    *,
    principal: Principal,
    scope: Scope,
    meeting_id: int,
    settings: Settings,
    lang: str,
) -> None:
    """Render the pack of the meeting's zone and period now, and keep it with the meeting."""
    keep_meeting_pack(
        session,
        scope=scope,
        principal=principal,
        meeting_id=meeting_id,
        lang=lang,
        generated_at=datetime.now(LOCAL),
        vendor_dir=settings.vendor_dir,
    )
