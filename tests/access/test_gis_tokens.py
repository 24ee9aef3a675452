"""Read-only personal tokens and HTTP Basic with a token as the password (QGIS, GDAL)."""

from __future__ import annotations

import base64

from fastapi.testclient import TestClient

from geo_patrol.demo.accounts import DEFAULT_PASSWORD


def basic(user: str, password: str) -> dict[str, str]:
    """An HTTP Basic header as QGIS's authentication database sends it."""
    pair = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {pair}"}


def token_of(client: TestClient, login: str, **body: object) -> str:
    """A new personal token of a demo login."""
    issued = client.post(
        "/api/v1/auth/tokens", json={"login": login, "password": DEFAULT_PASSWORD, **body}
    )
    assert issued.status_code == 200, issued.text
    token: str = issued.json()["token"]
    return token


def test_basic_with_a_personal_token_reads_as_its_owner(demo_client: TestClient) -> None:
    token = token_of(demo_client, "shengze.sup", scope="read", label="QGIS")
    me = demo_client.get("/api/v1/me", headers=basic("shengze.sup", token))
    assert me.status_code == 200, me.text
    assert me.json()["login"] == "shengze.sup"
    # QGIS may leave the user name empty: the token alone says who it is.
    assert demo_client.get("/api/v1/me", headers=basic("", token)).status_code == 200


def test_basic_never_takes_the_account_password(demo_client: TestClient) -> None:
    refused = demo_client.get("/api/v1/me", headers=basic("shengze.sup", DEFAULT_PASSWORD))
    assert refused.status_code == 401
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert "personal token" in refused.json()["detail"]


def test_basic_refuses_a_user_name_that_is_not_the_owner(demo_client: TestClient) -> None:
    token = token_of(demo_client, "shengze.sup", scope="read")
    refused = demo_client.get("/api/v1/me", headers=basic("wjj.sup", token))
    assert refused.status_code == 401
    assert "user name" in refused.json()["detail"]


def test_basic_that_is_not_base64_is_refused_not_a_500(demo_client: TestClient) -> None:
    for value in ("Basic !!!", "Basic " + base64.b64encode(b"no-colon").decode(), "Basic "):
        answer = demo_client.get("/api/v1/me", headers={"Authorization": value})
        assert answer.status_code == 401, (value, answer.text)


def test_basic_refuses_a_device_token(demo_client: TestClient) -> None:
    from tests.support.principals import SZ_PHONE_TOKEN

    refused = demo_client.get("/api/v1/me", headers=basic("", SZ_PHONE_TOKEN))
    assert refused.status_code == 401


def test_a_read_token_may_read_but_not_write(demo_client: TestClient) -> None:
    token = token_of(demo_client, "shengze.sup", scope="read")
    bearer = {"Authorization": f"Bearer {token}"}
    assert demo_client.get("/api/v1/incidents", headers=bearer).status_code == 200
    report = {"lon": 120.62, "lat": 30.93, "category": "garbage", "description": "x"}
    for headers in (bearer, basic("shengze.sup", token)):
        refused = demo_client.post("/api/v1/incidents", json=report, headers=headers)
        assert refused.status_code == 403, refused.text
        assert "read" in refused.json()["detail"]
    full = token_of(demo_client, "shengze.sup")
    listed = demo_client.get("/api/v1/auth/tokens", headers={"Authorization": f"Bearer {full}"})
    assert [t["scope"] for t in listed.json()][:2] == ["full", "read"]
    assert all("token" not in t for t in listed.json())


def test_a_revoked_token_stops_at_once_and_only_its_owner_revokes(
    demo_client: TestClient,
) -> None:
    token = token_of(demo_client, "shengze.sup", scope="read")
    owner = {"Authorization": f"Bearer {token_of(demo_client, 'shengze.sup')}"}
    other = {"Authorization": f"Bearer {token_of(demo_client, 'wjj.sup')}"}
    token_id = demo_client.get("/api/v1/auth/tokens", headers=owner).json()[1]["id"]
    assert demo_client.delete(f"/api/v1/auth/tokens/{token_id}", headers=other).status_code == 404
    assert demo_client.get("/api/v1/me", headers=basic("", token)).status_code == 200
    assert demo_client.delete(f"/api/v1/auth/tokens/{token_id}", headers=owner).status_code == 204
    assert demo_client.delete(f"/api/v1/auth/tokens/{token_id}", headers=owner).status_code == 204
    assert demo_client.get("/api/v1/me", headers=basic("", token)).status_code == 401
    listed = demo_client.get("/api/v1/auth/tokens", headers=owner).json()
    assert listed[1]["revoked_at"] is not None
