"""Answers kept in the process while what they are made from is unchanged.

Some drawings cost seconds and change only when their data does: the zones' border bands,
the boundaries simplified for the map. Each is kept under a fingerprint of its inputs (an
md5 of the ids and geometry hashes it reads, one indexed query). Changed data gives a new
fingerprint, so a kept answer is never stale; the last `size` answers are kept, and each
caller gets its own copy (callers may change what they get).
"""

from __future__ import annotations

import copy
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session


class KeptAnswers:
    """The last `size` answers of one kind, by fingerprint and arguments; thread-safe."""

    def __init__(self, fingerprint: str, size: int = 16) -> None:
        self.fingerprint = fingerprint
        self.size = size
        self._answers: OrderedDict[tuple[str, Hashable], Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(
        self,
        session: Session,
        params: dict[str, Any],
        compute: Callable[[], Any],
        key: Hashable = None,
    ) -> Any:
        """The kept answer for the fingerprint of `params` (and `key`), else `compute()`."""
        stamp = str(session.execute(text(self.fingerprint), params).scalar_one())
        whole = (stamp, key)
        with self._lock:
            found = self._answers.get(whole)
            if found is not None:
                self._answers.move_to_end(whole)
        if found is None:
            found = compute()
            with self._lock:
                self._answers[whole] = found
                while len(self._answers) > self.size:
                    self._answers.popitem(last=False)
        return copy.deepcopy(found)
