"""Composed conditions: AND/OR in one place, values always bound, one formatting stage."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from geo_patrol.db.clauses import (
    FALSE,
    TRUE,
    Clause,
    after_key,
    all_of,
    any_of,
    equals,
    meets_box,
    statement,
)


def test_no_condition_is_true_for_and_and_false_for_or() -> None:
    assert all_of() == TRUE
    assert all_of(None, None) == TRUE
    assert any_of() == FALSE
    assert any_of(None) == FALSE


def test_one_clause_stays_itself_and_several_are_parenthesised() -> None:
    a = Clause("x = :a", {"a": 1})
    b = Clause("y = :b OR z", {"b": 2})
    assert all_of(None, a) is a
    assert all_of(a, None, b) == Clause("(x = :a) AND (y = :b OR z)", {"a": 1, "b": 2})
    assert any_of(a, b) == Clause("(x = :a) OR (y = :b OR z)", {"a": 1, "b": 2})


def test_a_name_bound_twice_must_carry_one_value() -> None:
    assert all_of(Clause("a = :v", {"v": 1}), Clause("b = :v", {"v": 1})).params == {"v": 1}
    with pytest.raises(ValueError, match="'v' bound twice"):
        all_of(Clause("a = :v", {"v": 1}), Clause("b = :v", {"v": 2}))


def test_equals_binds_the_value_and_skips_none() -> None:
    assert equals("t.code", "code", None) is None
    assert equals("t.code", "code", "'; DROP TABLE x; --") == Clause(
        "t.code = :code", {"code": "'; DROP TABLE x; --"}
    )
    assert equals("s.is_border", "border", False) == Clause(
        "s.is_border = :border", {"border": False}
    )


def test_a_box_is_four_bound_numbers() -> None:
    assert meets_box("p.track", None) is None
    box = meets_box("p.track", [120.0, 30.0, 121.0, 31.0])
    assert box is not None
    assert box.params == {"bbox_x0": 120.0, "bbox_y0": 30.0, "bbox_x1": 121.0, "bbox_y1": 31.0}
    with pytest.raises(ValueError):
        meets_box("p.track", [120.0, 30.0, 121.0])


def test_statement_fills_each_slot_once_in_parentheses_and_binds_its_values() -> None:
    # Bound as untyped values, like those given to execute(): no cast of their own.
    where = all_of(equals("t.a", "a", 5), Clause("t.b OR t.c"))
    sql = statement(
        "SELECT '{{}}'::int[] FROM t WHERE {where} AND t.d = :d ORDER BY {column}",
        where=where,
        column="t.e",
    )
    compiled = sql.compile(dialect=create_engine("postgresql+psycopg://").dialect)
    assert str(compiled) == (
        "SELECT '{}'::int[] FROM t WHERE ((t.a = %(a)s) AND (t.b OR t.c)) "
        "AND t.d = %(d)s ORDER BY t.e"
    )
    assert compiled.params == {"a": 5, "d": None}


def test_after_key_is_a_row_comparison_with_bound_values() -> None:
    assert after_key(("a.t", "a.id"), None, descending=True) is None
    assert after_key(("a.t", "a.id"), ["2026-01-01", 7], descending=True) == Clause(
        "(a.t, a.id) < (:after_0, :after_1)", {"after_0": "2026-01-01", "after_1": 7}
    )
    assert after_key(("code",), ["x'; DROP"], descending=False) == Clause(
        "(code) > (:after_0)", {"after_0": "x'; DROP"}
    )
    with pytest.raises(ValueError, match="one value per column"):
        after_key(("a", "b"), [1], descending=False)


@pytest.mark.parametrize("descending", [False, True])
def test_after_key_pages_through_ties_as_python_sorts(session: Session, descending: bool) -> None:
    """Pages of three read after the last row of the page before, through runs of equal
    first keys, are the rows as Python sorts them: none lost at a page edge, none twice."""
    rows = [(day % 4, n) for n, day in enumerate([3, 1, 1, 0, 3, 3, 2, 1, 0, 2, 3])]
    session.execute(text("CREATE TEMPORARY TABLE k (day int NOT NULL, id int PRIMARY KEY)"))
    session.execute(
        text("INSERT INTO k VALUES (:day, :id)"), [{"day": d, "id": i} for d, i in rows]
    )
    order = "day DESC, id DESC" if descending else "day, id"
    walked: list[tuple[int, int]] = []
    key = None
    while True:
        after = all_of(after_key(("day", "id"), key, descending=descending))
        sql = statement(
            f"SELECT day, id FROM k WHERE {{after}} ORDER BY {order} LIMIT 3", after=after
        )
        page = [(r.day, r.id) for r in session.execute(sql)]
        if not page:
            break
        walked += page
        key = page[-1]
    assert walked == sorted(rows, reverse=descending)
