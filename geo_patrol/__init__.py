"""geo-patrol: joint river patrol and cross-border river governance on PostGIS.

One home per domain, imports pointing one way (checked by import-linter in the tests):

    cli -> api -> web | demo -> meetings -> incidents -> patrols -> accounts
        -> geography -> access -> db -> core

A domain package (geography, accounts, patrols, incidents, meetings) keeps its SQL in its
own modules (`queries.py` for reads), never in `api/` or `web/`; `api/` parses and
delegates, `web/` renders templates. Something two layers share goes into the lower one.
The map of every package: docs/developers/layout.md.
"""

# The one place the version is written: pyproject.toml reads it (dynamic = ["version"]),
# CHANGELOG.md names it, each migration says which version introduced it.
__version__ = "0.6.0"
