"""Page code builds no HTML and escapes nothing by hand: pages come from the templates in
geo_patrol/web/templates, rendered by the one autoescaping environment (geo_patrol/web/render.py),
and their words from the one catalog (geo_patrol/core/catalog.json).

The scan reads the string constants of every module of web/ and of the page routes (f-string
parts included, docstrings left out) and the names the code calls.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "geo_patrol"
PAGE_ROUTES = (
    "api/routes/web.py",
    "api/routes/incident_pages.py",
    "api/routes/mobile.py",
    "api/routes/meeting_pages.py",
)

TAG = re.compile(
    r"<(a|b|body|br|button|circle|code|dd|div|dl|dt|figure|form|g|h[1-6]|head|html|img|input"
    r"|label|li|line|link|meta|ol|option|p|path|rect|section|select|small|span|strong|style"
    r"|svg|script|table|tbody|td|text|th|thead|title|tr|ul)[\s>/]",
    re.IGNORECASE,
)
CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
# Calls that escape by hand or mark text as HTML (bypassing autoescape).
HAND_ESCAPES = frozenset({"escape", "esc", "inert", "Markup"})

# Where a tag or an escape in Python is the point, and why.
ALLOWED = {
    # The one environment: escapes GeoJSON properties Folium's tooltips write as HTML.
    ("web/render.py", "escape"),
    # segno's SVG of our own set-up addresses, put into the template as markup.
    ("web/mobile/pages.py", "Markup"),
    # The inliner puts the vendor scripts and styles Folium links to into the page.
    ("web/assets.py", "<script"),
    ("web/assets.py", "<style"),
    # Leaflet takes a tile layer's attribution as HTML (a fixed link to the tile provider).
    ("web/map/basemaps.py", "<a"),
    # Folium's page has no lang attribute: it is added to the <html> tag it wrote.
    ("web/map/page.py", "<html"),
    ("web/pack/page.py", "<html"),
    # 天地图 is the tile provider's name in its attribution (a proper name, not a word).
    ("web/map/basemaps.py", "CJK"),
}


def _page_modules() -> list[Path]:
    """The modules that make pages: web/ and the page routes."""
    return sorted(PACKAGE.glob("web/**/*.py")) + [PACKAGE / route for route in PAGE_ROUTES]


def _docstrings(tree: ast.AST) -> set[int]:
    """The ids of the docstring nodes (their prose may name tags)."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def findings(path: Path) -> set[tuple[str, str]]:
    """(module, what) for each tag, CJK word or hand escape in `path`."""
    where = path.relative_to(PACKAGE).as_posix() if path.is_relative_to(PACKAGE) else path.name
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = _docstrings(tree)
    found: set[tuple[str, str]] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if id(node) in docstrings:
                continue
            found |= {(where, "<" + tag.lower()) for tag in TAG.findall(node.value)}
            if CJK.search(node.value):
                found.add((where, "CJK"))
        elif isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in HAND_ESCAPES:
                found.add((where, name))
        elif isinstance(node, ast.Import | ast.ImportFrom):
            module = node.module if isinstance(node, ast.ImportFrom) else None
            names = [alias.name for alias in node.names]
            if module == "html" or "html" in names:
                found.add((where, "import html"))
    return found


def test_page_code_builds_no_html_and_escapes_nothing_by_hand() -> None:
    modules = _page_modules()
    assert len(modules) > 15
    found = set().union(*(findings(path) for path in modules))
    assert found - ALLOWED == set()
    assert ALLOWED - found == set()  # an allowance no longer needed is taken out


def test_the_scan_finds_what_it_looks_for(tmp_path: Path) -> None:
    """The scan is not blind: the old ways of making a page are each found."""
    sample = tmp_path / "sample.py"
    sample.write_text(
        '"""A docstring naming <div> is prose."""\n'
        "import html\n"
        "from markupsafe import Markup, escape\n"
        "def row(v: str) -> str:\n"
        '    return f"<tr><td>{html.escape(v)}</td></tr>" + str(Markup(v)) + escape(v)\n'
        'WORD = "已超期"\n',
        encoding="utf-8",
    )
    found = {what for _, what in findings(sample)}
    assert found == {"<tr", "<td", "escape", "Markup", "import html", "CJK"}


def test_every_template_compiles_and_is_used() -> None:
    """A template with a syntax error fails here, not on the page; one nobody renders goes."""
    from geo_patrol.web.render import ENV

    names = ENV.list_templates()
    assert len(names) > 15
    sources = [path.read_text(encoding="utf-8") for path in PACKAGE.rglob("*.py")]
    sources += [ENV.loader.get_source(ENV, name)[0] for name in names] if ENV.loader else []
    for name in names:
        ENV.get_template(name)
        assert any(f'"{name}"' in source for source in sources), name
