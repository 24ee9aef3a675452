"""Hostile names and descriptions, put into the demo data, and checks that pages keep them inert.

Each payload calls `gpPwned(n)` (or `alert`) if it ever runs; the checks parse the HTML with
lxml and look for what an injection leaves behind: a script element of ours, an event
handler attribute, a `javascript:` (or other non-web) link, a JavaScript template literal
broken open.
"""

from __future__ import annotations

import re

import lxml.html
from sqlalchemy import text
from sqlalchemy.orm import Session

RTL = "\u202e"  # right-to-left override: must not reorder the page around it
PAYLOAD = (
    "<script>gpPwned(1)</script>"
    '<img src=x onerror="gpPwned(2)">'
    "\"'><b onmouseover=gpPwned(3)>x</b>"
    "${gpPwned(4)}"
    "`+gpPwned(5)+`"
    "\\`;gpPwned(6);//"
    "</script><svg onload=alert(7)>"
    f"{RTL}gpj.sj"
)
LINK = "javascript:gpPwned(8)"


def hostile(label: str) -> str:
    """A hostile text, distinct per use (names are unique in some tables)."""
    return f"{label} {PAYLOAD}"


def poison_demo(session: Session) -> None:
    """Give teams, members, rivers, villages, zones, jurisdictions and categories hostile
    names (the texts people and imports put into them)."""
    for table, column in (
        ("teams", "name"),
        ("members", "name"),
        ("rivers", "name"),
        ("villages", "name"),
        ("cooperation_zones", "name"),
        ("jurisdictions", "name"),
    ):
        session.execute(
            text(f"UPDATE {table} SET {column} = :p || ' ' || {column}"), {"p": hostile(table)}
        )
    session.execute(
        text("UPDATE incident_categories SET name = :p || name, name_en = :p || name_en"),
        {"p": hostile("category")},
    )


EVENT_ATTRIBUTE = re.compile(r"^on", re.IGNORECASE)
SCHEME = re.compile(r"^\s*([a-z][a-z0-9+.-]*):", re.IGNORECASE)
URL_ATTRIBUTES = ("href", "src", "action", "formaction", "xlink:href")
PDI = "\u2069"


def _bad_url(tag: str, value: str) -> bool:
    """A link that is not http(s) or relative (a data: URL only for images and the icon)."""
    scheme = SCHEME.match(value)
    if scheme is None:
        return False
    name = scheme.group(1).lower()
    return not (name in ("http", "https") or (name == "data" and tag in ("img", "link")))


def _leaks_direction(value: str) -> bool:
    """A right-to-left override not closed by an isolate in the same text."""
    return RTL in value and value.rfind(PDI) < value.rfind(RTL)


def injections(page: str) -> list[str]:
    """What an injection would leave in `page` (empty: the page is inert)."""
    found: list[str] = []
    root = lxml.html.document_fromstring(page)
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        for name, value in element.attrib.items():
            if EVENT_ATTRIBUTE.match(name) and ("gpPwned" in value or "alert" in value):
                found.append(f"<{element.tag} {name}={value!r}>")
            if name in URL_ATTRIBUTES and _bad_url(element.tag, value):
                found.append(f"<{element.tag} {name}={value!r}>")
            if _leaks_direction(value):
                found.append(f"<{element.tag} {name}=...> reorders the text after it")
        if element.tag == "script":
            found.extend(_script_holes(element.text or ""))
        elif any(_leaks_direction(t or "") for t in (element.text, element.tail)):
            found.append(f"<{element.tag}> text reorders the text after it")
    return found


def _script_holes(code: str) -> list[str]:
    """Injections inside a script: our own script element, or a payload call that stands as
    code (not inside a string or a template literal's text), e.g. after `${` or a backtick
    it freed. Folium puts popups and tooltips into JavaScript `...` strings."""
    if "gpPwned" not in code and "alert(7" not in code:
        return []
    return [f"payload runs as code: {code[i : i + 40]!r}" for i in calls_as_code(code)]


def _skip_string(js: str, i: int) -> int:
    """The index after the quoted string starting at `i`."""
    quote, j = js[i], i + 1
    while j < len(js) and js[j] != quote:
        j += 2 if js[j] == "\\" else 1
    return j + 1


def calls_as_code(js: str) -> list[int]:
    """Where `gpPwned(` or `alert(` stands in code: a small scanner of JavaScript strings,
    template literals (with their `${...}`), comments and braces (no regex literals: the
    scripts that hold our text are Folium's, which have none)."""
    found: list[int] = []
    stack = ["code"]
    i = 0
    while i < len(js):
        state, c = stack[-1], js[i]
        if state == "template":
            if c == "\\":
                i += 2
            elif c == "`":
                stack.pop()
                i += 1
            elif js.startswith("${", i):
                stack.append("code")
                i += 2
            else:
                i += 1
            continue
        if js.startswith(("gpPwned(", "alert("), i):
            found.append(i)
        if c in "'\"":
            i = _skip_string(js, i)
        elif c == "`":
            stack.append("template")
            i += 1
        elif js.startswith("//", i):
            end = js.find("\n", i)
            i = len(js) if end < 0 else end
        elif js.startswith("/*", i):
            end = js.find("*/", i + 2)
            i = len(js) if end < 0 else end + 2
        elif c == "{":
            stack.append("code")
            i += 1
        elif c == "}":
            if len(stack) > 1:
                stack.pop()
            i += 1
        else:
            i += 1
    return found


def check(page: str, where: str) -> None:
    """Assert the page is inert: no injected element, attribute or code; only web links."""
    problems = injections(page)
    assert problems == [], f"{where}: {problems}"
