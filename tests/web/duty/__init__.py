"""Tests of the duty page."""
