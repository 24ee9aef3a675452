"""Keeping a meeting's pack: render it for the meeting's zone and period in a language, and
store its bytes with the meeting (geo_patrol.meetings.kept_packs)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session

from geo_patrol.access.principal import Principal
from geo_patrol.access.scope import Scope
from geo_patrol.core.settings import CHECKOUT_VENDOR_DIR
from geo_patrol.meetings.kept_packs import KeptPack, editable_meeting, keep_pack
from geo_patrol.web.map.filters import MapFilters
from geo_patrol.web.pack.page import meeting_pack


def keep_meeting_pack(
    session: Session,
    *,
    scope: Scope,
    principal: Principal,
    meeting_id: int,
    lang: str,
    generated_at: datetime,
    vendor_dir: Path = CHECKOUT_VENDOR_DIR,
) -> tuple[KeptPack, bool]:
    """Render the pack of the meeting's zone for its period (meetings.period_from/period_to)
    and keep it; (the pack, whether new: the same bytes again are the pack kept before)."""
    meeting = editable_meeting(session, principal=principal, scope=scope, meeting_id=meeting_id)
    filters = MapFilters(
        date_from=meeting.period_from,
        date_to=meeting.period_to,
        zone=meeting.zone_code,
        lang=lang,
    )
    page = meeting_pack(
        session,
        scope=scope,
        principal=principal,
        filters=filters,
        generated_at=generated_at,
        vendor_dir=vendor_dir,
    )
    return keep_pack(
        session,
        meeting_id=meeting.id,
        content=page.encode("utf-8"),
        language=lang,
        kept_by=principal.member_id,
    )


def kept_filename(pack: KeptPack) -> str:
    """meeting-<id>-pack-<pack id>-<language>.html"""
    return f"meeting-{pack.meeting_id}-pack-{pack.id}-{pack.language}.html"
