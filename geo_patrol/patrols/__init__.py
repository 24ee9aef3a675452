"""Patrols: tracks read and cleaned, upload, attribution, coverage, quality, queries, exports."""
