"""The one zh/en catalog: every word in both languages, every key the templates, the page
code, the phone app's script and the domains use exists, every coded value has its word."""

from __future__ import annotations

import json
import re
import string
from pathlib import Path

import pytest

from geo_patrol.core import catalog
from geo_patrol.core.vocabulary import CandidateReason, ChiefLevel, DutyStatus
from geo_patrol.db.tables import INCIDENT_STATUSES, LEVELS, PATROL_MODES, SEVERITIES, TIERS
from geo_patrol.incidents.workflow import TIER_STEPS, TRANSITIONS
from geo_patrol.web.map.page import LEVEL_STYLE, RECENCY_COLOUR, STATUS_COLOUR

PACKAGE = Path(catalog.__file__).resolve().parents[1]
TEMPLATES = PACKAGE / "web" / "templates"
APP_JS = PACKAGE / "static" / "mobile" / "app.js"

# t("key") / t_or("key", ...) in templates, catalog.text("key" ...) in Python; a key built
# from a code ("map.status_" ~ status, f"open311.tier_{tier}") is checked by its prefix here
# and in full by test_every_coded_value_has_its_word.
TEMPLATE_KEY = re.compile(r"""\bt(?:_or)?\(\s*"([^"]+)"(\s*~)?""")
PYTHON_KEY = re.compile(r"""catalog\.text\(\s*(f?)"([^"{]+)(\{)?""")
PYTHON_SECTION = re.compile(r"""catalog\.(?:words|section)\(\s*"([^"]+)\"""")
# The map's words as `w["key"]` in modules that take them with catalog.words("map", ...).
MAP_WORD = re.compile(r"""\bw\[(f?)"([a-z_]+)(\{)?""")
APP_KEY = re.compile(r"""\bt\(\s*(?:"([a-z_]+)"|`([a-z_]+)\$\{)""")
DATA_T = re.compile(r"""data-t="([a-z_]+)\"""")


def _python_files() -> list[Path]:
    """Every module of the package."""
    return sorted(PACKAGE.rglob("*.py"))


def _known(key: str, *, prefix: bool) -> bool:
    """`key` is in the catalog (or, for a prefix, some key starts with it)."""
    keys = catalog.catalog()
    return any(k.startswith(key) for k in keys) if prefix else key in keys


def test_every_word_has_both_languages_and_the_same_fields() -> None:
    words = catalog.catalog()
    assert len(words) > 250
    for key, word in words.items():
        assert re.fullmatch(r"[a-z0-9]+(\.[a-z0-9_]+)+", key), key
        assert set(word) == {"zh", "en"}, key
        assert word["zh"].strip() and word["en"].strip(), key
        fields = [{f for _, f, _, _ in string.Formatter().parse(word[lang]) if f} for lang in word]
        assert fields[0] == fields[1], (key, fields)


def test_the_catalog_file_has_no_duplicate_keys() -> None:
    """json.loads keeps the last of two equal keys: a duplicate would hide a word."""
    source = (PACKAGE / "core" / "catalog.json").read_text(encoding="utf-8")
    pairs = json.loads(source, object_pairs_hook=lambda items: items)
    keys = [key for key, _ in pairs]
    assert len(keys) == len(set(keys))


def test_every_key_used_in_templates_exists() -> None:
    used = 0
    for path in sorted(TEMPLATES.rglob("*")):
        if not path.is_file():
            continue
        for key, built in TEMPLATE_KEY.findall(path.read_text(encoding="utf-8")):
            used += 1
            assert _known(key, prefix=bool(built)), (path.name, key)
    assert used > 150  # the scan found the keys (a broken pattern would find none)


def test_every_key_used_in_python_exists() -> None:
    used = 0
    for path in _python_files():
        source = path.read_text(encoding="utf-8")
        for f_string, key, field in PYTHON_KEY.findall(source):
            used += 1
            assert _known(key, prefix=bool(f_string and field)), (path.name, key)
        for prefix in PYTHON_SECTION.findall(source):
            assert _known(prefix + ".", prefix=True), (path.name, prefix)
        if 'catalog.words("map"' in source or "map_words(" in source:
            for f_string, key, field in MAP_WORD.findall(source):
                used += 1
                full = f"map.{key}"
                assert key == "lang" or _known(full, prefix=bool(f_string and field)), (path, key)
    assert used > 40


