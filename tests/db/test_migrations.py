"""Every migration upgrades and downgrades, and the models match the migrated schema."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from geo_patrol.db import migrate
from geo_patrol.db.engine import Base, make_engine
from tests.support.database import fresh_database


def revisions() -> list[str]:
    """All revisions, oldest first."""
    script = ScriptDirectory.from_config(migrate.alembic_config())
    return [rev.revision for rev in reversed(list(script.walk_revisions()))]


def test_each_migration_upgrades_and_downgrades() -> None:
    engine = make_engine(fresh_database("geo_patrol_migrations"))
    try:
        steps = revisions()
        assert steps[0] == "0001"
        for previous, revision in zip(["base", *steps], steps, strict=False):
            migrate.upgrade(engine, revision)
            assert migrate.current_revision(engine) == revision
            migrate.downgrade(engine, previous)
            assert migrate.current_revision(engine) == (None if previous == "base" else previous)
            migrate.upgrade(engine, revision)
        migrate.downgrade(engine, "base")
        tables = set(inspect(engine).get_table_names()) - {"alembic_version", "spatial_ref_sys"}
        assert tables == set()
    finally:
        engine.dispose()


def test_models_match_migrated_schema(engine: object) -> None:
    from sqlalchemy import Engine

    assert isinstance(engine, Engine)
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={"include_object": migrate.include_object, "compare_type": True},
        )
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_device_teams_migration_keeps_existing_phones_rights() -> None:
    """0012 on a database holding data: a phone issued before acts for its member's patrol
    teams (not for a supervisor role); downgrading keeps the phone itself."""
    engine = make_engine(fresh_database("geo_patrol_migration_0012"))
    try:
        migrate.upgrade(engine, "0011")
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO teams (id, name) OVERRIDING SYSTEM VALUE"
                    " VALUES (1, 'a'), (2, 'b'), (3, 'c');"
                    "INSERT INTO members (id, name, home_jurisdiction_code)"
                    " OVERRIDING SYSTEM VALUE "
                    "VALUES (1, 'patrol', '320509'), (2, 'other', '320509');"
                    "INSERT INTO member_roles (member_id, role, team_id) "
                    "VALUES (1, 'patrol_member', 1), (1, 'team_lead', 2), (2, 'patrol_member', 3);"
                    "INSERT INTO member_roles (member_id, role, jurisdiction_code) "
                    "VALUES (1, 'supervisor', '320509');"
                    "INSERT INTO devices (id, member_id, label, token_hash, token_hint) "
                    "OVERRIDING SYSTEM VALUE VALUES (7, 1, 'phone', repeat('a', 64), 'aaaa'), "
                    "(8, 2, 'phone', repeat('b', 64), 'bbbb')"
                )
            )
        migrate.upgrade(engine, "0012")
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT device_id, team_id FROM device_teams ORDER BY 1, 2"))
            assert [tuple(row) for row in rows] == [(7, 1), (7, 2), (8, 3)]
        migrate.downgrade(engine, "0011")
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM devices")).scalar() == 2
            assert "device_teams" not in inspect(conn).get_table_names()
    finally:
        engine.dispose()


def test_member_email_and_digest_log_migration_keeps_members() -> None:
    """0014 on a database holding data: members keep their rows (with no e-mail address), the
    digest log refuses a second row for the same day, member and channel; downgrading drops
    the addresses and the log but keeps the members."""
    engine = make_engine(fresh_database("geo_patrol_migration_0014"))
    try:
        migrate.upgrade(engine, "0013")
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO members (id, name, home_jurisdiction_code, phone) "
                    "OVERRIDING SYSTEM VALUE VALUES (1, 'sup', '320509', '138'), "
                    "(2, 'chief', '320509100', '139')"
                )
            )
        migrate.upgrade(engine, "0014")
        with engine.begin() as conn:
            rows = conn.execute(text("SELECT id, name, email FROM members ORDER BY id"))
            assert [tuple(row) for row in rows] == [(1, "sup", None), (2, "chief", None)]
            conn.execute(text("UPDATE members SET email = 'sup@example.org' WHERE id = 1"))
            conn.execute(
                text(
                    "INSERT INTO duty_digests (day, member_id, channel, status) "
                    "VALUES ('2026-12-19', 1, 'smtp', 'sent'), ('2026-12-19', 1, 'webhook', 'sent')"
                )
            )
        with engine.begin() as conn:
            duplicate = conn.execute(
                text(
                    "INSERT INTO duty_digests (day, member_id, channel, status) "
                    "VALUES ('2026-12-19', 1, 'smtp', 'pending') "
                    "ON CONFLICT (day, member_id, channel) DO NOTHING RETURNING id"
                )
            ).first()
            assert duplicate is None
        migrate.downgrade(engine, "0013")
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM members")).scalar() == 2
            assert "duty_digests" not in inspect(conn).get_table_names()
            columns = {c["name"] for c in inspect(conn).get_columns("members")}
            assert "email" not in columns
    finally:
        engine.dispose()


def test_incident_external_ids_migration_keeps_incidents() -> None:
    """0016 on a database holding an incident: it has no external id; the pair is unique
    among imported ones; downgrading keeps the incidents (without the platform's ids)."""
    engine = make_engine(fresh_database("geo_patrol_migration_0016"))
    insert = (
        "INSERT INTO incidents (source, category, severity, reported_at, geom, tier{columns}) "
        "VALUES ('api', 'illegal_discharge', 'medium', now(), "
        "ST_SetSRID(ST_MakePoint(120.6, 30.9), 4326), 'town'{values})"
    )
    try:
        migrate.upgrade(engine, "0015")
        with engine.begin() as conn:
            conn.execute(text(insert.format(columns="", values="")))
        migrate.upgrade(engine, "0016")
        imported = insert.format(
            columns=", external_source, external_id", values=", '12345', 'A-1'"
        )
        with engine.begin() as conn:
            rows = conn.execute(text("SELECT external_source, external_id FROM incidents"))
            assert [tuple(row) for row in rows] == [(None, None)]
            conn.execute(text(imported))
        with engine.begin() as conn:
            again = conn.execute(text(imported + " ON CONFLICT DO NOTHING RETURNING id")).first()
            assert again is None
        migrate.downgrade(engine, "0015")
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM incidents")).scalar() == 2
            columns = {c["name"] for c in inspect(conn).get_columns("incidents")}
            assert "external_id" not in columns
    finally:
        engine.dispose()


def test_meetings_migration_keeps_an_append_only_decision_history() -> None:
    """0018 on a database holding a zone: a decision's history refuses UPDATE and DELETE;
    downgrading drops the meetings and keeps the zone."""
    engine = make_engine(fresh_database("geo_patrol_migration_0018"))
    try:
        migrate.upgrade(engine, "0017")
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO cooperation_zones (code, name) VALUES ('Z', 'Zone')"))
        migrate.upgrade(engine, "0018")
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO meetings (zone_id, title, held_at, period_from, period_to) "
                    "SELECT id, 'M', now(), '2026-11-01', '2026-11-30' FROM cooperation_zones"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO meeting_decisions (meeting_id, position, body, deadline) "
                    "SELECT id, 1, 'Clear the outfall', '2026-12-20' FROM meetings"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO decision_updates (decision_id, to_status, note) "
                    "SELECT id, 'open', 'created' FROM meeting_decisions"
                )
            )
        for change in ("UPDATE decision_updates SET note = 'x'", "DELETE FROM decision_updates"):
            with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
                conn.execute(text(change))
        migrate.downgrade(engine, "0017")
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM cooperation_zones")).scalar() == 1
            assert "meetings" not in inspect(conn).get_table_names()
    finally:
        engine.dispose()


