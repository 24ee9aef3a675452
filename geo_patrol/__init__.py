"""geo-patrol: joint river patrol and cross-border river governance on PostGIS."""

__version__ = "0.1.0"