def test_every_key_the_phone_app_uses_exists() -> None:
    app = catalog.section("app")
    shell = (TEMPLATES / "mobile" / "shell.html").read_text(encoding="utf-8")
    script = APP_JS.read_text(encoding="utf-8")
    keys = set(DATA_T.findall(shell))
    built = {prefix for _, prefix in APP_KEY.findall(script) if prefix}
    keys |= {key for key, _ in APP_KEY.findall(script) if key}
    assert len(keys) > 60
    assert built == {"severity_", "state_", "status_", "duty_status_", "duty_reason_"}
    assert keys - set(app["zh"]) == set()
    for prefix in built:
        assert any(key.startswith(prefix) for key in app["zh"]), prefix


@pytest.mark.parametrize(
    ("prefix", "codes"),
    [
        ("map.status_", INCIDENT_STATUSES),
        ("map.tier_", TIERS),
        ("map.severity_", SEVERITIES),
        ("map.step_", (*TRANSITIONS, *TIER_STEPS)),
        ("map.recency_", tuple(RECENCY_COLOUR)),
        ("map.", tuple(LEVEL_STYLE)),
        ("map.", LEVELS),
        ("open311.tier_", TIERS),
        ("app.severity_", SEVERITIES),
        ("app.mode_", PATROL_MODES),
        ("app.status_", ("reported", "assigned", "accepted", "in_progress", "reopened")),
        ("app.state_", ("waiting", "sending", "failed", "done")),
        ("app.duty_status_", tuple(DutyStatus)),
        ("app.duty_reason_", tuple(CandidateReason)),
        ("map.duty_status_", tuple(DutyStatus)),
        ("map.chief_", tuple(ChiefLevel)),
    ],
)
def test_every_coded_value_has_its_word(prefix: str, codes: tuple[str, ...]) -> None:
    assert codes
    for code in codes:
        assert catalog.text(prefix + code, "zh") and catalog.text(prefix + code, "en")
    assert set(STATUS_COLOUR) == set(INCIDENT_STATUSES)


def test_text_fills_fields_and_defaults_to_chinese() -> None:
    assert catalog.text("map.shown", "en", n=3) == "3 cases"
    assert catalog.text("map.shown", "fr", n=3) == "共 3 件"
    assert catalog.text("map.shown", None, n=3) == "共 3 件"
    assert catalog.words("login", "en")["submit"] == "Sign in"
    with pytest.raises(KeyError):
        catalog.text("map.no_such_word", "zh")


def test_open311_notices_read_as_written_in_both_languages() -> None:
    """The notices Open311 clients show, word for word (written out here, not taken from
    the catalog, so a changed word or a lost field fails)."""
    from datetime import UTC, datetime

    from geo_patrol.incidents.open311 import service_notice

    due = datetime(2026, 11, 27, 7, 49, tzinfo=UTC)  # 15:49 in UTC+8
    joint = {"unrouted": False, "deadline_at": due, "tier": "town", "is_joint": True}
    alone = {"unrouted": False, "deadline_at": None, "tier": "village", "is_joint": False}
    agency = "王江泾镇 (牵头); 盛泽镇"
    assert service_notice(joint, agency=agency, locale="zh") == (
        "镇级处置（跨界联合处置）：王江泾镇 (牵头); 盛泽镇；处理期限 2026-11-27 15:49。"
    )
    assert service_notice(joint, agency="A (lead); B", locale="en") == (
        "Town level (joint cross-border case): A (lead); B; due 2026-11-27 15:49 (UTC+8)."
    )
    assert service_notice(alone, agency=None, locale="zh") == "村级处置：待分派。"
    assert service_notice(alone, agency=None, locale="en") == "Village level: unassigned."
    unrouted = {**alone, "unrouted": True}
    assert (
        service_notice(unrouted, agency=None, locale="zh") == "位置不在任何辖区内，已转管理员处理。"
    )
    assert service_notice(unrouted, agency=None, locale="en") == (
        "Outside every jurisdiction: passed to the administrators."
    )


def test_problem_titles_stay_english() -> None:
    """API clients match problem titles: the catalog gives them in English, as before."""
    from geo_patrol.core.catalog import msg
    from geo_patrol.core.errors import Conflict, GeoPatrolError, NotFound, TooManyAttempts

    assert GeoPatrolError.title == "Bad request" and NotFound.title == "Not found"
    assert Conflict.title == "Conflict" and TooManyAttempts.title == "Too many attempts"
    assert Conflict(msg("problem.accounts.login_or_phone_taken")).problem()["title"] == "Conflict"
