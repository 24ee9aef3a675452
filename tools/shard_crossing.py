"""Every SQL statement of geo_patrol/ that would cross shards under the Citus design of
docs/scale.md, found by PostgreSQL's own planner.

    .venv/bin/python -m tools.shard_crossing            # print the table (Markdown)
    .venv/bin/python -m tools.shard_crossing --write    # refresh it in docs/scale.md

The statements are the SQL constants of every module (strings, and dicts of strings, that
start with SELECT, WITH, INSERT, UPDATE, DELETE, CREATE TEMP or DROP TABLE; templates with
their condition slots filled by TRUE), the literal SQL of every text("...") call, and the
SQLAlchemy Core statements (select/insert/update/delete of a table class, read from their
source). Each SQL statement is prepared on a migrated database with its parameters left
open (`:name` and `%(name)s` become `$n` of the type the planner infers) and explained as a
generic plan (plan_cache_mode = force_generic_plan, partition pruning off), so no value
folds a scan away. The plan names every table read or written (a partition counts as its
parent) and every condition: a scan of a distributed table is on one shard when a condition
of its own pins
the distribution column to one value (`= $n` or a constant), or when it is joined on the
distribution column to a pinned scan of its co-location group. A statement crosses shards
when a distributed table is not pinned (a filter on another column, `= ANY(...)`, a join on
another column), when it joins two co-location groups or a coordinator-only table with a
distributed one, or when it inserts rows whose distribution value comes from a query.
Temporary tables the code creates (CREATE TEMP TABLE ... AS) are created first, empty.
The analysis errs towards "crosses": an equality inside an OR does not pin.

The database is GEO_PATROL_DATABASE_URL or --database-url; without either, a fresh database
`geo_patrol_shard_crossing` migrated on the tests' embedded cluster (var/test/pg), dropped
at the end.

Introduced in: geo-patrol 0.6.0
"""

from __future__ import annotations

import argparse
import ast
import importlib
import json
import os
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import text
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "geo_patrol"
DOC = ROOT / "docs" / "scale.md"
BEGIN = "<!-- shard-crossing: begin (python -m tools.shard_crossing --write) -->"
END = "<!-- shard-crossing: end -->"


@dataclass(frozen=True)
class Placement:
    """Where a table lives on Citus: distributed (by `column`, in co-location `group`),
    a reference table (a copy on every node) or local to the coordinator."""

    kind: str  # "distributed" | "reference" | "local"
    column: str = ""
    group: str = ""


def _distributed(column: str, group: str) -> Placement:
    return Placement("distributed", column, group)


REFERENCE = Placement("reference")
LOCAL = Placement("local")

# The design of docs/scale.md, table by table. A table not named here is reported.
DESIGN: dict[str, Placement] = {
    # The patrol group: everything about one patrol on one shard, by the patrol's id.
    "patrols": _distributed("id", "patrol"),
    "patrol_points": _distributed("patrol_id", "patrol"),
    "patrol_members": _distributed("patrol_id", "patrol"),
    "patrol_jurisdictions": _distributed("patrol_id", "patrol"),
    "patrol_crossings": _distributed("patrol_id", "patrol"),
    "patrol_coverage": _distributed("patrol_id", "patrol"),
    # The incident group: a case, its sides, history, photos and evidence, by its id.
    "incidents": _distributed("id", "incident"),
    "incident_responsibles": _distributed("incident_id", "incident"),
    "incident_events": _distributed("incident_id", "incident"),
    "incident_photos": _distributed("incident_id", "incident"),
    "incident_verifications": _distributed("incident_id", "incident"),
    "water_leads": _distributed("incident_id", "incident"),
    # Readings of the monitoring sections, by section.
    "water_readings": _distributed("section_id", "section"),
    # Reference tables: small, read everywhere, joined with the distributed ones.
    **{
        name: REFERENCE
        for name in (
            "jurisdictions",
            "jurisdiction_parts",
            "jurisdiction_leaves",
            "cooperation_zones",
            "cooperation_zone_members",
            "zone_agreements",
            "rivers",
            "river_segments",
            "river_segment_sides",
            "villages",
            "water_sections",
            "members",
            "teams",
            "team_members",
            "devices",
            "device_teams",
            "member_roles",
            "incident_categories",
            "tier_rules",
            "tier_deadlines",
            "joint_appointments",
            "chief_appointments",
            "chief_stretches",
            "duty_rules",
            "meetings",
            "meeting_attendees",
            "meeting_agenda_items",
            "meeting_decisions",
            "decision_owners",
            "decision_links",
            "decision_updates",
            "spatial_ref_sys",
        )
    },
    # On the coordinator only: sign-in, audit, idempotence of uploads, digests, kept packs.
    **{
        name: LOCAL
        for name in (
            "api_tokens",
            "web_sessions",
            "known_browsers",
            "audit_log",
            "uploads",
            "duty_digests",
            "meeting_packs",
            "alembic_version",
        )
    },
}

