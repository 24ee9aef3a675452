"""The documentation site stays true: it builds with warnings as errors, loads nothing from
elsewhere, documents every setting with its real default, and the README stays a front door.

`mkdocs build --strict` fails on a link to a page or anchor that does not exist, a page left
out of the navigation, a missing image, and a snippet (`--8<--`) whose file is gone.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest

from geo_patrol.core.settings import Settings

ROOT = Path(__file__).resolve().parent.parent.parent
DOCS = ROOT / "docs"
README = ROOT / "README.md"

# Pages that face users come in English (page.md) and Chinese (page.zh.md).
BILINGUAL = [
    "index.md",
    "operators/quick-start.md",
    "supervisors/map.md",
    "supervisors/cases.md",
    "supervisors/joint-cases-and-tiers.md",
    "supervisors/meeting-pack.md",
    "supervisors/chiefs.md",
    "supervisors/duty.md",
    "patrol-teams/phone-app.md",
    "patrol-teams/traccar-osmand.md",
    "patrol-teams/uploads.md",
    "meetings.md",
    "water.md",
]
# Attributes through which a browser loads something (an <a href> is only a link).
LOADING = {
    "script": ("src",),
    "link": ("href",),
    "img": ("src", "srcset"),
    "iframe": ("src",),
    "source": ("src", "srcset"),
    "audio": ("src",),
    "video": ("src", "poster"),
    "embed": ("src",),
    "object": ("data",),
}
EXTERNAL = re.compile(r"^\s*(https?:)?//", re.IGNORECASE)
HAN = re.compile(r"[\u4e00-\u9fff]")
CSS_URL = re.compile(r"""(?:url\(\s*['"]?|@import\s+['"])\s*((?:https?:)?//[^'")\s]+)""", re.I)


class _Loads(HTMLParser):
    """Collects every URL a page would load: resource attributes, inline styles."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[tuple[str, str]] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Record the loading attributes of `tag`, and note a <style> block."""
        for name, value in attrs:
            if value is None:
                continue
            if name in LOADING.get(tag, ()):
                self.urls.append((tag, value))
            if name == "style":
                self.urls.extend(("style", url) for url in CSS_URL.findall(value))
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        """Leave a <style> block."""
        if tag == "style":
            self._in_style = False

    def handle_data(self, data: str) -> None:
        """URLs in an inline stylesheet."""
        if self._in_style:
            self.urls.extend(("style", url) for url in CSS_URL.findall(data))


