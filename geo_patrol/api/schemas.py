"""Request and response models of the API (besides GeoJSON, which is built as dicts).

Their field types (storable text, ids bounded to their column, plausible times) are
`geo_patrol.core.values`, which the domains check too.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from geo_patrol.core.values import BigId, Id, Moment, Text


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

    role: Text
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
    role: Text = "member"


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
    severity: Text = Field(default="medium", pattern="^(low|medium|high|critical)$")
    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)
    datum: Text = Field(default="wgs84", pattern="^(wgs84|cgcs2000|gcj02|bd09)$")
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

    action: Text = Field(
        description="assign, accept, start, resolve, verify, close, reopen, reject"
    )
    note: Text | None = Field(default=None, max_length=4000)


class TierChange(BaseModel):
    """An escalation request, or a de-escalation by the higher tier."""

    model_config = ConfigDict(extra="forbid")

    note: Text | None = Field(default=None, max_length=4000)
