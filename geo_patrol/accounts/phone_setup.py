"""One-step set-up of a phone: the addresses Traccar Client, OsmAnd and our web app need.

A device's token is stored only as a hash, so it cannot be shown twice. The set-up page
therefore makes a fresh token for the device (the old one stops working at once) and puts
it into three QR codes:

* Traccar Client 9 (Settings → QR code) reads a URL: its origin and path become the server
  URL and its query sets the preferences (`id`, `accuracy`, `interval`, `distance`,
  `buffer`...). Older versions are set up by typing the two values shown under the code.
* OsmAnd has no QR reader for its settings: the code holds the online-tracking URL template
  as text, to copy into Trip recording → Online tracking.
* Our web app: `/m/#device=TOKEN`. The token rides in the fragment, which browsers never
  send, so it appears in no server or proxy log; the page moves it to its own storage.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

import segno
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_patrol.access import audit
from geo_patrol.access.principal import Principal
from geo_patrol.access.scope import Scope
from geo_patrol.access.secrets import DEVICE_PREFIX, new_token, token_hash
from geo_patrol.accounts import teams as organisation
from geo_patrol.core.catalog import msg
from geo_patrol.core.errors import Conflict, NotFound
from geo_patrol.core.settings import Settings

# Traccar Client preferences for a patrol on foot or by boat: a fix every 10 s or 10 m, high
# accuracy, and positions buffered on the phone while there is no signal.
TRACCAR_PREFERENCES = {"accuracy": "high", "interval": "10", "distance": "10", "buffer": "true"}
OSMAND_TEMPLATE = "&lat={0}&lon={1}&timestamp={2}&hdop={3}&altitude={4}&speed={5}"

ROTATE = """
UPDATE devices SET token_hash = :hash, token_hint = :hint
WHERE id = :id AND revoked_at IS NULL
"""


@dataclass(frozen=True)
class PhoneSetup:
    """What a phone needs, as text and as QR codes (inline SVG)."""

    token: str
    server_url: str
    traccar_url: str
    osmand_url: str
    app_url: str

    def qr_codes(self) -> dict[str, str]:
        """Inline SVG QR codes of the three set-up payloads."""
        return {
            "traccar": qr_svg(self.traccar_url),
            "osmand": qr_svg(self.osmand_url),
            "app": qr_svg(self.app_url),
        }


def public_base(settings: Settings, request_base: str) -> str:
    """The service's external address without a trailing slash."""
    return (settings.public_url or request_base).rstrip("/")


def phone_setup(*, base: str, token: str) -> PhoneSetup:
    """The set-up addresses for a device token on the service at `base`."""
    # The OsmAnd/Traccar protocol under /osmand on the main port: it sits behind the same
    # TLS proxy as the web app, unlike the bare port 5055.
    server = f"{base}/osmand"
    traccar = f"{server}?{urlencode({'id': token, **TRACCAR_PREFERENCES})}"
    return PhoneSetup(
        token=token,
        server_url=server,
        traccar_url=traccar,
        osmand_url=f"{server}?id={token}{OSMAND_TEMPLATE}",
        app_url=f"{base}/m/#device={token}",
    )


def qr_svg(payload: str) -> str:
    """An inline SVG QR code (medium error correction, scales with its box)."""
    return str(segno.make(payload, error="m").svg_inline(scale=4, omitsize=True))


def device_for_setup(
    session: Session, *, device_id: int, scope: Scope, principal: Principal
) -> dict[str, object]:
    """The device if the caller may set it up (owner, lead of the owner's team, admin)."""
    found = organisation.list_devices(
        session, scope=scope, principal=principal, device_id=device_id
    )
    if not found:
        raise NotFound(msg("problem.accounts.no_device", device_id=device_id), field="device_id")
    return found[0]


def renew_device_token(
    session: Session, *, device_id: int, scope: Scope, principal: Principal, address: str | None
) -> str:
    """A fresh token for the device (shown once); the previous one stops working."""
    device = device_for_setup(session, device_id=device_id, scope=scope, principal=principal)
    if device["revoked_at"] is not None:
        raise Conflict(
            msg("problem.accounts.device_revoked", device_id=device_id), field="device_id"
        )
    token = new_token(DEVICE_PREFIX)
    session.execute(text(ROTATE), {"hash": token_hash(token), "hint": token[-4:], "id": device_id})
    audit.record(
        session,
        action="device.setup",
        principal=principal,
        target=f"device:{device_id}",
        address=address,
    )
    return token
