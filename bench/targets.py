"""The issue's targets against the honest peers (issue 17, item 4), met or not.

Each verdict is one row of the peer table: what is compared, the target, what was measured
(medians of runs alternating ours and the peer in the same run), and met / not met.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from bench.children import Run
from bench.live import LiveRun
from bench.report import AGREEMENT, ENGINE_LABELS, median_run, size_label

OGR_SPEEDUP = 4.0  # ours at least 4x faster than ogr2ogr + SQL
GEOPANDAS_SLOWDOWN = 1.5  # ours within 1.5x of in-memory GeoPandas
REPORT_SHARE = 0.5  # ours at least 50 % of the bare endpoint's throughput
REPORT_P95_MS = 50.0  # at a fixed open-loop rate of 100 reports/s
ROUTING_SPEEDUP = 2.0  # batch routing at least 2x GeoPandas sjoin
LIVE_RATE = 10_000.0  # positions/s, 100 phones flat out
LIVE_P99_MS = 50.0

HEADERS = ("comparison", "target", "ours", "peer", "measured", "met")


@dataclass(frozen=True)
class Verdict:
    """One row of the peer table."""

    comparison: str
    target: str
    ours: str
    peer: str
    measured: str
    met: bool | None  # None: not measured (a run failed)

    def row(self) -> list[str]:
        """The Markdown cells."""
        met = {True: "met", False: "**not met**", None: "not measured"}[self.met]
        return [self.comparison, self.target, self.ours, self.peer, self.measured, met]


def _seconds(run: Run) -> str:
    return f"{run.seconds:.2f} s" if run.seconds else (run.failure or "failed")


def upload_verdicts(points: int, engines: dict[str, list[Run]]) -> list[Verdict]:
    """Ours against ogr2ogr + SQL and against GeoPandas at one size; counties agree?"""
    ours = median_run(engines["ours"])
    size = size_label(points)
    verdicts = []
    for engine, factor, target in (
        ("ogr", OGR_SPEEDUP, f"≥ {OGR_SPEEDUP:g}× faster"),
        ("peer", GEOPANDAS_SLOWDOWN, f"within {GEOPANDAS_SLOWDOWN:g}× (ours ÷ peer ≤ 1.5)"),
    ):
        if engine not in engines:
            continue
        peer = median_run(engines[engine])
        ratio = peer.seconds / ours.seconds if ours.seconds and peer.seconds else None
        if engine == "ogr":
            measured = "—" if ratio is None else _faster(ratio)
            met = None if ratio is None else ratio >= factor
        else:
            measured = f"ours ÷ peer = {1 / ratio:.2f}" if ratio else "—"
            met = None if ratio is None else 1 / ratio <= factor
        verdicts.append(
            Verdict(
                f"upload {size} → stored and attributed vs {ENGINE_LABELS[engine]}",
                target,
                _seconds(ours),
                _seconds(peer),
                measured,
                met,
            )
        )
        verdicts.append(_agreement(size, engine, ours, peer))
    if "peer" in engines:
        verdicts += _without_rivers(size, ours, median_run(engines["peer"]))
    return verdicts


def _without_rivers(size: str, ours: Run, peer: Run) -> list[Verdict]:
    """GeoPandas without its river coverage (GEOS buffering the zig-zag track pieces is most
    of its time with GEOS 3.14): the stricter reading of "within 1.5× of GeoPandas"."""
    rivers = peer.phases.get("rivers")
    if rivers is None or not ours.seconds or not peer.seconds:
        return []
    lengths = peer.seconds - rivers
    return [
        Verdict(
            f"upload {size} vs GeoPandas lengths only ({rivers:.2f} s of river buffer left out)",
            f"within {GEOPANDAS_SLOWDOWN:g}×",
            _seconds(ours),
            f"{lengths:.2f} s",
            f"ours ÷ peer = {ours.seconds / lengths:.2f}",
            ours.seconds / lengths <= GEOPANDAS_SLOWDOWN,
        )
    ]


def _agreement(size: str, engine: str, ours: Run, peer: Run) -> Verdict:
    """Per-county metres of ours and a peer within AGREEMENT."""
    mine, theirs = ours.answers.get("county", {}), peer.answers.get("county", {})
    diffs = [
        abs(mine[c] - theirs[c]) / theirs[c] if c in mine and theirs.get(c) else math.inf
        for c in set(mine) | set(theirs)
    ]
    worst = max(diffs, default=math.inf)
    return Verdict(
        f"upload {size}: per-county metres vs {ENGINE_LABELS[engine]}",
        f"within {AGREEMENT * 100:g} %",
        f"{len(mine)} counties",
        f"{len(theirs)} counties",
        f"largest difference {worst * 100:.3f} %" if diffs and math.isfinite(worst) else "—",
        None if not diffs or ours.seconds is None else worst <= AGREEMENT,
    )


def routing_verdict(points: int, ours_s: float, peer_s: float, identical: bool) -> Verdict:
    """Batch routing against GeoPandas sjoin."""
    speedup = peer_s / ours_s
    return Verdict(
        f"batch routing {points:,} points vs GeoPandas sjoin",
        f"≥ {ROUTING_SPEEDUP:g}× faster, identical codes",
        f"{ours_s:.2f} s",
        f"{peer_s:.2f} s",
        f"{_faster(speedup)}, {'identical' if identical else 'NOT identical'}",
        speedup >= ROUTING_SPEEDUP and identical,
    )


def report_verdicts(
    ours_rates: Sequence[float], bare_rates: Sequence[float], p95_ms: float, errors: int
) -> list[Verdict]:
    """Throughput share of the bare endpoint (medians), and the open-loop p95."""
    ours, bare = _median(ours_rates), _median(bare_rates)
    share = ours / bare if bare else 0.0
    return [
        Verdict(
            "report API throughput vs bare FastAPI + one INSERT (closed loop)",
            f"≥ {REPORT_SHARE:.0%} of its reports/s",
            f"{ours:,.0f}/s",
            f"{bare:,.0f}/s",
            f"{share:.0%}",
            share >= REPORT_SHARE,
        ),
        Verdict(
            "report API latency, open loop at 100 reports/s",
            f"p95 < {REPORT_P95_MS:g} ms, no errors",
            f"p95 {p95_ms:.1f} ms, {errors} errors",
            "—",
            f"p95 {p95_ms:.1f} ms",
            p95_ms < REPORT_P95_MS and errors == 0,
        ),
    ]


def live_verdict(run: LiveRun) -> Verdict:
    """100 phones flat out: rate, p99, nothing lost, no errors."""
    result = run.result
    rate = result.ok / result.seconds
    p99 = result.percentile_ms(99)
    errors = sum(result.statuses.values()) - result.ok
    lost = result.ok - (run.stored or 0)
    return Verdict(
        f"live positions, {run.phones} phones flat out",
        f"≥ {LIVE_RATE:,.0f}/s, p99 < {LIVE_P99_MS:g} ms, none lost",
        f"{rate:,.0f}/s, p99 {p99:.0f} ms",
        "—",
        f"{lost} lost, {errors} errors",
        rate >= LIVE_RATE and p99 < LIVE_P99_MS and lost == 0 and errors == 0,
    )


def _faster(ratio: float) -> str:
    """ "4.50× faster" / "2.70× slower" (ours against the peer)."""
    return f"{ratio:.2f}× faster" if ratio >= 1 else f"{1 / ratio:.2f}× slower"


def _median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    return ordered[len(ordered) // 2] if ordered else 0.0
