"""The phone web app and its set-up pages."""
