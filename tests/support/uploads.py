"""Track files uploaded by the tests: `upload` and `upload_as_admin` POST a file to
/api/v1/patrols through a TestClient.

The hostile files (`dense_kmz`, `whitespace_kmz`, `dense_track`) are made by
`bench/hostile_files.py`, their one home: `bench.memory` measures them, the tests upload them
(the tests may import bench; the benchmarks import nothing from tests/).
"""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from tests.support.principals import headers_for


def upload(
    client: TestClient,
    headers: dict[str, str],
    team: int,
    data: bytes,
    name: str = "track.gpx",
    **form: str,
) -> dict[str, object]:
    """POST a file; return the JSON answer with the status."""
    response = client.post(
        "/api/v1/patrols",
        headers=headers,
        data={"team_id": str(team), **form},
        files={"file": (name, data, "application/gpx+xml")},
    )
    assert response.status_code in (200, 201), response.text
    return {**response.json(), "status": response.status_code}


def upload_as_admin(client: TestClient, session: Session, data: bytes) -> int:
    """Upload as the admin for the first team; the patrol id."""
    team = session.execute(text("SELECT min(id) FROM teams")).scalar_one()
    response = client.post(
        "/api/v1/patrols",
        headers=headers_for(session)["admin"],
        data={"team_id": str(team), "mode": "car"},
        files={"file": ("walk.gpx", data, "application/gpx+xml")},
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])
