"""No SQL in the HTTP layer, the pages or the command line: routes, page code and commands
call their domain's functions, which own the statements."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "geo_patrol"
SQL_BUILDERS = {"text", "select", "insert", "update", "delete"}
# Running a statement, or taking the raw connection to hand to something that does.
RUNS = {"execute", "scalar", "scalars", "connection", "connect"}


def _sql_uses(path: Path) -> list[str]:
    """Where a module imports SQLAlchemy's statement builders or runs a statement itself."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sqlalchemy"):
            found += [
                f"{path.name}:{node.lineno} imports {a.name}"
                for a in node.names
                if a.name in SQL_BUILDERS
            ]
        if isinstance(node, ast.Attribute) and node.attr in RUNS:
            found.append(f"{path.name}:{node.lineno} calls .{node.attr}()")
    return found


def _uses_in(layer: str) -> list[str]:
    """Every statement builder or .execute() in the modules of geo_patrol/<layer>."""
    modules = sorted((PACKAGE / layer).rglob("*.py"))
    assert len(modules) > 4  # the routes, pages and commands are where we look
    return [f"{layer}/{use}" for path in modules for use in _sql_uses(path)]


def test_no_module_of_the_http_layer_runs_sql() -> None:
    assert _uses_in("api") == []


def test_no_module_of_the_pages_runs_sql() -> None:
    assert _uses_in("web") == []


def test_no_command_runs_sql() -> None:
    """The command line looks members, teams and zones up through their domains (it ran
    its own SELECTs: cli/accounts.py and cli/chiefs.py)."""
    assert _uses_in("cli") == []


def test_the_check_sees_a_statement_and_a_run(tmp_path: Path) -> None:
    module = tmp_path / "page.py"
    module.write_text(
        "from sqlalchemy import text\n"
        "def rows(session):\n"
        "    return session.execute(text('SELECT 1'))\n"
        "def raw(session):\n"
        "    return session.connection()\n",
        encoding="utf-8",
    )
    assert _sql_uses(module) == [
        "page.py:1 imports text",
        "page.py:3 calls .execute()",
        "page.py:5 calls .connection()",
    ]
