"""Request and response models of the API (GeoJSON answers too: Feature and FeatureCollection
with typed properties, their geometry passed on as PostGIS wrote it).

Their field types (storable text, ids bounded to their column, plausible times) are
`geo_patrol.core.values`, which the domains check too.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, WithJsonSchema

from geo_patrol.access.principal import Via
from geo_patrol.core.values import BigId, Day, Id, Moment, Text
from geo_patrol.core.vocabulary import (
    AgendaKind,
    CandidateReason,
    ChiefLevel,
    Datum,
    DecisionLinkKind,
    DecisionStatus,
    DutyPeriod,
    DutyStatus,
    IncidentStatus,
    Level,
    MeetingStatus,
    PatrolMode,
    PatrolSource,
    QualityFlag,
    ResponsibleRole,
    Role,
    SectionKind,
    Severity,
    StretchKind,
    TeamRole,
    Tier,
    TokenScope,
    WaterBody,
    WorkflowAction,
)


class Credentials(BaseModel):
    """A login and password."""

    model_config = ConfigDict(extra="forbid")

    login: Text = Field(min_length=1, max_length=64)
    password: Text = Field(min_length=1, max_length=256)


class TokenCreate(Credentials):
    """Credentials plus what the new personal token is for."""

    label: Text = Field(default="api", max_length=200)
    days: int | None = Field(default=None, ge=1, le=3650, description="Expiry; none: no expiry.")
    scope: TokenScope = Field(
        default=TokenScope.FULL,
        description="read: GET and HEAD only (for QGIS, GDAL and spreadsheets); full: "
        "everything the member may do.",
    )


class TokenPublic(BaseModel):
    """A new secret, shown once."""

    token: str
    member_id: int
    scope: TokenScope


class TokenInfoPublic(BaseModel):
    """One of my personal tokens, without its secret."""

    id: int
    label: str
    scope: TokenScope
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


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
    email: Text | None = Field(default=None, max_length=254)


class MemberUpdate(BaseModel):
    """Changes to a member; absent fields stay."""

    model_config = ConfigDict(extra="forbid")

    name: Text | None = Field(default=None, min_length=1, max_length=200)
    phone: Text | None = Field(default=None, max_length=32)
    home_jurisdiction_code: Text | None = Field(default=None, min_length=2, max_length=32)
    login: Text | None = Field(default=None, min_length=2, max_length=64)
    is_active: bool | None = None
    email: Text | None = Field(
        default=None,
        max_length=254,
        description="Where the daily duty digest is mailed; null removes it.",
    )


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

    # Always in the answer, defaults or not: the OpenAPI says so.
    model_config = ConfigDict(json_schema_serialization_defaults_required=True)

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


# --- Answers ----------------------------------------------------------------------------------
#
# What the JSON endpoints answer, declared with `response_model=` so the OpenAPI describes
# each 200 (and the OpenAPI fuzzer checks every answer against it). The fields are in the
# order the answers have always had them, each required: an answer missing a key fails
# loudly instead of growing a null. Domain functions still hand over plain rows.

# A measure from SQL: integral values stay integers on the wire, as before (the JSON schema
# says `number`, which includes them).
Number = Annotated[int | float, WithJsonSchema({"type": "number"})]
# Times the domain already wrote as ISO 8601 text (with "+00:00"); passed on as they are.
IsoTime = Annotated[str, WithJsonSchema({"type": "string", "format": "date-time"})]
IsoDate = Annotated[str, WithJsonSchema({"type": "string", "format": "date"})]

GEOMETRY_TYPES = (
    "Point",
    "LineString",
    "Polygon",
    "MultiPoint",
    "MultiLineString",
    "MultiPolygon",
    "GeometryCollection",
)


def _geometry(value: dict[str, Any]) -> dict[str, Any]:
    """A GeoJSON geometry as PostGIS wrote it, checked for its type only: coordinates pass
    through untouched (a boundary has tens of thousands; PostGIS wrote them right)."""
    if value.get("type") not in GEOMETRY_TYPES:
        raise ValueError(f"a GeoJSON geometry has a type among {', '.join(GEOMETRY_TYPES)}")
    return value


Geometry = Annotated[
    dict[str, Any],
    AfterValidator(_geometry),
    WithJsonSchema(
        {
            "type": "object",
            "title": "Geometry",
            "description": "A GeoJSON geometry (RFC 7946), WGS84 lon/lat.",
            "required": ["type"],
            "properties": {
                "type": {"type": "string", "enum": list(GEOMETRY_TYPES)},
                "coordinates": {"type": "array"},
                "geometries": {"type": "array", "items": {"type": "object"}},
            },
        }
    ),
]

Properties = TypeVar("Properties", bound=BaseModel)
Feature_ = TypeVar("Feature_", bound=BaseModel)


class Feature(BaseModel, Generic[Properties]):
    """A GeoJSON Feature with an id."""

    type: Literal["Feature"]
    id: int | str
    geometry: Geometry | None
    properties: Properties


class PageLink(BaseModel):
    """A link of a paged list's body (rel "next": the next page; the same as the `Link`
    header)."""

    href: str
    rel: str
    type: str


class FeatureCollection(BaseModel, Generic[Feature_]):
    """A GeoJSON FeatureCollection (`links`: rel "next" when the page was cut)."""

    type: Literal["FeatureCollection"]
    features: list[Feature_]
    links: list[PageLink]


class Health(BaseModel):
    """The service answers, and the database with its versions."""

    status: Literal["ok"]
    version: str
    postgresql: str
    postgis: str | None


class GrantPublic(BaseModel):
    """A role held over a scope."""

    role: Role
    jurisdiction_code: str | None
    zone_id: int | None
    team_id: int | None


class ScopeSummary(BaseModel):
    """How much the caller sees."""

    everything: bool
    jurisdictions: int = Field(description="How many jurisdictions are in scope.")
    zones: list[int]
    teams: list[int]


class MePublic(BaseModel):
    """The caller, their roles and the size of their scope."""

    member_id: int
    name: str
    login: str | None
    via: Via
    device_id: int | None
    roles: list[GrantPublic]
    scope: ScopeSummary


class MemberRolePublic(BaseModel):
    """A member's role, with its id (to take it away)."""

    id: int
    role: Role
    jurisdiction_code: str | None
    zone_id: int | None
    team_id: int | None


