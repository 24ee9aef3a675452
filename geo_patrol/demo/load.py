"""Load the demo region idempotently through the same import paths as real data."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_patrol.demo.accounts import load_demo_accounts
from geo_patrol.demo.chiefs import load_demo_chiefs
from geo_patrol.geography.imports.features import (
    FeatureImportOptions,
    import_rivers,
    import_villages,
)
from geo_patrol.geography.imports.jurisdictions import (
    JurisdictionImportOptions,
    import_jurisdictions,
)

DEMO_DATA = Path(__file__).resolve().parent / "data"
SOURCE = "geo-patrol demo region"


def load_demo(session: Session, *, today: date | None = None) -> list[str]:
    """Import the demo boundaries, rivers, villages, zone, teams, accounts and river chiefs
    (one replaced six weeks before `today`, by default the local date); one line each."""
    reports = [
        import_jurisdictions(
            session,
            path=DEMO_DATA / "jurisdictions.geojson",
            options=JurisdictionImportOptions(source=SOURCE),
        ),
        import_rivers(
            session, path=DEMO_DATA / "rivers.geojson", options=FeatureImportOptions(source=SOURCE)
        ),
        import_villages(
            session, path=DEMO_DATA / "villages.geojson", options=FeatureImportOptions()
        ),
    ]
    lines = [report.summary() for report in reports]
    organisation = json.loads((DEMO_DATA / "organisation.json").read_text(encoding="utf-8"))
    lines.append(load_organisation(session, organisation))
    lines.append(load_demo_accounts(session))
    lines.append(load_demo_chiefs(session, today=today))
    return lines


def load_organisation(session: Session, data: dict[str, Any]) -> str:
    """Upsert zones (with members and agreements), teams and members by their natural keys."""
    for zone in data["zones"]:
        _upsert_zone(session, zone)
    for team in data["teams"]:
        session.execute(
            text(
                "INSERT INTO teams (name, zone_id) VALUES (:name, "
                "(SELECT id FROM cooperation_zones WHERE code = :zone)) "
                "ON CONFLICT (name) DO UPDATE SET zone_id = excluded.zone_id "
                "WHERE teams.zone_id IS DISTINCT FROM excluded.zone_id"
            ),
            {"name": team["name"], "zone": team.get("zone")},
        )
    for member in data["members"]:
        _upsert_member(session, member)
    return (
        f"organisation: {len(data['zones'])} zones, {len(data['teams'])} teams, "
        f"{len(data['members'])} members"
    )


def _upsert_zone(session: Session, zone: dict[str, Any]) -> None:
    """One zone by code, its member codes and its agreements by title."""
    params = {
        "code": zone["code"],
        "name": zone["name"],
        "description": zone.get("description"),
        "width": zone["border_zone_width_m"],
    }
    session.execute(
        text(
            "INSERT INTO cooperation_zones (code, name, description, border_zone_width_m) "
            "VALUES (:code, :name, :description, :width) ON CONFLICT (code) DO NOTHING"
        ),
        params,
    )
    session.execute(
        text(
            "UPDATE cooperation_zones SET name = :name, description = :description, "
            "border_zone_width_m = :width WHERE code = :code AND (name, description, "
            "border_zone_width_m) IS DISTINCT FROM (:name, :description, CAST(:width AS float8))"
        ),
        params,
    )
    zone_id = session.execute(
        text("SELECT id FROM cooperation_zones WHERE code = :code"), params
    ).scalar_one()
    for code in zone["members"]:
        session.execute(
            text(
                "INSERT INTO cooperation_zone_members (zone_id, jurisdiction_code) "
                "VALUES (:zone_id, :code) ON CONFLICT DO NOTHING"
            ),
            {"zone_id": zone_id, "code": code},
        )
    for agreement in zone.get("agreements", []):
        session.execute(
            text(
                "INSERT INTO zone_agreements (zone_id, title, signed_on, summary) "
                "SELECT :zone_id, :title, CAST(:signed_on AS date), :summary WHERE NOT EXISTS "
                "(SELECT 1 FROM zone_agreements WHERE zone_id = :zone_id AND title = :title)"
            ),
            {
                "zone_id": zone_id,
                "signed_on": agreement.get("signed_on"),
                "title": agreement["title"],
                "summary": agreement.get("summary"),
            },
        )


def _upsert_member(session: Session, member: dict[str, Any]) -> None:
    """One member by phone, and their team memberships."""
    params = {"name": member["name"], "phone": member["phone"], "home": member["home"]}
    session.execute(
        text(
            "INSERT INTO members (name, phone, home_jurisdiction_code) "
            "VALUES (:name, :phone, :home) ON CONFLICT (phone) DO NOTHING"
        ),
        params,
    )
    session.execute(
        text(
            "UPDATE members SET name = :name, home_jurisdiction_code = :home WHERE phone = :phone "
            "AND (name, home_jurisdiction_code) IS DISTINCT FROM (:name, :home)"
        ),
        params,
    )
    member_id = session.execute(
        text("SELECT id FROM members WHERE phone = :phone"), params
    ).scalar_one()
    for team in member.get("teams", []):
        session.execute(
            text(
                "INSERT INTO team_members (team_id, member_id, role) "
                "SELECT id, :member_id, :role FROM teams WHERE name = :team "
                "ON CONFLICT (team_id, member_id) DO UPDATE SET role = excluded.role "
                "WHERE team_members.role IS DISTINCT FROM excluded.role"
            ),
            {"member_id": member_id, "team": team, "role": member.get("role", "member")},
        )
