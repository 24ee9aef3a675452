"""The access policy of every route, in one table, enforced by one dependency.

A route missing from ROUTE_POLICY is refused (fail closed), and the route-policy test fails,
so a new endpoint cannot be added without deciding who may call it.
"""

from __future__ import annotations

from enum import StrEnum

from geo_patrol.access.principal import Principal
from geo_patrol.core.catalog import msg
from geo_patrol.core.errors import Forbidden, NotAuthenticated, PolicyMissing


class Rule(StrEnum):
    """Who may call a route; row-level scope is applied inside by `scope.visible`."""

    PUBLIC = "public"  # anyone, signed in or not
    SIGNED_IN = "signed_in"  # any member or device
    MEMBER = "member"  # a person (web session or personal token), not a device
    WRITER = "writer"  # a person with a role other than observer
    LEAD = "lead"  # a team lead or an administrator
    ADMIN = "admin"  # administrators


ROUTE_POLICY: dict[str, Rule] = {
    "GET /healthz": Rule.PUBLIC,
    "GET /metrics": Rule.ADMIN,
    "GET /login": Rule.PUBLIC,
    "GET /map": Rule.MEMBER,
    "GET /incidents": Rule.MEMBER,
    "GET /incidents/{incident_id}": Rule.MEMBER,
    "POST /incidents/{incident_id}/steps": Rule.WRITER,
    "GET /tiles/{layer}/{z}/{x}/{y}.pbf": Rule.MEMBER,
    "GET /tiles/{layer}.json": Rule.MEMBER,
    # Public: QGIS 3.22 fetches a style URL without the layer's auth config, and a style holds
    # nothing from the database (layer and field names, colours, the TileJSON's address).
    "GET /tiles/{layer}/style.json": Rule.PUBLIC,
    "GET /api/v1/meeting-pack": Rule.MEMBER,
    "POST /login": Rule.PUBLIC,
    "POST /logout": Rule.MEMBER,
    "POST /api/v1/auth/login": Rule.PUBLIC,
    "POST /api/v1/auth/tokens": Rule.PUBLIC,
    "GET /api/v1/auth/tokens": Rule.MEMBER,
    "DELETE /api/v1/auth/tokens/{token_id}": Rule.MEMBER,
    "POST /api/v1/auth/logout": Rule.MEMBER,
    "GET /api/v1/me": Rule.SIGNED_IN,
    "POST /api/v1/me/password": Rule.MEMBER,
    "GET /api/v1/jurisdictions": Rule.SIGNED_IN,
    "GET /api/v1/jurisdictions/at": Rule.SIGNED_IN,
    "GET /api/v1/jurisdictions/{code}": Rule.SIGNED_IN,
    "GET /api/v1/jurisdictions/{code}/versions": Rule.SIGNED_IN,
    "GET /api/v1/rivers": Rule.SIGNED_IN,
    "GET /api/v1/segments": Rule.SIGNED_IN,
    "GET /api/v1/zones": Rule.SIGNED_IN,
    "GET /api/v1/members": Rule.MEMBER,
    "POST /api/v1/members": Rule.ADMIN,
    "GET /api/v1/members/{member_id}": Rule.MEMBER,
    "PATCH /api/v1/members/{member_id}": Rule.ADMIN,
    "POST /api/v1/members/{member_id}/password": Rule.ADMIN,
    "POST /api/v1/members/{member_id}/roles": Rule.ADMIN,
    "DELETE /api/v1/members/{member_id}/roles/{role_id}": Rule.ADMIN,
    "GET /api/v1/teams": Rule.SIGNED_IN,
    "POST /api/v1/teams": Rule.ADMIN,
    "POST /api/v1/teams/{team_id}/members": Rule.ADMIN,
    "GET /api/v1/devices": Rule.MEMBER,
    "POST /api/v1/devices": Rule.LEAD,
    "DELETE /api/v1/devices/{device_id}": Rule.MEMBER,
    "GET /api/v1/audit": Rule.ADMIN,
    "POST /api/v1/patrols": Rule.SIGNED_IN,
    "GET /api/v1/patrols": Rule.SIGNED_IN,
    "GET /api/v1/patrols.{fmt}": Rule.SIGNED_IN,
    "GET /api/v1/patrols/{patrol_id}": Rule.SIGNED_IN,
    "GET /api/v1/patrols/{patrol_id}/export.{fmt}": Rule.SIGNED_IN,
    "GET /api/v1/patrols/{patrol_id}/original": Rule.SIGNED_IN,
    "GET /api/v1/effort": Rule.MEMBER,
    "GET /api/v1/coverage/uncovered": Rule.MEMBER,
    "POST /api/v1/incidents": Rule.SIGNED_IN,
    "POST /api/v1/incidents/photo": Rule.SIGNED_IN,
    "GET /api/v1/incidents": Rule.SIGNED_IN,
    "GET /api/v1/incidents.{fmt}": Rule.SIGNED_IN,
    "GET /api/v1/incidents/stats": Rule.MEMBER,
    "GET /api/v1/incidents/{incident_id}": Rule.SIGNED_IN,
    "POST /api/v1/incidents/{incident_id}/actions": Rule.WRITER,
    "POST /api/v1/incidents/{incident_id}/escalate": Rule.WRITER,
    "POST /api/v1/incidents/{incident_id}/deescalate": Rule.WRITER,
    "DELETE /api/v1/incidents/{incident_id}/duplicate_of": Rule.WRITER,
    "POST /api/v1/incidents/{incident_id}/photos": Rule.SIGNED_IN,
    "GET /api/v1/incidents/{incident_id}/photos/{photo_id}": Rule.SIGNED_IN,
    "GET /api/v1/incident-categories": Rule.SIGNED_IN,
    # The phone web app: its shell is public (it signs in inside, and holds no data); the
    # set-up pages show a device credential, to its owner, their team's lead or an admin.
    "GET /m/": Rule.PUBLIC,
    "GET /m/manifest.webmanifest": Rule.PUBLIC,
    "GET /m/sw.js": Rule.PUBLIC,
    "GET /api/v1/mobile/teams": Rule.SIGNED_IN,
    "GET /m/devices": Rule.MEMBER,
    "GET /m/devices/{device_id}/setup": Rule.MEMBER,
    "POST /m/devices/{device_id}/setup": Rule.MEMBER,
    "GET /api/v1/me/duty": Rule.SIGNED_IN,  # a chief's own duty, on their phone too
    # The OsmAnd/Traccar apps send no credentials but the device identifier, checked inside.
    "GET /osmand": Rule.PUBLIC,
    "POST /osmand": Rule.PUBLIC,
    "PUT /osmand": Rule.PUBLIC,
    "GET /osmand/": Rule.PUBLIC,
    "POST /osmand/": Rule.PUBLIC,
    "PUT /osmand/": Rule.PUBLIC,
    # Open311 GeoReport v2: discovery and services are open; the request routes check the
    # api_key (one of our tokens) inside, or the bearer/cookie caller.
    "GET /open311/v2/discovery.json": Rule.PUBLIC,
    "GET /open311/v2/discovery.xml": Rule.PUBLIC,
    "GET /open311/v2/services.json": Rule.PUBLIC,
    "GET /open311/v2/services.xml": Rule.PUBLIC,
    "GET /open311/v2/services/{service_code}.json": Rule.PUBLIC,
    "GET /open311/v2/services/{service_code}.xml": Rule.PUBLIC,
    "GET /open311/v2/requests.json": Rule.PUBLIC,
    "GET /open311/v2/requests.xml": Rule.PUBLIC,
    "POST /open311/v2/requests.json": Rule.PUBLIC,
    "POST /open311/v2/requests.xml": Rule.PUBLIC,
    "GET /open311/v2/requests/{service_request_id}.json": Rule.PUBLIC,
    "GET /open311/v2/requests/{service_request_id}.xml": Rule.PUBLIC,
    # River chiefs: readers see the chiefs of their scope (duty.appointments.chief_visibility);
    # writes need the side's supervisor (or both sides', or the zone's coordinator, for joint
    # pairs), checked inside; rules per level or zone are for administrators.
    "GET /api/v1/chiefs": Rule.MEMBER,
    "POST /api/v1/chiefs": Rule.WRITER,
    "GET /api/v1/chiefs/{appointment_id}": Rule.MEMBER,
    "POST /api/v1/chiefs/{appointment_id}/end": Rule.WRITER,
    "POST /api/v1/chiefs/{appointment_id}/replace": Rule.WRITER,
    "POST /api/v1/chiefs/joint": Rule.WRITER,
    "POST /api/v1/chiefs/roster": Rule.WRITER,
    "GET /api/v1/duty/rules": Rule.MEMBER,
    "PUT /api/v1/duty/rules": Rule.WRITER,
    # River chiefs' duty: rows in the reader's scope (a supervisor their subtree's chiefs, a
    # zone coordinator the joint pairs, a chief their own); phones read /api/v1/me/duty.
    "GET /duty": Rule.MEMBER,
    "GET /api/v1/duty": Rule.MEMBER,
    "GET /api/v1/duty.{fmt}": Rule.MEMBER,
    "GET /api/v1/duty/joint": Rule.MEMBER,
    "GET /api/v1/duty/summary": Rule.MEMBER,
    "GET /api/v1/duty/reminders": Rule.MEMBER,
    # Lists as files (geo_patrol.exports): the same rule as the JSON list each exports.
    "GET /api/v1/patrols/tracks.{fmt}": Rule.SIGNED_IN,
    "GET /api/v1/effort.{fmt}": Rule.MEMBER,
    "GET /api/v1/coverage/uncovered.{fmt}": Rule.MEMBER,
    # The API documentation pages (not in the OpenAPI): open, like the document they show.
    "GET /docs": Rule.PUBLIC,
    "GET /redoc": Rule.PUBLIC,
    # Incident import: writers; a supervisor's rows must fall in their jurisdictions (or a
    # coordinator's joint rows in their zone), checked per row inside; admins anything.
    "POST /api/v1/incidents/import": Rule.WRITER,
    # OGC API - Features for QGIS and GDAL (geo_patrol.ogc): people only (a phone draws no
    # GIS layers); geography for every member, patrols, incidents and duty by scope inside.
    "GET /ogc": Rule.MEMBER,
    "GET /ogc/conformance": Rule.MEMBER,
    "GET /ogc/api": Rule.MEMBER,
    "GET /ogc/collections": Rule.MEMBER,
    "GET /ogc/collections/{collection_id}": Rule.MEMBER,
    "GET /ogc/collections/{collection_id}/items": Rule.MEMBER,
    "GET /ogc/collections/{collection_id}/items/{feature_id}": Rule.MEMBER,
    # Joint meetings and decisions (geo_patrol.meetings.visibility): people read the zones
    # they see (404 otherwise); writers write where the zone or the decision lets them (403).
    "GET /api/v1/meetings": Rule.MEMBER,
    "POST /api/v1/meetings": Rule.WRITER,
    "GET /api/v1/meetings/{meeting_id}": Rule.MEMBER,
    "PATCH /api/v1/meetings/{meeting_id}": Rule.WRITER,
    "PUT /api/v1/meetings/{meeting_id}/attendees": Rule.WRITER,
    "PUT /api/v1/meetings/{meeting_id}/agenda": Rule.WRITER,
    "POST /api/v1/meetings/{meeting_id}/decisions": Rule.WRITER,
    "GET /api/v1/decisions": Rule.MEMBER,
    "GET /api/v1/decisions/{decision_id}": Rule.MEMBER,
    "POST /api/v1/decisions/{decision_id}/updates": Rule.WRITER,
    # The proposed agenda and the packs kept with a meeting: zone rights inside
    # (meetings.visibility: view = may_see_zone, keep = may_edit_zone).
    "GET /api/v1/agenda/proposed": Rule.MEMBER,
    "POST /api/v1/meetings/{meeting_id}/packs": Rule.WRITER,
    "GET /api/v1/meetings/{meeting_id}/packs": Rule.MEMBER,
    "GET /api/v1/meetings/{meeting_id}/packs/{pack_id}": Rule.MEMBER,
}


def check(rule: Rule, principal: Principal | None) -> None:
    """Raise unless `principal` satisfies `rule`."""
    if rule is Rule.PUBLIC:
        return
    if principal is None:
        raise NotAuthenticated(msg("problem.access.sign_in_required"))
    allowed = {
        Rule.SIGNED_IN: True,
        Rule.MEMBER: principal.via != "device",
        Rule.WRITER: principal.via != "device" and principal.can_write,
        Rule.LEAD: principal.via != "device"
        and (principal.is_admin or "team_lead" in principal.roles),
        Rule.ADMIN: principal.via != "device" and principal.is_admin,
    }[rule]
    if not allowed:
        raise Forbidden(msg("problem.access.roles_do_not_allow"))


def rule_for(method: str, path: str) -> Rule:
    """The rule of a route template, or PolicyMissing."""
    key = f"{method} {path}"
    if key not in ROUTE_POLICY:
        raise PolicyMissing(msg("problem.access.route_without_policy", route=key))
    return ROUTE_POLICY[key]
