"""Failures of the database logged as outages: the traceback once, then one line each.

An 11 s database outage with 20 phones once wrote 888 tracebacks (7.7 MB) and hid what an
operator needs: when it began, what failed, when it ended. Here the first failure of an
outage is logged with its traceback, every further one as a single line (with the counts the
caller gives), and the end of the outage as one line with its length and number of failures.
An outage ends with a success, or when no failure came for `quiet_s` seconds.
"""

from __future__ import annotations

import logging
import threading
import time

from sqlalchemy.exc import DBAPIError


def short_error(error: BaseException) -> str:
    """The first line of what went wrong, without the SQL and its parameters."""
    cause = error.orig if isinstance(error, DBAPIError) and error.orig is not None else error
    lines = str(cause).strip().splitlines()
    return f"{type(cause).__name__}: {lines[0] if lines else ''}".rstrip(": ")


class Outage:
    """One kind of failure (the database's), tracked from its first failure to its end."""

    def __init__(self, logger: logging.Logger, what: str, *, quiet_s: float = 60.0) -> None:
        self._log = logger
        self._what = what
        self._quiet_s = quiet_s
        self._lock = threading.Lock()
        self._began: float | None = None
        self._last = 0.0
        self._failures = 0

    @property
    def ongoing(self) -> bool:
        """Whether a failure came in the last `quiet_s` seconds with no success since."""
        with self._lock:
            return self._began is not None and time.monotonic() - self._last < self._quiet_s

    def failed(self, error: BaseException, message: str, *args: object) -> None:
        """Log one failure: `message % args` and the error, with its traceback if it is the
        first of an outage."""
        now = time.monotonic()
        with self._lock:
            first = self._began is None or now - self._last >= self._quiet_s
            if first:
                self._began, self._failures = now, 0
            self._last, self._failures = now, self._failures + 1
            failures = self._failures
        if first:
            self._log.error(
                message + " (%s; first failure of a %s outage)",
                *args,
                short_error(error),
                self._what,
                exc_info=error,
            )
        else:
            self._log.error(
                message + " (%s; failure %d of this %s outage)",
                *args,
                short_error(error),
                failures,
                self._what,
            )

    def succeeded(self) -> None:
        """End the outage, if there is one, with a line saying how long it lasted."""
        with self._lock:
            if self._began is None:
                return
            began, failures, self._began = self._began, self._failures, None
        self._log.warning(
            "%s is back after %.1f s and %d failures",
            self._what,
            time.monotonic() - began,
            failures,
        )
