"""python -m geo_patrol runs the command line."""

from geo_patrol.cli.app import app

app()