SQL_START = re.compile(
    r"^\s*\(?\s*(SELECT|WITH|INSERT|UPDATE|DELETE|CREATE\s+TEMP|DROP\s+TABLE)\b", re.I
)
CONDITION_KEYS = (
    "Index Cond",
    "Recheck Cond",
    "Filter",
    "Hash Cond",
    "Merge Cond",
    "Join Filter",
    "TID Cond",
)
OPERAND = r"(?:\(?\$\d+\)?(?:::[\w ]+(?:\[\])?)?|'[^']*'(?:::[\w ]+)?|-?\d+|\w+\.\w+)"
EQUALITY = re.compile(rf"\(?({OPERAND}) = ({OPERAND})\)?")
SLOT = re.compile(r"(?<!\{)\{[a-z_]+\}(?!\})")
# Fragment slots, each filled with a value the code gives it (the rest are conditions: TRUE).
SLOTS = {
    "table": "devices",
    "extra": "NULL::text AS extra",
    "valid": "",
    "touch": "",
    "grants": "NULL::jsonb AS grants",
    "parent": "NULL::text",
    "order_at": "i.reported_at",
    "pieces": "track_pieces",
    "item": "ord::text",
    "group_expr": "t.id::text",
    "group_name": "t.name",
    "length_expr": "p.length_m",
    "duration_expr": "p.duration_s",
    "join": "",
}
# Parameters whose type the planner cannot infer from the statement (`:a - :b`), by name.
PARAMETER_TYPES = {
    "silence": "interval",
    "window": "interval",
    **{
        name: "float8" for name in ("west", "south", "east", "north", "pad", "position", "distance")
    },
}
CORE = {"select", "insert", "update", "delete"}
CORE_IMPORT = re.compile(r"^from sqlalchemy import .*\b(select|insert|update|delete)\b", re.M)
SQL_WORD = re.compile(r"\b(SELECT|INSERT|UPDATE|DELETE|CREATE TEMP|DROP TABLE)\b")
ALIASED = re.compile(r"^\s*\(.*\)\s+AS\s+\w+\s*$", re.S | re.I)
DDL = re.compile(r"^\s*(CREATE|DROP)\b", re.I)
# A constant that is a piece of other statements (a subquery, a CTE) fails planning so.
FRAGMENT = re.compile(r"missing FROM-clause entry|syntax error at end of input")
CREATE_TEMP = re.compile(
    r"^\s*CREATE\s+TEMP(?:ORARY)?\s+TABLE\s+(\w+)(?:\s+ON\s+COMMIT\s+DROP)?\s+AS\s+(.*)$",
    re.I | re.S,
)


@dataclass(frozen=True)
class Statement:
    """One SQL statement of the code: the module, the constant or function, the text."""

    module: str
    name: str
    sql: str
    core: bool = False  # a SQLAlchemy Core statement: `sql` is its Python source


@dataclass
class Scan:
    """A table read or written by a plan node, under an alias, with its own conditions."""

    table: str
    alias: str
    conditions: list[str]
    pinned: bool = False


@dataclass
class Finding:
    """A statement's tables on Citus and why it crosses shards (empty: it does not)."""

    statement: Statement
    tables: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    planned: bool = True
    fragment: bool = False  # a piece of SQL the code puts into other statements

    @property
    def crosses(self) -> bool:
        """True if the statement would touch more than one shard."""
        return bool(self.reasons)


# -- the statements ----------------------------------------------------------------------


