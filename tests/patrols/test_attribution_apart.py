"""A big upload is attributed on a connection of its own while its fixes are stored; the
answers are those of attribution on the upload's own connection.

The other connection sees only committed data, so this test has a database of its own with
the demo region committed (the other tests roll their data back)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from geo_patrol.access.principal import command_line_principal
from geo_patrol.core.settings import Settings
from geo_patrol.db.embedded import drop_database
from geo_patrol.db.engine import make_engine
from geo_patrol.patrols import upload as patrols
from geo_patrol.patrols.attribution import attribute_patrol
from geo_patrol.patrols.track.types import TrackPoints
from tests.support import oracle
from tests.support.database import fresh_demo_database
from tests.support.oracle import assert_like_shapely, meander

CROSSINGS = """
SELECT level, at, from_code, to_code, ST_AsText(geom) FROM patrol_crossings
WHERE patrol_id = :p ORDER BY level, at
"""
JURISDICTIONS = """
SELECT code, level, length_m, duration_s, entered_at, exited_at FROM patrol_jurisdictions
WHERE patrol_id = :p ORDER BY level, code
"""


# What the upload logs when the attribution connection fails and it attributes itself.
FALLBACK = "attribution on its own connection failed"


def upload_meander(engine: Engine, folder: Path, fixes: int) -> tuple[Session, int, Any, Any]:
    """A meander across the county border uploaded as the operator through `engine`
    (uncommitted): the session, the patrol id, and the walk's lons and lats."""
    lons, lats = meander(fixes, amplitude_m=150.0, wavelength_m=2500.0)
    when = oracle.times(len(lons), start=datetime(2026, 11, 21, 1, tzinfo=UTC), step_s=1.2)
    session = Session(engine)
    url = engine.url.render_as_string(hide_password=False)
    team = session.execute(text("SELECT min(id) FROM teams")).scalar_one()
    request = patrols.UploadRequest(
        team_id=team, filename="w.gpx", mode="car", data=oracle.gpx(lons, lats, when)
    )
    result = patrols.upload_patrol(
        session,
        request=request,
        principal=command_line_principal(),
        settings=Settings(database_url=url, data_dir=folder),
        address=None,
    )
    return session, result.patrol_id, lons, lats


def county_lengths(rows: Any) -> dict[str, tuple[float, float | None]]:
    """code -> (metres, seconds) of the county rows of JURISDICTIONS."""
    return {r.code: (r.length_m, r.duration_s) for r in rows if r.level == "county"}


@pytest.fixture(scope="module")
def committed_demo() -> Iterator[Engine]:
    """An engine on a database with the demo region committed; dropped afterwards."""
    url = fresh_demo_database("geo_patrol_test_apart")
    engine = make_engine(url)
    yield engine
    engine.dispose()
    drop_database(url)


def test_big_upload_attributed_apart_gives_the_same_answers(
    committed_demo: Engine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    started: list[int] = []
    original = patrols.attribute_apart

    def watched(session: Session, *, kept: TrackPoints, settings: Settings) -> Any:
        found = original(session, kept=kept, settings=settings)
        started.append(len(kept) if found is not None else 0)
        return found

    monkeypatch.setattr(patrols, "APART_FROM_FIXES", 1000)
    monkeypatch.setattr(patrols, "attribute_apart", watched)
    session, patrol_id, lons, lats = upload_meander(committed_demo, tmp_path, 3000)
    with session:
        assert len(started) == 1 and started[0] > 2900  # attributed apart (a few fixes cleaned)
        # ... and the answers stored are that connection's, not the fallback's.
        assert FALLBACK not in caplog.text
        params = {"p": patrol_id}
        apart = session.execute(text(JURISDICTIONS), params).all()
        apart_crossings = session.execute(text(CROSSINGS), params).all()
        assert_like_shapely(county_lengths(apart), lons, lats)
        assert apart_crossings
        attribute_patrol(session, patrol_id=patrol_id)  # again, on this connection
        again = session.execute(text(JURISDICTIONS), params).all()
        assert [r[:2] for r in again] == [r[:2] for r in apart]
        for mine, theirs in zip(again, apart, strict=True):
            assert mine.length_m == pytest.approx(theirs.length_m, abs=1e-6)
            assert mine.duration_s == pytest.approx(theirs.duration_s, abs=1e-6)
            assert (mine.entered_at, mine.exited_at) == (theirs.entered_at, theirs.exited_at)
        assert session.execute(text(CROSSINGS), params).all() == apart_crossings
        session.rollback()


def test_upload_attributes_on_its_own_connection_when_the_other_fails(
    committed_demo: Engine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def refused(*_: object) -> Any:
        raise OperationalError("connect", {}, Exception("sorry, too many clients already"))

    monkeypatch.setattr(patrols, "APART_FROM_FIXES", 1000)
    monkeypatch.setattr(patrols, "_attribute_on_own_connection", refused)
    session, patrol_id, lons, lats = upload_meander(committed_demo, tmp_path, 2000)
    assert FALLBACK in caplog.text  # the fallback did the work
    with session:
        rows = session.execute(text(JURISDICTIONS), {"p": patrol_id}).all()
        assert_like_shapely(county_lengths(rows), lons, lats)
        session.rollback()
