"""Fixes belong to an existing patrol and go with it (migration 0008's triggers)."""

from __future__ import annotations

import psycopg
import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

POINTS = """
INSERT INTO patrol_points (patrol_id, seq, geom, patrol_day)
SELECT :patrol_id, s, ST_SetSRID(ST_MakePoint(120.6 + s * 1e-5, 30.9), 4326),
       coalesce((SELECT patrol_day FROM patrols WHERE id = :patrol_id), CURRENT_DATE)
FROM generate_series(0, :n - 1) AS s
"""


def new_team(session: Session, name: str) -> int:
    """A team row."""
    return int(
        session.execute(
            text("INSERT INTO teams (name) VALUES (:n) RETURNING id"), {"n": name}
        ).scalar_one()
    )


def new_patrol(session: Session, team_id: int) -> int:
    """An upload patrol row of the team."""
    return int(
        session.execute(
            text("INSERT INTO patrols (team_id, source) VALUES (:t, 'upload') RETURNING id"),
            {"t": team_id},
        ).scalar_one()
    )


def points_of(session: Session, patrol_id: int) -> int:
    """How many fixes the patrol has."""
    count = session.execute(
        text("SELECT count(*) FROM patrol_points WHERE patrol_id = :p"), {"p": patrol_id}
    )
    return int(count.scalar_one())


def refused(session: Session, sql: str, params: dict[str, int]) -> psycopg.Error:
    """The database error of a statement that must violate the patrol reference."""
    with pytest.raises(IntegrityError) as caught, session.begin_nested():
        session.execute(text(sql), params)
    error = caught.value.orig
    assert isinstance(error, psycopg.errors.ForeignKeyViolation)
    assert error.diag.constraint_name == "fk_patrol_points_patrol_id_patrols"
    return error


def test_points_of_a_missing_patrol_are_refused(session: Session) -> None:
    patrol = new_patrol(session, new_team(session, "integrity-a"))
    session.execute(text(POINTS), {"patrol_id": patrol, "n": 3})
    error = refused(session, POINTS, {"patrol_id": patrol + 1000, "n": 3})
    assert f"(patrol_id)=({patrol + 1000})" in str(error.diag.message_detail)
    moved = "UPDATE patrol_points SET patrol_id = :to WHERE patrol_id = :p AND seq = 0"
    refused(session, moved, {"p": patrol, "to": patrol + 1000})
    session.execute(text("UPDATE patrol_points SET ord = seq WHERE patrol_id = :p"), {"p": patrol})
    assert points_of(session, patrol) == 3


def test_deleting_a_patrol_deletes_its_points(session: Session) -> None:
    team = new_team(session, "integrity-b")
    gone, kept = new_patrol(session, team), new_patrol(session, team)
    for patrol in (gone, kept):
        session.execute(text(POINTS), {"patrol_id": patrol, "n": 5})
    session.execute(text("DELETE FROM patrols WHERE id = :p"), {"p": gone})
    assert (points_of(session, gone), points_of(session, kept)) == (0, 5)
    # Through the teams -> patrols cascade too.
    session.execute(text("DELETE FROM teams WHERE id = :t"), {"t": team})
    assert points_of(session, kept) == 0


def test_a_referenced_patrol_keeps_its_id(session: Session) -> None:
    patrol = new_patrol(session, new_team(session, "integrity-c"))
    session.execute(text(POINTS), {"patrol_id": patrol, "n": 2})
    with pytest.raises(IntegrityError), session.begin_nested():
        session.execute(text("UPDATE patrols SET id = id + 1000 WHERE id = :p"), {"p": patrol})
    assert points_of(session, patrol) == 2


def test_inserting_points_locks_their_patrol_against_delete(engine: Engine) -> None:
    with engine.begin() as setup:
        team = setup.execute(text("INSERT INTO teams (name) VALUES ('integrity-d') RETURNING id"))
        team_id = team.scalar_one()
        patrol = setup.execute(
            text("INSERT INTO patrols (team_id, source) VALUES (:t, 'upload') RETURNING id"),
            {"t": team_id},
        ).scalar_one()
    try:
        with engine.connect() as writer, engine.connect() as deleter:
            writer.execute(text(POINTS), {"patrol_id": patrol, "n": 2})  # not committed yet
            deleter.execute(text("SET lock_timeout = '200ms'"))
            with pytest.raises(OperationalError) as caught:
                deleter.execute(text("DELETE FROM patrols WHERE id = :p"), {"p": patrol})
            assert isinstance(caught.value.orig, psycopg.errors.LockNotAvailable)
            writer.rollback()
    finally:
        with engine.begin() as cleanup:
            cleanup.execute(text("DELETE FROM teams WHERE id = :t"), {"t": team_id})
