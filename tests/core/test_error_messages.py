"""Problem details as catalog messages: no raise site of ours passes a bare English string,
every message key exists with the fields its raise sites fill, and a message reads in zh or
en as the reader asks (Accept-Language with weights)."""

from __future__ import annotations

import ast
import string
from pathlib import Path

import pytest

from geo_patrol.core import catalog
from geo_patrol.core.catalog import accepted_lang, msg, reason
from geo_patrol.core.errors import Conflict, GeoPatrolError, InvalidInput, NotFound

PACKAGE = Path(catalog.__file__).resolve().parents[1]


def _trees() -> dict[Path, ast.Module]:
    """Every module of the package, parsed."""
    return {path: ast.parse(path.read_text(encoding="utf-8")) for path in PACKAGE.rglob("*.py")}


def _name(node: ast.expr) -> str | None:
    """The name a call or base class is written with (`NotFound`, `errors.NotFound`)."""
    if isinstance(node, ast.Name):
        return node.id
    return node.attr if isinstance(node, ast.Attribute) else None


def _error_classes(trees: dict[Path, ast.Module]) -> set[str]:
    """GeoPatrolError and every class of the package that derives from it (by name)."""
    names = {"GeoPatrolError"}
    while True:
        more = {
            node.name
            for tree in trees.values()
            for node in ast.walk(tree)
            if isinstance(node, ast.ClassDef) and any(_name(b) in names for b in node.bases)
        }
        if more <= names:
            return names
        names |= more


def _is_words(node: ast.expr) -> bool:
    """An expression that builds English text: a literal, an f-string, a concatenation, or
    str()/repr()/.format()/.join() of something."""
    if isinstance(node, ast.Constant | ast.JoinedStr):
        return isinstance(node, ast.JoinedStr) or isinstance(node.value, str)
    if isinstance(node, ast.BinOp):
        return _is_words(node.left) or _is_words(node.right)
    if isinstance(node, ast.IfExp):
        return _is_words(node.body) or _is_words(node.orelse)
    if isinstance(node, ast.Call):
        return _name(node.func) in {"str", "repr", "format", "join"}
    return False


def test_no_error_is_raised_with_a_bare_string() -> None:
    """Write `raise NotFound(msg("problem.patrols.no_patrol", patrol_id=...))`, never
    `raise NotFound(f"no patrol {patrol_id}")` (see core/errors.py)."""
    trees = _trees()
    classes = _error_classes(trees)
    assert {"InvalidInput", "NotFound", "RosterRejected", "UnknownDevice"} <= classes
    bare, seen = [], 0
    for path, tree in trees.items():
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and _name(node.func) in classes):
                continue
            detail = node.args[0] if node.args else None
            detail = detail or next((k.value for k in node.keywords if k.arg == "detail"), None)
            seen += 1
            if detail is not None and _is_words(detail):
                bare.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    assert seen > 250  # the scan found the raise sites
    assert not bare, f"raise with catalog messages (msg(...)), not strings: {bare}"


def test_the_bare_string_check_can_fail() -> None:
    tree = ast.parse('raise NotFound(f"no patrol {n}")\nraise InvalidInput("bad " + x)')
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call)]
    assert [_is_words(call.args[0]) for call in calls] == [True, True]
    assert not _is_words(ast.parse('msg("problem.x", n=1)', mode="eval").body)


def _fields(words: str) -> set[str]:
    """The `{fields}` of a catalog word."""
    return {name for _, name, _, _ in string.Formatter().parse(words) if name}


def test_every_message_key_exists_with_the_fields_its_raise_sites_fill() -> None:
    words = catalog.catalog()
    used = 0
    for path, tree in _trees().items():
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and _name(node.func) == "msg" and node.args):
                continue
            key = node.args[0]
            assert isinstance(key, ast.Constant) and isinstance(key.value, str), path
            where = f"{path.relative_to(PACKAGE)}:{node.lineno} {key.value}"
            assert key.value.startswith("problem."), where
            assert key.value in words, where
            given = {k.arg for k in node.keywords}
            assert None not in given, where  # fields by name, so this check can see them
            assert given == _fields(words[key.value]["en"]), where
            used += 1
    assert used > 250


