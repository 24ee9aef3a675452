"""The audit log: logins, failed logins, token issue and revoke, and every write."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_patrol.access.principal import Principal

log = logging.getLogger("geo_patrol.audit")

INSERT = """
INSERT INTO audit_log (member_id, device_id, actor, action, outcome, target, address, detail)
VALUES (:member_id, :device_id, :actor, :action, :outcome, :target, :address,
        CAST(:detail AS jsonb))
"""


def record(
    session: Session,
    *,
    action: str,
    outcome: str = "ok",
    principal: Principal | None = None,
    actor: str | None = None,
    target: str | None = None,
    address: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Append one entry in the caller's transaction (never a password or token)."""
    import json

    session.execute(
        text(INSERT),
        {
            "member_id": principal.member_id if principal else None,
            "device_id": principal.device_id if principal else None,
            "actor": actor or (principal.label if principal else None),
            "action": action,
            "outcome": outcome,
            "target": target,
            "address": address,
            "detail": json.dumps(detail, ensure_ascii=False, default=str) if detail else None,
        },
    )
    who = actor or (principal.label if principal else None)
    log.info("audit %s %s by %s on %s from %s", action, outcome, who, target, address)
