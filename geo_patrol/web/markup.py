"""Text into our f-string pages, inert by default (until the pages move to templates).

`esc` escapes everything that is not an `Html` fragment, so a table or list that takes
values escapes them itself and no caller can forget. `inert` is for text that Folium puts
into a JavaScript template literal (popups and tooltips: `$(\\`...\\`)`, `bindTooltip(\\`...\\`)`):
there `${...}` would run and a backslash could free a backtick, so `$`, backticks and
backslashes become character references as well, which the browser shows as themselves.
"""

from __future__ import annotations

import html

_TEMPLATE_LITERAL = str.maketrans({"`": "&#96;", "$": "&#36;", "\\": "&#92;"})
# Explicit bidirectional formatting (LRE, RLE, PDF, LRO, RLO, LRI, RLI, FSI, PDI): a name with
# a right-to-left override would reorder the page text after it ("gpj.exe" shows "exe.jpg").
_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
FSI, PDI = "\u2068", "\u2069"


class Html(str):
    """A fragment of HTML our own code built from escaped parts (never text from outside)."""

    __slots__ = ()


def esc(value: object) -> str:
    """`value` as HTML text; an `Html` fragment stays as it is.

    Text holding bidirectional controls is isolated (FSI ... PDI): whatever overrides it
    starts end with it, so it cannot reorder the text around it.
    """
    if isinstance(value, Html):
        return value
    escaped = html.escape(str(value), quote=True)
    return f"{FSI}{escaped}{PDI}" if _BIDI.intersection(escaped) else escaped


def inert(value: object) -> str:
    """`value` as HTML text that is also safe inside a JavaScript template literal."""
    return esc(value).translate(_TEMPLATE_LITERAL)


def tooltip_values(properties: dict[str, object], *fields: str) -> dict[str, object]:
    """The properties with `fields` escaped: Folium's GeoJsonTooltip writes them as HTML."""
    return {k: (esc(v) if k in fields and v is not None else v) for k, v in properties.items()}