def test_every_problem_word_has_both_languages_with_the_same_fields() -> None:
    problems = {k: v for k, v in catalog.catalog().items() if k.startswith("problem.")}
    assert len(problems) > 300
    for key, word in problems.items():
        assert word["zh"] != word["en"] or _fields(word["zh"]) == {"reason"}, key
        assert _fields(word["zh"]) == _fields(word["en"]), key


@pytest.mark.parametrize(
    ("header", "lang"),
    [
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh"),
        ("zh-Hans", "zh"),
        ("zh-TW", "zh"),
        ("en-US,en;q=0.9", "en"),
        ("en;q=0.5, zh-CN;q=0.8", "zh"),
        ("zh;q=0.2, en-GB", "en"),
        ("fr-FR, en;q=0.1", "en"),
        ("EN", "en"),
        ("fr, de", None),
        ("zh;q=0, en;q=0", None),
        ("*", None),
        ("", None),
        (None, None),
    ],
)
def test_accept_language_weights_pick_the_language(header: str | None, lang: str | None) -> None:
    assert accepted_lang(header) == lang


def test_a_problem_reads_in_chinese_or_english_with_a_stable_code() -> None:
    error = NotFound(msg("problem.patrols.no_patrol", patrol_id=7), field="patrol_id")
    assert str(error) == error.detail == "no patrol 7"  # logs and the command line
    zh = error.problem(instance="/api/v1/patrols/7", lang="zh")
    en = error.problem(instance="/api/v1/patrols/7", lang="en")
    assert zh == {
        "type": "about:blank",
        "title": "未找到",
        "status": 404,
        "code": "patrols.no_patrol",
        "detail": "没有编号为 7 的巡河记录",
        "instance": "/api/v1/patrols/7",
        "field": "patrol_id",
    }
    assert en | {"title": "Not found", "detail": "no patrol 7"} == en
    assert en["code"] == "patrols.no_patrol" and en["title"] == NotFound.title == "Not found"


def test_a_message_inside_a_message_and_inside_extra_fields_is_translated() -> None:
    more = msg("problem.roster.first_errors", count=50)
    rows = [{"row": 3, "detail": msg("problem.roster.not_date", value="2026-13-01")}]
    error = Conflict(msg("problem.roster.rejected", rows=2, more=more), errors=rows)
    zh = error.problem(lang="zh")
    assert zh["detail"] == "河长名册中有 2 行有误（仅列出前 50 处错误）；未保存任何内容"
    assert zh["errors"] == [{"row": 3, "detail": "2026-13-01 不是日期（YYYY-MM-DD）"}]
    english = "2 row(s) of the roster are wrong (the first 50 errors); nothing was stored"
    assert error.detail == english
    assert error.problem()["errors"][0]["detail"] == "2026-13-01 is not a date (YYYY-MM-DD)"


def test_an_untranslated_string_still_answers_with_the_class_code() -> None:
    error = InvalidInput("legacy words")  # type: ignore[arg-type]
    assert error.problem(lang="zh")["detail"] == "legacy words"
    assert error.problem()["code"] == "invalid_input"


def test_a_library_error_keeps_its_words_and_ours_keep_their_message() -> None:
    ours = reason(ValueError(msg("problem.core.nul_character")))
    assert ours.code == "core.nul_character"
    theirs = reason(ValueError("pyproj says no"))
    assert theirs.text("en") == "pyproj says no"
    assert theirs.text("zh") == "取值无效：pyproj says no"


def test_a_subclass_names_its_title_by_key() -> None:
    with pytest.raises(TypeError, match="title_key"):

        class Wrong(GeoPatrolError):
            title = "Wrong"

    class Right(GeoPatrolError):
        status = 410
        title_key = "error.not_found"

    assert Right.title == "Not found" and Right.code == "not_found"
