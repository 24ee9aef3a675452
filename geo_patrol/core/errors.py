"""Domain errors and the one place that turns them into HTTP problems (RFC 9457).

Every error carries its detail as a catalog message, never as a bare string, so that the
problem a person reads is in their language (zh or en, by Accept-Language) and an API client
can match its stable `code`. A raise site reads:

    from geo_patrol.core.catalog import msg

    raise InvalidInput(msg("problem.api.bbox_format"), field="bbox")
    raise NotFound(msg("problem.patrols.no_patrol", patrol_id=patrol_id))

and catalog.json holds the words, with the same `{fields}` in both languages:

    "problem.patrols.no_patrol": {"zh": "没有编号为 {patrol_id} 的巡河记录",
                                  "en": "no patrol {patrol_id}"},

Keys are `problem.<area>.<what>`; the problem's `code` is the key without `problem.`
(`patrols.no_patrol`), stable for clients: rename the words, never the key. A field may
be a Message itself (a reason inside a file's error) and is rendered in the same language.
tests/core/test_error_messages.py fails on a bare string detail and on a key or field the
catalog lacks. `str(error)` and `error.detail` stay English for logs and the command line.

A subclass names its title's catalog key (`title_key = "error.not_found"`): `title` is its
English word (API clients match titles) and `code` (the key without `error.`) the problem's
code when its detail is untranslated.
"""

from __future__ import annotations

from typing import Any, ClassVar

from geo_patrol.core import catalog
from geo_patrol.core.catalog import Lang, Message


def localized(value: object, lang: Lang) -> object:
    """`value` with every Message inside it (lists, dicts) put into words in `lang`."""
    if isinstance(value, Message):
        return value.text(lang)
    if isinstance(value, dict):
        return {key: localized(item, lang) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [localized(item, lang) for item in value]
    return value


class GeoPatrolError(Exception):
    """Base of every error a person can act on; carries its HTTP status and problem title."""

    status: ClassVar[int] = 400
    # Titles come from the catalog in English: API clients match them; the catalog keeps
    # their Chinese for pages that show an error to people.
    title_key: ClassVar[str] = "error.bad_request"
    title: ClassVar[str] = catalog.text("error.bad_request", "en")
    code: ClassVar[str] = "bad_request"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Take the English title and the code from the subclass's `title_key`."""
        super().__init_subclass__(**kwargs)
        if "title" in cls.__dict__:
            raise TypeError(f"{cls.__name__}: declare title_key = 'error....', not title")
        cls.title = catalog.text(cls.title_key, "en")
        cls.code = cls.title_key.removeprefix("error.")

    def __init__(self, detail: Message, **extra: Any) -> None:
        # A bare string (a raise site not yet converted) still answers, untranslated.
        if not isinstance(detail, Message):
            detail = catalog.msg("problem.core.untranslated", reason=detail)
        self.message = detail
        self.detail = str(detail)
        super().__init__(self.detail)
        self.extra = {key: value for key, value in extra.items() if value is not None}

    @property
    def problem_code(self) -> str:
        """The stable code clients match: the message's, else the class's."""
        return self.code if self.message.key == catalog.UNTRANSLATED else self.message.code

    def problem(self, *, instance: str | None = None, lang: Lang = "en") -> dict[str, Any]:
        """Return the application/problem+json body for this error, in `lang`."""
        body: dict[str, Any] = {
            "type": "about:blank",
            "title": catalog.text(self.title_key, lang),
            "status": self.status,
            "code": self.problem_code,
            "detail": self.message.text(lang),
        }
        if instance:
            body["instance"] = instance
        body.update({key: localized(value, lang) for key, value in self.extra.items()})
        return body


class InvalidInput(GeoPatrolError):
    """A request parameter or body field is wrong; `field` names it."""

    status = 422
    title_key = "error.invalid_input"


class ImportFileError(GeoPatrolError):
    """An imported file cannot be read; `feature` (1-based) and `field` say where."""

    status = 422
    title_key = "error.invalid_file"


class FileTooLarge(ImportFileError):
    """An imported file (or what it unpacks to) is over a size or memory limit."""

    status = 413
    title_key = "error.content_too_large"


class ServiceBusy(GeoPatrolError):
    """Too much heavy work at once; try again after `retry_after` seconds."""

    status = 503
    title_key = "error.service_busy"

    def __init__(self, detail: Message, *, retry_after: int, **extra: Any) -> None:
        super().__init__(detail, **extra)
        self.retry_after = retry_after


class NotFound(GeoPatrolError):
    """The object does not exist (or the caller may not know that it does)."""

    status = 404
    title_key = "error.not_found"


class DatabaseUnavailable(GeoPatrolError):
    """The database cannot be reached."""

    status = 503
    title_key = "error.database_unavailable"


class UnexpectedError(GeoPatrolError):
    """A fault of ours: logged with its traceback under the error id the answer carries."""

    status = 500
    title_key = "error.internal"


class EmbeddedDatabaseError(GeoPatrolError):
    """The private local PostgreSQL cluster cannot be created or started."""

    status = 500
    title_key = "error.embedded_database"


class NotAuthenticated(GeoPatrolError):
    """No valid credentials (missing, wrong, expired or revoked)."""

    status = 401
    title_key = "error.not_authenticated"


class Forbidden(GeoPatrolError):
    """Signed in, but the roles do not allow the action."""

    status = 403
    title_key = "error.forbidden"


class PolicyMissing(GeoPatrolError):
    """A route has no entry in the access policy: refused rather than left open."""

    status = 500
    title_key = "error.route_without_policy"


class TooManyAttempts(GeoPatrolError):
    """Too many failed logins for an account or from an address."""

    status = 429
    title_key = "error.too_many_attempts"


class Conflict(GeoPatrolError):
    """The request conflicts with what is stored (a duplicate login, phone, name...)."""

    status = 409
    title_key = "error.conflict"
