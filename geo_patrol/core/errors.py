"""Domain errors and the one place that turns them into HTTP problems (RFC 9457)."""

from __future__ import annotations

from typing import Any, ClassVar

from geo_patrol.core import catalog


class GeoPatrolError(Exception):
    """Base of every error a person can act on; carries its HTTP status and problem title."""

    status: ClassVar[int] = 400
    # Titles come from the catalog in English: API clients match them; the catalog keeps
    # their Chinese for pages that show an error to people.
    title: ClassVar[str] = catalog.text("error.bad_request", "en")

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = {key: value for key, value in extra.items() if value is not None}

    def problem(self, *, instance: str | None = None) -> dict[str, Any]:
        """Return the application/problem+json body for this error."""
        body: dict[str, Any] = {
            "type": "about:blank",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if instance:
            body["instance"] = instance
        body.update(self.extra)
        return body


class InvalidInput(GeoPatrolError):
    """A request parameter or body field is wrong; `field` names it."""

    status = 422
    title = catalog.text("error.invalid_input", "en")


class ImportFileError(GeoPatrolError):
    """An imported file cannot be read; `feature` (1-based) and `field` say where."""

    status = 422
    title = catalog.text("error.invalid_file", "en")


class FileTooLarge(ImportFileError):
    """An imported file (or what it unpacks to) is over a size or memory limit."""

    status = 413
    title = catalog.text("error.content_too_large", "en")


class ServiceBusy(GeoPatrolError):
    """Too much heavy work at once; try again after `retry_after` seconds."""

    status = 503
    title = catalog.text("error.service_busy", "en")

    def __init__(self, detail: str, *, retry_after: int, **extra: Any) -> None:
        super().__init__(detail, **extra)
        self.retry_after = retry_after


class NotFound(GeoPatrolError):
    """The object does not exist (or the caller may not know that it does)."""

    status = 404
    title = catalog.text("error.not_found", "en")


class DatabaseUnavailable(GeoPatrolError):
    """The database cannot be reached."""

    status = 503
    title = catalog.text("error.database_unavailable", "en")


class UnexpectedError(GeoPatrolError):
    """A fault of ours: logged with its traceback under the error id the answer carries."""

    status = 500
    title = catalog.text("error.internal", "en")


class EmbeddedDatabaseError(GeoPatrolError):
    """The private local PostgreSQL cluster cannot be created or started."""

    status = 500
    title = catalog.text("error.embedded_database", "en")


class NotAuthenticated(GeoPatrolError):
    """No valid credentials (missing, wrong, expired or revoked)."""

    status = 401
    title = catalog.text("error.not_authenticated", "en")


class Forbidden(GeoPatrolError):
    """Signed in, but the roles do not allow the action."""

    status = 403
    title = catalog.text("error.forbidden", "en")


class PolicyMissing(GeoPatrolError):
    """A route has no entry in the access policy: refused rather than left open."""

    status = 500
    title = catalog.text("error.route_without_policy", "en")


class TooManyAttempts(GeoPatrolError):
    """Too many failed logins for an account or from an address."""

    status = 429
    title = catalog.text("error.too_many_attempts", "en")


class Conflict(GeoPatrolError):
    """The request conflicts with what is stored (a duplicate login, phone, name...)."""

    status = 409
    title = catalog.text("error.conflict", "en")
