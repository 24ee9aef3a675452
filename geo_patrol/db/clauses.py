"""Conditions composed from small parts, each a bit of SQL with the values it binds.

A query with optional filters is one readable statement with a named slot (`{where}`); each
filter is a small function returning a `Clause` (or None when it does not apply), and
`all_of` joins them with AND. `statement` fills the slots once and binds every value, so a
value never enters SQL text and a fragment is never formatted twice (tipg's `_where_clause`
habit). The SQL of a clause is written by our own code; user input only ever reaches it as
a bound parameter.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import TextClause, bindparam, text
from sqlalchemy.types import NullType


@dataclass(frozen=True)
class Clause:
    """A SQL condition written by our code and the parameters it binds."""

    sql: str
    params: Mapping[str, Any] = field(default_factory=dict)


TRUE = Clause("TRUE")
FALSE = Clause("FALSE")


def _merged(clauses: Iterable[Clause]) -> dict[str, Any]:
    """The parameters of all `clauses`; a name bound to two different values is a bug."""
    merged: dict[str, Any] = {}
    for clause in clauses:
        for name, value in clause.params.items():
            if name in merged and merged[name] != value:
                raise ValueError(f"parameter {name!r} bound twice with different values")
            merged[name] = value
    return merged


def _joined(operator: str, empty: Clause, clauses: Iterable[Clause | None]) -> Clause:
    """The given clauses (None skipped) joined by `operator`; `empty` when none."""
    parts = [c for c in clauses if c is not None]
    if not parts:
        return empty
    if len(parts) == 1:
        return parts[0]
    sql = f" {operator} ".join(f"({c.sql})" for c in parts)
    return Clause(sql, _merged(parts))


def all_of(*clauses: Clause | None) -> Clause:
    """Every clause holds (AND); None is no condition; TRUE when there is none."""
    return _joined("AND", TRUE, clauses)


def any_of(*clauses: Clause | None) -> Clause:
    """At least one clause holds (OR); None is skipped; FALSE when there is none."""
    return _joined("OR", FALSE, clauses)


def statement(template: str, **slots: Clause | str) -> TextClause:
    """`template` with each `{slot}` filled by its clause (in parentheses), values bound.

    The template is a plain string (not an f-string; literal braces doubled), formatted
    here once. A `str` slot is a fragment picked from a whitelist keyed by an Enum (a join,
    a column), inserted as it is. Values the template itself names are passed to `execute`.
    """
    clauses = [slot for slot in slots.values() if isinstance(slot, Clause)]
    sql = template.format(
        **{
            name: f"({slot.sql})" if isinstance(slot, Clause) else slot
            for name, slot in slots.items()
        }
    )
    # Untyped, as values passed to execute() are: a typed bind would add casts of its own
    # (an int becomes `::INTEGER`), and the SQL around it already says what it expects.
    values = [bindparam(name, value, type_=NullType()) for name, value in _merged(clauses).items()]
    return text(sql).bindparams(*values)


def equals(column: str, name: str, value: object) -> Clause | None:
    """`column` (of our query) equals `value`, bound as `name`; None when `value` is None."""
    return None if value is None else Clause(f"{column} = :{name}", {name: value})


def meets_box(column: str, bbox: Sequence[float] | None) -> Clause | None:
    """Rows whose `column` (a geometry in EPSG:4326) has a box meeting
    [minlon, minlat, maxlon, maxlat]; None when there is no box."""
    if bbox is None:
        return None
    names = ("bbox_x0", "bbox_y0", "bbox_x1", "bbox_y1")
    return Clause(
        f"{column} && ST_MakeEnvelope(:bbox_x0, :bbox_y0, :bbox_x1, :bbox_y1, 4326)",
        dict(zip(names, bbox, strict=True)),
    )


def after_key(
    columns: Sequence[str], key: Sequence[object] | None, *, descending: bool
) -> Clause | None:
    """Rows after the keyset position `key` in the order `columns` (all ascending or all
    descending, the last one unique, none NULL): a row comparison the index on those columns
    answers; None on the first page (no key)."""
    if key is None:
        return None
    if len(columns) != len(key):
        raise ValueError("a keyset position needs one value per column")
    names = [f"after_{i}" for i in range(len(columns))]
    operator = "<" if descending else ">"
    left = ", ".join(columns)
    right = ", ".join(f":{name}" for name in names)
    return Clause(f"({left}) {operator} ({right})", dict(zip(names, key, strict=True)))
