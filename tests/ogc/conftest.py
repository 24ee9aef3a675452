"""One live service on the committed demo for the OGC API tests, and personal tokens of the
people who read it. GDAL needs a real port, and a process of its own: pyogrio holds the GIL
while GDAL waits for some answers, so a server thread in the test's process never answers."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from geo_patrol.demo.accounts import DEFAULT_PASSWORD
from tests.support.browser import committed_demo_database
from tests.support.service import running_service
from tests.support.water import WATER_LAST, seed_sections

READERS = ("admin", "wujiang.sup", "xiuzhou.sup", "shengze.sup")


@dataclass(frozen=True)
class Ogc:
    """The live service and a full and a read token per reader."""

    base: str
    tokens: dict[str, str]
    read_tokens: dict[str, str]

    def bearer(self, login: str) -> dict[str, str]:
        """The bearer header of a reader."""
        return {"Authorization": f"Bearer {self.tokens[login]}"}


@pytest.fixture(scope="package")
def live_database_url() -> str:
    """The committed demo (patrols of a quarter and a week, incidents) and the water test
    sections (tests/support/water.py), a copy of its own."""
    return committed_demo_database(
        "geo_patrol_ogc", then=lambda session: seed_sections(session, last=WATER_LAST)
    )


def _token(base: str, login: str, scope: str) -> str:
    """A personal token of a demo login."""
    body = {"login": login, "password": DEFAULT_PASSWORD, "scope": scope, "label": "GDAL"}
    answer = httpx.post(f"{base}/api/v1/auth/tokens", json=body, timeout=30)
    assert answer.status_code == 200, answer.text
    token: str = answer.json()["token"]
    return token


@pytest.fixture(scope="package")
def ogc(live_database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ogc]:
    """The service on a free port with tokens for READERS."""
    with running_service(live_database_url, tmp_path_factory.mktemp("ogc")) as service:
        base = service.http
        yield Ogc(
            base=base,
            tokens={login: _token(base, login, "full") for login in READERS},
            read_tokens={login: _token(base, login, "read") for login in READERS},
        )
