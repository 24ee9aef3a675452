"""Request and response models of the API (besides GeoJSON, which is built as dicts)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from geo_patrol.core.vocabulary import Datum, Role, Severity, TeamRole, WorkflowAction

# The largest values of PostgreSQL's integer and bigint columns.
INT4_MAX = 2**31 - 1
BIGINT_MAX = 2**63 - 1
BIGINT_END = 2**63  # (said as "below 2**63": the OpenAPI writes bounds as doubles)


def unstorable(text: str) -> str | None:
    """Why PostgreSQL cannot store `text` (a NUL, or half of a UTF-16 surrogate pair, which a
    JSON string may escape), or None when it can."""
    if "\x00" in text:
        return "must not contain NUL (\\u0000) characters"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "must not contain unpaired surrogates (\\ud800-\\udfff)"
    return None


def _storable(text: str) -> str:
    """The text, when PostgreSQL can store it."""
    if problem := unstorable(text):
        raise ValueError(problem)
    return text


# Every text field of a request body: what PostgreSQL cannot store is refused as invalid
# input, naming the field.
Text = Annotated[str, AfterValidator(_storable)]
# Ids bounded to their column (integer or bigint): a larger number is invalid input.
Id = Annotated[int, Field(ge=1, le=INT4_MAX)]
BigId = Annotated[int, Field(ge=1, lt=BIGINT_END)]

# Years a request may name: any record's, and far enough from Python's limits (years 1 and
# 9999) that a default period around a time (30 days before it, a day after) stays a date.
FIRST_YEAR, LAST_YEAR = 1900, 2199


When = TypeVar("When", bound=date)


def _plausible_year(when: When) -> When:
    """The date or time, unless its year is outside FIRST_YEAR..LAST_YEAR."""
    if not FIRST_YEAR <= when.year <= LAST_YEAR:
        raise ValueError(f"must be in the years {FIRST_YEAR} to {LAST_YEAR}")
    return when


Moment = Annotated[datetime, AfterValidator(_plausible_year)]
Day = Annotated[date, AfterValidator(_plausible_year)]


class Credentials(BaseModel):
    """A login and password."""

    model_config = ConfigDict(extra="forbid")

    login: Text = Field(min_length=1, max_length=64)
    password: Text = Field(min_length=1, max_length=256)


class TokenCreate(Credentials):
    """Credentials plus what the new personal token is for."""

    label: Text = Field(default="api", max_length=200)
    days: int | None = Field(default=None, ge=1, le=3650, description="Expiry; none: no expiry.")


class TokenPublic(BaseModel):
    """A new secret, shown once."""

    token: str
    member_id: int


class SessionPublic(BaseModel):
    """A web login: the CSRF token to send as X-CSRF-Token on writes."""

    member_id: int
    csrf_token: str


class PasswordChange(BaseModel):
    """A new password (and the current one, when changing one's own)."""

    model_config = ConfigDict(extra="forbid")

    password: Text = Field(min_length=1, max_length=256)
    current_password: Text | None = None


class MemberCreate(BaseModel):
    """A new member."""

    model_config = ConfigDict(extra="forbid")

    name: Text = Field(min_length=1, max_length=200)
    phone: Text | None = Field(default=None, max_length=32)
    home_jurisdiction_code: Text = Field(min_length=2, max_length=32)
    login: Text | None = Field(default=None, min_length=2, max_length=64)
    password: Text | None = Field(default=None, max_length=256)


class MemberUpdate(BaseModel):
    """Changes to a member; absent fields stay."""

    model_config = ConfigDict(extra="forbid")

    name: Text | None = Field(default=None, min_length=1, max_length=200)
    phone: Text | None = Field(default=None, max_length=32)
    home_jurisdiction_code: Text | None = Field(default=None, min_length=2, max_length=32)
    login: Text | None = Field(default=None, min_length=2, max_length=64)
    is_active: bool | None = None


class RoleCreate(BaseModel):
    """A role over a scope."""

    model_config = ConfigDict(extra="forbid")

    role: Role
    jurisdiction_code: Text | None = None
    zone_id: Id | None = None
    team_id: Id | None = None


class TeamCreate(BaseModel):
    """A new team."""

    model_config = ConfigDict(extra="forbid")

    name: Text = Field(min_length=1, max_length=200)
    zone_id: Id | None = None


class TeamMemberAdd(BaseModel):
    """A member joining a team."""

    model_config = ConfigDict(extra="forbid")

    member_id: Id
    role: TeamRole = TeamRole.MEMBER


class DeviceCreate(BaseModel):
    """A phone for a member."""

    model_config = ConfigDict(extra="forbid")

    member_id: Id
    label: Text = Field(min_length=1, max_length=200)
    team_ids: list[Id] | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        description="Teams the phone acts for; default: every team of the member you lead.",
    )


class DeviceIssued(BaseModel):
    """A new device and its token, shown once."""

    id: int
    token: str
    team_ids: list[int] = []
    note: str = "Shown once. For OsmAnd/Traccar Client the token is the device identifier."


class Created(BaseModel):
    """The id of something created."""

    id: int


class IncidentCreate(BaseModel):
    """A report: a point, what and how bad, and when (default now)."""

    model_config = ConfigDict(extra="forbid")

    category: Text = Field(max_length=32, description="See GET /api/v1/incident-categories.")
    severity: Severity = Severity.MEDIUM
    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)
    datum: Datum = Datum.WGS84
    description: Text | None = Field(default=None, max_length=4000)
    reported_at: Moment | None = None
    client_id: Text | None = Field(
        default=None, max_length=128, description="The phone's id: a retry returns the first."
    )
    address: Text | None = Field(default=None, max_length=500)
    patrol_id: BigId | None = Field(default=None, description="An observation during a patrol.")


class IncidentAction(BaseModel):
    """A step in the workflow, with a note (the reason, when rejecting)."""

    model_config = ConfigDict(extra="forbid")

    action: WorkflowAction
    note: Text | None = Field(default=None, max_length=4000)


class TierChange(BaseModel):
    """An escalation request, or a de-escalation by the higher tier."""

    model_config = ConfigDict(extra="forbid")

    note: Text | None = Field(default=None, max_length=4000)
