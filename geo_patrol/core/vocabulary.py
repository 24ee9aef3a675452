"""The closed word lists of the domain, one definition each, as StrEnums.

A member's value is its wire value: the word stored in the database, sent and received by the
API, and written in the CHECK constraints of the tables (tests/core/test_vocabulary.py holds
the constraints of the migrated database to these lists). Being `str`, a member compares equal
to its word and formats as it (`f"{Tier.TOWN}" == "town"`), so code that handles plain words
keeps working; FastAPI parameters and request models typed with them list the choices in the
OpenAPI (`enum`) and refuse anything else with a 422 that names the field and the choices.

The order of the members is meaningful where a list is ordered: levels from the province
down, tiers from the village up, statuses along the workflow.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "AgendaKind",
    "CandidateReason",
    "ChiefLevel",
    "Datum",
    "DecisionLinkKind",
    "DecisionStatus",
    "DutyPeriod",
    "DutyStatus",
    "EffortGroup",
    "EffortPeriod",
    "ExportFormat",
    "IncidentListView",
    "IncidentOrder",
    "IncidentStatus",
    "Language",
    "LeadKind",
    "Level",
    "MeetingStatus",
    "PatrolMode",
    "PatrolSource",
    "QualityFlag",
    "ResponsibleRole",
    "RiverFlow",
    "Role",
    "SectionKind",
    "Severity",
    "StretchKind",
    "TeamRole",
    "Tier",
    "WaterBody",
    "WorkflowAction",
    "values",
]


class QualityFlag(StrEnum):
    """A patrol's quality flags, which supervisors look at (what each means:
    geo_patrol.patrols.quality); duty rules may let some disqualify a patrol."""

    TOO_SHORT = "too_short"
    TOO_FAST = "too_fast"
    LONG_GAP = "long_gap"
    MOCKED = "mocked"
    TOO_REGULAR = "too_regular"
    ONE_SIDE_ONLY = "one_side_only"
    CLOCK_CONSTANT = "clock_constant"
    CLOCK_BACKWARDS = "clock_backwards"
    PARTLY_TIMED = "partly_timed"
    REORDERED = "reordered"


def values(vocabulary: type[StrEnum]) -> tuple[str, ...]:
    """The words of a vocabulary as plain strings, in order (for SQL text and messages)."""
    return tuple(member.value for member in vocabulary)


class Datum(StrEnum):
    """Geographic lon/lat datums accepted for incoming coordinates (see core.coords)."""

    WGS84 = "wgs84"
    CGCS2000 = "cgcs2000"
    GCJ02 = "gcj02"
    BD09 = "bd09"


class Level(StrEnum):
    """Levels of the jurisdiction hierarchy, from the province down to the grid cell."""

    PROVINCE = "province"
    CITY = "city"
    COUNTY = "county"
    TOWN = "town"
    VILLAGE = "village"
    GRID = "grid"


class PatrolMode(StrEnum):
    """How a patrol went: on foot, by boat or by car (the speed limits of cleaning differ)."""

    FOOT = "foot"
    BOAT = "boat"
    CAR = "car"


class PatrolSource(StrEnum):
    """Where a patrol's track came from: an uploaded file or live positions."""

    UPLOAD = "upload"
    LIVE = "live"


class Role(StrEnum):
    """Roles a member holds over a scope (see db.tables.MemberRole for each one's scope)."""

    PATROL_MEMBER = "patrol_member"
    TEAM_LEAD = "team_lead"
    SUPERVISOR = "supervisor"
    ZONE_COORDINATOR = "zone_coordinator"
    OBSERVER = "observer"
    ADMIN = "admin"


class TeamRole(StrEnum):
    """A member's place in a team."""

    MEMBER = "member"
    LEAD = "lead"


class IncidentStatus(StrEnum):
    """The states of an incident along the workflow."""

    REPORTED = "reported"
    ASSIGNED = "assigned"
    ACCEPTED = "accepted"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    VERIFIED = "verified"
    CLOSED = "closed"
    REOPENED = "reopened"
    REJECTED = "rejected"


class WorkflowAction(StrEnum):
    """The steps of the incident workflow (incidents.workflow.TRANSITIONS)."""

    ASSIGN = "assign"
    ACCEPT = "accept"
    START = "start"
    RESOLVE = "resolve"
    VERIFY = "verify"
    CLOSE = "close"
    REOPEN = "reopen"
    REJECT = "reject"


class Tier(StrEnum):
    """The three tiers that handle a case, from the lowest up (the three-tier rule)."""

    VILLAGE = "village"
    TOWN = "town"
    COUNTY = "county"


