"""Where the daily digest goes: an SMTP mail server, a webhook, or both (duty.digest).

Each channel sends one digest to one recipient and raises DeliveryFailed with a reason an
operator can act on. The URLs of both hold credentials: no reason, log line or repr ever
shows them (a reason is scrubbed of them before it leaves this module).
"""

from __future__ import annotations

import base64
import json
import smtplib
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit, urlunsplit

from geo_patrol.core.settings import Settings

REASON_LENGTH = 300


@dataclass(frozen=True)
class Letter:
    """What a channel sends to one person: the digest as text and as JSON."""

    name: str
    email: str | None
    subject: str
    text: str
    payload: dict[str, Any]


class DeliveryFailed(Exception):
    """A digest could not be delivered; the message says why (never a credential)."""


class Channel(Protocol):
    """A way of sending digests."""

    name: str

    def reaches(self, letter: Letter) -> bool:
        """True when this channel can address the letter's recipient."""
        ...

    def send(self, letter: Letter) -> None:
        """Deliver one letter or raise DeliveryFailed."""
        ...


def _scrub(reason: str, secrets: list[str]) -> str:
    """A reason without any of the secrets, cut to a readable length."""
    for secret in secrets:
        if secret:
            reason = reason.replace(secret, "***")
    return reason[:REASON_LENGTH]


class SmtpChannel:
    """E-mail through a mail server: smtp:// (STARTTLS unless turned off) or smtps://."""

    name = "smtp"

    def __init__(self, settings: Settings, url: str) -> None:
        parts = urlsplit(url)
        self.implicit_tls = parts.scheme == "smtps"
        self.host = parts.hostname or "localhost"
        self.port = parts.port or (465 if self.implicit_tls else 25)
        self.user = unquote(parts.username or "")
        self.password = unquote(parts.password or "")
        self.starttls = settings.digest_smtp_starttls and not self.implicit_tls
        self.sender = settings.digest_from
        self.timeout = settings.digest_timeout_s
        self._secrets = [url, self.password, parts.password or ""]

    def __repr__(self) -> str:
        return f"SmtpChannel({self.host}:{self.port})"

    def reaches(self, letter: Letter) -> bool:
        """Only recipients with an e-mail address."""
        return bool(letter.email)

    def message(self, letter: Letter) -> EmailMessage:
        """The letter as a UTF-8 e-mail."""
        message = EmailMessage()
        message["Subject"] = letter.subject
        message["From"] = self.sender
        message["To"] = formataddr((letter.name, letter.email or ""))
        message.set_content(letter.text)
        return message

    def send(self, letter: Letter) -> None:
        """Connect, log in when the URL names a user, send, quit."""
        try:
            self._deliver(self.message(letter))
        except (OSError, smtplib.SMTPException) as error:
            reason = f"{type(error).__name__}: {error}"
            raise DeliveryFailed(_scrub(reason, self._secrets)) from None

    def _deliver(self, message: EmailMessage) -> None:
        """One SMTP session."""
        context = ssl.create_default_context()
        server: smtplib.SMTP
        if self.implicit_tls:
            server = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        else:
            server = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        with server:
            if self.starttls:
                server.starttls(context=context)
            if self.user:
                server.login(self.user, self.password)
            server.send_message(message)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer, not a new address: a 3xx fails the delivery."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        """Follow nothing."""
        return None


class WebhookChannel:
    """A POST of the digest as JSON to an http(s) URL, one request per recipient."""

    name = "webhook"

    def __init__(self, settings: Settings, url: str) -> None:
        parts = urlsplit(url)
        netloc = parts.hostname or ""
        if parts.port:
            netloc += f":{parts.port}"
        self.url = urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))
        self.authorization = None
        if parts.username:
            pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
            self.authorization = "Basic " + base64.b64encode(pair.encode()).decode()
        self.timeout = settings.digest_timeout_s
        self.opener = urllib.request.build_opener(_NoRedirects)
        self._secrets = [url, self.url, parts.password or "", parts.query]

    def __repr__(self) -> str:
        return "WebhookChannel(***)"

    def reaches(self, letter: Letter) -> bool:
        """Every recipient: the receiver routes by member id, login, phone or e-mail."""
        return True

    def send(self, letter: Letter) -> None:
        """POST the JSON; any answer but 2xx is a failure."""
        body = json.dumps(letter.payload, ensure_ascii=False).encode("utf-8")
        request = urllib.request.Request(self.url, data=body, method="POST")
        request.add_header("Content-Type", "application/json; charset=utf-8")
        request.add_header("User-Agent", "geo-patrol digest")
        if self.authorization:
            request.add_header("Authorization", self.authorization)
        try:
            with self.opener.open(request, timeout=self.timeout) as answer:
                answer.read()
        except urllib.error.HTTPError as error:
            raise DeliveryFailed(f"HTTP {error.code} {error.reason}"[:REASON_LENGTH]) from None
        except (OSError, ValueError) as error:
            reason = f"{type(error).__name__}: {getattr(error, 'reason', error)}"
            raise DeliveryFailed(_scrub(reason, self._secrets)) from None


def channels_of(settings: Settings) -> list[Channel]:
    """The channels the settings configure (none by default)."""
    found: list[Channel] = []
    if settings.digest_smtp_url is not None:
        found.append(SmtpChannel(settings, settings.digest_smtp_url.get_secret_value()))
    if settings.digest_webhook_url is not None:
        found.append(WebhookChannel(settings, settings.digest_webhook_url.get_secret_value()))
    return found
