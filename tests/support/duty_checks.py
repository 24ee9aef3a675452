"""The product's assessment compared with the duty oracle's (tests/support/duty_oracle.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

import pytest
from sqlalchemy.orm import Session

from geo_patrol.access.scope import Scope
from geo_patrol.core.vocabulary import DutyPeriod
from geo_patrol.duty.assessment import ChiefDuty, JointDuty, assess_chiefs, assess_joint
from geo_patrol.duty.periods import Period
from tests.support.duty_oracle import Expected, Track, Window, assess_stored, flags_of, stored_duty

SCOPE = Scope(everything=True)
# Shares of the product and the oracle agree within this (0.3 m of a 3 km stretch; they
# were seen to differ by up to 3e-6).
SHARE_TOLERANCE = 1e-4


def compare(
    got: ChiefDuty | JointDuty, expected: Expected, tracks: Sequence[Track], key: object
) -> None:
    """The product's duty in a period is the oracle's: required, done, status, each
    candidate's reason and share (and its start, too_fast and mocked flags from the fixes)."""
    assert (got.required, got.done, str(got.status)) == (
        expected.required,
        expected.done,
        expected.status,
    ), key
    assert set(got.segment_ids) == expected.segment_ids, key
    assert got.stretch_m == pytest.approx(expected.stretch_m, abs=0.01), key
    reasons = {c.patrol_id: str(c.reason) for c in got.candidates}
    assert reasons == {k: v.reason for k, v in expected.candidates.items()}, key
    by_id = {t.patrol_id: t for t in tracks}
    for candidate in got.candidates:
        verdict = expected.candidates[candidate.patrol_id]
        assert candidate.share == pytest.approx(verdict.share, abs=SHARE_TOLERANCE), key
        track = by_id[candidate.patrol_id]
        assert candidate.started_at == track.started
        assert set(candidate.flags) & {"too_fast", "mocked"} == flags_of(track), key
    if isinstance(got, ChiefDuty):
        # The union of the counted patrols' coverage, in metres on the ellipsoid: with one
        # counted patrol, its share (fractions of a segment are fractions of its lon/lat line,
        # not of its length in metres: 0.13 % apart on the demo's river).
        assert got.covered_share == pytest.approx(expected.covered_share, abs=SHARE_TOLERANCE)
        assert got.last_patrol_at == expected.last_patrol_at, key


def agree_on_everything(session: Session, *, windows: Sequence[Window], now: datetime) -> int:
    """The product and the oracle (reading every input back from the database) agree on
    every chief and joint pair in the periods; how many duties were compared."""
    periods = [Period(w.first, w.last, DutyPeriod(w.kind)) for w in windows]
    stored = stored_duty(session)
    expected = assess_stored(stored, windows=windows, now=now)
    got: dict[tuple[str, int, date], ChiefDuty | JointDuty] = {}
    for chief in assess_chiefs(session, scope=SCOPE, member_id=None, periods=periods, now=now):
        got[("chief", chief.appointment_id, chief.period.first)] = chief
    for pair in assess_joint(session, scope=SCOPE, member_id=None, periods=periods, now=now):
        got[("pair", pair.joint_id, pair.period.first)] = pair
    assert sorted(got) == sorted(expected)
    for key, duty in got.items():
        compare(duty, expected[key], stored.tracks, key)
    return len(got)
