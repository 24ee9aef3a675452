"""Incidents: reports, routing, workflow, photos, queries, Open311."""