class MemberPublic(BaseModel):
    """A member as the administration sees them."""

    id: int
    name: str
    phone: str | None
    login: str | None
    home_jurisdiction_code: str
    is_active: bool
    team_ids: list[int]
    roles: list[MemberRolePublic]
    email: str | None


class TeamPublic(BaseModel):
    """A team with its members."""

    id: int
    name: str
    zone_id: int | None
    member_ids: list[int]
    home_jurisdiction_codes: list[str]


class DevicePublic(BaseModel):
    """A phone of a member (its token is never shown again: only the hint)."""

    id: int
    member_id: int
    member_name: str
    label: str
    token_hint: str
    created_at: datetime
    last_seen_at: datetime | None
    revoked_at: datetime | None
    team_ids: list[int]


class TeamMemberName(BaseModel):
    """A member on a patrol team's list."""

    id: int
    name: str


class PatrolTeam(BaseModel):
    """A team the caller may upload for, with its members (the phone's outing list)."""

    id: int
    name: str
    members: list[TeamMemberName]


class SetupCodes(BaseModel):
    """A phone's fresh set-up: the QR codes' HTML and the regenerate button's label."""

    html: str
    button: str


class JurisdictionRefPublic(BaseModel):
    """A jurisdiction in a lookup's chain."""

    id: int
    code: str
    name: str
    name_en: str | None
    level: Level
    parent_code: str | None


class JurisdictionsAtPublic(BaseModel):
    """The chain covering a point, lowest level first."""

    lon: float
    lat: float
    at: IsoTime
    chain: list[JurisdictionRefPublic]
    on_boundary_with: list[JurisdictionRefPublic]
    outside_all: bool


class JurisdictionProperties(BaseModel):
    """One boundary version of a jurisdiction."""

    id: int
    code: str
    name: str
    name_en: str | None
    level: Level
    parent_code: str | None
    valid_from: IsoTime
    valid_to: IsoTime | None
    source: str | None


JurisdictionFeature = Feature[JurisdictionProperties]
Jurisdictions = FeatureCollection[JurisdictionFeature]


class RiverProperties(BaseModel):
    """A river with its length on the ellipsoid."""

    id: int
    code: str
    name: str
    name_en: str | None
    source: str | None
    length_m: Number


Rivers = FeatureCollection[Feature[RiverProperties]]


class SegmentProperties(BaseModel):
    """A stretch of a river, and the jurisdictions along it."""

    id: int
    river_code: str
    river_name: str
    seq: int
    length_m: Number
    is_border: bool
    sides: list[str]


Segments = FeatureCollection[Feature[SegmentProperties]]


class Agreement(BaseModel):
    """An agreement of a cooperation zone."""

    title: str
    signed_on: IsoDate | None
    summary: str | None


class ZonePublic(BaseModel):
    """A cooperation zone: its member jurisdictions, border-zone width and agreements."""

    id: int
    code: str
    name: str
    description: str | None
    border_zone_width_m: Number
    members: list[str]
    agreements: list[Agreement]


class UncoveredProperties(BaseModel):
    """The part of a segment nobody patrolled in the period."""

    segment_id: int
    seq: int
    river_code: str
    river_name: str
    is_border: bool
    length_m: Number


class UncoveredFeature(BaseModel):
    """An uncovered stretch (a Feature without an id)."""

    type: Literal["Feature"]
    geometry: Geometry | None
    properties: UncoveredProperties


Uncovered = FeatureCollection[UncoveredFeature]


class PatrolCreated(BaseModel):
    """A stored patrol: created now (201) or the one a retry names (200)."""

    id: int
    created: bool


class PatrolPublic(BaseModel):
    """A patrol in the list."""

    id: int
    team_id: int
    team_name: str
    source: PatrolSource
    mode: PatrolMode
    title: str | None
    started_at: datetime | None
    ended_at: datetime | None
    closed_at: datetime | None
    length_m: Number | None
    duration_s: Number | None
    points_raw: int | None
    points_kept: int | None
    quality_flags: list[QualityFlag]
    stale: bool


class PatrolInJurisdiction(BaseModel):
    """How far and how long a patrol went in one jurisdiction."""

    code: str
    name: str | None
    level: Level
    length_m: Number
    duration_s: Number | None
    entered_at: datetime | None
    exited_at: datetime | None


class Crossing(BaseModel):
    """Where and when a patrol crossed from one jurisdiction into another."""

    level: Level
    at: datetime | None
    from_code: str | None
    to_code: str | None
    lon: float
    lat: float