class Severity(StrEnum):
    """How bad a reported incident is."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class ResponsibleRole(StrEnum):
    """How a jurisdiction answers for an incident: the lead side or a co-responsible one."""

    LEAD = "lead"
    CO = "co"


class ExportFormat(StrEnum):
    """Formats a patrol's track is exported in."""

    GPX = "gpx"
    KML = "kml"
    GEOJSON = "geojson"


class Language(StrEnum):
    """Languages of the pages and the phone app."""

    ZH = "zh"
    EN = "en"


class EffortGroup(StrEnum):
    """What patrol effort is counted by."""

    JURISDICTION = "jurisdiction"
    TEAM = "team"
    MEMBER = "member"
    RIVER = "river"


class EffortPeriod(StrEnum):
    """The periods patrol effort is summed over (PostgreSQL's date_trunc units)."""

    DAY = "day"
    WEEK = "week"
    MONTH = "month"


class IncidentOrder(StrEnum):
    """Orders of the incident list: newest first, or soonest deadline first."""

    REPORTED = "reported"
    DEADLINE = "deadline"


class IncidentListView(StrEnum):
    """The views of the incident list page: open cases, overdue ones, or all."""

    OPEN = "open"
    OVERDUE = "overdue"
    ALL = "all"


class ChiefLevel(StrEnum):
    """Levels at which river chiefs (河长) are appointed, from the county down."""

    COUNTY = "county"
    TOWN = "town"
    VILLAGE = "village"


class StretchKind(StrEnum):
    """How an appointment names its stretch: a whole river, a list of its segments, or the
    segments between two points on it."""

    RIVER = "river"
    SEGMENTS = "segments"
    BETWEEN = "between"


class DutyPeriod(StrEnum):
    """Calendar periods of patrol duty in China Standard Time: a week (Monday to Sunday),
    a dekad (旬: days 1-10, 11-20, 21 to the month's end), a month, a quarter."""

    WEEK = "week"
    DEKAD = "dekad"
    MONTH = "month"
    QUARTER = "quarter"


class DutyStatus(StrEnum):
    """Where a chief's duty stands in a period."""

    MET = "met"
    IN_PROGRESS = "in_progress"
    MISSED = "missed"
    NOT_DUE = "not_due"


class CandidateReason(StrEnum):
    """Why a chief's patrol in a period counted for the duty or not (first that applies)."""

    COUNTED = "counted"
    OUTSIDE_APPOINTMENT = "outside_appointment"
    DISQUALIFIED = "disqualified"
    TOO_LITTLE = "too_little"
    ONE_SIDE_ONLY = "one_side_only"


class TokenScope(StrEnum):
    """What a personal API token may do: everything its member may (full), or only read
    (a GIS desktop's or a spreadsheet's token: GET and HEAD)."""

    FULL = "full"
    READ = "read"


class MeetingStatus(StrEnum):
    """A joint meeting (联席会议): being prepared, or held (its decisions recorded)."""

    PLANNED = "planned"
    HELD = "held"


class AgendaKind(StrEnum):
    """What an agenda item is about (the proposed agenda links each to its object)."""

    DECISION = "decision"  # a decision of an earlier meeting not yet done
    INCIDENT = "incident"  # an overdue or escalated joint case
    UNCOVERED = "uncovered"  # a border stretch nobody patrolled in the period
    CHIEF = "chief"  # a river chief who missed their duty
    SECTION = "section"  # a border water-quality section that worsened
    OTHER = "other"  # anything the coordinator adds by hand


class DecisionStatus(StrEnum):
    """Where a meeting's decision (议定事项) stands. Its owners move it from open to in
    progress to done; overdue is never stored: an undone decision past its deadline."""

    OPEN = "open"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    OVERDUE = "overdue"


class DecisionLinkKind(StrEnum):
    """The kinds of object a decision may be linked to."""

    INCIDENT = "incident"
    SEGMENT = "segment"
    SECTION = "section"
    CHIEF = "chief"  # a chief's appointment


class SectionKind(StrEnum):
    """Who runs a water-quality monitoring section: 国控, 省控, 市控, 县控, or a border
    section (交界断面) set up by the two sides together."""

    NATIONAL = "national"
    PROVINCIAL = "provincial"
    MUNICIPAL = "municipal"
    COUNTY = "county"
    BORDER = "border"


class WaterBody(StrEnum):
    """The water a section samples: a river, or a lake or reservoir (its own TP and TN
    limits in GB 3838-2002)."""

    RIVER = "river"
    LAKE = "lake"


class RiverFlow(StrEnum):
    """Which way a river flows against the order its line was drawn in."""

    AS_DRAWN = "as_drawn"
    REVERSED = "reversed"


class LeadKind(StrEnum):
    """A lead of a water-quality case: something upstream in the hours before the reading."""

    PATROL = "patrol"
    INCIDENT = "incident"
    UNCOVERED = "uncovered"
