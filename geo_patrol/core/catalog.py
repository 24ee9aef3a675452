"""Every word shown to people, in Chinese (the default) and English: one catalog.

The words live in catalog.json beside this module, one key per word, each with "zh" and
"en" (a test checks both are there and that every key the code and templates use exists).
Keys are dotted by where the word is shown: `map.` (supervisor map, incident pages, meeting
pack), `app.` (the phone app: its part goes to the app's script as JSON), `setup.` (the
phone set-up pages), `login.`, `open311.` (notices sent to Open311 clients), `error.`
(problem titles). Values may hold `{name}` fields, filled by `text(key, lang, name=...)`.
Place names, team names and categories come from the data and are never translated here.

It sits in core so that every layer may use it: the pages, the API's error titles and the
incidents domain's Open311 notices.
"""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files
from typing import Literal

Lang = Literal["zh", "en"]
LANGS: tuple[Lang, ...] = ("zh", "en")


def lang_of(lang: str | None) -> Lang:
    """ "en" for English, otherwise "zh": Chinese is the default everywhere."""
    return "en" if lang == "en" else "zh"


def other_lang(lang: str | None) -> Lang:
    """The language a page's language link switches to."""
    return "zh" if lang_of(lang) == "en" else "en"


def html_lang(lang: str | None) -> str:
    """The `lang` attribute of a page in `lang` (en or zh-CN)."""
    return "en" if lang_of(lang) == "en" else "zh-CN"


@cache
def catalog() -> dict[str, dict[str, str]]:
    """The whole catalog: key -> {"zh": ..., "en": ...} (read once)."""
    source = files("geo_patrol.core").joinpath("catalog.json").read_text(encoding="utf-8")
    loaded: dict[str, dict[str, str]] = json.loads(source)
    return loaded


def text(key: str, lang: str | None, /, **fields: object) -> str:
    """The word `key` in `lang`, its `{fields}` filled when any are given (KeyError for a
    key the catalog lacks: a missing word is a bug, not an empty label)."""
    word = catalog()[key][lang_of(lang)]
    return word.format(**fields) if fields else word


def words(prefix: str, lang: str | None) -> dict[str, str]:
    """The words under `prefix.` in `lang`, keyed without the prefix."""
    start = prefix + "."
    chosen = lang_of(lang)
    return {k[len(start) :]: v[chosen] for k, v in catalog().items() if k.startswith(start)}


def section(prefix: str) -> dict[str, dict[str, str]]:
    """The words under `prefix.` in both languages: {"zh": {...}, "en": {...}}."""
    return {lang: words(prefix, lang) for lang in LANGS}