class SegmentCoverage(BaseModel):
    """How much of a river segment a patrol covered."""

    segment_id: int
    river_code: str
    river_name: str
    seq: int
    is_border: bool
    covered_m: Number
    fraction: Number


class PatrolProperties(BaseModel):
    """Everything computed about a patrol."""

    id: int
    team_id: int
    team_name: str
    source: PatrolSource
    mode: PatrolMode
    title: str | None
    started_at: datetime | None
    ended_at: datetime | None
    closed_at: datetime | None
    length_m: Number | None
    duration_s: Number | None
    points_raw: int | None
    points_kept: int | None
    dropped: dict[str, int] | None = Field(description="Fixes dropped by cleaning, by reason.")
    quality_flags: list[QualityFlag]
    upload_id: int | None
    device_id: int | None
    member_ids: list[int]
    jurisdictions: list[PatrolInJurisdiction]
    crossings: list[Crossing]
    coverage: list[SegmentCoverage]


PatrolFeature = Feature[PatrolProperties]


class EffortRow(BaseModel):
    """Patrols, metres and seconds of one group in one period."""

    period: datetime = Field(description="Start of the period, local time.")
    key: str
    name: str | None
    patrols: int
    length_m: Number | None
    duration_s: Number | None


class IncidentCreated(BaseModel):
    """A stored report: created now (201) or the one a retry names (200)."""

    id: int
    created: bool


class PhotoReportCreated(IncidentCreated):
    """A report with a photo, and the location it was filed at (given, or the photo's)."""

    lon: float
    lat: float


class IncidentProperties(BaseModel):
    """An incident in the list."""

    id: int
    category: str
    category_name: str
    severity: Severity
    status: IncidentStatus
    tier: Tier
    deadline_at: datetime | None
    overdue: bool | None
    lead_code: str | None
    is_joint: bool
    zone_id: int | None
    unrouted: bool
    duplicate_of: int | None
    segment_id: int | None
    source: str
    description: str | None
    address: str | None
    reported_at: datetime
    received_at: datetime
    resolved_at: datetime | None
    reopen_count: int
    co_codes: list[str] | None


class ResponsibleSide(BaseModel):
    """A jurisdiction answering for an incident."""

    code: str
    name: str | None
    level: Level
    role: ResponsibleRole
    direct: bool


class IncidentEvent(BaseModel):
    """A step in an incident's history."""

    at: datetime
    kind: str
    actor: str | None
    from_status: IncidentStatus | None
    to_status: IncidentStatus | None
    from_tier: Tier | None
    to_tier: Tier | None
    note: str | None


class PhotoPublic(BaseModel):
    """A photo of an incident (fetched stripped of metadata)."""

    id: int
    media_type: str
    size_bytes: int
    width: int
    height: int
    taken_at: datetime | None


class DuplicateReport(BaseModel):
    """A report linked to this one as its duplicate."""

    id: int
    reported_at: datetime


class Verification(BaseModel):
    """A patrol that passed the incident after it was resolved."""

    patrol_id: int
    passed_at: datetime | None
    distance_m: Number


class IncidentDetailProperties(IncidentProperties):
    """An incident with its sides, history, photos, duplicates and verifications."""

    responsible: list[ResponsibleSide]
    history: list[IncidentEvent]
    photos: list[PhotoPublic]
    duplicates: list[DuplicateReport]
    verifications: list[Verification]


Incidents = FeatureCollection[Feature[IncidentProperties]]
IncidentFeature = Feature[IncidentDetailProperties]


class IncidentCount(BaseModel):
    """How many incidents share a status, tier and lead jurisdiction."""

    status: IncidentStatus
    tier: Tier
    lead_code: str = Field(description="The lead jurisdiction, or 'unrouted'.")
    lead_name: str | None
    is_joint: bool
    incidents: int


class IncidentStatusChanged(BaseModel):
    """The incident's status after a workflow step."""

    id: int
    status: IncidentStatus


class IncidentTierChanged(BaseModel):
    """The incident's tier after an escalation or de-escalation."""

    id: int
    tier: Tier


class ExifLocation(BaseModel):
    """Where a photo's EXIF says it was taken."""

    lon: float
    lat: float


class PhotoAdded(BaseModel):
    """A stored photo, and the location its EXIF offers (not applied)."""

    id: int
    sha256: str
    exif_location: ExifLocation | None
    taken_at: IsoTime | None


class CategoryPublic(BaseModel):
    """An incident category with its three-tier rule and deadlines."""

    code: str
    name: str
    name_en: str
    initial_tier: dict[Severity, Tier]
    deadline_hours: dict[Tier, Number]


class AuditEntry(BaseModel):
    """One entry of the audit log."""

    id: int
    at: datetime
    member_id: int | None
    device_id: int | None
    actor: str | None
    action: str
    outcome: str
    target: str | None
    address: str | None
    detail: dict[str, Any] | None


# A spreadsheet answer, declared with its media type (for `responses=`).
CSV_ANSWER: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "A spreadsheet (UTF-8, a header row), as a download.",
        "content": {"text/csv": {"schema": {"type": "string"}}},
    }
}


# River chiefs (geo_patrol.duty.appointments, duty.roster, duty.rules).


