"""The incident list for supervisors (`/incidents`): the cases in the reader's scope as a
table, open ones by deadline, soonest first, so "what is overdue, what needs the other side" is one
page. Filters live in the URL like the map's; each row links to the incident page. The page
is templates/cases/incident_list.html.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from sqlalchemy.orm import Session

from geo_patrol.geography.queries import current_names
from geo_patrol.web.render import render as render_template

VIEWS = ("open", "overdue", "all")
LIMIT = 1000


def names_of(session: Session, rows: list[dict[str, Any]]) -> dict[str, str]:
    """The current names of the lead and co-responsible jurisdictions of `rows`."""
    codes = {r["lead_code"] for r in rows if r["lead_code"]}
    codes |= {code for r in rows for code in r["co_codes"] or []}
    return current_names(session, codes=sorted(codes))


def _with_names(r: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    """A case with the names of its lead and co-responsible sides (a dash for none)."""
    lead = names.get(r["lead_code"] or "", r["lead_code"] or "—")
    co = ", ".join(names.get(c, c) for c in r["co_codes"] or []) or "—"
    return {**r, "lead": lead, "co": co}


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
    query = urlencode({"view": view, "joint": "1" if joint else "", "category": category or ""})
    return render_template(
        "cases/incident_list.html",
        lang=lang,
        rows=[_with_names(r, names) for r in rows],
        views=VIEWS,
        view=view,
        joint_only=joint,
        category=category,
        categories=categories,
        limit=LIMIT,
        query=query,
    )
