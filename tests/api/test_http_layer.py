"""No SQL in the HTTP layer: routes call their domain's functions, which own the statements."""

from __future__ import annotations

import ast
from pathlib import Path

API = Path(__file__).resolve().parents[2] / "geo_patrol" / "api"
SQL_BUILDERS = {"text", "select", "insert", "update", "delete"}


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
        if isinstance(node, ast.Attribute) and node.attr in {"execute", "scalar", "scalars"}:
            found.append(f"{path.name}:{node.lineno} calls .{node.attr}()")
    return found


def test_no_module_of_the_http_layer_runs_sql() -> None:
    modules = sorted(API.rglob("*.py"))
    assert len(modules) > 10  # the routes are where we look
    assert [use for path in modules for use in _sql_uses(path)] == []
