"""Markdown tables of the results (pasteable into the README)."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

from bench.children import Run
from bench.live import LiveRun

NUMBER = re.compile(r"[>~]? ?[-+]?[\d,]*\.?\d+(%|×)?")
AGREEMENT = 0.005  # per-county metres of ours and the peer must agree within 0.5 %
PHASES = ("parse", "store", "load", "clean", "order", "attribute", "coverage", "flags", "other")
PHASE_TITLES = (
    "parse",
    "store (COPY)",
    "reload (live only)",
    "clean (numpy)",
    "track summary",
    "attribute",
    "coverage",
    "flags",
    "other",
)


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A Markdown table; numeric-looking columns right-aligned."""
    align = [
        "---:" if all(_numeric(r[i]) for r in rows) and rows else "---" for i in range(len(headers))
    ]
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join(align) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _numeric(cell: str) -> bool:
    """A number, percentage, ratio or — (right-aligned)."""
    return cell == "—" or NUMBER.fullmatch(cell) is not None


def size_label(points: int) -> str:
    """10k, 100k, 1M."""
    return f"{points // 1_000_000}M" if points >= 1_000_000 else f"{points // 1000}k"


def number(value: float | None, digits: int = 1) -> str:
    """A number with thousands separators, or — when missing."""
    if value is None or math.isnan(value):
        return "—"
    return f"{value:,.{digits}f}"


def median_run(runs: list[Run]) -> Run:
    """The run with the median time (the first failure when none finished)."""
    done = sorted((r for r in runs if r.seconds is not None), key=lambda r: r.seconds or 0)
    return done[len(done) // 2] if done else runs[0]


ENGINE_LABELS = {"ours": "ours", "ogr": "ogr2ogr + SQL", "peer": "GeoPandas"}


def upload_rows(results: dict[int, dict[str, list[Run]]]) -> list[list[str]]:
    """size, engine, seconds, points/s, peak RSS, DB backend peak, time ÷ ours, runs."""
    rows = []
    for points, engines in results.items():
        ours = median_run(engines["ours"]) if engines.get("ours") else None
        for engine, runs in engines.items():
            best = median_run(runs)
            finished = [r for r in runs if r.seconds is not None]
            seconds = best.seconds
            ratio = "—"
            if ours and ours.seconds and seconds:
                ratio = f"{seconds / ours.seconds:.2f}×"
            elif engine == "ours" and runs and not seconds:
                peer = engines.get("peer")
                ratio = _lower_bound(best, median_run(peer)) if peer else "—"
            rss = max((r.rss_delta_mb or 0.0 for r in finished), default=None)
            rows.append(
                [
                    size_label(points),
                    ENGINE_LABELS.get(engine, engine),
                    number(seconds, 2) if seconds else _limit_cell(best),
                    number(points / seconds, 0) if seconds else "—",
                    number(rss, 0),
                    number(best.db_backend_peak_mb, 0),
                    ratio,
                    f"{len(finished)}/{len(runs)}",
                ]
            )
    return rows


def _limit_cell(run: Run) -> str:
    """ "> 150 *" for a run stopped at its limit (see the notes), else "failed *"."""
    failure = run.failure or ""
    return f"{failure.split(':', 1)[0]} *" if failure.startswith("> ") else "failed *"


def failure_notes(results: dict[int, dict[str, list[Run]]]) -> str:
    """One line per run that did not finish: where it was stopped, or why it failed."""
    notes = [
        f"\\* {size_label(points)} {engine}: {run.failure}"
        for points, engines in results.items()
        for engine, runs in engines.items()
        for run in runs
        if run.failure
    ]
    return "\n".join(notes)


def _lower_bound(ours: Run, peer: Run) -> str:
    """ "> N×" (ours ÷ GeoPandas) for a run of ours stopped at its limit."""
    failure = ours.failure or ""
    if failure.startswith("> ") and peer.seconds:
        limit = float(failure[2:].split(" ", 1)[0])
        return f"> {limit / peer.seconds:.0f}×"
    return "—"


UPLOAD_HEADERS = (
    "size",
    "engine",
    "seconds (median)",
    "points/s",
    "peak RSS Δ MB",
    "DB backend peak MB",
    "time ÷ ours",
    "runs done",
)


def phase_rows(results: dict[int, dict[str, list[Run]]]) -> list[list[str]]:
    """Seconds per phase of our median run for each size."""
    rows = []
    for points, engines in results.items():
        best = median_run(engines.get("ours", []))
        if best.seconds is None:
            continue
        rows.append(
            [
                size_label(points),
                *(number(best.phases.get(p), 2) for p in PHASES),
                number(best.seconds, 2),
            ]
        )
    return rows


def sql_rows(run: Run) -> list[list[str]]:
    """The statements that took longest in one run."""
    return [[f"`{label}`", number(seconds, 2), str(calls)] for label, seconds, calls in run.sql]


def agreement_rows(results: dict[int, dict[str, list[Run]]]) -> tuple[list[list[str]], bool]:
    """ours vs each peer: metres per county, town, river and in total (what the peer
    answers); and whether the per-county metres agree within AGREEMENT for every peer."""
    rows, agree = [], True
    for points, engines in results.items():
        ours = median_run(engines.get("ours", []) or [Run("ours", points)])
        for engine in (e for e in engines if e != "ours"):
            peer = median_run(engines[engine])
            if ours.seconds is None or peer.seconds is None:
                continue
            for level in ("county", "town", "river", "total"):
                mine, theirs = ours.answers.get(level, {}), peer.answers.get(level)
                if theirs is None:
                    continue  # a question this peer does not answer
                for code in sorted(set(mine) | set(theirs)):
                    a, b = mine.get(code), theirs.get(code)
                    diff = (a - b) / b if a is not None and b else None
                    if level == "county" and (diff is None or abs(diff) > AGREEMENT):
                        agree = False
                    rows.append(
                        [
                            size_label(points),
                            ENGINE_LABELS.get(engine, engine),
                            level,
                            code,
                            number(a),
                            number(b),
                            f"{diff * 100:+.3f}%" if diff is not None else "—",
                        ]
                    )
    return rows, agree


def live_rows(runs: list[LiveRun]) -> list[list[str]]:
    """One row per load run."""
    rows = []
    for run in runs:
        result = run.result
        errors = sum(n for status, n in result.statuses.items() if status != "200")
        kinds = ", ".join(f"{n} {s}" for s, n in result.statuses.most_common() if s != "200")
        rows.append(
            [
                result.mode,
                str(run.phones),
                number(run.rate, 0) if run.rate else "flat out",
                number(result.seconds, 1),
                str(sum(result.statuses.values())),
                str(result.ok),
                f"{errors} ({kinds})" if errors else "0",
                number(result.ok / result.seconds, 0),
                number(result.percentile_ms(50), 1),
                number(result.percentile_ms(99), 1),
                "—" if run.stored is None else str(run.stored),
                "—" if run.stored is None else str(result.ok - run.stored),
                f"{run.server_cpu_pct:.0f}%",
                f"{run.client_cpu_pct:.0f}%",
            ]
        )
    return rows


LIVE_HEADERS = (
    "run",
    "phones",
    "target /s",
    "seconds",
    "requests",
    "200 OK",
    "errors",
    "positions/s",
    "p50 ms",
    "p99 ms",
    "stored",
    "lost (200 − stored)",
    "server CPU",
    "client CPU",
)
