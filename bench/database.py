"""The benchmark's own database on the project's test server: made fresh, dropped at the end.

The server is the one the tests use (GEO_PATROL_TEST_DATABASE_URL, else the embedded cluster
under var/test/pg), found here as tests/conftest.py finds it: the benchmarks import nothing
from tests/.
"""

from __future__ import annotations

import os
from pathlib import Path

import psycopg
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from geo_patrol.access.principal import command_line_principal
from geo_patrol.access.scope import Scope
from geo_patrol.accounts.members import issue_api_token, issue_device_token
from geo_patrol.accounts.teams import grantable_teams
from geo_patrol.db import migrate
from geo_patrol.db.embedded import EmbeddedCluster, drop_database, fresh_database
from geo_patrol.db.engine import make_engine
from geo_patrol.demo.load import load_demo

ROOT = Path(__file__).resolve().parent.parent
NAME = "geo_patrol_bench"
JOINT_TEAM = "联合巡河队一队"

# Members whose devices may report positions: a device acts with its member's patrol roles
# over the teams it was issued for (here: all of them).
PATROL_MEMBERS = """
SELECT DISTINCT m.id FROM members m JOIN member_roles r ON r.member_id = m.id
WHERE r.role IN ('patrol_member', 'team_lead') AND r.team_id IS NOT NULL AND m.is_active
ORDER BY m.id
"""


# Resolved incidents scattered over the benchmark walk's area (the Shengze-Wangjiangjing
# border), as a county has after a few months: every upload checks whether it passed them.
RESOLVED_INCIDENTS = """
INSERT INTO incidents (source, category, severity, reported_at, geom, status, tier, resolved_at)
SELECT 'api', 'floating_waste', 'low', now() - interval '60 days',
       ST_SetSRID(ST_MakePoint(120.58 + 0.08 * random(), 30.83 + 0.06 * random()), 4326),
       'resolved', 'village', now() - interval '59 days'
FROM generate_series(1, :count)
"""


def server_url() -> str:
    """URL of the test server (its maintenance database), started if it is the embedded one."""
    external = os.environ.get("GEO_PATROL_TEST_DATABASE_URL")
    if external:
        return external
    return EmbeddedCluster(ROOT / "var" / "test" / "pg").up()


def create(name: str = NAME, resolved_incidents: int = 300) -> str:
    """A fresh, migrated database `name` with the demo region loaded and `resolved_incidents`
    resolved incidents near the benchmark walk; returns its URL."""
    url = fresh_database(server_url(), name)
    engine = make_engine(url)
    migrate.upgrade(engine)
    with Session(engine) as session:
        load_demo(session)
        session.execute(text("SELECT setseed(0.27)"))
        session.execute(text(RESOLVED_INCIDENTS), {"count": resolved_incidents})
        session.commit()
    engine.dispose()
    return url


def drop(url: str) -> None:
    """Drop the benchmark database at `url` (closing whatever is still connected to it)."""
    drop_database(url)


def api_headers(url: str, login: str) -> dict[str, str]:
    """A bearer header of the demo member `login` (a token issued for a day)."""
    engine = make_engine(url)
    with Session(engine) as session:
        member = session.execute(
            text("SELECT id FROM members WHERE login = :l"), {"l": login}
        ).scalar_one()
        token = issue_api_token(session, member_id=member, label="bench", days=1, address=None)
        session.commit()
    engine.dispose()
    return {"Authorization": f"Bearer {token}"}


def team_id(url: str, name: str = JOINT_TEAM) -> int:
    """Id of a demo team."""
    engine = make_engine(url)
    with Session(engine) as session:
        found = session.execute(text("SELECT id FROM teams WHERE name = :n"), {"n": name})
        value = int(found.scalar_one())
    engine.dispose()
    return value


def issue_devices(url: str, count: int) -> list[tuple[int, str]]:
    """`count` device tokens spread over the demo patrol members: (device id, token)."""
    engine = make_engine(url)
    with Session(engine) as session:
        members = list(session.execute(text(PATROL_MEMBERS)).scalars())
        devices = [
            issue_device_token(
                session,
                member_id=members[i % len(members)],
                label=f"bench phone {i}",
                team_ids=grantable_teams(
                    session, scope=Scope(everything=True), member_id=members[i % len(members)]
                ),
                by=command_line_principal(),
                address=None,
            )
            for i in range(count)
        ]
        session.commit()
    engine.dispose()
    return devices


def count_live_points(url: str, device_ids: list[int]) -> int:
    """Live positions stored for these devices."""
    engine = make_engine(url)
    with Session(engine) as session:
        found = session.execute(
            text(
                "SELECT count(*) FROM patrol_points pp JOIN patrols p ON p.id = pp.patrol_id "
                "WHERE p.device_id = ANY(:ids) AND pp.live"
            ),
            {"ids": device_ids},
        )
        value = int(found.scalar_one())
    engine.dispose()
    return value


def active_statements(url: str) -> list[tuple[float, str]]:
    """Statements running now in the benchmark database: (seconds so far, text)."""
    with psycopg.connect(_plain(url)) as conn:
        rows = conn.execute(
            "SELECT extract(epoch FROM now() - query_start), query FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() AND state = 'active'"
        ).fetchall()
    return [(float(seconds), str(query)) for seconds, query in rows]


def stop_backends(url: str) -> int:
    """End every other connection to the benchmark database (a killed client's query runs on)."""
    with psycopg.connect(_plain(url), autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchall()
    return len(rows)


def _plain(url: str) -> str:
    """The URL as libpq takes it (no SQLAlchemy driver suffix)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
