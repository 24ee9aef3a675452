"""Readers and loaders of boundary, river and village files."""
