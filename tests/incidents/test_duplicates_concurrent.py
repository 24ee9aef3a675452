"""Duplicates under concurrency: reports arriving together, and a case closed while a report
is being matched, on real connections to a database of their own (commits are needed)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pyproj
import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from geo_patrol.core.settings import Settings
from geo_patrol.db.embedded import drop_database
from geo_patrol.db.engine import make_engine
from geo_patrol.incidents.reports import IncidentReport, create_incident
from tests.support.database import migrated_database

GEOD = pyproj.Geod(ellps="WGS84")
DATABASE = "geo_patrol_test_dups_race"
ORIGIN = (120.75, 30.85)
BASE = datetime(2020, 6, 1, 8, 0, tzinfo=UTC)
WAIT_S = 30.0  # generous: only a hang would reach it


@pytest.fixture(scope="module")
def engine() -> Iterator[Engine]:
    """An engine on a freshly migrated database of this module's own; dropped afterwards."""
    url = migrated_database(DATABASE)
    engine = make_engine(url)
    yield engine
    engine.dispose()
    drop_database(url)


def report(east_m: float, hours: float, category: str) -> IncidentReport:
    """A report `east_m` east of ORIGIN, `hours` after BASE."""
    lon, lat, _ = GEOD.fwd(*ORIGIN, 90.0, east_m)
    return IncidentReport(
        category=category,
        severity="medium",
        lon=float(lon),
        lat=float(lat),
        reported_at=BASE + timedelta(hours=hours),
    )


def file(session: Session, new: IncidentReport) -> int:
    """Store a report through the path every report takes; its id."""
    incident_id, created = create_incident(session, report=new, principal=None, settings=Settings())
    assert created
    return incident_id


class Racer:
    """A report filed on a connection of its own, in a thread, committed when it is stored."""

    def __init__(self, engine: Engine, new: IncidentReport) -> None:
        self.connection = engine.connect()
        self.pid = int(self.connection.execute(text("SELECT pg_backend_pid()")).scalar_one())
        self.connection.commit()  # so the session below runs (and commits) its own transaction
        self.ids: list[int] = []
        self.thread = threading.Thread(target=self._file, args=(new,), daemon=True)
        self.thread.start()

    def _file(self, new: IncidentReport) -> None:
        with Session(bind=self.connection) as session:
            self.ids.append(file(session, new))
            session.commit()
        self.connection.close()

    def blocked(self, engine: Engine) -> bool:
        """Whether the racer waits on a lock (False if it finished without waiting)."""
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline and self.thread.is_alive():
            with engine.connect() as connection:
                waiting = connection.execute(
                    text("SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = :pid"),
                    {"pid": self.pid},
                ).scalar()
            if waiting:
                return True
            time.sleep(0.02)
        return False

    def result(self) -> int:
        """The racer's incident, once it is stored."""
        self.thread.join(WAIT_S)
        assert not self.thread.is_alive() and self.ids
        return self.ids[0]


def duplicate_of(engine: Engine, incident_id: int) -> int | None:
    """The case a stored incident is linked to."""
    with engine.connect() as connection:
        value = connection.execute(
            text("SELECT duplicate_of FROM incidents WHERE id = :i"), {"i": incident_id}
        ).scalar()
    return None if value is None else int(value)


def test_two_reports_of_one_spill_arriving_together_make_one_case(engine: Engine) -> None:
    with Session(engine) as first:
        case = file(first, report(0, 0, "illegal_discharge"))  # not committed yet
        racer = Racer(engine, report(30, 1, "illegal_discharge"))
        waited = racer.blocked(engine)  # for the first report's match
        first.commit()
    assert duplicate_of(engine, racer.result()) == case  # was a second case of its own
    assert duplicate_of(engine, case) is None
    assert waited


def test_a_case_closed_while_a_report_is_matched_is_passed_over_for_the_next(
    engine: Engine,
) -> None:
    with Session(engine) as setup:
        closing = file(setup, report(0, 0, "floating_waste"))
        other = file(setup, report(150, 1, "floating_waste"))  # 150 m away: a case of its own
        setup.commit()
    with Session(engine) as supervisor:
        # The supervisor's close holds the case's row, as the workflow's FOR UPDATE does.
        supervisor.execute(
            text("UPDATE incidents SET status = 'closed' WHERE id = :i"), {"i": closing}
        )
        racer = Racer(engine, report(60, 2, "floating_waste"))  # 60 m and 90 m from the two
        waited = racer.blocked(engine)  # to see whether the nearer case stays open
        supervisor.commit()
    assert duplicate_of(engine, other) is None
    assert duplicate_of(engine, racer.result()) == other  # was linked to the closed case
    assert waited
