"""The audit log: logins, failed logins, token issue and revoke, and every write."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import insert, null
from sqlalchemy.orm import Session

from geo_patrol.access.principal import Principal
from geo_patrol.db.tables import AuditEntry

log = logging.getLogger("geo_patrol.audit")


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

    # Through JSON text and back: values JSON has no type for (times, ids) are kept as text.
    plain = json.loads(json.dumps(detail, ensure_ascii=False, default=str)) if detail else None
    session.execute(
        insert(AuditEntry).values(
            member_id=principal.member_id if principal else None,
            device_id=principal.device_id if principal else None,
            actor=actor or (principal.label if principal else None),
            action=action,
            outcome=outcome,
            target=target,
            address=address,
            detail=null() if plain is None else plain,  # SQL NULL, not JSON null
        )
    )
    who = actor or (principal.label if principal else None)
    log.info("audit %s %s by %s on %s from %s", action, outcome, who, target, address)
