"""geo-patrol: joint river patrol and cross-border river governance on PostGIS."""

# The one place the version is written: pyproject.toml reads it (dynamic = ["version"]),
# CHANGELOG.md names it, each migration says which version introduced it.
__version__ = "0.2.0"