class ChiefPublic(BaseModel):
    """A chief's appointment: who, which level and side, which stretch (as segments), when."""

    id: int
    member_id: int
    member_name: str
    level: ChiefLevel
    jurisdiction_code: str
    jurisdiction_name: str | None
    river_code: str
    river_name: str
    stretch_kind: StretchKind
    stretch_label: str | None
    valid_from: date
    valid_to: date | None  # the last day in force; null: in force
    joint_id: int | None
    replaces_id: int | None
    segment_ids: list[int]
    length_m: float


# A segment's seq along its river, and a lon/lat position.
Seq = Annotated[int, Field(ge=0, le=100_000)]
Position = tuple[Annotated[float, Field(ge=-180, le=180)], Annotated[float, Field(ge=-90, le=90)]]


class ChiefCreate(BaseModel):
    """Appoint a chief: the whole river, segments by seq, or between two points."""

    model_config = ConfigDict(extra="forbid")

    member_id: Id
    level: ChiefLevel
    side: Text = Field(min_length=2, max_length=32, description="Jurisdiction code.")
    river: Text = Field(min_length=1, max_length=200, description="River code or exact name.")
    stretch: StretchKind = StretchKind.RIVER
    seqs: list[Seq] = Field(default_factory=list, max_length=5000)
    points: list[Position] = Field(default_factory=list, max_length=2, description="lon, lat")
    label: Text | None = Field(default=None, max_length=200, description="As the office says.")
    valid_from: Day
    valid_to: Day | None = None


class ChiefEnd(BaseModel):
    """End an appointment on its last day."""

    model_config = ConfigDict(extra="forbid")

    last_day: Day


class ChiefReplace(BaseModel):
    """A new chief for the same stretch from a day (the old one ends the day before)."""

    model_config = ConfigDict(extra="forbid")

    member_id: Id
    valid_from: Day


class JointCreate(BaseModel):
    """Pair chiefs of two sides on a shared stretch as joint chiefs (联合河长)."""

    model_config = ConfigDict(extra="forbid")

    name: Text = Field(min_length=1, max_length=200)
    zone_id: Id | None = None
    appointment_ids: list[Id] = Field(min_length=2, max_length=20)


class RosterRowPublic(BaseModel):
    """What became of one row of a roster (ids are null in a dry run)."""

    row: int
    outcome: Literal["created", "unchanged", "ended"]
    appointment_id: int | None
    member_id: int | None
    member_created: bool


class RosterImportPublic(BaseModel):
    """Counts of a roster import (or of what a dry run would store), and each row."""

    dry_run: bool
    rows: int
    created: int
    unchanged: int
    ended: int
    members_created: int
    joints_created: int
    joints_unchanged: int
    outcomes: list[RosterRowPublic]


class DutyRulePublic(BaseModel):
    """A duty rule and its target (a level, a level in a zone, an appointment; or for joint
    pairs all, a zone, one pair)."""

    id: int
    joint: bool
    level: ChiefLevel | None
    zone_id: int | None
    appointment_id: int | None
    joint_id: int | None
    period: DutyPeriod
    required: int
    min_share: float
    min_length_m: float | None
    disqualifying_flags: list[str]


class DutyRuleSet(BaseModel):
    """Set the rule of one target, replacing the one it had."""

    model_config = ConfigDict(extra="forbid")

    level: ChiefLevel | None = None
    zone_id: Id | None = None
    appointment_id: Id | None = None
    joint: bool = False
    joint_id: Id | None = None
    period: DutyPeriod
    required: int = Field(ge=0, le=100, description="Patrols per period.")
    min_share: float = Field(default=0.3, ge=0, le=1, description="Of the stretch, to count.")
    min_length_m: float | None = Field(default=None, gt=0, le=1_000_000)
    disqualifying_flags: list[Annotated[str, Field(max_length=32)]] = Field(
        default_factory=lambda: ["too_fast", "mocked"], max_length=20
    )


# River chiefs' duty (巡河考核): geo_patrol.duty.assessment, .rollups, .reminders.


class DutyPeriodPublic(BaseModel):
    """A calendar period of duty (local days, China Standard Time)."""

    kind: DutyPeriod
    key: str = Field(description="2026-W49, 2026-12-D2 (旬), 2026-12, 2026-Q4")
    label: str = Field(description="As people name it, in the asked language.")
    label_zh: str = Field(description="In Chinese (the phone switches language itself).")
    label_en: str = Field(description="In English.")
    first_day: date
    last_day: date


class DutyCandidatePublic(BaseModel):
    """A patrol of the chief (or pair) in the period and why it counted or not."""

    patrol_id: int
    started_at: datetime
    team_id: int
    covered_m: float = Field(description="Metres of the stretch the patrol covered.")
    share: float = Field(description="Its coverage of the stretch, 0 to 1.")
    flags: list[str]
    reason: CandidateReason
    disqualified_by: list[str]
    counted: bool
    reason_text: str = Field(description="The reason in words, in the asked language.")


class DutyIncidents(BaseModel):
    """Incidents reported on the stretch in the period and where they stand."""

    total: int
    open: int
    overdue: int
    ids: list[int]


class ChiefDutyPublic(BaseModel):
    """One chief's duty in one period."""

    appointment_id: int
    member_id: int
    name: str
    level: ChiefLevel
    side_code: str
    side_name: str | None
    county_code: str | None
    river_code: str
    river_name: str
    stretch_label: str | None
    segment_ids: list[int]
    stretch_m: float
    joint_id: int | None
    zone_ids: list[int]
    period: DutyPeriodPublic
    required: int
    done: int
    status: DutyStatus
    due: date = Field(description="The period's last day (local).")
    covered_share: float = Field(description="Share of the stretch the counted patrols covered.")
    last_patrol_at: datetime | None
    min_share: float
    min_length_m: float | None
    candidates: list[DutyCandidatePublic]
    incidents: DutyIncidents