def test_water_migration_keeps_rivers_and_a_used_category() -> None:
    """0019 on a database holding a river and its segments: they keep their rows with no flow
    known; a water-quality case keeps its category through a downgrade, and upgrading again
    adds nothing twice."""
    engine = make_engine(fresh_database("geo_patrol_migration_0019"))
    try:
        migrate.upgrade(engine, "0018")
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO rivers (code, name, geom, geom_hash) VALUES ('R', 'River', "
                    "ST_Multi(ST_GeomFromText('LINESTRING(120 30, 120.01 30)', 4326)), 'h')"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO river_segments (river_id, seq, geom, length_m) "
                    "SELECT id, 0, ST_GeometryN(geom, 1), 963.0 FROM rivers"
                )
            )
        migrate.upgrade(engine, "0019")
        with engine.begin() as conn:
            assert conn.execute(text("SELECT flow FROM rivers")).all() == [(None,)]
            assert conn.execute(
                text("SELECT flow_order, flow_start_m FROM river_segments")
            ).all() == [(None, None)]
            conn.execute(
                text(
                    "INSERT INTO incidents (source, category, severity, reported_at, geom, tier) "
                    "VALUES ('water', 'water_quality', 'high', now(), "
                    "ST_SetSRID(ST_MakePoint(120.005, 30), 4326), 'county')"
                )
            )
        migrate.downgrade(engine, "0018")
        migrate.upgrade(engine, "0019")
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM river_segments")).scalar() == 1
            rules = "SELECT count(*) FROM tier_rules WHERE category = 'water_quality'"
            assert conn.execute(text(rules)).scalar() == 4
            assert conn.execute(text("SELECT count(*) FROM incidents")).scalar() == 1
    finally:
        engine.dispose()


