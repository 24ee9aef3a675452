"""Sign-in throttling without a lock-out: growing delays per account and per address, and
browsers that signed in before keep working. Time passes by moving the audit log back."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_patrol.api.routes.web import _safe_next
from geo_patrol.core.settings import Settings
from geo_patrol.demo.accounts import DEFAULT_PASSWORD
from tests.support.clients import app_on

LOGIN = "/api/v1/auth/login"
WRONG = "not-the-password"
ADDRESS_FREE = 8  # failures from one address before its delays start (fewer than default)


@pytest.fixture
def app(database_url: str, demo_session: Session) -> FastAPI:
    """The app on the demo data."""
    return app_on(
        demo_session,
        Settings(database_url=database_url, login_failures_per_address=ADDRESS_FREE),
    )


def client_at(app: FastAPI, address: str) -> TestClient:
    """A browser at `address` (its own cookie jar)."""
    return TestClient(app, client=(address, 50000))


def sign_in(client: TestClient, login: str, password: str = DEFAULT_PASSWORD) -> int:
    """POST the login as a browser whose session ended (it keeps its other cookies)."""
    client.cookies.delete("gp_session")
    return int(client.post(LOGIN, json={"login": login, "password": password}).status_code)


def time_passes(session: Session, seconds: float) -> None:
    """Move every audit entry `seconds` into the past (the throttle reads only the log)."""
    session.execute(
        text("UPDATE audit_log SET at = at - make_interval(secs => :s)"), {"s": seconds}
    )


def test_a_stranger_cannot_lock_out_a_browser_that_signed_in_before(
    app: FastAPI, demo_session: Session
) -> None:
    own = client_at(app, "10.0.0.1")
    assert sign_in(own, "wjj.sup") == 200
    assert "gp_known" in own.cookies
    stranger = client_at(app, "10.0.0.1")  # even behind the same address (one office NAT)
    statuses = [sign_in(stranger, "wjj.sup", WRONG) for _ in range(8)]
    assert statuses[:5] == [401] * 5 and 429 in statuses
    assert sign_in(own, "wjj.sup") == 200  # before: 429 for 15 minutes
    assert sign_in(stranger, "wjj.sup") == 429  # the right password does not skip the wait


def test_a_known_browser_counts_its_own_failures_only(app: FastAPI, demo_session: Session) -> None:
    own = client_at(app, "10.0.0.2")
    assert sign_in(own, "xiuzhou.sup") == 200
    statuses = [sign_in(own, "xiuzhou.sup", WRONG) for _ in range(6)]
    assert statuses[:5] == [401] * 5 and statuses[5] == 429
    # A known cookie is bound to its login: for another account it is worth nothing.
    other = [sign_in(own, "shengze.sup", WRONG) for _ in range(6)]
    assert other[5] == 429


def test_delays_grow_per_account_and_end(app: FastAPI, demo_session: Session) -> None:
    from geo_patrol.access.throttle import delay_seconds

    settings = Settings()
    waits = []
    for n, address in enumerate(f"10.1.0.{i}" for i in range(1, 12)):
        browser = client_at(app, address)  # a new address each time: the account's own delay
        answer = browser.post(LOGIN, json={"login": "sz.patrol", "password": WRONG})
        if answer.status_code == 429:
            wait = int(answer.headers["retry-after"])
            assert answer.json()["retry_after"] == wait
            waits.append(wait)
            time_passes(demo_session, wait)
            assert sign_in(browser, "sz.patrol", WRONG) == 401, n
    free = settings.login_failures_per_account
    expected = [
        delay_seconds(k, free=free, ceiling=settings.login_delay_max_seconds)
        for k in range(free, 11)
    ]
    assert len(waits) >= 4 and waits == [int(e) for e in expected[: len(waits)]]
    assert waits == sorted(waits) and waits[-1] > waits[0]
    # Never a lock: after the longest wait the right password works, from anywhere.
    time_passes(demo_session, settings.login_delay_max_seconds)
    assert sign_in(client_at(app, "10.9.9.9"), "sz.patrol") == 200


def test_an_address_full_of_failures_slows_down_but_never_locks(
    app: FastAPI, demo_session: Session
) -> None:
    settings = Settings()
    nat = client_at(app, "10.2.0.1")
    logins = [f"nobody.{i}" for i in range(ADDRESS_FREE)]
    assert all(sign_in(nat, login, WRONG) == 401 for login in logins)
    throttled = nat.post(LOGIN, json={"login": "admin", "password": DEFAULT_PASSWORD})
    assert throttled.status_code == 429
    assert int(throttled.headers["retry-after"]) <= settings.login_delay_max_seconds
    assert sign_in(client_at(app, "10.2.0.2"), "admin") == 200  # other addresses unaffected
    time_passes(demo_session, int(throttled.headers["retry-after"]))
    assert sign_in(nat, "admin") == 200


def test_the_sign_in_page_keeps_a_known_browser_working(app: FastAPI) -> None:
    own = client_at(app, "10.3.0.1")
    stranger = client_at(app, "10.3.0.1")

    def form(client: TestClient, password: str) -> int:
        page = client.get("/login")
        csrf = page.text.split('name="csrf_token" value="')[1].split('"')[0]
        answer = client.post(
            "/login",
            data={"login": "zone.coord", "password": password, "csrf_token": csrf},
            follow_redirects=False,
        )
        return int(answer.status_code)

    assert form(own, DEFAULT_PASSWORD) == 303
    assert "gp_known" in own.cookies
    assert [form(stranger, WRONG) for _ in range(7)][-1] == 429
    own.cookies.delete("gp_session")
    assert form(own, DEFAULT_PASSWORD) == 303


@pytest.mark.parametrize(
    "target",
    [
        "/\\evil.example",
        "/\\/evil.example",
        "/\t/evil.example",
        "/\n/evil.example",
        "/map\r\nSet-Cookie: x=1",
        "/\x00",
        "/\x7f/evil.example",
        "/\x85x",
        "\\\\evil.example",
    ],
)
def test_next_refuses_backslashes_and_control_characters(target: str) -> None:
    assert _safe_next(target) == "/map"


def test_next_keeps_same_site_paths() -> None:
    assert _safe_next("/incidents/3?lang=en#x") == "/incidents/3?lang=en#x"
    assert _safe_next("//evil.example") == "/map" and _safe_next("https://x") == "/map"


def test_the_phone_app_signing_in_for_a_token_is_remembered_too(app: FastAPI) -> None:
    phone = client_at(app, "10.4.0.1")
    body = {"login": "sz.lead", "password": DEFAULT_PASSWORD, "label": "phone web app"}
    assert phone.post("/api/v1/auth/tokens", json=body).status_code == 200
    assert "gp_known" in phone.cookies
    stranger = client_at(app, "10.4.0.1")
    assert [sign_in(stranger, "sz.lead", WRONG) for _ in range(7)][-1] == 429
    assert phone.post("/api/v1/auth/tokens", json=body).status_code == 200


def test_a_member_keeps_only_the_newest_known_browsers(demo_session: Session) -> None:
    from geo_patrol.access.throttle import KNOWN_PER_MEMBER, remember_browser

    member = demo_session.execute(text("SELECT id FROM members WHERE login = 'admin'")).scalar()
    assert member is not None
    cookies = [
        remember_browser(demo_session, member_id=member, known_id=None)
        for _ in range(KNOWN_PER_MEMBER + 5)
    ]
    assert all(c and c.startswith("gpk_") for c in cookies)
    count = demo_session.execute(
        text("SELECT count(*) FROM known_browsers WHERE member_id = :m"), {"m": member}
    ).scalar()
    assert count == KNOWN_PER_MEMBER


def test_a_script_that_signed_in_from_an_address_before_ignores_its_failures(
    app: FastAPI,
) -> None:
    """No cookie (curl, a fuzzing run's neighbour): having signed in from this address before
    exempts the login from the address's delay, not from its account's."""
    script = client_at(app, "10.5.0.1")
    body = {"login": "wujiang.sup", "password": DEFAULT_PASSWORD}
    assert script.post("/api/v1/auth/tokens", json=body).status_code == 200
    fuzzer = client_at(app, "10.5.0.1")
    assert all(sign_in(fuzzer, f"random.{i}", WRONG) == 401 for i in range(ADDRESS_FREE))
    assert sign_in(fuzzer, "shengze.sup") == 429  # never signed in here: the address waits
    cookieless = client_at(app, "10.5.0.1")
    assert cookieless.post("/api/v1/auth/tokens", json=body).status_code == 200
