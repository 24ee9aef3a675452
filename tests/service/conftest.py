"""A database with the demo loaded, shared by the tests of the real service here."""

from __future__ import annotations

import pytest

from tests.support.database import fresh_demo_database


@pytest.fixture(scope="session")
def demo_url() -> str:
    """A database of its own (not the rolled-back test database) with the demo loaded."""
    return fresh_demo_database("geo_patrol_service")
