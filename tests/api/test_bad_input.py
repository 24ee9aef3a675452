"""Bad input is refused at the boundary, never a 500: each class the OpenAPI fuzzer found.

The cases are drawn from the OpenAPI itself, so a route added later is covered too: NUL in
every text parameter, form field and JSON field; numbers beyond their column in every integer
parameter and field; dates Python cannot shift by a month. References to nothing and other
integrity errors are 409/422 problem+json naming the column.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from tests.support.principals import headers_for, member_id

NUL = "a\x00b"
HALF_PAIR = "a\ud800b"
# PostgreSQL's integer and bigint (stated here, not taken from the code under test).
INT4_MAX, BIGINT_MAX = 2_147_483_647, 9_223_372_036_854_775_807
PROBLEM = "application/problem+json"
FORMS = ("multipart/form-data", "application/x-www-form-urlencoded")


@pytest.fixture
def admin(demo_session: Session) -> dict[str, str]:
    """An administrator's bearer header."""
    return headers_for(demo_session)["admin"]


@pytest.fixture(scope="module")
def openapi() -> dict[str, Any]:
    """The OpenAPI document of the app."""
    from geo_patrol.api.app import create_app

    return create_app().openapi()


def _operations(openapi: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """Every (method, path, operation) of the OpenAPI."""
    for path, methods in openapi["paths"].items():
        for method, operation in methods.items():
            yield method.upper(), path, operation


def _types(schema: dict[str, Any], openapi: dict[str, Any]) -> set[str]:
    """The JSON types a (possibly nullable) schema allows; a closed word list (`$ref` to an
    enum) is a string too."""
    schema = _schema(openapi, schema)
    return (
        {schema["type"]}
        if "type" in schema
        else {t for s in schema.get("anyOf", []) for t in _types(s, openapi)}
    )


def _schema(openapi: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """A schema with its $ref followed."""
    ref: str | None = schema.get("$ref")
    return openapi["components"]["schemas"][ref.rsplit("/", 1)[1]] if ref else schema


# Path parameters with a pattern; any other is given 1 (a valid id, code or number).
VALID = {"layer": "tracks", "fmt": "gpx"}


def _url(path: str, values: dict[str, str]) -> str:
    """`path` with its parameters filled: `values`, else valid ones."""
    return re.sub(r"\{(\w+)\}", lambda name: values.get(name[1], VALID.get(name[1], "1")), path)


def _params(openapi: dict[str, Any], kind: str, where: str) -> list[tuple[str, str, str]]:
    """(method, path, name) of every `kind` (string, integer) parameter found `where`."""
    return [
        (method, path, p["name"])
        for method, path, operation in _operations(openapi)
        for p in operation.get("parameters", [])
        if p["in"] == where and kind in _types(p["schema"], openapi)
    ]


def _body_fields(
    openapi: dict[str, Any], kind: str, media_types: tuple[str, ...]
) -> list[tuple[str, str, str, str]]:
    """(method, path, media type, field) of every `kind` field of the request bodies."""
    found = []
    for method, path, operation in _operations(openapi):
        for media_type, content in operation.get("requestBody", {}).get("content", {}).items():
            if media_type in media_types:
                properties = _schema(openapi, content["schema"]).get("properties", {})
                found += [
                    (method, path, media_type, name)
                    for name, schema in properties.items()
                    if kind in _types(schema, openapi) and schema.get("format") != "binary"
                ]
    return found


def _json(body: object, headers: dict[str, str]) -> dict[str, Any]:
    """A JSON body as sent on the wire, with escapes (the client would refuse to encode half
    a surrogate pair)."""
    return {"content": json.dumps(body), "headers": {**headers, "Content-Type": "application/json"}}


def _refused(response: Any, path: str, field: str, status: int = 422) -> None:
    """The answer refuses the input naming `field`: problem+json, or Open311's error list."""
    assert response.status_code == (400 if path.startswith("/open311/") else status), (
        response.status_code,
        response.text[:300],
    )
    if path.startswith("/open311/"):
        assert field in response.text
        return
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    named = {problem.get("field")} | {e["field"] for e in problem.get("errors", [])}
    assert field in named or f"body.{field}" in named, problem


# --- NUL in any text --------------------------------------------------------------------------


def test_nul_in_any_path_or_query_parameter_is_refused_even_before_sign_in(
    demo_client: TestClient, openapi: dict[str, Any]
) -> None:
    """No credentials at all: the parameters are checked before anything else."""
    cases = _params(openapi, "string", "query") + _params(openapi, "string", "path")
    assert len(cases) > 40 and ("GET", "/api/v1/jurisdictions", "parent") in cases
    assert ("GET", "/api/v1/effort", "by") in cases  # closed word lists are text too
    for method, path, name in cases:
        in_path = "{" + name + "}" in path
        url = _url(path, {name: "a%00b"} if in_path else {})
        response = demo_client.request(method, url, params=None if in_path else {name: NUL})
        _refused(response, path, name)


def test_nul_in_any_form_field_is_refused_naming_it(
    demo_client: TestClient, openapi: dict[str, Any], admin: dict[str, str]
) -> None:
    """Login form before sign-in, titles, upload ids, report fields: every form field."""
    cases = _body_fields(openapi, "string", FORMS)
    assert ("POST", "/api/v1/patrols", "multipart/form-data", "upload_id") in cases
    assert ("POST", "/api/v1/patrols", "multipart/form-data", "mode") in cases
    assert ("POST", "/login", "application/x-www-form-urlencoded", "login") in cases
    for method, path, media_type, name in cases:
        files = {"file": ("track.gpx", b"<gpx/>")} if media_type == FORMS[0] else None
        response = demo_client.request(
            method, _url(path, {}), data={name: NUL}, files=files, headers=admin
        )
        _refused(response, path, name)


def test_nul_in_an_uploaded_file_name_is_refused(
    demo_client: TestClient, admin: dict[str, str], demo_session: Session
) -> None:
    """Sent as raw bytes: the test client would percent-encode the NUL."""
    team = demo_session.execute(text("SELECT min(id) FROM teams")).scalar_one()
    body = (
        f'--b\r\nContent-Disposition: form-data; name="team_id"\r\n\r\n{team}\r\n'
        '--b\r\nContent-Disposition: form-data; name="file"; filename="a\x00.gpx"\r\n\r\n'
        "<gpx/>\r\n--b--\r\n"
    ).encode()
    headers = {**admin, "Content-Type": "multipart/form-data; boundary=b"}
    response = demo_client.post("/api/v1/patrols", content=body, headers=headers)
    _refused(response, "/api/v1/patrols", "file")


@pytest.mark.parametrize("bad", [NUL, HALF_PAIR], ids=["NUL", "unpaired surrogate"])
def test_unstorable_text_in_any_json_field_is_refused_naming_it(
    demo_client: TestClient, openapi: dict[str, Any], admin: dict[str, str], bad: str
) -> None:
    """Logins (before sign-in), names, labels, descriptions: every text field of a body.
    JSON may escape half of a UTF-16 surrogate pair, which no UTF-8 text can hold."""
    cases = _body_fields(openapi, "string", ("application/json",))
    assert ("POST", "/api/v1/auth/login", "application/json", "login") in cases
    assert ("POST", "/api/v1/incidents", "application/json", "description") in cases
    assert ("POST", "/api/v1/incidents", "application/json", "severity") in cases
    for method, path, _, name in cases:
        response = demo_client.request(method, _url(path, {}), **_json({name: bad}, admin))
        _refused(response, path, name)


def test_unstorable_json_keys_are_refused_and_shown_escaped(
    demo_client: TestClient, admin: dict[str, str]
) -> None:
    """A key echoed in the problem cannot break the answer's own UTF-8."""
    for path in ("/api/v1/teams", "/open311/v2/requests.json"):
        response = demo_client.post(path, **_json({HALF_PAIR: "x"}, admin))
        assert response.status_code in (400, 422) and response.json()
    assert "\\ud800" in response.json()[0]["description"]  # Open311's echoes the key


def test_unstorable_text_in_an_open311_report_is_refused_naming_the_field(
    demo_client: TestClient, admin: dict[str, str]
) -> None:
    sent: list[dict[str, Any]] = [
        {"data": {"description": NUL}, "headers": admin},
        _json({"attribute": {"x": NUL}}, admin),
        _json({"description": HALF_PAIR}, admin),
    ]
    for send in sent:
        response = demo_client.post("/open311/v2/requests.json", **send)
        assert response.status_code == 400
        assert response.json()[0]["description"].startswith(("description", "attribute[x]"))


# --- numbers beyond their column --------------------------------------------------------------


def test_every_integer_is_bounded_to_a_column_type(openapi: dict[str, Any]) -> None:
    """The OpenAPI says each integer's range, and it fits PostgreSQL's integer or bigint."""
    unbounded = []
    for method, path, operation in _operations(openapi):
        schemas = [(p["name"], p["schema"]) for p in operation.get("parameters", [])]
        for content in operation.get("requestBody", {}).get("content", {}).values():
            properties = _schema(openapi, content["schema"]).get("properties", {})
            schemas += list(properties.items())
        for name, schema in schemas:
            for one in schema.get("anyOf", [schema]):
                low = one.get("minimum", -(2**64))
                high = (
                    one["maximum"] <= BIGINT_MAX
                    if "maximum" in one
                    else one.get("exclusiveMaximum", 2**64) <= 2**63
                )
                if one.get("type") == "integer" and not (low >= -BIGINT_MAX and high):
                    unbounded.append(f"{method} {path} {name}")
    assert not unbounded


def test_integers_beyond_their_column_are_refused_naming_them(
    demo_client: TestClient, openapi: dict[str, Any], admin: dict[str, str]
) -> None:
    """64-bit and larger numbers, negative too, in every path, query and body integer."""
    huge = [str(2**63), str(-(2**63) - 1)]
    cases = _params(openapi, "integer", "path") + _params(openapi, "integer", "query")
    assert ("GET", "/api/v1/patrols", "team_id") in cases
    for method, path, name in cases:
        for number in huge:
            in_path = "{" + name + "}" in path
            url = _url(path, {name: number} if in_path else {})
            params = None if in_path else {name: number}
            _refused(demo_client.request(method, url, params=params, headers=admin), path, name)
    bodies = _body_fields(openapi, "integer", ("application/json", *FORMS))
    assert ("POST", "/api/v1/devices", "application/json", "member_id") in bodies
    for method, path, media_type, name in bodies:
        for number in huge:
            sent: dict[str, Any] = (
                {"json": {name: int(number)}}
                if media_type == "application/json"
                else {"data": {name: number}, "files": {"file": ("t.gpx", b"<gpx/>")}}
            )
            response = demo_client.request(method, _url(path, {}), headers=admin, **sent)
            _refused(response, path, name)


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/api/v1/patrols?team_id=3000000000", "team_id"),
        ("/api/v1/audit?member_id=3000000000", "member_id"),
        ("/api/v1/members/3000000000", "member_id"),
        ("/m/devices/3000000000/setup", "device_id"),
        ("/api/v1/patrols?bbox=nan,nan,inf,inf", "bbox"),
        ("/api/v1/incidents?bbox=120,30,121,1e400", "bbox"),
    ],
)
def test_ids_beyond_an_integer_column_are_refused(
    demo_client: TestClient, admin: dict[str, str], url: str, field: str
) -> None:
    """`team_id=3000000000` fits a bigint but not the integer column of teams; a box has
    finite corners."""
    _refused(demo_client.get(url, headers=admin), url, field)


