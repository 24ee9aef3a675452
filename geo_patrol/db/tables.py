"""Tables. Geometry is stored in EPSG:4326 (lon/lat); every spatial predicate has a GiST index."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Identity,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, NUMMULTIRANGE
from sqlalchemy.orm import Mapped, mapped_column, relationship

from geo_patrol.core.vocabulary import (
    AgendaKind,
    ChiefLevel,
    DecisionLinkKind,
    DutyPeriod,
    IncidentStatus,
    LeadKind,
    Level,
    MeetingStatus,
    PatrolMode,
    PatrolSource,
    ResponsibleRole,
    RiverFlow,
    Role,
    SectionKind,
    Severity,
    StretchKind,
    Tier,
    TokenScope,
    WaterBody,
    values,
)
from geo_patrol.db.engine import Base

# The local (China Standard Time) day, as the database computes it.
LOCAL_DAY = "(now() AT TIME ZONE 'Asia/Shanghai')::date"

# The vocabularies as plain words (core.vocabulary), for the CHECK constraints: their text
# stays exactly what the migrations wrote ("level IN ('province', ...)").
LEVELS = values(Level)
LEVEL_RANK = {level: rank for rank, level in enumerate(LEVELS)}
SRID = 4326


def _geometry(kind: str) -> Geometry:
    """A 4326 geometry column whose GiST index is declared explicitly in __table_args__."""
    return Geometry(geometry_type=kind, srid=SRID, spatial_index=False)


class Jurisdiction(Base):
    """One version of an administrative area's boundary.

    Boundaries change (towns merge, villages are redrawn). Like MapIt's generations, an import
    never edits a boundary in place: a changed boundary closes the version in force
    (valid_to = the import time) and adds a new one, so an incident reported last year is
    still routed by the boundary that was in force then. `code` (GB/T 2260 and the longer
    town/village codes) is the stable identity across versions; `parent_code` links levels.
    """

    __tablename__ = "jurisdictions"
    __table_args__ = (
        CheckConstraint(f"level IN {LEVELS!r}", name="level"),
        CheckConstraint("valid_to IS NULL OR valid_to > valid_from", name="validity"),
        UniqueConstraint("code", "valid_from"),
        Index("ix_jurisdictions_geom", "geom", postgresql_using="gist"),
        Index(
            "ix_jurisdictions_code_in_force",
            "code",
            unique=True,
            postgresql_where=text("valid_to IS NULL"),
        ),
        Index("ix_jurisdictions_parent_code", "parent_code"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(Text)
    name_en: Mapped[str | None] = mapped_column(Text)
    level: Mapped[str] = mapped_column(String(16))
    parent_code: Mapped[str | None] = mapped_column(String(32))
    geom: Mapped[WKBElement] = mapped_column(_geometry("MULTIPOLYGON"))
    geom_hash: Mapped[str] = mapped_column(String(32))
    valid_from: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    valid_to: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    source: Mapped[str | None] = mapped_column(Text)


class JurisdictionPart(Base):
    """A small piece of a jurisdiction (ST_Subdivide), for fast point-in-polygon joins.

    A county polygon has thousands of vertices; an index probe returns its whole bounding box
    and the containment test then walks every vertex. Subdivided parts of at most 255 vertices
    keep both cheap. A database trigger keeps the parts in step with `jurisdictions`.
    """

    __tablename__ = "jurisdiction_parts"
    __table_args__ = (Index("ix_jurisdiction_parts_geom", "geom", postgresql_using="gist"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    jurisdiction_id: Mapped[int] = mapped_column(
        ForeignKey("jurisdictions.id", ondelete="CASCADE"), index=True
    )
    geom: Mapped[WKBElement] = mapped_column(_geometry("POLYGON"))


class JurisdictionLeaf(Base):
    """A small piece of the area of a jurisdiction in force that none of its children covers.

    Where the parts hold every level (a point lies in one part per level), the leaves hold
    only the lowest level present at each place, so a point lies in about one leaf piece:
    "the lowest-level jurisdiction containing the point" is one index probe. Only versions
    in force have leaves; a database trigger rebuilds them when a boundary or child changes.
    """

    __tablename__ = "jurisdiction_leaves"
    __table_args__ = (Index("ix_jurisdiction_leaves_geom", "geom", postgresql_using="gist"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    jurisdiction_id: Mapped[int] = mapped_column(
        ForeignKey("jurisdictions.id", ondelete="CASCADE"), index=True
    )
    geom: Mapped[WKBElement] = mapped_column(_geometry("POLYGON"))


class CooperationZone(Base):
    """A cooperation zone (协作区): jurisdictions on both sides of a border working together.

    The border-zone width is the distance from the line between two member jurisdictions
    within which a report is treated as a joint case for both sides.
    """

    __tablename__ = "cooperation_zones"
    __table_args__ = (CheckConstraint("border_zone_width_m >= 0", name="width"),)

    id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    border_zone_width_m: Mapped[float] = mapped_column(Float, server_default=text("200"))
    members: Mapped[list[CooperationZoneMember]] = relationship(
        cascade="all, delete-orphan", lazy="selectin"
    )
    agreements: Mapped[list[ZoneAgreement]] = relationship(
        cascade="all, delete-orphan", lazy="selectin"
    )


class CooperationZoneMember(Base):
    """A jurisdiction (by code, so it survives boundary versions) taking part in a zone."""

    __tablename__ = "cooperation_zone_members"

    zone_id: Mapped[int] = mapped_column(
        ForeignKey("cooperation_zones.id", ondelete="CASCADE"), primary_key=True
    )
    jurisdiction_code: Mapped[str] = mapped_column(String(32), primary_key=True)


class ZoneAgreement(Base):
    """An agreement signed by the members of a zone (e.g. joint protection of border waters)."""

    __tablename__ = "zone_agreements"

    id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    zone_id: Mapped[int] = mapped_column(
        ForeignKey("cooperation_zones.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(Text)
    signed_on: Mapped[date | None] = mapped_column(Date)
    summary: Mapped[str | None] = mapped_column(Text)


class River(Base):
    """A river or canal as imported; patrol coverage is counted on its segments."""

    __tablename__ = "rivers"
    __table_args__ = (
        Index("ix_rivers_geom", "geom", postgresql_using="gist"),
        CheckConstraint(f"flow IS NULL OR flow IN {values(RiverFlow)!r}", name="flow"),
    )

    id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(Text)
    name_en: Mapped[str | None] = mapped_column(Text)
    geom: Mapped[WKBElement] = mapped_column(_geometry("MULTILINESTRING"))
    geom_hash: Mapped[str] = mapped_column(String(32))
    source: Mapped[str | None] = mapped_column(Text)
    # Which way the water runs against the drawn line (NULL: not known; migration 0019).
    flow: Mapped[str | None] = mapped_column(String(16))
    segments: Mapped[list[RiverSegment]] = relationship(
        cascade="all, delete-orphan", order_by="RiverSegment.seq"
    )


class RiverSegment(Base):
    """A stretch of a river (about a kilometre); `is_border` when more than one side shares it."""

    __tablename__ = "river_segments"
    __table_args__ = (
        UniqueConstraint("river_id", "seq"),
        Index("ix_river_segments_geom", "geom", postgresql_using="gist"),
    )

    id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    river_id: Mapped[int] = mapped_column(ForeignKey("rivers.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    geom: Mapped[WKBElement] = mapped_column(_geometry("LINESTRING"))
    length_m: Mapped[float] = mapped_column(Float)
    is_border: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    # Along the flow (migration 0019; NULL while the river's flow is not known): 0 is the
    # most upstream segment, and flow_start_m the metres of river above this segment.
    flow_order: Mapped[int | None] = mapped_column(Integer)
    flow_start_m: Mapped[float | None] = mapped_column(Float)
    sides: Mapped[list[RiverSegmentSide]] = relationship(
        cascade="all, delete-orphan", lazy="selectin"
    )


class RiverSegmentSide(Base):
    """A town responsible for a segment, with its river chief (河长) for that stretch."""

    __tablename__ = "river_segment_sides"

    segment_id: Mapped[int] = mapped_column(
        ForeignKey("river_segments.id", ondelete="CASCADE"), primary_key=True
    )
    jurisdiction_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    river_chief: Mapped[str | None] = mapped_column(Text)


class Village(Base):
    """A settlement as a point (where the village committee sits)."""

    __tablename__ = "villages"
    __table_args__ = (Index("ix_villages_geom", "geom", postgresql_using="gist"),)

    id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(Text)
    village_code: Mapped[str | None] = mapped_column(String(32))
    geom: Mapped[WKBElement] = mapped_column(_geometry("POINT"))


class Team(Base):
    """A patrol team (巡河队); joint teams have members from both sides and belong to a zone."""

    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    name: Mapped[str] = mapped_column(Text, unique=True)
    zone_id: Mapped[int | None] = mapped_column(
        ForeignKey("cooperation_zones.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Member(Base):
    """A person: patrol member, river chief, supervisor; belongs to a home jurisdiction."""

    __tablename__ = "members"

    id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(String(32), unique=True)
    home_jurisdiction_code: Mapped[str] = mapped_column(String(32), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    login: Mapped[str | None] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str | None] = mapped_column(Text)
    is_active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    email: Mapped[str | None] = mapped_column(Text)


class TeamMember(Base):
    """Membership of a member in a team."""

    __tablename__ = "team_members"

    team_id: Mapped[int] = mapped_column(
        ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True
    )
    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(16), server_default=text("'member'"))


class Device(Base):
    """A phone of a member. Its token (shown once, stored hashed) is its bearer credential,
    and also its identifier for the OsmAnd/Traccar protocol, which has no other secret."""

    __tablename__ = "devices"

    id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(Text)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    token_hint: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    last_seen_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class DeviceTeam(Base):
    """A team a device was issued for: it acts for these teams only, never for the other
    teams of its member (what its issuer may grant: a lead, the teams they lead)."""

    __tablename__ = "device_teams"

    device_id: Mapped[int] = mapped_column(
        ForeignKey("devices.id", ondelete="CASCADE"), primary_key=True
    )
    team_id: Mapped[int] = mapped_column(
        ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True, index=True
    )


ROLES = values(Role)


class MemberRole(Base):
    """A role held by a member over a scope: a jurisdiction subtree, a zone or a team.

    supervisor: a jurisdiction and everything under it; zone_coordinator: the joint matters
    of one cooperation zone; team_lead and patrol_member: one team; observer: read-only over a
    jurisdiction subtree or a zone; admin: everything, no scope.
    """

    __tablename__ = "member_roles"
    __table_args__ = (
        CheckConstraint(f"role IN {ROLES!r}", name="role"),
        CheckConstraint(
            "(role = 'admin' AND jurisdiction_code IS NULL AND zone_id IS NULL AND team_id IS NULL)"
            " OR (role = 'supervisor' AND jurisdiction_code IS NOT NULL)"
            " OR (role = 'zone_coordinator' AND zone_id IS NOT NULL)"
            " OR (role IN ('team_lead', 'patrol_member') AND team_id IS NOT NULL)"
            " OR (role = 'observer' AND (jurisdiction_code IS NOT NULL OR zone_id IS NOT NULL))",
            name="scope",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(32))
    jurisdiction_code: Mapped[str | None] = mapped_column(String(32))
    zone_id: Mapped[int | None] = mapped_column(
        ForeignKey("cooperation_zones.id", ondelete="CASCADE")
    )
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class ApiToken(Base):
    """A member's personal bearer token for the API (shown once, stored as a SHA-256 hash)."""

    __tablename__ = "api_tokens"
    __table_args__ = (CheckConstraint(f"scope IN {values(TokenScope)!r}", name="scope"),)

    id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(Text)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    scope: Mapped[str] = mapped_column(String(16), server_default=TokenScope.FULL.value)


