"""What the OpenAPI says beyond the handlers' own types, so that a client generator can use it:
stable operation ids, the refusals every operation may answer, and the answers that are not
JSON (files, pages, tiles) declared as what they are.

- `operation_id`: "<tag>_<handler>" (incidents_get_incidents), from the router's first tag
  and the handler's name only, so it does not change when a path does (FastAPI's default
  spells the path and the method into it).
- `REFUSALS`: 400, 401, 403, 404, 422, 429 and 503 as application/problem+json (the Problem
  schema of api.problems), added to every router in api/app.py. Open311's routes declare
  their own (the spec's error list, in JSON or XML: api/routes/open311.py).
- `text_answer`, `file_answer`: a 200 that is text or bytes of a media type (with
  `response_class=Response`, so FastAPI adds no empty JSON schema beside it).

Introduced in: geo-patrol 0.4.0.
"""

from __future__ import annotations

from typing import Any

from fastapi.routing import APIRoute

from geo_patrol.api.problems import PROBLEM

Responses = dict[int | str, dict[str, Any]]

_PROBLEM_CONTENT = {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}}
REFUSAL_REASONS: dict[int, str] = {
    400: "Bad request (a malformed header or body)",
    401: "Not signed in, or the credential is unknown, expired or revoked",
    403: "Signed in, but not allowed (roles, scope or a read-only token)",
    404: "No such thing in the caller's scope",
    422: "Invalid input: problem+json naming each field",
    429: "Too many attempts: wait Retry-After seconds",
    503: "The database cannot be reached: try again shortly",
}
REFUSALS: Responses = {
    status: {"description": description, "content": _PROBLEM_CONTENT}
    for status, description in REFUSAL_REASONS.items()
}


def operation_id(route: APIRoute) -> str:
    """'<first tag>_<handler name>', without repeating a tag the name starts with."""
    if not route.tags:
        return route.name
    tag = str(route.tags[0]).replace(" ", "_").replace("-", "_").lower()
    return route.name if route.name.startswith(f"{tag}_") else f"{tag}_{route.name}"


def text_answer(*media_types: str, description: str = "Successful Response") -> Responses:
    """A 200 whose body is text in each of `media_types`."""
    content = {media: {"schema": {"type": "string"}} for media in media_types}
    return {200: {"description": description, "content": content}}


def file_answer(*media_types: str, description: str = "Successful Response") -> Responses:
    """A 200 whose body is a file (bytes) in each of `media_types`."""
    binary = {"type": "string", "format": "binary"}
    content = {media: {"schema": binary} for media in media_types}
    return {200: {"description": description, "content": content}}
