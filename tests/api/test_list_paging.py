"""Every JSON list pages by keyset cursor and says when it is cut (Link rel="next",
RFC 8288): walking the links with a small `limit` reaches exactly the rows of one big page,
none twice; a row added between pages shifts nothing; a bad cursor is a 422 naming it; the
links keep the filters.

The reference for "every row" is the same list asked for in one page of MAX_LIMIT rows
(with fewer rows than that, the old unpaged answer), so a walk that drops or repeats a row
at a page boundary fails.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

from geo_patrol.accounts.members import issue_api_token
from geo_patrol.core.paging import MAX_LIMIT, encode_cursor
from tests.support.principals import headers_for

NOW = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
MONTH = "since=2026-11-01T00:00:00Z&until=2026-12-01T00:00:00Z"
OPEN311_MONTH = "start_date=2026-11-01T00:00:00Z&end_date=2026-12-01T00:00:00Z"
TOWN = "320509102"  # a town: two earlier versions of its boundary are added


def _items(body: Any) -> list[Any]:
    """The rows of a plain JSON list."""
    assert isinstance(body, list)
    return body


def _features(body: Any) -> list[Any]:
    """The features of a GeoJSON FeatureCollection."""
    assert body["type"] == "FeatureCollection"
    return list(body["features"])


def _field(name: str) -> Callable[[Any], list[Any]]:
    """The rows under one field of an object."""
    return lambda body: list(body[name])


@dataclass(frozen=True)
class ListCase:
    """A list endpoint, how to find its rows in a body, and a row's identity."""

    path: str
    rows: Callable[[Any], list[Any]]
    identity: Callable[[Any], Any]
    who: str = "admin"
    limit: int = 2

    def __str__(self) -> str:
        return f"{self.path} {self.who}"


def _by_id(row: Any) -> Any:
    return row["id"]


def _effort(row: Any) -> Any:
    return (row["period"], row["key"], row["name"])


def _duty(row: Any) -> Any:
    return (row["appointment_id"], row["period"]["first_day"])


def _pair(row: Any) -> Any:
    return (row["joint_id"], row["period"]["first_day"])


def _reminder(row: Any) -> Any:
    return row["duty"]["appointment_id"]


def _reminder_of_mine(row: Any) -> Any:
    return row["appointment_id"]


def _count(row: Any) -> Any:
    return (row["lead_code"], row["status"], row["tier"], row["is_joint"])


def _request(row: Any) -> Any:
    return row["service_request_id"]


def _gap(feature: Any) -> Any:
    return (feature["properties"]["segment_id"], str(feature["geometry"]))


CASES = [
    ListCase("/api/v1/patrols", _items, _by_id),
    ListCase("/api/v1/incidents", _features, _by_id),
    ListCase("/api/v1/incidents?order=deadline", _features, _by_id),
    ListCase("/api/v1/members", _items, _by_id),
    ListCase("/api/v1/teams", _items, _by_id),
    ListCase("/api/v1/devices", _items, _by_id),
    ListCase("/api/v1/audit", _items, _by_id),
    ListCase("/api/v1/chiefs", _items, _by_id),
    ListCase("/api/v1/chiefs?river=R-320509-330411-01", _items, _by_id),
    ListCase("/api/v1/duty/rules", _items, _by_id),
    ListCase("/api/v1/jurisdictions", _features, _by_id),
    ListCase("/api/v1/jurisdictions?level=village", _features, _by_id),
    ListCase(f"/api/v1/jurisdictions/{TOWN}/versions", _features, _by_id),
    ListCase("/api/v1/rivers", _features, _by_id),
    ListCase("/api/v1/segments", _features, _by_id),
    ListCase("/api/v1/segments?river=R-320509-330411-01&border=true", _features, _by_id),
    ListCase("/api/v1/zones", _items, _by_id),
    ListCase("/api/v1/coverage/uncovered", _features, _gap),
    ListCase(f"/api/v1/effort?by=team&period=day&{MONTH}", _items, _effort),
    ListCase("/api/v1/duty", _field("duties"), _duty),
    ListCase("/api/v1/duty?period=previous&level=village", _field("duties"), _duty),
    ListCase("/api/v1/duty/joint", _field("pairs"), _pair),
    ListCase("/api/v1/duty/reminders?within_days=92", _field("reminders"), _reminder),
    ListCase("/api/v1/auth/tokens", _items, _by_id),
    ListCase(f"/open311/v2/requests.json?{OPEN311_MONTH}", _items, _request),
    ListCase(f"/api/v1/incidents/stats?{MONTH}", _items, _count),
    ListCase("/api/v1/mobile/teams", _items, _by_id),
    ListCase("/api/v1/me/duty", _items, _reminder_of_mine, who="sz.patrol", limit=1),
    ListCase("/api/v1/coverage/uncovered?border=true&days=30", _features, _gap),
    ListCase("/api/v1/meetings", _items, _by_id),
    ListCase("/api/v1/decisions", _items, _by_id),
]