class MyDutyPublic(BaseModel):
    """One of the caller's appointments as river chief: the duty this period."""

    appointment_id: int
    level: ChiefLevel
    side_code: str
    side_name: str | None
    river_code: str
    river_name: str
    stretch_label: str | None
    stretch: Geometry | None
    stretch_m: Number
    period: DutyPeriodPublic
    done: int
    required: int
    due: date
    status: DutyStatus
    candidates: list[DutyCandidatePublic]


class ChiefDuties(BaseModel):
    """The visible chiefs' duty in the chosen periods."""

    on: date
    duties: list[ChiefDutyPublic]


class JointChief(BaseModel):
    """A chief of a joint pair, on one side."""

    appointment_id: int
    member_id: int
    name: str
    side_code: str


class JointDutyPublic(BaseModel):
    """A joint pair's duty: patrols both sides were on, credited once."""

    joint_id: int
    name: str
    zone_id: int | None
    chiefs: list[JointChief]
    segment_ids: list[int]
    stretch_m: float
    period: DutyPeriodPublic
    required: int
    done: int
    status: DutyStatus
    due: date
    candidates: list[DutyCandidatePublic]


class JointDuties(BaseModel):
    """The visible joint pairs' duty in the chosen periods."""

    on: date
    pairs: list[JointDutyPublic]


class DutyTally(BaseModel):
    """Chiefs assessed (something owed), by status, and the share meeting duty."""

    assessed: int
    met: int
    missed: int
    in_progress: int
    share: float | None = Field(description="met / assessed; null when none was assessed.")


class DutyRollup(DutyTally):
    """One group of a roll-up."""

    dimension: Literal["side", "county", "level", "zone", "river"]
    key: str
    name: str


class DutyTrendPoint(DutyTally):
    """The share meeting duty in one period, overall (side null) or on one side."""

    period: DutyPeriodPublic
    side: str | None


class DutySummaryPublic(BaseModel):
    """Roll-ups of the current periods and the trend over the last ones."""

    on: date
    periods: int
    overall: DutyTally
    rollups: list[DutyRollup]
    trend: list[DutyTrendPoint]


class DutyReminder(BaseModel):
    """A chief whose period ends soon with duty unmet (0 days left: the last day is today)."""

    days_left: int
    duty: ChiefDutyPublic


class DutyReminders(BaseModel):
    """Chiefs to remind, soonest first; and (on the first page) the overdue decisions of
    joint meetings to remind of: the caller's own, their sides', their zones'."""

    on: date
    within_days: int
    reminders: list[DutyReminder]
    decisions: list[DecisionPublic]


# --- Vector tiles: TileJSON 3.0 and MapLibre styles (geo-patrol 0.4.0) ----------------------


class TileJSONLayer(BaseModel):
    """One MVT layer of a tile: its name (`id`) and attributes (name: value type)."""

    id: str
    description: str
    fields: dict[str, str]
    minzoom: int
    maxzoom: int


class TileJSON(BaseModel):
    """A TileJSON 3.0.0 document (https://github.com/mapbox/tilejson-spec, 3.0.0)."""

    tilejson: Literal["3.0.0"]
    name: str
    attribution: str
    scheme: Literal["xyz"]
    tiles: list[str] = Field(description="Absolute URL templates with {z}, {x} and {y}.")
    minzoom: int = Field(ge=0, le=30)
    maxzoom: int = Field(ge=0, le=30)
    bounds: tuple[float, float, float, float] = Field(
        description="west, south, east, north in degrees"
    )
    center: tuple[float, float, int] = Field(description="longitude, latitude, zoom")
    vector_layers: list[TileJSONLayer]


class StyleSource(BaseModel):
    """A vector source of a style: the URL of its TileJSON."""

    type: Literal["vector"]
    url: str


class StyleLayer(BaseModel):
    """A line layer of a style, drawing one source layer (MapLibre style specification)."""

    model_config = ConfigDict(populate_by_name=True)

    id: str
    type: Literal["line"]
    source: str
    source_layer: str = Field(alias="source-layer")
    filter: list[Any]
    layout: dict[str, str]
    paint: dict[str, Any]


class MapStyle(BaseModel):
    """A MapLibre GL style, version 8 (no glyphs or sprites: line layers need neither)."""

    version: Literal[8]
    name: str
    sources: dict[str, StyleSource]
    layers: list[StyleLayer]


# --- Open311 GeoReport v2 (the JSON variants; the .xml ones carry the same fields) ---------


class Open311Endpoint(BaseModel):
    """Where a GeoReport v2 endpoint is and which formats it speaks."""

    specification: str
    url: str
    changeset: str
    type: str
    formats: list[str]


class Open311Discovery(BaseModel):
    """The service discovery document."""

    changeset: str
    contact: str
    key_service: str
    endpoints: list[Open311Endpoint]


class Open311Service(BaseModel):
    """A service: one active incident category (service_code = the category's code)."""

    service_code: str
    service_name: str
    description: str
    metadata: bool
    type: str
    keywords: str
    group: str


class Open311ServiceDefinition(BaseModel):
    """A service's definition: no extra attributes (metadata is false)."""

    service_code: str
    attributes: list[dict[str, Any]]


