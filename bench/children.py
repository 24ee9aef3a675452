"""Runs of bench.upload in processes of their own, with a time limit, and their outcome."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import database

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Run:
    """One run of one engine on one track: its measurements, or why there are none."""

    engine: str
    points: int
    seconds: float | None = None
    rss_delta_mb: float | None = None
    db_backend_peak_mb: float | None = None
    phases: dict[str, float] = field(default_factory=dict)
    sql: list[tuple[str, float, int]] = field(default_factory=list)
    answers: dict[str, dict[str, float]] = field(default_factory=dict)
    failure: str | None = None


def open_phase(events: list[dict[str, Any]]) -> str | None:
    """The innermost phase started and not ended, from the child's progress lines."""
    stack: list[str] = []
    for event in events:
        if "start" in event:
            stack.append(str(event["start"]))
        elif "end" in event and stack:
            stack.pop()
    return stack[-1] if stack else None


def finished_phases(events: list[dict[str, Any]]) -> dict[str, float]:
    """Seconds of each phase that ended (outer phases include their inner ones)."""
    started: dict[str, float] = {}
    done: dict[str, float] = {}
    for event in events:
        if "start" in event:
            started[str(event["start"])] = float(event["at"])
        elif "end" in event and str(event["end"]) in started:
            name = str(event["end"])
            done[name] = done.get(name, 0.0) + float(event["at"]) - started.pop(name)
    return done


def _parse(stdout: str) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """Progress events and the final result (the last line, when it is one)."""
    lines = [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]
    if lines and "seconds" in lines[-1]:
        return lines[:-1], lines[-1]
    return lines, None


def run(
    engine: str,
    gpx: Path,
    points: int,
    *,
    limit: float,
    url: str | None = None,
    team_id: int | None = None,
    data_dir: Path | None = None,
) -> Run:
    """Run bench.upload for one engine; stop it (and its database work) after `limit` s."""
    args = [sys.executable, "-m", "bench.upload", engine, str(gpx)]
    if engine == "ours":
        args += [str(url), str(team_id), str(data_dir)]
    elif engine == "ogr":
        args += [str(url)]
    child = subprocess.Popen(
        args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        stdout, stderr = child.communicate(timeout=limit)
    except subprocess.TimeoutExpired:
        return _timed_out(child, engine, points, limit=limit, url=url)
    _, result = _parse(stdout)
    if child.returncode != 0 or result is None:
        reason = (stderr.strip().splitlines() or ["no output"])[-1]
        return Run(engine, points, failure=f"failed (exit {child.returncode}): {reason[:120]}")
    return Run(
        engine,
        points,
        seconds=result["seconds"],
        rss_delta_mb=result["rss_delta_mb"],
        db_backend_peak_mb=result.get("db_backend_peak_mb"),
        phases=result.get("phases", {}),
        sql=[tuple(item) for item in result.get("sql", [])],
        answers=result["answers"],
    )


def _timed_out(
    child: subprocess.Popen[str], engine: str, points: int, *, limit: float, url: str | None
) -> Run:
    """Kill the child, end its database backend too, and say where it was."""
    running = database.active_statements(url) if url else []
    child.kill()
    stdout, _ = child.communicate()
    if url:
        database.stop_backends(url)
    events, _ = _parse(stdout)
    failure = f"> {limit:.0f} s: stopped"
    phase = open_phase(events)
    if phase:
        started = max(e["at"] for e in events if e.get("start") == phase)
        failure += f" in {phase} (started at {started:.1f} s)"
    done = finished_phases(events)
    if done:
        failure += "; finished before: " + ", ".join(f"{p} {s:.1f} s" for p, s in done.items())
    for seconds, query in running:
        failure += f" (statement running for {seconds:.0f} s: `{' '.join(query.split())[:50]}…`)"
    return Run(engine, points, failure=failure)