def _anchors(page: Path) -> list[str]:
    """The section anchors of a page: explicit `{#id}`, else the English heading's slug."""
    anchors = []
    for line in page.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            explicit = re.search(r"\{#([\w-]+)\}", line)
            heading = re.sub(r"[^\w\s-]", "", line[3:].replace("`", "").lower()).strip()
            anchors.append(explicit.group(1) if explicit else re.sub(r"\s+", "-", heading))
    return anchors


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The site built from docs/ with `mkdocs build --strict` into a temporary folder."""
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    build = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert build.returncode == 0, f"mkdocs build --strict failed:\n{build.stdout}{build.stderr}"
    yield out


def test_every_page_is_built_in_its_languages(site: Path) -> None:
    """Each page of docs/ becomes a page of the site; user-facing ones in zh-CN too."""
    pages = sorted(p.relative_to(DOCS) for p in DOCS.rglob("*.md") if ".zh." not in p.name)
    assert len(pages) >= 30
    for page in pages:
        folder = page.with_suffix("") if page.name != "index.md" else page.parent
        assert (site / folder / "index.html").is_file(), page
    for name in BILINGUAL:
        chinese = DOCS / name.replace(".md", ".zh.md")
        assert chinese.is_file(), f"{name} has no Chinese page"
        folder = Path(name).with_suffix("") if name != "index.md" else Path()
        english = (site / folder / "index.html").read_text(encoding="utf-8")
        built = (site / "zh" / folder / "index.html").read_text(encoding="utf-8")
        # Beyond the translated navigation and the place names the English page has too.
        more = len(HAN.findall(built)) - len(HAN.findall(english))
        assert more > 300, f"zh/{folder} is hardly in Chinese ({more} more Han characters)"
        assert _anchors(DOCS / name) == _anchors(chinese), f"{name}: headings differ"
    for page in pages:
        if page.name in {"index.md", "bench-details.md"} or str(page) in BILINGUAL:
            continue
        if not (DOCS / page.with_suffix(".zh.md")).exists():
            text = (DOCS / page).read_text(encoding="utf-8")
            assert "in English only" in text[:600], f"{page} does not say it is English only"


def test_the_site_loads_nothing_from_elsewhere(site: Path) -> None:
    """No script, stylesheet, font, icon or image comes from another server (intranets)."""
    loads: list[tuple[str, str, str]] = []
    for page in site.rglob("*.html"):
        parser = _Loads()
        parser.feed(page.read_text(encoding="utf-8"))
        loads.extend((str(page.relative_to(site)), tag, url) for tag, url in parser.urls)
    for sheet in site.rglob("*.css"):
        text = sheet.read_text(encoding="utf-8")
        loads.extend((str(sheet.relative_to(site)), "css", url) for url in CSS_URL.findall(text))
    scripts = [load for load in loads if load[1] == "script"]
    assert len(scripts) > 50, "the check found almost no scripts: it compares nothing"
    external = [load for load in loads if EXTERNAL.match(load[2])]
    assert external == []
    # Material's script loads Mermaid from a CDN when a page has a diagram, and asks GitHub
    # for a repository's stars when repo_url is set: neither may happen here.
    for page in site.rglob("*.html"):
        assert 'class="mermaid"' not in page.read_text(encoding="utf-8"), page
    config = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    assert not re.search(r"^\s*(repo_url|site_url)\s*:", config, re.MULTILINE)


def _documented_settings() -> dict[str, str]:
    """Variable -> documented default, from the table of docs/operators/configuration.md."""
    text = (DOCS / "operators" / "configuration.md").read_text(encoding="utf-8")
    documented: dict[str, str] = {}
    for line in text.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) < 3 or not cells[0].startswith("`GEO_PATROL_"):
            continue
        names = [name.strip().strip("`") for name in cells[0].split(" / ")]
        defaults = [value.strip() for value in cells[1].split(" / ")]
        assert len(names) == len(defaults), line
        documented.update(zip(names, defaults, strict=True))
    return documented


def _shown(default: object) -> str:
    """A default as the configuration table writes it."""
    if default is None:
        return "unset"
    if default == "":
        return "empty"
    if isinstance(default, float) and default.is_integer():
        default = int(default)
    if isinstance(default, Path) and default.is_relative_to(ROOT):
        # A folder of the checkout (the vendored npm packages) depends on where it is.
        return f"the checkout's `{default.relative_to(ROOT)}`"
    return f"`{default}`"


def test_every_setting_is_documented_with_its_default() -> None:
    """The configuration table names every setting of core/settings.py, with its default."""
    documented = _documented_settings()
    assert len(documented) >= 50
    for name, field in Settings.model_fields.items():
        variable = f"GEO_PATROL_{name.upper()}"
        assert variable in documented, f"{variable} is not in docs/operators/configuration.md"
        assert documented[variable] == _shown(field.default), variable
    # The variables that are not settings are read by the code or the tests themselves.
    code = "".join(
        path.read_text(encoding="utf-8")
        for folder in ("geo_patrol", "tests")
        for path in (ROOT / folder).rglob("*.py")
        if path != Path(__file__)
    )
    for variable in set(documented) - {f"GEO_PATROL_{n.upper()}" for n in Settings.model_fields}:
        assert f'"{variable}"' in code, f"{variable} is documented but nothing reads it"


def test_readme_is_a_front_door() -> None:
    """A few KB: what it is, a screenshot, the two commands, where to go, the benchmarks."""
    text = README.read_text(encoding="utf-8")
    assert len(text.encode()) < 10_000
    for needed in ("./run demo", "./run test", "mkdocs serve", "![", "## Benchmarks"):
        assert needed in text, needed
    assert "exec ./run test" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    targets = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text)
    local = [target for target in targets if not EXTERNAL.match(target)]
    assert len(local) >= 8, "the README links almost nowhere"
    for target in local:
        assert (ROOT / target).exists(), f"README.md links to {target}, which is not there"


def _words(page: str) -> str:
    """A page of docs/ with its line breaks and runs of spaces made single spaces."""
    return " ".join((DOCS / page).read_text(encoding="utf-8").split())


def test_the_rules_quote_the_real_defaults() -> None:
    """The rules as the pages state them (and the oracles replay) use the settings' defaults."""
    d = {name: field.default for name, field in Settings.model_fields.items()}
    rules = _words("gis/rules.md")
    run, margin = d["crossing_min_run_m"], d["crossing_margin_m"]
    assert f"or {run:g} m with a fix {margin:g} m clear" in rules
    assert f"of each segment within {d['coverage_distance_m']:g} m of the track" in rules
    cases = _words("supervisors/joint-cases-and-tiers.md")
    assert f"within **{d['duplicate_distance_m']:g} m**" in cases
    assert f"within **{d['duplicate_hours']:g} h** before or after" in cases
    assert f"passing within {d['verification_distance_m']:g} m of a resolved incident" in cases
    chinese = _words("supervisors/joint-cases-and-tiers.zh.md")
    assert f"不超过 **{d['duplicate_distance_m']:g} 米**" in chinese
    assert f"前后 **{d['duplicate_hours']:g} 小时**以内" in chinese
