"""Tests of the duty domain."""