def test_partitioning_migration_keeps_every_fix_in_its_patrols_month() -> None:
    """0020 on a database holding fixes of patrols made in two months: each fix lands in the
    partition of its patrol's local day (a patrol made at 23:30 UTC belongs to the next local
    day); a downgrade puts them all back in one plain table, and upgrading again is the
    same."""
    engine = make_engine(fresh_database("geo_patrol_migration_0020"))
    made = {"a": "2026-08-31 15:30+00", "b": "2026-08-31 16:30+00", "c": "2026-10-05 03:00+00"}
    try:
        migrate.upgrade(engine, "0019")
        with engine.begin() as conn:
            team = conn.execute(text("INSERT INTO teams (name) VALUES ('t') RETURNING id"))
            team_id = team.scalar_one()
            for title, created in made.items():
                patrol = conn.execute(
                    text(
                        "INSERT INTO patrols (team_id, source, title, created_at) "
                        "VALUES (:t, 'upload', :title, :c) RETURNING id"
                    ),
                    {"t": team_id, "title": title, "c": created},
                ).scalar_one()
                conn.execute(
                    text(
                        "INSERT INTO patrol_points (patrol_id, seq, ord, geom, live, time) "
                        "SELECT :p, s, s, ST_SetSRID(ST_MakePoint(120 + s * 1e-5, 30), 4326), "
                        "s % 2 = 0, CAST(:c AS timestamptz) + s * interval '1 second' "
                        "FROM generate_series(0, 9) s"
                    ),
                    {"p": patrol, "c": created},
                )
        where = (
            "SELECT p.title, f.tableoid::regclass::text AS part, count(*) FROM patrol_points f "
            "JOIN patrols p ON p.id = f.patrol_id GROUP BY 1, 2 ORDER BY 1"
        )
        migrate.upgrade(engine, "0020")
        with engine.connect() as conn:
            # 15:30 UTC is 23:30 in China on Aug 31; 16:30 UTC is already Sep 1 there.
            assert conn.execute(text(where)).all() == [
                ("a", "patrol_points_2026_08", 10),
                ("b", "patrol_points_2026_09", 10),
                ("c", "patrol_points_2026_10", 10),
            ]
            kind = "SELECT relkind FROM pg_class WHERE relname = 'patrol_points'"
            assert conn.execute(text(kind)).scalar() == "p"
        migrate.downgrade(engine, "0019")
        with engine.begin() as conn:
            assert conn.execute(text(kind)).scalar() == "r"
            rows = "SELECT count(*), count(*) FILTER (WHERE live) FROM patrol_points"
            assert conn.execute(text(rows)).one() == (30, 15)
            # The foreign-key triggers are back on the plain table.
            with pytest.raises(IntegrityError), conn.begin_nested():
                conn.execute(
                    text(
                        "INSERT INTO patrol_points (patrol_id, seq, geom) "
                        "VALUES (999999, 0, ST_SetSRID(ST_MakePoint(120, 30), 4326))"
                    )
                )
        migrate.upgrade(engine, "0020")
        with engine.connect() as conn:
            assert [row[1] for row in conn.execute(text(where))] == [
                "patrol_points_2026_08",
                "patrol_points_2026_09",
                "patrol_points_2026_10",
            ]
    finally:
        engine.dispose()
