"""tools/shard_crossing finds the statements that would cross shards under docs/scale.md's
Citus design, leaves single-shard ones alone, and the list in docs/scale.md is current."""

from __future__ import annotations

import pytest

from tools.shard_crossing import BEGIN, DOC, END, Finding, Statement, findings, markdown


@pytest.fixture(scope="module")
def code(database_url: str) -> list[Finding]:
    """Every statement of the code, analysed once."""
    return findings(database_url)


def _of(code: list[Finding], module: str, name: str) -> Finding:
    (found,) = [f for f in code if (f.statement.module, f.statement.name) == (module, name)]
    return found


def test_known_crossing_statements_are_found(code: list[Finding]) -> None:
    """The map's tiles read every patrol in a box; a live batch writes the fixes of many
    patrols; a water case joins readings to incidents on a column of another group."""
    tiles = _of(code, "geo_patrol.patrols.tiles", "TRACKS")
    assert "patrols: id not pinned" in tiles.reasons
    batch = _of(code, "geo_patrol.patrols.live.store", "ADD_BATCH")
    assert any(
        r.startswith("inserts into patrol_points rows whose patrol_id") for r in batch.reasons
    )
    case = _of(code, "geo_patrol.water.rule", "OPEN_CASE")
    assert "joins incidents.id = water_readings.incident_id (two groups)" in case.reasons


def test_core_statements_are_read_from_their_source(code: list[Finding]) -> None:
    """SQLAlchemy Core: a water case updates its reading by the reading's id (not its
    section), where flagging a patrol updates it by the patrol's id."""
    reading = _of(code, "geo_patrol.water.rule", "_open_case(): update(WaterReading)")
    assert reading.reasons == ["water_readings: section_id not pinned"]
    flagged = _of(code, "geo_patrol.patrols.quality", "flag_patrol(): update(Patrol)")
    assert flagged.tables == ["patrols"] and not flagged.crosses


def test_single_shard_statements_are_not_flagged(code: list[Finding]) -> None:
    """Attribution reads one patrol's fixes; a photo is read by its incident."""
    kept = _of(code, "geo_patrol.patrols.attribution", "KEPT")
    assert kept.tables == ["patrol_points"] and not kept.crosses
    photo = _of(code, "geo_patrol.incidents.photos", "photo_for_download()")
    assert photo.tables == ["incident_photos"] and not photo.crosses


HAND = {
    # the patrol pinned, its fixes joined on the key: one shard
    "one patrol": (
        "SELECT pp.seq FROM patrols p JOIN patrol_points pp ON pp.patrol_id = p.id"
        " WHERE p.id = :id",
        [],
    ),
    # effort of a county: a filter on another column
    "a county": (
        "SELECT sum(length_m) FROM patrol_jurisdictions WHERE code = :code",
        ["patrol_jurisdictions: patrol_id not pinned"],
    ),
    # a case and its patrol: two co-location groups, joined on a column that is not the key
    "case and patrol": (
        "SELECT p.length_m FROM incidents i JOIN patrols p ON p.id = i.patrol_id WHERE i.id = :id",
        [
            "joins incidents.patrol_id = patrols.id (two groups)",
            "patrols: id not pinned",
            "reads two groups (incident, patrol)",
        ],
    ),
    # a month of fixes: one partition, every shard (the partitions are not pruned away)
    "a month": (
        "SELECT count(*) FROM patrol_points WHERE patrol_day = :day",
        ["patrol_points: patrol_id not pinned"],
    ),
    # several patrols at once
    "any of": ("SELECT id FROM patrols WHERE id = ANY(:ids)", ["patrols: id not pinned"]),
    # reference tables only
    "reference": ("SELECT name FROM jurisdictions WHERE code = :code", []),
}


def test_hand_written_statements(database_url: str) -> None:
    """Statements whose answer is plain from the design are judged as the design says."""
    statements = [Statement("hand", name, sql) for name, (sql, _) in HAND.items()]
    for found in findings(database_url, statements):
        assert sorted(found.reasons) == sorted(HAND[found.statement.name][1]), found.statement


def test_the_list_in_docs_is_current(code: list[Finding]) -> None:
    """docs/scale.md holds what the tool finds now (`python -m tools.shard_crossing --write`)."""
    document = DOC.read_text(encoding="utf-8")
    shown = document.split(BEGIN, 1)[1].split(END, 1)[0].strip()
    assert shown == markdown(code).strip(), "run: python -m tools.shard_crossing --write"
