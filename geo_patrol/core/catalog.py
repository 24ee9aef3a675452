"""Every word shown to people, in Chinese (the default) and English: one catalog.

The words live in catalog.json beside this module, one key per word, each with "zh" and
"en" (a test checks both are there and that every key the code and templates use exists).
Keys are dotted by where the word is shown: `map.` (supervisor map, incident pages, meeting
pack), `app.` (the phone app: its part goes to the app's script as JSON), `setup.` (the
phone set-up pages), `login.`, `open311.` (notices sent to Open311 clients), `error.`
(problem titles), `problem.` (problem details: see `Message`). Values may hold `{name}`
fields, filled by `text(key, lang, name=...)`. Place names, team names and categories come
from the data and are never translated here.

A `Message` is a problem detail not yet put into words: a `problem.` key and its fields,
rendered in the reader's language when the answer is written (`msg("problem.x", n=3)`).
Its `code`, the key without `problem.`, is the stable identifier clients match.

It sits in core so that every layer may use it: the pages, the API's error titles and the
incidents domain's Open311 notices.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
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
    if not fields:
        return word
    shown = {
        name: value.text(lang) if isinstance(value, Message) else value
        for name, value in fields.items()
    }
    return word.format(**shown)


def words(prefix: str, lang: str | None) -> dict[str, str]:
    """The words under `prefix.` in `lang`, keyed without the prefix."""
    start = prefix + "."
    chosen = lang_of(lang)
    return {k[len(start) :]: v[chosen] for k, v in catalog().items() if k.startswith(start)}


def section(prefix: str) -> dict[str, dict[str, str]]:
    """The words under `prefix.` in both languages: {"zh": {...}, "en": {...}}."""
    return {lang: words(prefix, lang) for lang in LANGS}


PROBLEM_PREFIX = "problem."


@dataclass(frozen=True, eq=True)
class Message:
    """A problem's detail as a catalog key and its fields, put into words per reader (a
    field may itself be a Message: it is rendered in the same language)."""

    key: str
    fields: Mapping[str, object] = field(default_factory=dict)

    @property
    def code(self) -> str:
        """The stable identifier of this kind of problem: the key without `problem.`."""
        return self.key.removeprefix(PROBLEM_PREFIX)

    def text(self, lang: str | None) -> str:
        """The detail in `lang` (zh unless en)."""
        return text(self.key, lang, **self.fields)

    def __str__(self) -> str:
        """The English detail, as logs and the command line show it."""
        return self.text("en")


def msg(key: str, /, **fields: object) -> Message:
    """The problem detail `key` (a `problem.` key of the catalog) with its `{fields}`."""
    return Message(key, fields)


UNTRANSLATED = "problem.core.untranslated"


def reason(error: BaseException) -> Message:
    """The Message an exception carries (`ValueError(msg(...))`), else its English text as
    an invalid value (a library's own words)."""
    first = error.args[0] if len(error.args) == 1 else None
    if isinstance(first, Message):
        return first
    return msg("problem.core.invalid_value", reason=str(error))


# One language range of an Accept-Language header and its weight: "zh-CN;q=0.9".
_RANGE = re.compile(r"^\s*([A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*|\*)\s*(?:;\s*q\s*=\s*([0-9.]+))?")


def accepted_lang(header: str | None) -> Lang | None:
    """The catalog language an Accept-Language header prefers (RFC 9110 weights: zh, zh-CN,
    zh-Hans, zh-TW... are zh; en and en-* are en), None when it names neither."""
    best: tuple[float, int, Lang] | None = None
    for position, part in enumerate((header or "").split(",")):
        found = _RANGE.match(part)
        if not found:
            continue
        tag, weight = found[1].lower(), found[2]
        try:
            q = float(weight) if weight is not None else 1.0
        except ValueError:
            continue
        primary = tag.split("-")[0]
        if q <= 0 or primary not in LANGS:
            continue
        # Higher weight wins; between equal weights, the earlier range.
        if best is None or (q, -position) > (best[0], best[1]):
            best = (q, -position, "zh" if primary == "zh" else "en")
    return best[2] if best else None
