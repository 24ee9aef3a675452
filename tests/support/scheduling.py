"""How `pytest -n 2 --dist loadgroup` hands the tests to the workers: a test file at a time.

xdist's own loadgroup sends every test on its own to whichever worker is free, except those
marked `xdist_group(NAME)`, which go together to one worker. Here a test without a group
goes with the other tests of its file instead: a module-scoped fixture (a database copied,
a service started, the route policy's objects) is then built once, by one worker, as in a
serial run; and the files keep the order they were collected in (the browser tests last),
so the tests of a package follow one another on each worker and its package-scoped fixtures
(the OGC service, the browser) are made at most once per worker. A group marked with
`xdist_group` still runs on one worker, one test after another: the tests that must not
overlap (tests/conftest.py's EXCLUSIVE) form one such group.
"""

from __future__ import annotations

from typing import Any

from xdist.scheduler import LoadGroupScheduling


class FileOrGroupScheduling(LoadGroupScheduling):  # type: ignore[misc]
    """loadgroup, with the file as the group of a test that names none."""

    def __init__(self, config: Any, log: Any = None) -> None:
        super().__init__(config, log)
        # Keep the collection's order: xdist would otherwise send the largest files first,
        # and the browser tests must come after the others on each worker.
        config.option.loadscopereorder = False

    def _split_scope(self, nodeid: str) -> str:
        """The group named by xdist_group (after '@'), else the test's file."""
        if nodeid.rfind("@") > nodeid.rfind("]"):
            return nodeid.split("@")[-1]
        return nodeid.split("::", 1)[0]