def _next(response: Any) -> str | None:
    """The URL of rel="next" in the Link header (None when absent)."""
    links: str | None = response.headers.get("link")
    if links is None:
        return None
    for part in links.split(","):
        url, _, rel = part.strip().partition(";")
        if rel.strip() == 'rel="next"':
            return url.strip()[1:-1]
    return None


def _walk(client: TestClient, url: str, headers: dict[str, str]) -> tuple[list[Any], int]:
    """Every page from `url` following rel="next": the bodies and how many pages."""
    bodies = []
    next_url: str | None = url
    while next_url is not None:
        response = client.get(next_url, headers=headers)
        assert response.status_code == 200, response.text
        bodies.append(response.json())
        assert int(response.headers["x-page-count"]) >= 0
        next_url = _next(response)
        assert len(bodies) < 100, "the walk does not end"
    return bodies, len(bodies)


def seed(session: Session) -> None:
    """A few patrols (two starting at the same moment, one without times) and incidents,
    so the demo's lists hold more rows than a page of two."""
    teams = session.execute(text("SELECT id FROM teams ORDER BY id LIMIT 3")).scalars().all()
    starts = [NOW, NOW, NOW - timedelta(hours=1), None, NOW - timedelta(days=1)]
    for n, start in enumerate(starts):
        session.execute(
            text(
                "INSERT INTO patrols (team_id, source, started_at, ended_at, quality_flags)"
                " VALUES (:t, 'upload', :s, :s, '[]')"
            ),
            {"t": teams[n % len(teams)], "s": start},
        )
    admin = session.execute(text("SELECT id FROM members WHERE login = 'admin'")).scalar_one()
    for _ in range(2):
        issue_api_token(session, member_id=admin, label="paging", days=1, address="127.0.0.1")
    for n in range(2):
        session.execute(
            text(
                "INSERT INTO devices (member_id, label, token_hash, token_hint)"
                " SELECT min(id), 'paging test', :h, 'test' FROM members"
            ),
            {"h": f"paging-test-{n}"},
        )
    for years in (2, 4):
        session.execute(
            text(
                "INSERT INTO jurisdictions (code, name, level, parent_code, geom, geom_hash,"
                " valid_from, valid_to, source) SELECT code, name, level, parent_code, geom,"
                " geom_hash, valid_from - make_interval(years => CAST(:y AS int)),"
                " valid_from - make_interval(years => CAST(:y AS int) - 1), 'paging test'"
                " FROM jurisdictions WHERE code = :code AND valid_to IS NULL"
            ),
            {"y": years, "code": TOWN},
        )
    for code in ("paging-a", "paging-b"):
        session.execute(
            text("INSERT INTO cooperation_zones (code, name) VALUES (:c, :n)"),
            {"c": code, "n": code},
        )
    # Two more joint pairs: unpaired chiefs of one river and level on two sides.
    pairs = session.execute(
        text(
            "SELECT a.id, b.id FROM chief_appointments a JOIN chief_appointments b"
            " ON a.river_id = b.river_id AND a.level = b.level"
            " AND a.jurisdiction_code < b.jurisdiction_code"
            " WHERE a.joint_id IS NULL AND b.joint_id IS NULL AND a.valid_to IS NULL"
            " AND b.valid_to IS NULL ORDER BY a.id, b.id"
        )
    ).all()
    used: set[int] = set()
    for first, second in pairs:
        if {first, second} & used or len(used) >= 4:
            continue
        used |= {first, second}
        joint = session.execute(
            text("INSERT INTO joint_appointments (name) VALUES (:n) RETURNING id"),
            {"n": f"paging pair {first}"},
        ).scalar_one()
        session.execute(
            text("UPDATE chief_appointments SET joint_id = :j WHERE id IN (:a, :b)"),
            {"j": joint, "a": first, "b": second},
        )
    # A second stretch for a village chief (the phone's "my duty" then lists two).
    session.execute(
        text(
            "WITH a AS (INSERT INTO chief_appointments (member_id, level, jurisdiction_code,"
            " river_id, stretch_kind, stretch_label, valid_from) SELECT member_id, level,"
            " jurisdiction_code, river_id, stretch_kind, 'paging', valid_from"
            " FROM chief_appointments WHERE member_id = (SELECT id FROM members"
            " WHERE login = 'sz.patrol') AND valid_to IS NULL ORDER BY id LIMIT 1"
            " RETURNING id) INSERT INTO chief_stretches (appointment_id, segment_id)"
            " SELECT a.id, s.segment_id FROM a, chief_stretches s WHERE s.appointment_id ="
            " (SELECT min(id) FROM chief_appointments WHERE member_id = (SELECT id FROM"
            " members WHERE login = 'sz.patrol'))"
        )
    )
    category = session.execute(text("SELECT min(code) FROM incident_categories")).scalar_one()
    deadlines = [NOW, None, NOW, NOW + timedelta(hours=2), None]
    for n, deadline in enumerate(deadlines):
        session.execute(
            text(
                "INSERT INTO incidents (source, category, severity, reported_at, geom, tier,"
                " deadline_at) VALUES ('api', :c, 'low', :r, ST_SetSRID(ST_MakePoint("
                "120.6, 30.9), 4326), :t, :d)"
            ),
            {
                "c": category,
                "r": NOW - timedelta(hours=n // 2),
                "d": deadline,
                "t": ("village", "town", "county")[n % 3],
            },
        )
    # Three meetings of the demo zone (two at the same moment) with three decisions (two
    # due the same day).
    for n, held in enumerate((NOW, NOW, NOW - timedelta(days=30))):
        meeting = session.execute(
            text(
                "INSERT INTO meetings (zone_id, title, held_at, period_from, period_to)"
                " SELECT id, :t, :h, '2026-10-01', '2026-10-31' FROM cooperation_zones"
                " WHERE code = 'ZONE-SZ-WJJ' RETURNING id"
            ),
            {"t": f"paging {n}", "h": held},
        ).scalar_one()
        session.execute(
            text(
                "INSERT INTO meeting_decisions (meeting_id, position, body, deadline)"
                " VALUES (:m, 1, 'paging', :d)"
            ),
            {"m": meeting, "d": (NOW + timedelta(days=n // 2)).date()},
        )
    session.flush()


@pytest.fixture(scope="module")
def paged(demo_connection: Connection) -> dict[str, dict[str, str]]:
    """The demo with a few more rows, and the demo principals' headers (once per module:
    the module's transaction holds them)."""
    with Session(bind=demo_connection, join_transaction_mode="create_savepoint") as setup:
        seed(setup)
        auth = headers_for(setup)
        setup.commit()
    return auth


@pytest.mark.parametrize("case", CASES, ids=str)
def test_walk_reaches_every_row_once(
    case: ListCase, demo_client: TestClient, paged: dict[str, dict[str, str]]
) -> None:
    """Pages of two, followed by Link rel=next, give the rows of one big page, in order."""
    auth = paged[case.who]
    sep = "&" if "?" in case.path else "?"
    whole = demo_client.get(f"{case.path}{sep}limit={MAX_LIMIT}", headers=auth)
    assert whole.status_code == 200, whole.text
    assert _next(whole) is None
    expected = [case.identity(row) for row in case.rows(whole.json())]
    assert len(expected) > case.limit, "the list needs more rows than a page to test paging"
    bodies, pages = _walk(demo_client, f"{case.path}{sep}limit={case.limit}", auth)
    walked = [case.identity(row) for body in bodies for row in case.rows(body)]
    if case.rows is _features:  # the body's links say the same as the header
        assert [bool(body["links"]) for body in bodies] == [True] * (pages - 1) + [False]
    assert walked == expected
    assert len(set(map(repr, walked))) == len(walked)
    assert pages == -(-len(expected) // case.limit)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_bad_cursor_is_named(
    case: ListCase, demo_client: TestClient, paged: dict[str, dict[str, str]]
) -> None:
    """A cursor this list did not give out is a 422 problem naming `cursor`."""
    shapes = (["x", "y", "z", "w", "v"], ["not a time", "not an id"], [1, 2], [True])
    for bad in ("not-a-cursor", *(encode_cursor(key) for key in shapes)):
        sep = "&" if "?" in case.path else "?"
        response = demo_client.get(f"{case.path}{sep}cursor={bad}", headers=paged[case.who])
        if case.path.startswith("/open311/"):  # errors in the spec's own format
            assert response.status_code == 400, response.text
            assert "cursor" in response.json()[0]["description"]
            continue
        assert response.status_code == 422, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["field"] == "cursor"


def test_link_keeps_the_filters(demo_client: TestClient, paged: dict[str, dict[str, str]]) -> None:
    """The next link carries the filters and limit of the request, and a new cursor."""
    team = demo_client.get("/api/v1/patrols", headers=paged["admin"]).json()[0]["team_id"]
    response = demo_client.get(
        "/api/v1/patrols", params={"team_id": team, "limit": 1}, headers=paged["admin"]
    )
    link = _next(response)
    assert link is not None
    query = parse_qs(urlsplit(link).query)
    assert query["team_id"] == [str(team)] and query["limit"] == ["1"] and query["cursor"]
    following = demo_client.get(link, headers=paged["admin"])
    assert 'rel="first"' in following.headers["link"]
    assert all(row["team_id"] == team for row in following.json())


def test_a_row_added_between_pages_shifts_nothing(
    demo_client: TestClient, demo_session: Session, paged: dict[str, dict[str, str]]
) -> None:
    """A patrol newer than the first page, added after it was read, neither shifts the next
    page (as OFFSET would: a row seen twice) nor appears in it."""
    auth = paged["admin"]
    first = demo_client.get("/api/v1/patrols", params={"limit": 2}, headers=auth)
    seen = [row["id"] for row in first.json()]
    team = first.json()[0]["team_id"]
    added = demo_session.execute(
        text(
            "INSERT INTO patrols (team_id, source, started_at, ended_at, quality_flags)"
            " VALUES (:t, 'upload', :s, :s, '[]') RETURNING id"
        ),
        {"t": team, "s": NOW + timedelta(days=1)},
    ).scalar_one()
    demo_session.flush()
    link = _next(first)
    assert link is not None
    rest, _ = _walk(demo_client, link, auth)
    later = [row["id"] for body in rest for row in body]
    assert added not in later and not set(seen) & set(later)
    fresh = demo_client.get("/api/v1/patrols", params={"limit": MAX_LIMIT}, headers=auth)
    ids = [row["id"] for row in fresh.json()]
    assert added in ids and [i for i in ids if i != added] == [*seen, *later]


def test_every_list_documents_its_link_header(demo_client: TestClient) -> None:
    """The OpenAPI of each list walked above declares the Link and X-Page-Count headers."""
    paths = demo_client.get("/openapi.json").json()["paths"]
    listed = {case.path.split("?")[0].replace(TOWN, "{code}") for case in CASES}
    assert len(listed) >= 22
    for path in listed:
        headers = paths[path]["get"]["responses"]["200"]["headers"]
        assert {"Link", "X-Page-Count"} <= set(headers), path