def test_member_lists_of_an_upload_are_bounded(
    demo_client: TestClient, admin: dict[str, str], demo_session: Session
) -> None:
    team = demo_session.execute(text("SELECT min(id) FROM teams")).scalar_one()
    form = {"team_id": str(team), "members": f"{member_id(demo_session, 'sz.patrol')},3000000000"}
    response = demo_client.post(
        "/api/v1/patrols", data=form, headers=admin, files={"file": ("t.gpx", b"<gpx/>")}
    )
    _refused(response, "/api/v1/patrols", "members")


# --- dates Python cannot shift ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/api/v1/effort?until=0001-01-25T00:00:01Z", "until"),
        ("/api/v1/incidents/stats?until=0001-01-01T01:01:00Z", "until"),
        ("/api/v1/patrols?since=9999-12-31T23:59:59Z", "since"),
        ("/map?date_to=9999-12-31", "date_to"),
        ("/api/v1/meeting-pack?zone=x&to=9999-12-31", "to"),
        ("/open311/v2/requests.json?end_date=0001-01-05T00:00:00Z", "end_date"),
    ],
)
def test_dates_at_the_ends_of_the_calendar_are_refused(
    demo_client: TestClient, admin: dict[str, str], url: str, field: str
) -> None:
    """A default period of 30 days before year 1 overflowed (500)."""
    _refused(demo_client.get(url, headers=admin), url, field)