class WebSession(Base):
    """A signed-in browser: the cookie holds a random id whose hash is stored here."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    address: Mapped[str | None] = mapped_column(String(64))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class KnownBrowser(Base):
    """A browser its member signed in with: its long-lived cookie (stored hashed) exempts the
    member's sign-in there from the delays that failures of others put on the account and
    the address."""

    __tablename__ = "known_browsers"

    id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AuditEntry(Base):
    """Who did what, when, from where: logins, failures, tokens, and every write."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_at", "at"),
        Index("ix_audit_log_action_at", "action", "at"),
        Index("ix_audit_log_address_at", "address", "at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    member_id: Mapped[int | None] = mapped_column(Integer)
    device_id: Mapped[int | None] = mapped_column(Integer)
    actor: Mapped[str | None] = mapped_column(Text)
    action: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(16))
    target: Mapped[str | None] = mapped_column(Text)
    address: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict[str, object] | None] = mapped_column(JSONB)


PATROL_MODES = values(PatrolMode)


class Upload(Base):
    """An uploaded track file exactly as sent (kept on disk by checksum), for idempotence."""

    __tablename__ = "uploads"
    __table_args__ = (
        UniqueConstraint("team_id", "sha256"),
        Index(
            "ix_uploads_team_client_id",
            "team_id",
            "client_upload_id",
            unique=True,
            postgresql_where=text("client_upload_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    client_upload_id: Mapped[str | None] = mapped_column(String(128))
    sha256: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    format: Mapped[str] = mapped_column(String(16))
    filename: Mapped[str] = mapped_column(Text)
    datum: Mapped[str] = mapped_column(String(16))
    member_id: Mapped[int | None] = mapped_column(Integer)
    device_id: Mapped[int | None] = mapped_column(Integer)
    received_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    patrol_id: Mapped[int | None] = mapped_column(BigInteger)


class Patrol(Base):
    """One outing of a team: a cleaned GPS track with its statistics and quality flags."""

    __tablename__ = "patrols"
    __table_args__ = (
        CheckConstraint(f"mode IN {PATROL_MODES!r}", name="mode"),
        CheckConstraint(f"source IN {values(PatrolSource)!r}", name="source"),
        Index("ix_patrols_track", "track", postgresql_using="gist"),
        Index("ix_patrols_team_started", "team_id", "started_at"),
        Index(
            "ix_patrols_open_device",
            "device_id",
            unique=True,
            postgresql_where=text("closed_at IS NULL AND source = 'live'"),
        ),
        Index("ix_patrols_live_device", "device_id", postgresql_where=text("source = 'live'")),
        # A river chief's patrols are found by member and by the device that recorded them.
        Index("ix_patrols_device_started", "device_id", "started_at"),
        # The patrol list's keyset order (newest first; migration 0017).
        Index("ix_patrols_list_order", text("coalesce(started_at, created_at)"), "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(String(16))
    mode: Mapped[str] = mapped_column(String(8), server_default=text("'foot'"))
    title: Mapped[str | None] = mapped_column(Text)
    device_id: Mapped[int | None] = mapped_column(Integer)
    upload_id: Mapped[int | None] = mapped_column(BigInteger)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    points_raw: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    points_kept: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    dropped: Mapped[dict[str, int] | None] = mapped_column(JSONB)
    length_m: Mapped[float | None] = mapped_column(Float)
    duration_s: Mapped[float | None] = mapped_column(Float)
    quality_flags: Mapped[list[str] | None] = mapped_column(JSONB)
    stale: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    track: Mapped[WKBElement | None] = mapped_column(_geometry("LINESTRING"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # The local day the row was made, never changed: the month partition of its raw fixes.
    patrol_day: Mapped[date] = mapped_column(Date, server_default=text(LOCAL_DAY))


class PatrolMember(Base):
    """A member who was on a patrol."""

    __tablename__ = "patrol_members"

    patrol_id: Mapped[int] = mapped_column(
        ForeignKey("patrols.id", ondelete="CASCADE"), primary_key=True
    )
    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class PatrolPoint(Base):
    """A GPS fix as received (raw points are kept); `ord` orders the cleaned track.

    The big table: a county produces millions a day. Partitioned by month of its patrol's
    `patrol_day` (migration 0020, geo_patrol.patrols.partitions): every read gives the day,
    so one partition is searched, and old months of raw fixes can be dropped whole.
    """

    __tablename__ = "patrol_points"
    __table_args__ = (
        Index("ix_patrol_points_geom", "geom", postgresql_using="brin"),  # see migration 0007
        Index(
            "ix_patrol_points_live_time",
            "patrol_id",
            "time",
            "patrol_day",
            unique=True,
            postgresql_where=text("live"),
        ),
        {"postgresql_partition_by": "RANGE (patrol_day)"},
    )

    # References patrols(id) ON DELETE CASCADE through statement-level triggers rather than
    # a foreign key, whose row-by-row check was half the cost of storing an upload (0008).
    patrol_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    ord: Mapped[int | None] = mapped_column(Integer)
    time: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    geom: Mapped[WKBElement] = mapped_column(_geometry("POINT"))
    ele: Mapped[float | None] = mapped_column(Float)
    accuracy_m: Mapped[float | None] = mapped_column(Float)
    live: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    mock: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    drop_reason: Mapped[str | None] = mapped_column(String(32))
    patrol_day: Mapped[date] = mapped_column(Date, primary_key=True)


class PatrolJurisdiction(Base):
    """Effort of a patrol inside one jurisdiction (every level): metres, seconds, in and out."""

    __tablename__ = "patrol_jurisdictions"

    patrol_id: Mapped[int] = mapped_column(
        ForeignKey("patrols.id", ondelete="CASCADE"), primary_key=True
    )
    jurisdiction_id: Mapped[int] = mapped_column(
        ForeignKey("jurisdictions.id", ondelete="CASCADE"), primary_key=True
    )
    code: Mapped[str] = mapped_column(String(32), index=True)
    level: Mapped[str] = mapped_column(String(16))
    length_m: Mapped[float] = mapped_column(Float)
    duration_s: Mapped[float] = mapped_column(Float)
    entered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    exited_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class PatrolCrossing(Base):
    """A confirmed border crossing: when, where, from which jurisdiction to which, at a level."""

    __tablename__ = "patrol_crossings"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    patrol_id: Mapped[int] = mapped_column(ForeignKey("patrols.id", ondelete="CASCADE"), index=True)
    level: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    from_code: Mapped[str] = mapped_column(String(32))
    to_code: Mapped[str] = mapped_column(String(32))
    geom: Mapped[WKBElement] = mapped_column(_geometry("POINT"))


class PatrolCoverage(Base):
    """The part of a river segment within the coverage distance of a patrol's track."""

    __tablename__ = "patrol_coverage"
    __table_args__ = (Index("ix_patrol_coverage_geom", "covered", postgresql_using="gist"),)

    patrol_id: Mapped[int] = mapped_column(
        ForeignKey("patrols.id", ondelete="CASCADE"), primary_key=True
    )
    segment_id: Mapped[int] = mapped_column(
        ForeignKey("river_segments.id", ondelete="CASCADE"), primary_key=True
    )
    covered_m: Mapped[float] = mapped_column(Float)
    fraction: Mapped[float] = mapped_column(Float)
    # The covered stretches as fractions along the segment (linear referencing), so the
    # union over many patrols and the uncovered rest are exact range arithmetic.
    ranges: Mapped[Any] = mapped_column(NUMMULTIRANGE)
    covered: Mapped[WKBElement] = mapped_column(_geometry("MULTILINESTRING"))


INCIDENT_STATUSES = values(IncidentStatus)
# Statuses of a case still being handled (its deadline runs; it can escalate).
OPEN_STATUSES = ("reported", "assigned", "accepted", "in_progress", "reopened")
# The same as an SQL list, for queries (constants only).
TIERS = values(Tier)
SEVERITIES = values(Severity)


class IncidentCategory(Base):
    """A kind of report (illegal discharge, aquaculture pollution...); configurable."""

    __tablename__ = "incident_categories"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    name_en: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))


class TierRule(Base):
    """The three-tier rule: the tier a new report starts at, by category and severity."""

    __tablename__ = "tier_rules"
    __table_args__ = (
        CheckConstraint(f"severity IN {SEVERITIES!r}", name="severity"),
        CheckConstraint(f"tier IN {TIERS!r}", name="tier"),
    )

    category: Mapped[str] = mapped_column(
        ForeignKey("incident_categories.code", ondelete="CASCADE"), primary_key=True
    )
    severity: Mapped[str] = mapped_column(String(16), primary_key=True)
    tier: Mapped[str] = mapped_column(String(16))


class TierDeadline(Base):
    """How long a tier has to resolve a category before the case escalates."""

    __tablename__ = "tier_deadlines"
    __table_args__ = (CheckConstraint(f"tier IN {TIERS!r}", name="tier"),)

    category: Mapped[str] = mapped_column(
        ForeignKey("incident_categories.code", ondelete="CASCADE"), primary_key=True
    )
    tier: Mapped[str] = mapped_column(String(16), primary_key=True)
    hours: Mapped[float] = mapped_column(Float)


class Incident(Base):
    """A pollution report or border dispute at a point, with its owner(s) and state."""

    __tablename__ = "incidents"
    __table_args__ = (
        CheckConstraint(f"status IN {INCIDENT_STATUSES!r}", name="status"),
        CheckConstraint(f"tier IN {TIERS!r}", name="tier"),
        CheckConstraint(f"severity IN {SEVERITIES!r}", name="severity"),
        Index("ix_incidents_geom", "geom", postgresql_using="gist"),
        Index("ix_incidents_status_deadline", "status", "deadline_at"),
        # The duty assessment tallies each stretch's incidents of a period (migration 0013).
        Index("ix_incidents_segment_reported", "segment_id", "reported_at"),
        Index(
            "ix_incidents_client_id",
            "source",
            "client_id",
            unique=True,
            postgresql_where=text("client_id IS NOT NULL"),
        ),
        # An imported report: the other platform's name and its id for it (migration 0016).
        CheckConstraint("(external_source IS NULL) = (external_id IS NULL)", name="external_pair"),
        Index(
            "ix_incidents_external_id",
            "external_source",
            "external_id",
            unique=True,
            postgresql_where=text("external_id IS NOT NULL"),
        ),
        # The incident list's keyset order (newest first; migration 0017).
        Index("ix_incidents_list_order", "reported_at", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    source: Mapped[str] = mapped_column(String(16))
    client_id: Mapped[str | None] = mapped_column(String(128))
    category: Mapped[str] = mapped_column(ForeignKey("incident_categories.code"))
    severity: Mapped[str] = mapped_column(String(16))
    description: Mapped[str | None] = mapped_column(Text)
    reporter_member_id: Mapped[int | None] = mapped_column(Integer)
    reporter_name: Mapped[str | None] = mapped_column(Text)
    reporter_contact: Mapped[str | None] = mapped_column(Text)
    address: Mapped[str | None] = mapped_column(Text)
    reported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    received_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    geom: Mapped[WKBElement] = mapped_column(_geometry("POINT"))
    datum: Mapped[str] = mapped_column(String(16), server_default=text("'wgs84'"))
    status: Mapped[str] = mapped_column(String(16), server_default=text("'reported'"))
    tier: Mapped[str] = mapped_column(String(16))
    deadline_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    lead_code: Mapped[str | None] = mapped_column(String(32), index=True)
    is_joint: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    zone_id: Mapped[int | None] = mapped_column(Integer)
    unrouted: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    segment_id: Mapped[int | None] = mapped_column(Integer)
    duplicate_of: Mapped[int | None] = mapped_column(BigInteger, index=True)
    patrol_id: Mapped[int | None] = mapped_column(BigInteger)
    reopen_count: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    external_source: Mapped[str | None] = mapped_column(Text)
    external_id: Mapped[str | None] = mapped_column(Text)


class IncidentResponsible(Base):
    """A jurisdiction answering for an incident: the lead's chain, and each co-responsible side."""

    __tablename__ = "incident_responsibles"
    __table_args__ = (CheckConstraint(f"role IN {values(ResponsibleRole)!r}", name="role"),)

    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True
    )
    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    level: Mapped[str] = mapped_column(String(16))
    role: Mapped[str] = mapped_column(String(8))
    direct: Mapped[bool] = mapped_column(Boolean)


class IncidentEvent(Base):
    """One step in an incident's history; the table refuses UPDATE and DELETE."""

    __tablename__ = "incident_events"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    kind: Mapped[str] = mapped_column(String(32))
    member_id: Mapped[int | None] = mapped_column(Integer)
    actor: Mapped[str | None] = mapped_column(Text)
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str | None] = mapped_column(String(16))
    from_tier: Mapped[str | None] = mapped_column(String(16))
    to_tier: Mapped[str | None] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)


class IncidentPhoto(Base):
    """A photo of an incident, stored outside the database by checksum."""

    __tablename__ = "incident_photos"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), index=True
    )
    sha256: Mapped[str] = mapped_column(String(64))
    media_type: Mapped[str] = mapped_column(String(32))
    size_bytes: Mapped[int] = mapped_column(Integer)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    taken_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class IncidentVerification(Base):
    """A patrol that passed a resolved incident after its resolution: evidence it holds."""

    __tablename__ = "incident_verifications"

    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True
    )
    patrol_id: Mapped[int] = mapped_column(
        ForeignKey("patrols.id", ondelete="CASCADE"), primary_key=True
    )
    passed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    distance_m: Mapped[float] = mapped_column(Float)


CHIEF_LEVELS = values(ChiefLevel)


class JointAppointment(Base):
    """A joint river chief post (联合河长): chiefs of both sides appointed together for one
    stretch of a border river. Each side's chief keeps an appointment of their own (with its
    own duty); the pair is assessed once more on the patrols both sides were on."""

    __tablename__ = "joint_appointments"

    id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    zone_id: Mapped[int | None] = mapped_column(
        ForeignKey("cooperation_zones.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class ChiefAppointment(Base):
    """A member appointed river chief (河长) of a stretch, at a level, for one side.

    Like boundaries, appointments are never edited in place: a change ends the appointment
    in force (valid_to = its last day) and adds a new one, so last year's assessment still
    names last year's chief. Dates are local (China Standard Time) calendar days, both ends
    included; valid_to NULL is in force. The stretch is a set of whole river segments
    (`chief_stretches`), however the appointment named it (`stretch_kind`).
    """

    __tablename__ = "chief_appointments"
    __table_args__ = (
        CheckConstraint(f"level IN {CHIEF_LEVELS!r}", name="level"),
        CheckConstraint(f"stretch_kind IN {values(StretchKind)!r}", name="stretch_kind"),
        CheckConstraint("valid_to IS NULL OR valid_to >= valid_from", name="validity"),
        Index("ix_chief_appointments_jurisdiction_code", "jurisdiction_code"),
    )

    id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    level: Mapped[str] = mapped_column(String(16))
    jurisdiction_code: Mapped[str] = mapped_column(String(32))
    river_id: Mapped[int] = mapped_column(ForeignKey("rivers.id", ondelete="CASCADE"), index=True)
    stretch_kind: Mapped[str] = mapped_column(String(16))
    stretch_label: Mapped[str | None] = mapped_column(Text)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    joint_id: Mapped[int | None] = mapped_column(
        ForeignKey("joint_appointments.id", ondelete="SET NULL"), index=True
    )
    replaces_id: Mapped[int | None] = mapped_column(Integer)
    source: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class ChiefStretch(Base):
    """A river segment of a chief's stretch."""

    __tablename__ = "chief_stretches"

    appointment_id: Mapped[int] = mapped_column(
        ForeignKey("chief_appointments.id", ondelete="CASCADE"), primary_key=True
    )
    segment_id: Mapped[int] = mapped_column(
        ForeignKey("river_segments.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class DutyRule(Base):
    """How often a chief must patrol and what makes a patrol count.

    One rule per level (the default), overridden per cooperation zone and per appointment;
    `joint` rules do the same for the joint pairs (per zone or per joint appointment). The
    most specific rule applies whole (duty.rules).
    """

    __tablename__ = "duty_rules"
    __table_args__ = (
        CheckConstraint(f"level IS NULL OR level IN {CHIEF_LEVELS!r}", name="level"),
        CheckConstraint(f"period IN {values(DutyPeriod)!r}", name="period"),
        CheckConstraint("required >= 0", name="required"),
        CheckConstraint("min_share >= 0 AND min_share <= 1", name="min_share"),
        CheckConstraint("min_length_m IS NULL OR min_length_m > 0", name="min_length"),
        CheckConstraint(
            "(NOT joint AND joint_id IS NULL AND level IS NOT NULL AND appointment_id IS NULL)"
            " OR (NOT joint AND joint_id IS NULL AND level IS NULL AND zone_id IS NULL"
            " AND appointment_id IS NOT NULL)"
            " OR (joint AND level IS NULL AND appointment_id IS NULL"
            " AND (zone_id IS NULL OR joint_id IS NULL))",
            name="target",
        ),
        Index(
            "ix_duty_rules_target",
            text("coalesce(level, '')"),
            text("coalesce(zone_id, 0)"),
            text("coalesce(appointment_id, 0)"),
            text("coalesce(joint_id, 0)"),
            "joint",
            unique=True,
        ),
    )

    id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    joint: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    level: Mapped[str | None] = mapped_column(String(16))
    zone_id: Mapped[int | None] = mapped_column(
        ForeignKey("cooperation_zones.id", ondelete="CASCADE")
    )
    appointment_id: Mapped[int | None] = mapped_column(
        ForeignKey("chief_appointments.id", ondelete="CASCADE")
    )
    joint_id: Mapped[int | None] = mapped_column(
        ForeignKey("joint_appointments.id", ondelete="CASCADE")
    )
    period: Mapped[str] = mapped_column(String(16))
    required: Mapped[int] = mapped_column(Integer)
    min_share: Mapped[float] = mapped_column(Float, server_default=text("0.3"))
    min_length_m: Mapped[float | None] = mapped_column(Float)
    disqualifying_flags: Mapped[list[str]] = mapped_column(
        JSONB, server_default=text('\'["too_fast", "mocked"]\'::jsonb')
    )


DIGEST_CHANNELS = ("smtp", "webhook")
DIGEST_STATUSES = ("pending", "sent", "failed", "skipped")


class DutyDigest(Base):
    """A daily digest of chiefs due soon, to one supervisor over one channel (duty.digest).

    The unique (day, member, channel) row is claimed before the digest is sent, so it goes out
    at most once a local day however many nodes try; a failed send is tried again on a later
    round, `attempts` times at most. `chiefs` is how many chiefs it listed.
    """

    __tablename__ = "duty_digests"
    __table_args__ = (
        CheckConstraint(f"channel IN {DIGEST_CHANNELS!r}", name="channel"),
        CheckConstraint(f"status IN {DIGEST_STATUSES!r}", name="status"),
        UniqueConstraint("day", "member_id", "channel"),
    )

    id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    chiefs: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    last_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


# Joint meetings and their decisions (议定事项督办; migration 0018): geo_patrol.meetings.


class Meeting(Base):
    """A joint meeting of a cooperation zone (联席会议, 月度会商): when and where, the period
    it reviews, its minutes. Planned while it is prepared from the proposed agenda; held once
    its decisions are recorded. Times are stored in UTC; the period's ends are local days."""

    __tablename__ = "meetings"
    __table_args__ = (
        CheckConstraint(f"status IN {values(MeetingStatus)!r}", name="status"),
        CheckConstraint("period_to >= period_from", name="period"),
        Index("ix_meetings_zone_held", "zone_id", "held_at"),
    )

    id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    zone_id: Mapped[int] = mapped_column(ForeignKey("cooperation_zones.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(Text)
    held_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    place: Mapped[str | None] = mapped_column(Text)
    period_from: Mapped[date] = mapped_column(Date)
    period_to: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), server_default=text("'planned'"))
    minutes: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class MeetingAttendee(Base):
    """Someone at a meeting, for a side of the zone (NULL: for the zone or a guest): a member,
    or a name only (a guest from the environment bureau)."""

    __tablename__ = "meeting_attendees"
    __table_args__ = (CheckConstraint("member_id IS NOT NULL OR name IS NOT NULL", name="who"),)

    id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    meeting_id: Mapped[int] = mapped_column(
        ForeignKey("meetings.id", ondelete="CASCADE"), index=True
    )
    side_code: Mapped[str | None] = mapped_column(String(32))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    name: Mapped[str | None] = mapped_column(Text)
    post: Mapped[str | None] = mapped_column(Text)


class MeetingAgendaItem(Base):
    """An item of a meeting's agenda, in order: adopted from the proposed agenda (`kind` and
    `target` name its object: an incident id, a segment id, an appointment id, a section id,
    a decision id) or added by hand (`other`). `title` is as it was proposed, kept."""

    __tablename__ = "meeting_agenda_items"
    __table_args__ = (
        CheckConstraint(f"kind IN {values(AgendaKind)!r}", name="kind"),
        UniqueConstraint("meeting_id", "position"),
    )

    id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    target_id: Mapped[int | None] = mapped_column(BigInteger)
    title: Mapped[str] = mapped_column(Text)
    detail: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))


class MeetingDecision(Base):
    """A decision of a meeting (议定事项): what, by when (a local day), where it stands.
    `status` is the last step of its history (decision_updates), kept here for lists;
    overdue is not stored (an undone decision past its deadline, as of the reader's clock)."""

    __tablename__ = "meeting_decisions"
    __table_args__ = (
        CheckConstraint("status IN ('open', 'in_progress', 'done')", name="status"),
        UniqueConstraint("meeting_id", "position"),
        Index("ix_meeting_decisions_status_deadline", "status", "deadline"),
    )

    id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)
    deadline: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), server_default=text("'open'"))
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class DecisionOwner(Base):
    """A side responsible for a decision, and (when named) the member who answers for it
    there. The decision's sides are its owners' sides."""

    __tablename__ = "decision_owners"
    __table_args__ = (
        Index(
            "ix_decision_owners_unique",
            "decision_id",
            "side_code",
            text("coalesce(member_id, 0)"),
            unique=True,
        ),
    )

    id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    decision_id: Mapped[int] = mapped_column(ForeignKey("meeting_decisions.id", ondelete="CASCADE"))
    side_code: Mapped[str] = mapped_column(String(32))
    member_id: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="SET NULL"), index=True
    )


