"""The one Jinja2 environment that renders every page of ours from geo_patrol/web/templates.

Text is inert by default: autoescape is on for .html/.svg templates, so a value from the
database or the request is HTML text unless our code marks it `Markup`; a missing variable is
an error (StrictUndefined), not an empty string. Two more rules the templates get for free:

- Text holding explicit bidirectional controls (a name with a right-to-left override would
  reorder the page after it: "gpj.exe" shows "exe.jpg") is isolated between FSI and PDI, so
  whatever it starts ends with it (`finalize`, applied to every `{{ }}`). Form values that
  must come back exactly (codes, tokens, paths) use `|verbatim`: escaped, not isolated.
- Data for scripts goes through `|tojson` (HTML-safe JSON: `<`, `>`, `&`, `'` escaped).

`t(key, **fields)` in a template is the catalog's word in the page's `lang` (`t_or(key,
fallback)` when the key is built from a code that may have no word); `minute(moment)` is
a time as people read it (UTC+8, to the minute).

Folium writes popups and tooltips into JavaScript template literals (`$(\\`...\\`)`):
`literal_safe` renders a template for that, turning `$`, backticks and backslashes into
character references too; `html_text` is the one escape for GeoJSON properties that Folium's
GeoJsonTooltip writes as HTML (data, not a template, so it cannot be autoescaped).
"""

from __future__ import annotations

from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, pass_context, select_autoescape
from jinja2.runtime import Context
from markupsafe import Markup, escape

from geo_patrol.core import catalog
from geo_patrol.core.local_time import local_minute

# Explicit bidirectional formatting (LRE, RLE, PDF, LRO, RLO, LRI, RLI, FSI, PDI).
_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
FSI, PDI = "\u2068", "\u2069"
_TEMPLATE_LITERAL = str.maketrans({"`": "&#96;", "$": "&#36;", "\\": "&#92;"})


def isolate(value: object) -> object:
    """Text with bidirectional controls between FSI and PDI; `Markup` and the rest as they are."""
    if isinstance(value, str) and not isinstance(value, Markup) and _BIDI.intersection(value):
        return f"{FSI}{value}{PDI}"
    return value


def verbatim(value: object) -> Markup:
    """`value` escaped but not isolated: for form values that must come back unchanged."""
    return escape(str(value))


@pass_context
def _t(context: Context, key: str, /, **fields: object) -> str:
    """The catalog's word `key` in the rendered page's language."""
    return catalog.text(key, context["lang"], **fields)


@pass_context
def _t_or(context: Context, key: str, fallback: object, /) -> object:
    """The word `key` if the catalog has it, else `fallback` (a code with no word yet)."""
    return catalog.text(key, context["lang"]) if key in catalog.catalog() else fallback


def _environment() -> Environment:
    """The environment: package templates, autoescape, strict variables, our helpers."""
    env = Environment(
        loader=PackageLoader("geo_patrol.web", "templates"),
        autoescape=select_autoescape(["html", "svg"], default_for_string=True),
        undefined=StrictUndefined,
        finalize=isolate,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["t"] = _t
    env.globals["t_or"] = _t_or
    env.globals["minute"] = local_minute
    env.globals["other_lang"] = catalog.other_lang
    env.globals["html_lang"] = catalog.html_lang
    env.filters["verbatim"] = verbatim
    env.policies["json.dumps_kwargs"] = {"sort_keys": False, "ensure_ascii": False}
    return env


ENV = _environment()


def render(name: str, /, *, lang: str, **context: Any) -> str:
    """The template `name` rendered in `lang` (zh unless en) with `context`."""
    return ENV.get_template(name).render(lang=catalog.lang_of(lang), **context)


def literal_safe(name: str, /, *, lang: str, **context: Any) -> str:
    """A template rendered for a JavaScript template literal (Folium's popups and tooltips):
    our templates hold no `$`, backtick or backslash, so turning every one into a character
    reference after rendering only touches the values, which the browser shows as themselves."""
    return render(name, lang=lang, **context).translate(_TEMPLATE_LITERAL)


def html_text(value: object) -> str:
    """`value` as HTML text (isolated like a template's): for GeoJSON properties that
    Folium's GeoJsonTooltip writes as HTML."""
    return str(escape(isolate(str(value))))


def macro(name: str, macro_name: str, /, *args: Any, **kwargs: Any) -> str:
    """A macro of a template called on its own (macros that need no page language)."""
    called = getattr(ENV.get_template(name).module, macro_name)(*args, **kwargs)
    return str(called)
