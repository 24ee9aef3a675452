"""The packs kept with a meeting (the file shown at it, stored with its SHA-256), as the
meeting page lists and keeps them."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from geo_patrol.access.scope import Scope

CAN_KEEP = False


def kept(session: Session, *, scope: Scope, meeting_id: int) -> list[dict[str, Any]]:
    """The packs kept with the meeting, oldest first."""
    return []
