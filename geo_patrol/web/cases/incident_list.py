"""The incident list for supervisors (`/incidents`): the cases in the reader's scope as a
table, open ones by deadline, soonest first, so "what is overdue, what needs the other side" is one
page. Filters live in the URL like the map's; each row links to the incident page.
"""

from __future__ import annotations

import html
from typing import Any
from urllib.parse import urlencode

from sqlalchemy.orm import Session

from geo_patrol.core.local_time import local_minute
from geo_patrol.geography.queries import current_names
from geo_patrol.web.cases import common as case_pages
from geo_patrol.web.map.text import words
from geo_patrol.web.markup import esc

VIEWS = ("open", "overdue", "all")
LIMIT = 1000


def names_of(session: Session, rows: list[dict[str, Any]]) -> dict[str, str]:
    """The current names of the lead and co-responsible jurisdictions of `rows`."""
    codes = {r["lead_code"] for r in rows if r["lead_code"]}
    codes |= {code for r in rows for code in r["co_codes"] or []}
    return current_names(session, codes=sorted(codes))


def _row(r: dict[str, Any], w: dict[str, str], names: dict[str, str], lang: str) -> str:
    """One case as a table row."""
    lead = names.get(r["lead_code"] or "", r["lead_code"] or "—")
    co = ", ".join(names.get(c, c) for c in r["co_codes"] or []) or "—"
    overdue = f' <b class="overdue">{esc(w["overdue"])}</b>' if r["overdue"] else ""
    joint = f' <span class="joint">{esc(w["joint_case"])}</span>' if r["is_joint"] else ""
    cells = [
        f'<a href="/incidents/{r["id"]}?lang={lang}">#{r["id"]}</a>',
        esc(r["category_name"]) + joint,
        esc(w.get(f"status_{r['status']}", r["status"])),
        esc(w.get(f"tier_{r['tier']}", r["tier"])),
        esc(w.get(f"severity_{r['severity']}", r["severity"])),
        esc(lead),
        esc(co),
        local_minute(r["deadline_at"]) + overdue,
        local_minute(r["reported_at"]),
    ]
    return "<tr>" + "".join(f"<td>{cell}</td>" for cell in cells) + "</tr>"


def _form(
    w: dict[str, str],
    *,
    view: str,
    joint: bool,
    category: str | None,
    categories: list[dict[str, Any]],
    lang: str,
) -> str:
    """The filters: a GET form, so the URL holds the view."""
    views = "".join(
        f'<option value="{v}"{" selected" if v == view else ""}>{esc(w["view_" + v])}</option>'
        for v in VIEWS
    )
    kinds = f'<option value="">{esc(w["all"])}</option>' + "".join(
        f'<option value="{html.escape(c["code"])}"'
        f"{' selected' if c['code'] == category else ''}>{esc(c['name'])}</option>"
        for c in categories
    )
    checked = " checked" if joint else ""
    return (
        f'<form method="get" action="/incidents" id="filters">'
        f'<input type="hidden" name="lang" value="{lang}">'
        f'<select name="view">{views}</select> <select name="category">{kinds}</select> '
        f'<label><input type="checkbox" name="joint" value="1"{checked}> '
        f"{esc(w['joint'])}</label> "
        f'<button type="submit">{esc(w["apply"])}</button></form>'
    )


def render(
    rows: list[dict[str, Any]],
    names: dict[str, str],
    *,
    view: str,
    joint: bool,
    category: str | None,
    categories: list[dict[str, Any]],
    lang: str,
) -> str:
    """The whole page."""
    w = words(lang)
    headers = (
        "id",
        "category_col",
        "status",
        "tier",
        "severity",
        "lead",
        "co",
        "deadline",
        "reported",
    )
    head = "".join(f"<th>{esc(w[h])}</th>" for h in headers)
    body = "".join(_row(r, w, names, lang) for r in rows)
    note = w["shown"].format(n=len(rows)) + (
        w["limit_note"].format(n=LIMIT) if len(rows) >= LIMIT else ""
    )
    title = esc(w["list_title"])
    return case_pages.head(lang=lang, title=title, width="1200px") + PAGE.format(
        title=title,
        form=_form(w, view=view, joint=joint, category=category, categories=categories, lang=lang),
        note=esc(note),
        head=head,
        body=body,
        lang=lang,
        other_lang=w["other_lang"],
        language=esc(w["language"]),
        back_to_map=esc(w["back_to_map"]),
        query=esc(
            urlencode({"view": view, "joint": "1" if joint else "", "category": category or ""})
        ),
    )


PAGE = """
table {{ width: 100%; }}
th {{ color: #555; font-weight: normal; position: sticky; top: 0; background: #fff; }}
#filters {{ margin: 0.5em 0; }}
</style></head><body>
<header><h1>{title}</h1>
<nav><a href="/map?lang={lang}">{back_to_map}</a>
<a href="/incidents?{query}&amp;lang={other_lang}">{language}</a></nav></header>
{form}
<p id="shown">{note}</p>
<table id="incidents"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>
</body></html>
"""