class DecisionLink(Base):
    """An object a decision is about: an incident, a segment, a section, a chief."""

    __tablename__ = "decision_links"
    __table_args__ = (CheckConstraint(f"kind IN {values(DecisionLinkKind)!r}", name="kind"),)

    decision_id: Mapped[int] = mapped_column(
        ForeignKey("meeting_decisions.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    target_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)


class DecisionUpdate(Base):
    """One step of a decision's history, by one of its owners (or the meeting that made it):
    a note, a change of status, a new deadline. The table refuses UPDATE and DELETE."""

    __tablename__ = "decision_updates"
    __table_args__ = (
        CheckConstraint(
            "to_status IS NULL OR to_status IN ('open', 'in_progress', 'done')", name="to_status"
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    decision_id: Mapped[int] = mapped_column(ForeignKey("meeting_decisions.id"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    member_id: Mapped[int | None] = mapped_column(Integer)
    actor: Mapped[str | None] = mapped_column(Text)
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str | None] = mapped_column(String(16))
    to_deadline: Mapped[date | None] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)


class MeetingPack(Base):
    """A meeting pack as it was shown at a meeting: the file's bytes and their SHA-256, so it
    can be shown again unchanged whatever the data became since."""

    __tablename__ = "meeting_packs"
    __table_args__ = (UniqueConstraint("meeting_id", "sha256"),)

    id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"))
    sha256: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(Integer)
    language: Mapped[str] = mapped_column(String(8))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    kept_by: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    kept_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


# Water quality at monitoring sections (交界断面水质; migration 0019): geo_patrol.water.


class WaterSection(Base):
    """A monitoring section (监测断面): a point on a river, snapped to the river's line
    (`geom`; `given_geom` as imported) and to the segment it lies on (NULL after the river
    was recut, until snapped again). `target_class` is 1..5 (I..V, 水质目标)."""

    __tablename__ = "water_sections"
    __table_args__ = (
        CheckConstraint(f"kind IN {values(SectionKind)!r}", name="kind"),
        CheckConstraint(f"water_body IN {values(WaterBody)!r}", name="water_body"),
        CheckConstraint("target_class BETWEEN 1 AND 5", name="target_class"),
        Index("ix_water_sections_geom", "geom", postgresql_using="gist"),
    )

    id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(Text)
    name_en: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(16))
    water_body: Mapped[str] = mapped_column(String(8), server_default=text("'river'"))
    target_class: Mapped[int] = mapped_column(Integer)
    side_code: Mapped[str | None] = mapped_column(String(32))
    river_id: Mapped[int] = mapped_column(ForeignKey("rivers.id", ondelete="CASCADE"), index=True)
    segment_id: Mapped[int | None] = mapped_column(
        ForeignKey("river_segments.id", ondelete="SET NULL"), index=True
    )
    geom: Mapped[WKBElement] = mapped_column(_geometry("POINT"))
    given_geom: Mapped[WKBElement] = mapped_column(_geometry("POINT"))
    snap_distance_m: Mapped[float] = mapped_column(Float)
    source: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class WaterReading(Base):
    """One sample of a section: the parameters in mg/L as the station exported them
    (`measured`, e.g. {"DO": 6.1, "NH3-N": 0.8}), its class by GB 3838-2002 single-factor
    (1..6, 6 = 劣V; NULL when no parameter that counts was measured), the parameters that
    decided it, and each parameter's exceedance factor against the section's target class.
    A section has one reading per sampling time: a retried import adds nothing."""

    __tablename__ = "water_readings"
    __table_args__ = (
        CheckConstraint("class IS NULL OR class BETWEEN 1 AND 6", name="class"),
        UniqueConstraint("section_id", "sampled_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    section_id: Mapped[int] = mapped_column(ForeignKey("water_sections.id", ondelete="CASCADE"))
    sampled_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    measured: Mapped[dict[str, Any]] = mapped_column(JSONB)
    water_class: Mapped[int | None] = mapped_column("class", Integer)
    deciding: Mapped[list[str]] = mapped_column(JSONB, server_default=text("'[]'::jsonb"))
    factors: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    target_class: Mapped[int] = mapped_column(Integer)
    source: Mapped[str | None] = mapped_column(Text)
    imported_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    incident_id: Mapped[int | None] = mapped_column(
        ForeignKey("incidents.id", ondelete="SET NULL"), index=True
    )


class WaterLead(Base):
    """A lead of a water-quality case, found when it opened: a patrol, an incident or an
    uncovered stretch upstream of the section on the same river in the hours before the
    reading. `upstream_m` is how far above the section along the flow it is (its nearest
    point); an uncovered stretch is a segment's range of fractions (`from_fraction`..)."""

    __tablename__ = "water_leads"
    __table_args__ = (
        CheckConstraint(f"kind IN {values(LeadKind)!r}", name="kind"),
        CheckConstraint(
            "(kind = 'patrol') = (patrol_id IS NOT NULL)"
            " AND (kind = 'incident') = (lead_incident_id IS NOT NULL)"
            " AND (kind = 'uncovered') = (segment_id IS NOT NULL)",
            name="target",
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), index=True
    )
    reading_id: Mapped[int] = mapped_column(ForeignKey("water_readings.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    patrol_id: Mapped[int | None] = mapped_column(ForeignKey("patrols.id", ondelete="CASCADE"))
    lead_incident_id: Mapped[int | None] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE")
    )
    segment_id: Mapped[int | None] = mapped_column(
        ForeignKey("river_segments.id", ondelete="CASCADE")
    )
    from_fraction: Mapped[float | None] = mapped_column(Float)
    to_fraction: Mapped[float | None] = mapped_column(Float)
    upstream_m: Mapped[float] = mapped_column(Float)
    at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
