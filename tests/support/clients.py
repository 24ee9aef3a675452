"""The one way tests build the app on their own session, and call it as a role."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy.orm import Session

from geo_patrol.api.app import create_app
from geo_patrol.api.deps import get_session
from geo_patrol.core.settings import Settings
from tests.support.database import request_session


def app_on(session: Session, settings: Settings) -> FastAPI:
    """The whole app, every request of it in a savepoint of the test's `session`."""
    app = create_app(settings)
    app.dependency_overrides[get_session] = request_session(session)
    return app
