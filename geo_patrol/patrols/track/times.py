"""Times in track files, read from text or epoch numbers into numpy datetime64[ms] UTC.

Text times are ISO 8601 (`Z`, `+08:00`, `+0800`, fractional seconds of any length, `T` or
space); a time without a zone is taken as UTC. Any other text (a bare number such as
"1714521600", a year alone) is refused, and so is a time, text or epoch number, outside the
years FIRST_YEAR..LAST_YEAR that requests may name (`geo_patrol.core.values`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import numpy as np
from numpy.typing import ArrayLike, NDArray

from geo_patrol.core.catalog import Message, msg
from geo_patrol.core.values import FIRST_YEAR, LAST_YEAR
from geo_patrol.patrols.track.types import MS, NAT

__all__ = [
    "OUTSIDE_YEARS",
    "TimeValueError",
    "as_datetime",
    "epoch_millis",
    "epoch_times",
    "first_implausible",
    "from_epoch_millis",
    "parse_times",
]

# Epoch numbers at least this large are milliseconds (1e11 ms is 1973, 1e11 s is year 5138).
_EPOCH_MS_THRESHOLD = 1e11
# A zone after a time of day: "T08:00:00.5+08:00", " 08:00 +0800", "T08:00:00-03", and as
# phone exports write it, " 08:00:00 UTC+8", " 08:00 GMT+08:00", " 08:00 UTC".
_OFFSET = re.compile(
    r"[T ]\d\d(?::?\d\d){0,2}(?:[.,]\d+)?\s*(?:(UTC|GMT)\s*)?(?:([+-])(\d\d?)(?::?(\d\d))?)?$",
    re.I,
)
# What numpy may read of an ISO 8601 time once its zone is cut off: a calendar date, optionally
# with a time of day (numpy alone would also read "1714521600" as a year; other ISO 8601 forms
# go through datetime.fromisoformat).
_ISO = re.compile(r"\d{4}-\d\d-\d\d(?:[T ]\d\d(?::\d\d(?::\d\d(?:\.\d+)?)?)?)?", re.I)
# What datetime.fromisoformat may read: ISO 8601 dates (calendar, basic or week) with a time
# of day after "T" or a space (it would take any character there: "2024-05-01+08:00").
_ISO_ANY = re.compile(
    r"\d{4}-?(?:\d\d-?\d\d|W\d\d-?\d)(?:[T ]\d\d(?::?\d\d(?::?\d\d(?:[.,]\d+)?)?)?)?", re.I
)
# The times a file may hold: those a request may name (geo_patrol.core.values).
_FIRST_MS = np.datetime64(f"{FIRST_YEAR:04d}-01-01", "ms")
_END_MS = np.datetime64(f"{LAST_YEAR + 1:04d}-01-01", "ms")
OUTSIDE_YEARS = msg("problem.track.outside_years", first_year=FIRST_YEAR, last_year=LAST_YEAR)
# Layouts numpy and fromisoformat refuse but spreadsheets and Chinese apps write.
_EXTRA_FORMATS = ("%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y/%m/%d", "%Y-%m-%d %H:%M")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class TimeValueError(ValueError):
    """A time that cannot be read, or lies outside FIRST_YEAR..LAST_YEAR (`problem` says so);
    `index` is its position in the input."""

    def __init__(self, index: int, text: object, problem: Message | None = None) -> None:
        super().__init__(f"time {text!r} is {problem or 'not recognised'}")
        self.index = index
        self.text = text
        self.problem = problem

    def why(self, default: Message) -> Message:
        """What is wrong: the problem found, else `default` (the reader's "not a time")."""
        return self.problem or default


def first_implausible(times: NDArray[np.datetime64]) -> int | None:
    """Index of the first time outside FIRST_YEAR..LAST_YEAR (NaT is fine), or None."""
    bad = np.flatnonzero(~np.isnat(times) & ((times < _FIRST_MS) | (times >= _END_MS)))
    return int(bad[0]) if len(bad) else None


def _check_years(times: NDArray[np.datetime64], texts: Sequence[object]) -> None:
    """TimeValueError for the first time outside FIRST_YEAR..LAST_YEAR."""
    index = first_implausible(times)
    if index is not None:
        raise TimeValueError(index, texts[index], OUTSIDE_YEARS)


def _split_zone(text: str) -> tuple[str, int | None] | None:
    """(naive text, zone offset in minutes or None) for a stripped time; None if not a time."""
    if not text[:4].isdigit():  # numpy would also accept "now" and "today"
        return None
    if text[-1] in "Zz":
        return text[:-1].rstrip(), 0
    match = _OFFSET.search(text)
    if match is None or not (match.group(1) or match.group(2)):
        return text, None
    naive = text[: match.start(1) if match.group(1) else match.start(2)].rstrip()
    if not match.group(2):  # "UTC" or "GMT" alone
        return naive, 0
    hours, minutes = int(match.group(3)), int(match.group(4) or 0)
    if hours > 14 or minutes > 59:  # no zone is that far from UTC
        return None
    return naive, (-1 if match.group(2) == "-" else 1) * (hours * 60 + minutes)


def _parse_one(text: str) -> np.datetime64:
    """One zone-less time text (ISO 8601 or a spreadsheet layout) as datetime64[ms]."""
    try:
        parsed = datetime.fromisoformat(text) if _ISO_ANY.fullmatch(text) else None
    except ValueError:
        parsed = None
    if parsed is not None:
        if parsed.tzinfo is not None:  # a zone _split_zone did not take: never dropped
            raise ValueError(text)
        return np.datetime64(parsed, "ms")
    for layout in _EXTRA_FORMATS:
        try:
            return np.datetime64(datetime.strptime(text, layout), "ms")
        except ValueError:
            continue
    raise ValueError(text)


def parse_times(
    texts: Sequence[str | None], *, utc_offset_hours: float = 0.0
) -> NDArray[np.datetime64]:
    """Time texts as UTC datetime64[ms] (None/empty -> NaT); TimeValueError for a bad one.

    `utc_offset_hours` is the zone of texts written without one (default 0: they are UTC).
    """
    default = round(utc_offset_hours * 60)
    naive: list[str] = []
    offsets = np.zeros(len(texts), dtype=np.int64)
    for index, raw in enumerate(texts):
        text = raw.strip() if raw else ""
        if not text:
            naive.append("NaT")
            continue
        split = _split_zone(text)
        if split is None:
            raise TimeValueError(index, raw)
        naive.append(split[0])
        offsets[index] = default if split[1] is None else split[1]
    try:
        if not all(text == "NaT" or _ISO.fullmatch(text) for text in naive):
            raise ValueError("not all ISO 8601")
        times: NDArray[np.datetime64] = np.array(naive, dtype=MS)
    except ValueError:
        try:
            times = _parse_each(naive)
        except TimeValueError as exc:
            raise TimeValueError(exc.index, texts[exc.index]) from None
    times -= (offsets * 60_000).astype("timedelta64[ms]")
    _check_years(times, texts)
    return times


def _parse_each(texts: Sequence[str]) -> NDArray[np.datetime64]:
    """Slow path of parse_times: one at a time, naming the first text that fails."""
    out = np.full(len(texts), NAT)
    for index, text in enumerate(texts):
        if text == "NaT":
            continue
        try:
            out[index] = np.datetime64(text, "ms") if _ISO.fullmatch(text) else _parse_one(text)
        except ValueError:
            try:
                out[index] = _parse_one(text)
            except ValueError:
                raise TimeValueError(index, text) from None
    return out


def as_datetime(value: np.datetime64 | None) -> datetime | None:
    """An aware UTC datetime (to the microsecond) for a datetime64 value; None for NaT/None."""
    if value is None or np.isnat(value):
        return None
    us = int(value.astype("datetime64[us]").astype(np.int64))
    return _EPOCH + timedelta(microseconds=us)


def epoch_millis(times: NDArray[np.datetime64]) -> NDArray[np.float64]:
    """datetime64 values as Unix epoch milliseconds (NaN for NaT)."""
    millis = times.astype(MS).astype(np.int64).astype(np.float64)
    return np.where(np.isnat(times), np.nan, millis)


def from_epoch_millis(millis: NDArray[np.float64]) -> NDArray[np.datetime64]:
    """Unix epoch milliseconds (NaN: unknown) as datetime64[ms] (NaT)."""
    whole = np.where(np.isnan(millis), 0, millis).astype(np.int64).astype(MS)
    return np.where(np.isnan(millis), NAT, whole)


def epoch_times(values: ArrayLike) -> NDArray[np.datetime64]:
    """Unix epoch numbers as datetime64[ms]: milliseconds if any is >= 1e11, else seconds.

    TimeValueError for a number outside FIRST_YEAR..LAST_YEAR (before it could overflow)."""
    numbers = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(numbers)
    if not finite.any():
        return np.full(len(numbers), NAT)
    scale = 1.0 if np.abs(numbers[finite]).max() >= _EPOCH_MS_THRESHOLD else 1000.0
    first, end = (float(t.astype(np.int64)) for t in (_FIRST_MS, _END_MS))
    bad = np.flatnonzero(finite & ~((numbers * scale >= first) & (numbers * scale < end)))
    if len(bad):
        number = numbers[int(bad[0])].item()
        shown = int(number) if number.is_integer() else number
        raise TimeValueError(int(bad[0]), shown, OUTSIDE_YEARS)
    ms = np.where(finite, np.round(numbers * scale), 0).astype(np.int64)
    times: NDArray[np.datetime64] = ms.astype(MS)
    times[~finite] = NAT
    return times
