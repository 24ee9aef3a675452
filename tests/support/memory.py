"""Memory read from /proc, never from the code under test: this process's own RSS and peak,
and the parse workers' (children of the forkserver)."""

from __future__ import annotations

import multiprocessing.forkserver
from pathlib import Path


def status_kb(field: str) -> int:
    """A field of /proc/self/status in kB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(field)


def reset_peak() -> int:
    """Reset this process's peak RSS to its current RSS; return that in kB."""
    Path("/proc/self/clear_refs").write_text("5")
    return status_kb("VmRSS")


def worker_rss_mb() -> tuple[int, float]:
    """(number, total RSS in MB) of the forkserver's live worker processes."""
    server = multiprocessing.forkserver._forkserver._forkserver_pid  # type: ignore[attr-defined]
    if server is None:
        return 0, 0.0
    children = Path(f"/proc/{server}/task/{server}/children").read_text().split()
    total = 0.0
    for pid in children:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        rss = [line for line in status.splitlines() if line.startswith("VmRSS:")]
        total += int(rss[0].split()[1]) / 1024 if rss else 0.0
    return len(children), total