class Open311Created(BaseModel):
    """A request filed: its id and what happens next."""

    service_request_id: str
    service_notice: str
    account_id: None


class Open311PublicRequest(BaseModel):
    """A service request as the public read shows it (GEO_PATROL_OPEN311_PUBLIC_READ): the
    place rounded to 3 decimals, no text of the report."""

    service_request_id: str
    status: Literal["open", "closed"]
    service_name: str | None
    service_code: str
    agency_responsible: str | None
    requested_datetime: str | None
    updated_datetime: str | None
    lat: float
    long: float


class Open311Request(Open311PublicRequest):
    """A service request as its reader (an api_key, a bearer token) sees it."""

    status_notes: str | None
    description: str | None
    service_notice: str
    expected_datetime: str | None
    address: str | None
    address_id: None
    zipcode: None
    media_url: str | None


class Open311Error(BaseModel):
    """One refusal in the spec's format (the HTTP status and why)."""

    code: int
    description: str


class WebAppIcon(BaseModel):
    """One icon of the phone web app."""

    src: str
    sizes: str
    type: str


class WebAppManifest(BaseModel):
    """The phone web app's manifest (installable, scoped to /m/)."""

    name: str
    short_name: str
    start_url: str
    scope: str
    display: str
    orientation: str
    background_color: str
    theme_color: str
    lang: str
    icons: list[WebAppIcon]


class ImportRowError(BaseModel):
    """Why a row is refused: its row as Excel shows it, its column as the file names it."""

    row: int
    field: str
    detail: str


class IncidentImportRow(BaseModel):
    """What became (or, in a dry run, would become) of one row of an incident import, and how
    it is routed; a refused row lists why (its row as Excel shows it, the column, the reason)."""

    row: int
    outcome: Literal["stored", "would_store", "already_imported", "refused"]
    external_source: str | None
    external_id: str | None
    incident_id: int | None
    category: str | None
    tier: str | None
    lon: float | None = Field(description="WGS84, after the datum conversion.")
    lat: float | None
    placed_by: Literal["coordinates", "village point", "village area", "town area"] | None
    place_name: str | None
    jurisdiction: str | None = Field(description="The lead: the lowest level at the point.")
    responsible: list[str] = Field(description="The lead, then each co-responsible side.")
    joint: bool
    zone_id: int | None
    unrouted: bool
    errors: list[ImportRowError]


class IncidentImportPublic(BaseModel):
    """Counts of an incident import (or of what a dry run would store), and each row."""

    dry_run: bool
    filename: str | None
    sha256: str
    rows: int
    stored: int
    would_store: int
    already_imported: int
    refused: int
    results: list[IncidentImportRow]


class WaterImportRowError(BaseModel):
    """Why a row of a water import is refused: its line (a GeoJSON's feature number), its
    column as the file names it, the stable code and the reason in the reader's language."""

    row: int
    field: str
    code: str
    detail: str


class SectionImportRow(BaseModel):
    """What became (or, in a dry run, would become) of one row of a section import."""

    row: int
    outcome: Literal["added", "updated", "unchanged", "would_add", "would_update", "refused"]
    code: str | None
    section_id: int | None
    river: str | None = Field(description="The river's code.")
    segment_id: int | None
    lon: float | None = Field(description="The snapped point (WGS84).")
    lat: float | None
    snap_distance_m: float | None = Field(description="How far it moved (on the ellipsoid).")
    changed: list[str] = Field(description="What an update changes.")
    errors: list[WaterImportRowError]


class SectionImportPublic(BaseModel):
    """Counts of a section import (or of what a dry run would do), and each row."""

    dry_run: bool
    filename: str | None
    sha256: str
    rows: int
    added: int
    updated: int
    unchanged: int
    refused: int
    results: list[SectionImportRow]


class ReadingImportRow(BaseModel):
    """What became (or would become) of one row of a reading import, and its class."""

    row: int
    outcome: Literal["stored", "replaced", "unchanged", "would_store", "would_replace", "refused"]
    section: str | None
    section_id: int | None
    reading_id: int | None
    sampled_at: datetime | None
    water_class: int | None = Field(description="1..6 (6 = 劣V) by GB 3838-2002.")
    class_name: str | None
    target_class: int | None
    deciding: list[str]
    over_target: list[str]
    errors: list[WaterImportRowError]


class ReadingImportPublic(BaseModel):
    """Counts of a reading import, each row, the ids of the readings stored, and the joint
    water-quality cases they opened (a worse reading at a border section; water.rule)."""

    dry_run: bool
    filename: str | None
    sha256: str
    rows: int
    stored: int
    replaced: int
    unchanged: int
    refused: int
    reading_ids: list[int]
    cases: list[int]
    results: list[ReadingImportRow]


# --- Joint meetings and their decisions (议定事项督办, geo-patrol 0.5.0): geo_patrol.meetings ---


class MeetingAttendeeIn(BaseModel):
    """Someone at a meeting: a member, or a name (a guest), for a side of the zone or none."""

    model_config = ConfigDict(extra="forbid")

    side_code: Text | None = Field(default=None, max_length=32, description="A zone member.")
    member_id: Id | None = None
    name: Text | None = Field(default=None, max_length=200, description="A guest's name.")
    post: Text | None = Field(default=None, max_length=200)


class MeetingAttendeePublic(BaseModel):
    """Someone at a meeting (`name`: the member's when a member attended)."""

    side_code: str | None
    member_id: int | None
    name: str | None
    post: str | None


