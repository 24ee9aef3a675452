"""Request and response models of the API (besides GeoJSON, which is built as dicts)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class Credentials(BaseModel):
    """A login and password."""

    model_config = ConfigDict(extra="forbid")

    login: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class TokenCreate(Credentials):
    """Credentials plus what the new personal token is for."""

    label: str = Field(default="api", max_length=200)
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

    password: str = Field(min_length=1, max_length=256)
    current_password: str | None = None


class MemberCreate(BaseModel):
    """A new member."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    phone: str | None = Field(default=None, max_length=32)
    home_jurisdiction_code: str = Field(min_length=2, max_length=32)
    login: str | None = Field(default=None, min_length=2, max_length=64)
    password: str | None = Field(default=None, max_length=256)


class MemberUpdate(BaseModel):
    """Changes to a member; absent fields stay."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    phone: str | None = Field(default=None, max_length=32)
    home_jurisdiction_code: str | None = Field(default=None, min_length=2, max_length=32)
    login: str | None = Field(default=None, min_length=2, max_length=64)
    is_active: bool | None = None


class RoleCreate(BaseModel):
    """A role over a scope."""

    model_config = ConfigDict(extra="forbid")

    role: str
    jurisdiction_code: str | None = None
    zone_id: int | None = None
    team_id: int | None = None


class TeamCreate(BaseModel):
    """A new team."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    zone_id: int | None = None


class TeamMemberAdd(BaseModel):
    """A member joining a team."""

    model_config = ConfigDict(extra="forbid")

    member_id: int
    role: str = "member"


class DeviceCreate(BaseModel):
    """A phone for a member."""

    model_config = ConfigDict(extra="forbid")

    member_id: int
    label: str = Field(min_length=1, max_length=200)
    team_ids: list[int] | None = Field(
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

    category: str = Field(max_length=32, description="See GET /api/v1/incident-categories.")
    severity: str = Field(default="medium", pattern="^(low|medium|high|critical)$")
    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)
    datum: str = Field(default="wgs84", pattern="^(wgs84|cgcs2000|gcj02|bd09)$")
    description: str | None = Field(default=None, max_length=4000)
    reported_at: datetime | None = None
    client_id: str | None = Field(
        default=None, max_length=128, description="The phone's id: a retry returns the first."
    )
    address: str | None = Field(default=None, max_length=500)
    patrol_id: int | None = Field(default=None, description="An observation during a patrol.")


class IncidentAction(BaseModel):
    """A step in the workflow, with a note (the reason, when rejecting)."""

    model_config = ConfigDict(extra="forbid")

    action: str = Field(description="assign, accept, start, resolve, verify, close, reopen, reject")
    note: str | None = Field(default=None, max_length=4000)


class TierChange(BaseModel):
    """An escalation request, or a de-escalation by the higher tier."""

    model_config = ConfigDict(extra="forbid")

    note: str | None = Field(default=None, max_length=4000)
