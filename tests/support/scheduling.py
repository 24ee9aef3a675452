"""How `pytest -n 2 --dist loadgroup` hands the tests to the workers: a test file at a time.

xdist's own loadgroup sends every test on its own to whichever worker is free, except those
marked `xdist_group(NAME)`, which go together to one worker. Here a test goes with the other
tests of its file instead: a module-scoped fixture (a database copied, a service started, the
route policy's objects) is then built once, by one worker, as in a serial run; and the files
keep the order they were collected in (the browser tests last), so the tests of a package
follow one another on each worker and its package-scoped fixtures (the OGC service, the
browser) are made at most once per worker. Files named in `groups` (tests/conftest.py's
EXCLUSIVE: tests that must not overlap) go together to one worker, one after another.

The groups are given by file because xdist 3.8's `xdist_group` mark does nothing under
pytest 9 (xdist writes the group into `item._nodeid`, which pytest 9 no longer reads); a
group that does reach the node id (`...::test@NAME`) is still honoured.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from xdist.scheduler import LoadGroupScheduling


class FileOrGroupScheduling(LoadGroupScheduling):  # type: ignore[misc]
    """loadgroup, with a test's file (or the group its file is in) as its group."""

    def __init__(self, config: Any, log: Any = None, *, groups: Mapping[str, str]) -> None:
        super().__init__(config, log)
        self.groups = dict(groups)
        # Keep the collection's order: xdist would otherwise send the largest files first,
        # and the browser tests must come after the others on each worker.
        config.option.loadscopereorder = False

    def _split_scope(self, nodeid: str) -> str:
        """The group named in the node id (after '@'), else its file's group, else its file."""
        if nodeid.rfind("@") > nodeid.rfind("]"):
            return nodeid.split("@")[-1]
        file = nodeid.split("::", 1)[0]
        return self.groups.get(file, file)