class AgendaItemBody(BaseModel):
    """An agenda item as adopted from the proposed agenda (or added by hand: `other`)."""

    model_config = ConfigDict(extra="forbid")

    kind: AgendaKind
    target_id: BigId | None = Field(default=None, description="The id of its object.")
    title: Text = Field(min_length=1, max_length=500)
    detail: dict[str, Any] = Field(default_factory=dict, description="As proposed, kept.")


class AgendaItemPublic(BaseModel):
    """An agenda item in its place (1, 2, ...)."""

    position: int
    kind: AgendaKind
    target_id: int | None
    title: str
    detail: dict[str, Any]


class MeetingCreate(BaseModel):
    """Prepare a meeting of a zone: when, where, the period it reviews, who, the agenda.
    A retry with the same zone, time and title answers the meeting already made."""

    model_config = ConfigDict(extra="forbid")

    zone: Text = Field(min_length=1, max_length=64, description="Cooperation zone code.")
    title: Text = Field(min_length=1, max_length=500)
    held_at: Moment
    place: Text | None = Field(default=None, max_length=500)
    period_from: Day
    period_to: Day
    attendees: list[MeetingAttendeeIn] = Field(default_factory=list, max_length=200)
    agenda: list[AgendaItemBody] = Field(default_factory=list, max_length=200)


class MeetingUpdate(BaseModel):
    """Change a meeting: only the fields given are written."""

    model_config = ConfigDict(extra="forbid")

    title: Text | None = Field(default=None, min_length=1, max_length=500)
    held_at: Moment | None = None
    place: Text | None = Field(default=None, max_length=500)
    period_from: Day | None = None
    period_to: Day | None = None
    status: MeetingStatus | None = None
    minutes: Text | None = Field(default=None, max_length=100_000)


class MeetingAttendeesSet(BaseModel):
    """A meeting's attendees, replacing those it had."""

    model_config = ConfigDict(extra="forbid")

    attendees: list[MeetingAttendeeIn] = Field(max_length=200)


class MeetingAgendaSet(BaseModel):
    """A meeting's agenda in order, replacing the one it had."""

    model_config = ConfigDict(extra="forbid")

    items: list[AgendaItemBody] = Field(max_length=200)


class MeetingPublic(BaseModel):
    """A joint meeting with its attendees and agenda (times UTC; the period's local days)."""

    id: int
    zone_id: int
    zone_code: str
    title: str
    held_at: datetime
    place: str | None
    period_from: date
    period_to: date
    status: MeetingStatus
    minutes: str | None
    attendees: list[MeetingAttendeePublic]
    agenda: list[AgendaItemPublic]


class DecisionOwnerIn(BaseModel):
    """A side of the zone responsible for a decision, and the member answering for it."""

    model_config = ConfigDict(extra="forbid")

    side_code: Text = Field(min_length=1, max_length=32)
    member_id: Id | None = None


class DecisionLinkIn(BaseModel):
    """An object a decision is about."""

    model_config = ConfigDict(extra="forbid")

    kind: DecisionLinkKind
    target_id: BigId


class DecisionCreate(BaseModel):
    """Record a decision: what, by when (a local day), who (at least one side), about what.
    A double submit (same text and deadline) answers the decision already recorded."""

    model_config = ConfigDict(extra="forbid")

    body: Text = Field(min_length=1, max_length=4000)
    deadline: Day
    owners: list[DecisionOwnerIn] = Field(min_length=1, max_length=20)
    links: list[DecisionLinkIn] = Field(default_factory=list, max_length=50)


class DecisionUpdateCreate(BaseModel):
    """An owner's update: a note, and optionally a new status or a new deadline."""

    model_config = ConfigDict(extra="forbid")

    note: Text | None = Field(default=None, max_length=4000)
    status: Literal["open", "in_progress", "done"] | None = None
    deadline: Day | None = None


class DecisionOwnerPublic(BaseModel):
    """A side responsible for a decision, and the member answering for it there."""

    side_code: str
    member_id: int | None
    member_name: str | None


class DecisionLinkPublic(BaseModel):
    """An object a decision is about, with a label to show."""

    kind: DecisionLinkKind
    target_id: int
    label: str | None


class DecisionUpdatePublic(BaseModel):
    """One step of a decision's history (created, status, deadline or note)."""

    id: int
    at: datetime
    kind: Literal["created", "status", "deadline", "note"]
    member_id: int | None
    actor: str | None
    from_status: str | None
    to_status: str | None
    to_deadline: date | None
    note: str | None


class DecisionPublic(BaseModel):
    """A decision: `status` as shown (overdue when not done past its deadline, local day),
    `stored_status` as its history left it; `updates` only on the single decision."""

    id: int
    meeting_id: int
    meeting_title: str
    meeting_held_at: datetime | None
    zone_code: str
    position: int
    body: str
    deadline: date
    status: DecisionStatus
    stored_status: Literal["open", "in_progress", "done"]
    done_at: datetime | None
    owners: list[DecisionOwnerPublic]
    links: list[DecisionLinkPublic]
    updates: list[DecisionUpdatePublic]


class ProposedItemPublic(BaseModel):
    """A proposed agenda item: what it is about, its object, its title in the asked
    language, its figures and the address of its object."""

    kind: AgendaKind
    target_id: int | None
    title: str
    detail: dict[str, Any]
    link: str


