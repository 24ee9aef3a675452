"""What the incident list and the incident page share: the head of the page and its style."""

from __future__ import annotations

HEAD = """<!doctype html>
<html lang="{html_lang}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body {{ font: 15px/1.45 system-ui, "Noto Sans CJK SC", sans-serif; margin: 1.2em auto;
       max-width: {width}; padding: 0 1em; color: #212121; }}
header {{ display: flex; gap: 1em; align-items: baseline; flex-wrap: wrap; }}
h1 {{ font-size: 1.4em; margin: 0.2em 0; }}
nav a {{ margin-right: 1em; }}
table {{ border-collapse: collapse; }}
th, td {{ text-align: left; padding: 0.25em 0.6em; border-bottom: 1px solid #e0e0e0;
          vertical-align: top; }}
.joint {{ background: #6a1b9a; color: #fff; border-radius: 3px; padding: 0 0.4em; }}
.overdue, .error {{ color: #c62828; }}
@media print {{ nav, form {{ display: none; }} }}
"""


def head(*, lang: str, title: str, width: str = "1040px") -> str:
    """The page's head up to its own style rules (`title` already escaped); the caller adds
    its rules, then closes the style and the head."""
    return HEAD.format(html_lang="en" if lang == "en" else "zh-CN", title=title, width=width)
