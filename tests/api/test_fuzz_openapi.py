"""Property-based fuzzing of every operation in the OpenAPI (schemathesis), signed in as an
administrator (bearer token) and as a patrol member's phone (device token): no answer is a
server error, and every answer matches the schema the OpenAPI documents for it.

The service runs under uvicorn on its own database with the demo committed. Every request
works in a transaction that is rolled back afterwards, so the fuzzer can neither lock an
account, revoke the phone nor change what the next example sees, and the other tests' data
is never touched. The number of examples is bounded per operation (fewer where a request
hashes a password or draws the whole map) so the whole module runs in about a minute.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.core.result import Ok
from schemathesis.generation.case import Case
from schemathesis.schemas import APIOperation
from schemathesis.specs.openapi.checks import response_schema_conformance
from schemathesis.specs.openapi.schemas import OpenApiSchema
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from geo_patrol.accounts.members import issue_api_token
from geo_patrol.api.app import create_app
from geo_patrol.api.deps import get_session
from geo_patrol.core.settings import Settings
from geo_patrol.db.engine import make_engine, make_sessionmaker
from geo_patrol.demo.accounts import DEFAULT_PASSWORD
from tests.support.database import fresh_demo_database
from tests.support.live_server import serving
from tests.support.principals import SZ_PHONE_TOKEN, member_id

EXAMPLES = 10
# Each of these hashes a password (Argon2, ~0.3 s) or renders the whole map.
SLOW = {
    "POST /api/v1/auth/login": 3,
    "POST /api/v1/auth/tokens": 3,
    "POST /login": 3,
    "POST /api/v1/me/password": 3,
    "POST /api/v1/members/{member_id}/password": 3,
    "POST /api/v1/members": 4,
    "GET /map": 3,
    "GET /api/v1/jurisdictions": 4,
}
CHECKS = [not_a_server_error, response_schema_conformance]


@dataclass
class Service:
    """The fuzzed service: its base URL, schema and the two callers' tokens."""

    base: str
    schema: OpenApiSchema
    tokens: dict[str, str] = field(default_factory=dict)


def _demo_database() -> tuple[str, str]:
    """A database of its own with the demo committed; its URL and an admin's token."""
    from geo_patrol.demo.incidents import load_demo_incidents

    url = fresh_demo_database("geo_patrol_fuzz")
    engine = make_engine(url)
    with make_sessionmaker(engine)() as session, session.begin():
        load_demo_incidents(session, settings=Settings(database_url=url))
        admin = member_id(session, "admin")
        token = issue_api_token(session, member_id=admin, label="fuzz", days=1, address=None)
    engine.dispose()
    return url, token


def _rolled_back(engine: Engine) -> Iterator[Session]:
    """A request's session in a transaction of its own that is always rolled back."""
    with engine.connect() as connection:
        transaction = connection.begin()
        with Session(bind=connection, join_transaction_mode="create_savepoint") as session:
            yield session
        transaction.rollback()


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """The service on a real port, every request rolled back."""
    url, admin_token = _demo_database()
    data_dir: Path = tmp_path_factory.mktemp("fuzz-data")
    app = create_app(
        Settings(database_url=url, data_dir=data_dir, maintenance_seconds=0, osmand_port=None)
    )
    engine = make_engine(url)
    app.dependency_overrides[get_session] = lambda: (yield from _rolled_back(engine))
    with serving(app) as base:
        # The first /openapi.json builds the whole document: over schemathesis's default 10 s
        # on a loaded machine (two workers and other work), a failure that says nothing.
        schema = schemathesis.openapi.from_url(f"{base}/openapi.json", timeout=120)
        yield Service(base, schema, {"admin": admin_token, "phone": SZ_PHONE_TOKEN})
    engine.dispose()


def _fuzz(service: Service, operation: APIOperation[Any, Any, Any, Any], token: str) -> list[str]:
    """Run the examples of one operation; the failures, each with a command to replay it."""
    failures: list[str] = []
    http = requests.Session()
    headers = {"Authorization": f"Bearer {token}"}

    @given(case=operation.as_strategy())
    @settings(
        max_examples=SLOW.get(operation.label, EXAMPLES),
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def examples(case: Case[Any]) -> None:
        response = case.call(base_url=service.base, session=http, headers=headers, timeout=60)
        try:
            case.validate_response(response, checks=CHECKS)
        except (Failure, FailureGroup) as error:
            found = error.exceptions if isinstance(error, FailureGroup) else (error,)
            said = "; ".join(f"{f.title}: {f.message[:300]}" for f in found)
            failures.append(
                f"{operation.label} [{response.status_code}] {said}\n    {case.as_curl_command()}"
            )

    examples()
    http.close()
    return failures


@pytest.mark.parametrize("caller", ["admin", "phone"])
def test_no_server_error_and_answers_match_the_schema(
    service: Service, caller: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.CRITICAL, logger="geo_patrol")  # refusals would flood the log
    failures: list[str] = []
    results = list(service.schema.get_all_operations())
    operations = [result.ok() for result in results if isinstance(result, Ok)]
    assert len(operations) == len(results) > 60, "the OpenAPI describes every operation"
    for operation in operations:
        failures += _fuzz(service, operation, service.tokens[caller])
    by_operation = {f.split(" [")[0]: f for f in failures}  # one example of each
    assert not failures, f"{len(failures)} failures in {len(by_operation)} operations:\n" + (
        "\n".join(by_operation.values())
    )
    _nothing_was_kept(service, caller)


def _nothing_was_kept(service: Service, caller: str) -> None:
    """The fuzzer locked no account and revoked no token: the caller still gets in, and so
    does the administrator with the demo password."""
    me = requests.get(
        f"{service.base}/api/v1/me",
        timeout=10,
        headers={"Authorization": f"Bearer {service.tokens[caller]}"},
    )
    assert me.status_code == 200
    password = os.environ.get("GEO_PATROL_DEMO_PASSWORD", DEFAULT_PASSWORD)  # as the demo reads it
    login = {"login": "admin", "password": password}
    assert requests.post(f"{service.base}/api/v1/auth/login", json=login, timeout=10).ok