# --- integrity ---------------------------------------------------------------------------------


def test_a_device_for_nobody_is_a_422_naming_the_member(
    demo_client: TestClient, admin: dict[str, str]
) -> None:
    for member in (999_999, INT4_MAX):
        response = demo_client.post(
            "/api/v1/devices", json={"member_id": member, "label": "x"}, headers=admin
        )
        _refused(response, "/api/v1/devices", "member_id")
        assert str(member) in response.json()["detail"]
    response = demo_client.post(
        "/api/v1/devices", json={"member_id": 0, "label": "x"}, headers=admin
    )
    _refused(response, "/api/v1/devices", "member_id")


def _refusal_of(session: Session, statement: str, **values: Any) -> Any:
    """The problem a statement the database refuses becomes."""
    from geo_patrol.api.problems import database_refusal

    with pytest.raises(DBAPIError) as refused, session.begin_nested():
        session.execute(text(statement), values)
    return database_refusal(refused.value)


def test_database_refusals_become_problems_naming_the_column(demo_session: Session) -> None:
    """Each kind of refusal, from real statements on the real schema."""
    nobody = _refusal_of(
        demo_session,
        "INSERT INTO devices (member_id, label, token_hash, token_hint) VALUES (0, 'x', 'h', 'h')",
    )
    assert (nobody.status, nobody.extra["field"]) == (422, "member_id")
    admin = member_id(demo_session, "admin")
    taken = _refusal_of(
        demo_session, "UPDATE members SET login = 'sz.patrol' WHERE id = :id", id=admin
    )
    assert (taken.status, taken.extra["field"]) == (409, "login")
    assert "sz.patrol" in taken.detail
    too_big = _refusal_of(demo_session, "SELECT CAST(:id AS int)", id=2**40)
    assert too_big.status == 422 and "out of range" in too_big.detail
    nul = _refusal_of(demo_session, "SELECT id FROM members WHERE login = :l", l=NUL)
    assert nul.status == 422 and "NUL" in nul.detail
    missing = _refusal_of(demo_session, "UPDATE members SET name = NULL WHERE id = :id", id=admin)
    assert (missing.status, missing.extra["field"]) == (422, "name"), missing.detail


# --- unknown routes and methods ---------------------------------------------------------------


def test_unknown_routes_and_methods_are_problem_json(demo_client: TestClient) -> None:
    for response, status in (
        (demo_client.get("/api/v1/no-such-thing"), 404),
        (demo_client.delete("/api/v1/zones"), 405),
    ):
        assert response.status_code == status
        assert response.headers["content-type"] == PROBLEM
        assert response.json()["status"] == status


def test_the_openapi_documents_each_422_as_the_problem_it_is(openapi: dict[str, Any]) -> None:
    """Not FastAPI's default body: the fuzzer checks every 422 against this schema."""
    documented = [
        op["responses"]["422"] for _, _, op in _operations(openapi) if "422" in op["responses"]
    ]
    assert len(documented) > 40
    assert all(list(response["content"]) == [PROBLEM] for response in documented)
    assert "HTTPValidationError" not in openapi["components"]["schemas"]
