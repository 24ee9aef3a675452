"""Incident list and incident pages."""
