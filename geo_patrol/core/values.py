"""Plausible values: what a request, a file or a phone may give for a text, an id or a time.

The API's request models (`geo_patrol.api.schemas`) type their fields with these, and the
domains check the same bounds where values come from elsewhere: the years a track file's
times may have (`patrols.track.times`), an OsmAnd timestamp (`patrols.live.osmand`), an
Open311 date (`incidents.open311`).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, TypeVar

from pydantic import AfterValidator, Field

from geo_patrol.core.catalog import Message, msg

__all__ = [
    "BIGINT_END",
    "BIGINT_MAX",
    "FIRST_YEAR",
    "INT4_MAX",
    "LAST_YEAR",
    "BigId",
    "Day",
    "Id",
    "Moment",
    "Text",
    "unstorable",
]

# The largest values of PostgreSQL's integer and bigint columns.
INT4_MAX = 2**31 - 1
BIGINT_MAX = 2**63 - 1
BIGINT_END = 2**63  # (said as "below 2**63": the OpenAPI writes bounds as doubles)


def unstorable(text: str) -> Message | None:
    """Why PostgreSQL cannot store `text` (a NUL, or half of a UTF-16 surrogate pair, which a
    JSON string may escape), or None when it can."""
    if "\x00" in text:
        return msg("problem.core.nul_character")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return msg("problem.core.unpaired_surrogate")
    return None


def _storable(text: str) -> str:
    """The text, when PostgreSQL can store it."""
    if problem := unstorable(text):
        raise ValueError(problem)
    return text


# Every text field of a request body: what PostgreSQL cannot store is refused as invalid
# input, naming the field.
Text = Annotated[str, AfterValidator(_storable)]
# Ids bounded to their column (integer or bigint): a larger number is invalid input.
Id = Annotated[int, Field(ge=1, le=INT4_MAX)]
BigId = Annotated[int, Field(ge=1, lt=BIGINT_END)]

# Years a request may name: any record's, and far enough from Python's limits (years 1 and
# 9999) that a default period around a time (30 days before it, a day after) stays a date.
FIRST_YEAR, LAST_YEAR = 1900, 2199


When = TypeVar("When", bound=date)


def _plausible_year(when: When) -> When:
    """The date or time, unless its year is outside FIRST_YEAR..LAST_YEAR."""
    if not FIRST_YEAR <= when.year <= LAST_YEAR:
        raise ValueError(f"must be in the years {FIRST_YEAR} to {LAST_YEAR}")
    return when


Moment = Annotated[datetime, AfterValidator(_plausible_year)]
Day = Annotated[date, AfterValidator(_plausible_year)]