class ProposedAgendaPublic(BaseModel):
    """The proposed agenda of a zone for a period (local days, both included), in order:
    by kind (decision, incident, uncovered, chief, section), the most severe first."""

    zone: str
    date_from: date
    date_to: date
    items: list[ProposedItemPublic]


class KeptPackPublic(BaseModel):
    """A meeting pack kept with its meeting: the checksum and size of its bytes."""

    id: int
    sha256: str = Field(description="SHA-256 of the stored bytes, hexadecimal")
    size: int = Field(description="bytes")
    language: str
    kept_at: datetime
    kept_by: int | None


# Water-quality cases (water.case_leads): the reading that opened one, and its leads.


class OverLimitPublic(BaseModel):
    """A parameter over the limit of the section's target class."""

    parameter: str = Field(description="GB 3838 key: NH3-N, CODMn, DO, ...")
    value: float = Field(description="As measured (mg/L; pH none; FC per litre).")
    factor: float | None = Field(
        description="Exceedance factor (value − limit) / limit; none for DO and pH."
    )


class CaseSectionPublic(BaseModel):
    """The monitoring section of a reading."""

    id: int
    code: str
    name: str
    name_en: str | None
    kind: str
    river_code: str
    river_name: str


class CaseReadingPublic(BaseModel):
    """The reading that opened a water-quality case, classed by GB 3838-2002."""

    id: int
    sampled_at: datetime
    section: CaseSectionPublic
    water_class: int = Field(description="1..6 (6 = 劣V).")
    class_name: str = Field(description="I, II, III, IV, V or 劣V.")
    target_class: int
    target_name: str
    previous_class: int | None = Field(description="The section's previous classed reading.")
    previous_name: str | None
    over_limit: list[OverLimitPublic]


class CaseLeadPublic(BaseModel):
    """Something upstream of the section in the hours before the reading."""

    kind: Literal["patrol", "incident", "uncovered"]
    id: int = Field(description="The patrol's, the incident's or the segment's id.")
    upstream_m: float = Field(description="Metres above the section along the flow.")
    at: datetime | None = Field(description="When the patrol started or the report was made.")
    link: str
    river_code: str | None = Field(description="An uncovered stretch's river...")
    segment_seq: int | None = Field(description="...its segment's place along the drawn line...")
    from_fraction: float | None = Field(description="...and the part of that segment.")
    to_fraction: float | None
    length_m: float | None


class CaseLeadsPublic(BaseModel):
    """A case's reading (none if no reading opened it) and its leads, nearest first."""

    incident_id: int
    reading: CaseReadingPublic | None
    leads: list[CaseLeadPublic]


class RiverFlowUpdate(BaseModel):
    """Which way a river flows against its drawn line (null: not known)."""

    model_config = ConfigDict(extra="forbid")

    flow: Literal["as_drawn", "reversed"] | None


class RiverFlowPublic(BaseModel):
    """A river's flow as now stored, and whether it changed."""

    code: str
    flow: Literal["as_drawn", "reversed"] | None
    changed: bool


# Water quality at monitoring sections (geo_patrol.water.queries): classes are 1..6 (6 is
# 劣V), with the standard's words beside them.
WaterClass = Annotated[
    int, Field(ge=1, le=6, description="GB 3838-2002 class: 1..5 (I..V), 6 (劣V).")
]
TargetClass = Annotated[int, Field(ge=1, le=5, description="The target class: 1..5 (I..V).")]


class WaterTrendPoint(BaseModel):
    """One reading of a section's trend (oldest first)."""

    sampled_at: datetime
    water_class: WaterClass | None
    class_name: str | None


class WaterLatest(BaseModel):
    """A section's latest reading: its class against the target it was judged by, the
    parameters worse than the target and each one's exceedance factor ((value − limit) /
    limit; none for DO and pH)."""

    id: int
    sampled_at: datetime
    water_class: WaterClass | None
    class_name: str | None
    target_class: TargetClass
    worse_than_target: bool
    over_target: list[str]
    factors: dict[str, float]
    incident_id: int | None


class WaterSectionProperties(BaseModel):
    """A monitoring section: who runs it, its target, the sides it belongs to, its latest
    reading (none yet: null) and the classes of its last 12 readings."""

    id: int
    code: str
    name: str
    name_en: str | None
    kind: SectionKind
    water_body: WaterBody
    target_class: TargetClass
    target_class_name: str
    side_code: str | None
    sides: list[str]
    segment_id: int | None
    river_code: str
    river_name: str
    latest: WaterLatest | None
    trend: list[WaterTrendPoint]


class WaterSectionPublic(WaterSectionProperties):
    """A monitoring section with its point (WGS84)."""

    lon: float
    lat: float


class WaterSectionFeature(BaseModel):
    """A monitoring section as a GeoJSON Feature (its point)."""

    type: Literal["Feature"]
    id: int
    geometry: Geometry
    properties: WaterSectionProperties


WaterSections = FeatureCollection[WaterSectionFeature]


class WaterReadingPublic(BaseModel):
    """One sample of a section: what was measured (mg/L; pH; faecal coliform per litre),
    its class, the parameters that decided it and those worse than the target, each
    exceedance factor against the target, and the case it opened."""

    id: int
    section_id: int
    sampled_at: datetime
    water_class: WaterClass | None
    class_name: str | None
    target_class: TargetClass
    worse_than_target: bool
    measured: dict[str, float]
    deciding: list[str]
    factors: dict[str, float]
    over_target: list[str]
    incident_id: int | None
    source: str | None
