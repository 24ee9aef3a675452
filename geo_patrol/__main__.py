"""python -m geo_patrol runs the command line."""

from geo_patrol.cli import app

app()
