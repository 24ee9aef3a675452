"""Answers kept by the fingerprint of their inputs (geo_patrol.db.kept)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from geo_patrol.db.kept import KeptAnswers


def test_an_answer_is_computed_once_per_fingerprint_and_each_caller_gets_a_copy(
    session: Session,
) -> None:
    kept = KeptAnswers("SELECT md5(CAST(:v AS text))", size=2)
    computed: list[int] = []

    def compute(value: int) -> dict[str, list[int]]:
        computed.append(value)
        return {"value": [value]}

    first = kept.get(session, {"v": 1}, lambda: compute(1))
    first["value"].append(99)  # the caller's copy
    assert kept.get(session, {"v": 1}, lambda: compute(1)) == {"value": [1]}
    assert computed == [1]
    assert kept.get(session, {"v": 1}, lambda: compute(1), key="other") == {"value": [1]}
    assert computed == [1, 1]  # another key: computed again
    kept.get(session, {"v": 2}, lambda: compute(2))
    kept.get(session, {"v": 3}, lambda: compute(3))
    # Only the last two are kept: 1 was the oldest, so it is computed again.
    kept.get(session, {"v": 1}, lambda: compute(1))
    assert computed == [1, 1, 2, 3, 1]
