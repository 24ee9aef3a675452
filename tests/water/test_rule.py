"""The rule that opens a joint case from a reading at a border section: when it opens (worse
than the target, a class worse than before) and when not (at the target, no fall, not a
border section, a retry), and that the case is a joint one routed to both sides."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_patrol.core.settings import Settings
from geo_patrol.water.rule import open_cases, severity_of
from tests.water.along_flow import Along, river_line
from tests.water.sections import add_reading, add_section

BORDER_RIVER = "R-320509-330411-01"
TAIPU = "R-320509-01"
SETTINGS = Settings()
NOW = datetime.now(UTC).replace(microsecond=0)
MONTH = timedelta(days=30)
# Class II, III, IV and V of a river sample by NH3-N alone (GB 3838-2002: 0.5 / 1.0 / 1.5 / 2.0).
II, III, IV, V, WORSE_THAN_V = 0.4, 0.9, 1.2, 1.8, 2.6


def border_section(session: Session, code: str = "S-JOINT", target: int = 3) -> int:
    """A border section in the middle of the border river."""
    line, _ = river_line(BORDER_RIVER)
    lon, lat = line.interpolate(0.5, normalized=True).coords[0]
    return add_section(session, code=code, river_code=BORDER_RIVER, lon=lon, lat=lat, target=target)


def readings(session: Session, section: int, *values: float) -> list[int]:
    """Monthly readings of NH3-N, the last one now."""
    return [
        add_reading(
            session,
            section_id=section,
            at=NOW - (len(values) - 1 - i) * MONTH,
            measured={"NH3-N": value, "DO": 6.5},
        )
        for i, value in enumerate(values)
    ]


def cases(session: Session) -> int:
    """How many water-quality cases there are."""
    return int(
        session.execute(
            text("SELECT count(*) FROM incidents WHERE category = 'water_quality'")
        ).scalar_one()
    )


@pytest.mark.parametrize(
    ("values", "opens", "severity"),
    [
        ((III, III), False, None),  # at the target, as before
        ((III,), False, None),  # no previous reading, at the target
        ((II, III), True, "low"),  # within the target, one class worse than before
        ((IV,), True, "medium"),  # no previous reading, one class over the target
        ((IV, IV), True, "medium"),  # over the target, no fall
        ((II, V), True, "high"),  # two classes over the target
        ((III, WORSE_THAN_V), True, "high"),  # 劣V
        ((IV, III), False, None),  # better than before, at the target
    ],
)
def test_when_a_case_opens(
    demo_session: Session, values: tuple[float, ...], opens: bool, severity: str | None
) -> None:
    ids = readings(demo_session, border_section(demo_session), *values)
    opened = open_cases(demo_session, reading_ids=ids[-1:], settings=SETTINGS)
    assert len(opened) == int(opens)
    if opens:
        found = demo_session.execute(
            text("SELECT severity, source, client_id FROM incidents WHERE id = :i"),
            {"i": opened[0]},
        ).one()
        assert tuple(found) == (severity, "water", f"reading:{ids[-1]}")


def test_the_case_is_joint_routed_to_both_sides_and_linked(demo_session: Session) -> None:
    ids = readings(demo_session, border_section(demo_session), II, V)
    [case] = open_cases(demo_session, reading_ids=ids, settings=SETTINGS)
    incident = demo_session.execute(
        text("SELECT is_joint, category, tier, description FROM incidents WHERE id = :i"),
        {"i": case},
    ).one()
    assert incident.is_joint and incident.category == "water_quality"
    assert incident.tier == "county"  # high goes to the county (migration 0019's rules)
    sides: dict[str, str] = dict(
        demo_session.execute(
            text(
                "SELECT code, role FROM incident_responsibles WHERE incident_id = :i"
                " AND level = 'town'"
            ),
            {"i": case},
        ).all()
    )
    assert set(sides) == {"320509100", "330411100"}  # 盛泽镇 and 王江泾镇
    assert sorted(sides.values()) == ["co", "lead"]
    assert (
        demo_session.execute(
            text("SELECT incident_id FROM water_readings WHERE id = :r"), {"r": ids[-1]}
        ).scalar_one()
        == case
    )
    # The description names section, class, target, the previous class and NH3-N's factor:
    # (1.8 − 1.0) / 1.0 = 0.80 over class III's limit.
    for words in ("S-JOINT", "V类", "目标III类", "上次为II类", "NH3-N 1.8（超标 0.80 倍）"):
        assert words in incident.description
    assert "DO" not in incident.description  # 6.5 meets class II


def test_a_retry_opens_nothing_new(demo_session: Session) -> None:
    ids = readings(demo_session, border_section(demo_session), II, V)
    first = open_cases(demo_session, reading_ids=ids, settings=SETTINGS)
    leads = demo_session.execute(text("SELECT count(*) FROM water_leads")).scalar_one()
    assert len(first) == 1 and cases(demo_session) == 1
    assert open_cases(demo_session, reading_ids=ids, settings=SETTINGS) == []
    # Even with the link lost, the client id finds the case again.
    demo_session.execute(text("UPDATE water_readings SET incident_id = NULL"))
    assert open_cases(demo_session, reading_ids=ids, settings=SETTINGS) == []
    assert cases(demo_session) == 1
    assert demo_session.execute(text("SELECT count(*) FROM water_leads")).scalar_one() == leads
    assert (
        demo_session.execute(
            text("SELECT incident_id FROM water_readings WHERE id = :r"), {"r": ids[-1]}
        ).scalar_one()
        == first[0]
    )


def test_no_case_away_from_the_border(demo_session: Session) -> None:
    line, flow = river_line(TAIPU)
    lon, lat = Along(line, flow, *line.coords[0]).point_at(2000.0)
    inland = add_section(
        demo_session, code="S-INLAND", river_code=TAIPU, lon=lon, lat=lat, kind="provincial"
    )
    ids = readings(demo_session, inland, II, WORSE_THAN_V)
    assert open_cases(demo_session, reading_ids=ids, settings=SETTINGS) == []
    # The same river with a section a border one by its kind: the rule applies.
    border = add_section(demo_session, code="S-KIND", river_code=TAIPU, lon=lon, lat=lat)
    assert (
        len(
            open_cases(
                demo_session,
                reading_ids=readings(demo_session, border, II, WORSE_THAN_V),
                settings=SETTINGS,
            )
        )
        == 1
    )


def test_severity_by_how_bad() -> None:
    assert [severity_of(c, 3) for c in range(1, 7)] == [
        "low",
        "low",
        "low",
        "medium",
        "high",
        "high",
    ]
    assert severity_of(6, 5) == "high" and severity_of(5, 4) == "medium"


def test_a_section_that_stays_bad_has_one_case_until_it_is_closed(demo_session: Session) -> None:
    """Readings over the target month after month join the section's open case (linked, noted
    in its history); once that case is closed, the next bad reading opens a new one."""
    section = border_section(demo_session)
    ids = readings(demo_session, section, IV, IV, V)
    opened = open_cases(demo_session, reading_ids=ids, settings=SETTINGS)
    assert len(opened) == 1 and cases(demo_session) == 1
    links = demo_session.execute(
        text("SELECT DISTINCT incident_id FROM water_readings WHERE id = ANY(:ids)"), {"ids": ids}
    ).scalars()
    assert list(links) == opened
    notes = demo_session.execute(
        text("SELECT note FROM incident_events WHERE incident_id = :i AND kind = 'reading'"),
        {"i": opened[0]},
    ).scalars()
    assert [n.split("，")[0].split("水质为")[1] for n in notes] == ["IV类", "V类"]
    demo_session.execute(
        text("UPDATE incidents SET status = 'closed' WHERE id = :i"), {"i": opened[0]}
    )
    later = add_reading(
        demo_session, section_id=section, at=NOW + MONTH, measured={"NH3-N": V, "DO": 6.5}
    )
    again = open_cases(demo_session, reading_ids=[later], settings=SETTINGS)
    assert len(again) == 1 and again != opened and cases(demo_session) == 2