def _modules() -> Iterator[tuple[str, Path]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        if "migrations" in path.parts or path.name == "__main__.py":
            continue
        parts = path.relative_to(ROOT).with_suffix("").parts
        yield ".".join(parts[:-1] if parts[-1] == "__init__" else parts), path


def _is_sql(value: object) -> bool:
    return isinstance(value, str) and bool(SQL_START.match(value))


def _enclosing(tree: ast.Module) -> dict[int, str]:
    """The function enclosing each line (its name), for text("...") calls."""
    names: dict[int, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for line in range(node.lineno, (node.end_lineno or node.lineno) + 1):
                names.setdefault(line, node.name)
    return names


def statements() -> list[Statement]:
    """Every SQL constant and literal text() statement of geo_patrol/, in source order."""
    found: list[Statement] = []
    for module_name, path in _modules():
        source = path.read_text(encoding="utf-8")
        if not SQL_WORD.search(source) and not CORE_IMPORT.search(source):
            continue  # nothing to find, and no need to import it
        tree = ast.parse(source)
        module = importlib.import_module(module_name)
        for node in tree.body:
            targets = node.targets if isinstance(node, ast.Assign) else []
            if isinstance(node, ast.AnnAssign):
                targets = [node.target]
            for target in targets:
                if not isinstance(target, ast.Name):
                    continue
                value = getattr(module, target.id, None)
                if _is_sql(value):
                    found.append(Statement(module_name, target.id, str(value)))
                elif isinstance(value, dict):
                    found.extend(
                        Statement(module_name, f"{target.id}[{getattr(k, 'value', k)}]", v)
                        for k, v in value.items()
                        if _is_sql(v)
                    )
        functions = _enclosing(tree)
        seen: dict[str, int] = {}
        for call in ast.walk(tree):
            if not (
                isinstance(call, ast.Call)
                and getattr(call.func, "id", None) == "text"
                and call.args
                and isinstance(call.args[0], ast.Constant)
                and _is_sql(call.args[0].value)
            ):
                continue
            where = functions.get(call.lineno, "<module>")
            seen[where] = seen.get(where, 0) + 1
            name = f"{where}()" + (f" #{seen[where]}" if seen[where] > 1 else "")
            found.append(Statement(module_name, name, str(call.args[0].value)))
        found.extend(_core_statements(module_name, tree, functions))
    return found


def _chain_root(node: ast.expr) -> ast.expr:
    """The first call of a method chain (`update(X)` of `update(X).where(...).values(...)`)."""
    while (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Call)
    ):
        node = node.func.value
    return node


def _core_statements(
    module_name: str, tree: ast.Module, functions: dict[int, str]
) -> list[Statement]:
    """The SQLAlchemy Core statements (select/insert/update/delete of a table class), each
    as the source of its whole method chain."""
    chains: dict[int, ast.Call] = {}
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        root = _chain_root(node)
        if isinstance(root, ast.Call) and getattr(root.func, "id", None) in CORE:
            longest = chains.get(id(root))
            if longest is None or len(ast.unparse(node)) > len(ast.unparse(longest)):
                chains[id(root)] = node
    found = []
    for chain in sorted(chains.values(), key=lambda c: c.lineno):
        where = functions.get(chain.lineno, "<module>")
        source = ast.unparse(chain)
        for model in _models(chain, tree):
            name = f"{where}(): {_chain_root(chain).func.id}({model})"  # type: ignore[attr-defined]
            found.append(
                Statement(
                    module_name,
                    name,
                    source.replace("model", model) if model != "model" else source,
                    core=True,
                )
            )
    return found


def _models(chain: ast.Call, tree: ast.Module) -> list[str]:
    """The table classes a chain's statement is on: its first argument, or the classes a
    `for model in (A, B)` loop around it gives that name."""
    root = _chain_root(chain)
    assert isinstance(root, ast.Call)
    first = root.args[0] if root.args else None
    name = (
        first.id
        if isinstance(first, ast.Name)
        else getattr(getattr(first, "value", None), "id", "")
    )
    if name in _table_names():
        return [name]
    for loop in ast.walk(tree):
        if (
            isinstance(loop, ast.For)
            and isinstance(loop.target, ast.Name)
            and loop.target.id == name
            and isinstance(loop.iter, ast.Tuple)
            and loop.lineno <= chain.lineno <= (loop.end_lineno or loop.lineno)
        ):
            return [e.id for e in loop.iter.elts if isinstance(e, ast.Name)]
    return [name or "?"]


# -- parameters and plans ----------------------------------------------------------------


def numbered(sql: str) -> tuple[str, list[str]]:
    """The statement with its parameters as $1..$n (one number per name) and their names.

    `:name` is read as SQLAlchemy's text() reads it; `%(name)s` is psycopg's own style.
    """
    if "%(" not in sql:
        sql = str(text(sql).compile(dialect=postgresql.dialect()))  # type: ignore[no-untyped-call]
    names: dict[str, int] = {}

    def number(match: re.Match[str]) -> str:
        return f"${names.setdefault(match.group(1), len(names) + 1)}"

    out = re.sub(r"%\((\w+)\)s", number, sql).replace("%%", "%")
    return out, list(names)


def split(sql: str) -> list[str]:
    """The statements of a constant that holds several (split at `;` outside quotes)."""
    parts: list[str] = []
    current: list[str] = []
    quoted = False
    for char in sql:
        if char == "'":
            quoted = not quoted
        if char == ";" and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return [p for p in parts if p.strip()]


def filled(sql: str) -> str:
    """A template (`{slot}`, filled by db.clauses.statement or str.format) with its slots
    filled: a condition slot by TRUE (scope and filters never pin a distribution column),
    a fragment slot by one of the values the code whitelists for it."""
    if not SLOT.search(sql):
        return sql
    order = "1" if "ORDER BY {order}" in sql else "ASC"
    return sql.format_map(_Slots(SLOTS | {"order": order}))


class _Slots(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "TRUE"


def _prepare(cur: psycopg.Cursor[Any], sql: str, *, typed: bool = True) -> int:
    body, names = numbered(filled(sql))
    given = PARAMETER_TYPES if typed else {}
    types = ", ".join(given.get(name, "unknown") for name in names)
    cur.execute("DEALLOCATE PREPARE ALL")
    cur.execute(f"PREPARE shard_q{f'({types})' if names else ''} AS {body}")
    return len(names)


def _execute(count: int) -> str:
    return f"EXECUTE shard_q({', '.join(['NULL'] * count)})" if count else "EXECUTE shard_q"


def create_temp_tables(conn: psycopg.Connection[Any], found: list[Statement]) -> None:
    """Create, empty, every temporary table the code creates (until none more can be)."""
    pending = [
        part for s in found for part in split(s.sql) if re.match(r"\s*CREATE\s+TEMP", part, re.I)
    ]
    while pending:
        left = []
        for sql in pending:
            try:
                with conn.transaction(), conn.cursor() as cur:
                    match = CREATE_TEMP.match(sql)
                    if match:
                        count = _prepare(cur, match.group(2))
                        cur.execute(
                            f"CREATE TEMP TABLE {match.group(1)} AS {_execute(count)} WITH NO DATA"
                        )
                    else:
                        cur.execute(re.sub(r"ON\s+COMMIT\s+DROP", "", sql, flags=re.I))
            except psycopg.Error:
                left.append(sql)
        if len(left) == len(pending):
            return
        pending = left


def plan(conn: psycopg.Connection[Any], sql: str) -> dict[str, Any]:
    """The generic plan of one statement (parameters open), as EXPLAIN's JSON."""
    match = CREATE_TEMP.match(sql)
    try:
        with conn.transaction(), conn.cursor() as cur:
            count = _prepare(cur, match.group(2) if match else sql)
            cur.execute(f"EXPLAIN (VERBOSE, FORMAT JSON) {_execute(count)}")
            row = cur.fetchone()
    except psycopg.errors.UndefinedFunction:  # a parameter's name typed it wrongly here
        with conn.transaction(), conn.cursor() as cur:
            count = _prepare(cur, match.group(2) if match else sql, typed=False)
            cur.execute(f"EXPLAIN (VERBOSE, FORMAT JSON) {_execute(count)}")
            row = cur.fetchone()
    assert row is not None
    document = row[0] if not isinstance(row[0], str) else json.loads(row[0])
    return dict(document[0]["Plan"])


# -- the analysis ------------------------------------------------------------------------


def _nodes(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("Plans", []):
        yield from _nodes(child)


def _equalities(condition: str) -> list[tuple[str, str]]:
    if re.search(r"\bOR\b", condition):
        return []
    return [(m.group(1), m.group(2)) for m in EQUALITY.finditer(condition)]


def _is_value(operand: str) -> bool:
    """True for a parameter, a constant or a new id: one value, not a column of a row."""
    return not re.search(r"[\w\"]\.\w", operand)


@dataclass
class _Plan:
    scans: list[Scan]
    links: list[tuple[str, str, str, str]]  # alias, column, alias, column
    inserts: list[tuple[str, str]]  # table, what its distribution value comes from


def _read_plan(
    root: dict[str, Any], parents: dict[str, str], columns: dict[str, list[str]]
) -> _Plan:
    found = _Plan([], [], [])
    for node in _nodes(root):
        conditions = [node[k] for k in CONDITION_KEYS if k in node]
        relation = str(node.get("Relation Name", ""))
        if relation and node.get("Node Type") != "ModifyTable":
            table = parents.get(relation, relation)
            found.scans.append(Scan(table, node.get("Alias", relation), conditions))
        if (
            relation
            and node.get("Node Type") == "ModifyTable"
            and node.get("Operation") == "Insert"
        ):
            table = parents.get(relation, relation)
            placement = DESIGN.get(table)
            if placement and placement.kind == "distributed":
                found.inserts.append((table, _inserted_value(node, table, placement, columns)))
        for condition in conditions:
            for left, right in _equalities(condition):
                if not _is_value(left) and not _is_value(right):
                    la, lc = left.split(".")
                    ra, rc = right.split(".")
                    found.links.append((la, lc, ra, rc))
    return found


def _inserted_value(
    node: dict[str, Any], table: str, placement: Placement, columns: dict[str, list[str]]
) -> str:
    """What an INSERT's distribution column gets: "" for one value (a parameter, a constant,
    one row's new id), else the expression its many rows take it from."""
    children = node.get("Plans", [])
    child = next((c for c in children if c.get("Parent Relationship") == "Outer"), children[0])
    outputs = child.get("Output", [])
    position = columns.get(table, []).index(placement.column)
    value = str(outputs[position]) if position < len(outputs) else "?"
    one_row = child.get("Node Type") == "Result" and not child.get("Plans")
    if _is_value(value) and (one_row or "nextval" not in value):
        return ""
    return value


def _table_names() -> dict[str, str]:
    """Table class → table name, from the declarative base."""
    from geo_patrol.db.engine import Base

    return {m.class_.__name__: str(m.local_table.description) for m in Base.registry.mappers}


def _core_reasons(statement: Statement) -> tuple[list[str], list[str]]:
    """The tables and crossing reasons of a Core statement, read from its source: a
    distributed table is pinned by `.where(Class.<distribution column> == value)`, or, for
    an insert, by `.values(...)` (one row; its new id or given key picks the shard)."""
    chain = ast.parse(statement.sql, mode="eval").body
    assert isinstance(chain, ast.Call)
    root = _chain_root(chain)
    assert isinstance(root, ast.Call) and isinstance(root.func, ast.Name)
    kind, names = root.func.id, _table_names()
    classes = [n.id for n in ast.walk(root) if isinstance(n, ast.Name) and n.id in names]
    pinned: set[str] = set()
    for node in ast.walk(chain):
        if isinstance(node, ast.Compare) and len(node.ops) == 1 and isinstance(node.ops[0], ast.Eq):
            for side in (node.left, node.comparators[0]):
                if isinstance(side, ast.Attribute) and isinstance(side.value, ast.Name):
                    pinned.add(f"{side.value.id}.{side.attr}")
    one_row = kind == "insert" and ".values(" in statement.sql
    reasons = []
    for cls in dict.fromkeys(classes):
        placement = DESIGN.get(names[cls], LOCAL)
        if placement.kind != "distributed" or one_row or f"{cls}.{placement.column}" in pinned:
            continue
        if kind == "insert":
            reasons.append(f"inserts into {names[cls]} the rows it is given (each routed)")
        else:
            reasons.append(f"{names[cls]}: {placement.column} not pinned")
    return sorted({names[c] for c in classes}), reasons


def analyse(
    statement: Statement,
    conn: psycopg.Connection[Any],
    parents: dict[str, str],
    columns: dict[str, list[str]],
) -> Finding:
    """The tables of one statement and why it crosses shards."""
    finding = Finding(statement)
    if statement.core:
        finding.tables, finding.reasons = _core_reasons(statement)
        return finding
    if ALIASED.match(statement.sql):
        finding.fragment = True  # `(SELECT …) AS name`: a FROM item of other statements
        return finding
    for sql in split(statement.sql):
        if DDL.match(sql) and not CREATE_TEMP.match(sql):
            continue  # a temporary table made or dropped: no shard is touched
        try:
            found = _read_plan(plan(conn, sql), parents, columns)
        except psycopg.Error as error:
            first = str(error).splitlines()[0]
            if FRAGMENT.search(first):
                finding.fragment = True
            else:
                finding.planned = False
                finding.reasons.append(f"not planned ({first})")
            continue
        finding.reasons.extend(_reasons(found))
        finding.tables.extend(s.table for s in found.scans)
        finding.tables.extend(t for t, _ in found.inserts)
    finding.tables = sorted({t for t in finding.tables if t in DESIGN or not t.startswith("pg_")})
    finding.reasons = sorted(set(finding.reasons))
    return finding


def _reasons(found: _Plan) -> list[str]:
    reasons: list[str] = []
    scans = [s for s in found.scans if s.table in DESIGN]
    distributed = [s for s in scans if DESIGN[s.table].kind == "distributed"]
    for scan in distributed:
        column = DESIGN[scan.table].column
        scan.pinned = any(
            (left == f"{scan.alias}.{column}" and _is_value(right))
            or (right == f"{scan.alias}.{column}" and _is_value(left))
            for condition in scan.conditions
            for left, right in _equalities(condition)
        )
    by_alias: dict[str, list[Scan]] = {}
    for scan in distributed:
        by_alias.setdefault(scan.alias, []).append(scan)
    changed = True
    while changed:
        changed = False
        for la, lc, ra, rc in found.links:
            for a, b, ac, bc in ((la, ra, lc, rc), (ra, la, rc, lc)):
                for x in by_alias.get(a, []):
                    for y in by_alias.get(b, []):
                        same = DESIGN[x.table].group == DESIGN[y.table].group
                        on_keys = ac == DESIGN[x.table].column and bc == DESIGN[y.table].column
                        if x.pinned and not y.pinned and same and on_keys:
                            y.pinned = changed = True
    for la, lc, ra, rc in found.links:
        for x in by_alias.get(la, []):
            for y in by_alias.get(ra, []):
                px, py = DESIGN[x.table], DESIGN[y.table]
                # in a fixed order: the planner may write a join either way round
                pair = " = ".join(sorted((f"{x.table}.{lc}", f"{y.table}.{rc}")))
                if px.group != py.group:
                    reasons.append(f"joins {pair} (two groups)")
                elif lc != px.column or rc != py.column:
                    reasons.append(f"joins {pair} (not the key)")
    for scan in distributed:
        if not scan.pinned:
            reasons.append(f"{scan.table}: {DESIGN[scan.table].column} not pinned")
    groups = {DESIGN[s.table].group for s in distributed}
    if len(groups) > 1:
        reasons.append(f"reads two groups ({', '.join(sorted(groups))})")
    if distributed and any(DESIGN[s.table].kind == "local" for s in scans):
        local = sorted({s.table for s in scans if DESIGN[s.table].kind == "local"})
        reasons.append(f"joins coordinator table {', '.join(local)}")
    for table, value in found.inserts:
        if value:
            column = DESIGN[table].column
            if "nextval" in value:
                reasons.append(
                    f"inserts into {table} the rows of a query, each with a new {column}"
                )
            else:
                reasons.append(f"inserts into {table} rows whose {column} comes from a query")
    return reasons


def _catalog(conn: psycopg.Connection[Any]) -> tuple[dict[str, str], dict[str, list[str]]]:
    """Partition → parent, and each table's columns in order (dropped ones as '')."""
    parents = dict(
        conn.execute(
            "SELECT c.relname, p.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
            " JOIN pg_class p ON p.oid = i.inhparent"
        ).fetchall()
    )
    columns: dict[str, list[str]] = {}
    for table, name, dropped in conn.execute(
        "SELECT c.relname, a.attname, a.attisdropped FROM pg_attribute a"
        " JOIN pg_class c ON c.oid = a.attrelid WHERE c.relnamespace = 'public'::regnamespace"
        " AND c.relkind IN ('r', 'p') AND a.attnum > 0 ORDER BY c.relname, a.attnum"
    ):
        columns.setdefault(table, []).append("" if dropped else name)
    return parents, columns


def findings(url: str, found: list[Statement] | None = None) -> list[Finding]:
    """The statements (default: every statement of the code), analysed on the database at
    `url` (nothing is kept there)."""
    found = statements() if found is None else found
    conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo, prepare_threshold=None) as conn:
        conn.execute("SET plan_cache_mode = force_generic_plan")
        # Partitions pruned at executor start (by the NULLs given) would vanish from the plan.
        conn.execute("SET enable_partition_pruning = off")
        parents, columns = _catalog(conn)
        missing = set(columns) - set(DESIGN) - set(parents)
        if missing:
            raise SystemExit(f"tables not placed in DESIGN: {sorted(missing)}")
        gone = set(DESIGN) - set(columns)
        if gone:
            raise SystemExit(f"tables of DESIGN not in the schema: {sorted(gone)}")
        create_temp_tables(conn, found)
        result = [analyse(s, conn, parents, columns) for s in found]
        conn.rollback()
    return result


# -- the table ---------------------------------------------------------------------------


def markdown(result: list[Finding]) -> str:
    """The crossing statements as a Markdown table, with a count of those that do not."""
    crossing = [f for f in result if f.crosses]
    fragments = [
        f"`{f.statement.module.removeprefix('geo_patrol.')}.{f.statement.name}`"
        for f in result
        if f.fragment
    ]
    unplanned = sum(not f.planned for f in result)
    lines = [
        f"{len(result)} statements, {len(crossing)} cross shards"
        + (f" ({unplanned} could not be planned: read them by hand)." if unplanned else ".")
        + f" Pieces of other statements, not planned alone: {', '.join(fragments)}.",
        "",
        "| module | statement | tables (not reference) | why it crosses |",
        "|---|---|---|---|",
    ]
    for f in crossing:
        module = f.statement.module.removeprefix("geo_patrol.")
        tables = ", ".join(
            t if t in DESIGN else f"{t} (temporary)"
            for t in f.tables
            if DESIGN.get(t, LOCAL).kind != "reference"
        )
        why = "; ".join(f.reasons).replace("|", "\\|")
        lines.append(f"| {module} | `{f.statement.name}` | {tables} | {why} |")
    return "\n".join(lines) + "\n"


def replace_block(document: str, table: str) -> str:
    """`document` with the text between the markers replaced by `table`."""
    head, rest = document.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{BEGIN}\n{table}{END}{tail}"


def _default_url() -> str:
    from geo_patrol.db import embedded, migrate
    from geo_patrol.db.engine import make_engine

    server = embedded.EmbeddedCluster(ROOT / "var" / "test" / "pg").up()
    url = embedded.fresh_database(server, "geo_patrol_shard_crossing")
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    return url


def main(argv: list[str] | None = None) -> int:
    """Print the table of crossing statements, or write it into docs/scale.md."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--database-url", default=os.environ.get("GEO_PATROL_DATABASE_URL"))
    parser.add_argument("--write", action="store_true", help="refresh the table in docs/scale.md")
    args = parser.parse_args(argv)
    url = args.database_url or _default_url()
    try:
        table = markdown(findings(url))
    finally:
        if not args.database_url:
            from geo_patrol.db.embedded import drop_database

            drop_database(url)
    if args.write:
        DOC.write_text(replace_block(DOC.read_text(encoding="utf-8"), table), encoding="utf-8")
    else:
        sys.stdout.write(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
